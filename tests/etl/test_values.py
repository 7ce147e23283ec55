"""The cell parsers of `etl.values`, called directly (not through `load()`).

Each parser gives SQL that parses a cell's text and the (condition, message) checks that quarantine
its row. `run` (tests/etl/cells.py) evaluates them on one text in DuckDB, as the loader's validation
query does: an empty cell reaches the parser as NULL, "today" is 2026-06-30. Every expected value is
written out by hand from docs/input-formats.md ("Values" and "Quarantine").
"""

from __future__ import annotations

from datetime import date

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import values
from etl.values import Cell, Parsed, literal
from tests.etl.cells import evaluate, run

NOT_A_DATE = "is not a date (use YYYY-MM-DD or day/month/year)"
NOT_A_DATE_MDY = "is not a date (use YYYY-MM-DD or month/day/year)"
RESISTANCE_HINT = (
    "is not recognised (use none, band_light, band_medium, band_heavy, "
    "spring_light, spring_medium, spring_heavy or a weight in kg such as 2 kg)"
)


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    yield con
    con.close()


# --- text in SQL ----------------------------------------------------------------------------------


def test_literal_quotes_text_for_sql():
    assert literal("week1.csv") == "'week1.csv'"
    assert literal("O'Brien's.csv") == "'O''Brien''s.csv'"
    assert literal("") == "''"


@pytest.mark.parametrize("text", ["'", "''", "x'); DROP TABLE t; --", "a\\b", "a\\'b", "\\", "line\nbreak", "2–3 kg"])
def test_a_literal_reads_back_as_its_text(con, text):
    """DuckDB's string literals know one escape, a doubled quote: a backslash is only a backslash."""
    assert con.execute(f"SELECT {literal(text)}").fetchall() == [(text,)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))))
def test_any_text_reads_back_from_its_literal(con, text):
    assert con.execute(f"SELECT {literal(text)}").fetchall() == [(text,)]


def test_a_value_quoted_in_a_message_reads_back_between_quotes(con):
    assert con.execute(f"SELECT {values.quoted('$t')}", {"t": "it's"}).fetchall() == [("'it's'",)]


# --- "not recorded" --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "   ", "na", "N/A", " n/a ", "NULL", "nan", "NaN", "-nan", "None", "-", "--", "?", "Not recorded", "NOT DONE"],
)
def test_is_missing_knows_every_not_recorded_word_in_any_case(con, text):
    assert con.execute(f"SELECT {values.is_missing('$t')}", {"t": text}).fetchall() == [(True,)]


@pytest.mark.parametrize("text", ["0", "no", "n", "x", "not", "n/a n/a", "---"])
def test_is_missing_is_false_for_values(con, text):
    assert con.execute(f"SELECT {values.is_missing('$t')}", {"t": text}).fetchall() == [(False,)]


def test_is_missing_can_keep_words_that_mean_something_in_a_column(con):
    keep = ("none", "-")
    assert con.execute(f"SELECT {values.is_missing('$t', keep=keep)}", {"t": "none"}).fetchall() == [(False,)]
    assert con.execute(f"SELECT {values.is_missing('$t', keep=keep)}", {"t": "-"}).fetchall() == [(False,)]
    assert con.execute(f"SELECT {values.is_missing('$t', keep=keep)}", {"t": "n/a"}).fetchall() == [(True,)]


def test_is_missing_of_no_text_is_not_true(con):
    assert con.execute(f"SELECT {values.is_missing('NULL::VARCHAR')}").fetchall() == [(None,)]


def test_quoted_puts_the_text_between_single_quotes(con):
    assert con.execute(f"SELECT {values.quoted('$t')}", {"t": "C-1"}).fetchall() == [("'C-1'",)]


def test_a_cell_names_its_layers():
    cell = Cell("pain_during")
    assert (cell.text, cell.value) == ("t_pain_during", "v_pain_during")


# --- unparsed and required -------------------------------------------------------------------------


