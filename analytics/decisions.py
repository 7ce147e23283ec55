"""Clinicians' decisions on recommendations (docs/recommendations.md): accept, or override with a reason.

A decision is a clinical record, not data loaded from a file, so it does not live in the warehouse
(which a load rebuilds and swaps): it lives in the clinic's records (`etl.records`:
`<warehouse>.records.sqlite` beside it, or a clinic network's PostgreSQL). Rows are only ever added;
the newest decision for a client's ladder is the one in force.

Each row keeps who decided and when, the recommendation as it was shown (decision, exercise, dose
and evidence), and the decision taken with the exercise and dose the client goes on with. A
decision that changes the exercise or the dose becomes the client's current level and dose for the
next recommendations (see docs/recommendations.md).
"""

from __future__ import annotations

import contextlib
import sqlite3
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
    replaces INTEGER REFERENCES decisions (decision_id),  -- a decision on the same recommendation it replaces
    CHECK (action = 'accept' OR length(trim(coalesce(reason, ''))) > 0)
)"""

COLUMNS = [
    "decision_id", "client_id", "ladder", "family", "decided_at", "decided_on", "decided_by", "action", "reason",
    "as_of", "shown_decision", "shown_exercise", "shown_level", "shown_dose", "shown_next_exercise",
    "shown_next_dose", "shown_reasons", "decision", "exercise", "level", "sets", "reps", "hold_s", "tempo",
    "changes", "replaces",
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


def option(rec: Mapping, decision: str) -> Prescription:
    """What `decision` would prescribe for this recommendation (docs/recommendations.md): the engine's step back, the
    level kept at the dose done or its target dose, the engine's next step up, or no change (refer).
    The decision dialog fills these in when a clinician chooses a decision."""
    if decision == rec["decision"]:
        return next_prescription(rec)
    chosen = {"regress": rec.get("regress_to"), "hold": rec.get("hold_to"), "progress": rec.get("progress_to")}.get(
        decision
    )
    if not isinstance(chosen, Mapping):
        return current_prescription(rec)
    return Prescription(chosen["exercise"], _int(chosen["level"]), _int(chosen["sets"]), _int(chosen["reps"]),
                        _int(chosen["hold_s"]), _text(chosen["tempo"]))  # fmt: skip


def disagreement(rec: Mapping, decision: str, chosen: Prescription) -> str | None:
    """Why `chosen` does not agree with `decision` (docs/recommendations.md), or None when it does: regress lowers the
    level, or keeps it and lowers the dose; progress raises the level, or keeps it and raises the dose
    or slows the tempo; hold keeps the level, and the dose or sets the level's target dose; refer
    keeps everything."""
    now = current_prescription(rec)
    said = f"{_words(chosen)} against the current {_words(now)}"
    if decision == "refer":
        return None if chosen == now else f"refer changes nothing, but {said}"
    if chosen.level is not None and now.level is not None and chosen.level != now.level:
        higher = chosen.level > now.level
        if decision == "hold":
            return f"hold keeps the level, but level {chosen.level} is not the current level {now.level}"
        if decision == "regress" and higher:
            return f"regress lowers the level, but level {chosen.level} is above the current level {now.level}"
        if decision == "progress" and not higher:
            return f"progress raises the level, but level {chosen.level} is below the current level {now.level}"
        return None
    dose = _compare(_dose(chosen), _dose(now))
    if decision == "hold":
        kept = dose == "same" or _dose(chosen) == _dose(option(rec, "hold"))
        return None if kept else f"hold keeps the dose (or sets the level's target dose), but {said}"
    if decision == "regress":
        return None if dose == "lower" else f"regress at the same level lowers the dose, but {said}"
    slower = _tempo_seconds(chosen.tempo) > _tempo_seconds(now.tempo)
    if dose == "higher" or (dose == "same" and slower):
        return None
    return f"progress at the same level raises the dose or slows the tempo, but {said}"


def _dose(p: Prescription) -> tuple[int | None, ...]:
    return (p.sets, p.reps, p.hold_s)


def _compare(chosen: tuple, now: tuple) -> str:
    """ "same", "lower" (nothing more, something less), "higher" (nothing less, something more) or
    "mixed", comparing the parts both doses have."""
    pairs = [(a, b) for a, b in zip(chosen, now, strict=True) if a is not None and b is not None]
    less = any(a < b for a, b in pairs)
    more = any(a > b for a, b in pairs)
    if less and more:
        return "mixed"
    return "lower" if less else "higher" if more else "same"


def _tempo_seconds(tempo: str | None) -> float:
    """A tempo's length ("3-1-3" = 7 s a rep); none is the quickest; one that is not numbers counts as
    slower than none."""
    if not tempo:
        return 0
    parts = [p for p in str(tempo).replace("–", "-").split("-") if p.strip()]
    try:
        return sum(float(p) for p in parts)
    except ValueError:
        return 0.5


def _words(p: Prescription) -> str:
    level = f"level {p.level} " if p.level is not None else ""
    amount = f"{p.reps}" if p.reps is not None else f"{p.hold_s} s hold" if p.hold_s is not None else "?"
    tempo = f", tempo {p.tempo}" if p.tempo else ""
    return f"{level}{p.exercise}, {p.sets if p.sets is not None else '?'} × {amount}{tempo}"


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
    replaces: int | None = None,
) -> int:
    """Store one decision on a recommendation (a row of `Analytics.recommendations()`); its id.

    accept:   the recommendation is taken as shown (its next exercise and dose);
    override: `decision` is taken instead, with a `reason`, and `prescription` says what the client
              goes on with (needed when the decision is to regress or progress; otherwise the
              current exercise and dose continue); it must agree with the decision (`disagreement`).

    A recommendation already decided on (a decision on the same client, exercise and day) takes a
    second decision only when it says which it `replaces`: of two clinicians deciding at once, the
    second is refused with the first's name, not silently written over it.
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
    if action == "override" and (problem := disagreement(recommendation, decision, prescription)):
        raise DecisionError(problem)
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
        "replaces": replaces,
    }
    with connect(db, SCHEMA) as con:
        _add_replaces(con)
        # Decisions on this recommendation wait for each other, so the check below still holds at the commit.
        con.take_turns("decision", row["client_id"], row["ladder"], row["as_of"])
        _check_not_decided(con, row, replaces)
        inserted = con.execute(
            f"INSERT INTO decisions ({', '.join(row)}) VALUES ({', '.join(f':{c}' for c in row)}) "
            "RETURNING decision_id",
            row,
        )
        return int(inserted.fetchone()[0])


