"""A clinician's whole caseload as a zip of progress reports (docs/reports.md), one PDF per active client,
most urgent first, with the caseload's numbers as CSV beside them.

How 300 reports fit in a few minutes on two cores, with memory flat:
- the analytics are built once, and each client's report numbers read from them (~0.1 s);
- the charts render in kaleido's Chromium (another process) while the next client's numbers are read;
- WeasyPrint, the slowest step (~0.5 s a report), runs in worker processes that get the HTML and the
  rendered charts and return PDF bytes. They are fresh interpreters ("spawn", not a copy of this
  process with its DuckDB and Chromium threads) and import nothing but the layout code;
- at most two reports per worker are in flight, and each PDF is written to the zip as soon as it is
  next in order, so nothing accumulates.
The zip is written to a ".part" file and renamed when complete: a cancelled or failed export leaves
no half-written zip behind.
"""

from __future__ import annotations

import multiprocessing
import re
import time
import zipfile
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from access.roles import Viewer
from analytics import Analytics, Scope
from analytics.decisions import read_decisions
from analytics.red_flags import load_red_flag_words
from analytics.reviews import read_reviews
from analytics.today import Today
from etl.warehouse import connect_private_reader
from reports import render, tables
from reports.charts import render_later
from reports.client_report import NotFound, ReportError, client_context

# Starting the two layout workers costs about 2.5 s (each imports WeasyPrint and plotly); each saves
# about 0.28 s a report: below ten reports, laying them out here is as quick.
IN_PROCESS_BELOW = 10
WAIT_SECONDS = 120  # for one report's charts or layout: a stuck Chromium or worker ends the export with an error


class Cancelled(Exception):
    """The export was stopped before it finished; no zip was written."""


@dataclass(frozen=True)
class CaseloadZip:
    path: Path
    clients: int  # reports in the zip
    seconds: float
    skipped: int = 0  # clients with nothing in the period asked for (listed in "not included.txt")
    today: date | None = None  # the day the numbers are for


def entry_name(position: int, client: dict) -> str:
    """`001 C-00002 Łukasz Costa.pdf`: in caseload order (most urgent first), readable, safe in a zip."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", str(client["display_name"])).strip()
    return f"{position:03d} {client['client_id']} {name}.pdf"


def write_caseload_zip(
    db: Path,
    staff_id: str | None,
    out: Path,
    *,
    today: Today = None,
    start: date | None = None,
    end: date | None = None,
    paper: str = "a4",
    red_flags: Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    stop: Callable[[], bool] | None = None,
    workers: int = 2,
    viewer: Viewer | None = None,
) -> CaseloadZip:
    """Write the progress report of every active client of `staff_id` (None: every clinician) into
    the zip `out`: only the clients `viewer` may see (docs/security.md#roles-and-what-each-may-do; None: everyone,
    the command line).
    `progress(done, total, name)` is called after each report; when `stop()` returns True the export
    ends with `Cancelled`."""
    started = time.perf_counter()
    words = load_red_flag_words(red_flags)
    part = out.with_name(out.name + ".part")
    out.parent.mkdir(parents=True, exist_ok=True)
    pool = None
    try:
        con = connect_private_reader(db)
        try:
            analytics = Analytics(con, Scope.everyone(), today, words, read_decisions(db), read_reviews(db))
            analytics.prepare_for_pages()  # per-client reads by index, not by scanning
            if viewer is not None:
                analytics = analytics.within(analytics.scope_of(viewer.role, viewer.staff_id))
            if staff_id is not None and staff_id not in _clinicians(analytics, viewer):
                raise NotFound(f"there is no staff member {staff_id!r} on the roster")
            caseload = analytics.caseload(staff_id)
            total = len(caseload)
            if workers > 1 and total >= IN_PROCESS_BELOW:
                pool = _start_workers(workers)
            with zipfile.ZipFile(part, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
                archive.writestr("caseload.csv", _caseload_csv(analytics, staff_id))
                report = (start, end, paper)
                skipped = _write_reports(analytics, caseload, archive, pool, report, progress, stop, 2 * workers)
        finally:
            con.close()
        part.replace(out)
        return CaseloadZip(out, total - skipped, time.perf_counter() - started, skipped, analytics.today)
    finally:
        part.unlink(missing_ok=True)
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _clinicians(analytics: Analytics, viewer: Viewer | None) -> set[str]:
    """Whose caseload may be asked for: anyone on the roster from the command line; on the pages, the
    clinicians of the clients the viewer may see (a clinician outside reads as one not on the roster)."""
    staff = analytics.staff()
    if viewer is None:
        return set(staff["staff_id"])
    return set(staff.loc[staff["active_clients"] > 0, "staff_id"])


def _start_workers(workers: int) -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    for ready in [pool.submit(render.warm) for _ in range(workers)]:
        ready.result(timeout=WAIT_SECONDS)
    return pool


def _caseload_csv(analytics: Analytics, staff_id: str | None) -> str:
    caseload = tables.caseload_tables(analytics, staff_id)["caseload"]
    return tables.printable(caseload).to_csv(index=False, date_format="%Y-%m-%d")


def _write_reports(analytics, caseload, archive, pool, report: tuple, progress, stop, in_flight: int) -> int:
    """Each client's report into the zip, in caseload order; returns how many had none to make."""
    start, end, paper = report
    total = len(caseload)
    pending: deque[tuple[str, str, Future]] = deque()  # (zip entry, client name, PDF bytes)
    done = 0

    skipped: list[str] = []

    def tick(name: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, name)

    def write_oldest() -> None:
        entry, name, document = pending.popleft()
        archive.writestr(entry, document.result(timeout=WAIT_SECONDS))
        tick(name)

    waiting = None  # the previous client's HTML while its charts render
    for position, client in enumerate(caseload.to_dict("records"), start=1):
        if stop is not None and stop():
            raise Cancelled(f"stopped after {done} of {total} reports")
        try:
            context = client_context(analytics, client["client_id"], start, end)
        except ReportError as why:  # e.g. --to before this client's episode began: nothing to report
            skipped.append(f"{client['client_id']} {client['display_name']}: {why}")
            tick(client["display_name"])
            continue
        charts = context["charts"]
        current = (entry_name(position, client), client["display_name"], render.html("client.html", context),
                   list(charts), render_later(list(charts.values())))  # fmt: skip
        if waiting is not None:
            pending.append(_lay_out(pool, waiting, paper))
        waiting = current
        while len(pending) > in_flight or (pending and pending[0][2].done()):
            write_oldest()
    if waiting is not None:
        pending.append(_lay_out(pool, waiting, paper))
    while pending:
        if stop is not None and stop():
            raise Cancelled(f"stopped after {done} of {total} reports")
        write_oldest()
    if skipped:
        archive.writestr("not included.txt", "No progress report for:\n" + "\n".join(skipped) + "\n")
    return len(skipped)


def _lay_out(pool: ProcessPoolExecutor | None, waiting: tuple, paper: str) -> tuple[str, str, Future]:
    entry, name, document, names, rendering = waiting
    svgs = rendering.result(timeout=WAIT_SECONDS)
    if pool is not None:
        return entry, name, pool.submit(render.pdf_of, document, names, svgs, paper)
    finished: Future = Future()
    finished.set_result(render.pdf_of(document, names, svgs, paper))
    return entry, name, finished
