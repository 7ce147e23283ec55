"""The import page in-process: an upload is loaded into the warehouse and reported file by file
(docs/input-formats.md, docs/dashboard.md)."""

from __future__ import annotations

import io
import time
from datetime import date, timedelta
from pathlib import Path

import dash
import flask
import pytest

from access import audit
from access.roles import Viewer
from dashboard import uploads
from dashboard.app import create_app
from dashboard.clinic_data import ClinicData
from dashboard.pages import import_files
from dashboard.security import Refused, SecurityOptions
from tests.conftest import copy_warehouse, query
from tests.dashboard.conftest import ADMIN


def walk(component):
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, list | tuple):
        for child in children:
            yield from walk(child)
    elif children is not None:
        yield from walk(children)


def by_id(tree, component_id: str):
    found = [c for c in walk(tree) if getattr(c, "id", None) == component_id]
    assert found, f"no component with id {component_id!r}"
    return found[0]


def has_id(tree, component_id: str) -> bool:
    return any(getattr(c, "id", None) == component_id for c in walk(tree))


def text(component) -> str:
    return " ".join(str(c) for c in walk(component) if isinstance(c, str | int | float))


def body_rows(table) -> list[list[str]]:
    body = next(c for c in walk(table) if type(c).__name__ == "Tbody")
    return [[text(cell) for cell in row.children] for row in body.children]


def count_on_page(tree, view: str) -> int:
    value = by_id(tree, f"count-{view}").children[0]
    assert value.className == "count-value"
    return int(text(value).replace(",", ""))


@pytest.fixture
def warehouse_copy(demo_warehouse: Path, tmp_path: Path) -> Path:
    """A copy of the demo warehouse: an upload must never write to the shared fixture."""
    db = copy_warehouse(demo_warehouse, tmp_path / "warehouse" / "hipline.duckdb")
    create_app(db)
    return db


JOB_SECONDS = 120  # a test's load runs in a process of its own; it is done long before this


def upload(files: dict[str, bytes], replace: bool = True):
    """Upload as the page does: the files posted to the server (dashboard.uploads), its answer shown, yes
    said when asked whether to replace, then the load (a process of its own) followed to its end.
    Returns (report, page contents, today, its latest allowed day, whether it is disabled); a refused
    upload returns the refusal with the page's contents unchanged (dash.no_update)."""
    received = uploads.receive([(name, io.BytesIO(data)) for name, data in files.items()])
    shown, job, idle = import_files.show_upload(received)
    if job and job.get("confirm"):
        assert has_id(shown, "job-confirm"), "a replacement is asked about first"
        if not replace:
            return import_files.cancel(1, job)[0], *(dash.no_update,) * 4
        shown, job, idle = import_files.go_ahead(1, job)
    return follow(shown, job, idle)


def follow(shown, job, idle):
    """Poll a started job as the page's interval does; (report, contents, today, latest, disabled)."""
    contents = today = latest = disabled = dash.no_update
    deadline = time.monotonic() + JOB_SECONDS
    while not idle:
        assert time.monotonic() < deadline, "the load did not finish"
        time.sleep(0.1)
        polled, contents, today, latest, disabled, kept, idle, most = import_files.follow_job(1, job)
        assert most == -1, "every answer lets the poll tick again"
        shown = polled if polled is not dash.no_update else shown
        job = kept if kept is not dash.no_update else job  # the page's store keeps its value
    return shown, contents, today, latest, disabled


