"""Outcome measures (docs/input-formats.md): instruments, ranges, and scoring from item responses."""

from __future__ import annotations

import json

import pytest

from tests.conftest import load_files, query, write


def _measures(tmp_path, *records: dict) -> object:
    return write(tmp_path, "measures.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")


def _one(db, tmp_path, **record):
    record = {"client_id": "C-1", "measured_on": "2026-05-01", **record}
    report = load_files(db, _measures(tmp_path, record)).files[0]
    assert report.rows_read == 1 and report.rows_read == report.rows_loaded + report.rows_quarantined
    loaded = query(db, "SELECT instrument, score, items FROM measures")
    reason = query(db, "SELECT reason FROM quarantine")
    return (loaded[0] if loaded else None), (reason[0][0] if reason else None)


def test_odi_from_ten_answered_sections(loaded_roster, tmp_path):
    # worked example (docs/input-formats.md#values): 16 points over 10 sections: 16 / (5 x 10) x 100 = 32.0
    items = [2, 2, 2, 2, 2, 2, 1, 1, 1, 1]
    assert sum(items) == 16
    loaded, reason = _one(loaded_roster, tmp_path, instrument="ODI", items=items)
    assert reason is None
    assert loaded[:2] == ("ODI", 32.0)


def test_odi_with_one_unanswered_section_is_scored_over_nine(loaded_roster, tmp_path):
    # worked example (docs/input-formats.md#values): 16 over 9 answered sections: 16 / (5 x 9) x 100 = 35.555... -> 35.6
    items = [2, 2, 2, 2, 2, 2, 2, 1, 1, None]
    loaded, reason = _one(loaded_roster, tmp_path, instrument="ODI", items=items)
    assert reason is None
    assert loaded[1] == 35.6


def test_odi_with_two_unanswered_sections_is_rejected(loaded_roster, tmp_path):
    loaded, reason = _one(loaded_roster, tmp_path, instrument="ODI", items=[2, 2, 2, 2, 2, 2, 2, 2, None, None])
    assert loaded is None
    assert reason == "ODI has 2 unanswered sections; at most 1 may be missing"


def test_odi_needs_ten_sections(loaded_roster, tmp_path):
    _, reason = _one(loaded_roster, tmp_path, instrument="ODI", items=[1, 2, 3])
    assert reason == "ODI needs 10 section scores, got 3"


def test_odi_section_out_of_range(loaded_roster, tmp_path):
    _, reason = _one(loaded_roster, tmp_path, instrument="ODI", items=[6, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    assert reason == "ODI section scores must be 0–5"


def test_lefs_is_the_sum_of_twenty_items(loaded_roster, tmp_path):
    items = [3] * 10 + [2] * 10  # 30 + 20 = 50
    loaded, reason = _one(loaded_roster, tmp_path, instrument="LEFS", items=items)
    assert reason is None and loaded[1] == 50


def test_lefs_with_a_missing_item_is_rejected(loaded_roster, tmp_path):
    _, reason = _one(loaded_roster, tmp_path, instrument="LEFS", items=[3] * 19 + [None])
    assert reason == "LEFS has 1 unanswered items; all 20 are needed"


def test_psfs_is_the_mean_of_its_activity_ratings(loaded_roster, tmp_path):
    loaded, reason = _one(loaded_roster, tmp_path, instrument="PSFS", items=[4, 5, 7])  # 16 / 3 = 5.33
    assert reason is None and loaded[1] == 5.33


def test_psfs_needs_three_to_five_activities(loaded_roster, tmp_path):
    _, reason = _one(loaded_roster, tmp_path, instrument="PSFS", items=[4, 5])
    assert reason == "PSFS needs 3–5 activity ratings, got 2"


def test_a_score_that_disagrees_with_its_items_is_rejected(loaded_roster, tmp_path):
    _, reason = _one(loaded_roster, tmp_path, instrument="ODI", score=40, items=[2, 2, 2, 2, 2, 2, 1, 1, 1, 1])
    assert reason == "score 40 does not match its items (they score 32.0)"


def test_a_score_that_agrees_with_its_rounded_items_is_kept(loaded_roster, tmp_path):
    loaded, reason = _one(
        loaded_roster, tmp_path, instrument="ODI", score=35.6, items=[2, 2, 2, 2, 2, 2, 2, 1, 1, None]
    )
    assert reason is None and loaded[1] == 35.6


def test_unknown_instrument(loaded_roster, tmp_path):
    _, reason = _one(loaded_roster, tmp_path, instrument="WOMAC", score=40)
    assert reason == (
        "instrument 'WOMAC' is not a known instrument "
        "(NPRS, ODI, LEFS, PSFS, HOOS_JR, KOOS_JR, SLS_S, SLS_S_L, SLS_S_R, CST30, TUG_S)"
    )


@pytest.mark.parametrize(
    ("instrument", "score", "reason"),
    [
        ("ODI", 120, "ODI score 120.0 is outside 0.0–100.0"),
        ("LEFS", 81, "LEFS score 81.0 is outside 0.0–80.0"),
        ("NPRS", 10.5, "NPRS score 10.5 is outside 0.0–10.0"),
        ("KOOS_JR", -1, "KOOS_JR score -1.0 is outside 0.0–100.0"),
        ("TUG_S", 0, "TUG_S score 0.0 is outside 1.0–300.0"),
    ],
)
def test_scores_outside_the_instruments_range(loaded_roster, tmp_path, instrument, score, reason):
    loaded, got = _one(loaded_roster, tmp_path, instrument=instrument, score=score)
    assert loaded is None and got == reason


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("oswestry", "ODI"),
        ("hoos jr", "HOOS_JR"),
        ("KOOS-JR", "KOOS_JR"),
        ("tug", "TUG_S"),
        ("SLS_L", "SLS_S_L"),
        ("30s CST", "CST30"),
        ("nrs", "NPRS"),
    ],
)
def test_instrument_names_are_normalised(loaded_roster, tmp_path, written, stored):
    loaded, reason = _one(loaded_roster, tmp_path, instrument=written, score=5)
    assert reason is None and loaded[0] == stored


