"""The cohort pages (docs/dashboard.md#pages) in Chromium on the demo warehouse: the list, one cohort, a comparison."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from analytics import NEWEST, Analytics, Scope
from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser
CALLBACKS = 20_000  # ms: generous, the shared CI machine can be slow; a pass returns as soon as the page is ready


@pytest.fixture(scope="module")
def app_url(demo_server):
    return demo_server.url


@pytest.fixture(scope="module")
def expected(demo_warehouse) -> dict:
    """What the analytics layer says, on the same default day the app uses (the newest session)."""
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        return {
            "cohorts": analytics.cohorts(),
            "summary": analytics.cohort_summary().set_index("cohort_id"),
        }


def largest_cohort(expected: dict) -> str:
    return expected["summary"]["members"].idxmax()


def open_cohort_page(page, url: str, cohort_id: str) -> None:
    page.goto(f"{url}/cohorts/{cohort_id}")
    rows = page.locator("#cohort-members-grid .ag-center-cols-container .ag-row")
    expect(rows).not_to_have_count(0, timeout=CALLBACKS)
    expect(page.locator("#cohort-pain .scatterlayer .trace")).not_to_have_count(0, timeout=CALLBACKS)


def right_edge(page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"]


def test_the_list_shows_every_cohort_and_a_click_opens_it(app_url, expected, page):
    cohorts, summary = expected["cohorts"], expected["summary"]
    page.goto(f"{app_url}/cohorts")
    rows = page.locator("#cohorts-grid .ag-center-cols-container .ag-row")
    expect(rows).to_have_count(len(cohorts), timeout=CALLBACKS)
    for cohort in cohorts.itertuples():
        name_cell = page.locator(f"#cohorts-grid .ag-pinned-left-cols-container [row-id='{cohort.cohort_id}']")
        expect(name_cell).to_have_text(cohort.name)
        members = page.locator(f"#cohorts-grid [row-id='{cohort.cohort_id}'] [col-id='members']")
        expect(members).to_have_text(str(summary.loc[cohort.cohort_id, "members"]))
    screenshot(page, "cohorts")

    chosen = largest_cohort(expected)
    page.locator(f"#cohorts-grid .ag-pinned-left-cols-container [row-id='{chosen}'] [col-id='name']").click()
    expect(page).to_have_url(f"{app_url}/cohorts/{chosen}")
    expect(page.locator("#cohort-name")).to_have_text(summary.loc[chosen, "name"], timeout=CALLBACKS)
    assert page.console_errors == []


def test_a_cohort_shows_the_analytics_numbers(app_url, expected, page):
    chosen = largest_cohort(expected)
    rolled = expected["summary"].loc[chosen]
    members = int(rolled["members"])
    improved = round(rolled["share_improved"] * members)
    open_cohort_page(page, app_url, chosen)
    expect(page.locator("#stat-members .stat-value")).to_have_text(str(members))
    expect(page.locator("#stat-pain-improved .stat-value")).to_have_text(
        f"{improved} of {int(rolled['members_with_pain_data'])}"
    )
    expect(page.locator("#stat-pain-improved .stat-detail")).to_contain_text(
        f"{round(100 * rolled['share_improved'])} % of all {members}"
    )
    expect(page.locator("#cohort-members-grid .ag-center-cols-container .ag-row")).to_have_count(members)
    expect(page.locator("#cohort-adherence .main-svg").first).to_be_visible()
    expect(page.locator("#cohort-attendance .heatmaplayer")).to_have_count(1)
    screenshot(page, "cohort")
    assert page.console_errors == []


def test_a_member_row_opens_the_client(app_url, expected, page):
    open_cohort_page(page, app_url, largest_cohort(expected))
    first = page.locator("#cohort-members-grid .ag-pinned-left-cols-container .ag-row").first
    client_id = first.get_attribute("row-id")
    first.locator("[col-id='display_name']").click()
    expect(page).to_have_url(f"{app_url}/clients/{client_id}", timeout=CALLBACKS)


def test_compare_overlays_the_second_cohorts_pain_by_week(app_url, expected, page):
    chosen = largest_cohort(expected)
    names = expected["cohorts"].set_index("cohort_id")["name"]
    other = next(c for c in expected["summary"].index if c != chosen)
    open_cohort_page(page, app_url, chosen)
    page.locator("#cohort-compare").click()
    page.get_by_role("option", name=names[other], exact=True).click()
    legend = page.locator("#cohort-pain .legendtext")
    expect(legend).to_have_count(2, timeout=CALLBACKS)
    expect(legend.nth(0)).to_have_text(names[chosen])
    expect(legend.nth(1)).to_have_text(names[other])
    page.mouse.move(0, 0)  # no hover labels or mode bar in the picture
    page.evaluate("window.scrollTo(0, 0)")  # the sticky navigation at the top of the picture, not mid-page
    screenshot(page, "cohort_compare")
    assert page.console_errors == []


def test_the_list_shows_the_roll_ups_on_a_tablet(app_url, expected, page):
    page.set_viewport_size({"width": 820, "height": 1180})
    page.goto(f"{app_url}/cohorts")
    expect(page.locator("#cohorts-grid .ag-center-cols-container .ag-row")).to_have_count(
        len(expected["cohorts"]), timeout=CALLBACKS
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 820, "nothing wider than the screen"
    assert right_edge(page, "#cohorts-grid .ag-header-cell[col-id='improved_text']") <= 820, (
        "no scrolling to the numbers"
    )
    screenshot(page, "cohorts_tablet")
    assert page.console_errors == []


def test_a_cohort_fits_a_tablet(app_url, expected, page):
    page.set_viewport_size({"width": 820, "height": 1180})
    open_cohort_page(page, app_url, largest_cohort(expected))
    assert page.evaluate("document.documentElement.scrollWidth") <= 820, "nothing wider than the screen"
    assert right_edge(page, "#cohort-members-grid .ag-header-cell[col-id='flags']") <= 820, "no sideways scrolling"
    screenshot(page, "cohort_tablet")
    assert page.console_errors == []


def test_an_unknown_cohort_says_so(app_url, page):
    page.goto(f"{app_url}/cohorts/G-404")
    expect(page.locator("#not-found")).to_contain_text("No cohort G-404", timeout=CALLBACKS)
    page.locator("#not-found a").click()
    expect(page).to_have_url(f"{app_url}/cohorts")
    expect(page.locator("#cohorts-grid .ag-row").first).to_be_visible(timeout=CALLBACKS)
    assert page.console_errors == []
