"""The import page in Chromium: what the warehouse holds, an upload's report, and the first upload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, serve
from tests.conftest import copy_warehouse, query, staff_only_warehouse

pytestmark = pytest.mark.browser


def test_the_import_page_shows_the_counts_the_load_history_and_the_quarantine(demo_warehouse, page):
    with serve(demo_warehouse) as url:
        page.goto(f"{url}/import")
        page.wait_for_selector("#load-history")
        for view in ("clients", "session_log", "measures", "cohorts", "staff", "quarantine"):
            expected = query(demo_warehouse, f"SELECT count(*) FROM {view}")[0][0]
            assert page.inner_text(f"#count-{view} .count-value") == f"{expected:,}"
        files = query(demo_warehouse, "SELECT count(*) FROM load_history")[0][0]
        assert page.locator("#load-history tbody tr").count() == files
        grid = page.locator("#quarantine")
        expect(grid).to_contain_text("needs_review_sessions.csv")
        expect(grid).to_contain_text("pain_during=11 is outside 0–10")
        screenshot(page, "import")

        page.fill("#quarantine-search", "pain_during=11")
        expect(grid.locator(".ag-center-cols-container .ag-row")).to_have_count(1)
        assert page.console_errors == []
        assert page.requests and all(r.startswith(url) for r in page.requests), "no CDN: everything comes from the app"


def test_uploading_a_bad_file_shows_its_quarantine_reasons(demo_warehouse, tmp_path, page):
    db = copy_warehouse(demo_warehouse, tmp_path / "warehouse" / "hipline.duckdb")
    client_id, start = query(db, "SELECT client_id, start_date FROM clients ORDER BY client_id LIMIT 1")[0]
    quarantined_before = query(db, "SELECT count(*) FROM quarantine")[0][0]
    bad = tmp_path / "typed_in_a_hurry.csv"
    bad.write_text(
        "client_id,session_date,attended,exercise,sets,reps,pain_before,pain_during\n"
        f"{client_id},{start + timedelta(days=1)},yes,clamshell,2,10,3,2\n"
        f"{client_id},{start + timedelta(days=2)},yes,clamshell,2,10,3,11\n"
        f"{client_id},31/02/2026,yes,bridge,2,10,3,2\n"
    )
    with serve(db) as url:
        page.goto(f"{url}/import")
        page.wait_for_selector("#load-history")
        page.set_input_files("#upload input[type=file]", str(bad))
        page.wait_for_selector("#upload-quarantine")

        # 3 rows read = 1 loaded + 2 quarantined
        cells = page.locator("#upload-files tbody tr").first.locator("td")
        assert cells.all_inner_texts()[:6] == ["typed_in_a_hurry.csv", "session log", "loaded", "3", "1", "2"]
        reasons = page.inner_text("#upload-quarantine")
        assert "pain_during=11 is outside 0–10" in reasons
        assert "session_date '31/02/2026' is not a date" in reasons
        expect(page.locator("#count-quarantine .count-value")).to_have_text(f"{quarantined_before + 2:,}")
        expect(page.locator("#quarantine")).to_contain_text("typed_in_a_hurry.csv")
        screenshot(page, "import_after_upload")

        page.set_input_files("#upload input[type=file]", str(bad))  # the same file again changes nothing
        expect(page.locator("#upload-files tbody tr").first).to_contain_text("unchanged")

        # A kind of file hipline does not read is refused in the browser, before it is sent.
        loads = query(db, "SELECT count(*) FROM load_history")[0][0]
        notes = tmp_path / "notes.docx"
        notes.write_bytes(b"PK\x03\x04 not a data file")
        page.set_input_files("#upload input[type=file]", str(notes))
        expect(page.locator("#upload-refusal")).to_have_text(
            "Not uploaded: notes.docx is not a kind of file hipline reads "
            "(.csv .json .jsonl .ndjson .parquet .psv .tab .tsv .txt .xlsx)."
        )
        screenshot(page, "import_refused")
        assert query(db, "SELECT count(*) FROM load_history")[0][0] == loads
        assert page.console_errors == []


def test_a_warehouse_with_only_its_staff_says_what_to_upload_and_the_first_upload_fills_it(demo_files, tmp_path, page):
    """A clinic's first day: the staff list loaded from the command line and an admin added (hipline
    serves nothing without one); the rest comes through the import page."""
    db = staff_only_warehouse(tmp_path / "nothing" / "hipline.duckdb", tmp_path)
    with serve(db) as url:
        page.goto(f"{url}/import")
        page.wait_for_selector("#what-to-upload")
        for kind in ("staff", "cohorts", "clients", "session_log", "measures"):
            expect(page.locator(f"#kind-{kind}")).to_be_visible()
        expect(page.locator("#kind-session_log")).to_contain_text("pain_during")
        expect(page.locator("#kind-clients")).to_contain_text("patient_id")
        screenshot(page, "import_empty")

        page.set_input_files("#upload input[type=file]", sorted(str(p) for p in demo_files.iterdir()))
        page.wait_for_selector("#upload-files", timeout=60_000)  # the load (a process of its own) has ended
        assert db.exists()
        sessions = query(db, "SELECT count(*) FROM session_log")[0][0]
        assert page.inner_text("#count-session_log .count-value") == f"{sessions:,}"

        page.click(".main-nav >> text=Caseload")
        expect(page.locator("#caseload-grid .ag-row").first).to_be_visible()
        assert page.console_errors == []
