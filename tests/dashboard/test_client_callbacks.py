"""The client page's callbacks, called in-process on the demo warehouse: the date range, the session
log's words, the recommendation cards and the decision dialog."""

from __future__ import annotations

import dash
import pandas as pd
import pytest

from access import audit
from access.roles import Viewer
from analytics import NEWEST, Analytics, Scope
from analytics.decisions import read_decisions
from dashboard.app import create_app
from dashboard.pages import client as page
from tests.conftest import copy_warehouse


@pytest.fixture
def demo(demo_warehouse, tmp_path):
    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    create_app(db, NEWEST)
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        recs = analytics.recommendations()
        today = analytics.today
    return db, today, recs


def _busiest(db) -> str:
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        sessions = analytics.con.sql(
            """SELECT client_id, count(*) AS n FROM session_log GROUP BY 1
               HAVING max(session_date) = (SELECT max(session_date) FROM session_log) ORDER BY n DESC, client_id"""
        )
        return sessions.fetchall()[0][0]


def test_the_date_range_narrows_the_session_log(demo):
    db, today, _ = demo
    client_id = _busiest(db)
    everything = page.show_log(today.isoformat(), client_id, None, None)
    start = (pd.Timestamp(today) - pd.Timedelta(days=13)).date().isoformat()
    last_two_weeks = page.show_log(today.isoformat(), client_id, start, today.isoformat())
    assert 0 < len(last_two_weeks) < len(everything)
    assert all(start <= row["session_date"] <= today.isoformat() for row in last_two_weeks)
    assert sum(start <= row["session_date"] for row in everything) == len(last_two_weeks)


def test_the_session_log_says_the_dose_in_words():
    log = pd.DataFrame(
        {
            "session_date": pd.to_datetime(["2026-10-01", "2026-10-01", "2026-10-02", "2026-10-03"]),
            "session_type": ["home"] * 4,
            "attended": [True, True, True, False],
            "exercise": ["clamshell", "bridge", "single-leg stance", None],
            "level": [1.0, 2.0, 3.0, None],
            "side": ["L", "both", None, None],
            "sets": [3.0, 2.0, float("nan"), float("nan")],
            "reps": [10.0, float("nan"), float("nan"), float("nan")],
            "hold_s": [float("nan"), 20.0, 15.0, float("nan")],
            "notes": [None, None, "=cmd", "away"],
        }
    )
    rows = page.log_rows(log)
    assert [r["dose"] for r in rows] == ["3 × 10 (L)", "2 × 20 s", "15 s", ""]
    assert rows[0]["session_date"] == "2026-10-01"
    assert rows[3]["exercise"] is None and rows[3]["attended"] is False


def test_a_card_marks_the_rules_not_met_and_says_what_comes_next(demo):
    _db, _today, recs = demo
    rec = recs[recs["decision"] == "hold"].iloc[0].to_dict()
    card = page.recommendation_card(rec, None, {})
    lines = card.children[3].children
    failed = [li.children for li in lines if li.className == "fail"]
    assert failed and all("✗" in line for line in failed)
    assert all("✓" in li.children or "skipped" in li.children for li in lines if li.className == "pass")
    assert card.children[2].children == f"Keep: {rec['next_exercise']}, {rec['next_dose']}"


def _clinician_of(db, client_id) -> Viewer:
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        staff_id = analytics.client(client_id)["clinician_id"]
        name = analytics.staff().set_index("staff_id").loc[staff_id, "name"]
    return Viewer(f"user-{staff_id}", staff_id, name, "physio")


def test_accept_through_the_dialog_is_recorded_as_the_signed_in_clinician_as_of_the_day_shown(demo, clicked, signed_in):
    db, today, recs = demo
    rec = recs[recs["decision"] == "progress"].iloc[0]
    clinician = _clinician_of(db, rec["client_id"])
    signed_in(clinician)
    pending = {"ladder": rec["ladder"], "action": "accept"}
    with clicked("decision-confirm"):
        is_open, error, saved, _alert = page.save_decision(
            1, None, pending, today.isoformat(), rec["client_id"], None, None, None, None, None, None, None
        )
    assert (is_open, error) == (False, "")
    stored = read_decisions(db).iloc[0]
    assert (stored["action"], stored["decided_by"], stored["decided_on"], stored["as_of"]) == (
        "accept", clinician.staff_id, today.isoformat(), today.isoformat(),
    )  # fmt: skip
    assert saved["ladder"] == rec["ladder"]
    row = audit.read(db, action="decision").iloc[0]
    assert (row["username"], row["staff_id"], row["client_id"], row["outcome"]) == (
        clinician.username, clinician.staff_id, rec["client_id"], "done",
    )  # fmt: skip
    assert f"accepted progress of {rec['ladder']}" in row["what"]


def test_a_physio_cannot_decide_on_another_physios_client_and_the_attempt_is_audited(demo, clicked, signed_in):
    db, today, recs = demo
    rec = recs[recs["decision"] == "progress"].iloc[0]
    owner = _clinician_of(db, rec["client_id"])
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        staff = analytics.staff()
    other = staff[(staff["role"] == "physio") & (staff["staff_id"] != owner.staff_id)].iloc[0]
    signed_in(Viewer("other", other["staff_id"], other["name"], "physio"))
    pending = {"ladder": rec["ladder"], "action": "accept"}
    with clicked("decision-confirm"):
        is_open, error, saved, _alert = page.save_decision(
            1, None, pending, today.isoformat(), rec["client_id"], None, None, None, None, None, None, None
        )
    # The answer for a recommendation that does not exist: nothing of the client in it.
    assert is_open and error == "This recommendation is no longer current: reload the page."
    assert saved is dash.no_update
    assert read_decisions(db).empty
    refused = audit.read(db, action="refused").iloc[0]
    assert (refused["username"], refused["action"], refused["client_id"]) == ("other", "decision", rec["client_id"])


def test_an_override_without_a_reason_keeps_the_dialog_open_with_the_reason_why(demo, clicked, signed_in):
    db, today, recs = demo
    rec = recs.iloc[0]
    pending = {"ladder": rec["ladder"], "action": "override"}
    signed_in(_clinician_of(db, rec["client_id"]))
    with clicked("decision-confirm"):
        is_open, error, *_ = page.save_decision(
            1, None, pending, today.isoformat(), rec["client_id"], "hold", None, None, None, None, None, ""
        )
    assert is_open and "reason" in error
    assert read_decisions(db).empty
