"""The physio's morning: the caseload, a click into a client, and a decision on a recommendation.

The app runs as a subprocess on the demo warehouse; expected numbers come from the analytics layer
and from `hipline metrics`, never from the page itself.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from access import users
from analytics import NEWEST, Analytics, Scope
from analytics.decisions import read_decisions
from analytics.definitions import FLAGS
from dashboard import components as ui
from tests.browser.conftest import screenshot, serve, sign_in, signing_in_as_needed
from tests.conftest import copy_warehouse, query, staff_only_warehouse

pytestmark = pytest.mark.browser


def _busiest_clinician(db: Path) -> str:
    return query(
        db,
        """SELECT clinician_id FROM clients GROUP BY clinician_id ORDER BY count(*) DESC, clinician_id LIMIT 1""",
    )[0][0]


def _expected_caseload(db: Path, staff_id: str):
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        return analytics.caseload(staff_id)


def _metrics_csv(db: Path, out: Path) -> dict[str, dict]:
    subprocess.run(
        [sys.executable, "-m", "hipline.cli", "metrics", "--db", str(db), "--today", "newest", "--out", str(out)],
        check=True,
        timeout=120,
    )
    with open(out / "client_metrics.csv", encoding="utf-8") as f:
        return {row["client_id"]: row for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def url(demo_server):
    return demo_server.url


def test_the_caseload_lists_the_clinicians_active_clients_with_the_flag_counts(demo_warehouse, page, url):
    staff_id = _busiest_clinician(demo_warehouse)
    expected = _expected_caseload(demo_warehouse, staff_id)
    assert len(expected) > 10
    page.goto(f"{url}/?clinician={staff_id}")
    expect(page.locator("#caseload-count")).to_contain_text(f"{len(expected)} clients shown")
    # The grid renders only the rows in view: count the rows it holds through its row count API.
    page.wait_for_selector("#caseload-grid .ag-row")
    shown = page.evaluate("() => dash_ag_grid.getApi('caseload-grid').getDisplayedRowCount()")
    assert shown == len(expected)
    for flag in FLAGS:
        count = sum(flag in ui.flag_list(flags) for flags in expected["flags"])
        card = page.locator(f'[id*=\'"flag":"{flag}"\'] .flag-count')
        # Waited for, as the user would: the strip is hidden while a callback of the page still runs.
        expect(card, flag).to_have_text(str(count), use_inner_text=True)
    expect(page.locator("#flag-card-all .flag-count")).to_have_text(str(len(expected)), use_inner_text=True)
    # Most urgent first: the first row is the first client of the analytics layer's order.
    first = page.locator("#caseload-grid .ag-row[row-index='0'] [col-id='display_name']")
    assert first.inner_text() == expected["display_name"].iloc[0]
    # The pain change is in words as well as colour.
    assert any(s in page.inner_text("#caseload-grid") for s in ("improved", "no important change"))
    screenshot(page, "caseload")

    # Filter by a flag from the strip, then search by name.
    flagged = expected[[("pain_worse" in ui.flag_list(f)) for f in expected["flags"]]]
    page.locator('[id*=\'"flag":"pain_worse"\']').click()
    expect(page.locator("#caseload-count")).to_contain_text(f"{len(flagged)} client")
    page.locator('[id*=\'"flag":"pain_worse"\']').click()
    name = expected["display_name"].iloc[3]
    page.fill("#caseload-search", name)
    expect(page.locator("#caseload-count")).to_contain_text("shown")
    expect(page.locator("#caseload-grid .ag-row[row-index='0'] [col-id='display_name']")).to_have_text(name)
    assert page.console_errors == []
    assert all(r.startswith(url) for r in page.requests), "no CDN: everything comes from the app"


def test_a_click_opens_the_client_whose_numbers_equal_hipline_metrics(demo_warehouse, page, tmp_path, url):
    staff_id = _busiest_clinician(demo_warehouse)
    expected = _expected_caseload(demo_warehouse, staff_id)
    metrics = _metrics_csv(demo_warehouse, tmp_path / "metrics")
    page.goto(f"{url}/?clinician={staff_id}")
    row = page.locator("#caseload-grid .ag-row[row-index='1'] [col-id='region']")
    row.click()
    client_id = expected["client_id"].iloc[1]
    page.wait_for_url(f"**/clients/{client_id}")
    expect(page.locator("#client-name")).to_have_text(expected["display_name"].iloc[1])
    numbers = metrics[client_id]

    def value(field: str) -> float | None:
        return float(numbers[field]) if numbers[field] else None

    stat = page.locator("#stat-adherence")
    expect(stat.locator(".stat-value")).to_have_text(ui.percent(value("adherence_last_4_weeks")))
    # Waited for, as a reader would: the header is hidden while a callback of the page still runs (dcc.Loading).
    expect(stat).to_contain_text(f"overall {ui.percent(value('adherence_overall'))}", use_inner_text=True)
    pain = f"{ui.pain(value('pain_baseline'))} → {ui.pain(value('pain_current'))}"
    expect(page.locator("#stat-pain .stat-value")).to_have_text(pain, use_inner_text=True)
    expect(page.locator("#stat-pain")).to_contain_text(numbers["pain_status"], use_inner_text=True)
    expect(page.locator("#stat-week .stat-value")).to_have_text(numbers["program_week"], use_inner_text=True)
    page.wait_for_selector("#client-pain .main-svg")
    page.wait_for_selector("#client-recs .rec, #no-recommendations")
    page.locator("#client-log").scroll_into_view_if_needed()
    page.wait_for_selector("#client-log .ag-row")
    screenshot(page, "client")
    assert page.console_errors == []


def test_accepting_a_recommendation_is_stored_as_the_physio_signed_in_and_survives_a_reload(
    demo_warehouse, page, tmp_path
):
    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    physio = users.find(db, "physio")
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        recs = analytics.recommendations()
        theirs = analytics.caseload(physio.staff_id, active_only=False)["client_id"]
        rec = recs[(recs["decision"] == "progress") & recs["client_id"].isin(theirs)].iloc[0]
    card = f'[id*=\'"ladder":"{rec["ladder"]}"\'][id*=\'"type":"rec"\']'
    with serve(db) as url:
        sign_in(page, url, "physio")
        page.goto(f"{url}/clients/{rec['client_id']}")
        page.wait_for_selector(card)
        page.locator(card).get_by_role("button", name="Accept").click()
        expect(page.locator("#decision-modal")).to_be_visible()
        assert rec["next_exercise"] in page.inner_text("#decision-what")
        expect(page.locator("#decision-by")).to_contain_text(f"decided by {physio.name} (physio)")
        page.click("#decision-confirm")
        expect(page.locator("#decision-done")).to_be_visible()
        expect(page.locator(card).locator(".rec-decided")).to_contain_text("Accepted by")
        page.reload()
        page.wait_for_selector(card)
        expect(page.locator(card).locator(".rec-decided")).to_contain_text("Accepted by")
        # The accepted progression is the client's current level now: the count at the new level restarts.
        expect(page.locator(card).locator(".rec-now")).to_contain_text(rec["next_exercise"])
        screenshot(page, "client_after_accept")
        assert page.console_errors == []
    stored = read_decisions(db)
    assert len(stored) == 1
    assert stored.iloc[0][["client_id", "ladder", "action", "decided_by", "decision"]].tolist() == [
        rec["client_id"], rec["ladder"], "accept", physio.staff_id, "progress",
    ]  # fmt: skip


def test_an_override_needs_a_reason(demo_warehouse, page, tmp_path):
    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        recs = analytics.recommendations()
        rec = recs[recs["decision"] != "refer"].iloc[0]  # refer is one card for the client, with no override
    card = f'[id*=\'"ladder":"{rec["ladder"]}"\'][id*=\'"type":"rec"\']'
    with serve(db) as url:
        page.goto(f"{url}/clients/{rec['client_id']}")
        page.wait_for_selector(card)
        page.locator(card).get_by_role("button", name="Override…").click()
        expect(page.locator("#override-fields")).to_be_visible()
        page.click("#decision-confirm")
        expect(page.locator("#decision-error")).to_contain_text("needs a reason")
        page.fill("#decision-reason", "Knee felt unstable on the stairs this week")
        page.click("#decision-confirm")
        expect(page.locator(card).locator(".rec-decided")).to_contain_text("Knee felt unstable")
        assert page.console_errors == []
    assert read_decisions(db).iloc[0]["reason"] == "Knee felt unstable on the stairs this week"


def test_an_unknown_client_is_not_found_and_a_client_without_measures_still_shows(demo_warehouse, page, url):
    no_measures = query(
        demo_warehouse,
        "SELECT client_id FROM clients WHERE client_id NOT IN (SELECT client_id FROM measures) ORDER BY 1 LIMIT 1",
    )[0][0]
    page.goto(f"{url}/clients/C-99999")
    expect(page.locator("#not-found")).to_contain_text("No client C-99999")
    screenshot(page, "client_not_found")
    page.goto(f"{url}/clients/{no_measures}")
    expect(page.locator("#no-function-scores")).to_be_visible()
    page.wait_for_selector("#client-pain .main-svg")
    assert page.console_errors == []


def test_pages_work_on_a_tablet(demo_warehouse, browser, url):
    context = browser.new_context(viewport={"width": 820, "height": 1180})
    page = context.new_page()
    signing_in_as_needed(page)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    client_id = query(demo_warehouse, "SELECT client_id FROM session_log ORDER BY session_date DESC LIMIT 1")[0][0]
    page.goto(url)
    page.wait_for_selector("#caseload-grid .ag-row")
    screenshot(page, "caseload_tablet")
    page.goto(f"{url}/clients/{client_id}")
    page.wait_for_selector("#client-pain .main-svg")
    # Nothing is wider than the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 820
    screenshot(page, "client_tablet")
    context.close()
    assert errors == []


def test_a_fresh_warehouse_says_what_to_load(tmp_path, page):
    """A clinic's first day: only the staff list is loaded (the admin must be on it)."""
    with serve(staff_only_warehouse(tmp_path / "w" / "hipline.duckdb", tmp_path)) as url:
        page.goto(url)
        expect(page.locator("#empty-state")).to_contain_text("No data loaded yet")
        screenshot(page, "caseload_empty")
        page.goto(f"{url}/clients/C-00001")
        expect(page.locator("#empty-state")).to_be_visible()
        assert page.console_errors == []


