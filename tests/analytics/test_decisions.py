"""Clinicians' decisions (docs/recommendations.md): accept or override, stored with who and when, and what they change.

The client of tests/analytics/test_progressions.py: starts Monday 2026-06-01, 3 sessions a week,
comes Mon/Wed/Fri from week 3 (a hip-flexor stretch each time), and does the bridge (level 2,
2 × 10 s hold, comfortable) on the last three of those days. On Friday 2026-06-26 the engine
recommends progressing the dose to 3 × 10 s.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime

import pytest

from analytics import Analytics, Scope
from analytics.decisions import SCHEMA, DecisionError, Prescription, read_decisions, record
from analytics.reviews import record_review
from etl.records import ConstraintError, connect, records_path
from tests.analytics.clinic import Clinic
from tests.analytics.test_progressions import LAST_3, WEEK_3_AND_4, ex, recommendation
from tests.conftest import copy_warehouse

FRIDAY = date(2026, 6, 26)
NEXT_WEEK = ["2026-06-29", "2026-07-01", "2026-07-03"]


def clinic_with(tmp_path, bridge_days=LAST_3, later=(), exercise="bridge", **dose) -> Clinic:
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=3)
    for day in [*WEEK_3_AND_4, *NEXT_WEEK]:
        clinic.session("C-1", day, exercise="hip-flexor stretch", pain_during=1, sets=2, hold_s=20)
    for day in bridge_days:
        clinic.session("C-1", day, **_values(ex(day, exercise=exercise, **dose)))
    for day, values in later:
        clinic.session("C-1", day, **_values(ex(day, **values)))
    return clinic


def _values(row: dict) -> dict:
    return {k: v for k, v in row.items() if k != "day"}


def bridge(db, today: date, ladder: str = "bridge") -> dict:
    with Analytics.open(db, Scope.everyone(), today) as a:
        return recommendation(a.recommendations(), ladder)


def test_an_override_to_regress_changes_the_next_recommendation(tmp_path):
    db = clinic_with(tmp_path).load()
    shown = bridge(db, FRIDAY)
    assert (shown["decision"], shown["next_dose"]) == ("progress", "3 × 10 s hold")

    record(
        db, shown, decided_by="S-1", action="override", decision="regress",
        prescription=Prescription("supine pelvic tilt", 1, 2, reps=10),
        reason="hip sore after the weekend walk", as_of=FRIDAY, decided_on=FRIDAY,
    )  # fmt: skip

    after = bridge(db, FRIDAY)
    # the decision sets the current level; nothing has been done at it yet
    assert (after["exercise"], after["level"], after["dose"]) == ("supine pelvic tilt", 1, "2 × 10")
    assert (after["decision"], after["next_exercise"], after["next_dose"]) == ("hold", "supine pelvic tilt", "2 × 10")
    assert "exposures at current level: 0 (≥ 3 ✗)" in after["evidence"]
    assert "pain during last 3: no exposures yet" in after["evidence"]


def test_an_accepted_dose_step_restarts_the_count_and_becomes_the_current_dose(tmp_path):
    later = [(day, {"sets": 3, "hold": 10}) for day in NEXT_WEEK]
    db = clinic_with(tmp_path, later=later).load()
    record(db, bridge(db, FRIDAY), decided_by="S-1", action="accept", as_of=FRIDAY, decided_on=FRIDAY)

    on_friday = bridge(db, FRIDAY)
    assert (on_friday["dose"], on_friday["decision"], on_friday["exposures_at_level"]) == ("3 × 10 s hold", "hold", 0)
    # Monday: one exposure at the new dose
    monday = bridge(db, date(2026, 6, 29))
    assert (monday["decision"], monday["exposures_at_level"]) == ("hold", 1)
    # the next Friday: three comfortable exposures at 3 × 10 s -> the hold steps 10 s
    friday = bridge(db, date(2026, 7, 3))
    assert (friday["decision"], friday["next_exercise"], friday["next_dose"]) == ("progress", "bridge", "3 × 20 s hold")
    assert friday["exposures_at_level"] == 3


def test_a_tempo_set_by_a_decision_stays_and_the_top_of_the_ladder_then_steps_reps(tmp_path):
    top = {"exercise": "bridge with band around knees", "sets": 3, "reps": 15, "hold": None}
    db = clinic_with(tmp_path, later=[(day, top) for day in NEXT_WEEK], **{k: v for k, v in top.items()}).load()
    shown = bridge(db, FRIDAY)
    assert (shown["decision"], shown["next_dose"]) == ("progress", "3 × 15, tempo 3-2-3")
    record(db, shown, decided_by="S-1", action="accept", as_of=FRIDAY, decided_on=FRIDAY)

    friday = bridge(db, date(2026, 7, 3))
    assert friday["dose"] == "3 × 15, tempo 3-2-3"  # the log has no tempo column: the decision keeps it
    assert (friday["decision"], friday["next_exercise"], friday["next_dose"]) == (
        "progress",
        "bridge with band around knees",
        "3 × 17, tempo 3-2-3",
    )


def test_an_accepted_hold_changes_nothing(tmp_path):
    db = clinic_with(tmp_path, bridge_days=LAST_3[1:]).load()
    shown = bridge(db, FRIDAY)
    assert shown["decision"] == "hold"
    record(db, shown, decided_by="S-1", action="accept", as_of=FRIDAY, decided_on=FRIDAY)
    assert read_decisions(db)["changes"].tolist() == [0]
    after = bridge(db, FRIDAY)
    assert (after["decision"], after["exposures_at_level"]) == ("hold", 2)


def test_an_override_to_hold_keeps_the_current_exercise_and_dose(tmp_path):
    db = clinic_with(tmp_path).load()
    record(
        db, bridge(db, FRIDAY), decided_by="S-1", action="override", decision="hold",
        reason="wants another week before adding a set", as_of=FRIDAY, decided_on=FRIDAY,
    )  # fmt: skip
    stored = read_decisions(db).iloc[0]
    assert (stored["decision"], stored["exercise"], stored["sets"], stored["hold_s"], stored["changes"]) == (
        "hold",
        "bridge",
        2,
        10,
        0,
    )
    assert bridge(db, FRIDAY)["decision"] == "progress"  # the engine still says what it sees


def test_a_decision_made_before_the_newest_exposure_gives_way_to_the_log(tmp_path):
    """Set to level 3 on Monday, but the client went on doing the bridge: the log says level 2,
    and only the exposures after the decision count."""
    db = clinic_with(tmp_path).load()
    shown = bridge(db, FRIDAY)
    record(
        db, shown, decided_by="S-1", action="override", decision="progress",
        prescription=Prescription("bridge with slow tempo", 3, 2, reps=8),
        reason="ready for tempo work", as_of=date(2026, 6, 22), decided_on=date(2026, 6, 22),
    )  # fmt: skip
    after = bridge(db, FRIDAY)
    current = (after["exercise"], after["level"], after["exposures_at_level"], after["decision"])
    assert current == ("bridge", 2, 2, "hold")


def test_a_decision_dated_after_today_is_not_in_force(tmp_path):
    db = clinic_with(tmp_path).load()
    record(
        db, bridge(db, FRIDAY), decided_by="S-1", action="override", decision="regress",
        prescription=Prescription("supine pelvic tilt", 1, 2, reps=10), reason="flare",
        as_of=FRIDAY, decided_on=date(2026, 6, 30),
    )  # fmt: skip
    assert bridge(db, FRIDAY)["exercise"] == "bridge"
    assert bridge(db, date(2026, 7, 3))["exercise"] == "supine pelvic tilt"


def test_the_newest_decision_is_in_force_and_every_decision_is_kept(records_backend, tmp_path):
    db = clinic_with(tmp_path).load()
    shown = bridge(db, FRIDAY)
    first = record(db, shown, decided_by="S-1", action="accept", as_of=FRIDAY, decided_on=FRIDAY)
    regress = {"decision": "regress", "prescription": Prescription("supine pelvic tilt", 1, 2, reps=10),
               "reason": "second opinion", "as_of": FRIDAY, "decided_on": FRIDAY}  # fmt: skip
    # A second decision on the same recommendation must say that it replaces the first.
    with pytest.raises(DecisionError, match=r"already accepted by S-1 at .*replaces it"):
        record(db, shown, decided_by="S-2", action="override", **regress)
    second = record(db, shown, decided_by="S-2", action="override", replaces=first, **regress)
    assert second > first
    stored = read_decisions(db)
    assert stored["decided_by"].tolist() == ["S-1", "S-2"]
    assert stored["replaces"].tolist()[1] == first
    assert bridge(db, FRIDAY)["exercise"] == "supine pelvic tilt"
    # ... the newest one: replacing the first again is refused, as is naming a decision of nothing here
    with pytest.raises(DecisionError, match="already overridden \\(regress\\) by S-2"):
        record(db, shown, decided_by="S-1", action="accept", as_of=FRIDAY, replaces=first)
    with pytest.raises(DecisionError, match="decision 99 is not a decision on this recommendation"):
        record(db, shown, decided_by="S-1", action="accept", as_of=date(2026, 6, 27), replaces=99)


def test_of_two_clinicians_deciding_at_once_one_is_stored_and_the_other_refused(records_backend, tmp_path):
    db = clinic_with(tmp_path).load()
    shown = bridge(db, FRIDAY)
    start = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def decide(who: str) -> None:
        start.wait()
        try:
            outcomes[who] = record(db, shown, decided_by=who, action="accept", as_of=FRIDAY, decided_on=FRIDAY)
        except DecisionError as e:
            outcomes[who] = e

    threads = [threading.Thread(target=decide, args=(who,)) for who in ("S-1", "S-2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = read_decisions(db)
    assert len(stored) == 1
    winner = stored["decided_by"].iloc[0]
    loser = "S-2" if winner == "S-1" else "S-1"
    assert outcomes[winner] == stored["decision_id"].iloc[0]
    assert isinstance(outcomes[loser], DecisionError) and f"already accepted by {winner}" in str(outcomes[loser])


@pytest.fixture(scope="module")
def progressing(tmp_path_factory):
    """The clinic's warehouse, loaded once for the table below (each case decides on a copy)."""
    return clinic_with(tmp_path_factory.mktemp("progressing")).load()


