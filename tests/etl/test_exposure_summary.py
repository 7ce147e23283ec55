"""The loader keeps `exposure_summary` (one row per session and exercise ladder, numbered in time order)
in step with `session_log`, load after load, and equal to what a from-scratch computation gives."""

from __future__ import annotations

import duckdb

from analytics import Analytics, Scope
from etl.exposures import numbered_exposures_select
from etl.library import LIBRARY_FILE
from tests.conftest import SESSION_HEADER, load_files, query, write

# client, day, type, exercise, level column (ignored: the name decides), side, sets, reps, hold, pain during
ROW = "{c},{d},yes,{t},{e},,{sets},{reps},{hold},,{side},2,{p},,2,5,good,,"


def rows(*exposures: tuple) -> str:
    """(client, day, exercise, pain_during) or (client, day, exercise, pain_during, side, session type)."""
    lines = []
    for item in exposures:
        c, d, e, p, side, kind = (*item, None, "studio")[:6] if len(item) == 4 else item
        lines.append(ROW.format(c=c, d=d, t=kind, e=e, sets=2, reps=10, hold="", side=side or "", p=p))
    return SESSION_HEADER + "\n" + "\n".join(lines) + "\n"


COLUMNS = "client_id, session_date, session_type, ladder, level, pain_during_max, sequence, run_start"


def assert_in_step(db) -> list[tuple]:
    """exposure_summary equals the from-scratch computation; returns (client, day, ladder, level, seq, run)."""
    fresh = numbered_exposures_select("exercise_names", "exercise_levels")
    for extra in (
        f"SELECT {COLUMNS} FROM exposure_summary EXCEPT ALL SELECT {COLUMNS} FROM ({fresh})",
        f"SELECT {COLUMNS} FROM ({fresh}) EXCEPT ALL SELECT {COLUMNS} FROM exposure_summary",
    ):
        assert query(db, f"SELECT count(*) FROM ({extra})") == [(0,)], query(db, extra)
    return query(
        db,
        """SELECT client_id, session_date::VARCHAR, ladder, level, sequence, run_start FROM exposure_summary
           ORDER BY client_id, ladder, sequence""",
    )


def test_exposures_are_numbered_and_runs_start_where_the_level_changes(loaded_roster, tmp_path):
    db = loaded_roster
    load_files(db, write(tmp_path, "june.csv", rows(
        ("C-1", "2026-06-01", "bridge", 2),
        ("C-1", "2026-06-03", "Glute Bridge", 2),  # an alias of the same level
        ("C-1", "2026-06-05", "bridge with slow tempo", 2),
        ("C-1", "2026-06-08", "bridge", 6),  # back down a level
        ("C-1", "2026-06-08", "hamstring stretch", 1),
    )))  # fmt: skip
    assert assert_in_step(db) == [
        ("C-1", "2026-06-01", "bridge", 2, 1, 1),
        ("C-1", "2026-06-03", "bridge", 2, 2, 1),
        ("C-1", "2026-06-05", "bridge", 3, 3, 3),
        ("C-1", "2026-06-08", "bridge", 2, 4, 4),
        ("C-1", "2026-06-08", "hamstring stretch", 1, 1, 1),
    ]


def test_sides_are_one_exposure_and_two_levels_in_a_session_are_the_higher_one(loaded_roster, tmp_path):
    db = loaded_roster
    load_files(db, write(tmp_path, "june.csv", rows(
        ("C-1", "2026-06-01", "clamshell", 2, "L", "studio"),
        ("C-1", "2026-06-01", "clamshell", 6, "R", "studio"),
        ("C-1", "2026-06-01", "supine pelvic tilt", 7),
        ("C-1", "2026-06-01", "bridge", 3),
    )))  # fmt: skip
    assert query(db, "SELECT ladder, level, rows, pain_during_max FROM exposure_summary ORDER BY ladder") == [
        ("bridge", 2, 1, 3.0),
        ("clamshell", 1, 2, 6.0),
    ]
    assert_in_step(db)


