"""A web host's local copy of the clinic data, in a clinic network (docs/deployment.md).

PostgreSQL holds the clinic data (etl/migrations/0003_clinic_data.sql: every base table of the
warehouse) and its version, `data_version`, which each published load raises by one (etl/publish.py).
Each host keeps a DuckDB file at its `--db` path with the same tables and views as a warehouse loaded
on one machine, so the analytics read it exactly as they read that one, plus the table `data_version`:
the version it was made from.

`refresh(db, url)` makes a complete new copy from PostgreSQL when the host's is older, and swaps it in
the way a load does (etl.warehouse.write_then_swap, under the same lock): a reader sees the old copy or
the new, never a mix. The tables are read in one REPEATABLE READ transaction, so the copy is one
version, never a half-published load, and fetched as Arrow (ADBC), not row by row. `is_current(db, url)`
is the cheap check: one small query to PostgreSQL, and the copy's own version read once per file.
`follow(db, url)` keeps a copy current from a thread of its own, what a web host runs.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import duckdb

from etl import postgres, warehouse
from etl.library import LEVELS_TABLE, LIBRARY_VERSION_TABLE, NAMES_TABLE
from etl.settings import MEMORY_LIMIT

log = logging.getLogger(__name__)

# The clinic data's tables, each with the columns whose rows are replaced together when one of them changes
# (etl/publish.py): a version of a file (its rows only ever move whole, etl/archive.py), a load, a
# (client, day) of sessions and exposures (a load aggregates them again a day at a time, etl/sessions.py).
# No columns: a small table, replaced whole when it changes.
CLINIC_TABLES: dict[str, tuple[str, ...]] = {
    "loads": ("load_id",),
    "load_runs": ("run_id",),
    "load_changes": ("run_id",),
    **{f"{prefix}{table}": ("load_id",) for prefix in ("", warehouse.ARCHIVED) for table in warehouse.ROW_TABLES},
    "session_summary": ("client_id", "session_date"),
    "exposure_summary": ("client_id", "session_date"),
    "instruments": (),
    "exercise_levels": (),
    "exercise_names": (),
    "exercise_library_version": (),
}
VERSION_TABLE = "data_version"  # in the local copy: the version of the clinic data it holds
# DuckDB's UBIGINT (row_hash) is numeric(20, 0) in PostgreSQL, which ADBC hands over as text; shifted
# into bigint's range on the way, it travels as a plain 64-bit number.
UBIGINT_SHIFT = 2**63


class NotACopy(ValueError):
    """The file at the host's --db path is a warehouse of its own, not a copy of the clinic network's
    data: it is left alone rather than overwritten."""


def create_copy_schema(con: duckdb.DuckDBPyConnection) -> None:
    """The tables and views of a warehouse that a load has written once (etl.warehouse's schema, the
    exercise library's tables) and the copy's version."""
    warehouse.create_schema(con)
    for statement in (LEVELS_TABLE, NAMES_TABLE, LIBRARY_VERSION_TABLE):
        con.execute(statement)
    con.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version BIGINT NOT NULL)")


def mark_version(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Record in a copy (a new one, or a load's staging copy) the version of the clinic data it holds."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version BIGINT NOT NULL)")
    con.execute(f"DELETE FROM {VERSION_TABLE}")
    con.execute(f"INSERT INTO {VERSION_TABLE} VALUES (?)", [version])


def columns(con: duckdb.DuckDBPyConnection, table: str, database: str | None = None) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a table's columns, in order."""
    return con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? "
        "AND database_name = coalesce(?, current_database()) AND schema_name = 'main' ORDER BY column_index",
        [table, database],
    ).fetchall()


# -- the versions --------------------------------------------------------------------------------------

_held: dict[str, tuple[tuple, int | None]] = {}  # the copy's path -> (its file's stamp, its version)
_connections: dict[str, object] = {}  # (pid, url) -> a psycopg connection kept for the cheap check
_guard = threading.Lock()


def _stamp(path: Path) -> tuple:
    s = path.stat()
    return (s.st_ino, s.st_size, s.st_mtime_ns)


