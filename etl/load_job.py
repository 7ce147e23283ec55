"""A load (or an undo) asked for on the import page, run in a process of its own.

Why a process: a load keeps a core busy for seconds to minutes, and parts of it hold Python's lock
(reading a workbook, building the report). Run inside the web server it would slow or stall every
other request; run here, the server only starts it and reads how far it has got.

The page and this process talk through files in the job's folder (0700, files 0600: it holds the
uploaded data):

    job.json       what to do: {"action": "load" | "undo", "db", "loaded_by", "settings": {...},
                   "load": LOAD (undo)}; the uploaded files are in files/
    progress.json  how far it has got: {"state": "waiting" | "running", "done_bytes", "total_bytes",
                   "file"}, rewritten atomically as each group of files starts and ends
    result.json    the outcome, written once at the end: {"ok": true, "report": ..., "quarantined": [...]}
                   or {"ok": false, "error": "..."}
    pid            this process's id, so that the page can tell a job that died without a word

The uploaded files are deleted as soon as the load has read them (whatever the outcome); the folder
itself, with the result, is removed by the next job a few minutes after the page has shown the
result, or a day after the job ended if nobody came back for it (`remove_forgotten`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from etl.history import UndoRefused, undo
from etl.load import load
from etl.settings import Settings
from etl.summary import quarantined_rows

ROWS_SHOWN = 200  # quarantined rows per file in the result; the quarantine on the page lists them all
FORGOTTEN_AFTER_S = 24 * 3600  # a job folder nobody came back for is removed after a day
SHOWN_KEPT_S = 300  # a shown result is kept a little while, for a page's second poll that crossed the first


@dataclass(frozen=True)
class JobFolder:
    """The folder of one job and the files in it."""

    path: Path

    @property
    def files(self) -> Path:
        return self.path / "files"

    @property
    def job(self) -> Path:
        return self.path / "job.json"

    @property
    def progress(self) -> Path:
        return self.path / "progress.json"

    @property
    def result(self) -> Path:
        return self.path / "result.json"

    @property
    def pid(self) -> Path:
        return self.path / "pid"

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def write_json(path: Path, data: dict) -> None:
    """Write `data` so that a reader sees the old file or the new one, never half of it; 0600."""
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        json.dump(data, f, default=str)
    os.replace(partial, path)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):  # not written yet (a reader never sees half a file)
        return None


class _FileProgress:
    """etl.load's Progress, written to progress.json."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = {"state": "running", "done_bytes": 0, "total_bytes": 0, "file": None}
        self.current = 0

    def _write(self) -> None:
        write_json(self.path, self.state)

    def waiting(self) -> None:
        self.state["state"] = "waiting"
        self._write()

    def begin(self, total_bytes: int) -> None:
        self.state.update(state="running", total_bytes=total_bytes)
        self._write()

    def file_started(self, name: str, size: int) -> None:
        self.current = size
        self.state["file"] = name
        self._write()

    def file_done(self) -> None:
        self.state["done_bytes"] += self.current
        self.current = 0
        self._write()


def run(folder: JobFolder, database_url: str | None = None) -> dict:
    """Do the job of `folder` and write its result; the result is returned too. `database_url`: a clinic
    network's PostgreSQL, where the load is published (etl/publish.py)."""
    os.umask(0o077)
    job = read_json(folder.job) or {}
    progress = _FileProgress(folder.progress)
    db, settings = Path(job["db"]), job.get("settings", {})
    try:
        if job["action"] == "undo":
            report = undo(db, int(job["load"]), loaded_by=job.get("loaded_by"), on_wait=progress.waiting,
                          database_url=database_url, **settings)  # fmt: skip
            result = {"ok": True, "undo": report.as_dict()}
        else:
            report = load(db, sorted(folder.files.iterdir()), loaded_by=job.get("loaded_by"), progress=progress,
                          on_wait=progress.waiting, database_url=database_url, **settings)  # fmt: skip
            shutil.rmtree(folder.files, ignore_errors=True)
            quarantined = [
                list(row)
                for f in report.files
                if f.rows_quarantined and not f.error and f.status in ("loaded", "replaced")
                for row in quarantined_rows(db, f.file, ROWS_SHOWN)
            ]
            result = {"ok": True, "report": report.as_dict(), "quarantined": quarantined}
    except UndoRefused as e:
        result = {"ok": False, "error": str(e)}
    except Exception as e:  # the page says what went wrong; the details go to the server's log
        traceback.print_exc()
        result = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    finally:
        shutil.rmtree(folder.files, ignore_errors=True)
    write_json(folder.result, result)
    return result


def remove_forgotten(root: Path, now: float | None = None) -> None:
    """Remove the job folders under `root` whose result was shown a few minutes ago, or never read
    back a day after the job finished (they hold client data: nothing stays longer than it is needed)."""
    now = time.time() if now is None else now
    for path in root.glob("*"):
        folder = JobFolder(path)
        for result, kept_for in ((path / "result.taken", SHOWN_KEPT_S), (folder.result, FORGOTTEN_AFTER_S)):
            try:
                if now - result.stat().st_mtime > kept_for:
                    folder.remove()
            except FileNotFoundError:
                continue


def main(argv: list[str]) -> int:
    folder = JobFolder(Path(argv[0]))
    write_json(folder.pid, {"pid": os.getpid()})
    # The job's process is an edge like a command: its one setting of its own is read here, once.
    result = run(folder, Settings.from_env(os.environ).database_url)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
