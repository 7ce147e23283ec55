"""The page `hipline demo` serves: what the warehouse holds, and what the last loads did."""

from __future__ import annotations

import pytest

from tests.browser.conftest import screenshot, serve
from tests.conftest import query

pytestmark = pytest.mark.browser


def test_the_demo_page_shows_the_counts_and_the_load_report(demo_warehouse, page):
    with serve(demo_warehouse) as url:
        page.goto(url)
        page.wait_for_selector("#load-history")
        for view in ("clients", "session_log", "measures", "quarantine"):
            expected = query(demo_warehouse, f"SELECT count(*) FROM {view}")[0][0]
            assert page.inner_text(f"#count-{view} .count-value") == f"{expected:,}"
        files = query(demo_warehouse, "SELECT count(*) FROM load_history")[0][0]
        assert page.locator("#load-history tbody tr").count() == files
        assert "needs_review_sessions.csv" in page.inner_text("#quarantine")
        assert "pain_during=11 is outside 0–10" in page.inner_text("#quarantine")
        screenshot(page, "overview")
        assert page.console_errors == []
        assert page.requests and all(r.startswith(url) for r in page.requests), "no CDN: everything comes from the app"


def test_an_empty_warehouse_says_what_to_load(tmp_path, page):
    with serve(tmp_path / "nothing.duckdb") as url:
        page.goto(url)
        page.wait_for_selector("#empty-state")
        assert "No data loaded yet" in page.inner_text("#empty-state")
        screenshot(page, "overview_empty")
        assert page.console_errors == []
