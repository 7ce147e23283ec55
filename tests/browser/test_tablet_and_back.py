"""docs/dashboard.md on a tablet and between pages: at 820 px the columns that matter stay in view (the caseload's
flags, pain change and last session; the session log's pain and notes; a cohort's members' pain change and
flags), at 1280 px too; and going back from a client to the caseload keeps its filters.

The app runs as a subprocess on the demo warehouse (the module's server, read only).
"""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, screenshot, sign_in, signing_in_as_needed
from tests.conftest import query

pytestmark = pytest.mark.browser
WIDTHS = (1280, 820)


@pytest.fixture(scope="module")
def url(demo_server):
    return demo_server.url


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def sized(browser, request):
    """A signed-in page `request.param` px wide (a tablet in portrait at 820)."""
    context = browser.new_context(viewport={"width": request.param, "height": 1180})
    page = context.new_page()
    signing_in_as_needed(page)
    page.set_default_timeout(20_000)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def right_edge(page, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box["x"] + box["width"]


def assert_in_view(page, grid: str, columns: list[str]) -> None:
    """Each column's header and first cell lie within the screen's width, and nothing is wider than it."""
    width = page.viewport_size["width"]
    selectors = [
        f"#{grid} {part}[col-id='{column}']"
        for column in columns
        for part in (".ag-header-cell", ".ag-row[row-index='0'] .ag-cell")
    ]
    # The grid moves the columns that give way once its first rows show: wait for that, then say what is not.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(IN_VIEW, arg=[selectors, width], timeout=10_000)
    for selector in selectors:
        assert right_edge(page, selector) <= width, f"{selector} runs past {width} px"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width, "the page scrolls sideways"


IN_VIEW = """([selectors, width]) => selectors.every(selector => {
    const element = document.querySelector(selector);
    return element !== null && element.getBoundingClientRect().right <= width; })"""


def test_the_caseload_keeps_flags_pain_change_and_last_session_in_view(sized, url):
    sized.goto(url)
    sized.wait_for_selector("#caseload-grid .ag-row[row-index='0']")
    assert_in_view(sized, "caseload-grid", ["display_name", "pain_change", "flags", "last_session"])
    screenshot(sized, f"caseload_{sized.viewport_size['width']}px")
    assert sized.errors == []


def test_the_session_log_keeps_pain_and_notes_in_view(sized, url, demo_warehouse):
    client_id = query(
        demo_warehouse,
        """SELECT client_id FROM session_log WHERE notes IS NOT NULL
           GROUP BY client_id ORDER BY max(session_date) DESC, count(*) DESC LIMIT 1""",
    )[0][0]
    sized.goto(f"{url}/clients/{client_id}")
    sized.wait_for_selector("#client-log .ag-row[row-index='0']")
    pain = ["pain_before", "pain_during", "pain_after", "pain_next_day"]
    assert_in_view(sized, "client-log", ["session_date", "exercise", *pain, "notes"])
    screenshot(sized, f"client_{sized.viewport_size['width']}px")
    screenshot_of_part(sized, "#session-log", f"client_log_{sized.viewport_size['width']}px")
    assert sized.errors == []


def test_a_cohorts_members_keep_pain_change_and_flags_in_view(sized, url, demo_warehouse):
    cohort_id = query(
        demo_warehouse,
        """SELECT cohort_id FROM clients WHERE cohort_id IS NOT NULL
           GROUP BY cohort_id ORDER BY count(*) DESC, cohort_id LIMIT 1""",
    )[0][0]
    sized.goto(f"{url}/cohorts/{cohort_id}")
    sized.wait_for_selector("#cohort-members-grid .ag-row[row-index='0']")
    assert_in_view(sized, "cohort-members-grid", ["display_name", "pain_change", "flags"])
    screenshot(sized, f"cohort_{sized.viewport_size['width']}px")
    assert sized.errors == []


def screenshot_of_part(page, selector: str, name: str) -> None:
    """The top of one part of a long page, clipped from the whole page (a screenshot of the element itself
    would have the sticky top bar over it)."""
    box = page.locator(selector).bounding_box()
    top = box["y"] + page.evaluate("() => window.scrollY")
    clip = {"x": 0, "y": top, "width": page.viewport_size["width"], "height": min(box["height"], 700)}
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, clip=clip)


SHOWN_ROWS = """() => { const ids = [];
    dash_ag_grid.getApi('caseload-grid').forEachNodeAfterFilterAndSort(node => ids.push(node.id)); return ids; }"""