def test_a_session_naming_a_ladder_twice_in_a_first_load_is_one_exposure_and_later_ones_count_on_from_it(
    loaded_roster, tmp_path
):
    db = loaded_roster  # no sessions yet: this load builds the table whole
    load_files(db, write(tmp_path, "june.csv", rows(
        ("C-1", "2026-06-01", "bridge", 2),
        ("C-1", "2026-06-03", "bridge", 2),
        ("C-1", "2026-06-03", "bridge with slow tempo", 2),  # the same ladder twice in one session: level 3
        ("C-1", "2026-06-05", "bridge with slow tempo", 2),
        ("C-1", "2026-06-08", "bridge", 2),
        ("C-1", "2026-06-08", "hamstring stretch", 1),  # another ladder: numbered on its own
    )))  # fmt: skip
    # Five rows of the bridge ladder on four days: four exposures, the merged one at the higher level.
    assert assert_in_step(db) == [
        ("C-1", "2026-06-01", "bridge", 2, 1, 1),
        ("C-1", "2026-06-03", "bridge", 3, 2, 2),
        ("C-1", "2026-06-05", "bridge", 3, 3, 2),
        ("C-1", "2026-06-08", "bridge", 2, 4, 4),
        ("C-1", "2026-06-08", "hamstring stretch", 1, 1, 1),
    ]


def test_a_new_day_continues_the_numbers_and_a_corrected_file_renumbers(loaded_roster, tmp_path):
    db = loaded_roster
    june = write(tmp_path, "june.csv", rows(
        ("C-1", "2026-06-01", "bridge", 2), ("C-1", "2026-06-03", "bridge", 2), ("C-2", "2026-06-02", "bridge", 1),
    ))  # fmt: skip
    load_files(db, june)
    load_files(db, write(tmp_path, "new_day.csv", rows(("C-1", "2026-06-05", "bridge with slow tempo", 2))))
    assert assert_in_step(db)[:3] == [
        ("C-1", "2026-06-01", "bridge", 2, 1, 1),
        ("C-1", "2026-06-03", "bridge", 2, 2, 1),
        ("C-1", "2026-06-05", "bridge", 3, 3, 3),
    ]
    # The corrected June file adds an earlier session and drops C-2's: later numbers move up.
    june.write_text(rows(("C-1", "2026-05-30", "bridge", 2), ("C-1", "2026-06-01", "bridge", 2),
                         ("C-1", "2026-06-03", "bridge", 2)))  # fmt: skip
    load_files(db, june)
    assert assert_in_step(db) == [
        ("C-1", "2026-05-30", "bridge", 2, 1, 1),
        ("C-1", "2026-06-01", "bridge", 2, 2, 1),
        ("C-1", "2026-06-03", "bridge", 2, 3, 1),
        ("C-1", "2026-06-05", "bridge", 3, 4, 4),
    ]


def test_a_changed_library_rebuilds_the_exposures(loaded_roster, tmp_path):
    db = loaded_roster
    load_files(db, write(tmp_path, "june.csv", rows(("C-1", "2026-06-01", "hip bridge", 2))))
    assert query(db, "SELECT ladder, level FROM exposure_summary") == [("unknown: hip bridge", None)]
    library = tmp_path / "library.yaml"  # the clinic adds "hip bridge" as a name of the bridge
    library.write_text(
        LIBRARY_FILE.read_text(encoding="utf-8").replace(
            "aliases: [bridge hold, glute bridge, isometric bridge]",
            "aliases: [bridge hold, glute bridge, isometric bridge, hip bridge]",
        ),
        encoding="utf-8",
    )
    load_files(db, write(tmp_path, "july.csv", rows(("C-2", "2026-06-20", "bridge", 2))), library=library)
    assert query(db, "SELECT client_id, ladder, level FROM exposure_summary ORDER BY 1") == [
        ("C-1", "bridge", 2),
        ("C-2", "bridge", 2),
    ]


def test_a_warehouse_without_the_table_is_read_and_gets_it_on_the_next_load(loaded_roster, tmp_path):
    db = loaded_roster
    load_files(db, write(tmp_path, "june.csv", rows(
        ("C-1", "2026-06-22", "bridge", 2), ("C-1", "2026-06-24", "bridge", 2), ("C-1", "2026-06-26", "bridge", 2),
    )))  # fmt: skip
    with Analytics.open(db, Scope.everyone()) as a:
        before = a.recommendations()[["ladder", "decision", "exposures_at_level"]].values.tolist()
    con = duckdb.connect(str(db))
    for table in ("exposure_summary", "exercise_levels", "exercise_names"):
        con.execute(f"DROP TABLE {table}")
    con.close()
    with Analytics.open(db, Scope.everyone()) as a:  # read-only: computes the exposures itself
        assert a.recommendations()[["ladder", "decision", "exposures_at_level"]].values.tolist() == before
    load_files(db, write(tmp_path, "july.csv", rows(("C-2", "2026-06-20", "bridge", 2))))
    assert len(assert_in_step(db)) == 4
