"""Flares, red-flag notes and the caseload flags in priority order (docs/metrics.md).

Today is Tuesday 2026-06-30 throughout: "the last 14 days" are 17-30 June (today - 13 ... today),
so 17 June is inside them and 16 June, the 15th day back, is not.
"""

from __future__ import annotations

from datetime import date

import pytest

from analytics.metrics import flag_priority
from analytics.reviews import record_review
from tests.analytics.clinic import Clinic

TODAY = "2026-06-30"


def flags_of(clinic: Clinic, client_id: str = "C-1") -> list[str]:
    flags = clinic.metrics_of(client_id, TODAY)["flags"]
    return flags.split(";") if flags else []


def evidence_of(clinic: Clinic, client_id: str = "C-1") -> dict[str, str]:
    """Each flag's evidence, by flag ("flag: ..." lines in priority order)."""
    row = clinic.metrics_of(client_id, TODAY)
    lines = row["flag_evidence"].split("\n") if row["flag_evidence"] else []
    assert [line.split(":")[0] for line in lines] == (row["flags"].split(";") if row["flags"] else [])
    return {line.split(":")[0]: line for line in lines}


@pytest.mark.parametrize(
    ("pains", "flare"),
    [
        ({"pain_during": 6}, True),  # above 5
        ({"pain_during": 5}, False),  # 5 is the top of the acceptable zone
        ({"pain_before": 2, "pain_during": 3, "pain_next_day": 4}, True),  # next day 2 above before
        ({"pain_before": 2, "pain_during": 3, "pain_next_day": 3.5}, False),  # 1.5 above: settled enough
        ({"pain_during": 3, "pain_next_day": 8}, False),  # no pain_before: the next-day rule cannot apply
    ],
)
def test_a_flare_is_pain_during_above_5_or_next_day_pain_2_above_before(tmp_path, pains, flare):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.session("C-1", "2026-06-02", **pains)
    with clinic.analytics(TODAY) as a:
        assert bool(a.sessions("C-1")["flare"].iloc[0]) is flare


@pytest.mark.parametrize(("day", "flagged"), [("2026-06-17", True), ("2026-06-16", False)])
def test_a_flare_in_the_last_14_days_is_its_own_flag_not_pain_worse(tmp_path, day, flagged):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=1)
    clinic.session("C-1", "2026-06-02", pain_during=3)
    # A flare by next-day pain; its session pain (3) is no change from the baseline (3).
    clinic.session("C-1", day, pain_before=2, pain_during=3, pain_next_day=4, exercise="clamshell")
    assert ("flare" in flags_of(clinic)) is flagged
    assert "pain_worse" not in flags_of(clinic)
    if flagged:
        assert evidence_of(clinic)["flare"] == "flare: pain next day 4 after 2 before in clamshell on 17 Jun"


def test_the_flare_evidence_names_the_newest_flare_and_its_highest_pain_and_counts_the_others(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=1)
    clinic.session("C-1", "2026-06-20", pain_during=8, exercise="clamshell")  # older: not the one named
    # Two flares on 29 June (one session, two exercises): pain during 6 and 7 -> 7 is named.
    clinic.session("C-1", "2026-06-29", pain_during=6, exercise="bridge")
    clinic.session("C-1", "2026-06-29", pain_during=7, exercise="bridge march")
    assert (
        evidence_of(clinic)["flare"] == "flare: pain during 7 in bridge march on 29 Jun (2 flares in the last 14 days)"
    )


@pytest.mark.parametrize(("day", "flagged"), [("2026-06-17", True), ("2026-06-16", False)])
def test_a_red_flag_note_refers_for_14_days(tmp_path, day, flagged):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.session("C-1", day, notes="Some swelling around the knee after class")
    assert ("refer" in flags_of(clinic)) is flagged


