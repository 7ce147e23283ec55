"""Function change per instrument against its MCID or MDC (docs/metrics.md): signed so that positive is better."""

from __future__ import annotations

import math

import pytest

from tests.analytics.clinic import Clinic


def change_of(tmp_path, instrument: str, scores: list[tuple[str, float]], today: str = "2026-06-30") -> dict:
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    for day, score in scores:
        clinic.measure("C-1", day, instrument, score)
    with clinic.analytics(today) as a:
        changes = a.function_change("C-1")
    assert len(changes) == 1, changes
    return changes.iloc[0].to_dict()


@pytest.mark.parametrize(
    ("instrument", "first", "latest", "change", "status"),
    [
        ("ODI", 40, 28, 12, "improved"),  # lower is better: 40 - 28 = +12 >= 10
        ("ODI", 40, 31, 9, "no important change"),  # +9 < 10
        ("ODI", 40, 50, -10, "worse"),  # 10 points more disability
        ("LEFS", 40, 49, 9, "improved"),  # higher is better: +9 = the MCID
        ("LEFS", 40, 47, 7, "no important change"),
        ("LEFS", 50, 40, -10, "worse"),
        ("PSFS", 3, 5, 2, "improved"),
        ("HOOS_JR", 50, 67, 17, "no important change"),  # MCID 18
        ("KOOS_JR", 50, 65, 15, "improved"),  # MCID 15
        ("CST30", 10, 12, 2, "no important change"),  # MDC 2.5
        ("CST30", 10, 13, 3, "improved"),
        ("TUG_S", 12.0, 10.9, 1.1, "improved"),  # lower is better; MDC 1.1 (12.0 - 10.9 = 1.0999999999999996)
        ("TUG_S", 12.0, 13.2, -1.2, "worse"),
        ("SLS_S_L", 10, 30, 20, "no important change"),  # a side of single-leg stance: MDC 24 of SLS_S
        ("SLS_S_R", 10, 34, 24, "improved"),
    ],
)
def test_function_change_is_signed_so_that_positive_is_better(tmp_path, instrument, first, latest, change, status):
    result = change_of(tmp_path, instrument, [("2026-06-02", first), ("2026-06-29", latest)])
    assert (result["first_score"], result["latest_score"]) == (first, latest)
    assert result["change"] == pytest.approx(change)
    assert result["status"] == status


def test_the_threshold_is_the_instruments_mcid(tmp_path):
    assert change_of(tmp_path, "ODI", [("2026-06-02", 40), ("2026-06-29", 30)])["threshold"] == 10


def test_one_score_is_not_enough(tmp_path):
    result = change_of(tmp_path, "LEFS", [("2026-06-02", 40)])
    assert (result["first_score"], result["latest_score"], result["status"]) == (40, 40, "not enough data")
    assert math.isnan(result["change"])


def test_scores_of_the_same_day_are_averaged(tmp_path):
    # PSFS 4 and 5 on 2 June: first = 4.5; 29 June: 7. Change 7 - 4.5 = 2.5 >= 2.
    result = change_of(tmp_path, "PSFS", [("2026-06-02", 4), ("2026-06-02", 5), ("2026-06-29", 7)])
    assert (result["first_score"], result["change"], result["status"]) == (4.5, 2.5, "improved")


def test_two_scores_on_one_day_are_still_one_measurement(tmp_path):
    result = change_of(tmp_path, "PSFS", [("2026-06-02", 4), ("2026-06-02", 6)])
    assert (result["first_score"], result["status"]) == (5, "not enough data")


def test_scores_after_today_are_ignored(tmp_path):
    result = change_of(tmp_path, "ODI", [("2026-06-02", 40), ("2026-06-20", 35), ("2026-06-29", 10)], "2026-06-25")
    assert (result["latest_score"], result["change"], result["status"]) == (35, 5, "no important change")


def test_a_client_with_no_measures_has_no_function_rows_but_still_has_metrics(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.client("C-2", start="2026-06-01")
    clinic.session("C-1", "2026-06-02", pain_during=3)
    clinic.measure("C-2", "2026-06-02", "ODI", 30)
    with clinic.analytics("2026-06-30") as a:
        assert list(a.function_change()["client_id"]) == ["C-2"]
        assert a.function_change("C-1").empty
        metrics = a.client_metrics().set_index("client_id")
    assert metrics.loc["C-1", "pain_baseline"] == 3
    assert not metrics.loc["C-1", "function_improved"]


def test_nprs_is_pain_not_function(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    clinic.measure("C-1", "2026-06-02", "NPRS", 6)
    clinic.measure("C-1", "2026-06-29", "NPRS", 2)
    with clinic.analytics("2026-06-30") as a:
        assert a.function_change("C-1").empty
        assert a.client_metrics().iloc[0]["pain_status"] == "improved"