def test_an_upload_reports_rows_read_as_loaded_plus_quarantined_and_lists_the_reasons(warehouse_copy):
    client_id, start = query(warehouse_copy, "SELECT client_id, start_date FROM clients ORDER BY client_id LIMIT 1")[0]
    day = [(start + timedelta(days=n)).isoformat() for n in (1, 2, 3)]
    sessions_before = query(warehouse_copy, "SELECT count(*) FROM session_log")[0][0]
    quarantine_before = query(warehouse_copy, "SELECT count(*) FROM quarantine")[0][0]
    bad_csv = (
        "client_id,session_date,attended,exercise,sets,reps,pain_before,pain_during\n"
        f"{client_id},{day[0]},yes,clamshell,2,10,3,2\n"  # line 2: loaded
        f"{client_id},{day[1]},yes,clamshell,2,10,3,3\n"  # line 3: loaded
        f"{client_id},{day[2]},yes,clamshell,2,10,3,11\n"  # line 4: pain outside 0-10
        f"{client_id},31/02/2026,yes,bridge,2,10,3,2\n"  # line 5: no such date
    )

    report, contents, *_ = upload({"bad_sessions.csv": bad_csv.encode()})

    # 4 rows read = 2 loaded + 2 quarantined
    assert body_rows(by_id(report, "upload-files")) == [
        ["bad_sessions.csv", "session log", "loaded", "4", "2", "2", ""]
    ]
    quarantined = body_rows(by_id(report, "upload-quarantine"))
    assert [(file, row, reason) for file, row, _kind, reason, _raw in quarantined] == [
        ("bad_sessions.csv", "4", "pain_during=11 is outside 0–10"),
        ("bad_sessions.csv", "5", "session_date '31/02/2026' is not a date (use YYYY-MM-DD or day/month/year)"),
    ]
    assert "pain_during=11" in quarantined[0][4] and f"client_id={client_id}" in quarantined[0][4]

    assert query(
        warehouse_copy, "SELECT session_date, pain_during FROM session_log WHERE source_file = 'bad_sessions.csv' "
        "ORDER BY session_date"
    ) == [(start + timedelta(days=1), 2.0), (start + timedelta(days=2), 3.0)]  # fmt: skip
    assert count_on_page(contents, "session_log") == sessions_before + 2
    assert count_on_page(contents, "quarantine") == quarantine_before + 2


def test_a_file_that_is_not_data_shows_its_error_and_loads_nothing(warehouse_copy):
    sessions_before = query(warehouse_copy, "SELECT count(*) FROM session_log")[0][0]

    report, contents, *_ = upload({"x.xlsx": bytes(range(256)) * 20})

    [row] = body_rows(by_id(report, "upload-files"))
    assert row[0] == "x.xlsx" and row[2] == "error" and row[3:6] == ["0", "0", "0"]
    assert "x.xlsx" in row[6], "the error names the file"
    assert "could not be read" in text(by_id(report, "upload-headline"))
    assert not has_id(report, "upload-quarantine")
    assert query(warehouse_copy, "SELECT count(*) FROM session_log")[0][0] == sessions_before
    assert "x.xlsx" in text(by_id(contents, "load-history")), "the failed file is in the load history"


def test_an_upload_that_fails_outright_shows_an_alert_and_the_page_stays_up(warehouse_copy):
    same_name = [("a/sessions.csv", io.BytesIO(b"x")), ("b/sessions.csv", io.BytesIO(b"y"))]
    report, *_ = import_files.show_upload(uploads.receive(same_name))

    assert report.id == "upload-error"
    assert text(report) == (
        "The upload could not be loaded: two of the files are named sessions.csv: upload them one at a time"
    )


def test_an_empty_warehouse_page_lists_each_kind_of_file_with_its_columns(tmp_path):
    create_app(tmp_path / "nothing" / "hipline.duckdb")

    page = import_files.layout()

    assert has_id(page, "upload")
    what = by_id(page, "what-to-upload")
    sessions = body_rows(by_id(what, "kind-session_log"))
    assert sessions[0][:2] == ["client_id", "required"] and "patient_id" in sessions[0][2]
    assert sessions[1][:2] == ["session_date", "required"] and "date" in sessions[1][2].split(", ")
    assert next(r[1] for r in sessions if r[0] == "pain_during") == "optional"
    for kind, required in {
        "staff": ["staff_id", "name", "role"],
        "cohorts": ["cohort_id", "name", "instructor_id", "start_date"],
        "clients": ["client_id", "start_date", "region", "sessions_per_week"],
        "measures": ["client_id", "measured_on", "instrument"],
    }.items():
        rows = body_rows(by_id(what, f"kind-{kind}"))
        assert [r[0] for r in rows if r[1] == "required"] == required
    assert not has_id(page, "load-history")


def test_a_first_upload_that_could_not_be_read_still_says_what_to_upload(tmp_path):
    create_app(tmp_path / "new" / "hipline.duckdb")

    report, contents, *_ = upload({"notes.docx.csv": b""})

    assert "notes.docx.csv is empty" in text(by_id(report, "upload-files"))
    assert has_id(contents, "what-to-upload") and has_id(contents, "load-history")


def test_uploading_the_demo_files_into_an_empty_warehouse_creates_it(demo_files, tmp_path):
    db = tmp_path / "new" / "hipline.duckdb"
    create_app(db)
    files = {p.name: p.read_bytes() for p in sorted(demo_files.iterdir())}

    report, contents, today, latest, disabled = upload(files)

    assert db.exists()
    rows = body_rows(by_id(report, "upload-files"))
    assert sorted(r[0] for r in rows) == sorted(files)
    assert all(r[2] == "loaded" for r in rows)
    read, loaded, quarantined = ([int(r[i].replace(",", "")) for r in rows] for i in (3, 4, 5))
    assert read == [a + b for a, b in zip(loaded, quarantined, strict=True)]
    for view in ("clients", "session_log", "measures", "quarantine"):
        assert count_on_page(contents, view) == query(db, f"SELECT count(*) FROM {view}")[0][0]
    # The pages now open on the current date (docs/metrics.md "today"), whatever the newest session loaded.
    assert (today, latest, disabled) == (date.today().isoformat(),) * 2 + (False,)


