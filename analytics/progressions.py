"""Recommended next progressions (docs/recommendations.md): what the analytics needs besides the SQL files.

The engine itself is two SQL files, `exposures.sql` and `recommendations.sql`, built with the other
analytics tables; `recommendation_text.sql` puts a recommendation into words. This module supplies
their inputs: the exercise library (the warehouse's copy, or the YAML file for a warehouse loaded
before the library was copied in), the clinicians' decisions in force, and the SQL macros that
format numbers and doses. The rules are explained in docs/recommendations.md.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from analytics.definitions import TOLERANCE
from etl.library import library_frames, load_library, name_key_sql

# Number words: 2 -> "2", 2.5 -> "2.5", missing -> "not recorded".
MACROS = [
    f"CREATE OR REPLACE TEMP MACRO name_key(x) AS {name_key_sql('x')}",
    """CREATE OR REPLACE TEMP MACRO num(x) AS CASE
        WHEN x IS NULL THEN 'not recorded'
        WHEN x = round(x) THEN CAST(CAST(x AS BIGINT) AS VARCHAR)
        ELSE CAST(round(x, 1) AS VARCHAR)
    END""",
    "CREATE OR REPLACE TEMP MACRO signed(x) AS CASE WHEN x > 0 THEN '+' || num(x) ELSE num(x) END",
    # The newest n (0-3) of three values, as words: "2, 2, 1"
    """CREATE OR REPLACE TEMP MACRO listed(a, b, c, n) AS CASE n
        WHEN 0 THEN 'no exposures yet' WHEN 1 THEN a WHEN 2 THEN a || ', ' || b ELSE a || ', ' || b || ', ' || c
    END""",
    # Whether a check holds for any of the newest n (0-3) exposures; an unknown value never does.
    """CREATE OR REPLACE TEMP MACRO any_of(a, b, c, n) AS
        coalesce(n >= 1 AND a, false) OR coalesce(n >= 2 AND b, false) OR coalesce(n >= 3 AND c, false)""",
    # An exposure's dose is recorded when every row has its sets and the level's unit (reps or holds).
    """CREATE OR REPLACE TEMP MACRO dose_recorded(sets, reps, holds, level_reps, level_holds) AS
        sets AND CASE
            WHEN level_holds IS NOT NULL THEN holds
            WHEN level_reps IS NOT NULL THEN reps
            ELSE reps OR holds
        END""",
    # The flags' evidence (docs/metrics.md): one decimal rounded half up, "+0.8", "45 %", "27 Oct" (with the year
    # when it is not today's), a note on one line and cut to a length. The tolerance keeps a value a hair
    # under a half (floating point) from rounding the other way than its exact value would.
    f"CREATE OR REPLACE TEMP MACRO half_up(x, places) AS floor(x * 10 ** places + 0.5 + {TOLERANCE}) / 10 ** places",
    "CREATE OR REPLACE TEMP MACRO one_decimal(x) AS printf('%.1f', half_up(x, 1))",
    "CREATE OR REPLACE TEMP MACRO signed_one_decimal(x) AS printf('%+.1f', half_up(x, 1))",
    "CREATE OR REPLACE TEMP MACRO percent(x) AS printf('%.0f %%', half_up(x * 100, 0))",
    """CREATE OR REPLACE TEMP MACRO evidence_day(day, today) AS
        CASE WHEN year(day) = year(today) THEN strftime(day, '%-d %b') ELSE strftime(day, '%-d %b %Y') END""",
    """CREATE OR REPLACE TEMP MACRO evidence_note(note, chars) AS CASE
        WHEN length(regexp_replace(note, '[ \t\r\n]+', ' ', 'g')) > chars
            THEN left(regexp_replace(note, '[ \t\r\n]+', ' ', 'g'), chars - 1) || '…'
        ELSE regexp_replace(note, '[ \t\r\n]+', ' ', 'g')
    END""",
    # The exercise and dose a change of a recommendation leads to (r: the values of the recommendation it
    # needs, a small struct: docs/recommendations.md):
    # a level back or up at its target dose, a set more, reps or holds up to the ceiling (past it at the
    # top of a ladder), a slower tempo, a third less, the level's target dose, or no change.
    """CREATE OR REPLACE TEMP MACRO prescription(change, r) AS {
        'level': CASE change WHEN 'previous level' THEN r.level - 1 WHEN 'level' THEN r.level + 1 ELSE r.level END,
        'sets': CASE change
            WHEN 'previous level' THEN r.previous_sets
            WHEN 'level' THEN r.following_sets
            WHEN 'sets' THEN r.sets + r.sets_step
            WHEN 'target dose' THEN r.dose_sets
            ELSE r.sets
        END,
        'amount': CASE change
            WHEN 'previous level' THEN r.previous_amount
            WHEN 'level' THEN r.following_amount
            WHEN 'a third less' THEN CASE WHEN r.amount IS NOT NULL THEN greatest(1, round(r.amount * 2 / 3)) END
            WHEN 'amount' THEN least(r.ceiling_amount, r.amount + r.amount_step)
            WHEN 'top' THEN r.amount + r.amount_step
            WHEN 'target dose' THEN r.target_amount
            ELSE r.amount
        END,
        'holds': CASE change
            WHEN 'previous level' THEN r.previous_holds WHEN 'level' THEN r.following_holds ELSE r.counts_holds
        END,
        'tempo': CASE change
            WHEN 'previous level' THEN NULL WHEN 'level' THEN NULL WHEN 'tempo' THEN r.ceiling_tempo ELSE r.tempo
        END,
        'exercise': CASE change
            WHEN 'previous level' THEN r.previous_exercise
            WHEN 'level' THEN r.following_exercise
            ELSE r.current_exercise
        END,
        'each_side': CASE change
            WHEN 'previous level' THEN r.previous_each_side WHEN 'level' THEN r.following_each_side ELSE r.each_side
        END
    }""",
    # A prescription as the decisions store it: a level only on a ladder, reps or hold seconds by the unit.
    """CREATE OR REPLACE TEMP MACRO as_prescription(p, laddered) AS {
        'exercise': p.exercise, 'level': CASE WHEN laddered THEN p.level END, 'sets': p.sets,
        'reps': CASE WHEN NOT p.holds THEN p.amount END, 'hold_s': CASE WHEN p.holds THEN p.amount END,
        'tempo': p.tempo
    }""",
    "CREATE OR REPLACE TEMP MACRO mark(ok) AS CASE WHEN ok THEN '✓' ELSE '✗' END",
    # "3 × 12 each side, tempo 3-1-3", "2 × 20 s hold"
    """CREATE OR REPLACE TEMP MACRO dose_words(sets, amount, holds, tempo, each_side) AS CASE
        WHEN sets IS NULL OR amount IS NULL THEN 'dose not recorded'
        ELSE num(sets) || ' × ' || num(amount) || CASE WHEN holds THEN ' s hold' ELSE '' END
            || CASE WHEN each_side THEN ' each side' ELSE '' END
            || CASE WHEN tempo IS NOT NULL THEN ', tempo ' || tempo ELSE '' END
    END""",
]

# `hipline recommend` writes these columns (issue 4).
RECOMMEND_COLUMNS = [
    "client_id", "family", "exercise", "level", "decision", "why", "next_exercise", "next_dose", "reasons",
]  # fmt: skip


def register_library(con: duckdb.DuckDBPyConnection) -> None:
    """Temp views `library_levels` and `library_names` over the warehouse's copy of the library."""
    in_warehouse = con.execute(
        """SELECT count(*) FROM duckdb_tables()
           WHERE NOT temporary AND table_name IN ('exercise_levels', 'exercise_names')"""
    ).fetchall()[0][0]
    if in_warehouse == 2:
        con.execute("CREATE OR REPLACE TEMP VIEW library_levels AS SELECT * FROM exercise_levels")
        con.execute("CREATE OR REPLACE TEMP VIEW library_names AS SELECT * FROM exercise_names")
        return
    # A warehouse loaded before the library was copied in: read the file (its next load copies it).
    levels, names = library_frames(load_library())
    for table, frame in (("library_levels", levels), ("library_names", names)):
        con.register(f"{table}_frame", frame)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {table}_frame")
        con.unregister(f"{table}_frame")


def register_decisions(con: duckdb.DuckDBPyConnection, decisions: pd.DataFrame | None, today: date) -> None:
    """Temp table `clinician_decisions`: per client and ladder, the newest decision made by today that
    changed the exercise or the dose (the one that sets the current level and dose)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE clinician_decisions (
            client_id VARCHAR, ladder VARCHAR, decided_on DATE, level INTEGER,
            sets INTEGER, reps INTEGER, hold_s INTEGER, tempo VARCHAR)"""
    )
    if decisions is None or decisions.empty:
        return
    frame = decisions[["decision_id", "client_id", "ladder", "decided_on", "changes", "level", "sets", "reps",
                       "hold_s", "tempo"]].astype({"decided_on": "str"})  # fmt: skip
    con.register("decisions_frame", frame)
    con.execute(
        """INSERT INTO clinician_decisions
           SELECT client_id, ladder, CAST(decided_on AS DATE), level, sets, reps, hold_s, tempo
           FROM decisions_frame
           WHERE CAST(changes AS INTEGER) = 1 AND CAST(decided_on AS DATE) <= ?
           QUALIFY row_number() OVER (PARTITION BY client_id, ladder ORDER BY decision_id DESC) = 1""",
        [today],
    )
    con.unregister("decisions_frame")
