"""CSV files read while the others are still being staged (etl/read_ahead.py): only files the load will
certainly read, each read once, giving the warehouse what a read in the load's own step gives, and a read
ahead that fails, or a batch before it that fails, costs nothing but the time."""

from __future__ import annotations

import json
import threading
import time

import duckdb
import pytest

import etl.load
import etl.read
import etl.read_ahead
from tests.conftest import SESSION_HEADER, _load_roster, _write_roster, load_files, query, write

ROW = "C-{client},2026-06-{day:02d},yes,{kind},bridge,2,2,,10,none,both,3,{pain},2,3,5,good,{note},S-2"


def _files(folder):
    """Three session logs of one layout (a malformed line and a blank one in the first) and a JSON Lines file
    (staged in Python while the logs are read)."""
    paths = []
    for name, kind, size in (("june_a.csv", "studio", 400), ("june_b.csv", "home", 3), ("june_c.csv", "clinic", 50)):
        rows = [ROW.format(client=1 + i % 2, day=1 + i % 28, kind=kind, pain=i % 10, note=i) for i in range(size)]
        if size > 100:
            rows[10] += ",extra"  # row 12: the reader cannot split it
            rows[20] = ""  # row 22: blank
        paths.append(write(folder, name, "\n".join([SESSION_HEADER, *rows]) + "\n"))
    measures = [
        {"client_id": "C-1", "measured_on": f"2026-06-0{1 + i}", "instrument": "ODI", "score": 30 - i} for i in range(3)
    ]
    paths.append(write(folder, "odi.jsonl", "\n".join(json.dumps(m) for m in measures) + "\n"))
    return paths


@pytest.fixture
def reads(monkeypatch):
    """Every CSV read of the loads in the test: (the thread it ran in, the file names it read)."""
    seen: list[tuple[str, list[str]]] = []
    scan = etl.read.csv_scan

    def recorded(prepared, files, rejects):
        seen.append((threading.current_thread().name, sorted(path.rsplit("/", 1)[1] for path in files)))
        return scan(prepared, files, rejects)

    monkeypatch.setattr(etl.read, "csv_scan", recorded)
    return seen


def _warehouse(db):
    """What a load of `_files` leaves in the views a clinician reads, and its counts."""
    rows = {t: query(db, f"SELECT * FROM {t} ORDER BY ALL") for t in ("session_log", "measures")}
    return rows | {
        "quarantine": query(db, "SELECT source_file, source_row, reason, raw FROM quarantine ORDER BY ALL"),
        "counts": query(db, "SELECT source_file, rows_read, rows_loaded, rows_quarantined FROM loads ORDER BY 1"),
    }


def test_new_csv_files_are_read_once_ahead_and_load_as_a_read_in_their_own_step_loads_them(
    loaded_roster, tmp_path, reads, monkeypatch
):
    report = load_files(loaded_roster, *_files(tmp_path / "files"))
    assert reads == [("read-ahead", ["june_a.csv", "june_b.csv", "june_c.csv"])]
    by_file = {f.file: (f.rows_read, f.rows_loaded, f.rows_quarantined) for f in report.files}
    # june_a: 400 lines, one blank (no row) and one the reader rejects (quarantined): 399 read
    assert by_file == {
        "june_a.csv": (399, 398, 1), "june_b.csv": (3, 3, 0), "june_c.csv": (50, 50, 0), "odi.jsonl": (3, 3, 0)
    }  # fmt: skip
    # each row's note is its index in the file: its spreadsheet row is index + 2
    assert query(
        loaded_roster,
        "SELECT source_file, count(*) FILTER (WHERE source_row = notes::INT + 2), count(*) FROM session_log "
        "GROUP BY 1 ORDER BY 1",
    ) == [("june_a.csv", 398, 398), ("june_b.csv", 3, 3), ("june_c.csv", 50, 50)]
    assert query(loaded_roster, "SELECT source_file, source_row FROM quarantine") == [("june_a.csv", 12)]

    # the same files into the same roster, nothing read ahead: the same warehouse
    read_ahead = _warehouse(loaded_roster)
    other = tmp_path / "other" / "hipline.duckdb"
    _load_roster(other, _write_roster(tmp_path / "roster-again"))
    monkeypatch.setattr(etl.read_ahead.ReadAhead, "start", lambda self, batches: None)
    reads.clear()
    load_files(other, *_files(tmp_path / "files-again"))
    assert reads == [("MainThread", ["june_a.csv", "june_b.csv", "june_c.csv"])]
    assert _warehouse(other) == read_ahead


def test_files_already_in_the_warehouse_are_not_read_ahead(loaded_roster, tmp_path, reads):
    # C-9 is not on the roster: its row is quarantined, and re-checked when a roster file is loaded
    unknown = write(
        tmp_path, "c9.csv", f"{SESSION_HEADER}\n" + ROW.format(client=9, day=2, kind="home", pain=1, note="")
    )
    load_files(loaded_roster, unknown)
    same_bytes = write(tmp_path / "copy", "c9_again.csv", unknown.read_text())
    clients = write(
        tmp_path, "c9_clients.csv", "client_id,start_date,region,sessions_per_week\nC-9,2026-06-01,knee,2\n"
    )
    reads.clear()
    report = load_files(loaded_roster, clients, unknown, same_bytes)
    assert [(f.file, f.status, f.rows_loaded) for f in report.files] == [
        ("c9_clients.csv", "loaded", 1), ("c9.csv", "replaced", 1), ("c9_again.csv", "unchanged", 0)
    ]  # fmt: skip
    # the roster file is new: read ahead; the re-checked log only once it is known to need it
    assert reads == [("read-ahead", ["c9_clients.csv"]), ("MainThread", ["c9.csv"])]


