"""Program weeks and adherence (docs/metrics.md), each expected number worked out by hand.

Every client here starts on Monday 2026-06-01, so program week 1 is 1-7 June, week 2 is 8-14 June,
week 3 is 15-21 June, week 4 is 22-28 June, week 5 is 29 June - 5 July, week 6 is 6-12 July.
"""

from __future__ import annotations

import pytest

from tests.analytics.clinic import Clinic


def weekly_of(clinic: Clinic, client_id: str, today: str) -> list[tuple[int, int, int]]:
    with clinic.analytics(today) as a:
        weekly = a.client_weekly(client_id)
    return list(weekly[["program_week", "attended", "target"]].itertuples(index=False, name=None))


def test_a_partial_current_week_has_a_prorated_target(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=3)
    for day in ("2026-06-02", "2026-06-04", "2026-06-06", "2026-06-09", "2026-06-23"):
        clinic.session("C-1", day)
    # Today, Wednesday 24 June, is day 23: week 4, its 3rd day (23 % 7 + 1 = 3).
    # Week 4's target is max(1, floor(3 × 3 / 7)) = max(1, floor(1.29)) = 1.
    assert weekly_of(clinic, "C-1", "2026-06-24") == [(1, 3, 3), (2, 1, 3), (3, 0, 3), (4, 1, 1)]
    m = clinic.metrics_of("C-1", "2026-06-24")
    assert m["program_week"] == 4
    # (3 + 1 + 0 + 1) / (3 + 3 + 3 + 1) = 5 / 10
    assert m["adherence_overall"] == pytest.approx(0.5)
    assert m["adherence_last_4_weeks"] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("today", "sessions_per_week", "target"),
    [
        ("2026-06-22", 3, 1),  # 1st day of week 4: floor(3 × 1 / 7) = 0, raised to 1
        ("2026-06-24", 6, 2),  # 3rd day: floor(6 × 3 / 7) = floor(2.57) = 2
        ("2026-06-27", 3, 2),  # 6th day: floor(3 × 6 / 7) = floor(2.57) = 2
        ("2026-06-28", 3, 3),  # 7th day: the week is complete, the full target
    ],
)
def test_the_current_week_target_follows_the_days_elapsed(tmp_path, today, sessions_per_week, target):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=sessions_per_week)
    clinic.session("C-1", "2026-06-02")
    assert weekly_of(clinic, "C-1", today)[-1] == (4, 0, target)


def test_adherence_caps_extra_sessions_at_the_weekly_target(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=2)
    for day in ("2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04", "2026-06-05", "2026-06-10"):
        clinic.session("C-1", day)
    # Today is 14 June, the last day of week 2 (complete). Week 1: 5 attended, counts 2; week 2: 1.
    # (min(5, 2) + min(1, 2)) / (2 + 2) = 3 / 4, not 6 / 4.
    assert weekly_of(clinic, "C-1", "2026-06-14") == [(1, 5, 2), (2, 1, 2)]
    assert clinic.metrics_of("C-1", "2026-06-14")["adherence_overall"] == pytest.approx(0.75)


def test_missed_weeks_count_their_full_target_and_the_last_4_weeks_are_the_newest(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=2)
    days = ["2026-06-02", "2026-06-04", "2026-06-09", "2026-06-11", "2026-06-23", "2026-07-07", "2026-07-09"]
    for day in days:
        clinic.session("C-1", day)
    # Today 12 July: week 6, complete. Attended per week: 2, 2, 0, 1, 0, 2; target 2 each week.
    assert weekly_of(clinic, "C-1", "2026-07-12") == [(1, 2, 2), (2, 2, 2), (3, 0, 2), (4, 1, 2), (5, 0, 2), (6, 2, 2)]
    m = clinic.metrics_of("C-1", "2026-07-12")
    assert m["adherence_overall"] == pytest.approx(7 / 12)  # (2+2+0+1+0+2) / 12 = 0.583
    assert m["adherence_last_4_weeks"] == pytest.approx(3 / 8)  # weeks 3-6: (0+1+0+2) / 8 = 0.375
    assert m["flags"].split(";")[0] == "low_adherence"  # 37.5 % < 60 %


def test_a_session_is_counted_once_per_date_and_type_and_missed_sessions_not_at_all(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=4)
    clinic.session("C-1", "2026-06-02", exercise="bridge")
    clinic.session("C-1", "2026-06-02", exercise="clamshell")  # same session: one
    clinic.session("C-1", "2026-06-03", session_type="studio")
    clinic.session("C-1", "2026-06-03", session_type="home")  # another session the same day
    clinic.session("C-1", "2026-06-05", attended=False)  # scheduled, missed
    # Week 1 complete on 7 June: 3 sessions attended of 4 -> 0.75 (rows would give 4, i.e. 1.0).
    assert weekly_of(clinic, "C-1", "2026-06-07") == [(1, 3, 4)]
    assert clinic.metrics_of("C-1", "2026-06-07")["adherence_overall"] == pytest.approx(0.75)


def test_a_session_without_a_type_is_still_a_session(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=2)
    clinic.session("C-1", "2026-06-02", session_type=None, exercise="bridge")
    clinic.session("C-1", "2026-06-02", session_type=None, exercise="clamshell")
    clinic.session("C-1", "2026-06-02", session_type="home")
    assert weekly_of(clinic, "C-1", "2026-06-07") == [(1, 2, 2)]


def test_an_ended_episode_runs_to_the_week_of_its_end_date(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=1, end="2026-06-10")
    clinic.session("C-1", "2026-06-02")
    clinic.session("C-1", "2026-06-09")
    # Today 30 June would be week 5, but the episode ended in week 2 (10 June = day 9).
    assert weekly_of(clinic, "C-1", "2026-06-30") == [(1, 1, 1), (2, 1, 1)]
    m = clinic.metrics_of("C-1", "2026-06-30")
    assert (m["program_week"], m["adherence_overall"], m["active"]) == (2, 1.0, False)
    assert "lapsed" not in m["flags"]  # lapsed is for active episodes only


def test_records_after_today_are_ignored_and_today_pinned_to_newest_is_the_newest_session(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=2)
    clinic.session("C-1", "2026-06-02", pain_during=6)
    clinic.session("C-1", "2026-06-20", pain_during=2)
    # Reviewing 10 June (day 9: week 2, 3 days in): the session of 20 June has not happened yet.
    # Week 2 target: max(1, floor(2 × 3 / 7)) = max(1, 0) = 1.
    assert weekly_of(clinic, "C-1", "2026-06-10") == [(1, 1, 2), (2, 0, 1)]
    with clinic.analytics("newest") as a:
        assert str(a.today) == "2026-06-20"
        assert a.client_weekly("C-1")["program_week"].max() == 3


def test_a_client_who_has_not_started_yet_has_no_metrics(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.client("C-2", start="2026-07-01")
    clinic.session("C-1", "2026-06-02")
    with clinic.analytics("2026-06-30") as a:
        assert list(a.client_metrics()["client_id"]) == ["C-1"]


def test_a_client_starting_today_is_in_week_1_with_a_target_of_1(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-30", sessions_per_week=3)
    assert weekly_of(clinic, "C-1", "2026-06-30") == [(1, 0, 1)]
    m = clinic.metrics_of("C-1", "2026-06-30")
    assert (m["program_week"], m["adherence_overall"]) == (1, 0.0)