def unparsed_check(con, text: str | None, value: str | None) -> list[str]:
    """`unparsed` on a cell called reps holding `text`, whose parser gave `value`."""
    check = values.unparsed(Cell("reps"), "is not a number")
    sql = "NULL::VARCHAR" if value is None else f"'{value}'"
    return evaluate(con, "reps", sql, [check], text)[1]


def test_unparsed_quotes_text_that_did_not_parse(con):
    assert unparsed_check(con, "ten", None) == ["reps 'ten' is not a number"]


def test_unparsed_quotes_the_text_as_written(con):
    assert unparsed_check(con, " ten ", None) == ["reps ' ten ' is not a number"]


def test_unparsed_is_quiet_when_the_text_parsed(con):
    assert unparsed_check(con, "10", "10") == []


@pytest.mark.parametrize("text", [None, "", "n/a", "-", "Not done"])
def test_unparsed_is_quiet_for_an_empty_or_not_recorded_cell(con, text):
    assert unparsed_check(con, text, None) == []


@pytest.mark.parametrize("text", [None, "", "  ", "n/a", "?"])
def test_required_reports_an_empty_or_not_recorded_cell(con, text):
    cell = Cell("session_date")
    assert evaluate(con, "session_date", "NULL::DATE", [values.required(cell)], text)[1] == ["session_date is missing"]


def test_required_is_quiet_when_there_is_a_value(con):
    cell = Cell("session_date")
    assert evaluate(con, "session_date", "DATE '2026-06-01'", [values.required(cell)], "2026-06-01")[1] == []


def test_required_leaves_text_that_did_not_parse_to_the_parser(con):
    """'yesterday' is not missing: the date parser says it is not a date."""
    cell = Cell("session_date")
    assert evaluate(con, "session_date", "NULL::DATE", [values.required(cell)], "yesterday")[1] == []


# --- text and ids ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("  Bridge, slow  ", "Bridge, slow"),
        ("=SUM(A1:A3)", "=SUM(A1:A3)"),
        ("+44 20 7946 0000", "+44 20 7946 0000"),
        ("-left knee sore", "-left knee sore"),
        ("@home", "@home"),
        ("n/a", "n/a"),  # notes are kept as written, "not recorded" words too
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_free_text_is_kept_as_written_and_trimmed(con, text, stored):
    assert run(con, values.free_text, text) == (stored, [])


@pytest.mark.parametrize(
    ("text", "stored"),
    [("C-1", "C-1"), ("  C-1 ", "C-1"), ("c-1", "c-1"), ("n/a", None), ("-", None), ("NA", None), (None, None)],
)
def test_identifier_is_trimmed_and_not_recorded_words_mean_none(con, text, stored):
    assert run(con, values.identifier, text) == (stored, [])


# --- dates -----------------------------------------------------------------------------------------


def test_the_accepted_date_spellings_day_first():
    assert values.date_formats("dmy") == [
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%d/%m/%Y",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y %H:%M:%S",
        "%d-%m-%Y",
        "%d.%m.%Y",
    ]


def test_the_accepted_date_spellings_month_first_swap_day_and_month_of_slashed_dates_only():
    assert values.date_formats("mdy") == [
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%m/%d/%Y",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%d-%m-%Y",  # docs: only slashed dates follow --date-order mdy
        "%d.%m.%Y",
    ]


def day_first(cell: Cell) -> Parsed:
    return values.date(cell, "dmy")


