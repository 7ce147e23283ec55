"""The warehouse: one DuckDB file, its tables and public views, and how it is written safely.

Writing (write-then-swap). DuckDB lets one process write a file, and a writer blocks readers. So a
load never writes the live file: it copies it to `<name>.new`, loads into the copy, checkpoints,
closes it and atomically renames it over the live file (`os.replace`). Readers open the live file
read-only; a reader that opened it before the swap keeps reading the old file (its open file
handle still points at it), one that opens it after sees the new one: the old data or the new,
never a mix and never a lock error. A crash or `kill -9` mid-load leaves only a stale `.new`
behind, which the next load deletes: the live file is exactly as it was. A lock file
(`<name>.lock`) keeps two loads (or undos) from running at once.

No leftovers. While it holds the lock a load works in a folder beside the warehouse,
`<name>.load-work/` (UTF-8 copies of UTF-16 files, DuckDB's spill files): taking the lock clears
what a killed load left there and the stale `.new`, and letting it go removes them again. Every
file and folder a load creates is readable by its owner only (0600 and 0700): the load runs with
umask 077 and sets the modes of its own files explicitly (docs/security.md#who-we-defend-against).

Incremental loads copy the file first; DuckDB's compression keeps that copy small (tens of MB for
millions of session rows), so its cost grows with the warehouse far more slowly than a reload.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from etl.columns import RECORD_KINDS
from etl.instruments import INSTRUMENTS
from etl.settings import MEMORY_LIMIT

CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}

COLUMN_TYPES = {
    "start_date": "DATE",
    "end_date": "DATE",
    "session_date": "DATE",
    "measured_on": "DATE",
    "weeks": "INTEGER",
    "sessions_per_week": "INTEGER",
    "birth_year": "INTEGER",
    "attended": "BOOLEAN",
    "level": "INTEGER",
    "sets": "INTEGER",
    "reps": "INTEGER",
    "hold_s": "DOUBLE",
    "pain_before": "DOUBLE",
    "pain_during": "DOUBLE",
    "pain_after": "DOUBLE",
    "pain_next_day": "DOUBLE",
    "rpe": "DOUBLE",
    "score": "DOUBLE",
    "items": "DOUBLE[]",
}

# Reference records: when several files define the same id, the most recently loaded version wins.
REFERENCE_KEYS = {"staff": "staff_id", "cohorts": "cohort_id", "clients": "client_id"}


# What a load replaced, and what an undo took out, is moved to a table of the same columns named
# `archived_<table>` (etl/archive.py), so that an undo loses nothing.
ARCHIVED = "archived_"
ROW_TABLES = (*(f"{kind}_rows" for kind in RECORD_KINDS), "malformed_rows")
OWNER_ONLY_FILE = 0o600
OWNER_ONLY_FOLDER = 0o700


def _kind_table(kind: str, prefix: str = "") -> str:
    columns = ",\n".join(f"{c.name} {COLUMN_TYPES.get(c.name, 'VARCHAR')}" for c in RECORD_KINDS[kind].columns)
    return f"""CREATE TABLE IF NOT EXISTS {prefix}{kind}_rows (
        load_id INTEGER NOT NULL,
        source_file VARCHAR NOT NULL,
        source_row BIGINT,
        {columns},
        row_hash UBIGINT,
        reason VARCHAR,          -- NULL: loaded; otherwise why the row is quarantined
        raw VARCHAR              -- the row as it was in the file (JSON), kept for quarantined rows
    )"""


def _public_view(kind: str) -> str:
    columns = ", ".join(c.name for c in RECORD_KINDS[kind].columns)
    latest = ""
    if kind in REFERENCE_KEYS:
        newest_first = "ORDER BY load_id DESC, source_row DESC"
        latest = f"QUALIFY row_number() OVER (PARTITION BY {REFERENCE_KEYS[kind]} {newest_first}) = 1"
    return f"""CREATE OR REPLACE VIEW {kind} AS
        SELECT {columns}, source_file, source_row FROM {kind}_rows WHERE reason IS NULL {latest}"""


# One row per session, refreshed by each load (etl/sessions.py).
SESSION_SUMMARY_TABLE = """CREATE TABLE IF NOT EXISTS session_summary (
    client_id VARCHAR NOT NULL,
    session_date DATE NOT NULL,
    session_type VARCHAR,          -- NULL when the log did not say
    attended BOOLEAN NOT NULL,     -- any row of the session attended
    exercise_rows INTEGER NOT NULL,
    pain_during_mean DOUBLE,       -- NULL when no row has the rating
    pain_after_mean DOUBLE,
    pain_before_mean DOUBLE,
    pain_during_max DOUBLE,
    next_day_rise_max DOUBLE       -- max over rows of pain_next_day - pain_before
)"""

# One row per exposure (docs/recommendations.md): a client's session (date, type) and the exercise ladder done in it,
# refreshed by each load with session_summary. The facts the recommendations read: the session's
# highest level of the ladder, and that level's worst pain, effort and form and smallest dose
# (a unilateral exercise has a row per side). See etl/exposures.py.
EXPOSURE_SUMMARY_TABLE = """CREATE TABLE IF NOT EXISTS exposure_summary (
    client_id VARCHAR NOT NULL,
    session_date DATE NOT NULL,
    session_type VARCHAR,
    ladder VARCHAR NOT NULL,       -- the family, the stretch, or 'unknown: <name>' (exercise_levels)
    family VARCHAR,                -- NULL: not in the library
    level INTEGER,                 -- the highest level of the ladder done in the session
    logged_as VARCHAR NOT NULL,    -- the name the log gave it
    rows INTEGER NOT NULL,
    pain_during_max DOUBLE,
    pain_during_missing BOOLEAN NOT NULL,  -- some row lacks pain_during
    next_day_rise_max DOUBLE,      -- max over rows of pain_next_day - pain_before
    rpe_max DOUBLE,
    form_worst VARCHAR,            -- poor < fair < good
    sets_min INTEGER,
    reps_min INTEGER,
    hold_s_min DOUBLE,
    sets_recorded BOOLEAN NOT NULL,    -- every row has sets
    reps_recorded BOOLEAN NOT NULL,
    hold_s_recorded BOOLEAN NOT NULL,
    day_order BIGINT NOT NULL,     -- orders a client's exposures in time (etl/exposures.py)
    sequence INTEGER,              -- 1, 2, 3 ... the client's exposures of the ladder in time order
    run_start INTEGER              -- the sequence at which the run of this level began
)"""

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS loads (
        load_id INTEGER NOT NULL,
        source_file VARCHAR NOT NULL,   -- the file's name (relative to the folder loaded)
        path VARCHAR,                   -- where it was loaded from
        content_hash VARCHAR,           -- sha256 of the file's bytes
        kind VARCHAR,
        status VARCHAR NOT NULL,        -- loaded | superseded | error
        rows_read BIGINT NOT NULL DEFAULT 0,
        rows_loaded BIGINT NOT NULL DEFAULT 0,
        rows_quarantined BIGINT NOT NULL DEFAULT 0,
        error VARCHAR,
        note VARCHAR,
        started TIMESTAMP NOT NULL,
        finished TIMESTAMP,
        roster_version INTEGER,         -- newest roster load the file's rows were checked against
        run_id INTEGER,                 -- the load (load_runs) this file was part of
        replaces INTEGER                -- the load_id of the earlier version of the same file it replaced
    )""",
    # Warehouses written before loads were numbered: the columns are added (NULL for their loads).
    "ALTER TABLE loads ADD COLUMN IF NOT EXISTS run_id INTEGER",
    "ALTER TABLE loads ADD COLUMN IF NOT EXISTS replaces INTEGER",
    """CREATE TABLE IF NOT EXISTS load_runs (
        run_id INTEGER NOT NULL,        -- the load's number: what `hipline history` lists and `hipline undo` takes
        action VARCHAR NOT NULL,        -- load | undo
        loaded_by VARCHAR,              -- who: a staff_id (the pages), os:<account> or --as (the command line)
        started TIMESTAMP NOT NULL,
        finished TIMESTAMP,
        undoes INTEGER,                 -- an undo: the load it undid
        undone_by INTEGER               -- the undo that undid this load, while that undo stands
    )""",
    """CREATE TABLE IF NOT EXISTS load_changes (
        run_id INTEGER NOT NULL,        -- the load (load_runs) that made the change
        load_id INTEGER NOT NULL,       -- a version of a file (loads.load_id)
        change VARCHAR NOT NULL         -- in: its rows were put into the warehouse; out: moved to the archive
    )""",
    *(_kind_table(kind, prefix) for prefix in ("", ARCHIVED) for kind in RECORD_KINDS),
    *(
        f"""CREATE TABLE IF NOT EXISTS {prefix}malformed_rows (
        load_id INTEGER NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT, kind VARCHAR,
        reason VARCHAR NOT NULL, raw VARCHAR
    )"""
        for prefix in ("", ARCHIVED)
    ),
    """CREATE TABLE IF NOT EXISTS instruments (
        code VARCHAR, label VARCHAR, low DOUBLE, high DOUBLE, higher_is_better BOOLEAN
    )""",
    *(_public_view(kind) for kind in RECORD_KINDS),
    f"""CREATE OR REPLACE VIEW quarantine AS
        {
        " UNION ALL ".join(
            f"SELECT load_id, source_file, source_row, '{kind}' AS kind, reason, raw "
            f"FROM {kind}_rows WHERE reason IS NOT NULL"
            for kind in RECORD_KINDS
        )
    }
        UNION ALL SELECT load_id, source_file, source_row, kind, reason, raw FROM malformed_rows""",
    """CREATE OR REPLACE VIEW load_history AS
        SELECT load_id, source_file AS file, path, content_hash, kind, status, rows_read, rows_loaded,
               rows_quarantined, error, note, started, finished, run_id, replaces
        FROM loads""",
    SESSION_SUMMARY_TABLE,
    EXPOSURE_SUMMARY_TABLE,
]


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params=None):
    """The one value a query returns. (fetchall, not fetchone: DuckDB keeps a result that was fetched
    with fetchone open, and with it the transaction, until a later fetch finds no more rows.)"""
    return con.execute(sql, params if params is not None else []).fetchall()[0][0]


