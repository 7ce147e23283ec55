"""docs/security.md#roles-and-what-each-may-do against the served app, without a browser: what any HTTP client can
ask, and what it gets.

Nothing without signing in; each role gets nothing outside its rights and scope (the answer for a
client outside the scope is the answer for a client that does not exist), and every refusal is in the
audit trail; a request without its CSRF token, a sixth wrong password and a disabled user's session
are refused; the security headers are on every response.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from access import audit, users
from access.audit import Actor
from analytics import NEWEST, Analytics, Scope
from analytics.decisions import read_decisions
from analytics.reviews import read_reviews
from tests.browser.conftest import serve
from tests.conftest import copy_warehouse, query
from tests.http_client import Client, callback_for

pytestmark = pytest.mark.slow

PASSWORDS = {"physio": "demo-physio-pass", "instructor": "demo-instructor-pass", "admin": "demo-admin-pass"}


@dataclass
class Clinic:
    url: str
    db: Path
    log: Path
    dependencies: list[dict]
    names: dict[str, str]  # client_id -> display name, every client


@pytest.fixture(scope="module")
def clinic(demo_server):
    """The demo's server (the tests here change neither the warehouse nor its users' passwords or
    roles; those that do serve a copy of their own)."""
    admin = signed_in(demo_server.url, "admin")
    dependencies = admin.request("/_dash-dependencies", headers={"Accept": "application/json"}).json()
    names = dict(query(demo_server.db, "SELECT client_id, display_name FROM clients"))
    return Clinic(demo_server.url, demo_server.db, demo_server.log, dependencies, names)


def signed_in(url: str, username: str) -> Client:
    client = Client(url)
    answer = client.sign_in(username, PASSWORDS[username])
    assert answer.status == 302, answer.body
    return client


def says_nothing_of_a_client(body: str, names: dict[str, str]) -> None:
    """No client's id and no client's name anywhere in a response."""
    assert not re.search(r"C-\d{5}", body), body[:500]
    assert not [name for name in names.values() if name and name in body]


def body_for(clinic: Clinic, output_part: str, values: dict[str, object], changed: str | None = None) -> dict:
    return callback_for(clinic.dependencies, output_part, values, changed)


# --- nobody signed in ---------------------------------------------------------------------------------


def test_every_page_and_callback_without_signing_in_is_refused_and_says_nothing_of_a_client(clinic):
    some_client = next(iter(clinic.names))
    nobody = Client(clinic.url)
    for path in ("/", f"/clients/{some_client}", "/cohorts", "/import", "/users", "/audit", "/?clinician=S-001"):
        page = nobody.get(path)
        assert page.status == 302 and page.headers["Location"].startswith("/login?next=/"), path
        says_nothing_of_a_client(page.body.replace(path, "<the path asked for>"), clinic.names)
    for path in ("/_dash-layout", "/_dash-dependencies", "/no-such-page"):
        answer = nobody.get(path, html=False)
        assert answer.status == 401 and answer.json() == {"error": "sign in first", "signIn": "/login"}, path
    assert len(clinic.dependencies) > 30
    for dependency in clinic.dependencies:
        values = {"client-id.data": some_client, "cohort-id.data": "G-001", "today.date": None}
        answer = nobody.callback(body_for(clinic, dependency["output"], values))
        assert answer.status == 401, dependency["output"]
        says_nothing_of_a_client(answer.body, clinic.names)


def test_the_sign_in_page_and_the_static_files_are_open(clinic):
    nobody = Client(clinic.url)
    assert nobody.get("/login").status == 200
    assert nobody.get("/vendor/bootstrap.min.css").status == 200
    assert nobody.get("/assets/hipline.css").status == 200


# --- headers ------------------------------------------------------------------------------------------


def test_every_response_carries_the_security_headers_and_names_no_server_version(clinic):
    admin = signed_in(clinic.url, "admin")
    ping = admin.callback(body_for(clinic, "ping.children", {"ping.n_clicks": 1}))
    answers = {"page": admin.get("/"), "callback": ping, "sign-in page": Client(clinic.url).get("/login")}
    for what, answer in answers.items():
        headers = answer.headers
        assert answer.status == 200, what
        policy = headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "'unsafe-eval'" not in policy
        assert re.search(r"script-src 'self'( 'sha256-[A-Za-z0-9+/=]+')+;", policy), policy
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"
        assert headers["server"] == "hipline", "no server or framework name or version"
    cookie = next(c for c in answers["page"].headers.get_all("Set-Cookie") if c.startswith("_csrf_token="))
    assert "SameSite=Strict" in cookie and "HttpOnly" not in cookie, "the page's script sends it back as a header"


def test_the_session_cookie_is_httponly_and_samesite_lax(clinic):
    answer = Client(clinic.url).sign_in("physio", PASSWORDS["physio"])
    session = next(c for c in answer.headers.get_all("Set-Cookie") if c.startswith("hipline_session="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Expires=" in session
    assert "Secure" not in session, "served over plain HTTP on 127.0.0.1 here (HIPLINE_HTTPS=1 makes it Secure)"


def test_a_failing_request_is_answered_in_a_sentence_without_a_stack_trace(clinic):
    admin = signed_in(clinic.url, "admin")
    odd = admin.callback(body_for(clinic, "client-header.children", {"client-id.data": {"not": "an id"}}))
    assert odd.status == 500
    assert odd.json() == {"error": "Something went wrong on the server; its log has the details."}
    assert "Traceback" in clinic.log.read_text(), "the details are in the server's log"
    garbled = admin.request("/_dash-update-component", b"{not json", {"Content-Type": "application/json",
                            "X-CSRFToken": admin.cookie("_csrf_token")})  # fmt: skip
    assert garbled.status == 404 and "Traceback" not in garbled.body


# --- CSRF -------------------------------------------------------------------------------------------


def test_a_callback_without_its_csrf_token_is_refused_and_audited(clinic):
    physio = signed_in(clinic.url, "physio")
    ping = body_for(clinic, "ping.children", {"ping.n_clicks": 1})
    refused = physio.callback(ping, csrf=False)
    assert refused.status == 400 and refused.json() == {"error": "This request was refused: reload the page and "
                                                                 "try again."}  # fmt: skip
    assert physio.callback(ping).status == 200
    row = audit.read(clinic.db, user="physio", action="refused").iloc[0]
    assert row["action"] == "request" and "without a valid CSRF token" in row["what"]


def test_a_sign_in_without_the_forms_csrf_token_is_refused(clinic):
    answer = Client(clinic.url).sign_in("physio", PASSWORDS["physio"], token=None)
    assert answer.status == 400 and "The sign-in form had expired" in answer.body
    assert answer.headers["Location"] is None, "not signed in"


def test_signing_out_ends_the_session_a_copy_of_its_cookie_too(clinic):
    physio = signed_in(clinic.url, "physio")
    ping = body_for(clinic, "ping.children", {"ping.n_clicks": 1})
    assert physio.callback(ping).status == 200
    stolen = Client(clinic.url)
    for cookie in physio.jar:
        stolen.jar.set_cookie(cookie)
    assert stolen.callback(ping).status == 200, "the copy works while the session lasts"
    out = physio.sign_out()
    assert out.status == 302 and out.headers["Location"] == "/login"
    assert physio.callback(ping).status == 401
    assert stolen.callback(ping).status == 401
    assert audit.read(clinic.db, user="physio", action="sign_out").shape[0] >= 1


# --- each role, outside its rights and scope ----------------------------------------------------------


def _theirs_and_not(db: Path, username: str) -> tuple[set[str], set[str]]:
    """The clients a demo user may see (from the roster, as docs/security.md#roles-and-what-each-may-do says), and
    the others."""
    user = users.find(db, username)
    rule = {
        "physio": "SELECT client_id FROM clients WHERE clinician_id = ?",
        "instructor": "SELECT client_id FROM clients WHERE cohort_id IN (SELECT cohort_id FROM cohorts "
        "WHERE instructor_id = ?)",
    }[user.role]
    theirs = {c for (c,) in query(db, rule, [user.staff_id])}
    everyone = {c for (c,) in query(db, "SELECT client_id FROM clients")}
    return theirs, everyone - theirs


def _refusals(db: Path, username: str) -> int:
    return len(audit.read(db, user=username, action="refused"))


@pytest.mark.parametrize("username", ["physio", "instructor"])
def test_a_client_outside_the_scope_answers_as_a_client_that_does_not_exist_and_is_audited(clinic, username):
    theirs, others = _theirs_and_not(clinic.db, username)
    outsider = sorted(others)[0]
    viewer = signed_in(clinic.url, username)
    before = _refusals(clinic.db, username)

    def header(client_id: str):
        return viewer.callback(body_for(clinic, "client-header.children", {"client-id.data": client_id}))

    outside, unknown = header(outsider), header("C-99999")
    assert outside.status == unknown.status == 200
    assert outside.body.replace(outsider, "<id>") == unknown.body.replace("C-99999", "<id>")
    assert clinic.names[outsider] not in outside.body
    for output in ("client-pain.figure", "client-log.rowData", "client-recs.children", "client-function.children"):
        answer = viewer.callback(body_for(clinic, output, {"client-id.data": outsider}))
        assert answer.status == 200
        says_nothing_of_a_client(answer.body.replace(outsider, "<id>"), clinic.names)
    mine = header(sorted(theirs)[0])
    assert clinic.names[sorted(theirs)[0]] in mine.body, "their own client is shown"
    assert _refusals(clinic.db, username) > before
    row = audit.read(clinic.db, user=username, client=outsider).iloc[0]
    assert (row["action"], row["outcome"]) == ("view_client", "refused")


@pytest.mark.parametrize("username", ["physio", "instructor"])
def test_a_decision_on_a_client_outside_the_scope_is_refused_stores_nothing_and_is_audited(clinic, username):
    _, others = _theirs_and_not(clinic.db, username)
    with Analytics.open(clinic.db, Scope.everyone(), NEWEST) as analytics:
        recs = analytics.recommendations()
    rec = recs[recs["client_id"].isin(others)].iloc[0]
    viewer = signed_in(clinic.url, username)
    values = {"decision-confirm.n_clicks": 1, "client-id.data": rec["client_id"],
              "decision-pending.data": {"ladder": rec["ladder"], "action": "accept"}}  # fmt: skip
    answer = viewer.callback(body_for(clinic, "decision-modal.is_open@", values, changed="decision-confirm.n_clicks"))
    assert answer.status == 200 and "This recommendation is no longer current" in answer.body
    says_nothing_of_a_client(answer.body, clinic.names)
    assert read_decisions(clinic.db, rec["client_id"]).empty
    row = audit.read(clinic.db, user=username, client=rec["client_id"], action="refused")
    assert "decision" in set(row["action"])


def test_an_instructor_may_not_review_a_red_flag_and_a_physio_only_their_own_clients(clinic):
    _theirs, others = _theirs_and_not(clinic.db, "physio")
    values = {"review-save.n_clicks": 1, "client-id.data": sorted(others)[0], "review-outcome.value": "cleared",
              "review-note.value": "fine"}  # fmt: skip
    instructor = signed_in(clinic.url, "instructor")
    answer = instructor.callback(body_for(clinic, "review-modal.is_open@", values, changed="review-save.n_clicks"))
    assert answer.status == 403
    says_nothing_of_a_client(answer.body, clinic.names)
    assert "review a red flag" in " ".join(audit.read(clinic.db, user="instructor", action="refused")["what"])
    physio = signed_in(clinic.url, "physio")
    answer = physio.callback(body_for(clinic, "review-modal.is_open@", values, changed="review-save.n_clicks"))
    assert answer.status == 200 and "There is no such client." in answer.body
    says_nothing_of_a_client(answer.body, clinic.names)
    assert read_reviews(clinic.db).empty
    assert len(audit.read(clinic.db, user="physio", client=sorted(others)[0], action="refused")) >= 1


def _instructs(db: Path, username: str) -> set[str]:
    staff_id = users.find(db, username).staff_id
    return {c for (c,) in query(db, "SELECT cohort_id FROM cohorts WHERE instructor_id = ?", [staff_id])}


def test_a_physio_has_no_cohort_pages_and_an_instructor_sees_only_their_cohorts(clinic):
    cohorts = {c for (c,) in query(clinic.db, "SELECT cohort_id FROM cohorts")}
    theirs = _instructs(clinic.db, "instructor")
    other = sorted(cohorts - theirs)[0]
    physio, instructor = signed_in(clinic.url, "physio"), signed_in(clinic.url, "instructor")

    def cohort(client: Client, cohort_id: str):
        return client.callback(body_for(clinic, "cohort-stats.children", {"cohort-id.data": cohort_id}))

    refused = cohort(physio, sorted(theirs)[0])
    assert refused.status == 403 and refused.json() == {"error": "You do not have the right to do this."}
    row = audit.read(clinic.db, user="physio", action="refused").iloc[0]
    assert row["action"] == "view_cohort" and "no right to open the cohort pages" in row["what"]

    outside, unknown = cohort(instructor, other), cohort(instructor, "G-999")
    assert outside.status == unknown.status == 200 and outside.body == unknown.body
    says_nothing_of_a_client(outside.body, clinic.names)
    assert audit.read(clinic.db, user="instructor", action="refused")["what"].str.contains(other).any()

    listed = instructor.callback(body_for(clinic, "cohorts-grid.rowData", {}))
    assert {row["cohort_id"] for row in listed.json()["response"]["cohorts-grid"]["rowData"]} == theirs


@pytest.mark.parametrize("username", ["physio", "instructor"])
def test_a_caseload_outside_the_scope_is_empty_and_audited(clinic, username):
    theirs, _ = _theirs_and_not(clinic.db, username)
    staff = {s for (s,) in query(clinic.db, "SELECT staff_id FROM staff")}
    clinicians = dict(query(clinic.db, "SELECT client_id, clinician_id FROM clients"))
    stranger = sorted(staff - {clinicians[c] for c in theirs})[0]  # the clinician of none of theirs
    viewer = signed_in(clinic.url, username)
    answer = viewer.callback(body_for(clinic, "caseload-grid.rowData", {"caseload-clinician.value": stranger}))
    assert answer.status == 200
    assert answer.json()["response"]["caseload-grid"]["rowData"] == []
    says_nothing_of_a_client(answer.body, clinic.names)
    assert (
        audit.read(clinic.db, user=username, action="refused")["what"].str.contains(f"the caseload of {stranger}").any()
    )
    everyone = viewer.callback(body_for(clinic, "caseload-grid.rowData", {"caseload-clinician.value": "__all__"}))
    shown = {row["client_id"] for row in everyone.json()["response"]["caseload-grid"]["rowData"]}
    assert shown and shown <= theirs, "'All clinicians' is all the clinicians of their own clients"


def test_a_physio_cannot_export_a_report_or_the_numbers_of_a_client_outside_their_caseload(clinic):
    _, others = _theirs_and_not(clinic.db, "physio")
    outsider = sorted(others)[0]
    physio = signed_in(clinic.url, "physio")
    pdf = physio.callback(body_for(clinic, "client-report-download.data",
                                   {"client-export-pdf.n_clicks": 1, "client-id.data": outsider}))  # fmt: skip
    numbers = physio.callback(body_for(clinic, "client-numbers-download.data",
                                       {"client-export-xlsx.n_clicks": 1, "client-id.data": outsider},
                                       changed="client-export-xlsx.n_clicks"))  # fmt: skip
    for answer in (pdf, numbers):
        assert answer.status == 200
        response = answer.json()["response"]
        assert "client-report-download" not in response and "client-numbers-download" not in response, "no file"
        assert f"there is no client '{outsider}' in the warehouse" in answer.body
        assert clinic.names[outsider] not in answer.body
    refused = audit.read(clinic.db, user="physio", client=outsider, action="refused")
    assert list(refused["action"]).count("export") == 2


def test_an_instructor_may_not_export_client_reports_or_caseload_numbers(clinic):
    theirs, _ = _theirs_and_not(clinic.db, "instructor")
    instructor = signed_in(clinic.url, "instructor")
    for output, values in (
        ("client-report-download.data", {"client-export-pdf.n_clicks": 1, "client-id.data": sorted(theirs)[0]}),
        ("caseload-numbers-download.data", {"caseload-export-csv.n_clicks": 1, "caseload-clinician.value": "__all__"}),
        ("caseload-zip-download.data", {"caseload-zip-start.n_clicks": 1, "caseload-clinician.value": "__all__"}),
    ):
        answer = instructor.callback(body_for(clinic, output, values))
        assert answer.status == 403, output
        says_nothing_of_a_client(answer.body, clinic.names)
    what = audit.read(clinic.db, user="instructor", action="refused")["what"]
    assert what.str.contains("no right to export clients' progress reports and numbers").sum() >= 3


@pytest.mark.parametrize("username", ["physio", "instructor"])
def test_only_an_admin_may_upload_manage_users_or_read_the_audit_trail(clinic, username):
    viewer = signed_in(clinic.url, username)
    loads = query(clinic.db, "SELECT count(*) FROM load_history")[0][0]
    csv = "data:text/csv;base64,Y2xpZW50X2lkLHNlc3Npb25fZGF0ZSxhdHRlbmRlZApDLTAwMDAxLDIwMjYtMTAtMDEseWVzCg=="
    for output, values in (
        ("upload-report.children", {"upload-accepted.data": 1, "upload.contents": [csv],
                                    "upload.filename": ["sessions_2026-10.csv"]}),
        ("users-grid.rowData", {}),
        ("user-add-message.children", {"user-add-submit.n_clicks": 1, "user-add-staff.value": "S-001",
                                       "user-add-role.value": "admin", "user-add-password.value": "x" * 16,
                                       "user-add-again.value": "x" * 16}),
        ("audit-grid.rowData", {}),
    ):  # fmt: skip
        answer = viewer.callback(body_for(clinic, output, values))
        assert answer.status == 403, output
        says_nothing_of_a_client(answer.body, clinic.names)
    assert query(clinic.db, "SELECT count(*) FROM load_history")[0][0] == loads, "nothing loaded"
    assert users.find(clinic.db, "S-001") is None
    actions = set(audit.read(clinic.db, user=username, action="refused")["action"])
    assert {"import", "user_change", "request"} <= actions
    for path in ("/import", "/users", "/audit"):
        page = viewer.callback(body_for(clinic, "_pages_content.children", {"_pages_location.pathname": path}))
        assert "Not part of your role" in page.body, path


# --- passwords and sessions ---------------------------------------------------------------------------


def test_the_sixth_wrong_password_within_a_minute_is_refused_even_when_right(demo_warehouse, tmp_path):
    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    with serve(db) as url:
        tries = Client(url)
        for _ in range(5):
            wrong = tries.sign_in("instructor", "not-the-password")
            assert wrong.status == 401 and "Wrong username or password." in wrong.body
        right = tries.sign_in("instructor", PASSWORDS["instructor"])
        assert right.status == 429 and "Too many failed sign-ins" in right.body
        assert tries.get("/").status == 302, "not signed in"
        # The address is held back too, whichever account it tries next.
        assert Client(url).sign_in("physio", PASSWORDS["physio"]).status == 429
    tried = audit.read(db, user="instructor", action="sign_in_failed")
    assert list(tried["outcome"]) == ["refused", *["failed"] * 5]


def test_a_disabled_users_session_ends_at_their_next_request_and_a_new_role_applies_at_once(demo_warehouse, tmp_path):
    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    with serve(db) as url:
        deps = signed_in(url, "admin").request("/_dash-dependencies", headers={"Accept": "application/json"}).json()
        here = Clinic(url, db, tmp_path, deps, {})
        instructor = signed_in(url, "instructor")
        cohorts = body_for(here, "cohorts-grid.rowData", {})
        assert instructor.callback(cohorts).status == 200
        users.change_role(db, "instructor", "physio", by=Actor.command_line())
        assert instructor.callback(cohorts).status == 403, "a physio has no cohort pages: at the next request"
        users.set_enabled(db, "instructor", False, by=Actor.command_line())
        assert instructor.callback(cohorts).status == 401
        assert instructor.get("/").headers["Location"].startswith("/login")
        users.set_enabled(db, "instructor", True, by=Actor.command_line())
        assert instructor.callback(cohorts).status == 401, "the old session stays ended"
        assert Client(url).sign_in("instructor", PASSWORDS["instructor"]).status == 302


def test_a_session_ends_after_its_working_day(demo_warehouse, tmp_path):
    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    with serve(db, env={"HIPLINE_SESSION_HOURS": str(1.5 / 3600)}) as url:  # a second and a half
        physio = signed_in(url, "physio")
        assert physio.get("/").status == 200
        time.sleep(2)
        assert physio.get("/").status == 302


def test_a_password_set_is_found_in_no_file_the_server_writes(demo_warehouse, tmp_path):
    """Through the command line and the users page: not in the warehouse, the records (and their WAL),
    the audit trail's export or the server's log."""
    import subprocess
    import sys

    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    cli_password, page_password = "correct horse battery staple", "Tr0ub4dor&3 extra words"
    subprocess.run([sys.executable, "-m", "hipline.cli", "user", "passwd", "physio", "--password-stdin", "--db",
                    str(db)], input=cli_password + "\n", text=True, check=True, capture_output=True)  # fmt: skip
    log = tmp_path / "server.log"
    with serve(db, log=log) as url:
        deps = signed_in(url, "admin").request("/_dash-dependencies", headers={"Accept": "application/json"}).json()
        here = Clinic(url, db, log, deps, {})
        assert Client(url).sign_in("physio", cli_password).status == 302
        admin = signed_in(url, "admin")
        values = {"user-set-password.n_clicks": 1, "user-change-who.value": "instructor",
                  "user-change-password.value": page_password, "user-change-again.value": page_password}  # fmt: skip
        changed = admin.callback(body_for(here, "user-change-message.children", values, "user-set-password.n_clicks"))
        assert "has a new password" in changed.body and page_password not in changed.body
        assert Client(url).sign_in("instructor", page_password).status == 302
        assert Client(url).sign_in("instructor", cli_password).status == 401
        exported = admin.callback(body_for(here, "audit-download.data", {"audit-export.n_clicks": 1}))
        assert exported.status == 200
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".records.sqlite") for p in files) and log in files
    for path in files:
        data = path.read_bytes()
        for password in (cli_password, page_password):
            assert password.encode() not in data, f"{password!r} is in {path.name}"
    assert page_password not in exported.body and cli_password not in exported.body


def test_what_hipline_writes_is_readable_by_its_owner_only(demo_files, tmp_path):
    import stat
    import subprocess
    import sys

    db = tmp_path / "clinic" / "hipline.duckdb"
    subprocess.run([sys.executable, "-m", "hipline.cli", "load", str(demo_files), "--db", str(db)], check=True,
                   capture_output=True)  # fmt: skip
    written = [p for p in db.parent.iterdir()]
    assert {p.name for p in written} >= {"hipline.duckdb", "hipline.records.sqlite"}
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, f"{path.name} is readable by others"


# --- the audit trail ----------------------------------------------------------------------------------


def test_each_audited_action_leaves_its_row_with_who_when_where_and_what(clinic):
    """A physio's morning, with a few requests outside their rights: each leaves its row."""
    theirs, others = _theirs_and_not(clinic.db, "physio")
    mine, outsider = sorted(theirs)[0], sorted(others)[0]
    with Analytics.open(clinic.db, Scope.everyone(), NEWEST) as analytics:
        recs = analytics.recommendations()
    rec = recs[recs["client_id"].isin(others)].iloc[0]
    started = len(audit.read(clinic.db))
    Client(clinic.url).sign_in("physio", "a wrong password")
    physio = signed_in(clinic.url, "physio")
    physio.callback(body_for(clinic, "_pages_content.children", {"_pages_location.pathname": f"/clients/{mine}"}))
    physio.callback(body_for(clinic, "client-report-download.data",
                             {"client-export-pdf.n_clicks": 1, "client-id.data": mine}))  # fmt: skip
    physio.callback(body_for(clinic, "client-header.children", {"client-id.data": outsider}))
    physio.callback(body_for(clinic, "cohort-stats.children", {"cohort-id.data": "G-001"}))
    physio.callback(
        body_for(
            clinic,
            "decision-modal.is_open@",
            {
                "decision-confirm.n_clicks": 1,
                "client-id.data": rec["client_id"],
                "decision-pending.data": {"ladder": rec["ladder"], "action": "accept"},
            },
            changed="decision-confirm.n_clicks",
        )
    )
    physio.callback(body_for(clinic, "users-grid.rowData", {}))
    physio.callback(body_for(clinic, "ping.children", {"ping.n_clicks": 1}), csrf=False)
    physio.sign_out()
    rows = audit.read(clinic.db).iloc[: len(audit.read(clinic.db)) - started]
    rows = rows.astype(object).where(rows.notna(), None)  # no client: None
    done = {(r.action, r.client_id) for r in rows.itertuples() if r.outcome == "done"}
    assert {("sign_in", None), ("view_client", mine), ("export", mine), ("sign_out", None)} <= done
    refused = {(r.action, r.client_id) for r in rows.itertuples() if r.outcome == "refused"}
    assert {("view_client", outsider), ("view_cohort", None), ("decision", rec["client_id"]),
            ("user_change", None), ("request", None)} <= refused  # fmt: skip
    assert ("sign_in_failed", "failed") in {(r.action, r.outcome) for r in rows.itertuples()}
    export = rows[(rows["action"] == "export") & (rows["outcome"] == "done")].iloc[0]
    assert export["what"].startswith(f"progress report (PDF) of {mine} as of")
    assert set(rows["address"]) == {"127.0.0.1"} and set(rows["username"]) == {"physio"}
    assert set(rows.loc[rows["action"] != "sign_in_failed", "role"]) == {"physio"}
    assert rows["at"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$").all()


def test_the_trail_cannot_be_changed_or_emptied(clinic):
    with pytest.raises(Exception, match="append-only"), users_records(clinic.db) as con:
        con.execute("UPDATE audit SET what = 'nothing happened'")
    with pytest.raises(Exception, match="append-only"), users_records(clinic.db) as con:
        con.execute("DELETE FROM audit")


def users_records(db: Path):
    from etl.records import connect

    return connect(db, audit.SCHEMA)


def _multipart(name: str, data: bytes) -> tuple[bytes, dict]:
    """One file as the import page's drop zone posts it (multipart form data, field `files`)."""
    boundary = "hipline-test-boundary"
    head = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n")  # fmt: skip
    return head.encode() + data + f"\r\n--{boundary}--\r\n".encode(), {
        "Content-Type": f"multipart/form-data; boundary={boundary}"
    }


def test_an_upload_is_taken_only_from_a_signed_in_admin_with_the_pages_csrf_token(clinic):
    """(A file of a kind hipline does not read: the admin's upload is refused by its contents, so the shared
    warehouse is not loaded into.)"""
    body, headers = _multipart("notes.docx", b"not data")
    assert Client(clinic.url).request("/import/upload", body, headers).status == 401
    physio = signed_in(clinic.url, "physio")
    refused = physio.request("/import/upload", body, {**headers, "X-CSRFToken": physio.cookie("_csrf_token")})
    assert refused.status == 403 and refused.json() == {"refusal": "Not uploaded: only an admin may upload files."}
    row = audit.read(clinic.db, user="physio", action="refused").iloc[0]
    assert row["action"] == "import"

    admin = signed_in(clinic.url, "admin")
    assert admin.request("/import/upload", body, headers).status == 400, "no CSRF token: refused"
    answer = admin.request("/import/upload", body, {**headers, "X-CSRFToken": admin.cookie("_csrf_token")})
    assert answer.status == 400
    assert answer.json()["refusal"].startswith("Not uploaded: notes.docx is not a kind of file hipline reads")
