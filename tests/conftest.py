"""Shared fixtures: a small roster, file writers and a loader with a fixed "today"."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from etl.load import LoadReport, load
from etl.warehouse import connect_read_only

TODAY = date(2026, 6, 30)

STAFF_CSV = """staff_id,name,role,email
S-1,Ana Costa,physio,ana@clinic.example
S-2,Ben Okafor,instructor,ben@clinic.example
S-3,Cara Lee,admin,
"""
COHORTS_CSV = """cohort_id,name,instructor_id,start_date,weeks,schedule
G-1,Hip strong Mar,S-2,2026-03-02,12,Mon 18:00
"""
CLIENTS_CSV = """client_id,display_name,start_date,region,sessions_per_week,clinician_id,cohort_id,end_date
C-1,Zoë Ahmed,2026-03-02,hip,3,S-1,G-1,
C-2,José Byrne,2026-04-06,low_back,2,S-1,,
C-3,Mei Chen,2026-05-04,knee,4,S-1,,2026-06-14
"""
SESSION_HEADER = (
    "client_id,session_date,attended,session_type,exercise,level,sets,reps,hold_s,resistance,side,"
    "pain_before,pain_during,pain_after,pain_next_day,rpe,form,notes,staff_id"
)


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path


def load_files(db: Path, *paths: Path, **options) -> LoadReport:
    options.setdefault("today", TODAY)
    return load(db, list(paths), **options)


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    # The app's own reader settings: DuckDB refuses a second connection to a file in one process
    # with another configuration (a test calling the pages in-process holds one).
    con = connect_read_only(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def only(report: LoadReport):
    assert len(report.files) == 1, report.files
    return report.files[0]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "hipline.duckdb"


def _write_roster(folder: Path) -> list[Path]:
    return [
        write(folder, "staff.csv", STAFF_CSV),
        write(folder, "cohorts.csv", COHORTS_CSV),
        write(folder, "clients.csv", CLIENTS_CSV),
    ]


@pytest.fixture
def roster(tmp_path: Path) -> list[Path]:
    return _write_roster(tmp_path / "roster")


def _load_roster(db: Path, roster: list[Path]) -> Path:
    report = load_files(db, *roster)
    assert report.all_readable and all(f.rows_quarantined == 0 for f in report.files), report.files
    return db


@pytest.fixture(scope="session")
def roster_loaded_once(tmp_path_factory) -> Path:
    """The roster loaded by the loader once per test worker, for `loaded_roster` to copy: 137 tests start
    from it, and a copy takes a few milliseconds where a load takes a quarter of a second."""
    folder = tmp_path_factory.mktemp("roster-loaded-once")
    return _load_roster(folder / "warehouse" / "hipline.duckdb", _write_roster(folder / "roster"))


@pytest.fixture
def loaded_roster(db: Path, roster: list[Path], roster_loaded_once: Path) -> Path:
    """A warehouse holding the roster: the same files loaded once per worker, copied here (closed and
    checkpointed, so the file is the whole warehouse; shutil.copy keeps its owner-only mode). The copy's
    load history names the roster files where they were loaded from. Where the test's records are in
    PostgreSQL, loaded here, so that whatever a load records goes there."""
    from etl import records

    if records.backend(db) != "sqlite":
        return _load_roster(db, roster)
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(roster_loaded_once, db)
    return db


@pytest.fixture(scope="session", autouse=True)
def no_jobs_folders_left(tmp_path_factory) -> Iterator[None]:
    """The servers and apps the tests start keep each warehouse's background jobs in a folder of the
    system's temporary folder (dashboard.exports.jobs_folder), which the app keeps for as long as the
    warehouse is served. Once a test worker is done (its servers stopped), the folders of the warehouses
    it made are removed: test runs would otherwise leave thousands of them behind."""
    yield
    from dashboard.exports import jobs_folder_path

    for db in tmp_path_factory.getbasetemp().rglob("*.duckdb"):
        shutil.rmtree(jobs_folder_path(db), ignore_errors=True)


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory) -> Path:
    """The demo data set for 120 clients, generated once per test session."""
    from hipline.demo_data import generate_demo

    folder = tmp_path_factory.mktemp("demo")
    generate_demo(folder, clients=120, seed=11)
    return folder


@pytest.fixture(scope="session")
def demo_warehouse(demo_files: Path, tmp_path_factory) -> Path:
    """The demo loaded, with the demo's users (hipline.demo_data.accounts: one per role)."""
    from hipline.demo_data.accounts import add_demo_users

    db = tmp_path_factory.mktemp("demo-warehouse") / "hipline.duckdb"
    report = load(db, [demo_files])
    assert report.all_readable, [f.error for f in report.files if f.error]
    add_demo_users(db)
    return db


@dataclass(frozen=True)
class Served:
    url: str
    db: Path
    log: Path  # what the server printed