def local_version(db: Path) -> int | None:
    """The version of the clinic data the copy at `db` holds; None when there is no copy yet. Read from
    the file once, then again only when the file was replaced. NotACopy when the file is a warehouse
    loaded on one machine."""
    db = Path(db)
    try:
        stamp = _stamp(db)
    except FileNotFoundError:
        return None
    with _guard:
        known = _held.get(str(db))
    if known and known[0] == stamp:
        return known[1]
    con = warehouse.connect_private_reader(db)
    try:
        has_version = warehouse.scalar(
            con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND database_name = 'warehouse'",
            [VERSION_TABLE],
        )  # fmt: skip
        version = warehouse.scalar(con, f"SELECT max(version) FROM {VERSION_TABLE}") if has_version else None
    finally:
        con.close()
    if version is None:
        raise NotACopy(
            f"{db} is a warehouse of its own (loaded on one machine), not a copy of the clinic network's data; "
            "it is left as it is. Give this host another --db (its copy is made from PostgreSQL), or move the "
            "file away"
        )
    with _guard:
        _held[str(db)] = (stamp, version)
    return version


def network_version(url: str) -> int:
    """PostgreSQL's data_version: one small query, on a connection the process keeps (made again after a
    fork, and once more when the kept one fails: PostgreSQL restarted since)."""
    key = f"{os.getpid()} {url}"
    with _guard:
        con = _connections.pop(key, None)
    if con is not None:
        try:
            version = _read_version(con)
        except Exception:
            con.close()
            con = None
    if con is None:
        con = postgres.connect(url, autocommit=True)
        try:
            version = _read_version(con)
        except Exception:
            con.close()
            raise
    with _guard:
        _connections[key] = con
    return version


def _read_version(con) -> int:
    return con.execute("SELECT version FROM data_version").fetchone()[0]


def is_current(db: Path, url: str) -> bool:
    """Whether the copy at `db` holds PostgreSQL's newest data. No copy and nothing published is current."""
    return (local_version(db) or 0) == network_version(url)


# -- making a copy -------------------------------------------------------------------------------------


def refresh(db: Path, url: str, *, memory_limit: str = MEMORY_LIMIT, on_wait=None) -> bool:
    """Bring the copy at `db` up to PostgreSQL's data_version, under the warehouse's lock (a load on this
    host, or another process refreshing the same copy, goes first); True when a new copy was swapped in."""
    with warehouse.exclusive_writer(Path(db), on_wait):
        return bring_up_to_date(Path(db), url, memory_limit)


def bring_up_to_date(db: Path, url: str, memory_limit: str = MEMORY_LIMIT) -> bool:
    """`refresh` for a caller that holds the warehouse's lock already (a load, etl/publish.py)."""
    if is_current(db, url):
        return False
    rebuild(db, url, memory_limit)
    return True


def rebuild(db: Path, url: str, memory_limit: str = MEMORY_LIMIT) -> int:
    """A new copy from PostgreSQL, swapped in; the version it holds. The caller holds the lock.

    When every version since the copy's own says what it changed (published_changes), the new copy is the
    old one with only those rows fetched again: a day's load costs about what it took to load, not a
    fetch of everything. Otherwise (no copy yet, or PostgreSQL restored from an older backup) every
    table is fetched."""
    import adbc_driver_postgresql.dbapi as adbc

    held = local_version(db)
    with adbc.connect(url) as pg, pg.cursor() as cursor:
        # One snapshot for every table: a load published meanwhile is in the next copy, not half in this one.
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT version FROM data_version")
        version = cursor.fetchall()[0][0]
        changes = _changes_since(cursor, held, version) if held is not None and held < version else None
        with warehouse.write_then_swap(db, memory_limit, fresh=changes is None) as con:
            if changes is None:
                create_copy_schema(con)
                con.execute("DELETE FROM instruments")  # PostgreSQL's are the ones
                for table in CLINIC_TABLES:
                    _fetch(cursor, con, table)
            else:
                for table, keys in changes.items():
                    _fetch_changed(cursor, con, table, keys)
            mark_version(con, version)
        pg.rollback()
    return version


def _changes_since(cursor, held: int, version: int) -> dict[str, str | None] | None:
    """What the versions after `held` up to `version` changed: per table, a JSON array of the keys whose
    rows were replaced, or None for a table replaced whole; None when some version does not say."""
    cursor.execute(
        "SELECT version, table_name, keys::text FROM published_changes WHERE version > $1 AND version <= $2",
        parameters=(held, version),
    )
    rows = cursor.fetchall()
    if {v for v, _, _ in rows} != set(range(held + 1, version + 1)) or any(t not in CLINIC_TABLES for _, t, _ in rows):
        return None
    merged: dict[str, set[str] | None] = {}
    for _, table, keys in rows:
        if keys is None:
            merged[table] = None
        elif table not in merged or merged[table] is not None:
            merged.setdefault(table, set()).update(json.dumps(k, sort_keys=True) for k in json.loads(keys))
    return {t: None if keys is None else "[" + ",".join(sorted(keys)) + "]" for t, keys in merged.items()}


