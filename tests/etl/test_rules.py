"""The validation rules of `etl.rules`, called directly (not through `load()`).

Two levels: each column's parser of each kind of record (`run`, tests/etl/cells.py, on one cell),
and whole rows through `validation_insert` into an in-memory warehouse whose roster is written here
(no file is read, no duplicate is looked for, nothing is recorded in `loads`). Every expected value
and message is written out by hand from docs/input-formats.md ("Values", "Quarantine"); where the doc
says nothing (the ranges of weeks, birth years, reps and holds) the bounds are those in `etl.rules`.
"Today" is 2026-06-30.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from etl import rules
from etl.rules import Source, table_columns, validation_insert
from etl.values import literal
from etl.warehouse import create_schema
from tests.etl.cells import TODAY, run

KNOWN = "NPRS, ODI, LEFS, PSFS, HOOS_JR, KOOS_JR, SLS_S, SLS_S_L, SLS_S_R, CST30, TUG_S"


def parser(kind: str, column: str):
    return rules._fields(kind, "dmy")[column].parse


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    yield con
    con.close()


# --- the columns of each kind ----------------------------------------------------------------------


def test_table_columns_are_the_kinds_columns_in_order():
    assert table_columns("staff") == ["staff_id", "name", "role", "email"]
    assert table_columns("measures") == ["client_id", "measured_on", "instrument", "score", "items"]


@pytest.mark.parametrize("kind", ["staff", "cohorts", "clients", "session_log", "measures"])
def test_every_stored_column_has_a_parser(kind):
    assert list(rules._fields(kind, "dmy")) == table_columns(kind)


@pytest.mark.parametrize(
    ("kind", "never_in_future"),
    [
        ("staff", set()),
        ("cohorts", set()),  # a class may start next week
        ("clients", set()),  # a client booked to start next week; an end date ahead
        ("session_log", {"session_date"}),
        ("measures", {"measured_on"}),
    ],
)
def test_only_event_dates_may_not_lie_in_the_future(kind, never_in_future):
    fields = rules._fields(kind, "dmy")
    assert {name for name, field in fields.items() if not field.future_allowed} == never_in_future


def test_the_columns_that_name_a_record_of_the_roster():
    referred = {kind: [(r.column, r.view, r.roster) for r in refs] for kind, refs in rules.REFERENCES.items()}
    assert referred == {
        "cohorts": [("instructor_id", "staff", "staff list")],
        "clients": [("clinician_id", "staff", "staff list"), ("cohort_id", "cohorts", "cohort list")],
        "session_log": [("client_id", "clients", "client roster"), ("staff_id", "staff", "staff list")],
        "measures": [("client_id", "clients", "client roster")],
    }


@pytest.mark.parametrize(
    ("text", "stored"), [(" S-1 ", "S-1"), ("S-99", "S-99"), ("n/a", "n/a"), ("", None), (None, None)]
)
def test_a_column_that_refers_to_the_roster_is_only_trimmed_by_its_parser(con, text, stored):
    """The join to the roster checks it (see the row tests below); 'n/a' is dropped when stored."""
    assert run(con, parser("session_log", "staff_id"), text, "staff_id") == (stored, [])


# --- words: role, region, session type, side, form -------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "column", "text", "stored"),
    [
        ("staff", "role", "physio", "physio"),
        ("staff", "role", "Physiotherapist", "physio"),
        ("staff", "role", "PT", "physio"),
        ("staff", "role", "Physical Therapist", "physio"),
        ("staff", "role", "Pilates instructor", "instructor"),
        ("staff", "role", "teacher", "instructor"),
        ("staff", "role", "Trainer", "instructor"),
        ("staff", "role", "receptionist", "admin"),
        ("staff", "role", "Manager", "admin"),
        ("clients", "region", "hip", "hip"),
        ("clients", "region", "Hips", "hip"),
        ("clients", "region", "KNEES", "knee"),
        ("clients", "region", "low_back", "low_back"),
        ("clients", "region", "Low back", "low_back"),
        ("clients", "region", "low-back", "low_back"),
        ("clients", "region", "Lower back", "low_back"),
        ("clients", "region", "lumbar", "low_back"),
        ("clients", "region", "back", "low_back"),
        ("clients", "region", "LBP", "low_back"),
        ("clients", "region", "other", "other"),
        ("session_log", "session_type", "studio", "studio"),
        ("session_log", "session_type", "Class", "studio"),
        ("session_log", "session_type", "group", "studio"),
        ("session_log", "session_type", "Reformer", "studio"),
        ("session_log", "session_type", "mat", "studio"),
        ("session_log", "session_type", "HEP", "home"),
        ("session_log", "session_type", "app", "home"),
        ("session_log", "session_type", "Home programme", "home"),
        ("session_log", "session_type", "1:1", "clinic"),
        ("session_log", "session_type", "1-1", "clinic"),
        ("session_log", "session_type", "physio", "clinic"),
        ("session_log", "session_type", "Appointment", "clinic"),
        ("session_log", "side", "L", "L"),
        ("session_log", "side", "left", "L"),
        ("session_log", "side", "Lt", "L"),
        ("session_log", "side", "r", "R"),
        ("session_log", "side", "Right", "R"),
        ("session_log", "side", "both", "both"),
        ("session_log", "side", "B", "both"),
        ("session_log", "side", "bilateral", "both"),
        ("session_log", "side", "L&R", "both"),
        ("session_log", "form", "good", "good"),
        ("session_log", "form", "Fair", "fair"),
        ("session_log", "form", "POOR", "poor"),
    ],
)
def test_words_and_their_synonyms(con, kind, column, text, stored):
    assert run(con, parser(kind, column), text, column) == (stored, [])


@pytest.mark.parametrize(
    ("kind", "column", "text", "message"),
    [
        ("staff", "role", "doctor", "role 'doctor' is not one of physio, instructor, admin"),
        ("clients", "region", "shoulder", "region 'shoulder' is not one of hip, knee, low_back, other"),
        ("clients", "region", "hip and knee", "region 'hip and knee' is not one of hip, knee, low_back, other"),
        ("session_log", "session_type", "zoom", "session_type 'zoom' is not one of studio, home, clinic"),
        ("session_log", "side", "middle", "side 'middle' is not one of L, R, both"),
        ("session_log", "form", "excellent", "form 'excellent' is not one of good, fair, poor"),
    ],
)
def test_words_that_are_none_of_the_allowed_ones(con, kind, column, text, message):
    assert run(con, parser(kind, column), text, column) == (None, [message])


# --- numbers: the ranges of each column ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "column", "text", "stored", "messages"),
    [
        ("cohorts", "weeks", "1", 1.0, []),
        ("cohorts", "weeks", "104", 104.0, []),
        ("cohorts", "weeks", "0", 0.0, ["weeks=0 is outside 1–104"]),
        ("cohorts", "weeks", "105", 105.0, ["weeks=105 is outside 1–104"]),
        ("cohorts", "weeks", "12.5", 12.5, ["weeks=12.5 is not a whole number"]),
        ("clients", "sessions_per_week", "1", 1.0, []),
        ("clients", "sessions_per_week", "7", 7.0, []),
        ("clients", "sessions_per_week", "0", 0.0, ["sessions_per_week=0 is outside 1–7"]),
        ("clients", "sessions_per_week", "8", 8.0, ["sessions_per_week=8 is outside 1–7"]),
        ("clients", "birth_year", "1900", 1900.0, []),
        ("clients", "birth_year", "2030", 2030.0, []),
        ("clients", "birth_year", "1899", 1899.0, ["birth_year=1899 is outside 1900–2030"]),
        ("clients", "birth_year", "2031", 2031.0, ["birth_year=2031 is outside 1900–2030"]),
        ("clients", "birth_year", "'62", None, ["birth_year ''62' is not a number"]),
        ("session_log", "sets", "0", 0.0, []),
        ("session_log", "sets", "20", 20.0, []),
        ("session_log", "sets", "21", 21.0, ["sets=21 is more than 20, which cannot be right"]),
        ("session_log", "sets", "-2", -2.0, ["sets=-2 is negative"]),
        ("session_log", "reps", "500", 500.0, []),
        ("session_log", "reps", "501", 501.0, ["reps=501 is more than 500, which cannot be right"]),
        ("session_log", "reps", "2.5", 2.5, ["reps=2.5 is not a whole number"]),
        ("session_log", "reps", "ten", None, ["reps 'ten' is not a number"]),
        ("session_log", "hold_s", "3600", 3600.0, []),
        ("session_log", "hold_s", "7.5", 7.5, []),
        ("session_log", "hold_s", "3601", 3601.0, ["hold_s=3601 is more than 3600 s, which cannot be right"]),
        ("session_log", "hold_s", "-5", -5.0, ["hold_s=-5 is negative"]),
        ("session_log", "level", "1", 1, []),
        ("session_log", "level", "L20", 20, []),
        ("session_log", "level", "21", 21, ["level=21 is outside 1–20"]),
        ("session_log", "pain_before", "0", 0.0, []),
        ("session_log", "pain_during", "10", 10.0, []),
        ("session_log", "pain_after", "3,5", 3.5, []),
        ("session_log", "pain_next_day", "11", 11.0, ["pain_next_day=11 is outside 0–10"]),
        ("session_log", "pain_after", "3.3", 3.3, ["pain_after=3.3 is not a whole or half point on the 0–10 scale"]),
        ("session_log", "rpe", "7.5", 7.5, []),
        ("session_log", "rpe", "12", 12.0, ["rpe=12 is outside 0–10"]),
        ("session_log", "attended", "DNA", False, []),
        ("session_log", "resistance", "red band", "band_medium", []),
        ("session_log", "notes", "=1+1", "=1+1", []),
    ],
)
def test_the_range_and_type_of_each_column(con, kind, column, text, stored, messages):
    assert run(con, parser(kind, column), text, column) == (stored, messages)


@pytest.mark.parametrize(
    ("column", "text", "stored"),
    [("session_date", "2026-06-30", date(2026, 6, 30)), ("measured_on", "30/06/2026", date(2026, 6, 30))],
)
def test_event_dates_are_dates(con, column, text, stored):
    kind = "session_log" if column == "session_date" else "measures"
    assert run(con, parser(kind, column), text, column) == (stored, [])


def test_the_date_order_is_the_loads(con):
    parse = rules._fields("session_log", "mdy")["session_date"].parse
    assert run(con, parse, "06/01/2026", "session_date") == (date(2026, 6, 1), [])
    assert run(con, parser("session_log", "session_date"), "06/01/2026", "session_date") == (date(2026, 1, 6), [])


# --- measures: instrument, score, items ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("NPRS", "NPRS"),
        ("nprs", "NPRS"),
        ("NRS", "NPRS"),
        ("Pain", "NPRS"),
        ("ODI", "ODI"),
        ("Oswestry", "ODI"),
        ("Oswestry Disability Index", "ODI"),
        ("LEFS", "LEFS"),
        ("psfs", "PSFS"),
        ("HOOS_JR", "HOOS_JR"),
        ("hoos jr", "HOOS_JR"),
        ("HOOS-JR", "HOOS_JR"),
        ("KOOS JR", "KOOS_JR"),
        ("SLS_S", "SLS_S"),
        ("SLS", "SLS_S"),
        ("SLS_L", "SLS_S_L"),
        ("sls right", "SLS_S_R"),
        ("CST30", "CST30"),
        ("30s CST", "CST30"),
        ("30-second chair stand", "CST30"),
        ("TUG", "TUG_S"),
        ("Timed up and go", "TUG_S"),
        (" TUG_S ", "TUG_S"),
    ],
)
def test_instrument_names_and_synonyms(con, text, code):
    assert run(con, rules._instrument, text, "instrument") == (code, [])


@pytest.mark.parametrize("text", ["WOMAC", "ODI2", "SLS_S_X"])
def test_an_unknown_instrument_names_the_known_ones(con, text):
    assert run(con, rules._instrument, text, "instrument") == (
        None,
        [f"instrument '{text}' is not a known instrument ({KNOWN})"],
    )


@pytest.mark.parametrize(
    ("text", "stored", "messages"),
    [
        ("42", 42.0, []),
        ("42,5", 42.5, []),
        ("0", 0.0, []),
        ("forty", None, ["score 'forty' is not a number"]),
        ("n/a", None, []),
        ("nan", None, []),  # docs: not recorded
        ("-nan", None, []),
        (None, None, []),
    ],
)
def test_score(con, text, stored, messages):
    assert run(con, rules._score, text, "score") == (stored, messages)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("[4, 2, null]", [4.0, 2.0, None]),
        ("[4,2,1]", [4.0, 2.0, 1.0]),
        ("4, 2, 1", [4.0, 2.0, 1.0]),
        ("4;2;1", [4.0, 2.0, 1.0]),
        ("4 | 2 | 1", [4.0, 2.0, 1.0]),
        ("1,,3", [1.0, None, 3.0]),
        ("[1, n/a, -, none, NA]", [1.0, None, None, None, None]),
        ("1, nan, ?, --, not done, NaN", [1.0, None, None, None, None, None]),  # every "not recorded" word
        ("[2.5, 7]", [2.5, 7.0]),
        ("7", [7.0]),
        (None, None),
    ],
)
def test_items_are_a_list_with_blank_answers_as_null(con, text, stored):
    assert run(con, rules._items, text, "items") == (stored, [])


@pytest.mark.parametrize("text", ["4, two, 3", "[4, 2, x]", "4/2"])
def test_items_that_are_not_all_numbers(con, text):
    assert run(con, rules._items, text, "items")[1] == [f"items '{text}' are not all numbers"]


def scored(con, instrument: str, items: list[float | None] | None) -> float | None:
    sql = f"SELECT {rules._scored_from_items()} FROM (SELECT $instrument AS v_instrument, $items::DOUBLE[] AS v_items)"
    return con.execute(sql, {"instrument": instrument, "items": items}).fetchall()[0][0]


@pytest.mark.parametrize(
    ("instrument", "items", "score"),
    [
        ("ODI", [2] * 10, 40.0),  # 20 / (5 × 10) × 100
        ("ODI", [2] * 9 + [None], 40.0),  # 18 / (5 × 9) × 100: one section may be unanswered
        ("ODI", [1, 2, 3, 4, 5, 0, 1, 2, 3, None], 46.7),  # 21 / 45 × 100 = 46.66…, to one decimal
        ("ODI", [0] * 10, 0.0),
        ("ODI", [5] * 10, 100.0),
        ("ODI", [2] * 8 + [None, None], None),  # two unanswered
        ("ODI", [2] * 9, None),  # nine sections
        ("LEFS", [3] * 20, 60.0),
        ("LEFS", [4] * 20, 80.0),
        ("LEFS", [3] * 19 + [None], None),  # all 20 are needed
        ("LEFS", [3] * 19, None),
        ("PSFS", [4, 6, 8], 6.0),
        ("PSFS", [3, 4, 4], 3.67),  # 11 / 3, to two decimals
        ("PSFS", [1, 2, 3, 4, 5], 3.0),
        ("PSFS", [4, 5], None),  # fewer than 3 activities
        ("PSFS", [1, 2, 3, 4, 5, 6], None),  # more than 5
        ("PSFS", [7, 8, None, 9], None),  # a blank rating
        ("NPRS", [5], None),  # not scored from items
        ("ODI", None, None),
    ],
)
def test_scores_from_items(con, instrument, items, score):
    assert scored(con, instrument, items) == score


# --- whole rows: validation_insert -----------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse():
    """An in-memory warehouse: staff S-1 (physio) and S-2 (instructor), cohort G-1, client C-1
    (2026-03-02 to 2026-04-30)."""
    con = duckdb.connect()
    create_schema(con)
    con.execute(
        "INSERT INTO staff_rows (load_id, source_file, staff_id, name, role) "
        "VALUES (1, 'staff.csv', 'S-1', 'Ana Costa', 'physio'), (1, 'staff.csv', 'S-2', 'Ben Okafor', 'instructor')"
    )
    con.execute(
        "INSERT INTO cohorts_rows (load_id, source_file, cohort_id, name, instructor_id, start_date) "
        "VALUES (1, 'cohorts.csv', 'G-1', 'Hip strong', 'S-2', DATE '2026-03-02')"
    )
    con.execute(
        "INSERT INTO clients_rows (load_id, source_file, client_id, start_date, region, sessions_per_week, end_date) "
        "VALUES (1, 'clients.csv', 'C-1', DATE '2026-03-02', 'hip', 3, DATE '2026-04-30')"
    )
    yield con
    con.close()


def validate(con, kind: str, cells: dict[str, str | None], order: str = "dmy") -> tuple[dict, str | None, str | None]:
    """One row of a file with these columns through `validation_insert`: (what is stored, the reason
    it is quarantined or None, the raw values kept)."""
    headers = list(cells)
    row = ", ".join("NULL::VARCHAR" if v is None else literal(v) for v in cells.values())
    positions = ", ".join(f"c{i}" for i in range(len(headers)))
    relation = f"(SELECT * FROM (VALUES ({row})) AS v({positions}))"
    source = Source(relation, headers, {h: i for i, h in enumerate(headers)}, False, "9", literal("test.csv"))
    sql = validation_insert(kind, source, order)
    con.execute(sql, {"today": TODAY} if "$today" in sql else {})
    result = con.execute(f"SELECT {', '.join(table_columns(kind))}, reason, raw FROM {kind}_rows WHERE load_id = 9")
    names = [column[0] for column in result.description]
    (row,) = result.fetchall()
    con.execute(f"DELETE FROM {kind}_rows WHERE load_id = 9")
    stored = dict(zip(names, row, strict=True))
    return stored, stored.pop("reason"), stored.pop("raw")


SESSION = {
    "client_id": "C-1",
    "session_date": "2026-04-01",
    "attended": "yes",
    "session_type": "studio",
    "exercise": "bridge",
    "level": "2",
    "sets": "2",
    "reps": "10",
    "hold_s": "",
    "resistance": "red band",
    "side": "both",
    "pain_before": "3",
    "pain_during": "4.5",
    "pain_after": "2",
    "pain_next_day": "",
    "rpe": "5",
    "form": "good",
    "notes": "felt fine",
    "staff_id": "S-2",
}


def session(**cells) -> dict:
    return SESSION | cells


def test_a_valid_session_row_is_stored_typed(warehouse):
    stored, reason, raw = validate(warehouse, "session_log", SESSION)
    assert reason is None and raw is None
    assert stored == {
        "client_id": "C-1",
        "session_date": date(2026, 4, 1),
        "attended": True,
        "session_type": "studio",
        "exercise": "bridge",
        "level": 2,
        "sets": 2,
        "reps": 10,
        "hold_s": None,
        "resistance": "band_medium",
        "side": "both",
        "pain_before": 3.0,
        "pain_during": 4.5,
        "pain_after": 2.0,
        "pain_next_day": None,
        "rpe": 5.0,
        "form": "good",
        "notes": "felt fine",
        "staff_id": "S-2",
    }


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({"client_id": "C-999"}, "client_id 'C-999' is not in the client roster"),
        ({"client_id": ""}, "client_id is missing"),
        ({"client_id": "n/a"}, "client_id is missing"),
        ({"client_id": " C-1 "}, None),
        ({"client_id": "c-1"}, "client_id 'c-1' is not in the client roster"),  # ids are matched as written
        ({"staff_id": "S-99"}, "staff_id 'S-99' is not in the staff list"),
        ({"staff_id": ""}, None),  # not required
        ({"staff_id": "n/a"}, None),
        ({"session_date": ""}, "session_date is missing"),
        ({"session_date": "31/02/2026"}, "session_date '31/02/2026' is not a date (use YYYY-MM-DD or day/month/year)"),
        ({"session_date": "2026-06-30"}, None),  # today
        ({"session_date": "2026-07-01"}, "session_date 2026-07-01 is in the future (today is 2026-06-30)"),
        ({"session_date": "2026-03-02"}, None),  # the client's first day
        ({"session_date": "2026-03-01"}, "session_date 2026-03-01 is before the client's start date 2026-03-02"),
        ({"session_date": "2026-06-01"}, None),  # after the client's end date: a follow-up, kept
        ({"attended": ""}, "attended is missing"),
        ({"attended": "maybe"}, "attended 'maybe' is not yes/no"),
        ({"sets": "25"}, "sets=25 is more than 20, which cannot be right"),
        ({"pain_during": "nan", "rpe": "NaN", "reps": "-nan"}, None),  # docs: `nan` is not recorded
    ],
)
def test_session_rows(warehouse, cells, reason):
    assert validate(warehouse, "session_log", session(**cells))[1] == reason


def test_a_missed_session_needs_no_exercise(warehouse):
    cells = session(attended="DNA", exercise="", level="", sets="", reps="", resistance="", side="", form="")
    stored, reason, _ = validate(warehouse, "session_log", cells)
    assert reason is None
    assert (stored["attended"], stored["exercise"], stored["level"]) == (False, None, None)


def test_a_staff_id_written_as_not_recorded_is_stored_as_none(warehouse):
    stored, reason, _ = validate(warehouse, "session_log", session(staff_id="n/a"))
    assert (stored["staff_id"], reason) == (None, None)


def test_an_unknown_staff_id_is_stored_as_written_and_quarantined(warehouse):
    stored, reason, _ = validate(warehouse, "session_log", session(staff_id=" S-99 "))
    assert (stored["staff_id"], reason) == ("S-99", "staff_id 'S-99' is not in the staff list")


def test_every_reason_of_a_row_joined_in_the_order_of_the_checks(warehouse):
    """Required cells first, then each column's checks in column order (a date's future check right
    after it), then the checks against the roster."""
    cells = session(client_id="", session_date="2026-07-02", attended="maybe", pain_during="11", rpe="x")
    assert validate(warehouse, "session_log", cells)[1] == (
        "session_date 2026-07-02 is in the future (today is 2026-06-30); "
        "attended 'maybe' is not yes/no; "
        "pain_during=11 is outside 0–10; "
        "rpe 'x' is not a number; "
        "client_id is missing"
    )


def test_a_quarantined_row_keeps_its_raw_values_under_the_files_headers(warehouse):
    cells = {"client_id": "C-1", "session_date": "2026-04-01", "attended": "maybe"}
    _, reason, raw = validate(warehouse, "session_log", cells)
    assert reason == "attended 'maybe' is not yes/no"
    assert raw == '{"client_id":"C-1","session_date":"2026-04-01","attended":"maybe"}'


def test_the_date_order_applies_to_the_row(warehouse):
    cells = session(session_date="04/03/2026")
    assert validate(warehouse, "session_log", cells, "dmy")[0]["session_date"] == date(2026, 3, 4)
    assert validate(warehouse, "session_log", cells, "mdy")[0]["session_date"] == date(2026, 4, 3)


CLIENT = {"client_id": "C-5", "start_date": "2026-03-02", "region": "hip", "sessions_per_week": "3"}


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({}, None),
        ({"start_date": "2026-07-06"}, None),  # booked to start next week
        ({"end_date": "2026-03-02"}, None),  # ends the day it starts
        ({"end_date": "2026-03-01"}, "end_date 2026-03-01 is before start_date 2026-03-02"),
        ({"end_date": "2026-12-31"}, None),  # an end ahead
        ({"clinician_id": "S-1"}, None),
        ({"clinician_id": ""}, None),  # not required
        ({"clinician_id": "S-9"}, "clinician_id 'S-9' is not in the staff list"),
        ({"cohort_id": "G-1"}, None),
        ({"cohort_id": "G-9"}, "cohort_id 'G-9' is not in the cohort list"),
        ({"region": ""}, "region is missing"),
        ({"sessions_per_week": ""}, "sessions_per_week is missing"),
        ({"client_id": "-"}, "client_id is missing"),
        (
            {"start_date": "01/03/026"},
            "start_date '01/03/026' has a year outside 1900–9999 (write the year with four digits)",
        ),
        (
            {"end_date": "1/6/0026"},
            "end_date '1/6/0026' has a year outside 1900–9999 (write the year with four digits)",
        ),
        (
            {"region": "neck", "sessions_per_week": "9"},
            "region 'neck' is not one of hip, knee, low_back, other; sessions_per_week=9 is outside 1–7",
        ),
    ],
)
def test_client_rows(warehouse, cells, reason):
    assert validate(warehouse, "clients", CLIENT | cells)[1] == reason


def test_a_client_row_is_stored_with_its_words_mapped(warehouse):
    cells = CLIENT | {"region": "Lower back", "clinician_id": "n/a", "display_name": " Zoë Ahmed "}
    stored, reason, _ = validate(warehouse, "clients", cells)
    assert reason is None
    assert (stored["region"], stored["clinician_id"], stored["display_name"]) == ("low_back", None, "Zoë Ahmed")


@pytest.mark.parametrize("start", ["01/03/26", "1/3/26", "01/03/2026", "2026-03-01"])
def test_a_client_start_date_with_a_two_digit_year_is_this_century(warehouse, start):
    """docs: `dd/mm/yy` is 2000 + yy (01/03/26 used to load, without a message, as 0026-03-01)."""
    stored, reason, _ = validate(warehouse, "clients", CLIENT | {"start_date": start})
    assert (stored["start_date"], reason) == (date(2026, 3, 1), None)


def test_a_session_date_with_a_two_digit_year_is_checked_like_any_date(warehouse):
    assert validate(warehouse, "session_log", session(session_date="1/4/26"))[0]["session_date"] == date(2026, 4, 1)
    assert validate(warehouse, "session_log", session(session_date="1/7/26"))[1] == (
        "session_date 2026-07-01 is in the future (today is 2026-06-30)"
    )


def test_under_month_first_a_dashed_session_date_stays_day_first(warehouse):
    cells = session(session_date="04-03-2026")
    assert validate(warehouse, "session_log", cells, "mdy")[0]["session_date"] == date(2026, 3, 4)


COHORT = {"cohort_id": "G-2", "name": "Knee class", "instructor_id": "S-2", "start_date": "2026-07-06"}


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({}, None),  # starts next week
        ({"instructor_id": ""}, "instructor_id is missing"),
        ({"instructor_id": "S-9"}, "instructor_id 'S-9' is not in the staff list"),
        ({"name": "  "}, "name is missing"),
        ({"weeks": "0"}, "weeks=0 is outside 1–104"),
        ({"start_date": "next week"}, "start_date 'next week' is not a date (use YYYY-MM-DD or day/month/year)"),
    ],
)
def test_cohort_rows(warehouse, cells, reason):
    assert validate(warehouse, "cohorts", COHORT | cells)[1] == reason


STAFF = {"staff_id": "S-7", "name": "Cara Lee", "role": "admin"}


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({}, None),
        ({"staff_id": "n/a"}, "staff_id is missing"),
        ({"name": ""}, "name is missing"),
        ({"role": ""}, "role is missing"),
        ({"role": "cleaner"}, "role 'cleaner' is not one of physio, instructor, admin"),
        ({"email": ""}, None),
    ],
)
def test_staff_rows(warehouse, cells, reason):
    assert validate(warehouse, "staff", STAFF | cells)[1] == reason


MEASURE = {"client_id": "C-1", "measured_on": "2026-04-01", "instrument": "NPRS", "score": "4", "items": ""}


def measure(**cells) -> dict:
    return MEASURE | cells


@pytest.mark.parametrize(
    ("cells", "score"),
    [
        ({}, 4.0),
        ({"instrument": "ODI", "score": "", "items": "2,2,2,2,2,2,2,2,2,2"}, 40.0),
        ({"instrument": "ODI", "score": "", "items": "[1, 2, 3, 4, 5, 0, 1, 2, 3, null]"}, 46.7),
        ({"instrument": "ODI", "score": "40", "items": "2;2;2;2;2;2;2;2;2;2"}, 40.0),
        ({"instrument": "ODI", "score": "40.05", "items": "2;2;2;2;2;2;2;2;2;2"}, 40.05),  # within 0.1
        ({"instrument": "LEFS", "score": "", "items": "|".join(["3"] * 20)}, 60.0),
        ({"instrument": "PSFS", "score": "", "items": "3|4|4"}, 3.67),
        ({"instrument": "TUG_S", "score": "12,4"}, 12.4),
    ],
)
def test_measure_rows_store_the_score_given_or_scored_from_items(warehouse, cells, score):
    stored, reason, _ = validate(warehouse, "measures", measure(**cells))
    assert (stored["score"], reason) == (score, None)


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ({"instrument": ""}, "instrument is missing"),
        ({"instrument": "WOMAC"}, f"instrument 'WOMAC' is not a known instrument ({KNOWN})"),
        ({"score": ""}, "score is missing"),
        ({"score": "forty"}, "score 'forty' is not a number"),
        ({"measured_on": "2026-07-01"}, "measured_on 2026-07-01 is in the future (today is 2026-06-30)"),
        ({"client_id": "C-999"}, "client_id 'C-999' is not in the client roster"),
        ({"score": "", "items": "5"}, "NPRS is not scored from items: give its score"),
        ({"score": "4", "items": "4, two"}, "items '4, two' are not all numbers"),
        ({"instrument": "ODI", "score": "", "items": "2,2,2,2,2,2,2,2,2"}, "ODI needs 10 section scores, got 9"),
        ({"instrument": "ODI", "score": "", "items": "6,2,2,2,2,2,2,2,2,2"}, "ODI section scores must be 0–5"),
        ({"instrument": "ODI", "score": "", "items": "-1,2,2,2,2,2,2,2,2,2"}, "ODI section scores must be 0–5"),
        (
            {"instrument": "ODI", "score": "", "items": "2,2,2,2,2,2,2,2,,"},
            "ODI has 2 unanswered sections; at most 1 may be missing",
        ),
        (
            {"instrument": "ODI", "score": "40", "items": "1,1,2,2,2,2,2,2,1,1"},
            "score 40 does not match its items (they score 32.0)",
        ),
        (
            {"instrument": "ODI", "score": "40.2", "items": "2,2,2,2,2,2,2,2,2,2"},
            "score 40.2 does not match its items (they score 40.0)",
        ),
        ({"instrument": "LEFS", "score": "", "items": ",".join(["3"] * 19)}, "LEFS needs 20 item scores, got 19"),
        (
            {"instrument": "LEFS", "score": "", "items": ",".join(["3"] * 19 + ["5"])},
            "LEFS item scores must be 0–4",
        ),
        (
            {"instrument": "LEFS", "score": "", "items": ",".join(["3"] * 19 + ["n/a"])},
            "LEFS has 1 unanswered items; all 20 are needed",
        ),
        ({"instrument": "PSFS", "score": "", "items": "4, 5"}, "PSFS needs 3–5 activity ratings, got 2"),
        ({"instrument": "PSFS", "score": "", "items": "1,2,3,4,5,6"}, "PSFS needs 3–5 activity ratings, got 6"),
        ({"instrument": "PSFS", "score": "", "items": "[7, 8, null, 9]"}, "PSFS needs 3–5 activity ratings, got 3"),
        ({"instrument": "PSFS", "score": "", "items": "11, 5, 5"}, "PSFS activity ratings must be 0–10"),
    ],
)
def test_measure_rows_quarantined(warehouse, cells, reason):
    assert validate(warehouse, "measures", measure(**cells))[1] == reason


@pytest.mark.parametrize(
    ("instrument", "inside", "outside", "reason"),
    [
        ("NPRS", ["0", "10"], "10.5", "NPRS score 10.5 is outside 0.0–10.0"),
        ("ODI", ["0", "100"], "120", "ODI score 120.0 is outside 0.0–100.0"),
        ("LEFS", ["0", "80"], "81", "LEFS score 81.0 is outside 0.0–80.0"),
        ("PSFS", ["0", "10"], "11", "PSFS score 11.0 is outside 0.0–10.0"),
        ("HOOS_JR", ["0", "100"], "101", "HOOS_JR score 101.0 is outside 0.0–100.0"),
        ("KOOS_JR", ["0", "100"], "-1", "KOOS_JR score -1.0 is outside 0.0–100.0"),
        ("SLS_S", ["0", "300"], "301", "SLS_S score 301.0 is outside 0.0–300.0"),
        ("SLS_S_L", ["0", "300"], "300.5", "SLS_S_L score 300.5 is outside 0.0–300.0"),
        ("SLS_S_R", ["0", "300"], "-0.5", "SLS_S_R score -0.5 is outside 0.0–300.0"),
        ("CST30", ["0", "60"], "61", "CST30 score 61.0 is outside 0.0–60.0"),
        ("TUG_S", ["1", "300"], "0.9", "TUG_S score 0.9 is outside 1.0–300.0"),
        ("TUG_S", ["1", "300"], "301", "TUG_S score 301.0 is outside 1.0–300.0"),
    ],
)
def test_the_range_of_each_instrument(warehouse, instrument, inside, outside, reason):
    for score in inside:
        assert validate(warehouse, "measures", measure(instrument=instrument, score=score))[1] is None, score
    assert validate(warehouse, "measures", measure(instrument=instrument, score=outside))[1] == reason


def test_docs_a_score_within_0_1_of_its_items_agrees(warehouse):
    """docs: a score given with items must agree with them "within 0.1". 40.1 against the items'
    40.0 differs by 0.1 in decimal, but by 0.10000000000000142 in floating point, which the check
    used to count as a mismatch (`abs(score - scored) > 0.1`); it now allows rules.TOLERANCE."""
    cells = measure(instrument="ODI", score="40.1", items="2,2,2,2,2,2,2,2,2,2")
    assert validate(warehouse, "measures", cells)[1] is None


@pytest.mark.parametrize(
    ("instrument", "score", "items", "reason"),
    [
        ("ODI", "39.9", "2,2,2,2,2,2,2,2,2,2", None),  # 0.1 below
        ("ODI", "40,1", "2,2,2,2,2,2,2,2,2,2", None),  # a decimal comma
        ("ODI", "46.6", "1,2,3,4,5,0,1,2,3,", None),  # the items score 46.7
        ("ODI", "46.8", "1,2,3,4,5,0,1,2,3,", None),
        ("PSFS", "3.77", "3,4,4", None),  # the items score 3.67
        ("ODI", "40.11", "2,2,2,2,2,2,2,2,2,2", "score 40.11 does not match its items (they score 40.0)"),
        ("ODI", "39.89", "2,2,2,2,2,2,2,2,2,2", "score 39.89 does not match its items (they score 40.0)"),
        ("PSFS", "3.78", "3,4,4", "score 3.78 does not match its items (they score 3.67)"),
    ],
)
def test_a_score_agrees_with_its_items_within_0_1_and_no_further(warehouse, instrument, score, items, reason):
    cells = measure(instrument=instrument, score=score, items=items)
    assert validate(warehouse, "measures", cells)[1] == reason


def test_the_tolerance_is_the_analytics_one():
    """One tolerance: analytics.definitions takes the loader's (etl may not import analytics)."""
    from analytics.definitions import TOLERANCE

    assert rules.TOLERANCE == TOLERANCE


