"""Cohort roll-ups (docs/metrics.md): members, adherence, share improved, attendance grid, mean pain by week with
a 95 % CI."""

from __future__ import annotations

import math

import pytest

from tests.analytics.clinic import Clinic

# Student t quantiles t(0.975, df) from a printed table, to check scipy's against.
T_975 = {1: 12.706204736, 2: 4.302652730}


def two_member_cohort(tmp_path) -> Clinic:
    """Ann starts 1 June, Bob 8 June, both in G-1; Cat is in no cohort."""
    clinic = Clinic(tmp_path)
    clinic.cohort("G-1", start="2026-06-01")
    clinic.client("C-1", start="2026-06-01", cohort="G-1", name="Ann")
    clinic.client("C-2", start="2026-06-08", cohort="G-1", name="Bob")
    clinic.client("C-3", start="2026-06-01", name="Cat")
    clinic.session("C-1", "2026-06-02", pain_during=4)  # Ann, week 1
    clinic.session("C-1", "2026-06-04", session_type="home", pain_during=6)  # Ann, week 1
    clinic.session("C-1", "2026-06-09", pain_during=2)  # Ann, week 2
    clinic.session("C-2", "2026-06-09", pain_during=3)  # Bob, week 1 (his own start date)
    clinic.session("C-3", "2026-06-02", pain_during=9)  # not a member
    return clinic


def test_mean_pain_by_week_averages_each_members_weekly_mean(tmp_path):
    with two_member_cohort(tmp_path).analytics("2026-06-14") as a:
        weekly = a.cohort_weekly("G-1")
    week1, week2 = weekly.to_dict("records")
    # Week 1: Ann's mean (4 + 6) / 2 = 5, Bob's 3 -> (5 + 3) / 2 = 4 (pooling the points would give 13/3).
    # sd of (5, 3) = sqrt(((5-4)² + (3-4)²) / 1) = sqrt(2); half-width t(0.975, 1) × sqrt(2) / sqrt(2) = 12.706.
    assert (week1["program_week"], week1["n"], week1["mean_pain"]) == (1, 2, 4.0)
    assert week1["ci_low"] == pytest.approx(4 - T_975[1])
    assert week1["ci_high"] == pytest.approx(4 + T_975[1])
    # Week 2: only Ann (2): n = 1, no interval.
    assert (week2["program_week"], week2["n"], week2["mean_pain"]) == (2, 1, 2.0)
    assert math.isnan(week2["ci_low"]) and math.isnan(week2["ci_high"])


def test_the_interval_with_three_members(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.cohort("G-2", start="2026-06-01")
    for client_id, pain in (("C-1", 5), ("C-2", 3), ("C-3", 7)):
        clinic.client(client_id, start="2026-06-01", cohort="G-2")
        clinic.session(client_id, "2026-06-02", pain_during=pain)
    with clinic.analytics("2026-06-07") as a:
        week1 = a.cohort_weekly("G-2").iloc[0]
    # mean 5; sd = sqrt((0 + 4 + 4) / 2) = 2; half = 4.302653 × 2 / sqrt(3) = 4.968272
    half = T_975[2] * 2 / math.sqrt(3)
    assert (week1["n"], week1["mean_pain"]) == (3, 5.0)
    assert (week1["ci_low"], week1["ci_high"]) == (pytest.approx(5 - half), pytest.approx(5 + half))


def test_cohort_summary_counts_members_adherence_and_share_improved(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.cohort("G-1", start="2026-06-01")
    for client_id in ("C-1", "C-2", "C-3"):
        clinic.client(client_id, start="2026-06-01", sessions_per_week=2, cohort="G-1")
    # Today 20 June is day 19: week 3 on its 6th day, target max(1, floor(2 × 6 / 7)) = 1; weeks 1-3
    # target 2 + 2 + 1 = 5. C-1 attends 4 (0.8), C-2 2 (0.4), C-3 1 (0.2).
    for day in ("2026-06-02", "2026-06-04", "2026-06-09", "2026-06-11"):
        clinic.session("C-1", day)
    for day in ("2026-06-02", "2026-06-09"):
        clinic.session("C-2", day)
    clinic.session("C-3", "2026-06-02")
    # Pain: C-1 6 -> 3 (improved), C-2 4 -> 4 (no important change), C-3 none (not enough data).
    clinic.measure("C-1", "2026-06-01", "NPRS", 6)
    clinic.measure("C-1", "2026-06-20", "NPRS", 3)  # current: 7-20 June; baseline: 1-14 June
    clinic.measure("C-2", "2026-06-01", "NPRS", 4)
    clinic.measure("C-2", "2026-06-20", "NPRS", 4)
    with clinic.analytics("2026-06-20") as a:
        summary = a.cohort_summary().iloc[0]
        members = a.cohort_members("G-1")
    assert list(members["adherence_overall"]) == [pytest.approx(0.8), pytest.approx(0.4), pytest.approx(0.2)]
    assert (summary["cohort_id"], summary["name"], summary["members"]) == ("G-1", "Class G-1", 3)
    assert summary["adherence_median"] == pytest.approx(0.4)
    assert summary["share_adherent"] == pytest.approx(1 / 3)  # only C-1 is at >= 80 %
    assert summary["share_improved"] == pytest.approx(1 / 3)
    assert summary["members_with_pain_data"] == 2


def test_a_cohort_of_one(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.cohort("G-1", start="2026-06-01")
    clinic.client("C-1", start="2026-06-01", cohort="G-1")
    clinic.session("C-1", "2026-06-02", pain_during=4)
    clinic.session("C-1", "2026-06-09", pain_during=3)
    with clinic.analytics("2026-06-14") as a:
        weekly = a.cohort_weekly("G-1")
        summary = a.cohort_summary().iloc[0]
    assert list(weekly["n"]) == [1, 1]
    assert list(weekly["mean_pain"]) == [4.0, 3.0]
    assert weekly["ci_low"].isna().all() and weekly["ci_high"].isna().all()
    assert summary["members"] == 1 and summary["adherence_median"] == pytest.approx(2 / 6)


def test_attendance_grid_is_member_by_week(tmp_path):
    with two_member_cohort(tmp_path).analytics("2026-06-14") as a:
        grid = a.attendance_grid("G-1")
    # Ann: week 1 two sessions (2 and 4 June), week 2 one; Bob: week 1 one. Targets 3.
    assert list(grid[["display_name", "program_week", "attended", "target"]].itertuples(index=False, name=None)) == [
        ("Ann", 1, 2, 3),
        ("Ann", 2, 1, 3),
        ("Bob", 1, 1, 3),
    ]


def test_an_unknown_cohort_is_empty_not_an_error(tmp_path):
    with two_member_cohort(tmp_path).analytics("2026-06-14") as a:
        assert a.cohort_weekly("G-404").empty
        assert a.cohort_members("G-404").empty
        assert a.attendance_grid("G-404").empty


def test_the_mean_pain_by_week_is_the_same_to_the_last_digit_on_every_read(demo_warehouse):
    # The members' means were once added up in the order a join gave them: two reads of the same
    # warehouse differed in the last digits (5 of 5 runs of `hipline metrics` on the demo).
    from analytics import NEWEST, Analytics, Scope

    frames = []
    for _ in range(4):
        with Analytics.open(demo_warehouse, Scope.everyone(), today=NEWEST) as analytics:
            frames.append(analytics.cohort_weekly())
    assert len(frames[0]) > 40  # the demo's cohorts, week by week
    for frame in frames[1:]:
        assert frame.to_csv(index=False) == frames[0].to_csv(index=False)
