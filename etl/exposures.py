"""The `exposure_summary` table (docs/recommendations.md): one row per exposure, kept in step with `session_log`
by every load.

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

# Exposures of one day in time order (docs/recommendations.md leaves it open): a session without a type first, then
# clinic, home, studio.
# `day_order` = days since 2000-01-01 × 4 + this: one integer orders a client's exposures.
SESSION_TYPE_ORDER = "CASE session_type WHEN 'clinic' THEN 1 WHEN 'home' THEN 2 WHEN 'studio' THEN 3 ELSE 0 END"
DAY_ORDER = f"(session_date - DATE '2000-01-01') * 4 + {SESSION_TYPE_ORDER}"

# The facts of an exposure, over its session-log rows `s` (a unilateral exercise has a row per side).
FACTS = """
        count(*) AS rows,
        max(s.pain_during) AS pain_during_max,
        count(s.pain_during) < count(*) AS pain_during_missing,
        max(s.pain_next_day - s.pain_before) AS next_day_rise_max,
        max(s.rpe) AS rpe_max,
        CASE max(CASE s.form WHEN 'poor' THEN 3 WHEN 'fair' THEN 2 WHEN 'good' THEN 1 END)
            WHEN 3 THEN 'poor' WHEN 2 THEN 'fair' WHEN 1 THEN 'good'
        END AS form_worst,
        min(s.sets) AS sets_min,
        min(s.reps) AS reps_min,
        min(s.hold_s) AS hold_s_min,
        count(s.sets) = count(*) AS sets_recorded,
        count(s.reps) = count(*) AS reps_recorded,
        count(s.hold_s) = count(*) AS hold_s_recorded"""

# The names logged, each mapped to its ladder and level once. Read from the log's rows, not from `facts`:
# a CTE read twice is materialized (a third of the exposures' insert on a whole load: 1.6 s -> 1.1 s at
# 10 000 clients). Distinct before the name key is worked out: a regular expression per name, not per row.
SPELLINGS = """
    SELECT u.exercise, coalesce(n.ladder, 'unknown: ' || u.name_key) AS ladder, n.level, l.family
    FROM (SELECT exercise, {name_key} AS name_key FROM (SELECT DISTINCT s.exercise FROM session_log AS s {where})) AS u
    LEFT JOIN {names} AS n ON n.name_key = u.name_key
    LEFT JOIN {levels} AS l ON l.ladder = n.ladder AND l.level = n.level"""

# Grouped by exercise name first, then mapped to the ladder and level: much cheaper than grouping by
# the ladder (the names are few and repeat). Two names of one ladder in a session are merged after.
BY_NAME = """
WITH facts AS (
    SELECT client_id, session_date, session_type, exercise, {facts}
    FROM session_log AS s
    WHERE attended AND exercise IS NOT NULL {and_where}
    GROUP BY client_id, session_date, session_type, exercise
),
spellings AS ({spellings})
SELECT f.* EXCLUDE (exercise), f.exercise AS logged_as, p.ladder, p.family, p.level, {day_order} AS day_order
FROM facts AS f
JOIN spellings AS p USING (exercise)
"""

# Grouped by ladder and level, at the session's highest level of the ladder: for the few sessions
# that name one ladder twice (two levels, or two spellings), and for a warehouse without the table.
BY_LADDER = """
WITH spellings AS ({spellings}),
done AS (
    SELECT s.*, p.ladder, p.level AS ladder_level, p.family
    FROM session_log AS s
    JOIN spellings AS p USING (exercise)
    WHERE s.attended {and_where}
)
SELECT
    client_id, session_date, session_type, ladder, any_value(family) AS family, ladder_level AS level,
    min(exercise) AS logged_as, {facts}, any_value({day_order}) AS day_order
