"""Undoing a load gives back exactly the rows the warehouse held before it, in one atomic step, and is a
load of its own (so it can be undone); an undo that later loads stand in the way of is refused."""

from __future__ import annotations

import hashlib

import pytest

from etl.exposures import numbered_exposures_select
from etl.history import UndoRefused, history, undo
from etl.sessions import SESSION_SUMMARY_SELECT
from tests.conftest import SESSION_HEADER, load_files, query, write

# client, day, exercise, level, pain during: enough sessions for exposures to be numbered and runs of a level
JUNE = [
    ("C-1", 1, "bridge", 1, 2), ("C-1", 3, "bridge", 1, 3), ("C-1", 5, "bridge", 2, 2),
    ("C-1", 5, "clam", 1, 1), ("C-2", 2, "bridge", 1, 4), ("C-2", 4, "bridge", 1, 11),  # 11: quarantined
    ("C-1", 8, "bridge", 2, 3), ("C-2", 9, "clam", 1, 2),
]  # fmt: skip
# The corrected June: C-1's 5 June was level 1, C-2's 4 June is gone, a session on 10 June is new.
JUNE_CORRECTED = [
    ("C-1", 1, "bridge", 1, 2), ("C-1", 3, "bridge", 1, 3), ("C-1", 5, "bridge", 1, 2),
    ("C-1", 5, "clam", 1, 1), ("C-2", 2, "bridge", 1, 4), ("C-1", 8, "bridge", 2, 3),
    ("C-2", 9, "clam", 1, 2), ("C-2", 10, "clam", 2, 3),
]  # fmt: skip
ROW = "{client},2026-06-{day:02d},yes,clinic,{exercise},{level},2,10,,none,both,2,{pain},2,2,5,good,,S-1"

# Every table a load writes data to (the history itself and the archive change with every load and undo).
DATA_TABLES = (
    "staff_rows", "cohorts_rows", "clients_rows", "session_log_rows", "measures_rows", "malformed_rows",
    "session_summary", "exposure_summary", "exercise_levels", "exercise_names", "instruments",
)  # fmt: skip
PUBLIC_VIEWS = ("staff", "cohorts", "clients", "session_log", "measures", "quarantine")


def _sessions(folder, name: str, rows) -> object:
    lines = [ROW.format(client=c, day=d, exercise=e, level=lv, pain=p) for c, d, e, lv, p in rows]
    return write(folder, name, "\n".join([SESSION_HEADER, *lines]) + "\n")


def _contents(db) -> dict[str, str]:
    """An md5 of each table's rows, in an order that does not depend on where DuckDB put them."""
    return {
        table: query(
            db, f"SELECT md5(coalesce(string_agg(t::VARCHAR, '\n' ORDER BY t::VARCHAR), '')) FROM {table} AS t"
        )[0][0]
        for table in (*DATA_TABLES, *PUBLIC_VIEWS)
    }


def _derived_tables_are_fresh(db) -> None:
    """session_summary and exposure_summary equal what aggregating the whole session log again gives."""
    fresh_sessions = SESSION_SUMMARY_SELECT.format(where="")
    assert query(db, f"SELECT * FROM session_summary EXCEPT ALL ({fresh_sessions})") == []
    assert query(db, f"({fresh_sessions}) EXCEPT ALL SELECT * FROM session_summary") == []
    fresh = f"SELECT * FROM ({numbered_exposures_select('exercise_names', 'exercise_levels')})"
    columns = "client_id, session_date, ladder, level, rows, pain_during_max, sequence, run_start"
    assert query(db, f"SELECT {columns} FROM exposure_summary EXCEPT ALL SELECT {columns} FROM ({fresh})") == []
    assert query(db, f"SELECT {columns} FROM ({fresh}) EXCEPT ALL SELECT {columns} FROM exposure_summary") == []


def test_undoing_a_corrected_file_gives_back_the_rows_it_replaced_and_undoing_that_puts_it_back(
    loaded_roster, tmp_path
):
    first = load_files(loaded_roster, _sessions(tmp_path / "v1", "june.csv", JUNE), loaded_by="S-1")
    assert query(loaded_roster, "SELECT count(*) FROM session_log") == [(7,)]
    as_loaded = _contents(loaded_roster)

    corrected = load_files(loaded_roster, _sessions(tmp_path / "v2", "june.csv", JUNE_CORRECTED), loaded_by="S-1")
    assert corrected.files[0].status == "replaced"
    as_corrected = _contents(loaded_roster)
    assert as_corrected["session_log_rows"] != as_loaded["session_log_rows"]
    assert as_corrected["exposure_summary"] != as_loaded["exposure_summary"]

    undone = undo(loaded_roster, corrected.run_id, loaded_by="S-3")
    assert (undone.run_id, undone.undid) == (corrected.run_id + 1, corrected.run_id)
    assert [(f.file, f.loaded_in, f.rows_read) for f in undone.taken_out] == [("june.csv", corrected.run_id, 8)]
    assert [(f.file, f.loaded_in, f.rows_read, f.rows_quarantined) for f in undone.put_back] == [
        ("june.csv", first.run_id, 8, 1)
    ]
    assert _contents(loaded_roster) == as_loaded
    _derived_tables_are_fresh(loaded_roster)
    assert query(loaded_roster, "SELECT source_row, reason FROM quarantine") == [(7, "pain_during=11 is outside 0–10")]

    again = undo(loaded_roster, undone.run_id, loaded_by="S-3")
    assert [f.loaded_in for f in again.taken_out] == [first.run_id]
    assert [f.loaded_in for f in again.put_back] == [corrected.run_id]
    assert _contents(loaded_roster) == as_corrected
    _derived_tables_are_fresh(loaded_roster)

    entries = {e.load: e for e in history(loaded_roster)}
    assert (entries[undone.run_id].action, entries[undone.run_id].undoes) == ("undo", corrected.run_id)
    assert entries[undone.run_id].undone_by == again.run_id
    assert entries[corrected.run_id].undone_by is None  # it stands again
    assert query(
        loaded_roster, "SELECT load_id, status FROM load_history WHERE file = 'june.csv' ORDER BY load_id"
    ) == [(4, "superseded"), (5, "loaded")]


