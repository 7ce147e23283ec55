"""Flags a clinician can trust (docs/metrics.md#flags, docs/dashboard.md): each flag's evidence on the caseload,
the red-flag review
that clears a refer, and an override that does not agree with its decision.

Expected words come from the analytics layer (client_metrics' flag_evidence), never from the page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from access import users
from analytics import NEWEST, Analytics, Scope
from analytics.reviews import read_reviews
from tests.browser.conftest import screenshot, serve, sign_in
from tests.conftest import copy_warehouse

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [1280, 820])
def test_the_caseload_shows_why_each_client_is_flagged(demo_warehouse, demo_server, browser, width):
    physio = users.find(demo_warehouse, "physio")
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        caseload = analytics.caseload(physio.staff_id)
    flagged = caseload[caseload["flag_evidence"] != ""].iloc[0]
    first_line = flagged["flag_evidence"].split("\n")[0]
    flag, why = first_line.split(": ", 1)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)

    sign_in(page, demo_server.url, "physio")
    page.goto(demo_server.url)
    # most urgent first: the first flagged client is in the first rows the grid draws
    row = page.locator(f"#caseload-grid .ag-row[row-id='{flagged['client_id']}']").last
    expect(row.locator(".flag-why").first).to_have_text(why)
    # in view without hovering, and the tooltip says the same
    box = row.locator(".flag-why").first.bounding_box()
    assert box is not None and box["x"] + min(box["width"], 40) <= width
    assert row.locator(f".flag-{flag}").first.get_attribute("title") == why
    screenshot(page, f"caseload_evidence_{width}")
    context.close()


def _refer_client(db) -> str:
    """A client with a red-flag note no review covers."""
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        metrics = analytics.client_metrics()
    return metrics[metrics["flags"].str.startswith("refer")].iloc[0]["client_id"]


@pytest.fixture(scope="module")
def clinic(demo_warehouse, tmp_path_factory):
    """A copy of the demo served for this module's writes (a review and a decision, on two clients)."""
    db = copy_warehouse(demo_warehouse, tmp_path_factory.mktemp("reviews") / "hipline.duckdb")
    with serve(db) as url:
        yield db, url


def test_a_review_clears_the_refer_and_the_recommendations_come_back(clinic, page):
    db, url = clinic
    client_id = _refer_client(db)
    sign_in(page, url, "admin")
    page.goto(f"{url}/clients/{client_id}")
    expect(page.locator("#refer-card")).to_be_visible()
    expect(page.locator("#client-flag-refer")).to_be_visible()
    expect(page.locator("#open-red-flags")).to_be_visible()
    assert page.locator(".rec").count() == 1  # one refer card, not one per exercise
    screenshot(page, "client_refer_before_review")
    page.click("#review-open")
    expect(page.locator("#review-modal")).to_be_visible()
    page.click("#review-save")
    expect(page.locator("#review-error")).to_contain_text("Choose an outcome")
    page.get_by_label("Cleared: safe to continue").check()
    page.fill("#review-note", "Seen in clinic: knee stable, no swelling. Safe to continue.")
    page.click("#review-save")
    expect(page.locator("#review-done")).to_be_visible()
    expect(page.locator("#refer-card")).to_have_count(0)
    expect(page.locator("#client-flag-refer")).to_have_count(0)
    expect(page.locator("#no-open-red-flags")).to_be_visible()
    assert page.locator(".rec").count() >= 1
    screenshot(page, "client_after_review")
    assert page.console_errors == []
    review = read_reviews(db).iloc[0]
    assert (review["client_id"], review["outcome"], review["reviewed_by"]) == (
        client_id, "cleared", users.find(db, "admin").staff_id,
    )  # fmt: skip


def test_an_override_that_does_not_agree_with_its_decision_says_what_does_not(clinic, page):
    db, url = clinic
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        recs = analytics.recommendations()
    rec = recs[(recs["decision"] == "progress") & recs["sets"].notna()].iloc[0]
    card = f'[id*=\'"ladder":"{rec["ladder"]}"\'][id*=\'"type":"rec"\']'
    sign_in(page, url, "admin")
    page.goto(f"{url}/clients/{rec['client_id']}")
    page.wait_for_selector(card)
    expect(page.locator(card).locator(".rec-why")).to_have_text(rec["why"])
    page.locator(card).get_by_role("button", name="Override…").click()
    expect(page.locator("#override-fields")).to_be_visible()
    # Hold fills in the level and dose kept; one set more is not a hold.
    page.locator("#decision-choice").click()
    page.get_by_role("option", name="Hold").click()
    expect(page.locator("#decision-sets")).to_have_value(str(int(rec["sets"])))
    page.fill("#decision-sets", str(int(rec["sets"]) + 1))
    page.fill("#decision-reason", "she felt strong today")
    page.click("#decision-confirm")
    expect(page.locator("#decision-error")).to_contain_text("Hold keeps the dose (or sets the level's target dose)")
    screenshot(page, "override_refused")
    page.fill("#decision-sets", str(int(rec["sets"])))
    page.click("#decision-confirm")
    expect(page.locator(card).locator(".rec-decided")).to_contain_text("she felt strong today")
    assert page.console_errors == []