# The bridge at level 2, 2 × 10 s hold, recommended to progress (3 × 10 s). Level 1 is the supine
# pelvic tilt (2 × 10), level 3 the bridge with slow tempo.
LOWER_LEVEL = Prescription("supine pelvic tilt", 1, 2, reps=10)
HIGHER_LEVEL = Prescription("bridge with slow tempo", 3, 2, reps=8)
SAME = Prescription("bridge", 2, 2, hold_s=10)


@pytest.mark.parametrize(
    ("decision", "prescription", "refused"),
    [
        ("regress", LOWER_LEVEL, None),
        ("regress", Prescription("bridge", 2, 2, hold_s=7), None),
        ("regress", Prescription("bridge", 2, 1, hold_s=10), None),
        ("regress", HIGHER_LEVEL, "regress lowers the level, but level 3 is above the current level 2"),
        ("regress", SAME, "regress at the same level lowers the dose, but level 2 bridge, 2 × 10 s hold against"),
        ("regress", Prescription("bridge", 2, 3, hold_s=10), "regress at the same level lowers the dose"),
        ("progress", HIGHER_LEVEL, None),
        ("progress", Prescription("bridge", 2, 3, hold_s=10), None),
        ("progress", Prescription("bridge", 2, 2, hold_s=20), None),
        ("progress", Prescription("bridge", 2, 2, hold_s=10, tempo="3-1-3"), None),
        ("progress", LOWER_LEVEL, "progress raises the level, but level 1 is below the current level 2"),
        ("progress", SAME, "progress at the same level raises the dose or slows the tempo"),
        ("progress", Prescription("bridge", 2, 1, hold_s=20), "progress at the same level raises the dose"),
        ("progress", Prescription("bridge", 2, 3, hold_s=5), "progress at the same level raises the dose"),
        ("hold", SAME, None),
        ("hold", None, None),
        ("hold", Prescription("bridge", 2, 3, hold_s=10), "hold keeps the dose (or sets the level's target dose)"),
        ("hold", Prescription("bridge", 2, 2, hold_s=5), "hold keeps the dose"),
        ("hold", HIGHER_LEVEL, "hold keeps the level, but level 3 is not the current level 2"),
        ("hold", LOWER_LEVEL, "hold keeps the level, but level 1 is not the current level 2"),
        ("refer", None, None),
        ("refer", SAME, None),
        ("refer", Prescription("bridge", 2, 3, hold_s=10), "refer changes nothing, but level 2 bridge, 3 × 10 s hold"),
        ("refer", LOWER_LEVEL, "refer changes nothing"),
    ],
)
def test_an_override_must_agree_with_its_decision(progressing, tmp_path, decision, prescription, refused):
    db = copy_warehouse(progressing, tmp_path / "hipline.duckdb")
    shown = bridge(db, FRIDAY)
    assert (shown["decision"], shown["level"], shown["dose"]) == ("progress", 2, "2 × 10 s hold")
    override = {"decision": decision, "prescription": prescription, "reason": "clinical judgement", "as_of": FRIDAY}
    if refused is None:
        record(db, shown, decided_by="S-1", action="override", **override)
        stored = read_decisions(db).iloc[0]
        expected = prescription or Prescription("bridge", 2, 2, hold_s=10)
        assert (stored["decision"], stored["level"], stored["sets"]) == (decision, expected.level, expected.sets)
    else:
        with pytest.raises(DecisionError, match=re.escape(refused)):
            record(db, shown, decided_by="S-1", action="override", **override)
        assert read_decisions(db).empty


