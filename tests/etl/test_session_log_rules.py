"""Every validation rule and quarantine reason of docs/input-formats.md for session logs, one row each.

All rows go into one file; each row is checked where it ended up (loaded with which values, or
quarantined with which reason). "Today" is 2026-06-30; client C-1 started on 2026-03-02.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from tests.conftest import SESSION_HEADER, load_files, only, query, write

BASE = {
    "client_id": "C-1",
    "session_date": "2026-06-01",
    "attended": "yes",
    "session_type": "studio",
    "exercise": "bridge",
    "level": "2",
    "sets": "2",
    "reps": "",
    "hold_s": "10",
    "resistance": "none",
    "side": "both",
    "pain_before": "3",
    "pain_during": "3",
    "pain_after": "2",
    "pain_next_day": "3",
    "rpe": "5",
    "form": "good",
    "notes": "",
    "staff_id": "S-2",
}

# (what the row tests, the cells that differ from BASE, the quarantine reason or None when loaded)
CASES = [
    ("a valid row", {}, None),
    ("pain above 10", {"pain_during": "11"}, "pain_during=11 is outside 0–10"),
    ("pain below 0", {"pain_before": "-1"}, "pain_before=-1 is outside 0–10"),
    (
        "pain not a half point",
        {"pain_after": "3.3"},
        "pain_after=3.3 is not a whole or half point on the 0–10 scale",
    ),
    ("pain not a number", {"pain_next_day": "abc"}, "pain_next_day 'abc' is not a number"),
    ("pain with a decimal comma", {"pain_during": "3,5"}, None),
    ("pain not recorded", {"pain_next_day": "n/a"}, None),
    (
        "an impossible date",
        {"session_date": "31/02/2026"},
        "session_date '31/02/2026' is not a date (use YYYY-MM-DD or day/month/year)",
    ),
    (
        "a month 13",
        {"session_date": "2026-13-01"},
        "session_date '2026-13-01' is not a date (use YYYY-MM-DD or day/month/year)",
    ),
    ("a day-first date", {"session_date": "03/04/2026"}, None),
    (
        "a date in the future",
        {"session_date": "2026-07-15"},
        "session_date 2026-07-15 is in the future (today is 2026-06-30)",
    ),
    (
        "a session before the start",
        {"session_date": "2026-02-20"},
        "session_date 2026-02-20 is before the client's start date 2026-03-02",
    ),
    ("no date", {"session_date": ""}, "session_date is missing"),
    ("an unknown client", {"client_id": "C-999"}, "client_id 'C-999' is not in the client roster"),
    ("no client", {"client_id": ""}, "client_id is missing"),
    ("attended not yes/no", {"attended": "maybe"}, "attended 'maybe' is not yes/no"),
    ("attended as DNA", {"attended": "DNA", "exercise": "", "level": "", "sets": "", "hold_s": ""}, None),
    ("attended missing", {"attended": ""}, "attended is missing"),
    ("negative sets", {"sets": "-2"}, "sets=-2 is negative"),
    ("half a rep", {"reps": "2.5"}, "reps=2.5 is not a whole number"),
    ("a negative hold", {"hold_s": "-5"}, "hold_s=-5 is negative"),
    ("too many sets", {"sets": "25"}, "sets=25 is more than 20, which cannot be right"),
    ("reps in words", {"reps": "ten"}, "reps 'ten' is not a number"),
    ("a level spelled L3", {"level": "L3"}, None),
    ("a level in words", {"level": "hard"}, "level 'hard' is not a level number"),
    ("level 0", {"level": "0"}, "level=0 is outside 1–20"),
    ("a group class", {"session_type": "Group class"}, None),
    (
        "an unknown session type",
        {"session_type": "pool"},
        "session_type 'pool' is not one of studio, home, clinic",
    ),
    ("side spelled Left", {"side": "Left"}, None),
    ("an unknown side", {"side": "middle"}, "side 'middle' is not one of L, R, both"),
    ("an unknown form", {"form": "excellent"}, "form 'excellent' is not one of good, fair, poor"),
    ("effort above 10", {"rpe": "12"}, "rpe=12 is outside 0–10"),
    ("effort with a decimal", {"rpe": "6.5"}, None),
    ("a theraband colour", {"resistance": "red theraband"}, None),
    ("a weight", {"resistance": "2 kg"}, None),
    ("a band strength", {"resistance": "Band - light"}, None),
    ("a decimal weight", {"resistance": "2.5kg"}, None),
    ("bodyweight", {"resistance": "bodyweight"}, None),
    (
        "unknown resistance",
        {"resistance": "purple thing"},
        "resistance 'purple thing' is not recognised (use none, band_light, band_medium, band_heavy, spring_light, "
        "spring_medium, spring_heavy or a weight in kg such as 2 kg)",
    ),
    ("an unknown staff member", {"staff_id": "S-99"}, "staff_id 'S-99' is not in the staff list"),
    ("staff not recorded", {"staff_id": "n/a"}, None),
    ("a formula-like note", {"notes": '=HYPERLINK("http://example.com","video")'}, None),
    ("a note starting with +", {"notes": "+1 set added"}, None),
    (
        "two problems at once",
        {"pain_during": "11", "sets": "-2"},
        "sets=-2 is negative; pain_during=11 is outside 0–10",
    ),
    (
        "a session of a discharged client, after discharge",
        {"client_id": "C-3", "session_date": "2026-06-20"},
        None,
    ),
]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """Load all cases once; return {case name: (reason, loaded row as dict or None)}."""
    from tests.conftest import CLIENTS_CSV, COHORTS_CSV, STAFF_CSV

    folder = tmp_path_factory.mktemp("rules")
    db = folder / "hipline.duckdb"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SESSION_HEADER.split(","), lineterminator="\n")
    writer.writeheader()
    for name, cells, _ in CASES:
        writer.writerow({**BASE, **cells, "notes": cells.get("notes", name)})  # unique rows: no case duplicates another
    files = [
        write(folder, "staff.csv", STAFF_CSV),
        write(folder, "cohorts.csv", COHORTS_CSV),
        write(folder, "clients.csv", CLIENTS_CSV),
        write(folder, "sessions.csv", out.getvalue()),
    ]
    report = load_files(db, *files)
    sessions = report.files[-1]
    assert sessions.rows_read == len(CASES)
    assert sessions.rows_read == sessions.rows_loaded + sessions.rows_quarantined
    quarantined = dict(query(db, "SELECT source_row, reason FROM quarantine WHERE source_file = 'sessions.csv'"))
    columns = [c for c in SESSION_HEADER.split(",")]
    loaded = {
        row[0]: dict(zip(["source_row", *columns], row, strict=True))
        for row in query(db, f"SELECT source_row, {', '.join(columns)} FROM session_log")
    }
    return {name: (quarantined.get(i + 2), loaded.get(i + 2)) for i, (name, _, _) in enumerate(CASES)}


@pytest.mark.parametrize(("name", "cells", "reason"), CASES, ids=[c[0] for c in CASES])
def test_each_row_is_loaded_or_quarantined_with_its_reason(outcome, name, cells, reason):
    got_reason, loaded = outcome[name]
    assert got_reason == reason
    assert (loaded is None) == (reason is not None), "a row is either loaded or quarantined, never both"


@pytest.mark.parametrize(
    ("name", "column", "value"),
    [
        ("pain with a decimal comma", "pain_during", 3.5),
        ("pain not recorded", "pain_next_day", None),
        ("a day-first date", "session_date", date(2026, 4, 3)),
        ("attended as DNA", "attended", False),
        ("a level spelled L3", "level", 3),
        ("a group class", "session_type", "studio"),
        ("side spelled Left", "side", "L"),
        ("effort with a decimal", "rpe", 6.5),
        ("a theraband colour", "resistance", "band_medium"),
        ("a weight", "resistance", "weight_2"),
        ("a band strength", "resistance", "band_light"),
        ("a decimal weight", "resistance", "weight_2.5"),
        ("bodyweight", "resistance", "none"),
        ("staff not recorded", "staff_id", None),
        ("a formula-like note", "notes", '=HYPERLINK("http://example.com","video")'),
        ("a note starting with +", "notes", "+1 set added"),
        ("a valid row", "hold_s", 10.0),
        ("a valid row", "sets", 2),
    ],
)
def test_loaded_values_are_normalised(outcome, name, column, value):
    _, loaded = outcome[name]
    assert loaded is not None
    assert loaded[column] == value


def test_quarantine_keeps_the_row_as_it_was_in_the_file(loaded_roster, tmp_path):
    path = write(
        tmp_path,
        "bad.csv",
        SESSION_HEADER + "\nC-1,2026-06-01,yes,studio,bridge,2,2,,10,none,both,3,11,2,3,5,good,,S-2\n",
    )
    only(load_files(loaded_roster, path))
    [(raw,)] = query(loaded_roster, "SELECT raw FROM quarantine WHERE source_file = 'bad.csv'")
    import json

    assert json.loads(raw)["pain_during"] == "11"
    assert list(json.loads(raw)) == SESSION_HEADER.split(","), "the file's own column names, in its order"


def test_exact_duplicates_within_a_file_name_the_first_row(loaded_roster, tmp_path):
    row = "C-1,2026-06-01,yes,studio,bridge,2,2,,10,none,both,3,3,2,3,5,good,,S-2"
    other = "C-1,2026-06-01,yes,studio,clamshell,1,2,10,,none,L,3,3,2,3,5,good,,S-2"
    path = write(tmp_path, "dups.csv", "\n".join([SESSION_HEADER, row, other, row, row]) + "\n")
    report = only(load_files(loaded_roster, path))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (4, 2, 2)
    assert query(loaded_roster, "SELECT source_row, reason FROM quarantine ORDER BY source_row") == [
        (4, "exact duplicate of row 2"),
        (5, "exact duplicate of row 2"),
    ]


def test_a_row_already_loaded_from_another_file_is_a_duplicate(loaded_roster, tmp_path):
    row = "C-1,2026-06-01,yes,studio,bridge,2,2,,10,none,both,3,3,2,3,5,good,,S-2"
    first = write(tmp_path, "week1.csv", f"{SESSION_HEADER}\n{row}\n")
    overlap = write(tmp_path, "week1-again.csv", f"{SESSION_HEADER}\nC-2,2026-06-02,no,home,,,,,,,,,,,,,,,\n{row}\n")
    load_files(loaded_roster, first)
    report = only(load_files(loaded_roster, overlap))
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    assert query(loaded_roster, "SELECT reason FROM quarantine") == [
        ("exact duplicate of row 2 of week1.csv, which is already loaded",)
    ]


def test_month_first_dates_are_read_month_first_for_the_whole_file(loaded_roster, tmp_path):
    rows = [
        "C-1,03/04/2026,yes,studio,bridge,2,2,,10,,both,3,3,2,3,5,good,,S-2",
        "C-1,04/13/2026,yes,studio,bridge,2,2,,10,,both,3,3,2,3,5,good,,S-2",
        "C-1,13/04/2026,yes,studio,bridge,2,2,,10,,both,3,3,2,3,5,good,,S-2",
    ]
    path = write(tmp_path, "us.csv", "\n".join([SESSION_HEADER, *rows]) + "\n")
    report = only(load_files(loaded_roster, path, date_order="mdy"))
    assert (report.rows_loaded, report.rows_quarantined) == (2, 1)
    assert sorted(d for (d,) in query(loaded_roster, "SELECT session_date FROM session_log")) == [
        date(2026, 3, 4),
        date(2026, 4, 13),
    ]
    assert query(loaded_roster, "SELECT reason FROM quarantine") == [
        ("session_date '13/04/2026' is not a date (use YYYY-MM-DD or month/day/year)",)
    ]
