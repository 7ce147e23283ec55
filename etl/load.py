"""`hipline load`: put files into the warehouse without losing a row.

For each file: rows read = rows loaded + rows quarantined, and the report says all three. A file
is known by its name (relative to the folder loaded); loading the same bytes again changes
nothing, loading new bytes under the same name replaces what the earlier version contributed.
Reference files (staff, cohorts, clients) load first so the rows that point at them can be
checked. The whole load is published at once (see `etl.warehouse`): a crash leaves the warehouse
as it was. Inside that, a file that fails half-way is taken out again by its load id, so one bad
file does not stop the others.

Every load is recorded as a numbered run with who asked for it (`loaded_by`), and what a corrected
file replaces is moved to the archive, not deleted, so that `etl.history.undo` can put it back
(etl/archive.py). `preview` says, before a load, which files would replace an earlier version.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol

import duckdb

from etl import archive, publish, read, warehouse
from etl.columns import LOAD_ORDER, RECORD_KINDS
from etl.library import LIBRARY_FILE, load_library, unknown_exercise_names, write_library
from etl.read import Prepared
from etl.read_ahead import ReadAhead
from etl.rules import literal, validation_insert
from etl.sessions import refresh_session_summary, remember_loads
from etl.settings import DATE_ORDER, MAX_CELL_CHARS, MEMORY_LIMIT
from etl.sniff import EXTENSIONS, STAGED_EXTENSIONS, UnreadableFile, inspect_file
from etl.values import DateOrder, quoted
from etl.warehouse import run, scalar

REFERENCE_KINDS = tuple(warehouse.REFERENCE_KEYS)  # staff, cohorts, clients: the roster
# The roster's version: the newest load of a roster file that is in the warehouse now.
ROSTER_VERSION = "SELECT max(load_id) FROM loads WHERE status = 'loaded' AND kind IN ('staff', 'cohorts', 'clients')"


@dataclass
class FileReport:
    path: str
    file: str
    kind: str | None = None
    status: str = "error"  # loaded | replaced | unchanged | error
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    error: str | None = None
    note: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    unknown_exercises: dict[str, int] = field(default_factory=dict)  # names kept that the library does not know
    seconds: float = 0.0

    def in_words(self) -> str:
        """'sessions.csv (session_log): loaded, 40 read = 38 loaded + 2 quarantined' (the audit trail's)."""
        if self.error:
            return f"{self.file}: could not be read ({self.error})"
        return (f"{self.file} ({self.kind}): {self.status}, {self.rows_read} read = {self.rows_loaded} loaded + "
                f"{self.rows_quarantined} quarantined")  # fmt: skip


@dataclass
class LoadReport:
    warehouse: str
    files: list[FileReport]
    seconds: float
    run_id: int | None = None  # the load's number in the history (None: nothing was given to load)

    @property
    def all_readable(self) -> bool:
        return all(f.error is None for f in self.files)

    def in_words(self) -> str:
        return "; ".join(f.in_words() for f in self.files) or "no files"

    def as_dict(self) -> dict:
        return {
            "warehouse": self.warehouse,
            "load": self.run_id,
            "seconds": round(self.seconds, 3),
            "files": [asdict(f) for f in self.files],
        }


class Progress(Protocol):
    """Told how many bytes will be loaded, then as each group of files starts and finishes.

    (DuckDB's own estimate of a running statement's progress is not used: for the validation query
    it reaches 98 % once the small roster joins are built, long before the files are read.)"""

    def begin(self, total_bytes: int) -> None: ...
    def file_started(self, name: str, size: int) -> None: ...
    def file_done(self) -> None: ...


@dataclass(frozen=True)
class _Loaded:
    """What the warehouse holds of a file name already."""

    load_id: int
    content_hash: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    roster_version: int | None
    finished: datetime
    run_id: int | None  # the load (run) it was part of


@dataclass
class _Target:
    path: Path
    name: str
    report: FileReport
    prepared: Prepared | None = None
    previous: _Loaded | None = None  # the version of the same name that is loaded now
    sha256: str | None = None  # of the file's bytes, once read


def find_files(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """Files to load with the names the warehouse will know them by. Folders are searched for data
    files (by extension); a file named on the command line is always tried."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path)
                hidden = any(part.startswith(".") for part in relative.parts)
                if child.is_file() and child.suffix.lower() in EXTENSIONS and not hidden:
                    found.append((child, relative.as_posix()))
        else:
            found.append((path, path.name))
    return found


def load(
    db: Path,
    paths: Sequence[Path],
    *,
    today: date | None = None,
    date_order: DateOrder = DATE_ORDER,
    kind: str | None = None,
    progress: Progress | None = None,
    memory_limit: str = MEMORY_LIMIT,
    on_wait=None,
    library: Path = LIBRARY_FILE,
    loaded_by: str | None = None,
    max_cell_chars: int = MAX_CELL_CHARS,
    database_url: str | None = None,
) -> LoadReport:
    """Load files or folders into the warehouse `db`. `loaded_by` is who asked, as the history keeps
    it: the signed-in user's staff_id (the pages), `os:<account>` or `--as` (the command line).
    With `database_url` (a clinic network), `db` is this host's copy of the clinic data: the load is
    validated there as always and published to PostgreSQL (etl/publish.py)."""
    started = time.perf_counter()
    today = today or date.today()
    families = load_library(library)  # a broken library stops the load before anything is written
    targets = [_Target(p, n, FileReport(str(p), n)) for p, n in find_files(paths)]
    if not targets:
        return LoadReport(str(db), [], time.perf_counter() - started)
    # The lock is taken first: the work folder beside the warehouse is this load's alone.
    with (
        warehouse.exclusive_writer(db, on_wait) as workdir,
        publish.publishing(db, database_url, on_wait, memory_limit) as publication,
    ):
        send = publication.send if publication else None
        with warehouse.write_then_swap(db, memory_limit, before_swap=send) as con:
            ahead = ReadAhead(con)
            try:
                _prepare_all(
                    targets, kind, workdir, max_cell_chars, lambda ready: ahead.start(_certain_csv(con, ready))
                )
                ahead.wait()
                to_load = _decide_in(con, targets, schema_in_place=True)  # the copy holds what the live one holds
                if progress:
                    progress.begin(sum(t.prepared.facts.size for t in to_load))
                write_library(con, families)
                run_id = archive.begin_run(con, "load", loaded_by)
                for target in targets:
                    if target.report.status == "unchanged":
                        _record(con, target, run_id, "unchanged", started=datetime.now())
                first_new_load_id = scalar(con, "SELECT coalesce(max(load_id), 0) + 1 FROM loads")
                for batch in _batches(to_load):
                    _load_batch(con, batch, today, date_order, progress, run_id, ahead)
            finally:
                ahead.close()
            for target in targets:
                if target.report.error and target.prepared is None:
                    _record_error(con, target, run_id)
            refresh_session_summary(con, first_new_load_id)
            archive.finish_run(con, run_id)
    return LoadReport(str(db), [t.report for t in targets], time.perf_counter() - started, run_id)


def _prepare_all(
    targets: list[_Target],
    kind: str | None,
    workdir: Path,
    max_cell_chars: int = MAX_CELL_CHARS,
    when_the_quick_ones_are_ready: Callable[[list[_Target]], None] | None = None,
) -> None:
    """Hash, sniff and stage every file, in parallel (hashlib releases the GIL while it reads), then put them
    in load order. The files quick to prepare come first, and `when_the_quick_ones_are_ready` is told of
    them (in load order) before workbooks and JSON Lines are staged, row by row in Python (etl.read_ahead
    reads the CSV files meanwhile)."""

    def prepare(target: _Target) -> None:
        _prepare(target, kind, workdir, max_cell_chars)

    slow = [t for t in targets if t.path.suffix.lower() in STAGED_EXTENSIONS]
    quick = [t for t in targets if t.path.suffix.lower() not in STAGED_EXTENSIONS]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(prepare, quick))
        if when_the_quick_ones_are_ready:
            when_the_quick_ones_are_ready(sorted(quick, key=_load_order))
        list(pool.map(prepare, slow))
    targets.sort(key=_load_order)


def _load_order(target: _Target) -> tuple[int, str]:
    return LOAD_ORDER.get(target.report.kind or "", 99), target.name


def _certain_csv(con: duckdb.DuckDBPyConnection, targets: list[_Target]) -> list[list[Prepared]]:
    """The CSV files among `targets` (in load order) that this load will read whatever it decides: their
    content is not in the warehouse, nor in an earlier file of the load; grouped into reads as `_batches`
    groups them (etl.read_ahead reads them early)."""
    seen = {digest for (digest,) in con.execute("SELECT content_hash FROM loads WHERE status = 'loaded'").fetchall()}
    certain = []
    for target in targets:
        if target.prepared is None:
            continue
        if target.prepared.facts.format == "csv" and target.sha256 not in seen:
            certain.append(target)
        seen.add(target.sha256)
    return [[t.prepared for t in batch] for batch in _batches(certain)]


@dataclass
class FilePreview:
    """What loading a file would do, told before loading it (`preview`)."""

    file: str
    kind: str | None
    status: str  # new | replaces | unchanged | error
    note: str | None = None  # why unchanged, or why it cannot be read
    earlier_load: int | None = None  # replaces: the load (in the history) of the version it would replace
    earlier_load_id: int | None = None
    rows_before: tuple[int, int, int] | None = None  # that version's rows read, loaded, quarantined
    rows_after: int | None = None  # replaces: the rows the new file holds (read = loaded + quarantined)


def preview(db: Path, paths: Sequence[Path], *, kind: str | None = None) -> list[FilePreview]:
    """Which of these files would replace an earlier version if they were loaded now, with its rows
    before and the new file's rows after (counted by reading the file, as a load reads it, without
    checking them: how many will be quarantined only the load says). Files are listed in load order.
    Writes nothing to the warehouse, and does not wait for a load that is running (it answers from
    the warehouse as it is)."""
    targets = [_Target(p, n, FileReport(str(p), n)) for p, n in find_files(paths)]
    if not targets:
        return []
    with warehouse.scratch_folder(db) as workdir:
        _prepare_all(targets, kind, workdir)
        _decide(db, targets)
        con = duckdb.connect(":memory:", config=warehouse.CONFIG)
        try:
            return [_preview(con, target) for target in targets]
        finally:
            con.close()


def _preview(con: duckdb.DuckDBPyConnection, target: _Target) -> FilePreview:
    report = target.report
    if report.error:
        return FilePreview(target.name, report.kind, "error", report.error)
    if report.status == "unchanged":
        return FilePreview(target.name, report.kind, "unchanged", report.note)
    if target.previous is None:
        return FilePreview(target.name, report.kind, "new")
    before = target.previous
    return FilePreview(
        target.name, report.kind, "replaces", report.note, before.run_id, before.load_id,
        (before.rows_read, before.rows_loaded, before.rows_quarantined), _rows_in(con, target.prepared),
    )  # fmt: skip


def _rows_in(con: duckdb.DuckDBPyConnection, prepared: Prepared) -> int:
    """The rows a load would read from the file: its rows, and the lines that do not split into its columns."""
    if prepared.staged is not None:  # xlsx and JSON Lines: staged in Parquet
        return scalar(con, f"SELECT count(*) FROM {prepared.staged.relation()}") + len(prepared.malformed)
    if prepared.facts.format == "parquet":
        return scalar(con, f"SELECT count(*) FROM read_parquet({literal(str(prepared.read_path))})")
    scan = read.csv_scan(prepared, [str(prepared.read_path)], "preview_rejects")
    rows = scalar(con, f"SELECT count(*) FROM ({scan})")
    rejected = scalar(con, "SELECT count(*) FROM (SELECT DISTINCT line FROM preview_rejects)")
    con.execute("DROP TABLE IF EXISTS preview_rejects")
    con.execute("DROP TABLE IF EXISTS preview_rejects_scan")
    return rows + rejected


def _prepare(target: _Target, kind: str | None, workdir: Path, max_cell_chars: int) -> None:
    try:
        if not target.path.exists():
            raise UnreadableFile(f"{target.name} does not exist")
        if target.path.is_dir():
            raise UnreadableFile(f"{target.name} is a folder")
        facts = inspect_file(target.path, target.name)
        target.sha256 = facts.sha256
        target.prepared = read.prepare(facts, kind, workdir, max_cell_chars)
        target.report.kind = target.prepared.kind
        target.report.ignored_columns = target.prepared.ignored
    except UnreadableFile as e:
        target.report.error = str(e)


def _decide(db: Path, targets: list[_Target]) -> list[_Target]:
    """Which files need loading: new names, new contents, and files whose quarantined rows may now
    pass because the roster they point at is changing."""
    if not db.exists():
        return _decide_in(None, targets)
    con = warehouse.connect_read_only(db)
    try:
        return _decide_in(con, targets)
    finally:
        con.close()


def _decide_in(
    con: duckdb.DuckDBPyConnection | None, targets: list[_Target], schema_in_place: bool = False
) -> list[_Target]:
    """`_decide` on a connection to the warehouse (None: there is none yet). `schema_in_place`: the load's
    own copy, whose schema it has just brought up to date (the two looks at the catalog are 7 ms of a day's load)."""
    history: dict[str, _Loaded] = {}
    by_hash: dict[str, str] = {}
    roster_version = None
    if con is not None and (
        schema_in_place or scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'loads'")
    ):
        has_runs = schema_in_place or scalar(
            con,
            "SELECT count(*) FROM information_schema.columns WHERE table_name = 'loads' AND column_name = 'run_id'",
        )
        for name, *fields in con.execute(
            "SELECT source_file, load_id, content_hash, rows_read, rows_loaded, rows_quarantined, "
            f"roster_version, finished, {'run_id' if has_runs else 'NULL'} FROM loads WHERE status = 'loaded'"
        ).fetchall():
            history[name] = _Loaded(*fields)
            by_hash[history[name].content_hash] = name
        roster_version = scalar(con, ROSTER_VERSION)
    to_load: list[_Target] = []
    roster_changing = False
    for target in targets:
        if target.prepared is None:
            continue
        digest = target.prepared.facts.sha256
        previous = history.get(target.name)
        same_elsewhere = by_hash.get(digest)
        if previous and previous.content_hash == digest:
            recheck = previous.rows_quarantined > 0 and (roster_changing or previous.roster_version != roster_version)
            if not recheck:
                _unchanged(target, previous, f"already loaded on {previous.finished:%Y-%m-%d %H:%M}")
                continue
            target.report.note = "re-checked against the updated roster"
        elif same_elsewhere and same_elsewhere != target.name:
            _unchanged(target, history[same_elsewhere], f"same content as {same_elsewhere}, already loaded")
            continue
        target.previous = previous
        by_hash[digest] = target.name
        if target.prepared.kind in REFERENCE_KINDS:
            roster_changing = True
        to_load.append(target)
    return to_load


def _unchanged(target: _Target, loaded: _Loaded, note: str) -> None:
    """Nothing to do: the report repeats the counts of the load that is already in the warehouse."""
    report = target.report
    report.status, report.note = "unchanged", note
    report.rows_read, report.rows_loaded, report.rows_quarantined = (
        loaded.rows_read,
        loaded.rows_loaded,
        loaded.rows_quarantined,
    )
    target.prepared = None


def _record_error(con: duckdb.DuckDBPyConnection, target: _Target, run_id: int) -> None:
    _record(con, target, run_id, "error", started=datetime.now())


def _record(
    con: duckdb.DuckDBPyConnection,
    target: _Target,
    run_id: int,
    status: str,
    *,
    started: datetime,
    load_id: int | None = None,
    roster_version: int | None = None,
) -> None:
    """The file's row in the history (`loads`), with the counts and note of its report."""
    report = target.report
    run(
        con,
        """INSERT INTO loads (load_id, source_file, path, content_hash, kind, status, rows_read, rows_loaded,
                              rows_quarantined, error, note, started, finished, roster_version, run_id, replaces)
           VALUES (coalesce(?, (SELECT coalesce(max(load_id), 0) + 1 FROM loads)), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                   ?, ?, ?, ?, ?)""",
        [
            load_id, target.name, str(target.path), target.sha256, report.kind, status, report.rows_read,
            report.rows_loaded, report.rows_quarantined, report.error, report.note, started, datetime.now(),
            roster_version, run_id, target.previous.load_id if target.previous and status == "loaded" else None,
        ],
    )  # fmt: skip


def _batches(targets: list[_Target]) -> list[list[_Target]]:
    """Consecutive CSV files of the same kind and layout are read by one statement, which lets DuckDB
    read them in parallel (a month of daily exports loads as fast as one big file)."""
    batches: list[list[_Target]] = []
    for target in targets:
        p = target.prepared
        layout = (p.kind, p.delimiter, p.facts.encoding, p.skip, tuple(p.headers)) if p.facts.format == "csv" else None
        last = batches[-1][0].prepared if batches else None
        same = (
            layout is not None
            and last is not None
            and last.facts.format == "csv"
            and layout == (last.kind, last.delimiter, last.facts.encoding, last.skip, tuple(last.headers))
        )
        if same:
            batches[-1].append(target)
        else:
            batches.append([target])
    return batches


def _load_batch(
    con,
    batch: list[_Target],
    today: date,
    order: DateOrder,
    progress: Progress | None,
    run_id: int,
    ahead: ReadAhead | None = None,
) -> None:
    """Load a batch of files. The statements commit one by one: the swap at the end of the load is
    what makes it all-or-nothing, and an UPDATE of rows appended in the same transaction would make
    DuckDB rewrite them at commit. A batch that fails is deleted again by its load ids, and the
    earlier versions it had moved to the archive are put back."""
    begun, started = time.perf_counter(), datetime.now()
    kind = batch[0].prepared.kind
    first_id = scalar(con, "SELECT coalesce(max(load_id), 0) + 1 FROM loads")
    ids = {target.name: first_id + i for i, target in enumerate(batch)}
    replaced = [t.previous.load_id for t in batch if t.previous]
    if progress:
        progress.file_started(
            batch[0].name if len(batch) == 1 else f"{len(batch)} files of {kind}",
            sum(t.prepared.facts.size for t in batch),
        )
    try:
        _insert_rows(con, batch, ids, today, order, ahead)
        _mark_duplicates(con, kind, list(ids.values()), ignore=replaced)
        seconds = (time.perf_counter() - begun) / len(batch)
        for target in batch:
            _finish_file(con, target, ids[target.name], started, seconds, run_id)
        for target in batch:
            if target.previous:  # only now: a corrected file that fails to load leaves the earlier one
                _replace_previous_version(con, target.name, ids[target.name], run_id)
    except duckdb.Error as e:
        _discard(con, kind, list(ids.values()), run_id, replaced)
        if len(batch) > 1:  # find the file at fault: load them one at a time
            for target in batch:
                _load_batch(con, [target], today, order, None, run_id)
        else:
            target = batch[0]
            report = target.report
            report.status, report.rows_read, report.rows_loaded, report.rows_quarantined = "error", 0, 0, 0
            report.error = f"{target.name} could not be read: {str(e).splitlines()[0]}"
            report.seconds = time.perf_counter() - begun
            _record_error(con, target, run_id)
    finally:
        if progress:
            progress.file_done()


def _discard(con, kind: str, load_ids: list[int], run_id: int, replaced: list[int]) -> None:
    archive.forget_moves(con, run_id, replaced)
    span = {"first": min(load_ids), "last": max(load_ids)}
    for table in (f"{kind}_rows", "malformed_rows", "loads", "load_changes"):
        run(con, f"DELETE FROM {table} WHERE load_id BETWEEN $first AND $last", span)
    for (table,) in con.execute(  # not the reads of later batches done ahead (etl.read_ahead)
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'rejects_%' "
        "AND table_name NOT LIKE 'rejects_ahead_%'"
    ).fetchall():
        run(con, f"DROP TABLE {table}")


def _finish_file(con, target: _Target, load_id: int, started: datetime, seconds: float, run_id: int) -> None:
    """Duplicates, counts and the load's row in the history, for one file of a batch."""
    prepared, report = target.prepared, target.report
    loaded, quarantined = _counts(con, prepared.kind, load_id)
    report.rows_read, report.rows_loaded, report.rows_quarantined = loaded + quarantined, loaded, quarantined
    report.status = "replaced" if target.previous else "loaded"
    report.seconds = seconds
    if prepared.kind == "session_log":
        report.unknown_exercises = dict(unknown_exercise_names(con, "load_id = ?", [load_id]))
        if report.unknown_exercises:
            names = ", ".join(
                f"'{name}' ({rows:,} row{'' if rows == 1 else 's'})" for name, rows in report.unknown_exercises.items()
            )
            kept = f"kept exercise names the library does not know: {names}"
            report.note = f"{report.note}; {kept}" if report.note else kept
    roster = load_id if prepared.kind in REFERENCE_KINDS else scalar(con, ROSTER_VERSION)
    _record(con, target, run_id, "loaded", started=started, load_id=load_id, roster_version=roster)
    archive.record_in(con, run_id, load_id)


def _replace_previous_version(con, name: str, new_load_id: int, run_id: int) -> None:
    """The earlier versions of the file leave the warehouse for the archive, where an undo finds them."""
    earlier = [
        load_id
        for (load_id,) in con.execute(
            "SELECT load_id FROM loads WHERE source_file = ? AND status = 'loaded' AND load_id <> ?",
            [name, new_load_id],
        ).fetchall()
    ]
    remember_loads(con, earlier)  # their sessions must be aggregated again
    archive.move_out(con, run_id, earlier, "superseded")


def _insert_rows(
    con, batch: list[_Target], ids: dict[str, int], today: date, order: DateOrder, ahead: ReadAhead | None = None
) -> None:
    first = batch[0].prepared
    kind = first.kind

    def insert(source) -> None:
        sql = validation_insert(kind, source, order)
        params = {"today": today} if "$today" in sql else {}  # only event dates are checked against today
        run(con, sql, params)

    if first.facts.format == "csv":
        files = {str(t.prepared.read_path): (ids[t.name], t.name) for t in batch}
        read_early = ahead.take(tuple(files)) if ahead else None
        if read_early:
            scanned, rejects = read_early
        else:
            rejects, scanned = f"rejects_{min(ids.values())}", f"scanned_{min(ids.values())}"
            run(con, f"CREATE OR REPLACE TEMP TABLE {scanned} AS {read.csv_scan(first, files, rejects)}")
        try:
            insert(read.csv_relation(first, files, scanned, read.first_rows(con, scanned)))
        finally:
            run(con, f"DROP TABLE IF EXISTS {scanned}")
        _quarantine_rejected_lines(con, kind, files, rejects)
        for target in batch:
            _number_around_gaps(con, target.prepared, kind, ids[target.name])
        return
    target = batch[0]
    identity = (ids[target.name], target.name)
    if first.facts.format == "parquet":
        insert(read.parquet_relation(first, identity))
    else:
        insert(read.staged_relation(first, identity))
    if first.malformed:
        con.executemany(
            "INSERT INTO malformed_rows VALUES (?, ?, ?, ?, ?, ?)",
            [(ids[target.name], target.name, row, kind, reason, raw) for row, reason, raw in first.malformed],
        )


REJECT_REASONS = {
    "TOO MANY COLUMNS": "the row has more values than the header has columns (a delimiter inside an unquoted value?)",
    "MISSING COLUMNS": "the row has fewer values than the header has columns",
    "UNQUOTED VALUE": "a value has a stray quote character",
    "INVALID UNICODE": "the row has characters that are not valid in the file's encoding",
    "LINE SIZE OVER MAXIMUM": "the row is longer than 4 million characters",
}


def _quarantine_rejected_lines(con, kind: str, files: dict[str, tuple[int, str]], rejects: str) -> None:
    """Lines DuckDB could not split into the header's columns go to the quarantine as they were."""
    bad = con.execute(
        f"""SELECT s.file_path, e.line, first(e.error_type), first(e.csv_line), first(e.error_message)
            FROM {rejects} AS e JOIN {rejects}_scan AS s USING (scan_id, file_id)
            GROUP BY s.file_path, e.line ORDER BY s.file_path, e.line"""
    ).fetchall()
    if bad:
        con.executemany(
            "INSERT INTO malformed_rows VALUES (?, ?, ?, ?, ?, ?)",
            [
                (*files[path], line, kind, REJECT_REASONS.get(error, message.splitlines()[0]), raw)
                for path, line, error, raw, message in bad
            ],
        )
    run(con, f"DROP TABLE IF EXISTS {rejects}")
    run(con, f"DROP TABLE IF EXISTS {rejects}_scan")


def _number_around_gaps(con, prepared: Prepared, kind: str, load_id: int) -> None:
    """Give each CSV row the line number a spreadsheet shows, in a file with blank or rejected lines.

    A row arrives numbered as if its file had none (etl.read.csv_relation): the n-th row (from 0) is the
    n-th of the lines that are neither blank nor rejected by the reader, and those lines are the gaps in
    that numbering. Most files have none, and nothing is rewritten."""
    first_data_line = prepared.skip + 2
    rejected = [
        line
        for (line,) in con.execute(
            "SELECT source_row FROM malformed_rows WHERE load_id = ? ORDER BY source_row", [load_id]
        ).fetchall()
    ]
    gaps = sorted(set(rejected) | {b for b in prepared.facts.blank_lines if b >= first_data_line})
    if not gaps:
        return
    # The k-th row read (from 0) comes after gap j when k >= gap_j - j - first_data_line + 1.
    thresholds = [gap - j - first_data_line + 1 for j, gap in enumerate(gaps, 1)]
    table = f"{kind}_rows"
    run(
        con,
        f"""UPDATE {table} SET source_row = source_row + len(list_filter($thresholds, lambda t: t <= k))
            FROM (SELECT rowid AS id, source_row - {first_data_line} AS k FROM {table} WHERE load_id = $load_id)
                AS numbered
            WHERE {table}.rowid = numbered.id""",
        {"load_id": load_id, "thresholds": thresholds},
    )


def _typed_raw(kind: str) -> str:
    return "json_object(" + ", ".join(f"'{c.name}', {c.name}" for c in RECORD_KINDS[kind].columns) + ")"


def _mark_duplicates(con, kind: str, load_ids: list[int], ignore: list[int]) -> None:
    """Quarantine exact duplicates: of an earlier row of the same file, or, for sessions and measures,
    of a row already loaded from another file (the earlier row stays). For reference records a
    second row for the same id in one file is quarantined too; across files the newest load wins.

    Duplicates are rare: the hashes that occur twice are found first, on one column (the new rows
    build the join's hash table, the rows already loaded only probe it), and only when there are any
    are their rows looked at again."""
    table, raw = f"{kind}_rows", _typed_raw(kind)
    batch = {"first": min(load_ids), "last": max(load_ids)}  # a batch's load ids are consecutive
    if kind in warehouse.REFERENCE_KEYS:
        key = warehouse.REFERENCE_KEYS[kind]
        already = (
            f"'{key} ' || {quoted(f'{table}.{key}')} || ' already appears in row ' || d.first_row || ' of this file'"
        )
        for column, message in (("row_hash", "'exact duplicate of row ' || d.first_row"), (key, already)):
            run(
                con,
                f"""UPDATE {table} SET reason = {message}, raw = {raw}
                    FROM (SELECT load_id, {column} AS value, min(source_row) AS first_row FROM {table}
                          WHERE load_id BETWEEN $first AND $last AND reason IS NULL
                          GROUP BY load_id, {column} HAVING count(*) > 1) AS d
                    WHERE {table}.load_id = d.load_id AND {table}.reason IS NULL
                      AND {table}.{column} = d.value AND {table}.source_row > d.first_row""",
                batch,
            )
        return
    # Rows of the loads this batch replaces are about to go: they are nobody's original.
    others = "(load_id < $first OR load_id > $last)" + (
        f" AND load_id NOT IN ({', '.join(str(i) for i in ignore)})" if ignore else ""
    )
    new_rows = f"SELECT row_hash FROM {table} WHERE load_id BETWEEN $first AND $last AND reason IS NULL"
    # Exact duplicates share their date: only rows dated within the new rows' dates are looked at,
    # which lets DuckDB skip most of a big table by its row groups' date ranges.
    day = "session_date" if kind == "session_log" else "measured_on"
    low, high = con.execute(
        f"SELECT min({day}), max({day}) FROM {table} WHERE load_id BETWEEN $first AND $last AND reason IS NULL",
        batch,
    ).fetchall()[0]
    candidates = con.execute(
        f"""{new_rows} GROUP BY row_hash HAVING count(*) > 1
            UNION
            SELECT row_hash FROM {table}
            WHERE {others} AND {day} BETWEEN $low AND $high AND reason IS NULL AND row_hash IN ({new_rows})""",
        batch | {"low": low, "high": high},
    ).fetchall()
    repeated = [h for (h,) in candidates]
    if not repeated:
        return
    first = "{'load_id': load_id, 'source_row': source_row, 'source_file': source_file}"
    run(
        con,
        f"""UPDATE {table} SET reason = CASE WHEN d.first.load_id = {table}.load_id
                THEN 'exact duplicate of row ' || d.first.source_row
                ELSE 'exact duplicate of row ' || d.first.source_row || ' of ' || d.first.source_file
                     || ', which is already loaded' END,
            raw = {raw}
            FROM (SELECT row_hash, min({first}) AS first FROM {table}
                  WHERE reason IS NULL AND ({others} OR load_id BETWEEN $first AND $last)
                    AND list_contains($repeated, row_hash)
                  GROUP BY row_hash) AS d
            WHERE {table}.load_id BETWEEN $first AND $last AND {table}.reason IS NULL
              AND {table}.row_hash = d.row_hash
              AND ({table}.load_id, {table}.source_row) <> (d.first.load_id, d.first.source_row)""",
        batch | {"repeated": repeated},
    )


def _counts(con, kind: str, load_id: int) -> tuple[int, int]:
    loaded, quarantined = con.execute(
        f"SELECT count(*) FILTER (WHERE reason IS NULL), count(*) FILTER (WHERE reason IS NOT NULL) "
        f"FROM {kind}_rows WHERE load_id = ?",
        [load_id],
    ).fetchall()[0]
    malformed = scalar(con, "SELECT count(*) FROM malformed_rows WHERE load_id = ?", [load_id])
    return loaded, quarantined + malformed
