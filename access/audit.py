"""The audit trail (docs/security.md#roles-and-what-each-may-do): who did what, when, from where, to whom.

Append-only: rows are only ever added, and the records refuse to change or delete one (triggers, in the
SQLite file and in PostgreSQL), whoever asks. A load never touches it (it lives in the records, etl.records).

What is recorded: every sign-in and failed attempt, sign-out, view of a client page, export (what,
of whom), decision, red-flag review, import and undo (files, rows), user change, and every request
refused for lack of a right or outside the user's scope (outcome `refused`, with what was asked).
A password is never part of a row.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from access.roles import Viewer
from analytics.spreadsheet import spreadsheet_safe
from etl.records import connect, reading

if TYPE_CHECKING:  # the trail is written on every request and by every command: no pandas for that
    import pandas as pd

ACTIONS = {
    "sign_in": "signed in",
    "sign_in_failed": "failed to sign in",
    "sign_out": "signed out",
    "view_client": "opened a client's page",
    "view_cohort": "opened a cohort's page",
    "export": "exported",
    "decision": "decided on a recommendation",
    "review": "reviewed a red flag",
    "import": "imported files",
    "undo": "undid a load",
    "user_change": "changed a user",
    "request": "made a request",  # one refused for what it was, not for what it asked (no CSRF token)
}
OUTCOMES = ("done", "failed", "refused")
COLUMNS = ["audit_id", "at", "username", "staff_id", "role", "address", "action", "outcome", "client_id", "what"]

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS audit (
    audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,               -- when, UTC, ISO 8601
    username TEXT NOT NULL,         -- the signed-in user, the name tried at a failed sign-in, or 'os:<user>'
    staff_id TEXT,
    role TEXT,
    address TEXT,                   -- the browser's IP address, or 'command line'
    action TEXT NOT NULL CHECK (action IN ({", ".join(f"'{a}'" for a in ACTIONS)})),
    outcome TEXT NOT NULL CHECK (outcome IN ({", ".join(f"'{o}'" for o in OUTCOMES)})),
    client_id TEXT,                 -- whose data, when it is one client's
    what TEXT NOT NULL              -- in words: which export, which file and rows, which user and change
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TRIGGER IF NOT EXISTS audit_rows_are_never_changed BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: a row cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS audit_rows_are_never_deleted BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: a row cannot be deleted'); END;
"""


@dataclass(frozen=True)
class Actor:
    """Who an audit row names, and from where."""

    username: str
    address: str | None
    staff_id: str | None = None
    role: str | None = None

    @classmethod
    def signed_in(cls, viewer: Viewer, address: str | None) -> Actor:
        return cls(viewer.username, address, viewer.staff_id, viewer.role)

    @classmethod
    def command_line(cls) -> Actor:
        """Someone at the server's shell: the operating-system account is who."""
        return cls(f"os:{getpass.getuser()}", "command line")


def record(
    db: Path, actor: Actor, action: str, what: str, *, client_id: str | None = None, outcome: str = "done"
) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    row = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"), "username": actor.username,
        "staff_id": actor.staff_id, "role": actor.role, "address": actor.address, "action": action,
        "outcome": outcome, "client_id": client_id, "what": what,
    }  # fmt: skip
    with connect(db, SCHEMA) as con:
        con.execute(f"INSERT INTO audit ({', '.join(row)}) VALUES ({', '.join(f':{c}' for c in row)})", row)


def read(
    db: Path,
    *,
    since: date | None = None,
    day: date | None = None,
    user: str | None = None,
    client: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """Audit rows, newest first. `since`: from that day on (UTC); `day`: that day only; `user`: a
    username or staff_id; `client`: a client_id; `action`: one of ACTIONS, or `refused` for every
    refused request."""
    start = since or day
    end = day + timedelta(days=1) if day else None
    # CAST(:x AS TEXT) IS NULL: a filter not asked for; PostgreSQL needs the type of a parameter that may be null.
    with reading(db, SCHEMA) as con:
        frame = con.frame(
            f"""SELECT {", ".join(COLUMNS)} FROM audit
                WHERE (CAST(:start AS TEXT) IS NULL OR at >= :start) AND (CAST(:end AS TEXT) IS NULL OR at < :end)
                  AND (CAST(:user AS TEXT) IS NULL OR lower(username) = lower(:user) OR staff_id = :user)
                  AND (CAST(:client AS TEXT) IS NULL OR client_id = :client)
                  AND (CAST(:action AS TEXT) IS NULL OR action = :action
                       OR (:action = 'refused' AND outcome = 'refused'))
                ORDER BY audit_id DESC{"" if limit is None else " LIMIT :limit"}""",
            {
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
                "user": user or None,
                "client": client or None,
                "action": action or None,
                "limit": limit,
            },
        )
    return frame


def as_csv(rows: pd.DataFrame) -> str:
    """The rows as CSV for a spreadsheet: text that would run as a formula is neutralised (docs/input-formats.md)."""
    return spreadsheet_safe(rows[COLUMNS]).to_csv(index=False)
