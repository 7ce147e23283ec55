"""The clinic's records: on one machine the SQLite file beside the warehouse
(docs/warehouse.md#writing-safely-while-the-dashboard-reads); in a clinic network, PostgreSQL
(docs/deployment.md).

What the clinic records *through* hipline rather than loads from files lives here: clinicians'
decisions, red-flag reviews, the users who may sign in, the audit trail and the key that signs
session cookies. A load rebuilds and swaps the warehouse; it never touches the records. Every write
is one transaction; several writers at once wait for each other instead of failing; readers go on
while someone writes.

Where they are is said once per process, at the edge (hipline.cli, dashboard.app.create_app):
`attach(db, database_url)` puts the records of warehouse `db` in that PostgreSQL database; without
it they are in `records_path(db)`. The modules that keep records write one SQL text for both, with
named binds (`:name`), through a `Records` connection from `connect` (one transaction) or `reading`
(the path of every request).

SQLite, one machine: the file holds client health data and password hashes, so it is created readable
by its owner only (docs/security.md#roles-and-what-each-may-do), and one left readable by others is
made owner-only when opened. Each module hands its CREATE statements to `connect` and `reading`, applied
once per process. A write takes the file's write lock at its start (BEGIN IMMEDIATE); WAL lets readers
go on meanwhile. Reads go through one connection kept open per process.

PostgreSQL, a clinic network: the schema is the migration etl/migrations/0002_records.sql, applied by
`hipline db upgrade`, never by the modules; a process refuses to use a database that lacks a migration
(`MigrationsMissing`). Connections come from SQLAlchemy's pool, each checked before use
(pool_pre_ping), so that a restarted PostgreSQL costs the next request a reconnection, not the
process a restart.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

OWNER_ONLY = 0o600
WAIT_SECONDS = 30  # another worker's write waits, it does not fail
_readers: dict[tuple[int, str], tuple[sqlite3.Connection, threading.Lock, set[str]]] = {}
_readers_lock = threading.Lock()
_attached: dict[str, str] = {}  # a warehouse's absolute path -> the database URL of its records
_engines: dict[tuple[int, str], Any] = {}  # (process, database URL) -> its SQLAlchemy Engine
_engines_lock = threading.Lock()
_TURNS = 0x68697001  # "hip" 1: the advisory locks of writers that take turns (`Records.take_turns`)


def _fresh_locks_after_fork() -> None:
    """A fork copies a lock as it is: one another thread held at that moment (the caseload zip forks a
    request's process) would stay held in the child forever, and the child's first read of the records
    would hang. The child starts with free locks; the connections it finds are its parent's, and it opens
    its own (they are keyed by process)."""
    global _readers_lock, _engines_lock
    _readers_lock = threading.Lock()
    _engines_lock = threading.Lock()


os.register_at_fork(after_in_child=_fresh_locks_after_fork)


class MigrationsMissing(RuntimeError):
    """The PostgreSQL database lacks migrations the records need; the message says what to run."""


class ConstraintError(Exception):
    """The records' own rules refused a write (a CHECK, a unique key, the append-only audit trail),
    whichever the backend. The message is the database's, without the values written."""


def attach(db: Path, database_url: str | None) -> None:
    """From now on, in this process, the records of warehouse `db` are in the PostgreSQL database at
    `database_url` (postgresql://user:password@host:port/database); None or empty: in the SQLite file
    beside it (the default). Called by the edge, once per process, from the settings."""
    key = _key(db)
    if database_url:
        _attached[key] = database_url
    else:
        _attached.pop(key, None)


def backend(db: Path) -> str:
    """'postgresql' when the records of `db` are attached to a database, else 'sqlite'."""
    return "postgresql" if _key(db) in _attached else "sqlite"


def check(db: Path) -> None:
    """Refuse now, rather than at the first request, records whose PostgreSQL lacks migrations
    (`MigrationsMissing`, naming `hipline db upgrade`). Nothing to check for the SQLite file."""
    url = _attached.get(_key(db))
    if url:
        _engine(url)


def _key(db: Path) -> str:
    return os.path.abspath(db)


class Records:
    """A connection to the records, the same on both backends: `execute(sql, params)` with named binds
    (`:name`) and the rows' values as Python receives them from SQLite (text, int, float, None; a
    PostgreSQL boolean arrives as a bool, which is an int)."""

    def __init__(self, backend: str, con) -> None:
        self.backend = backend
        self._con = con

    def execute(self, sql: str, params: Mapping[str, Any] | None = None):
        """The rows (fetchone, fetchall, iteration, rowcount). A refused write: `ConstraintError`."""
        if self.backend == "sqlite":
            try:
                return self._con.execute(sql, dict(params or {}))
            except sqlite3.IntegrityError as e:
                raise ConstraintError(str(e)) from e
        from sqlalchemy import exc, text

        try:
            return self._con.execute(text(sql), dict(params or {}))
        except exc.IntegrityError as e:
            raise ConstraintError(str(e.orig).strip()) from e

    def frame(self, sql: str, params: Mapping[str, Any] | None = None):
        """The rows as a pandas DataFrame."""
        import pandas as pd

        if self.backend == "sqlite":
            return pd.read_sql_query(sql, self._con, params=dict(params or {}))
        from sqlalchemy import text

        return pd.read_sql_query(text(sql), self._con, params=dict(params or {}))

    def take_turns(self, *about: str) -> None:
        """Make every other writer about the same thing (`about`: e.g. "decision", a client, a ladder, a
        day) wait until this transaction ends, so that a check made now still holds when it commits.
        SQLite: every write already holds the file's write lock (BEGIN IMMEDIATE). PostgreSQL: a
        transaction-scoped advisory lock on a hash of `about` (a hash shared by chance only makes two
        unrelated writers wait for each other)."""
        if self.backend == "postgresql":
            self.execute("SELECT pg_advisory_xact_lock(CAST(:turns AS integer), hashtext(:about))",
                         {"turns": _TURNS, "about": "\x1f".join(about)})  # fmt: skip


@contextlib.contextmanager
def connect(db: Path, schema: str) -> Iterator[Records]:
    """A connection to the records of the warehouse `db`, inside one transaction: what the block writes
    is stored whole or not at all. `schema`: the CREATE statements of the tables the caller uses (the
    SQLite file; PostgreSQL has them from its migrations)."""
    url = _attached.get(_key(db))
    if url:
        with _engine(url).begin() as con:
            yield Records("postgresql", con)
        return
    con = _open(records_path(db))
    try:
        con.executescript(schema)
        con.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlock between two upgrading readers
        try:
            yield Records("sqlite", con)
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


@contextlib.contextmanager
def reading(db: Path, schema: str) -> Iterator[Records]:
    """A connection for reading the records of `db`; each block sees the newest commit. Not for writing.
    SQLite: the process's reading connection, for one block at a time (autocommit). Opening the file
    costs more than the queries on the path of every request (who is signed in, the newest decision),
    so it stays open; threads take turns on it. A forked process opens its own: a connection must not
    cross a fork. PostgreSQL: a connection from the process's pool for the block, in autocommit (each
    statement sees the newest commit)."""
    url = _attached.get(_key(db))
    if url:
        # Autocommit: no BEGIN and ROLLBACK around the block, two round trips fewer on every request.
        with _engine(url).connect() as con:
            yield Records("postgresql", con.execution_options(isolation_level="AUTOCOMMIT"))
        return
    path = records_path(db)
    key = (os.getpid(), str(path))
    with _readers_lock:
        if key not in _readers:
            con = _open(path, check_same_thread=False)
            _readers[key] = (con, threading.Lock(), set())
        con, lock, schemas = _readers[key]
    with lock:
        if schema not in schemas:
            con.executescript(schema)
            schemas.add(schema)
        yield Records("sqlite", con)


def forget_readers() -> None:
    """Close this process's connections to the records: the SQLite reading connections, and the pools of
    the PostgreSQL databases (a test that removes a records file or is done with its database). Those a
    parent process left behind are not touched: closing them here would close the parent's."""
    with _readers_lock:
        for key, (con, _, _) in list(_readers.items()):
            if key[0] == os.getpid():
                con.close()
                del _readers[key]
    with _engines_lock:
        for key, engine in list(_engines.items()):
            if key[0] == os.getpid():
                engine.dispose()
                del _engines[key]


# SQLite, one machine.


def records_path(db: Path) -> Path:
    """`data/hipline.duckdb` -> `data/hipline.records.sqlite`. (Before users and the audit trail were
    kept, the file held only decisions and was named `hipline.decisions.sqlite`: it is renamed.)"""
    path = db.with_name(f"{db.stem}.records.sqlite")
    earlier = db.with_name(f"{db.stem}.decisions.sqlite")
    if not path.exists() and earlier.exists():
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{earlier}{suffix}")
            if source.exists():
                source.replace(f"{path}{suffix}")
    return path


def _owner_only(path: Path) -> None:
    """Create the file readable by its owner only, or make an existing one so. SQLite gives its -wal
    and -shm files the permissions of the database file. An existing file is never opened here:
    closing any descriptor of a file drops every POSIX lock this process holds on it, SQLite's too
    (the classic way to corrupt an SQLite database)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, OWNER_ONLY))
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            path.chmod(OWNER_ONLY)


def _open(path: Path, check_same_thread: bool = True) -> sqlite3.Connection:
    _owner_only(path)
    # isolation_level=None: transactions are explicit (connect's BEGIN IMMEDIATE ... COMMIT)
    con = sqlite3.connect(path, timeout=WAIT_SECONDS, isolation_level=None, check_same_thread=check_same_thread)
    con.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
    # WAL with NORMAL: a commit survives the process crashing; only a power cut may lose the last ones.
    con.execute("PRAGMA synchronous = NORMAL")
    con.execute("PRAGMA foreign_keys = ON")
    return con


# PostgreSQL, a clinic network.


def _engine(url: str):
    """This process's pool of connections to `url`, made at its first use once the database is found
    to have every migration. One per process: a forked process makes its own (a connection must not
    cross a fork), and leaves its parent's alone."""
    key = (os.getpid(), url)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _new_engine(url)
    return engine


def _new_engine(url: str):
    # SQLAlchemy only here: one machine never pays its import. It gives the pool, the check of each
    # connection before use, and named binds in one SQL text for both backends.
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from etl import postgres

    address = make_url(url).set(drivername="postgresql+psycopg")
    if missing := postgres.missing(url):
        names = ", ".join(m.path.name for m in missing)
        raise MigrationsMissing(
            f"the PostgreSQL database {make_url(url).render_as_string(hide_password=True)} lacks the migration"
            f"{'s' if len(missing) > 1 else ''} {names}: run `hipline db upgrade` (with this HIPLINE_DATABASE_URL) "
            "before hipline uses it"
        )
    # pool_pre_ping: a connection that a restart of PostgreSQL closed is replaced before it is handed out.
    # hide_parameters: an error's text never carries the values written (a password hash, a note).
    # connect_timeout: a PostgreSQL out of reach fails a request in seconds instead of hanging it.
    waiting = {} if "connect_timeout" in address.query else {"connect_timeout": 10}  # unless the URL says
    return create_engine(address, pool_pre_ping=True, hide_parameters=True, connect_args=waiting)
