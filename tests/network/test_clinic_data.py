"""The clinic data in a clinic network: a load validated in a local DuckDB copy is published to PostgreSQL
(etl/publish.py), and each host's copy made again from PostgreSQL (etl/replica.py) holds the same
warehouse, numbers and recommendations as one machine that loaded the same files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest

from analytics import Analytics, Scope
from analytics.export import metric_tables
from analytics.today import NEWEST
from etl import postgres, publish, records, replica, warehouse
from etl.history import history, undo
from etl.load import load
from tests.conftest import CLIENTS_CSV, COHORTS_CSV, STAFF_CSV, load_files, query, write
from tests.etl.test_undo import JUNE, JUNE_CORRECTED, _sessions
from tests.reports.pdfs import hipline, pdf_text

HISTORY_TIMES = {"loads": ("started", "finished"), "load_runs": ("started", "finished")}
SECONDS = 60  # the most any wait of these tests may take


@pytest.fixture
def network(postgres_url: str) -> str:
    """A clinic network's PostgreSQL with its schema and nothing published."""
    postgres.upgrade(postgres_url)
    return postgres_url


def _rows(db: Path, table: str, without: tuple[str, ...] = ()) -> list[tuple]:
    """A table's rows in a fixed order (the order DuckDB stored them in does not matter)."""
    columns = f"* EXCLUDE ({', '.join(without)})" if without else "*"
    return query(db, f"SELECT {columns} FROM {table} ORDER BY ALL")


def _same_clinic_data(one: Path, other: Path, *, times: bool = True) -> None:
    """Every table of the clinic data holds the same rows in both warehouses, as many times each
    (`times`: the history's timestamps too, which two loads of the same files at different moments do
    not share)."""
    con = duckdb.connect(":memory:", config=warehouse.CONFIG)
    try:
        con.execute("ATTACH ? AS one (READ_ONLY)", [str(one)])
        con.execute("ATTACH ? AS other (READ_ONLY)", [str(other)])
        for table in replica.CLINIC_TABLES:
            without = () if times else HISTORY_TIMES.get(table, ())
            columns = f"* EXCLUDE ({', '.join(without)})" if without else "*"
            a, b = f"SELECT {columns} FROM one.{table}", f"SELECT {columns} FROM other.{table}"
            counts = con.execute(f"SELECT (SELECT count(*) FROM one.{table}), (SELECT count(*) FROM other.{table})")
            assert len(set(counts.fetchall()[0])) == 1, table
            assert con.execute(f"({a} EXCEPT ALL {b}) UNION ALL ({b} EXCEPT ALL {a})").fetchall() == [], table
    finally:
        con.close()


def _network_hashes(url: str) -> dict[str, str]:
    """An md5 of each table's rows in PostgreSQL, and data_version."""
    with psycopg.connect(url) as con:
        hashes = {
            table: con.execute(
                f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {table} AS t"
            ).fetchone()[0]
            for table in (*replica.CLINIC_TABLES, "published_changes")
        }
        hashes["data_version"] = con.execute("SELECT version FROM data_version").fetchone()[0]
    return hashes


def _roster(folder: Path) -> list[Path]:
    return [
        write(folder, "staff.csv", STAFF_CSV),
        write(folder, "cohorts.csv", COHORTS_CSV),
        write(folder, "clients.csv", CLIENTS_CSV),
    ]


def test_the_schema_in_postgres_has_every_table_of_the_warehouse_with_its_columns(network, tmp_path):
    con = duckdb.connect(":memory:", config=warehouse.CONFIG)
    replica.create_copy_schema(con)
    as_postgres = {"VARCHAR": "text", "INTEGER": "integer", "BIGINT": "bigint", "DOUBLE": "double precision",
                   "DATE": "date", "TIMESTAMP": "timestamp without time zone", "BOOLEAN": "boolean",
                   "DOUBLE[]": "ARRAY", "VARCHAR[]": "ARRAY", "UBIGINT": "numeric"}  # fmt: skip
    base_tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    # the copy's version and its record of its own schema are the host's, not clinic data
    assert base_tables - {replica.VERSION_TABLE, warehouse.SCHEMA_CATALOG} == set(replica.CLINIC_TABLES)
    with psycopg.connect(network) as pg:
        for table in replica.CLINIC_TABLES:
            expected = [(name, as_postgres[kind]) for name, kind in replica.columns(con, table)]
            found = pg.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
            assert found == expected, table
    con.close()