def month_first(cell: Cell) -> Parsed:
    return values.date(cell, "mdy")


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("2026-06-01", date(2026, 6, 1)),
        ("  2026-06-01 ", date(2026, 6, 1)),
        ("2026/06/01", date(2026, 6, 1)),
        ("2026-06-01 09:30", date(2026, 6, 1)),
        ("2026-06-01 09:30:15", date(2026, 6, 1)),
        ("2026-06-01T09:30:15", date(2026, 6, 1)),
        ("2026-06-01T23:30:00Z", date(2026, 6, 1)),  # the date written down, not moved to UTC
        ("2026-06-01T23:30:00+02:00", date(2026, 6, 1)),
        ("2026-06-01 00:30 -05:00", date(2026, 6, 1)),
        ("01/06/2026", date(2026, 6, 1)),
        ("03/04/2025", date(2025, 4, 3)),  # docs: 3 April under the default order
        ("01-06-2026", date(2026, 6, 1)),
        ("01/06/2026 09:30", date(2026, 6, 1)),
        ("01.06.2026", date(2026, 6, 1)),
        ("29/02/2024", date(2024, 2, 29)),  # a leap day
        ("31/12/2025", date(2025, 12, 31)),
    ],
)
def test_dates_day_first(con, text, stored):
    assert run(con, day_first, text, "session_date") == (stored, [])


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("03/04/2025", date(2025, 3, 4)),  # docs: 4 March under --date-order mdy
        ("12/31/2025", date(2025, 12, 31)),
        ("2026-06-01", date(2026, 6, 1)),  # ISO is ISO in either order
        ("01.06.2026", date(2026, 6, 1)),  # dotted dates stay day-first
    ],
)
def test_dates_month_first(con, text, stored):
    assert run(con, month_first, text, "session_date") == (stored, [])


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2026",
        "29/02/2026",
        "2026-13-01",
        "2026-02-30",
        "32/01/2026",
        "00/01/2026",
        "yesterday",
        "45000",
        "6/2026",
    ],
)
def test_impossible_dates_and_other_text_are_not_dates(con, text):
    assert run(con, day_first, text, "session_date") == (None, [f"session_date '{text}' {NOT_A_DATE}"])


@pytest.mark.parametrize("parser", [day_first, month_first])
def test_docs_a_two_digit_year_is_this_century(con, parser):
    """docs: `dd/mm/yy` is accepted, its year is 2000 + yy. (DuckDB's `%Y` reads "26" as the year 26:
    a client's start date used to load as 0026-06-01 without a message.)"""
    assert run(con, parser, "01/06/26" if parser is day_first else "06/01/26", "start_date") == (date(2026, 6, 1), [])


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("1/6/26", date(2026, 6, 1)),  # the date cast alone reads it as 0001-06-26
        ("1/06/26", date(2026, 6, 1)),
        ("01/6/26", date(2026, 6, 1)),
        ("1/6/2026", date(2026, 6, 1)),
        ("01/06/26 09:30", date(2026, 6, 1)),
        ("01/06/00", date(2000, 6, 1)),
        ("31/12/99", date(2099, 12, 31)),  # 2000 + yy, not DuckDB's %y (which pivots at 69: 1999)
        ("01/06/75", date(2075, 6, 1)),
        ("26/06/01", date(2001, 6, 26)),  # day first: 26 June 2001, not 2026-06-01
        ("29/02/24", date(2024, 2, 29)),
    ],
)
def test_two_digit_years_and_one_digit_days_and_months(con, text, stored):
    assert run(con, day_first, text, "start_date") == (stored, [])


def test_a_two_digit_year_under_month_first(con):
    assert run(con, month_first, "6/1/26", "start_date") == (date(2026, 6, 1), [])
    assert run(con, month_first, "12/31/25", "start_date") == (date(2025, 12, 31), [])


def test_an_impossible_date_with_a_two_digit_year_is_not_a_date(con):
    assert run(con, day_first, "29/02/26", "start_date") == (None, [f"start_date '29/02/26' {NOT_A_DATE}"])


YEAR_OUTSIDE = "has a year outside 1900–9999 (write the year with four digits)"


@pytest.mark.parametrize(
    "text",
    [
        "01/06/026",  # a year of three digits
        "01/06/0026",
        "0026-06-01",
        "026-06-01",
        "26-06-01",  # yy-mm-dd is not accepted: read as the year 26
        "1899-12-31",
        "31/12/1899",
        "01/06/1850",
        "20266-06-01",  # a year of five digits
        "01-06-26",  # two-digit years are for slashed dates only
        "01.06.26",
    ],
)
def test_a_year_outside_1900_to_9999_is_quarantined_with_its_reason(con, text):
    """docs: a year of three digits, before 1900 or of five digits is quarantined, not loaded."""
    assert run(con, day_first, text, "start_date") == (None, [f"start_date '{text}' {YEAR_OUTSIDE}"])