def test_a_negated_sign_is_not_a_red_flag(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.session("C-1", "2026-06-29", notes="No swelling today, denies any numbness")
    clinic.session("C-1", "2026-06-29", session_type="home", notes="Good session, moving well")
    assert "refer" not in flags_of(clinic)
    with clinic.analytics(TODAY) as a:
        assert a.red_flag_notes("C-1").empty


def test_red_flag_notes_are_listed_with_their_signs(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.session("C-1", "2026-06-20", notes="Said the knee gave way on the stairs")
    clinic.session("C-1", "2026-06-25", attended=False, notes="Had a fall at home, no swelling")
    with clinic.analytics(TODAY) as a:
        notes = a.red_flag_notes("C-1")
    assert list(notes["note"]) == ["Had a fall at home, no swelling", "Said the knee gave way on the stairs"]
    assert list(notes["signs"]) == ["fall", "instability"]


@pytest.mark.parametrize(("sessions", "flagged"), [(12, False), (11, True)])
def test_low_adherence_is_under_60_percent_of_the_last_4_weeks(tmp_path, sessions, flagged):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=5)
    days = [f"2026-06-{d:02d}" for week in range(4) for d in (2 + 7 * week, 4 + 7 * week, 6 + 7 * week)]
    for day in days[:sessions]:
        clinic.session("C-1", day)
    # 28 June ends week 4: 12 of 20 = 60 % is not low; 11 of 20 = 55 % is.
    m = clinic.metrics_of("C-1", "2026-06-28")
    assert m["adherence_last_4_weeks"] == pytest.approx(sessions / 20)
    assert ("low_adherence" in m["flags"]) is flagged


@pytest.mark.parametrize(("day", "flagged"), [("2026-06-17", False), ("2026-06-16", True)])
def test_lapsed_is_no_attended_session_in_the_last_14_days(tmp_path, day, flagged):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.session("C-1", day)
    clinic.session("C-1", "2026-06-29", attended=False)  # a missed session is not attendance
    assert ("lapsed" in flags_of(clinic)) is flagged


def test_an_ended_episode_is_never_lapsed(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-05-01", end="2026-06-01")
    clinic.session("C-1", "2026-05-05")
    assert "lapsed" not in flags_of(clinic)


@pytest.mark.parametrize(
    ("start", "week", "flagged"),
    [
        ("2026-05-12", 8, True),  # 30 June is day 49: week 8
        ("2026-05-13", 7, False),  # day 48: week 7
    ],
)
def test_plateau_from_week_8_without_important_improvement(tmp_path, start, week, flagged):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start=start)
    clinic.session("C-1", "2026-06-29", pain_during=4)
    m = clinic.metrics_of("C-1", TODAY)
    assert m["program_week"] == week
    assert ("plateau" in m["flags"]) is flagged


@pytest.mark.parametrize(
    "improvement",
    [
        [("ODI", "2026-05-13", 40), ("ODI", "2026-06-29", 28)],  # function: ODI 12 points better
        [("NPRS", "2026-05-13", 6), ("NPRS", "2026-06-29", 3)],  # pain: 3 points better
    ],
)
def test_an_important_improvement_in_pain_or_function_is_no_plateau(tmp_path, improvement):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-05-12")
    clinic.session("C-1", "2026-06-29")
    for instrument, day, score in improvement:
        clinic.measure("C-1", day, instrument, score)
    assert "plateau" not in flags_of(clinic)


@pytest.mark.parametrize(("last_pain", "flagged"), [(5, True), (4.5, False)])
def test_a_pain_trend_of_half_a_point_a_week_means_pain_worse(tmp_path, last_pain, flagged):
    # Days 0, 7, 14 with pain 4, 4.5, 5: +0.5 a week. With 4, 4.5, 4.5:
    # mean x = 7, mean y = 13/3; Sxy = (-7)(-1/3) + 0 + 7(1/6) = 3.5; Sxx = 98; 3.5 / 98 × 7 = 0.25 a week.
    # Baseline (days 0-13) 4.25; current (2-15 June) 4.75 or 4.5: no important change either way.
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=1)
    for day, pain in (("2026-06-01", 4), ("2026-06-08", 4.5), ("2026-06-15", last_pain)):
        clinic.session("C-1", day, pain_during=pain)
    m = clinic.metrics_of("C-1", "2026-06-15")
    assert m["pain_status"] == "no important change"
    assert ("pain_worse" in m["flags"]) is flagged
    if flagged:
        assert m["flag_evidence"].startswith("pain_worse: trend +0.5/week over the last 6 weeks")


def all_flags_client(clinic: Clinic, client_id: str = "C-1") -> None:
    """In week 13, away for over 2 weeks, a fall noted on a missed session, pain up from 2 to 6."""
    clinic.client(client_id, start="2026-04-01", sessions_per_week=2, name="Aaron All")
    clinic.session(client_id, "2026-04-02", pain_during=2)
    clinic.session(client_id, "2026-04-06", pain_during=2)
    clinic.session(client_id, "2026-06-25", attended=False, notes="Had a fall at home last week")
    clinic.measure(client_id, "2026-06-28", "NPRS", 6)


def test_flags_are_listed_in_priority_order_each_with_its_evidence(tmp_path):
    clinic = Clinic(tmp_path)
    all_flags_client(clinic)
    assert flags_of(clinic) == ["refer", "pain_worse", "low_adherence", "lapsed", "plateau"]
    # Baseline: the pains of days 0-13 (2 and 2 in April) = 2.0; current: the 14 days to 30 June hold
    # only the NPRS 6 of 28 June (the missed session has no pain) = 6.0; the trend needs 3 points.
    # Week 13 is 24-30 June (day 84-90): weeks 10-13 attended none of 2 a week.
    assert list(evidence_of(clinic).values()) == [
        'refer: "Had a fall at home last week" on 25 Jun, not reviewed',
        "pain_worse: pain 2.0 → 6.0 (+4.0) against baseline",
        "low_adherence: 0 % over the last 4 weeks (60 % expected)",
        "lapsed: no attended session since 6 Apr",
        "plateau: week 13, pain 2.0 → 6.0 (worse), no function score improved",
    ]


