"""No leftovers: `kill -9` during an undo leaves the warehouse exactly as it was; loads killed mid-way leave
a stale staging copy and work folder that the next load clears; `kill` (SIGTERM) leaves nothing at all."""

from __future__ import annotations

import fcntl
import hashlib
import os
import random
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from etl.history import history
from tests.conftest import SESSION_HEADER, load_files, query, write

ROW = "C-{client},2026-06-{day:02d},yes,home,bridge,2,2,,10,,both,3,{pain},2,3,5,,{note},"


def _rows(count: int, seed: str) -> str:
    return "\n".join(
        ROW.format(client=1 + i % 2, day=1 + i % 28, pain=i % 10, note=f"{seed}-{i}") for i in range(count)
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _hipline(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hipline.cli", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


def _wait_for(path: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)


def _wait_until_it_holds_the_lock(db: Path, process: subprocess.Popen, seconds: float = 60) -> None:
    """Until the process has taken the warehouse's lock: it is then loading (or undoing). Files a killed
    load left behind say nothing: they are there before the next one starts."""
    lock, deadline = db.with_name(db.name + ".lock"), time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            descriptor = os.open(lock, os.O_RDONLY)
        except FileNotFoundError:  # the process has not made it yet
            time.sleep(0.005)
            continue
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
        except BlockingIOError:
            return
        finally:
            os.close(descriptor)
        time.sleep(0.005)


def _leftovers(db: Path) -> list[str]:
    names = (".new", ".new.wal", ".new.tmp", ".load-work")
    return [db.name + n for n in names if db.with_name(db.name + n).exists()]


def _table_contents(db: Path) -> list:
    return query(
        db,
        "SELECT (SELECT count(*) FROM session_log), (SELECT sum(pain_during) FROM session_log), "
        "(SELECT count(*) FROM session_summary), (SELECT sum(sequence) FROM exposure_summary), "
        "(SELECT count(*) FROM loads), (SELECT count(*) FROM load_runs)",
    )


@pytest.mark.slow
def test_kill_9_during_an_undo_leaves_the_warehouse_exactly_as_it_was(loaded_roster, tmp_path):
    first = write(tmp_path / "v1", "june.csv", SESSION_HEADER + "\n" + _rows(150_000, "a") + "\n")
    second = write(tmp_path / "v2", "june.csv", SESSION_HEADER + "\n" + _rows(150_000, "b") + "\n")
    load_files(loaded_roster, first)
    as_first = _table_contents(loaded_roster)
    replaced = load_files(loaded_roster, second)
    before, contents = _digest(loaded_roster), _table_contents(loaded_roster)

    killed, killed_after_the_swap, rng = 0, False, random.Random(16)
    for moment in (0.05, 0.2, 0.4, 0.6):  # the undo runs for about 1 s once it holds the lock
        delay = moment + rng.uniform(0, 0.05)
        process = _hipline("undo", str(replaced.run_id), "--db", str(loaded_roster))
        _wait_until_it_holds_the_lock(loaded_roster, process)
        time.sleep(delay)
        if process.poll() is not None:  # too late: it finished, so the undo is done
            assert process.wait() == 0, process.stderr.read().decode()
            break
        os.kill(process.pid, signal.SIGKILL)
        if process.wait() == 0:  # it finished between the poll and the kill: the undo is done
            break
        assert process.returncode == -signal.SIGKILL
        if _digest(loaded_roster) != before:  # killed after the swap (auditing, exiting): the undo is whole
            assert history(loaded_roster, limit=1)[0].undoes == replaced.run_id
            killed_after_the_swap = True
            break
        killed += 1
        assert _table_contents(loaded_roster) == contents
    else:
        process = _hipline("undo", str(replaced.run_id), "--db", str(loaded_roster))
        assert process.wait() == 0, process.stderr.read().decode()
    assert killed >= 2, "the undo finished before it could be killed; make the files bigger"
    assert _table_contents(loaded_roster)[0][:4] == as_first[0][:4]
    if killed_after_the_swap:
        # Nothing runs after a kill -9: its work folder stays until the next load takes the lock and clears it.
        row = ROW.format(client=1, day=2, pain=3, note="x")
        small = write(tmp_path, "small.csv", f"{SESSION_HEADER}\n{row}\n")
        assert load_files(loaded_roster, small).files[0].status == "loaded"
    assert _leftovers(loaded_roster) == []


@pytest.mark.slow
def test_after_ten_kill_9_mid_load_the_next_load_leaves_nothing_behind_and_only_owner_only_files(
    loaded_roster, tmp_path
):
    rows = _rows(60_000, "base")
    killed, attempt, rng = 0, 0, random.Random(5)
    while killed < 10:
        attempt += 1
        assert attempt <= 20, f"only {killed} of {attempt - 1} loads could be killed mid-way; make the file bigger"
        path = write(
            tmp_path / f"try{attempt}",
            "june.csv",
            f"{SESSION_HEADER}\n{rows}\n{ROW.format(client=1, day=1, pain=1, note=attempt)}\n",
        )
        before = _digest(loaded_roster)
        process = _hipline("load", "--db", str(loaded_roster), "--today", "2026-06-30", str(path))
        _wait_until_it_holds_the_lock(loaded_roster, process)
        time.sleep(rng.uniform(0, 0.4))
        if process.poll() is not None:
            continue  # it finished: not a kill mid-load
        os.kill(process.pid, signal.SIGKILL)
        if process.wait() == 0:
            continue  # it finished between the poll and the kill: not a kill mid-load
        assert process.returncode == -signal.SIGKILL
        if _digest(loaded_roster) != before:  # killed after the swap: the load is whole, not killed mid-load
            assert history(loaded_roster, limit=1)[0].files[0].sha256 == _digest(path)
            continue
        killed += 1
    assert _leftovers(loaded_roster), "the last kill left the load's folder or staging copy behind"

    small = write(tmp_path, "small.csv", SESSION_HEADER + "\n" + ROW.format(client=1, day=2, pain=3, note="x") + "\n")
    umask = os.umask(0o022)
    try:
        report = load_files(loaded_roster, small)
    finally:
        os.umask(umask)
    assert report.files[0].status == "loaded"
    assert _leftovers(loaded_roster) == []
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in loaded_roster.parent.iterdir()}
    assert modes and all(mode == 0o600 for mode in modes.values()), modes


@pytest.mark.slow
def test_kill_mid_load_leaves_nothing_behind_and_the_warehouse_as_it_was(loaded_roster, tmp_path):
    path = write(tmp_path, "june.csv", SESSION_HEADER + "\n" + _rows(150_000, "t") + "\n")
    before = _digest(loaded_roster)
    process = _hipline("load", "--db", str(loaded_roster), "--today", "2026-06-30", str(path))
    _wait_for(loaded_roster.with_name(loaded_roster.name + ".new"), process)
    time.sleep(0.2)
    assert process.poll() is None, "the load finished before it could be stopped; make the file bigger"
    process.terminate()
    assert process.wait() == 128 + signal.SIGTERM
    assert "Stopped by SIGTERM. A load is all or nothing" in process.stderr.read().decode()
    assert _leftovers(loaded_roster) == []
    assert _digest(loaded_roster) == before