_KEY_TYPES = {"INTEGER": "integer", "VARCHAR": "text", "DATE": "date"}


def _fetch_changed(cursor, con: duckdb.DuckDBPyConnection, table: str, keys: str | None) -> None:
    """The rows of these keys (a JSON array; None: the whole table) fetched again into the copy."""
    if keys is None:
        con.execute(f"DELETE FROM {table}")
        _fetch(cursor, con, table)
        return
    key, kinds = CLINIC_TABLES[table], dict(columns(con, table))
    record = ", ".join(f"{column} {_KEY_TYPES[kinds[column]]}" for column in key)
    cursor.execute(f"SELECT {', '.join(key)} FROM jsonb_to_recordset($1::jsonb) AS k({record})", parameters=(keys,))
    changed = cursor.fetch_arrow_table()
    # The keys in a temporary table of PostgreSQL's: the rows are then fetched by COPY, which takes no parameters.
    cursor.adbc_ingest(f"changed_{table}", changed, mode="create", temporary=True)
    cursor.execute(f"ANALYZE changed_{table}")  # so that the few rows of a day's load are found by their index
    con.register("changed_keys", changed)
    try:
        matches = " AND ".join(f"t.{column} = k.{column}" for column in key)
        con.execute(f"DELETE FROM {table} AS t USING changed_keys AS k WHERE {matches}").fetchall()
    finally:
        con.unregister("changed_keys")
    names = ", ".join(key)
    _fetch(cursor, con, table, f" WHERE ({names}) IN (SELECT {names} FROM changed_{table})")


def _fetch(cursor, con: duckdb.DuckDBPyConnection, table: str, where: str = "") -> None:
    """A table's rows (those `where` picks) from PostgreSQL into the new copy, streamed as Arrow batches."""
    typed = columns(con, table)
    sent = ", ".join(
        f"({name} - {UBIGINT_SHIFT})::bigint AS {name}" if kind == "UBIGINT" else name for name, kind in typed
    )
    taken = ", ".join(
        f"({name}::HUGEINT + {UBIGINT_SHIFT})::UBIGINT" if kind == "UBIGINT" else name for name, kind in typed
    )
    cursor.execute(f"SELECT {sent} FROM {table}{where}")
    con.register("network_rows", cursor.fetch_record_batch())
    try:
        con.execute(f"INSERT INTO {table} SELECT {taken} FROM network_rows").fetchall()
    finally:
        con.unregister("network_rows")


# -- a web host -----------------------------------------------------------------------------------------


class Follower:
    """Keeps a host's copy current: checks PostgreSQL's version every `interval` seconds from a daemon
    thread and refreshes the copy when a newer one was published. An error (PostgreSQL restarting) is
    logged once and the check tried again; the pages serve the copy they have meanwhile."""

    def __init__(self, db: Path, url: str, interval: float, memory_limit: str, on_error: Callable[[str], None]):
        self.db, self.url, self.interval, self.memory_limit = Path(db), url, interval, memory_limit
        self.on_error = on_error
        self._stop = threading.Event()
        self._last_error: str | None = None
        self.thread = threading.Thread(target=self._run, name="hipline-copy-follower", daemon=True)

    def check(self) -> None:
        """Once: refresh the copy if PostgreSQL's data is newer; an error is told, not raised."""
        try:
            if not is_current(self.db, self.url) and refresh(self.db, self.url, memory_limit=self.memory_limit):
                log.info("the local copy at %s now holds data version %s", self.db, local_version(self.db))
            self._last_error = None
        except Exception as e:  # PostgreSQL down or restarting: serve the copy we have, try again
            words = f"the local copy of the clinic data at {self.db} could not be refreshed: {e}"
            if words != self._last_error:
                self.on_error(words)
            self._last_error = words

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.check()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join()


def follow(
    db: Path, url: str, *, interval: float = 1.0, memory_limit: str = MEMORY_LIMIT, on_error=log.warning
) -> Follower:
    """Keep the copy at `db` current with the clinic network at `url`: once now (a new host makes its
    copy before it serves), then every `interval` seconds from a daemon thread."""
    follower = Follower(db, url, interval, memory_limit, on_error)
    follower.check()
    follower.thread.start()
    return follower