@pytest.mark.parametrize(("text", "stored"), [("1900-01-01", date(1900, 1, 1)), ("31/12/9999", date(9999, 12, 31))])
def test_the_first_and_last_years_are_dates(con, text, stored):
    assert run(con, day_first, text, "start_date") == (stored, [])


def test_docs_only_slashed_dates_follow_the_month_first_order(con):
    """docs: `dd-mm-yyyy` is accepted and only slashed dates follow `--date-order mdy`. (Day and month
    of dashed dates used to be swapped too: 06-01-2026 was read as 1 June.)"""
    assert run(con, month_first, "06-01-2026", "session_date") == (date(2026, 1, 6), [])


def test_dashed_and_dotted_dates_are_day_first_under_month_first(con):
    assert run(con, month_first, "13-04-2025", "session_date") == (date(2025, 4, 13), [])
    assert run(con, month_first, "13.04.2025", "session_date") == (date(2025, 4, 13), [])


def test_month_first_never_guesses_a_day_first_date(con):
    """docs: `13/04/2025` under mdy is quarantined."""
    assert run(con, month_first, "13/04/2025", "session_date") == (
        None,
        [f"session_date '13/04/2025' {NOT_A_DATE_MDY}"],
    )


@pytest.mark.parametrize("text", [None, "", "n/a", "-", "not recorded"])
def test_an_empty_or_not_recorded_date_is_none_without_a_message(con, text):
    assert run(con, day_first, text, "session_date") == (None, [])


@pytest.mark.parametrize(
    ("stored", "messages"),
    [
        (date(2026, 6, 29), []),
        (date(2026, 6, 30), []),  # today is not the future
        (date(2026, 7, 1), ["session_date 2026-07-01 is in the future (today is 2026-06-30)"]),
        (None, []),
    ],
)
def test_not_in_future(con, stored, messages):
    sql = "NULL::DATE" if stored is None else f"DATE '{stored.isoformat()}'"
    check = values.not_in_future(Cell("session_date"))
    assert evaluate(con, "session_date", sql, [check], "any")[1] == messages


def test_iso_writes_a_date_as_year_month_day(con):
    assert con.execute(f"SELECT {values.iso('DATE ' + repr('2026-03-02'))}").fetchall() == [("2026-03-02",)]


# --- numbers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("3", 3.0),
        ("3.5", 3.5),
        ("3,5", 3.5),  # a decimal comma
        (" 4 ", 4.0),
        ("-2", -2.0),
        ("0", 0.0),
        ("1,000", 1.0),  # a comma is always a decimal comma, never a thousands separator
        ("1e3", 1000.0),
        ("3,5,1", None),
        ("ten", None),
        ("3 kg", None),
        ("", None),
    ],
)
def test_decimal(con, text, number):
    assert con.execute(f"SELECT {values.decimal('$t')}", {"t": text}).fetchall() == [(number,)]


def sets(cell: Cell) -> Parsed:
    return values.amount(cell, 20, whole=True)


def hold(cell: Cell) -> Parsed:
    return values.amount(cell, 3600, whole=False, unit=" s")


@pytest.mark.parametrize(
    ("text", "stored", "messages"),
    [
        ("0", 0.0, []),
        ("3", 3.0, []),
        ("20", 20.0, []),
        ("3,0", 3.0, []),
        ("21", 21.0, ["sets=21 is more than 20, which cannot be right"]),
        ("25", 25.0, ["sets=25 is more than 20, which cannot be right"]),
        ("-2", -2.0, ["sets=-2 is negative"]),
        ("-0.5", -0.5, ["sets=-0.5 is negative", "sets=-0.5 is not a whole number"]),
        ("2.5", 2.5, ["sets=2.5 is not a whole number"]),
        (" 2.5 ", 2.5, ["sets=2.5 is not a whole number"]),
        ("three", None, ["sets 'three' is not a number"]),
        ("", None, []),
        ("n/a", None, []),
    ],
)
def test_a_whole_amount(con, text, stored, messages):
    assert run(con, sets, text, "sets") == (stored, messages)