def test_the_pages_see_an_upload_without_a_restart(warehouse_copy):
    """Another worker's warm analytics notice the swapped warehouse file by themselves."""
    other_worker = ClinicData(warehouse_copy)
    with other_worker.analytics(ADMIN) as analytics:
        assert "C-NEW-1" not in set(analytics.caseload(None)["client_id"])
        newest = analytics.today
    clients = "client_id,display_name,start_date,region,sessions_per_week\nC-NEW-1,Upload Tester,{},hip,2\n"
    sessions = "client_id,session_date,attended\nC-NEW-1,{},yes\nC-NEW-1,{},yes\n"
    start = newest - timedelta(days=10)
    upload(
        {
            "new_clients.csv": clients.format(start).encode(),
            "new_sessions.csv": sessions.format(start + timedelta(days=1), start + timedelta(days=8)).encode(),
        }
    )

    with other_worker.analytics(ADMIN) as analytics:
        caseload = analytics.caseload(None)
    assert caseload.loc[caseload["client_id"] == "C-NEW-1", "display_name"].tolist() == ["Upload Tester"]
    with other_worker.writing():  # closes its connections
        pass


@pytest.mark.parametrize(
    ("sent", "saved"),
    [
        ("sessions.csv", "sessions.csv"),
        ("C:\\Users\\ana\\Exports\\sessions.csv", "sessions.csv"),
        ("../../etc/sessions.csv", "sessions.csv"),
        (".hidden.csv", "hidden.csv"),
        ("..", "upload"),
        ("", "upload"),
    ],
)
def test_an_uploaded_file_keeps_only_its_own_name(sent, saved):
    assert uploads.safe_file_name(sent) == saved


def test_a_quarantined_row_reads_as_its_columns_and_values():
    raw = '{"client_id":"C-1","session_date":"31/02/2026","sets":null,"attended":true,"level":2}'
    assert import_files.raw_row_text(raw) == "client_id=C-1 · session_date=31/02/2026 · attended=true · level=2"
    assert import_files.raw_row_text("C-1,2026-10-08,yes,extra,column") == "C-1,2026-10-08,yes,extra,column"


def test_an_upload_is_audited_with_its_files_and_rows(warehouse_copy):
    client_id, start = query(warehouse_copy, "SELECT client_id, start_date FROM clients ORDER BY client_id LIMIT 1")[0]
    csv = (
        "client_id,session_date,attended,exercise,sets,reps,pain_before,pain_during\n"
        f"{client_id},{start + timedelta(days=1)},yes,clamshell,2,10,3,2\n"
        f"{client_id},{start + timedelta(days=2)},yes,clamshell,2,10,3,11\n"
    )
    upload({"one_more_day.csv": csv.encode()})
    row = audit.read(warehouse_copy, action="import").iloc[0]
    assert (row["username"], row["role"], row["outcome"]) == (ADMIN.username, "admin", "done")
    assert row["what"] == "one_more_day.csv (session_log): loaded, 2 read = 1 loaded + 1 quarantined"


@pytest.mark.parametrize(
    ("name", "size_mb", "limit_mb", "why"),
    [
        (
            "notes.docx",
            0.01,
            50,
            "notes.docx is not a kind of file hipline reads (.csv .json .jsonl .ndjson "
            ".parquet .psv .tab .tsv .txt .xlsx)",
        ),
        ("sessions.csv", 1.5, 1, "these files hold 1.5 MB, more than an upload may (1 MB)"),
    ],
)
def test_an_upload_too_large_or_of_a_kind_not_read_is_refused_before_any_loading(
    warehouse_copy, name, size_mb, limit_mb, why
):
    flask.current_app.config["HIPLINE_SECURITY"] = SecurityOptions(max_upload_mb=limit_mb)
    loads_before = query(warehouse_copy, "SELECT count(*) FROM load_history")[0][0]
    header = b"client_id,session_date,attended\n"
    report, contents, *_ = upload({name: header + b"x" * int(size_mb * 1024 * 1024 - len(header))})
    assert text(report) == f"Not uploaded: {why}"
    assert contents is dash.no_update
    assert query(warehouse_copy, "SELECT count(*) FROM load_history")[0][0] == loads_before  # nothing loaded
    refused = audit.read(warehouse_copy, action="refused").iloc[0]
    assert refused["action"] == "import" and why in refused["what"]