SHOWN_NAMES = """() => { const names = [];
    dash_ag_grid.getApi('caseload-grid').forEachNodeAfterFilterAndSort(node => names.push(node.data.display_name));
    return names; }"""
FILTER_MODEL = "() => dash_ag_grid.getApi('caseload-grid').getFilterModel()"
SEARCH = "a"


def filter_the_caseload(page) -> tuple[list[str], dict]:
    """A flag from the strip, "hip" in the grid's Region column filter and "a" in the search: the rows shown
    and the grid's filter model."""
    page.wait_for_selector("#caseload-grid .ag-row")
    flag = page.locator('[id*=\'"flag":"low_adherence"\']')
    flag.click()
    expect(flag).to_have_class(re.compile(r"\bchosen\b"))  # the strip is drawn again once the rows are
    page.locator("#caseload-grid .ag-header-cell[col-id='region'] .ag-header-cell-filter-button").click()
    page.locator(".ag-filter-body input").first.fill("hip")
    # The grid applies a typed filter after a pause: close the filter only once it has.
    page.wait_for_function(f"() => ({FILTER_MODEL})().region?.filter === 'hip'")
    page.keyboard.press("Escape")
    expect(page.locator("#caseload-grid")).not_to_contain_text("knee")
    names = page.evaluate(SHOWN_NAMES)
    assert any(SEARCH not in name.lower() for name in names), f"the search would leave all of {names}"
    page.fill("#caseload-search", SEARCH)
    # The search reaches the server after a pause and its rows come back later still (on a busy machine, well
    # after the half second this once waited): wait until every name shown is one the search finds.
    page.wait_for_function(
        f"(text) => {{ const names = ({SHOWN_NAMES})();"
        " return names.length > 0 && names.every(name => name.toLowerCase().includes(text)); }",
        arg=SEARCH,
    )
    # The strip is hidden while its callback runs (dcc.Loading makes it invisible after 250 ms): wait for it.
    expect(page.locator("#flag-card-all .flag-count")).to_have_text(re.compile(r"^\d+$"), use_inner_text=True)
    return page.evaluate(SHOWN_ROWS), page.evaluate(FILTER_MODEL)


def assert_still_filtered(page, shown: list[str], model: dict) -> None:
    expect(page.locator("#caseload-count")).to_have_text(f"{len(shown)} clients shown, most urgent first")
    expect(page.locator("#caseload-search")).to_have_value(SEARCH)
    expect(page.locator("#caseload-flags")).to_contain_text("Low adherence")
    with contextlib.suppress(PlaywrightTimeout):
        # JSON.stringify writes no spaces: compare with the same text, or this waits its whole timeout
        compact = json.dumps(shown, separators=(",", ":"))
        page.wait_for_function(f"() => JSON.stringify(({SHOWN_ROWS})()) === {json.dumps(compact)}")
    assert page.evaluate(FILTER_MODEL) == model
    assert page.evaluate(SHOWN_ROWS) == shown


def test_going_back_from_a_client_keeps_the_caseloads_filters_and_search(page, url):
    page.goto(url)
    shown, model = filter_the_caseload(page)
    assert model == {"region": {"filterType": "text", "type": "contains", "filter": "hip"}}
    assert 1 < len(shown) < int(page.inner_text("#flag-card-all .flag-count"))

    page.locator(f"#caseload-grid [row-id='{shown[0]}'] [col-id='display_name']").click()
    page.wait_for_url(f"**/clients/{shown[0]}")
    expect(page.locator("#client-name")).to_be_visible()
    page.go_back()
    assert_still_filtered(page, shown, model)
    screenshot(page, "caseload_after_back")

    # The top bar's link back to the caseload keeps them too.
    page.locator(f"#caseload-grid [row-id='{shown[1]}'] [col-id='display_name']").click()
    page.wait_for_url(f"**/clients/{shown[1]}")
    page.locator(".main-nav").get_by_role("link", name="Caseload").click()
    assert_still_filtered(page, shown, model)
    assert page.console_errors == []


def test_another_user_in_the_same_tab_starts_from_no_filters(page, url):
    page.goto(url)
    filter_the_caseload(page)
    page.locator("#signout").click()
    page.wait_for_url("**/login**")
    sign_in(page, url, "physio")
    page.goto(url)
    page.wait_for_selector("#caseload-grid .ag-row")
    expect(page.locator("#caseload-search")).to_have_value("")
    assert page.evaluate(FILTER_MODEL) == {}
    expect(page.locator("#caseload-flags")).not_to_contain_text("Low adherence")
