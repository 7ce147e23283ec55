"""Signing in, in Chromium, as each of the demo's users: each sees exactly the clients the roster gives
their role (counted here in SQL), the pages of their role and no others; a wrong password says so;
signing out returns to the sign-in page. The users and audit pages for an admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from access import users
from tests.browser.conftest import screenshot, serve, sign_in
from tests.conftest import query

pytestmark = pytest.mark.browser

ACTIVE = "start_date <= ? AND (end_date IS NULL OR end_date >= ?)"  # docs/metrics.md: an active episode, today


@pytest.fixture(scope="module")
def app_url(demo_server):
    return demo_server.url


def _today(db):
    return query(db, "SELECT max(session_date) FROM session_log")[0][0]


def _expected_caseload(db, username: str) -> int:
    """Active clients in the role's scope, by the roster's own columns."""
    user = users.find(db, username)
    today = _today(db)
    whose = {
        "physio": "clinician_id = ?",
        "instructor": "cohort_id IN (SELECT cohort_id FROM cohorts WHERE instructor_id = ?)",
        "admin": "? IS NOT NULL",
    }[user.role]
    return query(db, f"SELECT count(*) FROM clients WHERE {whose} AND {ACTIVE}", [user.staff_id, today, today])[0][0]


def _nav(page) -> list[str]:
    return [t.strip() for t in page.locator(".main-nav .nav-link").all_inner_texts()]


@pytest.mark.parametrize(
    ("username", "links"),
    [
        ("physio", ["Caseload"]),
        ("instructor", ["Caseload", "Cohorts"]),
        ("admin", ["Caseload", "Cohorts", "Import", "Users", "Audit"]),
    ],
)
def test_each_role_sees_exactly_its_clients_and_its_pages(demo_warehouse, app_url, page, username, links):
    user = users.find(demo_warehouse, username)
    sign_in(page, app_url, username)
    expect(page.locator("#signed-in-as")).to_contain_text(user.name)
    expect(page.locator("#signed-in-as")).to_contain_text(username)
    page.goto(f"{app_url}/")
    expected = _expected_caseload(demo_warehouse, username)
    expect(page.locator("#caseload-count")).to_have_text(f"{expected} clients shown, most urgent first")
    expect(page.locator("#flag-card-all .flag-count")).to_have_text(str(expected))
    assert _nav(page) == links
    assert ("Import" in _nav(page)) == (username == "admin")
    screenshot(page, f"caseload_as_{username}")
    if username == "instructor":
        page.goto(f"{app_url}/cohorts")
        theirs = query(demo_warehouse, "SELECT count(*) FROM cohorts WHERE instructor_id = ?", [user.staff_id])[0][0]
        expect(page.locator("#cohorts-count")).to_contain_text(f"{theirs} cohort")
        screenshot(page, "cohorts_as_instructor")
    if username != "admin":
        page.goto(f"{app_url}/import")
        expect(page.locator("#not-for-role")).to_contain_text("Not part of your role: importing files")
    assert page.console_errors == []


def test_a_wrong_password_says_so_and_signs_nobody_in(app_url, page):
    page.signs_in_as_needed = False
    page.goto(f"{app_url}/login")
    screenshot(page, "sign_in")
    page.fill("#username", "physio")
    page.fill("#password", "not the password")
    page.click("#signin-submit")
    expect(page.locator("#signin-error")).to_have_text("Wrong username or password.")
    expect(page.locator("#username")).to_have_value("physio")
    assert page.input_value("#password") == "", "a password is never sent back"
    screenshot(page, "sign_in_wrong_password")
    page.goto(f"{app_url}/")
    assert page.url.startswith(f"{app_url}/login?next=/")


def test_signing_out_returns_to_the_sign_in_page_and_the_pages_need_a_new_sign_in(app_url, page):
    page.signs_in_as_needed = False
    sign_in(page, app_url, "physio")
    page.goto(f"{app_url}/")
    page.wait_for_selector("#caseload-grid .ag-row")
    with page.expect_navigation():
        page.click("#signout")
    assert page.url == f"{app_url}/login"
    expect(page.locator("#signin-form")).to_be_visible()
    page.goto(f"{app_url}/")
    assert "/login" in page.url


def test_the_page_asked_for_opens_after_signing_in(demo_warehouse, app_url, page):
    client_id = query(demo_warehouse, "SELECT client_id FROM clients ORDER BY client_id LIMIT 1")[0][0]
    page.goto(f"{app_url}/clients/{client_id}")  # signs in as an admin on the way (tests/browser/conftest.py)
    assert page.url == f"{app_url}/clients/{client_id}"
    expect(page.locator("#client-name")).to_be_visible()


def test_the_sign_in_page_fits_a_tablet(app_url, browser):
    context = browser.new_context(viewport={"width": 820, "height": 1180})
    tablet = context.new_page()
    tablet.goto(f"{app_url}/login")
    assert tablet.evaluate("() => document.documentElement.scrollWidth") <= 820
    screenshot(tablet, "sign_in_tablet")
    context.close()


def test_an_admin_adds_a_user_and_the_audit_trail_shows_it(demo_warehouse, tmp_path, page):
    from tests.conftest import copy_warehouse

    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    free = query(db, "SELECT staff_id, name FROM staff WHERE role = 'physio' ORDER BY staff_id")
    taken = {u.staff_id for u in users.list_users(db)}
    staff_id, name = next((s, n) for s, n in free if s not in taken)
    with serve(db) as url:
        sign_in(page, url, "admin")
        page.goto(f"{url}/users")
        rows = page.locator("#users-grid .ag-center-cols-container .ag-row")
        expect(rows).to_have_count(3)
        page.click("#user-add-staff")
        page.get_by_role("option", name=f"{name} ({staff_id}, physio)", exact=True).click()
        expect(page.locator("#user-add-username")).to_have_value(staff_id)
        page.fill("#user-add-password", "a new colleague's pass")
        page.fill("#user-add-again", "a new colleague's pass")
        page.click("#user-add-submit")
        expect(page.locator("#user-add-message")).to_contain_text(f"{name} may now sign in as {staff_id} (physio).")
        expect(rows).to_have_count(4)
        assert page.input_value("#user-add-password") == ""
        screenshot(page, "users")
        page.goto(f"{url}/audit")
        page.locator("#audit-action").click()
        page.get_by_role("option", name="changed a user", exact=True).click()
        grid = page.locator("#audit-grid")
        expect(grid).to_contain_text(f"added user {staff_id} ({staff_id}, {name}) as physio")
        screenshot(page, "audit")
        with page.expect_download() as download:
            page.click("#audit-export")
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert text.startswith("audit_id,at,username") and f"added user {staff_id}" in text
        assert page.console_errors == []
    assert users.check_password(db, staff_id, "a new colleague's pass").name == name


@pytest.mark.parametrize("path", ["/users", "/audit"])
def test_the_users_and_audit_pages_fit_a_tablet(app_url, browser, path):
    from tests.browser.conftest import signing_in_as_needed

    context = browser.new_context(viewport={"width": 820, "height": 1180})
    tablet = context.new_page()
    signing_in_as_needed(tablet)
    tablet.goto(f"{app_url}{path}")
    tablet.wait_for_selector(".ag-row")
    assert tablet.evaluate("() => document.documentElement.scrollWidth") <= 820
    screenshot(tablet, f"{path.strip('/')}_tablet")
    context.close()