FROM done AS s
GROUP BY client_id, session_date, session_type, ladder, ladder_level
QUALIFY row_number() OVER (
    PARTITION BY client_id, session_date, session_type, ladder ORDER BY ladder_level DESC NULLS LAST
) = 1
"""


def rows_of_days(touched: str) -> str:
    """A WHERE clause on session_log `s` for the rows of the (client, date) pairs in table `touched`."""
    # The date range lets DuckDB skip the row groups of other days before the join.
    return f"""WHERE s.session_date BETWEEN (SELECT min(session_date) FROM {touched})
                                        AND (SELECT max(session_date) FROM {touched})
                AND (s.client_id, s.session_date) IN (SELECT client_id, session_date FROM {touched})"""


def exposures_select(
    where: str = "", names: str = "exercise_names", levels: str = "exercise_levels", by_ladder: bool = False
) -> str:
    """The exposures of the log, narrowed by `where` (a WHERE clause on session_log `s`, or '')."""
    and_where = where.replace("WHERE", "AND", 1) if where else ""
    rows = f"WHERE s.attended AND s.exercise IS NOT NULL {and_where}"
    spellings = SPELLINGS.format(name_key=name_key_sql("exercise"), where=rows, names=names, levels=levels)
    return (BY_LADDER if by_ladder else BY_NAME).format(
        and_where=and_where,
        facts=FACTS,
        spellings=spellings,
        day_order=DAY_ORDER,
    )


def numbered(exposures: str) -> str:
    """The exposures of a whole log (a SELECT), each client's numbered in time order per ladder, with
    where each run of one level began."""
    in_time = "PARTITION BY client_id, ladder ORDER BY day_order"
    return f"""
        SELECT * EXCLUDE (previous_level),
            max(CASE WHEN sequence = 1 OR level IS DISTINCT FROM previous_level THEN sequence END) OVER (
                PARTITION BY client_id, ladder ORDER BY sequence ROWS UNBOUNDED PRECEDING
            ) AS run_start
        FROM (
            SELECT *, row_number() OVER ({in_time}) AS sequence, lag(level) OVER ({in_time}) AS previous_level
            FROM ({exposures})
        )"""


def numbered_exposures_select(names: str, levels: str) -> str:
    """exposure_summary computed whole from the log, numbers included: what the analytics reads from a
    warehouse loaded before the loader kept the table (slower), and what the tests compare it with."""
    return numbered(exposures_select(names=names, levels=levels, by_ladder=True))


def refresh_exposures(con: duckdb.DuckDBPyConnection, touched: str | None) -> None:
    """Re-aggregate the exposures of the touched (client, date) pairs (`touched`: the name of a table of
    them), or of the whole log when `touched` is None or the table is empty; then renumber."""
    if touched is None or scalar(con, "SELECT count(*) FROM exposure_summary") == 0:
        _refresh_everything(con)
        return
    con.execute(
        f"""DELETE FROM exposure_summary AS x USING {touched} AS t
            WHERE x.client_id = t.client_id AND x.session_date = t.session_date"""
    ).fetchall()
    con.execute("INSERT INTO exposure_summary BY NAME " + exposures_select(rows_of_days(touched))).fetchall()
    merged = _keep_the_highest_level(
        con, f"(SELECT x.* FROM exposure_summary AS x SEMI JOIN {touched} AS t USING (client_id, session_date))"
    )
    _drop(con, merged)
    _number(con, f"SELECT client_id, min(session_date) AS first_day FROM {touched} GROUP BY client_id")


def _refresh_everything(con: duckdb.DuckDBPyConnection) -> None:
    """The whole table again, numbered as it is inserted: at 10 000 clients the numbering adds 0.9 s to
    the insert, against 1.0 s for numbering after it (a table of the numbers and an UPDATE of every row).
    Only the clients with a session that named a ladder twice are numbered again, from that day on
    (their later exposures are one fewer)."""
    con.execute("DELETE FROM exposure_summary").fetchall()
    con.execute("INSERT INTO exposure_summary BY NAME " + numbered(exposures_select())).fetchall()
    merged = _keep_the_highest_level(con, "exposure_summary")
    if merged:
        _number(con, f"SELECT client_id, min(session_date) AS first_day FROM {merged} GROUP BY client_id")
    _drop(con, merged)


def _drop(con: duckdb.DuckDBPyConnection, table: str | None) -> None:
    if table:
        con.execute(f"DROP TABLE {table}")


def _keep_the_highest_level(con: duckdb.DuckDBPyConnection, rows: str) -> str | None:
    """A session that names one ladder twice (two levels, or two spellings; rare) is one exposure, at
    its highest level: its rows are aggregated again by ladder. Returns the name of a table of the
    exposures merged (client_id, session_date, ladder, day_order) for the caller to drop, or None."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE named_twice AS
            SELECT client_id, any_value(session_date) AS session_date, ladder, day_order FROM {rows}
            GROUP BY client_id, ladder, day_order HAVING count(*) > 1"""
    ).fetchall()
    if not scalar(con, "SELECT count(*) FROM named_twice"):
        con.execute("DROP TABLE named_twice")
        return None
    con.execute(
        """DELETE FROM exposure_summary AS x USING named_twice AS t
           WHERE x.client_id = t.client_id AND x.ladder = t.ladder AND x.day_order = t.day_order"""
    ).fetchall()
    where = "WHERE (s.client_id, s.session_date) IN (SELECT client_id, session_date FROM named_twice)"
    con.execute(
        f"""INSERT INTO exposure_summary BY NAME
            SELECT * FROM ({exposures_select(where, by_ladder=True)})
            SEMI JOIN named_twice USING (client_id, ladder, day_order)"""
    ).fetchall()
    return "named_twice"


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
