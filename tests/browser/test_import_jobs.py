"""The import page in Chromium: a load runs beside the server (which keeps answering), a corrected file
is named with its rows before and after and loads only when confirmed, and a load can be undone."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from dashboard.pages import import_files
from tests.browser.conftest import screenshot, serve
from tests.conftest import copy_warehouse, query

pytestmark = pytest.mark.browser

BIG_FILE_MB = 200
PROBE_EVERY_S = 0.2
SLOWEST_ANSWER_S = 2.0
JOB_MS = 60_000  # a load or an undo starts a Python process of its own: allow for a busy machine


def _sessions(client_id: str, days: list) -> str:
    header = "client_id,session_date,attended,exercise,sets,reps,pain_before,pain_during\n"
    return header + "".join(f"{client_id},{day},yes,clamshell,2,10,3,2\n" for day in days)


def _rows_of(db, file: str) -> int:
    return query(db, "SELECT count(*) FROM session_log WHERE source_file = ?", [file])[0][0]


def test_a_corrected_file_says_what_it_replaces_loads_when_confirmed_and_can_be_undone(demo_warehouse, tmp_path, page):
    db = copy_warehouse(demo_warehouse, tmp_path / "warehouse" / "hipline.duckdb")
    client_id, start = query(db, "SELECT client_id, start_date FROM clients ORDER BY client_id LIMIT 1")[0]
    days = [start + timedelta(days=n) for n in (1, 2, 3)]
    month = tmp_path / "first" / "extra_sessions.csv"
    month.parent.mkdir()
    month.write_text(_sessions(client_id, days))
    corrected = tmp_path / "second" / "extra_sessions.csv"  # the same name: a corrected version
    corrected.parent.mkdir()
    corrected.write_text(_sessions(client_id, days[:1]))

    with serve(db, log=tmp_path / "server.log") as url:
        page.goto(f"{url}/import")
        page.wait_for_selector("#load-history")
        page.set_input_files("#upload input[type=file]", str(month))
        # A new file: loaded without a question.
        expect(page.locator("#upload-files tbody tr").first).to_contain_text("loaded", timeout=JOB_MS)
        assert _rows_of(db, "extra_sessions.csv") == 3

        # The corrected version: named with its rows before (3) and after (1), nothing loaded yet.
        page.set_input_files("#upload input[type=file]", str(corrected))
        confirm = page.locator("#job-confirm")
        expect(confirm).to_contain_text("This file replaces an earlier version", timeout=JOB_MS)
        assert page.locator("#replace-files tbody tr td").all_inner_texts()[::2] == ["extra_sessions.csv", "3"]
        assert page.locator("#replace-files tbody tr td").all_inner_texts()[3] == "1"
        screenshot(page, "import_replace_confirm")
        page.click("#job-cancel")
        expect(page.locator("#job-cancelled")).to_have_text("Nothing was changed.")
        assert _rows_of(db, "extra_sessions.csv") == 3

        page.set_input_files("#upload input[type=file]", str(corrected))
        page.click("#job-go")
        expect(page.locator("#upload-files tbody tr").first).to_contain_text("replaced", timeout=JOB_MS)
        assert _rows_of(db, "extra_sessions.csv") == 1

        # Undo the replacement from the list of loads: the three rows come back.
        newest = query(db, "SELECT max(run_id) FROM load_runs")[0][0]
        page.click("#loads tbody tr:first-child button:has-text('Undo')")
        expect(page.locator("#job-confirm")).to_contain_text(f"Undo load {newest}")
        page.set_viewport_size({"width": 820, "height": 1000})
        screenshot(page, "import_undo_confirm_tablet")
        page.set_viewport_size({"width": 1280, "height": 900})
        page.click("#job-go")
        expect(page.locator("#undo-result")).to_contain_text(f"undid load {newest}", timeout=JOB_MS)
        assert _rows_of(db, "extra_sessions.csv") == 3
        expect(page.locator("#loads tbody tr").first).to_contain_text(f"undo of load {newest}")
        screenshot(page, "import_after_undo")
        assert page.console_errors == []


def test_the_page_shows_the_result_when_the_server_answers_slower_than_the_poll_ticks(demo_warehouse, tmp_path, page):
    """A busy server (a big load beside it) answers a poll in more than JOB_POLL_MS. Dash drops the answer of a
    callback that is asked again before it has answered: the page must not ask again until it has one."""
    db = copy_warehouse(demo_warehouse, tmp_path / "warehouse" / "hipline.duckdb")
    client_id, start = query(db, "SELECT client_id, start_date FROM clients ORDER BY client_id LIMIT 1")[0]
    file = tmp_path / "slow_day.csv"
    file.write_text(_sessions(client_id, [start + timedelta(days=1)]))
    answer_after_s = 3 * import_files.JOB_POLL_MS / 1000
    answered = []

    def slowly(route):
        time.sleep(answer_after_s)  # the test's own thread: the page's requests wait one after the other
        answered.append(route.request.post_data_json["output"])
        route.continue_()

    with serve(db, log=tmp_path / "server.log") as url:
        page.goto(f"{url}/import")
        page.wait_for_selector("#load-history")
        page.route(re.compile(r"/_dash-update-component"), slowly)
        page.set_input_files("#upload input[type=file]", str(file))
        expect(page.locator("#upload-files tbody tr").first).to_contain_text("loaded", timeout=JOB_MS)
        assert _rows_of(db, "slow_day.csv") == 1
        assert any("import-contents.children" in output for output in answered), "the result came through the poll"


def _big_session_file(path, client_id: str, start) -> int:
    """About BIG_FILE_MB of distinct session-log rows for one client; returns the number of rows."""
    rows = 0
    line_days = [(start + timedelta(days=d)).isoformat() for d in range(60)]
    with open(path, "w") as out:
        out.write("client_id,session_date,attended,exercise,sets,reps,pain_before,pain_during,notes\n")
        while out.tell() < BIG_FILE_MB * 1024 * 1024:
            block = "".join(
                f"{client_id},{line_days[i % 60]},yes,clamshell,2,{i % 30 + 1},3,2,row {rows + i} of a big export\n"
                for i in range(10_000)
            )
            out.write(block)
            rows += 10_000
    return rows


def test_the_server_keeps_answering_while_a_200_mb_upload_loads(demo_warehouse, tmp_path, page):
    db = copy_warehouse(demo_warehouse, tmp_path / "warehouse" / "hipline.duckdb")
    client_id, start = query(db, "SELECT client_id, start_date FROM clients ORDER BY client_id LIMIT 1")[0]
    big = tmp_path / "big_export.csv"
    rows = _big_session_file(big, client_id, start)
    answers: list[float] = []
    stop = threading.Event()

    def probe(url: str) -> None:
        """Another user's requests: one every 200 ms, each timed until its answer."""
        while not stop.is_set():
            asked = time.monotonic()
            try:
                with urllib.request.urlopen(f"{url}/login", timeout=30) as response:
                    response.read()
            except urllib.error.HTTPError:
                pass  # an answer all the same
            answers.append(time.monotonic() - asked)
            stop.wait(max(0.0, PROBE_EVERY_S - (time.monotonic() - asked)))

    with serve(db, env={"HIPLINE_MAX_UPLOAD_MB": str(BIG_FILE_MB + 50)}) as url:
        page.goto(f"{url}/import")
        page.wait_for_selector("#load-history")
        prober = threading.Thread(target=probe, args=(url,), daemon=True)
        prober.start()
        try:
            page.set_input_files("#upload input[type=file]", str(big))
            expect(page.locator("#job-progress")).to_be_visible(timeout=120_000)
            screenshot(page, "import_progress")
            expect(page.locator("#upload-files tbody tr").first).to_contain_text("loaded", timeout=300_000)
        finally:
            stop.set()
            prober.join(timeout=30)
        cells = page.locator("#upload-files tbody tr").first.locator("td").all_inner_texts()
        assert cells[0] == "big_export.csv" and int(cells[3].replace(",", "")) == rows

    print(f"{rows:,} rows; {len(answers)} probe answers, slowest {max(answers):.3f} s")  # for the record (-s)
    assert len(answers) >= 20, "the probe ran all along"
    assert max(answers) < SLOWEST_ANSWER_S, f"slowest answer {max(answers):.2f} s of {len(answers)}"