def test_a_read_ahead_that_fails_is_read_again_in_the_files_own_step(loaded_roster, tmp_path, reads, monkeypatch):
    run = etl.read_ahead.run

    def failing(con, sql, params=None):
        if sql.startswith("CREATE TEMP TABLE scanned_ahead"):
            raise duckdb.IOException("the disk was busy")
        return run(con, sql, params)

    monkeypatch.setattr(etl.read_ahead, "run", failing)
    report = load_files(loaded_roster, *_files(tmp_path))
    assert report.all_readable
    assert [(f.file, f.rows_read) for f in report.files] == [
        ("june_a.csv", 399), ("june_b.csv", 3), ("june_c.csv", 50), ("odi.jsonl", 3)
    ]  # fmt: skip
    assert [thread for thread, _ in reads] == ["read-ahead", "MainThread"]
    assert query(loaded_roster, "SELECT source_file, source_row FROM quarantine") == [("june_a.csv", 12)]


def test_a_batch_that_fails_leaves_the_reads_ahead_of_the_batches_after_it(loaded_roster, tmp_path, reads, monkeypatch):
    # a cohort list fails in its load: the session logs after it are loaded from their read ahead, whose
    # table of rejected lines (the malformed line of june_a) must still be there
    insert = etl.load.validation_insert

    def broken_for_cohorts(kind, source, order):
        return "SELECT no_such_column FROM no_such_table" if kind == "cohorts" else insert(kind, source, order)

    monkeypatch.setattr(etl.load, "validation_insert", broken_for_cohorts)
    cohorts = write(
        tmp_path, "cohorts_july.csv", "cohort_id,name,instructor_id,start_date,weeks\nG-7,Knee July,S-2,2026-07-06,8\n"
    )
    report = load_files(loaded_roster, cohorts, *_files(tmp_path / "files")[:3])
    assert [(f.file, f.status) for f in report.files] == [
        ("cohorts_july.csv", "error"), ("june_a.csv", "loaded"), ("june_b.csv", "loaded"), ("june_c.csv", "loaded")
    ]  # fmt: skip
    assert [thread for thread, _ in reads] == ["read-ahead", "read-ahead"]
    assert query(loaded_roster, "SELECT source_file, source_row FROM quarantine") == [("june_a.csv", 12)]
    assert query(loaded_roster, "SELECT count(*) FROM session_log") == [(451,)]


def test_a_load_that_fails_while_a_read_ahead_runs_stops_the_read_and_leaves_the_warehouse_as_it_was(
    loaded_roster, tmp_path, monkeypatch
):
    # the read ahead of the session logs would run for hours; the JSON Lines file fails while it runs
    monkeypatch.setattr(etl.read, "csv_scan", lambda *args: "SELECT count(*) AS n FROM range(1000000000000)")
    prepare = etl.load._prepare

    def failing(target, *args):
        if target.name.endswith(".jsonl"):
            raise RuntimeError("the disk is full")
        return prepare(target, *args)

    monkeypatch.setattr(etl.load, "_prepare", failing)
    before = query(loaded_roster, "SELECT count(*) FROM loads")
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            load_files(loaded_roster, *_files(tmp_path))
        except BaseException as e:  # the test looks at it
            outcome.append(e)

    worker = threading.Thread(target=attempt)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the read ahead was not stopped"
    assert [str(e) for e in outcome] == ["the disk is full"]
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]
    assert query(loaded_roster, "SELECT count(*) FROM loads") == before
    assert sorted(p.name for p in loaded_roster.parent.iterdir()) == ["hipline.duckdb", "hipline.duckdb.lock"]


def test_a_stop_during_the_wait_for_a_read_ahead_still_ends_the_read_before_the_process_may_exit(monkeypatch):
    # A stop (`kill`, Ctrl+C) raises in the main thread while it waits for the read. In Python 3.11 a
    # Thread.join interrupted so marks the thread stopped while DuckDB still reads in it, and a process that
    # then exits aborts (seen: 5 of 30 loads stopped mid-read exited with SIGABRT).
    import signal
    from types import SimpleNamespace

    monkeypatch.setattr(etl.read, "csv_scan", lambda *args: "SELECT count(*) AS n FROM range(1000000000000)")
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    ahead = etl.read_ahead.ReadAhead(con)

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGALRM, stop)
    try:
        ahead.start([[SimpleNamespace(read_path="endless.csv")]])
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(SystemExit):
            ahead.wait()
        ahead.close()
        assert not _reading(within=2.0)  # (not Thread.is_alive: the thread may wrongly say it is stopped)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        while _reading(within=0.05):  # a failed test must not leave the endless read running
            con.interrupt()
        con.close()


def _reading(within: float) -> bool:
    """Whether a read-ahead thread is still there after `within` seconds."""
    deadline = time.monotonic() + within
    while any(t.name == "read-ahead" for t in threading.enumerate()):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.01)
    return False