def test_a_load_through_postgres_gives_one_machines_warehouse_numbers_recommendations_and_reports(
    network, demo_files, demo_warehouse, tmp_path, monkeypatch
):
    one_machine = demo_warehouse  # the demo's files loaded on one machine
    host_a, host_b = (tmp_path / name / "hipline.duckdb" for name in ("a", "b"))
    report = load(host_a, [demo_files], database_url=network)
    assert report.all_readable and report.run_id == 1
    assert replica.refresh(host_b, network) is True  # host B had no copy: made from PostgreSQL
    assert replica.local_version(host_a) == replica.local_version(host_b) == replica.network_version(network) == 1
    assert replica.refresh(host_b, network) is False  # current: nothing to do

    _same_clinic_data(host_a, host_b)  # the loading host's copy and the one made from PostgreSQL: identical
    _same_clinic_data(one_machine, host_b, times=False)
    with psycopg.connect(network) as pg:
        for table in ("session_log_rows", "exposure_summary", "loads"):
            assert (
                pg.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                == query(one_machine, f"SELECT count(*) FROM {table}")[0][0]
            )

    def numbers(db: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
            return metric_tables(analytics), analytics.recommendations()

    (embedded_metrics, embedded_steps), (network_metrics, network_steps) = numbers(one_machine), numbers(host_b)
    assert embedded_metrics.keys() == network_metrics.keys()
    for name, table in embedded_metrics.items():
        pd.testing.assert_frame_equal(table, network_metrics[name], obj=name)
    assert len(embedded_steps) > 100  # 120 clients' ladders: the comparison compares something
    pd.testing.assert_frame_equal(embedded_steps, network_steps)

    # A client's progress report, made by `hipline report` on each store, reads the same word for word.
    client_id = embedded_steps["client_id"].value_counts().index[0]
    texts = []
    for db, url in ((one_machine, None), (host_b, network)):
        if url:
            monkeypatch.setenv("HIPLINE_DATABASE_URL", url)
        pdf = tmp_path / f"report-{len(texts)}.pdf"
        done = hipline("report", "--db", str(db), "--today", "newest", "--client", client_id, "--out", str(pdf))
        assert done.returncode == 0, done.stdout + done.stderr
        texts.append(pdf_text(pdf))
    records.forget_readers()
    assert "Progress report" in texts[0]  # a report, not an error page
    assert texts[0] == texts[1]


def _xmins(url: str, table: str) -> set[str]:
    """The transactions that wrote a table's rows now in PostgreSQL (a row sent again gets a new one)."""
    with psycopg.connect(url) as pg:
        return {x for (x,) in pg.execute(f"SELECT DISTINCT xmin::text FROM {table}")}


def _fetches(monkeypatch) -> dict[str, str]:
    """The tables a refresh fetches from now on, each with the condition it fetched its rows by ('': all)."""
    fetched: dict[str, str] = {}
    fetch = replica._fetch

    def spy(cursor, con, table, where=""):
        fetched[table] = where
        fetch(cursor, con, table, where)

    monkeypatch.setattr(replica, "_fetch", spy)
    return fetched


def test_a_replacement_and_an_undo_are_published_and_every_copy_follows(network, tmp_path, monkeypatch):
    """Host A loads June, host B the corrected June (its copy first brought to version 1), host A undoes
    B's load (its copy first brought to version 2); one machine does the same. After each step both
    copies hold what the one machine holds, and only what changed was sent."""
    roster = _roster(tmp_path / "roster")
    june = _sessions(tmp_path / "v1", "june.csv", JUNE)
    corrected = _sessions(tmp_path / "v2", "june.csv", JUNE_CORRECTED)
    one_machine, host_a, host_b = (tmp_path / name / "hipline.duckdb" for name in ("one", "a", "b"))

    load_files(one_machine, *roster, june)
    load_files(host_a, *roster, june, database_url=network)
    roster_written = _xmins(network, "clients_rows")
    library_written = _xmins(network, "exercise_levels")

    load_files(one_machine, corrected)
    replaced = load_files(host_b, corrected, database_url=network)
    assert replaced.run_id == 2 and replaced.files[0].status == "replaced"  # B's copy knew load 1
    assert replica.local_version(host_b) == replica.network_version(network) == 2
    # The roster and the library did not change: PostgreSQL's rows are the ones load 1 wrote.
    assert _xmins(network, "clients_rows") == roster_written
    assert _xmins(network, "exercise_levels") == library_written
    with psycopg.connect(network) as pg:
        # June's first version went to the archive, the corrected one is in: 7 rows loaded + 1 quarantined.
        assert pg.execute("SELECT count(*) FROM archived_session_log_rows").fetchone()[0] == len(JUNE)
        assert pg.execute("SELECT count(*) FROM session_log_rows").fetchone()[0] == len(JUNE_CORRECTED)

    undo(one_machine, 2)
    assert replica.local_version(host_a) == 1
    undone = undo(host_a, 2, database_url=network)
    assert undone.run_id == 3 and [f.file for f in undone.put_back] == ["june.csv"]
    fetched = _fetches(monkeypatch)
    assert replica.refresh(host_b, network) is True
    # B fetched only what the undo changed: June's versions moved between the tables, and the sessions of
    # the days concerned; nothing of the roster or the library.
    assert {"session_log_rows", "archived_session_log_rows", "loads", "load_runs", "load_changes"} <= set(fetched)
    assert not {"clients_rows", "staff_rows", "exercise_levels", "instruments"} & set(fetched)
    assert all(where for table, where in fetched.items() if table.endswith("_rows"))
    for host in (host_a, host_b):
        assert replica.local_version(host) == 3
        _same_clinic_data(one_machine, host, times=False)
    _same_clinic_data(host_a, host_b)
    # A and B brought their copies up by fetching what each version changed; a new host fetches everything.
    host_c = tmp_path / "c" / "hipline.duckdb"
    replica.refresh(host_c, network)
    _same_clinic_data(host_b, host_c)
    assert [(e.load, e.action, e.undone_by) for e in history(host_b)] == [(3, "undo", None), (2, "load", 3),
                                                                         (1, "load", None)]  # fmt: skip


def _hipline(db: Path, url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "hipline.cli", *args, "--db", str(db)],
        env={**os.environ, "HIPLINE_DATABASE_URL": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"waited {SECONDS} s for {what}"
        time.sleep(0.05)


def test_a_load_killed_before_its_commit_leaves_postgres_as_it_was(network, tmp_path):
    roster = _roster(tmp_path / "roster")
    host = tmp_path / "a" / "hipline.duckdb"
    load_files(host, *roster, database_url=network)
    before = _network_hashes(network)
    copy_before = _rows(host, "loads")
    june = _sessions(tmp_path / "v1", "june.csv", JUNE)
    # The test holds data_version's row: the load sends all its rows, then waits at its last statement,
    # the raise of data_version, with everything written and nothing committed; there it is killed.
    with psycopg.connect(network) as holder, psycopg.connect(network, autocommit=True) as watcher:
        holder.execute("SELECT version FROM data_version FOR UPDATE")
        loading = _hipline(host, network, "load", str(june))

        def waiting_to_raise_the_version() -> bool:
            return bool(
                watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE data_version%'"
                ).fetchone()[0]
            )

        _until(waiting_to_raise_the_version, "the load to reach its publish step")
        with psycopg.connect(network) as pg:  # the rows it sent are there, uncommitted: invisible to others
            assert pg.execute("SELECT count(*) FROM session_log_rows").fetchone()[0] == 0
        loading.send_signal(signal.SIGKILL)
        loading.wait(SECONDS)
        holder.rollback()
    _until(lambda: not _busy_sessions(network), "PostgreSQL to end the killed load's session")
    assert _network_hashes(network) == before  # byte for byte, data_version still 1
    assert _rows(host, "loads") == copy_before and replica.local_version(host) == 1
    again = load_files(host, june, database_url=network)  # and the next load completes it
    assert again.run_id == 2 and replica.network_version(network) == 2


def _busy_sessions(url: str) -> int:
    """Sessions of the test's database doing something or holding a transaction open (not idle)."""
    with psycopg.connect(url) as pg:
        return pg.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' AND state <> 'idle'"
        ).fetchone()[0]