def run(con: duckdb.DuckDBPyConnection, sql: str, params=None) -> None:
    """Run a statement to completion: DuckDB 2.0 keeps a statement's result open until it is fetched,
    and refuses other work on the connection meanwhile."""
    con.execute(sql, params if params is not None else []).fetchall()


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing of the tables and views, and add the columns older warehouses lack. A
    warehouse that still holds all that these statements made when they last ran on it is left as it
    is: two looks at catalogs instead of sixty statements (a fifth of a small load's own work)."""
    if _schema_in_place(con):
        return
    for statement in SCHEMA:
        con.execute(statement)
    if scalar(con, "SELECT count(*) FROM instruments") == 0:
        con.executemany(
            "INSERT INTO instruments VALUES (?, ?, ?, ?, ?)",
            [(i.code, i.label, i.low, i.high, i.higher_is_better) for i in INSTRUMENTS],
        )
    con.execute(
        f"CREATE OR REPLACE TABLE {SCHEMA_CATALOG} AS SELECT *, $fingerprint AS fingerprint FROM ({_CATALOG})",
        {"fingerprint": _schema_fingerprint()},
    )


SCHEMA_CATALOG = "schema_catalog"  # the catalog as it stood just after SCHEMA last ran, with SCHEMA's fingerprint

# The columns of the database's tables and views, with their types, and the views' definitions.
_CATALOG = """SELECT table_name, column_name, data_type FROM duckdb_columns()
    WHERE database_name = current_database() AND schema_name = 'main'
    UNION ALL
    SELECT view_name, 'view', sql FROM duckdb_views()
    WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal"""


def _schema_in_place(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the statements of SCHEMA ran on this warehouse as they are now (their fingerprint) and all
    they made then is still there: no column, table or view dropped or changed since, by hand or by an
    older hipline. (Recorded in the warehouse, rather than worked out by running the statements on an
    empty database in every process: that took longer than a small load's own checks.)"""
    found = scalar(
        con,
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = ?",
        [SCHEMA_CATALOG],
    )
    if not found:
        return False
    recorded, missing = con.execute(
        f"""SELECT count(*), count(*) FILTER (fingerprint IS DISTINCT FROM $fingerprint OR NOT EXISTS (
                SELECT 1 FROM ({_CATALOG}) AS live
                WHERE (live.table_name, live.column_name, live.data_type)
                      = (made.table_name, made.column_name, made.data_type)))
            FROM {SCHEMA_CATALOG} AS made""",
        {"fingerprint": _schema_fingerprint()},
    ).fetchall()[0]
    return recorded > 0 and missing == 0  # an emptied record proves nothing


@functools.cache
def _schema_fingerprint() -> str:
    return hashlib.sha256("\n".join(SCHEMA).encode()).hexdigest()


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A reader's connection to the live warehouse; raises FileNotFoundError when nothing is loaded yet."""
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: load some files first (hipline load --db {path} FILES)")
    return duckdb.connect(str(path), read_only=True, config=CONFIG)


def connect_private_reader(path: Path) -> duckdb.DuckDBPyConnection:
    """A long-lived reader's connection (the dashboard's): an in-memory database with the warehouse
    attached read-only. Unlike `connect_read_only`, it never shares the process's one open instance of
    the file, which after a load swapped the file in would still be the old file."""
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: load some files first (hipline load --db {path} FILES)")
    con = duckdb.connect(":memory:", config=CONFIG)
    try:
        con.execute("ATTACH ? AS warehouse (READ_ONLY)", [str(path)])
        con.execute("USE warehouse")
    except BaseException:
        con.close()
        raise
    return con


def staging_path(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def work_folder(path: Path) -> Path:
    """Where a load keeps its temporary files while it holds the lock."""
    return path.with_name(path.name + ".load-work")


def _leftovers(path: Path) -> list[Path]:
    staging = staging_path(path)
    return [staging, staging.with_name(staging.name + ".wal"), staging.with_name(staging.name + ".tmp")]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextlib.contextmanager
def exclusive_writer(path: Path, on_wait=None) -> Iterator[Path]:
    """Hold the warehouse's lock file for the duration of a load; yields the load's own work folder.

    While the lock is held the process's umask is 077, so every file DuckDB or a reader creates for
    the load is its owner's only. Taking the lock removes what a killed load left behind (the stale
    `.new` and its WAL, the work folder); letting it go, on every way out but `kill -9`, removes
    them again."""
    umask = os.umask(0o077)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # a folder it creates is 0700 too
        descriptor = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, OWNER_ONLY_FILE)
        with open(descriptor, "w") as lock:
            os.fchmod(lock.fileno(), OWNER_ONLY_FILE)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    on_wait()
                fcntl.flock(lock, fcntl.LOCK_EX)
            work = work_folder(path)
            try:
                for leftover in (*_leftovers(path), work):
                    _remove(leftover)
                work.mkdir(mode=OWNER_ONLY_FOLDER)
                os.chmod(work, OWNER_ONLY_FOLDER)
                yield work
            finally:
                for leftover in (*_leftovers(path), work):
                    _remove(leftover)
    finally:
        os.umask(umask)


@contextlib.contextmanager
def scratch_folder(path: Path) -> Iterator[Path]:
    """A work folder for reading files without the lock (a preview, which must not wait for a load):
    `<name>.preview-work/<pid>-<random>/`, owner-only like a load's, removed on the way out. One left
    by a process that is gone (killed) is removed by the next."""
    parent = path.with_name(path.name + ".preview-work")
    umask = os.umask(0o077)
    try:
        for attempt in range(3):  # another preview may remove the parent folder between the two steps
            parent.mkdir(mode=OWNER_ONLY_FOLDER, parents=True, exist_ok=True)
            for stale in parent.iterdir():
                pid = stale.name.partition("-")[0]
                if not pid.isdigit() or not _alive(int(pid)):
                    _remove(stale)
            try:
                folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=parent))  # 0700
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        try:
            yield folder
        finally:
            _remove(folder)
            with contextlib.suppress(OSError):
                parent.rmdir()  # when no other preview is using it
    finally:
        os.umask(umask)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _private_copy(source: Path, target: Path) -> None:
    """Copy a file to a new file that is its owner's only from the moment it exists."""
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY_FILE))
    shutil.copyfile(source, target)  # copyfile keeps the mode of a target that exists


