"""The export buttons in Chromium on the demo warehouse (docs/reports.md): the client's progress report
and numbers, a clinician's zip of progress reports with its progress bar, and Cancel.

One app for the module, in this order on purpose: the client's PDF starts the reports' chart renderer in
the server process first, and the zip (a background callback, run in a fork of that process) must still
work after it. What a download holds is read back (pdftotext, pandas, zipfile) and compared with the
analytics layer.
"""

from __future__ import annotations

import time
import zipfile
from datetime import date

import pandas as pd
import psutil
import pytest
from playwright.sync_api import expect

from analytics import NEWEST, Analytics, Scope
from tests.browser.conftest import screenshot, serve
from tests.conftest import few_clients_day
from tests.reports.pdfs import pdf_info, pdf_text

pytestmark = pytest.mark.browser
REPORT = 60_000  # ms: a first report starts Chromium for the charts; on a shared CI machine that is slow
ZIP = 120_000


@pytest.fixture(scope="module")
def app_url(demo_server):
    return demo_server.url


def _server(url: str) -> psutil.Process:
    port = url.rsplit(":", 1)[1]
    for child in psutil.Process().children():
        if "serve" in child.cmdline() and port in child.cmdline():
            return child
    raise AssertionError(f"no app serving {url} among this test's processes")


def _report_processes(server: psutil.Process) -> list[str]:
    """The processes making the zip under the app: Dash's job (a fork of the app, so the same command
    line) and the fresh process it starts (and that one's workers)."""
    found = []
    for process in server.children(recursive=True):
        try:
            command = process.cmdline()
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
        except psutil.NoSuchProcess:
            continue
        if command == server.cmdline() or "spawn_main" in " ".join(command):
            found.append(f"{process.pid} {' '.join(command)[:80]}")
    return found


def _pick_day(page, day) -> None:
    """Review an earlier day through the top bar's date picker, as a clinician does."""
    picker = page.locator("#today")
    picker.click()
    picker.fill(f"{day.day} {day:%b %Y}")
    picker.press("Enter")
    expect(page.locator("#today-note")).to_have_text(f"{day:%-d %b %Y} is not today ({date.today():%-d %b %Y})")
    picker.press("Escape")  # close the calendar: it covers the page below the top bar
    expect(page.locator(".dash-datepicker-calendar-date-inside").first).to_be_hidden()


def test_the_client_page_downloads_the_progress_report_and_the_numbers(demo_warehouse, app_url, page, tmp_path):
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        client = analytics.caseload(None).iloc[0]
        today = analytics.today
    page.goto(f"{app_url}/clients/{client['client_id']}")
    expect(page.locator("#client-name")).to_have_text(client["display_name"])
    page.wait_for_selector("#client-pain .main-svg")
    expect(page.locator("#client-export")).to_be_visible()
    page.select_option("#export-paper", "letter")

    with page.expect_download(timeout=REPORT) as started:
        page.click("#client-export-pdf")
    download = started.value
    assert download.suggested_filename == f"progress-report_{client['client_id']}_{today.isoformat()}.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    assert client["display_name"] in pdf_text(path)
    assert pdf_info(path)["Page size"] == "612 x 792 pts (letter)"
    expect(page.locator("#client-export-pdf")).to_be_enabled()

    with page.expect_download(timeout=REPORT) as started:
        page.click("#client-export-xlsx")
    download = started.value
    assert download.suggested_filename == f"numbers_{client['client_id']}_{today.isoformat()}.xlsx"
    download.save_as(tmp_path / "numbers.xlsx")
    sheets = pd.read_excel(tmp_path / "numbers.xlsx", sheet_name=None, engine="calamine")
    assert sheets["client"]["display_name"].tolist() == [client["display_name"]]
    assert "session log" in sheets
    expect(page.locator("#export-error")).to_have_count(0)
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "client_exports")
    assert page.console_errors == []

    # The paper chosen is remembered: the next page opens with it.
    page.goto(f"{app_url}/clients/{client['client_id']}")
    expect(page.locator("#export-paper")).to_have_value("letter")