@pytest.fixture(scope="session")
def demo_server(demo_warehouse: Path, tmp_path_factory) -> Iterator[Served]:
    """`hipline serve` on the demo warehouse, once per test worker, for every test that changes neither
    the warehouse nor its users (each test starts with no cookies: tests/browser/conftest.py, KeptTab).
    A test that changes them serves a copy of its own (`copy_warehouse`)."""
    from tests.browser.conftest import serve

    log = tmp_path_factory.mktemp("demo-server") / "server.log"
    with serve(demo_warehouse, log=log) as url:
        yield Served(url, demo_warehouse, log)


def copy_warehouse(source: Path, db: Path) -> Path:
    """A copy of a warehouse with its records (users, decisions, audit), to change without touching the
    original."""
    from etl.records import records_path

    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, db)
    # SQLite's backup, not a file copy: the newest writes may still be in the -wal file beside it.
    with (
        contextlib.closing(sqlite3.connect(records_path(source))) as original,
        contextlib.closing(sqlite3.connect(records_path(db))) as copy,
    ):
        original.backup(copy)
    return db


def staff_only_warehouse(db: Path, tmp_path: Path) -> Path:
    """A clinic's first day: the staff list loaded (from the command line) and an admin who may sign
    in, nothing else yet. (Without an admin, `hipline serve` refuses to serve.)"""
    from access import users
    from access.audit import Actor
    from hipline.demo_data.accounts import DEMO_USERS

    report = load_files(db, write(tmp_path / "roster", "staff.csv", STAFF_CSV))
    assert report.all_readable
    users.add_user(db, "S-3", "Cara Lee", "admin", DEMO_USERS["admin"][1], by=Actor.command_line(), username="admin")
    return db


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def few_clients_day(db, staff_id: str, least: int = 2, most: int = 3):
    """A day on which the clinician had `least` to `most` active clients (a quick zip), and their caseload:
    looked for from the day their first client started."""
    from datetime import timedelta

    import pandas as pd

    from analytics import Analytics, Scope

    first = query(db, "SELECT min(start_date) FROM clients WHERE clinician_id = ?", [staff_id])[0][0]
    for later in range(0, 60, 2):
        day = pd.Timestamp(first).date() + timedelta(days=later)
        with Analytics.open(db, Scope.everyone(), day) as analytics:
            caseload = analytics.caseload(staff_id)
        if least <= len(caseload) <= most:
            return day, caseload
    raise AssertionError(f"{staff_id} never had {least} to {most} active clients")


# A clinic network's services (hipline.services): started once per test worker, skipped locally when
# they are not installed, never skipped under CI=true (.ci/run installs them).
def _service(installed: bool, what: str) -> None:
    if not installed:
        if in_ci():
            pytest.fail(f"CI=true but {what} is not installed: the clinic network's tests must run in CI")
        pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="session")
def postgres_server():
    import tempfile

    from hipline import services

    _service(services.postgres_installed(), "PostgreSQL")
    # In /tmp itself: as root, PostgreSQL runs as `postgres`, which must be able to reach its folder.
    server = services.start_postgres(Path(tempfile.mkdtemp(prefix="hipline-pg-")))
    yield server
    server.stop("immediate")
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """A new, empty PostgreSQL database for one test."""
    import re

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:40] + "_" + os.urandom(4).hex()
    return postgres_server.create_database(name)


@pytest.fixture(scope="session")
def records_template(postgres_server) -> str:
    """A database with every migration applied, once per test worker: the template of each records test's
    own database (a copy takes a fifth of the time of applying the migrations again)."""
    from etl import postgres

    name = "records_template_" + os.urandom(4).hex()
    postgres.upgrade(postgres_server.create_database(name))
    return name


@pytest.fixture
def records_url(request, postgres_server, records_template, tmp_path) -> Iterator[str]:
    """The records of the test's warehouses (the `db` fixture's and a tests.analytics.clinic.Clinic's,
    tmp_path/hipline.duckdb) in a PostgreSQL database of their own, with the migrations applied; its URL."""
    import re

    import psycopg

    from etl import records

    name = "r_" + re.sub(r"\W", "_", request.node.name.lower())[:40] + "_" + os.urandom(4).hex()
    with psycopg.connect(postgres_server.url("postgres"), autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}" TEMPLATE "{records_template}"')
        # A commit need not wait for the disk here: these tests are about what is stored, not a power cut.
        con.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    url = postgres_server.url(name)
    warehouses = [tmp_path / "warehouse" / "hipline.duckdb", tmp_path / "hipline.duckdb"]
    for db in warehouses:
        records.attach(db, url)
    yield url
    for db in warehouses:
        records.attach(db, None)
        assert not records.records_path(db).exists(), "the records went to the SQLite file, not PostgreSQL"
    records.forget_readers()  # this database's pool: every test's would add up to PostgreSQL's connection limit


@pytest.fixture(params=["sqlite", "postgresql"])
def records_backend(request) -> str:
    """A test of the clinic's records (etl.records) once on each backend: 'sqlite', the file beside the
    warehouse (one machine), and 'postgresql' (`records_url`)."""
    if request.param == "postgresql":
        request.getfixturevalue("records_url")
    return request.param


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    from hipline import services

    _service(services.redis_installed(), "Redis")
    server = services.start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The test's Redis, emptied first."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url