def test_reviewing_a_past_day_shows_the_numbers_of_that_day(demo_warehouse, page, url):
    staff_id = _busiest_clinician(demo_warehouse)
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        newest = analytics.today
    from datetime import date, timedelta

    past = newest - timedelta(days=28)
    with Analytics.open(demo_warehouse, Scope.everyone(), past) as analytics:
        expected = analytics.caseload(staff_id)
    page.goto(f"{url}/?clinician={staff_id}")
    page.wait_for_selector("#caseload-grid .ag-row")
    date_input = page.locator("#today")
    date_input.click()
    date_input.fill(past.strftime("%-d %b %Y"))
    date_input.press("Enter")
    expect(page.locator("#today-note")).to_have_text(f"{past:%-d %b %Y} is not today ({date.today():%-d %b %Y})")
    expect(page.locator("#caseload-count")).to_contain_text(f"{len(expected)} client")
    assert page.console_errors == []


@pytest.mark.parametrize("width", [1280, 820])
def test_the_top_bar_says_plainly_that_the_demos_day_is_not_today(demo_warehouse, browser, url, width):
    from datetime import date

    newest = query(demo_warehouse, "SELECT max(session_date) FROM session_log")[0][0]
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        signing_in_as_needed(page)
        page.goto(url)
        expect(page.locator("#today")).to_have_value(f"{newest:%-d %b %Y}")
        note = page.locator("#today-note")
        expect(note).to_have_text(f"{newest:%-d %b %Y} is not today ({date.today():%-d %b %Y})")
        expect(note).to_be_visible()
        box = note.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box
        screenshot(page, f"not_today_{width}")
    finally:
        context.close()