def test_only_an_admin_may_upload(warehouse_copy, signed_in):
    signed_in(Viewer("physio", "S-001", "A Physio", "physio"))
    loads_before = query(warehouse_copy, "SELECT count(*) FROM load_history")[0][0]
    with pytest.raises(Refused):
        upload({"sessions.csv": b"client_id,session_date,attended\nC-00001,2026-10-01,yes\n"})
    assert query(warehouse_copy, "SELECT count(*) FROM load_history")[0][0] == loads_before
    refused = audit.read(warehouse_copy, action="refused").iloc[0]
    assert (refused["username"], refused["action"]) == ("physio", "import")
    assert "no right to import files" in refused["what"]


def test_a_corrected_file_is_loaded_only_when_the_admin_says_yes(warehouse_copy):
    client_id, start = query(warehouse_copy, "SELECT client_id, start_date FROM clients ORDER BY client_id LIMIT 1")[0]
    header = "client_id,session_date,attended,exercise,sets,reps,pain_before,pain_during\n"
    rows = [f"{client_id},{start + timedelta(days=n)},yes,clamshell,2,10,3,2\n" for n in (1, 2, 3)]
    upload({"extra.csv": (header + "".join(rows)).encode()})
    in_file = "SELECT count(*) FROM session_log WHERE source_file = 'extra.csv'"
    assert query(warehouse_copy, in_file)[0][0] == 3

    shown, *_ = upload({"extra.csv": (header + rows[0]).encode()}, replace=False)
    assert shown.id == "job-cancelled" and query(warehouse_copy, in_file)[0][0] == 3, "no: nothing changes"

    report, *_ = upload({"extra.csv": (header + rows[0]).encode()})
    assert body_rows(by_id(report, "upload-files"))[0][:6] == ["extra.csv", "session log", "replaced", "1", "1", "0"]
    assert query(warehouse_copy, in_file)[0][0] == 1


def test_a_second_poll_of_a_finished_load_shows_the_same_report_and_audits_it_once(warehouse_copy):
    client_id, start = query(warehouse_copy, "SELECT client_id, start_date FROM clients ORDER BY client_id LIMIT 1")[0]
    csv = f"client_id,session_date,attended\n{client_id},{start + timedelta(days=1)},yes\n"
    _, job, _ = import_files.show_upload(uploads.receive([("twice.csv", io.BytesIO(csv.encode()))]))
    folder = import_files.load_jobs.find_job(warehouse_copy, job["job"], ADMIN.username)
    deadline = time.monotonic() + JOB_SECONDS
    while not import_files.load_jobs.state(folder).finished:
        assert time.monotonic() < deadline
        time.sleep(0.1)

    first, second = import_files.follow_job(1, job), import_files.follow_job(1, job)

    for answer in (first, second):
        assert body_rows(by_id(answer[0], "upload-files"))[0][:3] == ["twice.csv", "session log", "loaded"]
        assert answer[-2] is True, "the page stops asking"
    # (The copy holds the shared demo warehouse's trail: other tests' imports and refusals are in it too.)
    imports = audit.read(warehouse_copy, action="import")
    assert imports["what"].str.contains("twice.csv").sum() == 1


def test_another_admin_can_neither_follow_nor_confirm_an_upload_that_is_not_theirs(warehouse_copy, signed_in):
    client_id, start = query(warehouse_copy, "SELECT client_id, start_date FROM clients ORDER BY client_id LIMIT 1")[0]
    csv = f"client_id,session_date,attended\n{client_id},{start + timedelta(days=1)},yes\n"
    upload({"mine.csv": csv.encode()})
    received = uploads.receive([("mine.csv", io.BytesIO((csv + csv.splitlines()[1] + "\n").encode()))])
    _, job, _ = import_files.show_upload(received)
    assert job["confirm"], "a corrected mine.csv waits for its admin's yes"

    signed_in(Viewer("admin2", "S-002", "Another Admin", "admin"))

    shown, kept, idle = import_files.go_ahead(1, job)
    assert shown.id == "upload-error" and (kept, idle) == (None, True)
    polled = import_files.follow_job(1, job)
    assert polled[0] is dash.no_update and polled[-2] is True
    in_file = "SELECT count(*) FROM loads WHERE source_file = 'mine.csv'"
    assert query(warehouse_copy, in_file)[0][0] == 1, "nothing loaded in the other admin's name"