def test_hold_sets_the_levels_target_dose_when_less_was_done_and_says_so(tmp_path):
    db = clinic_with(tmp_path, sets=1).load()  # 1 × 10 s hold done; the bridge's target is 2 × 10 s
    shown = bridge(db, FRIDAY)
    assert (shown["decision"], shown["dose"], shown["next_dose"]) == ("hold", "1 × 10 s hold", "2 × 10 s hold")
    assert shown["why"] == "hold: less than the target dose was done — stay at this level, at its target dose"
    assert shown["hold_to"]["sets"] == 2 and shown["regress_to"]["exercise"] == "supine pelvic tilt"
    target = Prescription("bridge", 2, 2, hold_s=10)
    record(db, shown, decided_by="S-1", action="override", decision="hold", prescription=target, reason="ok",
           as_of=FRIDAY)  # fmt: skip
    assert read_decisions(db)["sets"].tolist() == [2]


def test_a_decision_keeps_who_when_what_was_shown_and_what_was_taken(records_backend, tmp_path):
    db = clinic_with(tmp_path).load()
    shown = bridge(db, FRIDAY)
    at = datetime(2026, 6, 26, 17, 5, tzinfo=UTC)
    record(db, shown, decided_by="S-1", action="accept", as_of=FRIDAY, decided_at=at)
    row = read_decisions(db).iloc[0].to_dict()
    assert row["decided_by"] == "S-1"
    assert row["decided_at"] == "2026-06-26T17:05:00+00:00"
    assert (row["client_id"], row["ladder"], row["family"], row["as_of"]) == ("C-1", "bridge", "bridge", "2026-06-26")
    assert (row["shown_decision"], row["shown_exercise"], row["shown_level"], row["shown_dose"]) == (
        "progress",
        "bridge",
        2,
        "2 × 10 s hold",
    )
    assert (row["shown_next_exercise"], row["shown_next_dose"]) == ("bridge", "3 × 10 s hold")
    assert "pain during last 3: 2, 2, 2 (≤ 3 ✓)" in row["shown_reasons"]
    assert (row["action"], row["decision"], row["exercise"], row["level"], row["sets"], row["hold_s"]) == (
        "accept",
        "progress",
        "bridge",
        2,
        3,
        10,
    )
    assert row["changes"] == 1
    if records_backend == "sqlite":
        assert records_path(db).name == "hipline.records.sqlite"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"action": "override", "decision": "hold", "reason": "  "}, "an override needs a reason"),
        ({"action": "override", "decision": "hold"}, "an override needs a reason"),
        ({"action": "override", "decision": "skip", "reason": "x"}, "must be one of refer, regress, hold, progress"),
        ({"action": "override", "decision": "progress", "reason": "x"}, "say the exercise and dose"),
        ({"action": "maybe"}, "accept or override"),
        ({"action": "accept", "decided_by": "S-9"}, "'S-9' is not a staff_id of the roster"),
        ({"action": "accept", "decided_by": ""}, "needs the staff_id"),
    ],
)
def test_a_decision_that_cannot_be_recorded_says_why_and_stores_nothing(tmp_path, options, message):
    db = clinic_with(tmp_path).load()
    shown = bridge(db, FRIDAY)
    with pytest.raises(DecisionError, match=message):
        record(db, shown, **{"decided_by": "S-1", **options}, as_of=FRIDAY)
    assert read_decisions(db).empty


