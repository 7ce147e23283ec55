"""The audit trail (access.audit): append-only, filtered by user, client, action and day, exported as CSV
with formula-like text neutralised."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from access import audit
from access.audit import Actor
from etl.records import ConstraintError, connect

ANA = Actor("ana", "10.0.0.5", "S-1", "physio")
BEN = Actor("ben", "10.0.0.6", "S-2", "instructor")


def test_rows_come_back_newest_first_and_filter_by_user_client_action_and_outcome(records_backend, db):
    audit.record(db, ANA, "view_client", "opened the page of client C-1", client_id="C-1")
    audit.record(db, BEN, "view_client", "client C-1: not in their scope", client_id="C-1", outcome="refused")
    audit.record(db, ANA, "export", "progress report (PDF) of C-2", client_id="C-2")
    rows = audit.read(db)
    assert list(rows["what"]) == ["progress report (PDF) of C-2", "client C-1: not in their scope",
                                  "opened the page of client C-1"]  # fmt: skip
    assert list(audit.read(db, user="ana")["client_id"]) == ["C-2", "C-1"]
    assert list(audit.read(db, user="S-2")["username"]) == ["ben"], "a staff_id finds its user too"
    assert list(audit.read(db, client="C-1")["username"]) == ["ben", "ana"]
    assert list(audit.read(db, action="export")["client_id"]) == ["C-2"]
    assert list(audit.read(db, action="refused")["username"]) == ["ben"]
    assert len(audit.read(db, limit=2)) == 2


def test_a_day_filter_keeps_that_utc_day_and_since_keeps_it_and_after(records_backend, db):
    audit.record(db, ANA, "sign_in", "signed in")
    today = datetime.now(UTC).date()
    assert len(audit.read(db, day=today)) == 1
    assert audit.read(db, day=date(2020, 1, 1)).empty
    assert len(audit.read(db, since=date(2020, 1, 1))) == 1
    assert audit.read(db, since=date(2999, 1, 1)).empty


def test_the_trail_refuses_to_change_or_lose_a_row(records_backend, db):
    audit.record(db, ANA, "sign_in", "signed in")
    with pytest.raises(ConstraintError, match="append-only: a row cannot be changed"), connect(db, audit.SCHEMA) as con:
        con.execute("UPDATE audit SET username = 'someone else'")
    with pytest.raises(ConstraintError, match="append-only: a row cannot be deleted"), connect(db, audit.SCHEMA) as con:
        con.execute("DELETE FROM audit")
    assert list(audit.read(db)["username"]) == ["ana"]


def test_an_unknown_action_or_outcome_is_not_written(records_backend, db):
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(db, ANA, "peek", "looked")
    with pytest.raises(ConstraintError, match="outcome"):
        audit.record(db, ANA, "sign_in", "signed in", outcome="maybe")
    assert audit.read(db).empty


def test_the_csv_export_neutralises_text_a_spreadsheet_would_run(records_backend, db):
    audit.record(db, Actor("=HYPERLINK(\"http://x\")", "10.0.0.9"), "sign_in_failed", "wrong username or password",
                 outcome="failed")  # fmt: skip
    exported = pd.read_csv(__import__("io").StringIO(audit.as_csv(audit.read(db))))
    assert list(exported.columns) == audit.COLUMNS
    assert exported.loc[0, "username"] == '\'=HYPERLINK("http://x")'


def test_the_command_line_is_who_at_the_shell():
    actor = Actor.command_line()
    assert actor.username.startswith("os:") and actor.address == "command line" and actor.role is None
