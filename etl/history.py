"""The history of loads, and undoing one (docs/warehouse.md#history-and-undo).

Every load is a numbered run (`load_runs`): who, when, each file with its sha256 and rows read =
loaded + quarantined, and for a corrected file the earlier version it replaced. `history` reads them,
newest first. `undo` puts the warehouse back to what it held before a load, for that load's files:
it takes out the versions the load brought and puts back the ones it replaced, which the archive
kept (etl/archive.py). An undo is a load of its own, through the same write-then-swap (all or
nothing, a `kill -9` leaves the warehouse as it was) and recorded in the history, so it can be
undone in turn.

Later loads. An undo changes only the files of the load it undoes; loads of other files since then
stay. When a later load changed one of the same files (a newer version of it, or an undo), the
undo is refused with the later loads named: undo those first, newest first.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from etl import archive, publish, warehouse
from etl.library import LIBRARY_FILE, load_library, write_library
from etl.sessions import refresh_session_summary, remember_loads
from etl.settings import MEMORY_LIMIT
from etl.warehouse import scalar


class UndoRefused(ValueError):
    """The undo cannot be done; the message says why and what to do instead. Nothing was changed."""


@dataclass
class Replaced:
    """The earlier version of a file that a load replaced."""

    load: int | None  # the load (run) that had loaded it
    load_id: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int


@dataclass
class FileEntry:
    """A file in a load: for a load, how it was loaded; for an undo, a version it took out or put back."""

    file: str
    kind: str | None
    status: str  # a load's: loaded | replaced | unchanged | error; an undo's: taken out | put back
    now: str  # the version's state now: loaded | superseded | undone | unchanged | error
    load_id: int  # the version of the file (loads.load_id)
    loaded_in: int | None  # the load (run) that brought this version
    sha256: str | None
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    error: str | None = None
    note: str | None = None
    replaced: Replaced | None = None

    def counts(self) -> str:
        return f"{self.rows_read:,} read = {self.rows_loaded:,} loaded + {self.rows_quarantined:,} quarantined"

    def in_words(self, detailed: bool = False) -> str:
        """`june.csv: replaced, 2 read = 2 loaded + 0 quarantined; it replaced the version of load 2 (…)`;
        `detailed` (the history's table) adds the file's hash, what became of it since, and its note."""
        if self.status in ("taken out", "put back"):
            return f"{self.status} {self.file} as load {self.loaded_in} had loaded it ({self.counts()})"
        if self.error:
            return f"{self.file}: could not be read ({self.error})"
        name = f"{self.file} (sha256 {self.sha256[:12]}…)" if detailed and self.sha256 else self.file
        words = f"{name}: {self.status}, {self.counts()}"
        if self.replaced:
            r = self.replaced
            words += (
                f"; it replaced the version of load {r.load} ({r.rows_read:,} read = {r.rows_loaded:,} loaded + "
                f"{r.rows_quarantined:,} quarantined)"
            )
        if detailed and self.status in ("loaded", "replaced") and self.now != "loaded":
            words += f"; {self.now} since"
        if detailed and self.note:
            words += f"; {self.note}"
        return words


@dataclass
class LoadEntry:
    """One load (or undo) in the history."""

    load: int | None  # its number; None for a file loaded before hipline numbered its loads
    action: str  # load | undo
    loaded_by: str | None
    started: datetime
    finished: datetime | None
    undoes: int | None = None  # an undo: the load it undid
    undone_by: int | None = None  # the undo that undid this load, while that undo stands
    files: list[FileEntry] = field(default_factory=list)

    def what(self) -> str:
        done = f"undo of load {self.undoes}" if self.action == "undo" else "load"
        return done + (f" (undone by load {self.undone_by})" if self.undone_by else "")

    def in_words(self) -> str:
        return f"{self.what()}: " + ("; ".join(f.in_words() for f in self.files) or "no files")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class UndoReport:
    warehouse: str
    run_id: int  # the undo's own number in the history
    undid: int
    taken_out: list[FileEntry]
    put_back: list[FileEntry]
    seconds: float

    def in_words(self) -> str:
        changed = "; ".join(f.in_words() for f in (*self.taken_out, *self.put_back))
        return f"load {self.run_id} undid load {self.undid}: {changed}"

    def as_dict(self) -> dict:
        return {
            "warehouse": self.warehouse,
            "load": self.run_id,
            "undid": self.undid,
            "seconds": round(self.seconds, 3),
            "taken_out": [asdict(f) for f in self.taken_out],
            "put_back": [asdict(f) for f in self.put_back],
        }


# -- reading ------------------------------------------------------------------------------------

_FILE_COLUMNS = """l.load_id, l.source_file, l.kind, l.status, l.content_hash, l.rows_read, l.rows_loaded,
    l.rows_quarantined, l.error, l.note, l.run_id, l.replaces, p.run_id, p.rows_read, p.rows_loaded,
    p.rows_quarantined, l.started, l.finished"""


def _file_entry(row: tuple, status: str | None = None) -> FileEntry:
    (load_id, name, kind, now, sha256, read, loaded, quarantined, error, note, run_id, replaces,
     p_run, p_read, p_loaded, p_quarantined, *_) = row  # fmt: skip
    if status is None:
        status = "replaced" if replaces is not None else now if now in ("unchanged", "error") else "loaded"
    replaced = Replaced(p_run, replaces, p_read, p_loaded, p_quarantined) if replaces is not None else None
    return FileEntry(name, kind, status, now, load_id, run_id, sha256, read, loaded, quarantined, error, note, replaced)


def _has_runs(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'load_runs'"))


def _entries(con: duckdb.DuckDBPyConnection, run_ids: list[int] | None = None) -> list[LoadEntry]:
    where = "" if run_ids is None else f"WHERE run_id IN ({', '.join(str(int(i)) for i in run_ids) or 'NULL'})"
    runs = con.execute(
        f"SELECT run_id, action, loaded_by, started, finished, undoes, undone_by FROM load_runs {where} "
        "ORDER BY run_id DESC"
    ).fetchall()
    entries = {run[0]: LoadEntry(*run) for run in runs}
    for row in con.execute(
        f"""SELECT {_FILE_COLUMNS} FROM loads AS l LEFT JOIN loads AS p ON p.load_id = l.replaces
            WHERE l.run_id IN (SELECT run_id FROM load_runs {where}) ORDER BY l.load_id"""
    ).fetchall():
        entries[row[10]].files.append(_file_entry(row))
    for run_id, change, *row in con.execute(
        f"""SELECT c.run_id, c.change, {_FILE_COLUMNS} FROM load_changes AS c
            JOIN load_runs AS r USING (run_id) JOIN loads AS l ON l.load_id = c.load_id
            LEFT JOIN loads AS p ON p.load_id = l.replaces
            WHERE r.action = 'undo' AND c.run_id IN (SELECT run_id FROM load_runs {where})
            ORDER BY c.change DESC, l.load_id"""
    ).fetchall():
        entry = _file_entry(tuple(row), "put back" if change == "in" else "taken out")
        entry.replaced = None
        entries[run_id].files.append(entry)
    return list(entries.values())


def history(db: Path, limit: int | None = None) -> list[LoadEntry]:
    """Every load and undo, newest first; files loaded before hipline numbered its loads come last,
    one entry each (their number is None: they cannot be undone)."""
    con = warehouse.connect_read_only(db)
    try:
        if not scalar(con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'loads'"):
            return []
        runs = _has_runs(con)
        entries: list[LoadEntry] = []
        if runs:
            newest = None
            if limit:
                query = "SELECT run_id FROM load_runs ORDER BY run_id DESC LIMIT ?"
                newest = [i for (i,) in con.execute(query, [limit]).fetchall()]
            entries = _entries(con, newest)
        numbered = "run_id IS NULL" if runs else "TRUE"
        for row in con.execute(
            f"""SELECT load_id, source_file, kind, status, content_hash, rows_read, rows_loaded, rows_quarantined,
                       error, note, NULL, NULL, NULL, NULL, NULL, NULL, started, finished
                FROM loads WHERE {numbered} ORDER BY load_id DESC"""
        ).fetchall():
            entries.append(LoadEntry(None, "load", None, row[-2], row[-1], files=[_file_entry(row)]))
    finally:
        con.close()
    return entries[:limit] if limit else entries


# -- undoing ------------------------------------------------------------------------------------


def undo(
    db: Path,
    load: int,
    *,
    loaded_by: str | None = None,
    memory_limit: str = MEMORY_LIMIT,
    on_wait=None,
    library: Path = LIBRARY_FILE,
    database_url: str | None = None,
) -> UndoReport:
    """Put the warehouse back to what it held before load `load`, for that load's files, in one
    atomic step; recorded in the history as a load of its own (which may be undone in turn).
    Raises UndoRefused (and changes nothing) when it cannot be done. With `database_url` (a clinic
    network), `db` is this host's copy, and the undo is published like a load (etl/publish.py)."""
    started = time.perf_counter()
    if not Path(db).exists() and not database_url:
        raise UndoRefused(f"there is no warehouse at {db}: nothing has been loaded")
    families = load_library(library)
    with (
        warehouse.exclusive_writer(db, on_wait),
        publish.publishing(db, database_url, on_wait, memory_limit) as publication,
    ):
        if not Path(db).exists():  # a clinic network where nothing is published yet
            raise UndoRefused("nothing has been published to the clinic network yet: there is nothing to undo")
        _check(db, load)  # on the live file, before copying it
        send = publication.send if publication else None
        with warehouse.write_then_swap(db, memory_limit, before_swap=send) as con:
            write_library(con, families)
            taken_out, put_back = archive.changes(con, load)
            run_id = archive.begin_run(con, "undo", loaded_by, undoes=load)
            remember_loads(con, taken_out)
            archive.move_out(con, run_id, taken_out, "undone")
            archive.move_in(con, run_id, put_back)
            remember_loads(con, put_back)
            _mark_undone(con, load, run_id)
            # A version taken out is 'undone' when the load that brought it is undone now; otherwise (an
            # undo of an undo takes out what the load it undid had put back) it is 'superseded' again.
            if taken_out:
                con.execute(
                    f"""UPDATE loads SET status = CASE WHEN (SELECT undone_by FROM load_runs AS r
                                                              WHERE r.run_id = loads.run_id) IS NULL
                                                         THEN 'superseded' ELSE 'undone' END
                        WHERE load_id IN ({", ".join(map(str, taken_out))})"""
                ).fetchall()
            refresh_session_summary(con, scalar(con, "SELECT coalesce(max(load_id), 0) + 1 FROM loads"))
            archive.finish_run(con, run_id)
            entry = _entries(con, [run_id])[0]
    return UndoReport(
        str(db),
        run_id,
        load,
        [f for f in entry.files if f.status == "taken out"],
        [f for f in entry.files if f.status == "put back"],
        time.perf_counter() - started,
    )


def _check(db: Path, load: int) -> None:
    """Refuse an undo that cannot be done, saying why and what to do instead."""
    con = warehouse.connect_read_only(db)
    try:
        run = (
            con.execute("SELECT action, undone_by FROM load_runs WHERE run_id = ?", [load]).fetchall()
            if _has_runs(con)
            else []
        )
        if not run:
            raise UndoRefused(f"there is no load {load} in the history of {db} (hipline history lists them)")
        _action, undone_by = run[0]
        if undone_by is not None:
            raise UndoRefused(f"load {load} was already undone by load {undone_by} (undo load {undone_by} to redo it)")
        taken_out, put_back = archive.changes(con, load)
        if not taken_out and not put_back:
            raise UndoRefused(
                f"load {load} changed nothing in the warehouse (its files were unchanged or could not be read): "
                "there is nothing to undo"
            )
        ids = ", ".join(map(str, taken_out + put_back))
        # What the load put in must still be in the warehouse, and what it took out still in the archive.
        in_warehouse = dict(
            con.execute(f"SELECT load_id, status = 'loaded' FROM loads WHERE load_id IN ({ids})").fetchall()
        )
        if all(in_warehouse.get(i) for i in taken_out) and not any(in_warehouse.get(i) for i in put_back):
            return
        later = con.execute(
            f"""SELECT r.run_id, string_agg(DISTINCT l.source_file, ', ' ORDER BY l.source_file)
                FROM load_runs AS r JOIN load_changes AS c USING (run_id) JOIN loads AS l ON l.load_id = c.load_id
                WHERE r.run_id > ? AND r.undone_by IS NULL
                  AND l.source_file IN (SELECT source_file FROM loads WHERE load_id IN ({ids}))
                GROUP BY r.run_id ORDER BY r.run_id DESC""",
            [load],
        ).fetchall()
        named = ", ".join(f"load {run_id} ({files})" for run_id, files in later)
        newest = later[0][0] if later else None
        raise UndoRefused(
            f"load {load} cannot be undone: later loads changed the same files since ({named}). "
            f"Undo the newest of them first (hipline undo {newest}), then load {load}"
        )
    finally:
        con.close()


def _mark_undone(con: duckdb.DuckDBPyConnection, load: int, by: int) -> None:
    """Load `load` is undone by `by`. When it was itself an undo, the load it had undone stands again
    (and so on down a chain of undos of undos)."""
    con.execute("UPDATE load_runs SET undone_by = ? WHERE run_id = ?", [by, load]).fetchall()
    current = load
    while True:
        undoes, undone_by = con.execute(
            "SELECT undoes, undone_by FROM load_runs WHERE run_id = ?", [current]
        ).fetchall()[0]
        if undoes is None:
            return
        # `current` undid `undoes`: that load is undone exactly while `current` stands.
        con.execute(
            "UPDATE load_runs SET undone_by = ? WHERE run_id = ?", [current if undone_by is None else None, undoes]
        ).fetchall()
        current = undoes