class PowerCut(Exception):
    pass


def test_a_load_that_dies_after_its_commit_leaves_a_copy_the_next_refresh_mends(network, tmp_path, monkeypatch):
    roster = _roster(tmp_path / "roster")
    host, other = tmp_path / "a" / "hipline.duckdb", tmp_path / "b" / "hipline.duckdb"
    load_files(host, *roster, database_url=network)

    def power_cut(staging, path):
        raise PowerCut("the power went after PostgreSQL committed, before the swap")

    monkeypatch.setattr(warehouse, "_publish", power_cut)
    with pytest.raises(PowerCut):
        load_files(host, _sessions(tmp_path / "v1", "june.csv", JUNE), database_url=network)
    monkeypatch.undo()
    assert replica.network_version(network) == 2 and replica.local_version(host) == 1
    assert not replica.is_current(host, network)
    assert replica.refresh(host, network) is True
    replica.refresh(other, network)
    _same_clinic_data(host, other)
    assert query(host, "SELECT count(*) FROM session_log_rows")[0][0] == len(JUNE)


def test_two_loads_at_once_from_two_hosts_take_turns(network, tmp_path):
    host_a, host_b = tmp_path / "a" / "hipline.duckdb", tmp_path / "b" / "hipline.duckdb"
    load_files(host_a, *_roster(tmp_path / "roster"), database_url=network)
    # Two files that do not depend on each other: C-1's June (5 rows) and C-2's (3 rows, 1 quarantined).
    ones = _sessions(tmp_path / "c1", "c1.csv", [row for row in JUNE if row[0] == "C-1"])
    twos = _sessions(tmp_path / "c2", "c2.csv", [row for row in JUNE if row[0] == "C-2"])
    lock_requests = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s "
        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    # The test holds the load lock until both loads wait for it, so that they surely run at the same time.
    with psycopg.connect(network, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [publish.LOAD_LOCK])
        first = _hipline(host_a, network, "load", str(ones))
        second = _hipline(host_b, network, "load", str(twos))
        _until(
            lambda: holder.execute(lock_requests, [publish.LOAD_LOCK]).fetchone()[0] == 2,
            "both loads to wait for the load lock",
        )
        holder.execute("SELECT pg_advisory_unlock(%s)", [publish.LOAD_LOCK])
    outputs = [p.communicate(timeout=SECONDS)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert all("waiting for it to finish" in out for out in outputs)
    assert replica.network_version(network) == 3
    replica.refresh(host_a, network)
    replica.refresh(host_b, network)
    _same_clinic_data(host_a, host_b)
    runs = {e.load: e for e in history(host_a)}
    assert sorted(runs) == [1, 2, 3]
    assert runs[3].started >= runs[2].finished  # one after the other, never interleaved
    assert sorted([f.file for f in runs[run].files] for run in (2, 3)) == [["c1.csv"], ["c2.csv"]]
    assert query(host_b, "SELECT count(*) FROM session_log")[0][0] == 5 + 2


def test_a_reader_of_another_hosts_copy_sees_the_old_data_or_the_new_never_a_mix(network, tmp_path):
    roster = _roster(tmp_path / "roster")
    host_a, host_b = tmp_path / "a" / "hipline.duckdb", tmp_path / "b" / "hipline.duckdb"
    load_files(host_a, *roster, _sessions(tmp_path / "v1", "june.csv", JUNE), database_url=network)
    replica.refresh(host_b, network)
    seen: set[tuple] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            con = warehouse.connect_private_reader(host_b)  # as the pages read: a new connection per request
            try:
                seen.add(
                    con.execute(
                        "SELECT (SELECT count(*) FROM session_log), (SELECT count(*) FROM session_summary), "
                        "(SELECT max(run_id) FROM load_runs), (SELECT version FROM data_version)"
                    ).fetchall()[0]
                )
            finally:
                con.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        load_files(host_a, _sessions(tmp_path / "v2", "june.csv", JUNE_CORRECTED), database_url=network)
        assert replica.refresh(host_b, network) is True
        _until(lambda: any(s[3] == 2 for s in seen), "the reader to see the new copy")
    finally:
        stop.set()
        reader.join(SECONDS)
    old = (7, 6, 1, 1)  # June: 8 rows, 1 quarantined; 6 sessions (C-1 on the 1st, 3rd, 5th, 8th; C-2 2nd, 9th)
    new = (8, 7, 2, 2)  # corrected: 8 rows loaded; C-2's 4th gone, its 10th new: 7 sessions
    assert seen == {old, new}


def test_a_warehouse_of_its_own_is_not_overwritten_by_a_copy(network, tmp_path):
    own = tmp_path / "own" / "hipline.duckdb"
    load_files(own, *_roster(tmp_path / "roster"))
    before = _rows(own, "clients_rows")
    with pytest.raises(replica.NotACopy, match="warehouse of its own"):
        replica.refresh(own, network)
    with pytest.raises(replica.NotACopy):
        load_files(own, _sessions(tmp_path / "v1", "june.csv", JUNE), database_url=network)
    assert _rows(own, "clients_rows") == before and replica.network_version(network) == 0


def test_a_hosts_pages_follow_what_is_published(network, tmp_path):
    """The pages' ClinicData in a clinic network keeps its host's copy current (etl.replica.follow) and
    notices the new copy as it notices a load: built from the old copy until the new one is swapped in."""
    from dashboard import clinic_data
    from dashboard.clinic_data import ClinicData
    from etl.settings import Settings

    host_a, host_b = tmp_path / "a" / "hipline.duckdb", tmp_path / "b" / "hipline.duckdb"
    load_files(
        host_a, *_roster(tmp_path / "roster"), _sessions(tmp_path / "v1", "june.csv", JUNE), database_url=network
    )
    pages = ClinicData(host_b, NEWEST, Settings(database_url=network))
    before = clinic_data._CURRENT
    clinic_data.use(pages)  # makes the host's copy before it serves: version 1, June up to the 9th
    try:
        assert pages.has_data() and pages.default_today().isoformat() == "2026-06-09"
        load_files(host_a, _sessions(tmp_path / "v2", "june.csv", JUNE_CORRECTED), database_url=network)
        _until(lambda: pages.default_today().isoformat() == "2026-06-10", "the pages to see the corrected June")
        assert replica.local_version(host_b) == 2
    finally:
        pages.stop_following()
        pages._forget()
        clinic_data._CURRENT = before


def test_a_host_finds_postgres_again_after_it_restarted(network, postgres_server, tmp_path):
    host = tmp_path / "a" / "hipline.duckdb"
    load_files(host, *_roster(tmp_path / "roster"), database_url=network)
    assert replica.is_current(host, network)  # the check's connection is kept from here on
    postgres_server.restart()
    assert replica.is_current(host, network)  # the kept connection broke: the check connects anew
    again = load_files(host, _sessions(tmp_path / "v1", "june.csv", JUNE), database_url=network)
    assert again.run_id == 2 and replica.network_version(network) == 2


def test_a_load_from_the_import_page_is_published(network, tmp_path):
    """The import page's load runs in a process of its own (dashboard.load_jobs), told of PostgreSQL through
    its environment: it publishes like the command."""
    from dashboard import load_jobs
    from etl.settings import Settings

    host, other = tmp_path / "a" / "hipline.duckdb", tmp_path / "b" / "hipline.duckdb"
    _, folder = load_jobs.new_job(host, "admin")
    for path in _roster(tmp_path / "roster"):
        (folder.files / path.name).write_bytes(path.read_bytes())
    load_jobs.start(folder, host, Settings(database_url=network), loaded_by="S-3")
    _until(lambda: load_jobs.state(folder).finished, "the import page's load to finish")
    assert load_jobs.state(folder).result["ok"]
    assert replica.network_version(network) == 1
    replica.refresh(other, network)
    assert query(other, "SELECT loaded_by, action FROM load_runs") == [("S-3", "load")]
    assert query(other, "SELECT count(*) FROM clients")[0][0] == 3