def _add_replaces(con) -> None:
    """A records file written before a decision could replace another lacks the column: add it.
    (PostgreSQL's schema has had it from its first migration.)"""
    if con.backend != "sqlite":
        return
    if "replaces" not in {c[1] for c in con.execute("PRAGMA table_info(decisions)").fetchall()}:
        with contextlib.suppress(sqlite3.OperationalError):  # another process added it just now
            con.execute("ALTER TABLE decisions ADD COLUMN replaces INTEGER REFERENCES decisions (decision_id)")


def _check_not_decided(con, row: dict, replaces: int | None) -> None:
    """Refuse a second decision on the same recommendation (client, exercise and day) unless it names
    the newest one as the one it replaces. Runs inside the write transaction, after `take_turns`: of
    two at once, one waits for the other and then sees it."""
    newest = con.execute(
        """SELECT decision_id, decided_by, decided_at, action, decision FROM decisions
           WHERE client_id = :client_id AND ladder = :ladder AND as_of = :as_of ORDER BY decision_id DESC LIMIT 1""",
        row,
    ).fetchone()
    if newest is None:
        if replaces is not None:
            raise DecisionError(f"decision {replaces} is not a decision on this recommendation")
        return
    decision_id, who, at, action, decision = newest
    if replaces == decision_id:
        return
    when = datetime.fromisoformat(at).astimezone().strftime("%H:%M")
    done = "accepted" if action == "accept" else f"overridden ({decision})"
    raise DecisionError(
        f"this recommendation was already {done} by {who} at {when}: reload to see it, and say that yours "
        "replaces it to change it"
    )


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
        _add_replaces(con)
        return con.frame(
            "SELECT * FROM decisions WHERE CAST(:client_id AS TEXT) IS NULL OR client_id = :client_id "
            "ORDER BY decision_id",
            {"client_id": client_id},
        )


def decisions_version(db: Path) -> int:
    """A number that changes when a decision is recorded (decisions are only ever added): what a
    cache of recommendations checks, cheaply, on every request."""
    with reading(db, SCHEMA) as con:
        return con.execute("SELECT coalesce(max(decision_id), 0) FROM decisions").fetchall()[0][0]