@pytest.mark.parametrize(
    ("text", "stored", "messages"),
    [
        ("0", 0.0, []),
        ("2.5", 2.5, []),  # a duration need not be whole
        ("3600", 3600.0, []),
        ("3600.5", 3600.5, ["hold_s=3600.5 is more than 3600 s, which cannot be right"]),
        ("-1", -1.0, ["hold_s=-1 is negative"]),
        ("30s", None, ["hold_s '30s' is not a number"]),
    ],
)
def test_a_duration(con, text, stored, messages):
    assert run(con, hold, text, "hold_s") == (stored, messages)


def sessions_per_week(cell: Cell) -> Parsed:
    return values.whole_between(cell, 1, 7)


@pytest.mark.parametrize(
    ("text", "stored", "messages"),
    [
        ("1", 1.0, []),
        ("7", 7.0, []),
        ("3,0", 3.0, []),
        ("0", 0.0, ["sessions_per_week=0 is outside 1–7"]),
        ("8", 8.0, ["sessions_per_week=8 is outside 1–7"]),
        ("2.5", 2.5, ["sessions_per_week=2.5 is not a whole number"]),
        ("0.5", 0.5, ["sessions_per_week=0.5 is outside 1–7", "sessions_per_week=0.5 is not a whole number"]),
        ("twice", None, ["sessions_per_week 'twice' is not a number"]),
        (None, None, []),
    ],
)
def test_whole_between(con, text, stored, messages):
    assert run(con, sessions_per_week, text, "sessions_per_week") == (stored, messages)


@pytest.mark.parametrize(
    ("text", "stored", "messages"),
    [
        ("0", 0.0, []),
        ("10", 10.0, []),
        ("4.5", 4.5, []),
        ("4,5", 4.5, []),
        ("9.5", 9.5, []),
        ("11", 11.0, ["pain_during=11 is outside 0–10"]),
        ("10.5", 10.5, ["pain_during=10.5 is outside 0–10"]),
        ("-1", -1.0, ["pain_during=-1 is outside 0–10"]),
        ("-0.5", -0.5, ["pain_during=-0.5 is outside 0–10"]),
        ("3.3", 3.3, ["pain_during=3.3 is not a whole or half point on the 0–10 scale"]),
        ("4.25", 4.25, ["pain_during=4.25 is not a whole or half point on the 0–10 scale"]),
        (
            "10.3",
            10.3,
            ["pain_during=10.3 is outside 0–10", "pain_during=10.3 is not a whole or half point on the 0–10 scale"],
        ),
        ("abc", None, ["pain_during 'abc' is not a number"]),
        ("7/10", None, ["pain_during '7/10' is not a number"]),
        ("", None, []),
        ("n/a", None, []),
        ("-", None, []),
    ],
)
def test_pain_is_nprs_in_whole_or_half_points(con, text, stored, messages):
    assert run(con, values.pain, text, "pain_during") == (stored, messages)


@pytest.mark.parametrize(
    ("text", "stored", "messages"),
    [
        ("0", 0.0, []),
        ("10", 10.0, []),
        ("7.3", 7.3, []),  # decimals allowed, unlike pain
        ("6,5", 6.5, []),
        ("12", 12.0, ["rpe=12 is outside 0–10"]),
        ("10.1", 10.1, ["rpe=10.1 is outside 0–10"]),
        ("-0.1", -0.1, ["rpe=-0.1 is outside 0–10"]),
        ("hard", None, ["rpe 'hard' is not a number"]),
        (None, None, []),
    ],
)
def test_rating_is_borg_cr10(con, text, stored, messages):
    assert run(con, values.rating, text, "rpe") == (stored, messages)


