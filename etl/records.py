"""The clinic's records: the SQLite file beside the warehouse
(docs/warehouse.md#writing-safely-while-the-dashboard-reads, one machine).

What the clinic records *through* hipline rather than loads from files lives here: clinicians'
decisions, the users who may sign in, and the audit trail. A load rebuilds and swaps the warehouse;
it never touches this file. SQLite lets several dashboard workers write at once (each write waits
for the one before it instead of failing), every write is one transaction, and WAL mode lets readers
go on while someone writes.

The file holds client health data and password hashes: it is created readable by its owner only
(docs/security.md#roles-and-what-each-may-do), and one left readable by others is made owner-only when opened.

Each module that keeps a table here hands its schema to `connect`; a schema is applied once per
process. Reads on the path of every request (the signed-in user, the newest decision) go through
`reading`, one connection kept open per process, instead of opening the file each time.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

OWNER_ONLY = 0o600
WAIT_SECONDS = 30  # another worker's write waits, it does not fail
_readers: dict[tuple[int, str], tuple[sqlite3.Connection, threading.Lock, set[str]]] = {}
_readers_lock = threading.Lock()


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


@contextlib.contextmanager
def connect(db: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection to the records of the warehouse `db`, inside one transaction: what the block writes
    is stored whole or not at all. `schema`: the CREATE statements of the tables the caller uses."""
    con = _open(records_path(db))
    try:
        con.executescript(schema)
        con.execute("BEGIN IMMEDIATE")  # take the write lock now: no deadlock between two upgrading readers
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


@contextlib.contextmanager
def reading(db: Path, schema: str) -> Iterator[sqlite3.Connection]:
    """The process's reading connection to the records of `db`, for one query at a time (autocommit:
    each query sees the newest commit). Not for writing. Opening the file costs more than the queries on
    the path of every request (who is signed in, the newest decision), so it stays open; threads take
    turns on it. A forked process opens its own: a connection must not cross a fork."""
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
        yield con


def forget_readers() -> None:
    """Close this process's reading connections (a test that removes a records file)."""
    with _readers_lock:
        for (pid, _), (con, _, _) in list(_readers.items()):
            if pid == os.getpid():
                con.close()
        _readers.clear()
