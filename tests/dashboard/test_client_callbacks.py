"""The client page's callbacks, called in-process on the demo warehouse: the date range, the session
log's words, the recommendation cards and the decision dialog."""

from __future__ import annotations

import json

import dash
import pandas as pd
import pytest

from access import audit
from access.roles import Viewer
from analytics import NEWEST, Analytics, Scope
from analytics.decisions import read_decisions
from analytics.reviews import read_reviews
from dashboard.app import create_app
from dashboard.pages import client as page
from dashboard.pages import client_dialogs as dialogs
from dashboard.security import Refused
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
    # the one line that says why leads; every rule checked is one click away
    assert card.children[1].children == rec["why"] and rec["why"].startswith("hold: ")
    details = card.children[4]
    assert details.children[0].children == "Every rule checked"
    lines = details.children[1].children
    failed = [li.children for li in lines if li.className == "fail"]
    assert failed and all("✗" in line for line in failed)
    assert all("✓" in li.children or "skipped" in li.children for li in lines if li.className == "pass")
    keep = "Keep the level, at its target dose: " if rec["change"] == "target dose" else "Keep: "
    assert card.children[3].children == f"{keep}{rec['next_exercise']}, {rec['next_dose']}"


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
        is_open, error, saved, _alert = dialogs.save_decision(
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
        is_open, error, saved, _alert = dialogs.save_decision(
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
        is_open, error, *_ = dialogs.save_decision(
            1, None, pending, today.isoformat(), rec["client_id"], "hold", None, None, None, None, None, ""
        )
    assert is_open and "reason" in error
    assert read_decisions(db).empty


# --- red flags: one refer card, the review, the header ------------------------------------------------


def _referred_client(db) -> str:
    """A client of the demo with a red-flag note no review covers in the last 14 days."""
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        metrics = analytics.client_metrics()
    return metrics[metrics["flags"].str.startswith("refer")].iloc[0]["client_id"]


def test_a_client_to_refer_has_one_refer_card_with_the_note_that_caused_it(demo):
    db, today, _ = demo
    client_id = _referred_client(db)
    cards = page.show_recommendations(today.isoformat(), client_id, None)
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        recs = analytics.recommendations(client_id)
        note = analytics.red_flag_notes(client_id).iloc[0]
    assert len(recs) > 1 and set(recs["decision"]) == {"refer"}  # every exercise is held by rule 1
    assert len(cards) == 1 and cards[0].id == "refer-card"
    text = str(cards[0])
    assert f"“{note['note']}”" in text and "is not reviewed" in text
    assert all(exercise in text for exercise in recs["exercise"])


def test_a_review_through_the_dialog_clears_refer_or_puts_the_client_on_hold(demo, clicked, signed_in):
    db, today, _ = demo
    client_id = _referred_client(db)
    physio = _clinician_of(db, client_id)
    signed_in(physio)
    day = today.isoformat()
    with clicked("review-save"):
        is_open, error, saved, _ = dialogs.save_review(1, None, day, client_id, "referred", "", "knee gave way")
    assert is_open and error == "Say to whom the client is referred (GP, emergency care, a specialist)."
    with clicked("review-save"):
        is_open, error, saved, _ = dialogs.save_review(1, None, day, client_id, "referred", "GP", "knee gave way")
    assert (is_open, error) == (False, "") and saved["review"] >= 1
    header = str(page.show_header(day, client_id))
    assert f"On hold since {today.day} " in header and "referred to GP" in header
    # still one refer card: on hold
    assert "on hold: referred to GP on " in str(page.show_recommendations(day, client_id, None))
    with clicked("review-save"):
        dialogs.save_review(1, None, day, client_id, "cleared", None, "x-ray clear, safe to continue")
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        flags = analytics.client(client_id)["flags"]
        decisions = set(analytics.recommendations(client_id)["decision"])
    assert "refer" not in flags and "on_hold" not in flags and "refer" not in decisions
    rows = audit.read(db, action="review", client=client_id)  # (the demo's copy may hold others' rows)
    rows = rows[rows["outcome"] == "done"]
    assert list(rows["staff_id"]) == [physio.staff_id] * 2
    assert "referred to GP" in " ".join(rows["what"])


def test_an_instructor_cannot_review_a_red_flag(demo, clicked, signed_in):
    db, today, _ = demo
    client_id = _referred_client(db)
    signed_in(Viewer("instructor", "S-009", "An Instructor", "instructor"))
    with clicked("review-save"), pytest.raises(Refused, match="review"):
        dialogs.save_review(1, None, today.isoformat(), client_id, "cleared", None, "fine")
    assert read_reviews(db).empty


def test_the_header_shows_the_goals(demo):
    db, today, _ = demo
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        client = analytics.client_metrics().iloc[0]
        goals = analytics.client(client["client_id"])["goals"]
    goals_line = _find(page.show_header(today.isoformat(), client["client_id"]), "client-goals")
    assert goals and _text(goals_line) == f"Goals: {goals}"


def _find(component, id_):
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        found = _find(child, id_) if child is not None and not isinstance(child, str) else None
        if found is not None:
            return found
    return None


def _text(component) -> str:
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    return "".join(_text(c) for c in (children if isinstance(children, list) else [children]) if c is not None)


def test_choosing_a_decision_fills_in_a_dose_that_agrees_with_it(demo, signed_in):
    _db, today, recs = demo
    rec = recs[(recs["decision"] == "progress") & recs["level"].notna() & (recs["level"] > 1)].iloc[0]
    pending = {"ladder": rec["ladder"], "action": "override"}
    level, *_ = dialogs.fill_in_decision("regress", pending, today.isoformat(), rec["client_id"])
    assert level == rec["level"] - 1  # a level back, at its target dose
    progress = dialogs.fill_in_decision("progress", pending, today.isoformat(), rec["client_id"])
    assert progress[:4] == (rec["next_level"], rec["next_sets"], _int(rec["next_reps"]), _int(rec["next_hold_s"]))


def _int(value):
    return None if pd.isna(value) else int(value)


def test_the_dialog_on_a_recommendation_decided_today_says_whose_decision_this_one_replaces(demo, clicked, signed_in):
    db, today, recs = demo
    rec = recs[recs["decision"] == "progress"].iloc[0]
    clinician = _clinician_of(db, rec["client_id"])
    signed_in(clinician)
    pending = {"ladder": rec["ladder"], "action": "accept"}
    with clicked("decision-confirm"):
        dialogs.save_decision(1, None, pending, today.isoformat(), rec["client_id"], *[None] * 7)
    first = int(read_decisions(db).iloc[0]["decision_id"])
    accept = json.dumps({"ladder": rec["ladder"], "type": "rec-accept"}, separators=(",", ":"))
    with clicked(accept):
        opened = dialogs.open_decision([1], [None], today.isoformat(), rec["client_id"])
    assert opened[1] == {"ladder": rec["ladder"], "action": "accept", "replaces": first}
    assert f"already accepted by {clinician.name} today: this decision replaces it" in opened[5]