@pytest.mark.parametrize("parser", [values.pain, values.rating, sets, sessions_per_week])
@pytest.mark.parametrize("text", ["nan", "NaN"])
def test_docs_nan_is_not_recorded_in_a_number_cell(con, parser, text):
    """docs: `nan` is a "not recorded" word, stored as NULL. (A number cell used to cast it to the float
    NaN, which then failed the range checks: `pain_during=nan is outside 0–10`.)"""
    assert run(con, parser, text, "x") == (None, [])


@pytest.mark.parametrize("parser", [values.pain, values.rating, sets, hold, sessions_per_week])
@pytest.mark.parametrize("text", ["NAN", " nan ", "-nan", "-NaN"])
def test_every_spelling_of_nan_is_not_recorded(con, parser, text):
    """A NaN of a Parquet float column arrives as `nan`, or `-nan` when its sign bit is set."""
    assert run(con, parser, text, "x") == (None, [])


@pytest.mark.parametrize(("text", "number"), [("nan", None), ("-nan", None), ("NaN", None), ("inf", float("inf"))])
def test_decimal_reads_nan_as_no_number(con, text, number):
    """Infinity stays a number: the range checks quarantine it (`pain_during=inf is outside 0–10`)."""
    assert con.execute(f"SELECT {values.decimal('$t')}", {"t": text}).fetchall() == [(number,)]


def test_a_required_number_written_as_nan_is_missing(con):
    cell = Cell("sessions_per_week")
    parsed = sessions_per_week(cell)
    checks = [values.required(cell), *parsed.checks]
    for text in ("nan", "-nan"):
        assert evaluate(con, "sessions_per_week", parsed.sql, checks, text) == (None, ["sessions_per_week is missing"])


def test_infinity_is_a_number_out_of_range(con):
    assert run(con, values.pain, "inf", "pain_during") == (float("inf"), ["pain_during=inf is outside 0–10"])


# --- yes/no ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["yes", "Yes", "YES", "y", "Y", "true", "True", "TRUE", "t", "1", "attended", "Present", "x", "came", " yes "],
)
def test_yes(con, text):
    assert run(con, values.yes_no, text, "attended") == (True, [])


@pytest.mark.parametrize(
    "text",
    [
        "no",
        "No",
        "NO",
        "n",
        "N",
        "false",
        "f",
        "0",
        "missed",
        "absent",
        "DNA",
        "did not attend",
        "Cancelled",
        "no show",
    ],
)
def test_no(con, text):
    assert run(con, values.yes_no, text, "attended") == (False, [])


@pytest.mark.parametrize("text", ["maybe", "2", "yes!", "y e s"])
def test_neither_yes_nor_no(con, text):
    assert run(con, values.yes_no, text, "attended") == (None, [f"attended '{text}' is not yes/no"])


@pytest.mark.parametrize("text", [None, "", "n/a", "?"])
def test_an_empty_yes_no_is_none_without_a_message(con, text):
    assert run(con, values.yes_no, text, "attended") == (None, [])


# --- one of a set of words -------------------------------------------------------------------------

COLOURS = {"red": ("scarlet", "crimson"), "dark_blue": ("navy", "dark blue"), "1:1": ("one to one",)}


def colour(cell: Cell) -> Parsed:
    return values.choice(cell, COLOURS)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("red", "red"),
        ("RED", "red"),
        (" Red ", "red"),
        ("scarlet", "red"),
        ("Crimson!", "red"),  # punctuation ignored
        ("dark_blue", "dark_blue"),
        ("Navy", "dark_blue"),
        ("dark-blue", "dark_blue"),
        ("Dark   Blue", "dark_blue"),
        ("1:1", "1:1"),  # a colon is kept
        ("One-to-one", "1:1"),
    ],
)
def test_choice_maps_case_punctuation_and_synonyms_to_the_word(con, text, stored):
    assert run(con, colour, text, "colour") == (stored, [])


@pytest.mark.parametrize("text", ["green", "reddish", "1 1"])
def test_choice_names_the_allowed_words_when_the_text_is_none_of_them(con, text):
    assert run(con, colour, text, "colour") == (None, [f"colour '{text}' is not one of red, dark_blue, 1:1"])