@contextlib.contextmanager
def write_then_swap(
    path: Path,
    memory_limit: str = MEMORY_LIMIT,
    *,
    fresh: bool = False,
    before_swap: Callable[[duckdb.DuckDBPyConnection], Callable[[], None]] | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a private copy of the warehouse, published atomically when the block ends
    without error. The caller must hold `exclusive_writer`. `fresh`: an empty warehouse instead of a
    copy (a host's copy rebuilt from the clinic network, etl/replica.py).

    `before_swap(con)` runs when the copy is complete, before its checkpoint: a clinic network's load
    sends what changed to PostgreSQL there, in a transaction it leaves open, and returns the commit,
    which runs once the copy is checkpointed and closed, just before the swap (etl/publish.py). An error
    before that commit leaves both PostgreSQL and the live file as they were."""
    staging = staging_path(path)
    wal = staging.with_name(staging.name + ".wal")
    con = None
    commit = None
    try:
        for stale in _leftovers(path):
            _remove(stale)
        if path.exists() and not fresh:
            _private_copy(path, staging)
            live_wal = path.with_name(path.name + ".wal")
            if live_wal.exists():
                _private_copy(live_wal, wal)
        config = {**CONFIG, "memory_limit": memory_limit, "temp_directory": str(work_folder(path) / "spill")}
        con = duckdb.connect(str(staging), config=config)
        os.chmod(staging, OWNER_ONLY_FILE)
        con.execute("SET enable_progress_bar = false")  # the command line shows its own bar
        # The validation query tests cells against word lists (IN (...)) only on rows that need it;
        # DuckDB's in-clause rewrite would turn each list into a join evaluated on every row.
        con.execute("SET disabled_optimizers = 'in_clause'")
        create_schema(con)
        yield con
        if before_swap is not None:
            commit = before_swap(con)
        con.execute("CHECKPOINT")
        con.close()
        if commit is not None:
            commit()
    except BaseException:
        if con is not None:
            con.close()
        for stale in _leftovers(path):
            _remove(stale)
        raise
    _publish(staging, path)


def _publish(staging: Path, path: Path) -> None:
    os.chmod(staging, OWNER_ONLY_FILE)
    with open(staging, "rb") as f:
        os.fsync(f.fileno())
    os.replace(staging, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