def test_an_nprs_score_may_be_any_decimal(loaded_roster, tmp_path):
    loaded, reason = _one(loaded_roster, tmp_path, instrument="NPRS", score=4.37)
    assert reason is None and loaded[1] == 4.37


def test_no_score_and_no_items(loaded_roster, tmp_path):
    _, reason = _one(loaded_roster, tmp_path, instrument="CST30")
    assert reason == "score is missing"


def test_a_measure_in_the_future_or_of_an_unknown_client(loaded_roster, tmp_path):
    path = _measures(
        tmp_path,
        {"client_id": "C-1", "measured_on": "2026-08-01", "instrument": "NPRS", "score": 4},
        {"client_id": "C-404", "measured_on": "2026-05-01", "instrument": "NPRS", "score": 4},
    )
    report = load_files(loaded_roster, path).files[0]
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (2, 0, 2)
    assert query(loaded_roster, "SELECT source_row, reason FROM quarantine ORDER BY source_row") == [
        (1, "measured_on 2026-08-01 is in the future (today is 2026-06-30)"),
        (2, "client_id 'C-404' is not in the client roster"),
    ]


def test_lines_that_are_not_json_objects_are_quarantined_with_their_line_number(loaded_roster, tmp_path):
    path = write(
        tmp_path,
        "m.jsonl",
        '{"client_id": "C-1", "measured_on": "2026-05-01", "instrument": "NPRS", "score": 4}\n'
        "\n{not json\n[1, 2]\n"
        '{"client_id": "C-1", "measured_on": "2026-05-02", "instrument": "NPRS", "score": 3}\n',
    )
    report = load_files(loaded_roster, path).files[0]
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (4, 2, 2)
    assert query(loaded_roster, "SELECT source_row, reason, raw FROM quarantine ORDER BY source_row") == [
        (3, "line is not valid JSON", "{not json"),
        (4, "line is a JSON value but not an object", "[1, 2]"),
    ]
    assert [r for (r,) in query(loaded_roster, "SELECT source_row FROM measures ORDER BY 1")] == [1, 5]


def test_items_in_a_csv_cell(loaded_roster, tmp_path):
    path = write(tmp_path, "psfs.csv", 'client_id,measured_on,instrument,score,items\nC-1,2026-05-01,PSFS,,"4; 5; 6"\n')
    report = load_files(loaded_roster, path).files[0]
    assert report.rows_loaded == 1
    assert query(loaded_roster, "SELECT score, items FROM measures") == [(5.0, [4.0, 5.0, 6.0])]
