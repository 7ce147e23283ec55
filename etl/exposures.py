"""The `exposure_summary` table (SPEC §3): one row per exposure, kept in step with `session_log` by every load.

An exposure is an attended session (client, date, session type) in which the client did an exercise
of a ladder (a family of the library, a stretch, or an exercise the library does not know). A row
holds the facts the recommendations read, over the session's rows of that ladder at its highest
level (a unilateral exercise has a row per side): the worst pain during, next-day rise, effort and
form, and the smallest dose. The rules themselves live in the analytics layer.

Each client's exposures of a ladder are numbered in time order (`sequence`), and each row says at
which number the run of its level began (`run_start`): the analytics then finds the newest three
exposures and how many are at the current level without sorting anyone's history.

Incremental like session_summary: a load re-aggregates the (client, date) pairs it touched, then
renumbers each touched client's exposures from its earliest touched day on, continuing from the
exposure before. A changed library empties the table (etl/library.py) and it is rebuilt whole.
"""

from __future__ import annotations

import duckdb

from etl.library import name_key_sql
from etl.warehouse import scalar

# Exposures of one day in time order (SPEC §3 leaves it open): clinic, home, studio, then no type.
# `day_order` = days since 2000-01-01 × 4 + this: one integer orders a client's exposures.
SESSION_TYPE_ORDER = "CASE session_type WHEN 'clinic' THEN 1 WHEN 'home' THEN 2 WHEN 'studio' THEN 3 ELSE 0 END"
DAY_ORDER = f"(session_date - DATE '2000-01-01') * 4 + {SESSION_TYPE_ORDER}"

# One row per exercise name of a session, then mapped to its ladder and level. Grouping by the
# name first is much cheaper than by the ladder (the names are few and repeat).
EXPOSURES_SELECT = """
WITH facts AS (
    SELECT
        client_id,
        session_date,
        session_type,
        exercise,
        count(*) AS rows,
        max(pain_during) AS pain_during_max,
        count(pain_during) < count(*) AS pain_during_missing,
        max(pain_next_day - pain_before) AS next_day_rise_max,
        max(rpe) AS rpe_max,
        CASE max(CASE form WHEN 'poor' THEN 3 WHEN 'fair' THEN 2 WHEN 'good' THEN 1 END)
            WHEN 3 THEN 'poor' WHEN 2 THEN 'fair' WHEN 1 THEN 'good'
        END AS form_worst,
        min(sets) AS sets_min,
        min(reps) AS reps_min,
        min(hold_s) AS hold_s_min,
        count(sets) = count(*) AS sets_recorded,
        count(reps) = count(*) AS reps_recorded,
        count(hold_s) = count(*) AS hold_s_recorded
    FROM session_log AS s
    WHERE attended AND exercise IS NOT NULL {and_where}
    GROUP BY client_id, session_date, session_type, exercise
),
spellings AS (
    SELECT u.exercise, coalesce(n.ladder, 'unknown: ' || u.name_key) AS ladder, n.level, l.family
    FROM (SELECT DISTINCT exercise, {name_key} AS name_key FROM facts) AS u
    LEFT JOIN {names} AS n ON n.name_key = u.name_key
    LEFT JOIN {levels} AS l ON l.ladder = n.ladder AND l.level = n.level
)
SELECT f.* EXCLUDE (exercise), f.exercise AS logged_as, p.ladder, p.family, p.level, {day_order} AS day_order
FROM facts AS f
JOIN spellings AS p USING (exercise)
"""


def exposures_select(where: str = "", names: str = "exercise_names", levels: str = "exercise_levels") -> str:
    """The exposures of the log, narrowed by `where` (a WHERE clause on session_log `s`, or '')."""
    return EXPOSURES_SELECT.format(
        and_where=where.replace("WHERE", "AND", 1) if where else "",
        name_key=name_key_sql("exercise"),
        names=names,
        levels=levels,
        day_order=DAY_ORDER,
    )


def numbered_exposures_select(names: str, levels: str) -> str:
    """exposure_summary computed whole from the log, numbers included: what the analytics reads from a
    warehouse loaded before the loader kept the table (slower). Two levels of a ladder in one session:
    the higher one."""
    in_time = "PARTITION BY client_id, ladder ORDER BY day_order"
    return f"""
        SELECT * EXCLUDE (previous_level),
            max(CASE WHEN sequence = 1 OR level IS DISTINCT FROM previous_level THEN sequence END) OVER (
                PARTITION BY client_id, ladder ORDER BY sequence ROWS UNBOUNDED PRECEDING
            ) AS run_start
        FROM (
            SELECT *, row_number() OVER ({in_time}) AS sequence, lag(level) OVER ({in_time}) AS previous_level
            FROM ({exposures_select(names=names, levels=levels)})
            QUALIFY row_number() OVER (
                PARTITION BY client_id, ladder, day_order ORDER BY level DESC NULLS LAST, pain_during_missing DESC,
                pain_during_max DESC NULLS LAST
            ) = 1
        )"""


