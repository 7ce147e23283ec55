"""Clinicians' decisions on recommendations (SPEC §3): accept, or override with a reason.

A decision is a clinical record, not data loaded from a file, so it does not live in the warehouse
(which a load rebuilds and swaps): it lives in the clinic's records beside it (`etl.records`,
`<warehouse>.records.sqlite`). Rows are only ever added; the newest decision for a client's ladder
is the one in force.

Each row keeps who decided and when, the recommendation as it was shown (decision, exercise, dose
and evidence), and the decision taken with the exercise and dose the client goes on with. A
decision that changes the exercise or the dose becomes the client's current level and dose for the
next recommendations (see docs/recommendations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

from analytics.definitions import DECISIONS
from etl.records import connect, reading
from etl.warehouse import connect_read_only

SCHEMA = f"""CREATE TABLE IF NOT EXISTS decisions (
    decision_id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL,
    ladder TEXT NOT NULL,               -- the family, the stretch, or 'unknown: <name>'
    family TEXT,
    decided_at TEXT NOT NULL,           -- when, in UTC (ISO 8601)
    decided_on TEXT NOT NULL,           -- the clinic's day of the decision (YYYY-MM-DD)
    decided_by TEXT NOT NULL,           -- a staff_id of the roster
    action TEXT NOT NULL CHECK (action IN ('accept', 'override')),
    reason TEXT,
    as_of TEXT NOT NULL,                -- the day the recommendation was computed for
    shown_decision TEXT NOT NULL,
    shown_exercise TEXT,
    shown_level INTEGER,
    shown_dose TEXT,
    shown_next_exercise TEXT,
    shown_next_dose TEXT,
    shown_reasons TEXT,
    decision TEXT NOT NULL CHECK (decision IN ({", ".join(f"'{d}'" for d in DECISIONS)})),
    exercise TEXT,                      -- what the client goes on with
    level INTEGER,
    sets INTEGER,
    reps INTEGER,
    hold_s INTEGER,
    tempo TEXT,
    changes INTEGER NOT NULL,           -- 1: the exercise or the dose differs from the current one
    CHECK (action = 'accept' OR length(trim(coalesce(reason, ''))) > 0)
)"""

COLUMNS = [
    "decision_id", "client_id", "ladder", "family", "decided_at", "decided_on", "decided_by", "action", "reason",
    "as_of", "shown_decision", "shown_exercise", "shown_level", "shown_dose", "shown_next_exercise",
    "shown_next_dose", "shown_reasons", "decision", "exercise", "level", "sets", "reps", "hold_s", "tempo",
    "changes",
]  # fmt: skip


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says what to fix."""


@dataclass(frozen=True)
class Prescription:
    """The exercise and dose a client goes on with. `level` is None for stretches and unknown exercises."""

    exercise: str
    level: int | None
    sets: int | None
    reps: int | None = None
    hold_s: int | None = None
    tempo: str | None = None


def current_prescription(rec: Mapping) -> Prescription:
    return Prescription(rec["exercise"], _int(rec["level"]), _int(rec["sets"]), _int(rec["reps"]),
                        _int(rec["hold_s"]), _text(rec["tempo"]))  # fmt: skip


def next_prescription(rec: Mapping) -> Prescription:
    return Prescription(rec["next_exercise"], _int(rec["next_level"]), _int(rec["next_sets"]),
                        _int(rec["next_reps"]), _int(rec["next_hold_s"]), _text(rec["next_tempo"]))  # fmt: skip


def _int(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _text(value) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def record(
    db: Path,
    recommendation: Mapping,
    *,
    decided_by: str,
    action: str,
    decision: str | None = None,
    prescription: Prescription | None = None,
    reason: str | None = None,
    as_of: date,
    decided_at: datetime | None = None,
    decided_on: date | None = None,
) -> int:
    """Store one decision on a recommendation (a row of `Analytics.recommendations()`); its id.

    accept:   the recommendation is taken as shown (its next exercise and dose);
    override: `decision` is taken instead, with a `reason`, and `prescription` says what the client
              goes on with (needed when the decision is to regress or progress; otherwise the
              current exercise and dose continue).
    """
    if not decided_by or not decided_by.strip():
        raise DecisionError("a decision needs the staff_id of who took it")
    if decided_by not in staff_ids(db):
        raise DecisionError(f"{decided_by!r} is not a staff_id of the roster")
    if action == "accept":
        decision = recommendation["decision"]
        prescription = next_prescription(recommendation)
    elif action == "override":
        if not reason or not reason.strip():
            raise DecisionError("an override needs a reason")
        if decision not in DECISIONS:
            raise DecisionError(f"the decision taken must be one of {', '.join(DECISIONS)}, not {decision!r}")
        if prescription is None:
            if decision in ("regress", "progress"):
                raise DecisionError(f"to {decision} instead, say the exercise and dose the client goes on with")
            prescription = current_prescription(recommendation)
    else:
        raise DecisionError(f"the action is accept or override, not {action!r}")
    changes = prescription != current_prescription(recommendation)
    decided_at = decided_at or datetime.now(UTC)
    row = {
        "client_id": recommendation["client_id"],
        "ladder": recommendation["ladder"],
        "family": _text(recommendation["family"]),
        "decided_at": decided_at.isoformat(),
        "decided_on": (decided_on or decided_at.astimezone().date()).isoformat(),
        "decided_by": decided_by,
        "action": action,
        "reason": reason.strip() if reason else None,
        "as_of": as_of.isoformat(),
        "shown_decision": recommendation["decision"],
        "shown_exercise": recommendation["exercise"],
        "shown_level": _int(recommendation["level"]),
        "shown_dose": recommendation["dose"],
        "shown_next_exercise": recommendation["next_exercise"],
        "shown_next_dose": recommendation["next_dose"],
        "shown_reasons": recommendation["reasons"],
        "decision": decision,
        "exercise": prescription.exercise,
        "level": prescription.level,
        "sets": prescription.sets,
        "reps": prescription.reps,
        "hold_s": prescription.hold_s,
        "tempo": prescription.tempo,
        "changes": int(changes),
    }
    with connect(db, SCHEMA) as con:
        cursor = con.execute(
            f"INSERT INTO decisions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )
        return int(cursor.lastrowid)


def staff_ids(db: Path) -> set[str]:
    """The staff of the warehouse's roster: only they can take a decision."""
    con = connect_read_only(db)
    try:
        return {staff_id for (staff_id,) in con.execute("SELECT staff_id FROM staff").fetchall()}
    finally:
        con.close()


def read_decisions(db: Path, client_id: str | None = None) -> pd.DataFrame:
    """Every decision recorded for this warehouse (or for one client), oldest first (an empty frame
    when there are none)."""
    with reading(db, SCHEMA) as con:
        return pd.read_sql_query(
            "SELECT * FROM decisions WHERE ? IS NULL OR client_id = ? ORDER BY decision_id",
            con,
            params=[client_id, client_id],
        )


def decisions_version(db: Path) -> int:
    """A number that changes when a decision is recorded (decisions are only ever added): what a
    cache of recommendations checks, cheaply, on every request."""
    with reading(db, SCHEMA) as con:
        return con.execute("SELECT coalesce(max(decision_id), 0) FROM decisions").fetchall()[0][0]
