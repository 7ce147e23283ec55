"""The rule of a clinically important change in pain (docs/metrics.md#per-client) is written twice: in SQL,
client_metrics.sql's pain_status, and in Python, analytics.definitions.pain_improvement_threshold and
pain_worsening_threshold, the lines the pain chart draws. Both must say the same of every case on the edges:

- improved: baseline − current ≥ 2 points, or ≥ 30 % of a baseline above 0 (whichever is easier);
- worse: current − baseline ≥ 2 points;
- numbers closer than TOLERANCE are equal (8.2 − 6.2 is 1.9999999999999991 in floating point).

Each case is one client of one small warehouse: baseline scores on days 0-2, current scores in the 14 days
ending today; the expected status is worked out by hand beside it.
"""

from __future__ import annotations

import pytest

from analytics.definitions import TOLERANCE, pain_improvement_threshold, pain_worsening_threshold
from tests.analytics.clinic import Clinic

TODAY = "2026-06-30"
BASELINE_DAYS = ("2026-06-01", "2026-06-02", "2026-06-03")  # days 0-2 of the episode: the baseline window
CURRENT_DAYS = ("2026-06-28", "2026-06-29", "2026-06-30")  # inside the 14 days ending today

# (baseline scores, current scores, the status worked out by hand, why)
CASES = [
    ((8,), (6,), "improved", "8 − 6 = 2 points exactly (30 % of 8 is 2.4: the points are the easier rule)"),
    ((8,), (6.1,), "no important change", "1.9 down: just under 2 points, and under 2.4"),
    ((10,), (8,), "improved", "2 points exactly (30 % of 10 is 3)"),
    ((8.2,), (6.2,), "improved", "2 points exactly in decimals; 1.9999999999999991 in floating point"),
    ((5,), (3.5,), "improved", "1.5 down = 30 % of 5 exactly (under 2 points: the fraction is easier)"),
    ((5,), (3.6,), "no important change", "1.4 down: just under 30 % of 5 (1.5)"),
    ((6,), (4.2,), "improved", "1.8 down = 30 % of 6 exactly (0.3 × 6 is 1.7999999999999998)"),
    ((1,), (0.7,), "improved", "0.3 down = 30 % of 1"),
    ((1,), (0.8,), "no important change", "0.2 down: under 30 % of 1"),
    ((7, 7, 6), (5, 5, 4), "improved", "baseline 20/3, where 30 % is 2 points too (a tie): 14/3 is 2 down"),
    ((7, 7, 6), (5, 5, 4.1), "no important change", "baseline 20/3, current 4.7: 1.97 down, under both"),
    ((4,), (4,), "no important change", "no change at all"),
    ((0,), (0,), "no important change", "baseline 0: the 30 % rule needs a baseline above 0 (0 ≥ 0 would hold)"),
    ((0,), (1.9,), "no important change", "1.9 up: just under 2 points"),
    ((0,), (2,), "worse", "2 points up from a baseline of 0"),
    ((3,), (5,), "worse", "2 points up exactly"),
    ((3,), (4.9,), "no important change", "1.9 up: just under 2 points"),
    ((3.1,), (5.1,), "worse", "2 points up exactly in decimals; 1.9999999999999996 in floating point"),
    ((10,), (10,), "no important change", "the top of the scale, unchanged"),
]


def mean(scores: tuple[float, ...]) -> float:
    return sum(scores) / len(scores)


def status_by_the_lines(baseline: float, current: float) -> str:
    """The status the chart's lines show: current at or below the improvement line, or at or above the
    worsening line, within the TOLERANCE the SQL compares with."""
    if current <= pain_improvement_threshold(baseline) + TOLERANCE:
        return "improved"
    if current >= pain_worsening_threshold(baseline) - TOLERANCE:
        return "worse"
    return "no important change"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, dict]:
    """client_metrics of every case, by client: one warehouse, built once."""
    clinic = Clinic(tmp_path_factory.mktemp("pain_mcid"))
    for number, (baseline, current, _, _) in enumerate(CASES, start=1):
        client_id = f"C-{number:02d}"
        clinic.client(client_id, start=BASELINE_DAYS[0])
        for day, score in (*zip(BASELINE_DAYS, baseline, strict=False), *zip(CURRENT_DAYS, current, strict=False)):
            clinic.measure(client_id, day, "NPRS", score)
    with clinic.analytics(TODAY) as analytics:
        rows = analytics.client_metrics()
    return {row["client_id"]: row for row in rows.to_dict("records")}


@pytest.mark.parametrize(
    ("number", "baseline", "current", "status"),
    [pytest.param(n, b, c, s, id=why) for n, (b, c, s, why) in enumerate(CASES, start=1)],
)
def test_the_sql_and_the_charts_lines_agree_on_the_edges(built, number, baseline, current, status):
    row = built[f"C-{number:02d}"]
    assert row["pain_baseline"] == pytest.approx(mean(baseline))
    assert row["pain_current"] == pytest.approx(mean(current))
    assert row["pain_status"] == status  # the SQL
    assert status_by_the_lines(row["pain_baseline"], row["pain_current"]) == status  # the Python, same numbers
    assert status_by_the_lines(mean(baseline), mean(current)) == status  # and the numbers worked by hand


def test_the_lines_need_the_tolerance_too():
    # Without it the chart would put 6.2 just above the improvement line of 8.2 (8.2 − 2 = 6.199999999999999),
    # in the band of no important change, while the status says improved.
    assert pain_improvement_threshold(8.2) < 6.2 <= pain_improvement_threshold(8.2) + TOLERANCE
