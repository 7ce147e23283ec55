"""Loads and undos started from the import page, each in a process of its own (etl/load_job.py).

The request that starts one returns at once; the page then asks for the job's state every half
second. Every worker process of the server can answer that (the job's folder is under the jobs
folder of the warehouse), and none of them waits for the load: the other users' pages keep being
answered while it runs.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dashboard.exports import jobs_folder
from etl import load_job
from etl.load_job import JobFolder, read_json, write_json
from etl.settings import Settings

OWNER = "owner.json"  # who made the job
TAKEN = "result.taken"  # result.json once a request has shown it
START_SECONDS = 60  # a job that has not started its process by then never will
JOB_ID_BYTES = 16  # the id is the job's only key: unguessable, like a session id


@dataclass(frozen=True)
class JobState:
    """How far a job has got: `state` is waiting (for another load), running, done or failed."""

    state: str
    done_bytes: int = 0
    total_bytes: int = 0
    file: str | None = None
    result: dict | None = None  # done or failed: result.json

    @property
    def finished(self) -> bool:
        return self.state in ("done", "failed")

    @property
    def fraction(self) -> float:
        return min(self.done_bytes / self.total_bytes, 1.0) if self.total_bytes else 0.0


def _root(db: Path) -> Path:
    root = jobs_folder(db) / "loads"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def new_job(db: Path, username: str) -> tuple[str, JobFolder]:
    """A fresh, empty job folder (0700) of `username`'s, with a files/ folder for the uploads."""
    root = _root(db)
    load_job.remove_forgotten(root)
    job_id = secrets.token_urlsafe(JOB_ID_BYTES)
    folder = JobFolder(root / job_id)
    folder.path.mkdir(mode=0o700)
    folder.files.mkdir(mode=0o700)
    write_json(folder.path / OWNER, {"username": username})
    return job_id, folder


def find_job(db: Path, job_id: str | None, username: str) -> JobFolder | None:
    """The folder of a job by its id, when `username` made it (only they may start it, follow it and see
    its report); None otherwise, or for an id that is not one (or no longer is)."""
    if not job_id or not all(c.isalnum() or c in "-_" for c in job_id):
        return None
    folder = JobFolder(_root(db) / job_id)
    owner = (read_json(folder.path / OWNER) or {}).get("username")
    return folder if owner is not None and owner == username else None


def start(
    folder: JobFolder, db: Path, settings: Settings, loaded_by: str, action: str = "load", load: int | None = None
) -> None:
    """Start the job of `folder` in a new process: a load of its files/, or the undo of load `load`."""
    loading = {"date_order": settings.date_order, "memory_limit": settings.memory_limit,
               "max_cell_chars": settings.max_cell_chars}  # fmt: skip
    if action == "undo":
        loading = {"memory_limit": settings.memory_limit}
    write_json(folder.job, {"action": action, "db": str(db), "loaded_by": loaded_by, "settings": loading, "load": load})
    log = os.open(folder.path / "log.txt", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    # A clinic network's load publishes to PostgreSQL (etl/publish.py): the job is told where through its
    # environment, as a command would be, so that the password is written in no job file.
    network = {**os.environ, "HIPLINE_DATABASE_URL": settings.database_url} if settings.database_url else None
    try:
        subprocess.Popen(
            [sys.executable, "-m", "etl.load_job", str(folder.path)],
            env=network,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # a server that stops (or a worker that is recycled) leaves the load to finish
            close_fds=True,
        )
    finally:
        os.close(log)


def take_result(folder: JobFolder) -> tuple[dict | None, bool]:
    """The result of a finished job, and whether this request is the first to take it (the rename is
    atomic: only one request is). A page asks one question at a time, but may ask again after an
    answer it never got (a dropped connection, a reload), so every request is given the result; only
    the first one audits it. The folder goes a few minutes later (`load_job.remove_forgotten`)."""
    taken = folder.path / TAKEN
    try:
        os.rename(folder.result, taken)
        first = True
    except FileNotFoundError:
        first = False
    return read_json(taken), first


def state(folder: JobFolder) -> JobState:
    """The job's state from its files. A job whose process is gone without a result (killed: the
    warehouse is as it was) or never started has failed, and says so in a result of its own."""
    result = read_json(folder.result) or read_json(folder.path / TAKEN)
    if result is not None:
        return JobState("done" if result.get("ok") else "failed", result=result)
    progress = read_json(folder.progress) or {"state": "waiting"}
    pid = (read_json(folder.pid) or {}).get("pid")
    gone = None
    if pid is None and _age(folder.job) > START_SECONDS:
        gone = "the load could not start (the server's log says why)"
    elif pid is not None and not _alive(pid) and read_json(folder.result) is None:
        gone = "the load stopped before it finished; the warehouse is as it was"
    if gone is not None:
        write_json(folder.result, {"ok": False, "error": gone})
        return state(folder)
    return JobState(
        progress.get("state", "waiting"), progress.get("done_bytes", 0), progress.get("total_bytes", 0),
        progress.get("file"),
    )  # fmt: skip


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process has that id now
        return False
    # A finished child is a zombie until its parent reaps it: reap it when it is this process's; when
    # another worker of the server started it, ask the kernel whether it is one.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not _zombie(pid)
    return done == 0


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone meanwhile, or no /proc: what kill(pid, 0) said stands
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"
