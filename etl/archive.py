"""What a load replaced is kept, so that an undo loses nothing (docs/warehouse.md#history-and-undo).

Every load is a numbered *run* (`load_runs`): who, when, and for an undo which load it undid. Each
file it loaded is a *version* of that file (a row of `loads`, its `load_id`), and a version's rows are
either in the warehouse (`<kind>_rows`, `malformed_rows`) or kept aside in the archive tables of the
same columns (`archived_<kind>_rows`, `archived_malformed_rows`). A run only ever moves whole versions
in or out; `load_changes` says which, so that undoing a run is moving the same versions the other way.

- a load puts its new versions in, and moves the earlier version of each file it replaces out
  (`loads.status` 'superseded');
- an undo of a run moves that run's versions out ('undone') and the ones it moved out back in
  ('loaded'); an undo of an undo does the same, so it puts back what the undo took out.

All of this happens in the load's staging copy, before the swap (etl/warehouse.py): the move is
published whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from etl.warehouse import ARCHIVED, ROW_TABLES, scalar


def begin_run(con: duckdb.DuckDBPyConnection, action: str, loaded_by: str | None, undoes: int | None = None) -> int:
    """Number a new run (a load or an undo) and record who started it."""
    run_id = scalar(con, "SELECT coalesce(max(run_id), 0) + 1 FROM load_runs")
    con.execute(
        "INSERT INTO load_runs (run_id, action, loaded_by, started, undoes) VALUES (?, ?, ?, ?, ?)",
        [run_id, action, loaded_by, datetime.now(), undoes],
    ).fetchall()
    return run_id


def finish_run(con: duckdb.DuckDBPyConnection, run_id: int) -> None:
    con.execute("UPDATE load_runs SET finished = ? WHERE run_id = ?", [datetime.now(), run_id]).fetchall()


def record_in(con: duckdb.DuckDBPyConnection, run_id: int, load_id: int) -> None:
    """A new version of a file was loaded by the run: its rows are in the warehouse."""
    con.execute("INSERT INTO load_changes VALUES (?, ?, 'in')", [run_id, load_id]).fetchall()


def _ids(load_ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in load_ids)


def move_out(con: duckdb.DuckDBPyConnection, run_id: int, load_ids: Sequence[int], status: str) -> None:
    """Move the rows of these versions from the warehouse to the archive; their loads get `status`."""
    _move(con, run_id, load_ids, "", ARCHIVED, status, "out")


def move_in(con: duckdb.DuckDBPyConnection, run_id: int, load_ids: Sequence[int]) -> None:
    """Move the rows of these versions from the archive back into the warehouse; their loads are 'loaded'."""
    _move(con, run_id, load_ids, ARCHIVED, "", "loaded", "in")


def _move(
    con: duckdb.DuckDBPyConnection, run_id: int, load_ids: Sequence[int], source: str, target: str, status: str,
    change: str,
) -> None:  # fmt: skip
    """Move the rows of these versions between the tables prefixed `source` and `target` ('' or ARCHIVED),
    set their loads' status, and record the change ('in' or 'out') against run `run_id`."""
    if not load_ids:
        return
    ids = _ids(load_ids)
    for table in ROW_TABLES:
        con.execute(f"INSERT INTO {target}{table} SELECT * FROM {source}{table} WHERE load_id IN ({ids})").fetchall()
        con.execute(f"DELETE FROM {source}{table} WHERE load_id IN ({ids})").fetchall()
    con.execute(f"UPDATE loads SET status = ? WHERE load_id IN ({ids})", [status]).fetchall()
    con.execute(f"INSERT INTO load_changes SELECT ?, unnest([{ids}]), ?", [run_id, change]).fetchall()


def forget_moves(con: duckdb.DuckDBPyConnection, run_id: int, load_ids: Sequence[int]) -> None:
    """Undo, inside the run, the moves out of these versions (a batch that failed half-way puts back
    the versions it had replaced)."""
    moved = [
        i
        for (i,) in con.execute(
            f"SELECT load_id FROM load_changes WHERE run_id = ? AND change = 'out' AND load_id IN ({_ids(load_ids)})",
            [run_id],
        ).fetchall()
    ] if load_ids else []  # fmt: skip
    if not moved:
        return
    move_in(con, run_id, moved)
    ids = _ids(moved)
    con.execute(f"DELETE FROM load_changes WHERE run_id = ? AND load_id IN ({ids})", [run_id]).fetchall()


def changes(con: duckdb.DuckDBPyConnection, run_id: int) -> tuple[list[int], list[int]]:
    """The versions a run put in and took out."""
    rows = con.execute(
        "SELECT change, load_id FROM load_changes WHERE run_id = ? ORDER BY load_id", [run_id]
    ).fetchall()
    return [i for c, i in rows if c == "in"], [i for c, i in rows if c == "out"]