def test_the_store_itself_refuses_an_override_without_a_reason(tmp_path):
    """The CHECK constraint backs the Python check: no other writer can store one either. (PostgreSQL's:
    tests/etl/test_records.py.)"""
    db = clinic_with(tmp_path).load()
    record(db, bridge(db, FRIDAY), decided_by="S-1", action="accept", as_of=FRIDAY)
    with pytest.raises(ConstraintError, match=r"(?i)check constraint"), connect(db, SCHEMA) as con:
        con.execute(
            """INSERT INTO decisions (client_id, ladder, decided_at, decided_on, decided_by, action, as_of,
                                      shown_decision, decision, changes)
               VALUES ('C-1', 'bridge', 'now', '2026-06-26', 'S-1', 'override', '2026-06-26', 'progress', 'hold', 0)"""
        )
    assert len(read_decisions(db)) == 1


def test_a_reload_of_the_warehouse_keeps_the_decisions(tmp_path):
    clinic = clinic_with(tmp_path)
    db = clinic.load()
    record(db, bridge(db, FRIDAY), decided_by="S-1", action="accept", as_of=FRIDAY, decided_on=FRIDAY)
    clinic.session("C-1", "2026-06-26", exercise="clamshell", pain_during=1, sets=2, reps=10)
    clinic.load()  # a corrected session file replaces the earlier one
    assert len(read_decisions(db)) == 1
    assert bridge(db, FRIDAY)["dose"] == "3 × 10 s hold"


