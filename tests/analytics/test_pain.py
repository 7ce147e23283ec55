"""Session pain, pain baseline, current pain, trend and clinically important change (docs/metrics.md), by hand.

Clients start on 2026-06-01 (day 0) unless a test says otherwise.
"""

from __future__ import annotations

import math

import pytest

from tests.analytics.clinic import Clinic


def test_session_pain_prefers_pain_during_then_after_then_before(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    # 2 June: pain_during on both rows -> (2 + 4) / 2 = 3; pain_after 9 is not used.
    clinic.session("C-1", "2026-06-02", exercise="bridge", pain_during=2, pain_after=9)
    clinic.session("C-1", "2026-06-02", exercise="clamshell", pain_during=4)
    # 3 June: no pain_during on any row -> mean of pain_after (5 + 6) / 2 = 5.5.
    clinic.session("C-1", "2026-06-03", exercise="bridge", pain_before=1, pain_after=5)
    clinic.session("C-1", "2026-06-03", exercise="clamshell", pain_after=6)
    # 4 June: only pain_before -> 7. 5 June: no pain at all -> no pain point.
    clinic.session("C-1", "2026-06-04", pain_before=7)
    clinic.session("C-1", "2026-06-05")
    with clinic.analytics("2026-06-07") as a:
        sessions = a.sessions("C-1")
        points = a.pain_points("C-1")
    assert list(sessions["session_pain"].fillna(-1)) == [3.0, 5.5, 7.0, -1]
    assert list(points["pain"]) == [3.0, 5.5, 7.0]


def test_baseline_is_days_0_to_13_and_current_the_14_days_ending_today(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.session("C-1", "2026-06-02", pain_during=6)  # day 1: baseline
    clinic.session("C-1", "2026-06-09", pain_during=5)  # day 8: baseline
    clinic.measure("C-1", "2026-06-09", "NPRS", 5.5)  # an NPRS score is a pain point too: baseline
    clinic.session("C-1", "2026-06-14", pain_during=7)  # day 13: the last day of the baseline
    clinic.session("C-1", "2026-06-15", pain_during=9)  # day 14: neither
    clinic.session("C-1", "2026-06-16", pain_during=1)  # today - 14: not current
    clinic.session("C-1", "2026-06-17", pain_during=3)  # today - 13: the first day of current
    clinic.session("C-1", "2026-06-30", pain_during=2)  # today
    m = clinic.metrics_of("C-1", "2026-06-30")
    assert m["pain_baseline"] == pytest.approx((6 + 5 + 5.5 + 7) / 4)  # 5.875
    assert m["pain_current"] == pytest.approx((3 + 2) / 2)  # 2.5
    assert m["pain_status"] == "improved"  # 5.875 - 2.5 = 3.375 >= 2


def test_a_client_with_one_pain_point_has_a_baseline_and_nothing_else(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.session("C-1", "2026-06-02", pain_during=4)
    clinic.session("C-1", "2026-06-29")  # attended, no pain recorded
    m = clinic.metrics_of("C-1", "2026-06-30")
    assert m["pain_baseline"] == 4
    assert math.isnan(m["pain_current"])
    assert math.isnan(m["pain_trend_per_week"])
    assert m["pain_status"] == "not enough data"


def test_a_client_with_no_pain_at_all(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    m = clinic.metrics_of("C-1", "2026-06-30")
    assert math.isnan(m["pain_baseline"]) and math.isnan(m["pain_current"])
    assert m["pain_status"] == "not enough data"


def trend_of(tmp_path, points: list[tuple[str, float]], today: str, start: str = "2026-06-01") -> float:
    """Each point is a session of its own: a second point on the same day is another type of session."""
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start=start)
    for i, (day, pain) in enumerate(points):
        session_type = ("studio", "home", "clinic")[sum(1 for d, _ in points[:i] if d == day)]
        clinic.session("C-1", day, pain_during=pain, session_type=session_type)
    return clinic.metrics_of("C-1", today)["pain_trend_per_week"]


def test_trend_is_the_least_squares_slope_per_week(tmp_path):
    # Days 0, 7, 14 with pain 6, 5, 4: one point less per 7 days = -1.0 a week.
    assert trend_of(tmp_path, [("2026-06-01", 6), ("2026-06-08", 5), ("2026-06-15", 4)], "2026-06-15") == (
        pytest.approx(-1.0)
    )


def test_trend_with_several_points_on_one_day(tmp_path):
    # x = 0, 0, 7 and y = 4, 6, 8: mean x = 7/3, mean y = 6.
    # Sxy = (-7/3)(-2) + (-7/3)(0) + (14/3)(2) = 14/3 + 28/3 = 14
    # Sxx = 49/9 + 49/9 + 196/9 = 294/9
    # slope = 14 / (294/9) = 126/294 = 3/7 a day = 3.0 a week
    points = [("2026-06-01", 4), ("2026-06-01", 6), ("2026-06-08", 8)]
    assert trend_of(tmp_path, points, "2026-06-08") == pytest.approx(3.0)


@pytest.mark.parametrize(
    "points",
    [
        [("2026-06-01", 6), ("2026-06-08", 4)],  # 2 points
        [("2026-06-08", 6), ("2026-06-08", 4), ("2026-06-08", 5)],  # 3 points on 1 day
    ],
)
def test_trend_needs_3_points_on_2_days(tmp_path, points):
    assert math.isnan(trend_of(tmp_path, points, "2026-06-10"))


def test_trend_uses_the_42_days_ending_today(tmp_path):
    # Today 30 June: the window starts on 30 June - 41 = 20 May. The point of 19 May is left out;
    # what is left rises 1 point a week (20 May: 2, 27 May: 3, 3 June: 4).
    points = [("2026-05-19", 9), ("2026-05-20", 2), ("2026-05-27", 3), ("2026-06-03", 4)]
    assert trend_of(tmp_path, points, "2026-06-30", start="2026-04-01") == pytest.approx(1.0)


def status_of(tmp_path, baseline: float, current: float) -> str:
    """Baseline: one NPRS score on day 0; current: one NPRS score today (decimals are allowed there)."""
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.measure("C-1", "2026-06-01", "NPRS", baseline)
    clinic.measure("C-1", "2026-06-30", "NPRS", current)
    m = clinic.metrics_of("C-1", "2026-06-30")
    assert (m["pain_baseline"], m["pain_current"]) == (baseline, current)
    return m["pain_status"]


@pytest.mark.parametrize(
    ("baseline", "current", "status"),
    [
        (8, 6, "improved"),  # 2 points down
        (8, 6.5, "no important change"),  # 1.5 down: under 2 points and under 30 % of 8 (2.4)
        (5, 3.5, "improved"),  # 1.5 down = 30 % of 5
        (5, 3.6, "no important change"),  # 1.4 down: under 1.5
        (5.1, 3.1, "improved"),  # exactly 2 (5.1 - 3.1 is 1.9999999999999996 in floating point)
        (3, 5, "worse"),  # 2 points up
        (3, 4.5, "no important change"),  # 1.5 up
        (0, 0, "no important change"),  # baseline 0: the 30 % rule does not apply (0 >= 0 would be "improved")
        (0, 1.5, "no important change"),
        (0, 2, "worse"),
    ],
)
def test_clinically_important_change_in_pain(tmp_path, baseline, current, status):
    assert status_of(tmp_path, baseline, current) == status
