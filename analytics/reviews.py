"""Red-flag reviews (docs/metrics.md): a physiotherapist's (or an admin's) answer to a client's red-flag notes.

A review records the outcome: `cleared` (safe to continue), `referred` (and to whom) or `paused`
(exercise stops until a later review), with a note, who and when. It covers every red-flag note dated
on or before its day; a note after it needs a new review. From a `referred` or `paused` review the
client is *on hold* until a later `cleared` one: the newest review by today says which.

Like the decisions, reviews are clinical records, not data loaded from files: they live in the
clinic's records (`etl.records`: beside the warehouse, or a clinic network's PostgreSQL), rows only ever
added.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from analytics.definitions import REVIEW_OUTCOMES
from etl.records import connect, reading

SCHEMA = f"""CREATE TABLE IF NOT EXISTS red_flag_reviews (
    review_id INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id TEXT NOT NULL,
    reviewed_on TEXT NOT NULL,          -- the clinic's day of the review (YYYY-MM-DD): it covers notes up to it
    reviewed_at TEXT NOT NULL,          -- when, in UTC (ISO 8601)
    reviewed_by TEXT NOT NULL,          -- a staff_id of the roster
    outcome TEXT NOT NULL CHECK (outcome IN ({", ".join(f"'{o}'" for o in REVIEW_OUTCOMES)})),
    referred_to TEXT,
    note TEXT NOT NULL CHECK (length(trim(note)) > 0),
    CHECK (outcome <> 'referred' OR length(trim(coalesce(referred_to, ''))) > 0)
)"""

COLUMNS = ["review_id", "client_id", "reviewed_on", "reviewed_at", "reviewed_by", "outcome", "referred_to", "note"]


class ReviewError(ValueError):
    """A review that cannot be recorded; the message says what to fix."""


def record_review(
    db: Path,
    client_id: str,
    *,
    outcome: str,
    note: str,
    reviewed_by: str,
    referred_to: str | None = None,
    reviewed_on: date | None = None,
    reviewed_at: datetime | None = None,
) -> int:
    """Store one review of a client's red-flag notes; its id. The caller has checked that the
    reviewer may review this client (docs/security.md#roles-and-what-each-may-do)."""
    if outcome not in REVIEW_OUTCOMES:
        raise ReviewError(f"the outcome is one of {', '.join(REVIEW_OUTCOMES)}, not {outcome!r}")
    if not note or not note.strip():
        raise ReviewError("a review needs a note: what was checked and what was decided")
    referred_to = referred_to.strip() if referred_to else None
    if outcome == "referred" and not referred_to:
        raise ReviewError("say to whom the client is referred (GP, emergency care, a specialist)")
    if outcome != "referred":
        referred_to = None
    if not reviewed_by or not reviewed_by.strip():
        raise ReviewError("a review needs the staff_id of who made it")
    reviewed_at = reviewed_at or datetime.now(UTC)
    row = {
        "client_id": client_id,
        "reviewed_on": (reviewed_on or reviewed_at.astimezone().date()).isoformat(),
        "reviewed_at": reviewed_at.isoformat(),
        "reviewed_by": reviewed_by,
        "outcome": outcome,
        "referred_to": referred_to,
        "note": note.strip(),
    }
    with connect(db, SCHEMA) as con:
        inserted = con.execute(
            f"INSERT INTO red_flag_reviews ({', '.join(row)}) VALUES ({', '.join(f':{c}' for c in row)}) "
            "RETURNING review_id",
            row,
        )
        return int(inserted.fetchone()[0])


def read_reviews(db: Path, client_id: str | None = None) -> pd.DataFrame:
    """Every review recorded for this warehouse (or for one client), oldest first."""
    with reading(db, SCHEMA) as con:
        return con.frame(
            "SELECT * FROM red_flag_reviews WHERE CAST(:client_id AS TEXT) IS NULL OR client_id = :client_id "
            "ORDER BY review_id",
            {"client_id": client_id},
        )


def reviews_version(db: Path) -> int:
    """A number that changes when a review is recorded (reviews are only ever added)."""
    with reading(db, SCHEMA) as con:
        return con.execute("SELECT coalesce(max(review_id), 0) FROM red_flag_reviews").fetchall()[0][0]


def register_reviews(con: duckdb.DuckDBPyConnection, reviews: pd.DataFrame | None, today: date) -> None:
    """Temp table `red_flag_reviews`: the reviews made by today (a review dated after the day the
    numbers are for is ignored, as every record after it is)."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE red_flag_reviews (
            review_id INTEGER, client_id VARCHAR, reviewed_on DATE, reviewed_by VARCHAR, outcome VARCHAR,
            referred_to VARCHAR, note VARCHAR)"""
    )
    if reviews is None or reviews.empty:
        return
    frame = reviews[["review_id", "client_id", "reviewed_on", "reviewed_by", "outcome", "referred_to", "note"]]
    con.register("reviews_frame", frame.astype({"reviewed_on": "str", "referred_to": "object"}))
    con.execute(
        """INSERT INTO red_flag_reviews
           SELECT review_id, client_id, CAST(reviewed_on AS DATE), reviewed_by, outcome, referred_to, note
           FROM reviews_frame WHERE CAST(reviewed_on AS DATE) <= ?""",
        [today],
    )
    con.unregister("reviews_frame")
