"""The loader keeps `session_summary` (one row per session) in step with `session_log`, load after load."""

from __future__ import annotations

import duckdb

from analytics import Analytics, Scope
from etl.sessions import SESSION_SUMMARY_SELECT
from tests.conftest import SESSION_HEADER, load_files, query, write

ROW = "{client},{day},yes,studio,{exercise},,,,,,,{before},{during},,{next_day},,,,"


def rows(*sessions: tuple) -> str:
    """(client, day, exercise, pain_before, pain_during, pain_next_day) per row."""
    lines = [ROW.format(client=c, day=d, exercise=e, before=b, during=p, next_day=n) for c, d, e, b, p, n in sessions]
    return SESSION_HEADER + "\n" + "\n".join(lines) + "\n"


def assert_in_step(db) -> int:
    """session_summary equals the aggregate of session_log computed from scratch; returns its rows."""
    fresh = SESSION_SUMMARY_SELECT.format(where="")
    for extra in (
        f"SELECT * FROM session_summary EXCEPT ALL ({fresh})",
        f"({fresh}) EXCEPT ALL SELECT * FROM session_summary",
    ):
        assert query(db, f"SELECT count(*) FROM ({extra})") == [(0,)], query(db, extra)
    return query(db, "SELECT count(*) FROM session_summary")[0][0]


def test_a_load_aggregates_rows_into_sessions(loaded_roster, tmp_path):
    db = loaded_roster
    load_files(db, write(tmp_path, "june.csv", rows(
        ("C-1", "2026-06-01", "bridge", 2, 3, 4),
        ("C-1", "2026-06-01", "clamshell", 2, 5, 5),
        ("C-2", "2026-06-02", "bridge", 1, 2, ""),
    )))  # fmt: skip
    assert assert_in_step(db) == 2
    assert query(
        db,
        """SELECT exercise_rows, pain_during_mean, pain_during_max, next_day_rise_max
           FROM session_summary WHERE client_id = 'C-1'""",
    ) == [(2, 4.0, 5.0, 3.0)]


def test_a_new_day_only_adds_its_sessions_and_a_corrected_file_replaces_its_own(loaded_roster, tmp_path):
    db = loaded_roster
    june = write(
        tmp_path, "june.csv", rows(("C-1", "2026-06-01", "bridge", 2, 3, 4), ("C-2", "2026-06-02", "bridge", 1, 2, 2))
    )
    load_files(db, june)
    load_files(db, write(tmp_path, "new_day.csv", rows(("C-1", "2026-06-03", "bridge", 2, 2, 2))))
    assert assert_in_step(db) == 3
    # The corrected June file drops C-2's session and changes C-1's pain.
    june.write_text(rows(("C-1", "2026-06-01", "bridge", 2, 6, 4)))
    load_files(db, june)
    assert assert_in_step(db) == 2
    assert query(db, "SELECT client_id, session_date::VARCHAR, pain_during_max FROM session_summary ORDER BY ALL") == [
        ("C-1", "2026-06-01", 6.0),
        ("C-1", "2026-06-03", 2.0),
    ]


def test_a_session_split_over_two_files_is_one_session(loaded_roster, tmp_path):
    db = loaded_roster
    load_files(db, write(tmp_path, "studio.csv", rows(("C-1", "2026-06-01", "bridge", 2, 2, 2))))
    load_files(db, write(tmp_path, "studio_late.csv", rows(("C-1", "2026-06-01", "clamshell", 2, 4, 2))))
    assert assert_in_step(db) == 1
    assert query(db, "SELECT exercise_rows, pain_during_mean FROM session_summary") == [(2, 3.0)]


def test_quarantined_rows_are_not_in_any_session(loaded_roster, tmp_path):
    db = loaded_roster
    load_files(db, write(tmp_path, "june.csv", rows(
        ("C-1", "2026-06-01", "bridge", 2, 3, 4),
        ("C-1", "2026-06-01", "bridge", 2, 3, 4),  # exact duplicate: quarantined
        ("C-1", "2026-06-02", "bridge", 2, 11, 4),  # pain 11: quarantined
    )))  # fmt: skip
    assert assert_in_step(db) == 1


def test_a_warehouse_without_the_table_gets_it_on_the_next_load(loaded_roster, tmp_path):
    db = loaded_roster
    load_files(db, write(tmp_path, "june.csv", rows(("C-1", "2026-06-01", "bridge", 2, 3, 4))))
    con = duckdb.connect(str(db))
    con.execute("DROP TABLE session_summary")
    con.close()
    with Analytics.open(db, Scope.everyone()) as a:  # read-only: aggregates the rows itself
        assert a.sessions("C-1")["session_pain"].tolist() == [3.0]
    load_files(db, write(tmp_path, "july.csv", rows(("C-2", "2026-06-20", "bridge", 2, 2, 2))))
    assert assert_in_step(db) == 2