@pytest.mark.parametrize("text", [None, "", "N/A", "-"])
def test_an_empty_choice_is_none_without_a_message(con, text):
    assert run(con, colour, text, "colour") == (None, [])


# --- resistance ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("none", "none"),
        ("None", "none"),  # "none" is a resistance here, not "not recorded"
        ("Bodyweight", "none"),
        ("body weight", "none"),
        ("BW", "none"),
        ("no band", "none"),
        ("No resistance", "none"),
        ("nil", "none"),
        ("-", "none"),
        ("--", "none"),
        ("band_light", "band_light"),
        ("spring_heavy", "spring_heavy"),
        ("band medium", "band_medium"),
        ("Band - medium", "band_medium"),
        ("Spring Heavy", "spring_heavy"),
        ("light band", "band_light"),
        ("heavy springs", "spring_heavy"),
        ("theraband, extra light", "band_light"),
        ("loop band med", "band_medium"),
        ("yellow theraband", "band_light"),
        ("Red band", "band_medium"),
        ("green band", "band_heavy"),
        ("blue band", "band_heavy"),
        ("black tubing", "band_heavy"),
        ("2kg", "weight_2"),
        ("2 kg", "weight_2"),
        ("2.5 kg", "weight_2.5"),
        ("2.0kg", "weight_2"),
        ("0.50 kg", "weight_0.5"),
        ("weight 2 kg", "weight_2"),
        ("weight 3", "weight_3"),
        ("dumbbell 4 kgs", "weight_4"),
        ("1 kilo", "weight_1"),
    ],
)
def test_resistance_is_normalised(con, text, stored):
    assert run(con, values.resistance, text, "resistance") == (stored, [])


@pytest.mark.parametrize("text", ["band", "spring", "2", "3 dumbbell", "purple band", "heavy", "2,5 kg"])
def test_resistance_that_says_too_little_is_not_recognised(con, text):
    assert run(con, values.resistance, text, "resistance") == (None, [f"resistance '{text}' {RESISTANCE_HINT}"])


@pytest.mark.parametrize("text", [None, "", "n/a", "?"])
def test_an_empty_resistance_is_none_without_a_message(con, text):
    assert run(con, values.resistance, text, "resistance") == (None, [])


# --- level -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("1", 1),
        ("2", 2),
        ("20", 20),
        ("2.0", 2),
        ("L2", 2),
        ("l2", 2),
        ("L 2", 2),
        ("level 2", 2),
        ("Level 2", 2),
        ("LVL3", 3),
        (" 4 ", 4),
    ],
)
def test_level_numbers(con, text, stored):
    assert run(con, values.level_number, text, "level") == (stored, [])


@pytest.mark.parametrize(
    ("text", "stored", "messages"),
    [
        ("0", 0, ["level=0 is outside 1–20"]),
        ("21", 21, ["level=21 is outside 1–20"]),
        ("L0", 0, ["level=L0 is outside 1–20"]),
        ("two", None, ["level 'two' is not a level number"]),
        ("level", None, ["level 'level' is not a level number"]),
        ("2b", None, ["level '2b' is not a level number"]),
        (None, None, []),
        ("n/a", None, []),
    ],
)
def test_levels_outside_the_ladder_or_not_numbers(con, text, stored, messages):
    assert run(con, values.level_number, text, "level") == (stored, messages)


# --- where docs/input-formats.md is silent --------------------------------------------------------


def test_a_fractional_level_is_no_level(con):
    """DuckDB's cast of '2.5' to INTEGER rounds to 3: a level is taken only when it is a whole number."""
    assert run(con, values.level_number, "2.5", "level") == (None, ["level '2.5' is not a level number"])
    assert run(con, values.level_number, "1.4", "level") == (None, ["level '1.4' is not a level number"])
    assert run(con, values.level_number, "3.0", "level") == (3, [])
    assert run(con, values.level_number, " 4 ", "level") == (4, [])