def test_a_red_flag_review_clears_refer_or_puts_the_client_on_hold(tmp_path):
    clinic = Clinic(tmp_path)
    all_flags_client(clinic)  # the fall is noted on 25 June
    db = clinic.load()
    # A review dated before the note does not cover it.
    record_review(db, "C-1", outcome="cleared", note="checked", reviewed_by="S-1", reviewed_on=date(2026, 6, 24))
    assert flags_of(clinic)[0] == "refer"
    record_review(db, "C-1", outcome="referred", referred_to="GP", note="fall: x-ray", reviewed_by="S-1",
                  reviewed_on=date(2026, 6, 26))  # fmt: skip
    assert flags_of(clinic)[:2] == ["on_hold", "pain_worse"]
    assert evidence_of(clinic)["on_hold"] == "on_hold: referred to GP on 26 Jun"
    record_review(db, "C-1", outcome="paused", note="waiting for the x-ray", reviewed_by="S-1",
                  reviewed_on=date(2026, 6, 27))  # fmt: skip
    assert evidence_of(clinic)["on_hold"] == "on_hold: paused on 27 Jun"
    record_review(db, "C-1", outcome="cleared", note="x-ray clear", reviewed_by="S-1", reviewed_on=date(2026, 6, 28))
    assert "refer" not in flags_of(clinic) and "on_hold" not in flags_of(clinic)
    # A review after the day the numbers are for is not yet made.
    record_review(db, "C-1", outcome="paused", note="later", reviewed_by="S-1", reviewed_on=date(2026, 7, 1))
    assert "on_hold" not in flags_of(clinic)
    # A red-flag note after the newest review needs a new one.
    clinic.session("C-1", "2026-06-29", attended=False, notes="Knee gave way on the stairs")
    clinic.session("C-1", "2026-06-30", attended=False, notes="Swelling again; and numbness")
    assert (
        evidence_of(clinic)["refer"]
        == 'refer: "Swelling again; and numbness" on 30 Jun and 1 earlier note, not reviewed'
    )


def test_a_long_red_flag_note_is_cut_in_the_evidence(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    note = "Knee gave way on the stairs,\n" + "x" * 100
    clinic.session("C-1", "2026-06-30", notes=note)
    quoted = evidence_of(clinic)["refer"].split('"')[1]
    assert len(quoted) == 80 and quoted == ("Knee gave way on the stairs, " + "x" * 100)[:79] + "…"


def test_lapsed_without_any_attended_session_says_so(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.session("C-1", "2026-06-02", attended=False)
    assert evidence_of(clinic)["lapsed"] == "lapsed: no attended session yet"


def test_the_caseload_puts_the_most_urgent_first_and_only_shows_the_clinicians_active_clients(tmp_path):
    clinic = Clinic(tmp_path)
    all_flags_client(clinic, "C-1")
    # C-2 comes every week and has no flag.
    clinic.client("C-2", start="2026-06-01", sessions_per_week=1, name="Bea Fine")
    for day in ("2026-06-02", "2026-06-09", "2026-06-16", "2026-06-23", "2026-06-30"):
        clinic.session("C-2", day)
    # C-3 stopped after 9 June: weeks 2-5 attended 1, 0, 0, 0 of 1 each (week 5's target on its
    # 2nd day is max(1, floor(1 × 2 / 7)) = 1): 25 % -> low adherence, and lapsed.
    clinic.client("C-3", start="2026-06-01", sessions_per_week=1, name="Cy Gone")
    clinic.session("C-3", "2026-06-02")
    clinic.session("C-3", "2026-06-09")
    clinic.client("C-4", start="2026-05-01", end="2026-06-20", name="Di Done")  # discharged
    clinic.client("C-5", start="2026-06-01", clinician="S-2", name="Ed Other")  # someone else's
    with clinic.analytics(TODAY) as a:
        caseload = a.caseload("S-1")
    assert list(caseload["client_id"]) == ["C-1", "C-3", "C-2"]
    assert list(caseload["flags"]) == ["refer;pain_worse;low_adherence;lapsed;plateau", "low_adherence;lapsed", ""]
    assert caseload.iloc[1]["adherence_last_4_weeks"] == pytest.approx(0.25)
    assert caseload.iloc[1]["flag_evidence"] == (
        "low_adherence: 25 % over the last 4 weeks (60 % expected)\nlapsed: no attended session since 9 Jun"
    )


def test_flag_priority_sorts_by_the_highest_flag_then_the_next():
    ranked = sorted(
        ["", "plateau", "refer", "low_adherence;lapsed", "low_adherence", "pain_worse;plateau", "refer;lapsed"],
        key=flag_priority,
        reverse=True,
    )
    assert ranked == ["refer;lapsed", "refer", "pain_worse;plateau", "low_adherence;lapsed", "low_adherence",
                      "plateau", ""]  # fmt: skip