def refresh_exposures(con: duckdb.DuckDBPyConnection, touched: str | None) -> None:
    """Re-aggregate the exposures of the touched (client, date) pairs (`touched`: the name of a table of
    them), or of the whole log when `touched` is None or the table is empty; then renumber."""
    everything = touched is None or scalar(con, "SELECT count(*) FROM exposure_summary") == 0
    if everything:
        con.execute("DELETE FROM exposure_summary").fetchall()
        con.execute("INSERT INTO exposure_summary BY NAME " + exposures_select()).fetchall()
        starts = "SELECT DISTINCT client_id, DATE '0001-01-01' AS first_day FROM exposure_summary"
        pairs = "exposure_summary"
    else:
        con.execute(
            f"""DELETE FROM exposure_summary AS x USING {touched} AS t
                WHERE x.client_id = t.client_id AND x.session_date = t.session_date"""
        ).fetchall()
        # The date range lets DuckDB skip the row groups of other days before the join.
        where = f"""WHERE s.session_date BETWEEN (SELECT min(session_date) FROM {touched})
                                            AND (SELECT max(session_date) FROM {touched})
                    AND (s.client_id, s.session_date) IN (SELECT client_id, session_date FROM {touched})"""
        con.execute("INSERT INTO exposure_summary BY NAME " + exposures_select(where)).fetchall()
        starts = f"SELECT client_id, min(session_date) AS first_day FROM {touched} GROUP BY client_id"
        pairs = f"(SELECT x.* FROM exposure_summary AS x SEMI JOIN {touched} AS t USING (client_id, session_date))"
    _keep_the_highest_level(con, pairs)
    _number(con, starts)


def _keep_the_highest_level(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """Two levels of one ladder in a session (rare) are one exposure, at the higher level; of two
    names for one level, the worse pain is kept."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lower_levels AS
            SELECT client_id, ladder, day_order, logged_as FROM {rows}
            SEMI JOIN (
                SELECT client_id, ladder, day_order FROM {rows} GROUP BY ALL HAVING count(*) > 1
            ) USING (client_id, ladder, day_order)
            QUALIFY row_number() OVER (
                PARTITION BY client_id, ladder, day_order
                ORDER BY level DESC NULLS LAST, pain_during_missing DESC, pain_during_max DESC NULLS LAST, logged_as
            ) > 1"""
    ).fetchall()
    con.execute(
        """DELETE FROM exposure_summary AS x USING lower_levels AS d
           WHERE x.client_id = d.client_id AND x.ladder = d.ladder AND x.day_order = d.day_order
               AND x.logged_as = d.logged_as"""
    ).fetchall()
    con.execute("DROP TABLE lower_levels")


def _number(con: duckdb.DuckDBPyConnection, starts: str) -> None:
    """Number each touched client's exposures from its first touched day on, continuing from the
    exposure before it, and mark where each run of one level began."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE exposure_numbers AS
            WITH starts AS ({starts}),
            before AS (
                SELECT x.client_id, x.ladder, max(x.sequence) AS base_sequence,
                       arg_max(x.level, x.sequence) AS base_level, arg_max(x.run_start, x.sequence) AS base_run_start
                FROM exposure_summary AS x JOIN starts AS s USING (client_id)
                WHERE x.session_date < s.first_day
                GROUP BY x.client_id, x.ladder
            ),
            numbered AS (
                SELECT
                    x.client_id, x.ladder, x.day_order, x.level,
                    coalesce(b.base_sequence, 0) + row_number() OVER in_time AS sequence,
                    CASE WHEN row_number() OVER in_time = 1 THEN b.base_level ELSE lag(x.level) OVER in_time END
                        AS previous_level,
                    b.base_run_start
                FROM exposure_summary AS x
                JOIN starts AS s USING (client_id)
                LEFT JOIN before AS b USING (client_id, ladder)
                WHERE x.session_date >= s.first_day
                WINDOW in_time AS (PARTITION BY x.client_id, x.ladder ORDER BY x.day_order)
            )
            SELECT
                client_id, ladder, day_order, sequence,
                coalesce(
                    max(CASE WHEN sequence = 1 OR level IS DISTINCT FROM previous_level THEN sequence END) OVER (
                        PARTITION BY client_id, ladder ORDER BY sequence ROWS UNBOUNDED PRECEDING
                    ),
                    base_run_start
                ) AS run_start
            FROM numbered"""
    ).fetchall()
    con.execute(
        """UPDATE exposure_summary AS x SET sequence = n.sequence, run_start = n.run_start
           FROM exposure_numbers AS n
           WHERE x.client_id = n.client_id AND x.ladder = n.ladder AND x.day_order = n.day_order"""
    ).fetchall()
    con.execute("DROP TABLE exposure_numbers")