def test_docs_items_written_as_not_recorded_are_no_items(warehouse):
    """docs: `n/a` means "not recorded" (NULL). (An items cell of 'n/a' used to be read as a list of one
    blank answer, [NULL], so an ODI score given with it was quarantined: "ODI needs 10 section scores,
    got 1".)"""
    cells = measure(instrument="ODI", score="40", items="n/a")
    assert validate(warehouse, "measures", cells)[1] is None


@pytest.mark.parametrize("text", ["n/a", "N/A", " - ", "nan", "not done", "[]", "[ ]", "[n/a]", "", None])
def test_an_items_cell_with_nothing_recorded_is_no_items(con, text):
    assert run(con, rules._items, text, "items") == (None, [])


def test_a_score_with_items_written_as_not_recorded_is_stored(warehouse):
    stored, reason, _ = validate(warehouse, "measures", measure(instrument="ODI", score="40", items="n/a"))
    assert (stored["score"], stored["items"], reason) == (40.0, None, None)


@pytest.mark.parametrize("score", ["n/a", "-", "not done"])
def test_docs_a_score_written_as_not_recorded_is_missing(warehouse, score):
    """docs: a "not recorded" word is the same as an empty cell, and a measure with neither a score
    nor items is quarantined ("score is missing"). (With the score written as 'n/a' and no items, the
    row used to load with no score.)"""
    assert validate(warehouse, "measures", measure(score=score))[1] == "score is missing"


@pytest.mark.parametrize(
    ("score", "items"),
    [("", ""), ("", "n/a"), ("n/a", "n/a"), ("nan", ""), ("  ", ""), ("?", "[]"), (None, None)],
)
def test_a_measure_with_neither_score_nor_items_recorded_is_missing_its_score(warehouse, score, items):
    assert validate(warehouse, "measures", measure(score=score, items=items))[1] == "score is missing"


def test_a_score_written_as_not_recorded_with_items_is_scored_from_them(warehouse):
    stored, reason, _ = validate(
        warehouse, "measures", measure(instrument="ODI", score="n/a", items="2,2,2,2,2,2,2,2,2,2")
    )
    assert (stored["score"], reason) == (40.0, None)


def test_a_score_scored_from_items_is_range_checked_too(warehouse):
    """Twenty LEFS items of 5 would score 100: each item is outside 0–4, and so is the total."""
    cells = measure(instrument="LEFS", score="", items=",".join(["5"] * 20))
    assert validate(warehouse, "measures", cells)[1] == (
        "LEFS item scores must be 0–4; LEFS score 100.0 is outside 0.0–80.0"
    )