def _zip_for_one_clinician(db, app_url, page, tmp_path) -> None:
    """On a day the clinician had a few clients: the zip holds one report per row of the grid, the
    progress line counted them, and the start button is back when it is done."""
    day, caseload = few_clients_day(db, "S-001")
    page.goto(f"{app_url}/?clinician=S-001")
    page.wait_for_selector("#caseload-grid .ag-row")
    _pick_day(page, day)
    count = f"{len(caseload)} client{'s' if len(caseload) != 1 else ''} shown"
    expect(page.locator("#caseload-count")).to_contain_text(count)
    rows = page.evaluate("() => dash_ag_grid.getApi('caseload-grid').getDisplayedRowCount()")
    assert rows == len(caseload)
    # Keep every text the progress line shows: it changes faster than a test can look.
    page.evaluate(
        """() => {
            window.progressSeen = [];
            const line = document.getElementById('caseload-zip-progress');
            new MutationObserver(() => window.progressSeen.push(line.textContent))
                .observe(line, {childList: true, characterData: true, subtree: true});
        }"""
    )
    with page.expect_download(timeout=ZIP) as started:
        page.click("#caseload-zip-start")
        expect(page.locator("#caseload-zip-running")).to_be_visible()
        expect(page.locator("#caseload-zip-start")).to_be_disabled()
    download = started.value
    assert download.suggested_filename == f"progress-reports_S-001_{day.isoformat()}.zip"
    download.save_as(tmp_path / "reports.zip")
    archive = zipfile.ZipFile(tmp_path / "reports.zip")
    pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert len(pdfs) == rows
    for name, pdf in zip(caseload["display_name"], pdfs, strict=True):
        assert name in pdf
        assert archive.read(pdf).startswith(b"%PDF")
    document = tmp_path / "first.pdf"
    document.write_bytes(archive.read(pdfs[0]))
    assert caseload["display_name"].iloc[0] in pdf_text(document)
    expect(page.locator("#zip-done")).to_contain_text(f"{rows} progress report")
    expect(page.locator("#caseload-zip-running")).to_be_hidden()
    expect(page.locator("#caseload-zip-start")).to_be_enabled()
    seen = page.evaluate("() => window.progressSeen")
    assert any(f" of {rows} · " in text for text in seen), seen
    assert page.console_errors == []


def test_a_clinicians_zip_has_one_progress_report_per_client_in_the_grid_under_gunicorn(demo_warehouse, page, tmp_path):
    """Under `hipline serve --workers 2` the job is started by one worker and asked after by either:
    they share the jobs' folder (dashboard.exports.jobs_folder). (Dash's development server runs the
    same callback; the in-process callback tests call it directly.)"""
    with serve(demo_warehouse, "--workers", "2") as url:
        _zip_for_one_clinician(demo_warehouse, url, page, tmp_path)
        screenshot(page, "caseload_zip_done")


def test_cancel_stops_the_zip_and_nothing_is_downloaded(demo_warehouse, app_url, page):
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        everyone = len(analytics.caseload(None))
    assert everyone > 50, "long enough to cancel while it runs"
    downloads = []
    page.on("download", lambda download: downloads.append(download))
    page.goto(f"{app_url}/")
    page.wait_for_selector("#caseload-grid .ag-row")
    page.locator("#caseload-clinician").click()
    page.get_by_role("listbox").get_by_text("All clinicians", exact=True).click()
    expect(page.locator("#caseload-count")).to_contain_text(f"{everyone} clients shown")
    page.click("#caseload-zip-start")
    expect(page.locator("#caseload-zip-running")).to_be_visible()
    expect(page.locator("#caseload-zip-progress")).to_contain_text(f" of {everyone} · ", timeout=ZIP)
    server = _server(app_url)
    assert _report_processes(server), "the zip is being made under the app"
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "caseload_zip_running")

    page.click("#caseload-zip-cancel")
    expect(page.locator("#caseload-zip-start")).to_be_enabled()
    expect(page.locator("#caseload-zip-running")).to_be_hidden()
    deadline = time.monotonic() + 15
    while _report_processes(server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _report_processes(server) == [], "Cancel ends the job and every process it started"
    page.wait_for_timeout(3000)  # a download would have arrived by now
    assert downloads == []
    expect(page.locator("#zip-done")).to_have_count(0)
    assert page.console_errors == []
