"""The caseload's zip of progress reports, made in a fresh Python process (no dash here: this module is
what that process imports).

Why a fresh process: Dash runs a background callback in a *fork* of the server process. A fork copies
the server's memory but not its threads: any lock another thread held at the fork stays held (the
reports' chart renderer, `reports.charts`, forgets its thread and Chromium in a fork, but DuckDB,
Flask and the pages' caches hold threads and locks too). So the forked job only relays: it starts this module's
`_work` with "spawn", passes on each client done to the progress bar, and asks it to stop (between two
clients) when the job ends early. Cancel on the page kills the forked job and, with it, every process
it started (Dash's DiskcacheManager kills the whole tree).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from access.roles import Viewer
from analytics.today import Today

POLL_SECONDS = 0.25
STOP_GRACE_SECONDS = 20  # a stop is seen between two clients: a report takes about a second


class ZipStopped(Exception):
    """`stop()` returned True: the reports were not all made, and no zip was kept."""


class ZipFailed(Exception):
    """The zip could not be made. `readable`: the message says why in words (an unknown clinician, a
    warehouse that is not there); otherwise it is the traceback, for the server's log. `not_found`: the
    clinician asked for is not one the viewer may see (or not on the roster)."""

    def __init__(self, message: str, readable: bool, not_found: bool = False) -> None:
        super().__init__(message)
        self.readable = readable
        self.not_found = not_found


@dataclass(frozen=True)
class ZipMade:
    path: Path
    clients: int
    seconds: float
    today: date  # the day the numbers are for


def make_caseload_zip(
    db: Path,
    staff_id: str | None,
    out: Path,
    *,
    today: Today,
    paper: str,
    red_flags: Path | None,
    progress: Callable[[int, int, str], None],
    stop: Callable[[], bool],
    viewer: Viewer,
) -> ZipMade:
    """`reports.caseload.write_caseload_zip` in a fresh process, of the clients `viewer` may see;
    `progress(done, total, name)` after each client, here. Raises ZipStopped when `stop()` turned True,
    ZipFailed when the zip could not be made."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    stopping = context.Event()
    worker = context.Process(
        target=_work,
        args=(messages, stopping, os.getpid(), db, staff_id, out, today, paper, red_flags, viewer),
        name="hipline-caseload-zip",
    )
    worker.start()
    try:
        while True:
            if stop():
                raise ZipStopped()
            try:
                message = messages.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not worker.is_alive():
                    ended = f"the process making the reports ended (exit code {worker.exitcode})"
                    raise ZipFailed(ended, False) from None
                continue
            kind, *details = message
            if kind == "progress":
                progress(*details)
            elif kind == "done":
                return ZipMade(out, *details)
            elif kind == "stopped":
                raise ZipStopped()
            else:
                raise ZipFailed(*details)
    finally:
        _end(worker, stopping)


def _end(worker, stopping) -> None:
    """Let the worker stop between two clients (it removes its partial zip and its own workers);
    if it does not within the grace period, end it and everything it started."""
    if not worker.is_alive():
        worker.join()
        return
    stopping.set()
    worker.join(STOP_GRACE_SECONDS)
    if worker.is_alive():
        import psutil

        try:
            for process in [*psutil.Process(worker.pid).children(recursive=True), psutil.Process(worker.pid)]:
                process.kill()
        except psutil.NoSuchProcess:
            pass
        worker.join(5)


def _work(messages, stopping, parent: int, db, staff_id, out, today, paper, red_flags, viewer) -> None:
    """In the fresh process: make the zip, saying how far it is; stop when asked or when the process that
    started this one is gone."""
    from reports.caseload import Cancelled, write_caseload_zip
    from reports.client_report import NotFound, ReportError

    try:
        made = write_caseload_zip(
            Path(db),
            staff_id,
            Path(out),
            today=today,
            paper=paper,
            red_flags=red_flags,
            progress=lambda done, total, name: messages.put(("progress", done, total, name)),
            stop=lambda: stopping.is_set() or os.getppid() != parent,
            viewer=viewer,
        )
        messages.put(("done", made.clients, made.seconds, made.today))
    except Cancelled:
        messages.put(("stopped",))
    except NotFound as error:
        messages.put(("failed", str(error), True, True))
    except ReportError as error:
        messages.put(("failed", str(error), True))
    except FileNotFoundError as error:
        messages.put(("failed", f"the warehouse file is not there ({error.filename or db})", True))
    except Exception:
        messages.put(("failed", traceback.format_exc(), False))