def test_an_undone_warehouse_equals_a_fresh_load_of_the_same_files(loaded_roster, roster, tmp_path):
    june = _sessions(tmp_path / "v1", "june.csv", JUNE)
    load_files(loaded_roster, june)
    replaced = load_files(loaded_roster, _sessions(tmp_path / "v2", "june.csv", JUNE_CORRECTED))
    undo(loaded_roster, replaced.run_id)

    fresh = tmp_path / "fresh" / "hipline.duckdb"
    load_files(fresh, *roster, june)
    undone, loaded = _contents(loaded_roster), _contents(fresh)
    assert undone == loaded


def test_undoing_a_load_of_new_files_takes_them_out_and_later_loads_of_other_files_stay(loaded_roster, tmp_path):
    before = _contents(loaded_roster)
    june = load_files(loaded_roster, _sessions(tmp_path, "june.csv", JUNE))
    july_rows = [("C-1", 20, "bridge", 2, 2)]
    july = load_files(loaded_roster, _sessions(tmp_path, "june-late.csv", july_rows))

    undo(loaded_roster, june.run_id)

    assert query(loaded_roster, "SELECT source_file, count(*) FROM session_log GROUP BY 1") == [("june-late.csv", 1)]
    assert query(loaded_roster, "SELECT count(*) FROM quarantine") == [(0,)]
    _derived_tables_are_fresh(loaded_roster)
    assert query(loaded_roster, "SELECT sequence, run_start FROM exposure_summary") == [(1, 1)]
    undo(loaded_roster, july.run_id)
    assert _contents(loaded_roster) == before


def test_undoing_a_roster_load_gives_back_the_earlier_roster(loaded_roster, tmp_path):
    before = _contents(loaded_roster)
    clients = (tmp_path / "roster" / "clients.csv").read_text().replace("Zoë Ahmed", "Zoe Ahmed")
    renamed = load_files(
        loaded_roster, write(tmp_path / "v2", "clients.csv", clients + "C-4,Al Diaz,2026-06-01,hip,2,S-1,,\n")
    )
    assert query(loaded_roster, "SELECT count(*) FROM clients") == [(4,)]
    undo(loaded_roster, renamed.run_id)
    assert _contents(loaded_roster) == before
    assert query(loaded_roster, "SELECT display_name FROM clients WHERE client_id = 'C-1'") == [("Zoë Ahmed",)]


def test_an_undo_that_later_loads_of_the_same_file_stand_in_the_way_of_is_refused_and_changes_nothing(
    loaded_roster, tmp_path
):
    first = load_files(loaded_roster, _sessions(tmp_path / "v1", "june.csv", JUNE))
    second = load_files(loaded_roster, _sessions(tmp_path / "v2", "june.csv", JUNE_CORRECTED))
    digest = hashlib.sha256(loaded_roster.read_bytes()).hexdigest()

    with pytest.raises(UndoRefused) as refused:
        undo(loaded_roster, first.run_id)
    assert str(refused.value) == (
        f"load {first.run_id} cannot be undone: later loads changed the same files since "
        f"(load {second.run_id} (june.csv)). Undo the newest of them first (hipline undo {second.run_id}), "
        f"then load {first.run_id}"
    )
    assert hashlib.sha256(loaded_roster.read_bytes()).hexdigest() == digest

    # Undone newest first, both go.
    undo(loaded_roster, second.run_id)
    undo(loaded_roster, first.run_id)
    assert query(loaded_roster, "SELECT count(*) FROM session_log_rows") == [(0,)]
    _derived_tables_are_fresh(loaded_roster)


def test_an_undo_that_cannot_be_done_says_why(loaded_roster, tmp_path):
    june = _sessions(tmp_path, "june.csv", JUNE)
    loaded = load_files(loaded_roster, june)
    unchanged = load_files(loaded_roster, june)
    with pytest.raises(UndoRefused, match=r"^there is no load 99 in the history of "):
        undo(loaded_roster, 99)
    with pytest.raises(UndoRefused, match=rf"^load {unchanged.run_id} changed nothing in the warehouse"):
        undo(loaded_roster, unchanged.run_id)
    undone = undo(loaded_roster, loaded.run_id)
    with pytest.raises(UndoRefused, match=rf"^load {loaded.run_id} was already undone by load {undone.run_id} "):
        undo(loaded_roster, loaded.run_id)
    with pytest.raises(UndoRefused, match=r"^there is no warehouse at "):
        undo(tmp_path / "nothing.duckdb", 1)
    assert not (tmp_path / "nothing.duckdb").exists()