def test_rule_1_follows_the_red_flag_reviews(tmp_path):
    """A red-flag note refers every exercise until a review covers it; a review that refers the client
    on (or pauses) keeps them all at refer (nothing progressed) until a later cleared one; a note
    after the newest review refers again."""
    clinic = clinic_with(tmp_path)
    clinic.session("C-1", "2026-06-24", attended=False, notes="Knee gave way on the stairs")
    db = clinic.load()

    def shown(day=FRIDAY):
        rec = bridge(db, day)
        return rec["decision"], rec["why"]

    assert shown() == ("refer", "refer: a red-flag note of 24 Jun is not reviewed — review it before any change")
    record_review(db, "C-1", outcome="referred", referred_to="GP", note="x-ray", reviewed_by="S-1",
                  reviewed_on=date(2026, 6, 25))  # fmt: skip
    assert shown() == ("refer", "on hold: referred to GP on 25 Jun — nothing is progressed")
    assert bridge(db, FRIDAY)["next_dose"] == "no change while the client is on hold"
    record_review(db, "C-1", outcome="cleared", note="x-ray clear", reviewed_by="S-1", reviewed_on=date(2026, 6, 26))
    assert shown()[0] == "progress"
    clinic.session("C-1", "2026-06-29", attended=False, notes="Swelling in the knee again")
    assert clinic.load() == db  # the reviews stay beside the reloaded warehouse
    assert shown(date(2026, 6, 29))[0] == "refer"


def test_of_two_hosts_deciding_at_once_one_is_stored_and_the_other_refused(records_url, tmp_path):
    """Two processes on one PostgreSQL (two web hosts). Both are let through the check that the
    recommendation is not decided yet only as far as the database lets them: the first waits just after
    it, until the second has either passed it too (then both would write) or is held by the database."""
    import multiprocessing

    import psycopg

    db = clinic_with(tmp_path).load()
    shown = bridge(db, FRIDAY)
    fork = multiprocessing.get_context("fork")  # the attached records and the loaded warehouse come along
    checked = {"S-1": fork.Event(), "S-2": fork.Event()}
    go, outcomes = fork.Event(), fork.Queue()

    def decide(who: str) -> None:
        from analytics import decisions

        check = decisions._check_not_decided

        def check_then_wait(con, row, replaces):
            check(con, row, replaces)
            checked[who].set()
            go.wait(60)

        decisions._check_not_decided = check_then_wait
        try:
            outcomes.put((who, record(db, shown, decided_by=who, action="accept", as_of=FRIDAY, decided_on=FRIDAY)))
        except DecisionError as e:
            outcomes.put((who, str(e)))

    first = fork.Process(target=decide, args=("S-1",))
    first.start()
    assert checked["S-1"].wait(60), "the first decision never reached its check"
    second = fork.Process(target=decide, args=("S-2",))
    second.start()
    with psycopg.connect(records_url, autocommit=True) as watcher:
        for _ in range(3000):  # at most a minute
            held = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()[0]
            if held or checked["S-2"].wait(0.02):
                break
    go.set()
    first.join(60), second.join(60)
    said = dict(outcomes.get(timeout=5) for _ in range(2))
    stored = read_decisions(db)
    assert stored["decided_by"].tolist() == ["S-1"]
    assert said["S-1"] == stored["decision_id"].iloc[0]
    assert "already accepted by S-1" in said["S-2"], said
