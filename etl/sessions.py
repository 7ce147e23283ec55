"""The `session_summary` table: one row per session (docs/input-formats.md), kept in step with `session_log` by
every load
(with `exposure_summary`, etl/exposures.py).

A session is the session-log rows of one client with the same date and session type. Pages and
reports read sessions, not rows (2.6 million rows are 270 000 sessions at 10 000 clients), so
each load refreshes the sessions it touched, in the staging copy, before the swap: readers see the
rows and their sessions change together.

The table holds facts, not rules: means and maxima of each session's pain ratings. What counts as
session pain or a flare is decided by the analytics layer (docs/metrics.md).

Incremental: a load re-aggregates only the (client, date) pairs of the rows it added or removed,
so its cost follows the new rows, not the history. An undo (etl/history.py) does the same for the
rows it took out and put back.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from etl.exposures import refresh_exposures, rows_of_days
from etl.warehouse import scalar

# The aggregate of the loaded rows (the `session_log` view) into sessions. `{where}` narrows it.
SESSION_SUMMARY_SELECT = """
SELECT
    client_id,
    session_date,
    session_type,
    bool_or(attended) AS attended,
    count(*) AS exercise_rows,
    avg(pain_during) AS pain_during_mean,
    avg(pain_after) AS pain_after_mean,
    avg(pain_before) AS pain_before_mean,
    max(pain_during) AS pain_during_max,
    max(pain_next_day - pain_before) AS next_day_rise_max
FROM session_log AS s
{where}
GROUP BY client_id, session_date, session_type
"""

TOUCHED = "touched_session_days"


def _touched_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {TOUCHED} (client_id VARCHAR, session_date DATE)")


def remember_loads(con: duckdb.DuckDBPyConnection, load_ids: Sequence[int]) -> None:
    """Before the rows of these loads leave the warehouse, or after they came back (an undo,
    etl/archive.py): their sessions must be aggregated again."""
    if not load_ids:
        return
    _touched_table(con)
    con.execute(
        f"""INSERT INTO {TOUCHED}
            SELECT DISTINCT client_id, session_date FROM session_log_rows
            WHERE list_contains(?, load_id) AND reason IS NULL""",
        [list(load_ids)],
    ).fetchall()


def refresh_session_summary(con: duckdb.DuckDBPyConnection, first_new_load_id: int) -> None:
    """Re-aggregate the sessions and exposures of every (client, date) this load added or removed rows
    for; everything when the table is empty (a new warehouse, or one written before it existed)."""
    _touched_table(con)
    everything = scalar(con, "SELECT count(*) FROM session_summary") == 0
    if everything:  # every session is aggregated: no need to list the days touched
        con.execute("INSERT INTO session_summary BY NAME " + SESSION_SUMMARY_SELECT.format(where="")).fetchall()
    else:
        con.execute(
            f"""INSERT INTO {TOUCHED}
                SELECT DISTINCT client_id, session_date FROM session_log_rows
                WHERE load_id >= ? AND reason IS NULL""",
            [first_new_load_id],
        ).fetchall()
        con.execute(
            f"""DELETE FROM session_summary AS s USING {TOUCHED} AS t
                WHERE s.client_id = t.client_id AND s.session_date = t.session_date"""
        ).fetchall()
        select = SESSION_SUMMARY_SELECT.format(where=rows_of_days(TOUCHED))
        con.execute("INSERT INTO session_summary BY NAME " + select).fetchall()
    refresh_exposures(con, None if everything else TOUCHED)
    con.execute(f"DROP TABLE {TOUCHED}")
