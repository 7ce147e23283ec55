"""A load is all or nothing: `kill -9` mid-load leaves the warehouse as it was, and readers never see
half a load or an error while one runs."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests.conftest import SESSION_HEADER, load_files, query, write

ROW = "C-{client},2026-06-{day:02d},yes,home,bridge,2,2,,10,,both,3,{pain},2,3,5,,{note},"


def _big_session_file(folder: Path, name: str, rows: int, seed: int) -> Path:
    lines = [ROW.format(client=1 + i % 2, day=10 + i % 20, pain=i % 10, note=f"{seed}-{i}") for i in range(rows)]
    return write(folder, name, SESSION_HEADER + "\n" + "\n".join(lines) + "\n")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _start_load(db: Path, *paths: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hipline.cli",
            "load",
            "--db",
            str(db),
            "--today",
            "2026-06-30",
            "--json",
            *map(str, paths),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_kill_9_mid_load_leaves_the_warehouse_unchanged_and_a_rerun_completes(loaded_roster, tmp_path):
    small = write(tmp_path, "small.csv", SESSION_HEADER + "\n" + ROW.format(client=1, day=1, pain=3, note="x") + "\n")
    load_files(loaded_roster, small)
    before_bytes = _digest(loaded_roster)
    before_rows = query(loaded_roster, "SELECT count(*) FROM session_log")
    files = [_big_session_file(tmp_path / "big", f"week{i}.csv", 250_000, i) for i in range(3)]

    process = _start_load(loaded_roster, *files)
    staging = loaded_roster.with_name(loaded_roster.name + ".new")
    deadline = time.monotonic() + 60
    while not staging.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.5)  # well inside the load: it takes several seconds
    assert process.poll() is None, "the load finished before it could be killed; make the files bigger"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL

    assert _digest(loaded_roster) == before_bytes, "the live warehouse file was not touched"
    assert query(loaded_roster, "SELECT count(*) FROM session_log") == before_rows

    rerun = load_files(loaded_roster, *files)
    assert [f.status for f in rerun.files] == ["loaded"] * 3
    assert query(loaded_roster, "SELECT count(*) FROM session_log") == [(before_rows[0][0] + 750_000,)]
    assert not staging.exists()


@pytest.mark.slow
def test_a_reader_querying_while_a_load_runs_sees_the_old_or_the_new_warehouse(loaded_roster, tmp_path):
    files = [_big_session_file(tmp_path / "big", f"week{i}.csv", 150_000, i) for i in range(3)]
    old = query(loaded_roster, "SELECT (SELECT count(*) FROM session_log), (SELECT count(*) FROM loads)")[0]
    new = (old[0] + 450_000, old[1] + 3)
    process = _start_load(loaded_roster, *files)
    seen, errors = set(), []
    while process.poll() is None:
        try:
            con = duckdb.connect(str(loaded_roster), read_only=True)
            seen.add(
                con.execute("SELECT (SELECT count(*) FROM session_log), (SELECT count(*) FROM loads)").fetchall()[0]
            )
            con.close()
        except duckdb.Error as e:  # any error is a failure: collect it to show them all
            errors.append(str(e))
    assert process.returncode == 0, process.stderr.read().decode()
    final = duckdb.connect(str(loaded_roster), read_only=True)
    seen.add(final.execute("SELECT (SELECT count(*) FROM session_log), (SELECT count(*) FROM loads)").fetchall()[0])
    final.close()
    assert errors == []
    assert seen <= {old, new}, f"half-loaded states seen: {seen - {old, new}}"
    assert seen == {old, new}, "the reader queried both before and after the swap"


def test_a_second_load_waits_for_the_first(loaded_roster, tmp_path):
    import fcntl

    lock_path = loaded_roster.with_name(loaded_roster.name + ".lock")
    waited = []
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        import threading

        from etl.load import load

        path = write(tmp_path, "s.csv", SESSION_HEADER + "\n" + ROW.format(client=1, day=1, pain=3, note="x") + "\n")
        worker = threading.Thread(target=lambda: load(loaded_roster, [path], on_wait=lambda: waited.append(True)))
        worker.start()
        time.sleep(0.5)
        assert waited == [True] and worker.is_alive()
        fcntl.flock(lock, fcntl.LOCK_UN)
    worker.join(timeout=30)
    assert query(loaded_roster, "SELECT count(*) FROM session_log") == [(1,)]
