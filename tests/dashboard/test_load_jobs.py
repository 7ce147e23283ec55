"""A load started from the import page, seen from the page's side (dashboard/load_jobs.py): its state read
from the job's folder, and a job whose process died without a word."""

from __future__ import annotations

import subprocess
import sys
import time

from dashboard import load_jobs
from etl.load_job import write_json


def _job(tmp_path, pid: int) -> load_jobs.JobFolder:
    folder = load_jobs.JobFolder(tmp_path / "job")
    folder.path.mkdir()
    write_json(folder.job, {"action": "load", "loaded_by": "admin"})
    write_json(folder.pid, {"pid": pid})
    return folder


def test_a_running_job_reports_its_progress(tmp_path):
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        folder = _job(tmp_path, running.pid)
        write_json(folder.progress, {"state": "running", "done_bytes": 25, "total_bytes": 100, "file": "a.csv"})
        state = load_jobs.state(folder)
        assert (state.state, state.fraction, state.file, state.finished) == ("running", 0.25, "a.csv", False)
    finally:
        running.kill()
        running.wait()


def test_a_job_whose_process_died_without_a_result_has_failed_and_says_the_warehouse_is_as_it_was(tmp_path):
    died = subprocess.Popen([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"])
    died.wait()
    folder = _job(tmp_path, died.pid)

    state = load_jobs.state(folder)

    assert state.state == "failed"
    assert state.result == {"ok": False, "error": "the load stopped before it finished; the warehouse is as it was"}
    result, first = load_jobs.take_result(folder)
    assert (result, first) == (state.result, True)
    assert load_jobs.take_result(folder) == (state.result, False), "a second poll gets it too, not audited again"


def test_a_job_of_another_worker_that_ended_as_a_zombie_is_not_running(tmp_path):
    """A worker that started the job has not reaped it yet: to any other worker it is not a live load."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    time.sleep(1)  # ended, not reaped: a zombie
    try:
        assert load_jobs._zombie(ended.pid)
    finally:
        ended.wait()
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not load_jobs._zombie(running.pid)
    finally:
        running.kill()
        running.wait()
