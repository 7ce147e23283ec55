"""How one text cell becomes a typed value, and what is wrong with it when it cannot.

The validation query is built in layers (see `etl.rules`): first every cell is trimmed and blanked
(`t_<column>`), then parsed once (`v_<column>`), then checked. A parser here returns the SQL that
parses a `Cell` and the checks that quarantine a row, each a (condition, message) pair of SQL.
Messages name the column, quote the value and say what is allowed, so the person fixing the file
knows what to change.

Everything here is a constant of the code: no user input is ever formatted into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DateOrder = Literal["dmy", "mdy"]

# Cells that mean "not recorded" in exports from spreadsheets and clinic systems.
MISSING_TOKENS = ("", "na", "n/a", "null", "nan", "none", "-", "--", "?", "not recorded", "not done")


@dataclass(frozen=True)
class Cell:
    """One column of a row: its name, its trimmed text, and its parsed value (layer columns)."""

    name: str

    @property
    def text(self) -> str:
        return f"t_{self.name}"

    @property
    def value(self) -> str:
        return f"v_{self.name}"

    @property
    def shown(self) -> str:
        """The cell as a message quotes it: 'value'."""
        return f"'''' || {self.text} || ''''"


@dataclass
class Parsed:
    sql: str
    checks: list[tuple[str, str]] = field(default_factory=list)


def cleaned(source: str, free_text: bool, keep: tuple[str, ...] = ()) -> str:
    """Trim the cell; empty (and, for coded columns, 'n/a', '-', ...) becomes NULL."""
    if free_text:
        return f"NULLIF(trim({source}), '')"
    tokens = ", ".join(f"'{t}'" for t in MISSING_TOKENS if t not in keep)
    return f"CASE WHEN lower(trim({source})) IN ({tokens}) THEN NULL ELSE trim({source}) END"


def text(cell: Cell) -> Parsed:
    return Parsed(cell.text)


def required(cell: Cell) -> tuple[str, str]:
    return (f"{cell.text} IS NULL", f"'{cell.name} is missing'")


def date_formats(order: DateOrder) -> list[str]:
    """Accepted date spellings. Slashed dates follow one configured order for the whole load:
    03/04/2025 is 3 April (day-first, the default) or 4 March (month-first), never guessed row by row."""
    day_month = ["%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"]
    slashed = day_month if order == "dmy" else [f.replace("%d", "#").replace("%m", "%d").replace("#", "%m") for f in day_month]
    iso = ["%Y-%m-%d", "%Y/%m/%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
           "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f"]
    return iso + slashed + ["%d.%m.%Y"]  # dotted dates are day-first everywhere they are used


# A time-zone suffix (Z, +01:00) is dropped: the date is the one the clinic wrote down. (Parsing
# with %z in DuckDB 2.0 also rolls impossible dates over, 31 February becoming 3 March.)
_TIME_ZONE = "'([T ]\\d{1,2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?) ?(?:Z|[+-]\\d{2}(?::?\\d{2})?)$'"


def date(cell: Cell, order: DateOrder) -> Parsed:
    formats = ", ".join(f"'{f}'" for f in date_formats(order))
    hint = "YYYY-MM-DD or day/month/year" if order == "dmy" else "YYYY-MM-DD or month/day/year"
    local = f"regexp_replace({cell.text}, {_TIME_ZONE}, '\\1')"
    return Parsed(
        f"CAST(try_strptime({local}, [{formats}]) AS DATE)",
        [(f"{cell.text} IS NOT NULL AND {cell.value} IS NULL", f"'{cell.name} ' || {cell.shown} || ' is not a date (use {hint})'")],
    )


def iso(value: str) -> str:
    return f"strftime({value}, '%Y-%m-%d')"


def not_in_future(cell: Cell) -> tuple[str, str]:
    return (
        f"{cell.value} > $today",
        f"'{cell.name} ' || {iso(cell.value)} || ' is in the future (today is ' || {iso('$today')} || ')'",
    )


def decimal(text_sql: str) -> str:
    """A decimal number; a decimal comma (3,5) is read as a decimal point."""
    return f"TRY_CAST(replace({text_sql}, ',', '.') AS DOUBLE)"


def _not_a_number(cell: Cell) -> tuple[str, str]:
    return (f"{cell.text} IS NOT NULL AND {cell.value} IS NULL", f"'{cell.name} ' || {cell.shown} || ' is not a number'")


def _decimal_value(cell: Cell) -> str:
    """The parsed value as a double, also when the column itself is stored as an integer."""
    return decimal(cell.text)


def amount(cell: Cell, high: float, whole: bool, unit: str = "") -> Parsed:
    """A count or duration: never negative, and not beyond what a person could do."""
    v = _decimal_value(cell)
    shown = f"'{cell.name}=' || {cell.text} || '"
    checks = [
        _not_a_number(cell),
        (f"{v} < 0", f"{shown} is negative'"),
        (f"{v} > {high}", f"{shown} is more than {high:g}{unit}, which cannot be right'"),
    ]
    if whole:
        checks.append((f"{v} <> floor({v})", f"{shown} is not a whole number'"))
        return Parsed(f"CAST(floor({decimal(cell.text)}) AS INTEGER)", checks)
    return Parsed(decimal(cell.text), checks)


def whole_between(cell: Cell, low: int, high: int) -> Parsed:
    v = _decimal_value(cell)
    shown = f"'{cell.name}=' || {cell.text} || '"
    return Parsed(
        f"CAST(floor({decimal(cell.text)}) AS INTEGER)",
        [
            _not_a_number(cell),
            (f"{v} NOT BETWEEN {low} AND {high}", f"{shown} is outside {low}–{high}'"),
            (f"{v} BETWEEN {low} AND {high} AND {v} <> floor({v})", f"{shown} is not a whole number'"),
        ],
    )


def pain(cell: Cell) -> Parsed:
    """NPRS 0-10 in whole or half points (SPEC §1)."""
    v = cell.value
    shown = f"'{cell.name}=' || {cell.text} || '"
    return Parsed(
        decimal(cell.text),
        [
            _not_a_number(cell),
            (f"{v} NOT BETWEEN 0 AND 10", f"{shown} is outside 0–10'"),
            (f"{v} BETWEEN 0 AND 10 AND {v} * 2 <> floor({v} * 2)", f"{shown} is not a whole or half point on the 0–10 scale'"),
        ],
    )


def rating(cell: Cell) -> Parsed:
    """Borg CR-10 effort: 0-10, decimals allowed."""
    return Parsed(
        decimal(cell.text),
        [_not_a_number(cell), (f"{cell.value} NOT BETWEEN 0 AND 10", f"'{cell.name}=' || {cell.text} || ' is outside 0–10'")],
    )


TRUE_WORDS = ("true", "t", "yes", "y", "1", "attended", "present", "x", "came")
FALSE_WORDS = ("false", "f", "no", "n", "0", "missed", "absent", "dna", "did not attend", "cancelled", "no show")


def _words(words: tuple[str, ...]) -> str:
    return ", ".join(f"'{w}'" for w in words)


def yes_no(cell: Cell) -> Parsed:
    return Parsed(
        f"CASE WHEN lower({cell.text}) IN ({_words(TRUE_WORDS)}) THEN TRUE "
        f"WHEN lower({cell.text}) IN ({_words(FALSE_WORDS)}) THEN FALSE END",
        [(f"{cell.text} IS NOT NULL AND {cell.value} IS NULL", f"'{cell.name} ' || {cell.shown} || ' is not yes/no'")],
    )


def choice(cell: Cell, synonyms: dict[str, tuple[str, ...]]) -> Parsed:
    """One of a fixed set of words; listed synonyms are mapped, case and punctuation ignored."""
    key = f"trim(regexp_replace(lower({cell.text}), '[^a-z0-9:]+', ' ', 'g'))"
    whens = " ".join(f"WHEN {key} IN ({_words((canonical, *words))}) THEN '{canonical}'" for canonical, words in synonyms.items())
    allowed = ", ".join(synonyms)
    return Parsed(
        f"CASE {whens} END",
        [(f"{cell.text} IS NOT NULL AND {cell.value} IS NULL", f"'{cell.name} ' || {cell.shown} || ' is not one of {allowed}'")],
    )


def _band_strength(words: str) -> str:
    """Strength words, and Theraband colours in the maker's order: yellow, red, green, blue, black."""
    return f"""CASE
        WHEN regexp_matches({words}, '\\b(extra light|x light|yellow|tan|light|lite|easy)\\b') THEN 'light'
        WHEN regexp_matches({words}, '\\b(medium|med|red|moderate)\\b') THEN 'medium'
        WHEN regexp_matches({words}, '\\b(heavy|hard|strong|green|blue|black|silver|gold)\\b') THEN 'heavy'
    END"""


NO_RESISTANCE = ("none", "no", "nil", "bodyweight", "body weight", "bw", "unloaded", "no band", "no resistance")


def resistance(cell: Cell) -> Parsed:
    """Free text normalised to none, band_*, spring_* or weight_<kg> (SPEC §1)."""
    words = f"trim(regexp_replace(lower({cell.text}), '[^a-z0-9.]+', ' ', 'g'))"
    kg = (
        f"NULLIF(regexp_extract({words}, '^(?:weight |dumbbell |db |ankle weight |kettlebell |kb )?"
        f"(\\d+(?:\\.\\d+)?) ?(?:kg|kgs|kilo|kilos)?(?: weight| dumbbell| db)?$', 1), '')"
    )
    has_unit = f"regexp_matches({words}, '(kg|kgs|kilo|kilos)$|^weight ')"
    strength = _band_strength(words)
    sql = f"""CASE
        WHEN {cell.text} IS NULL THEN NULL
        WHEN {words} IN ('', {_words(NO_RESISTANCE)}) THEN 'none'
        WHEN regexp_matches({words}, '^(band|spring) (light|medium|heavy)$') THEN replace({words}, ' ', '_')
        WHEN {kg} IS NOT NULL AND {has_unit}
            THEN 'weight_' || regexp_replace(CAST(CAST({kg} AS DOUBLE) AS VARCHAR), '\\.0$', '')
        WHEN regexp_matches({words}, '\\b(band|theraband|loop|tube|tubing)\\b') AND {strength} IS NOT NULL
            THEN 'band_' || {strength}
        WHEN regexp_matches({words}, '\\bsprings?\\b') AND {strength} IS NOT NULL THEN 'spring_' || {strength}
    END"""
    return Parsed(
        sql,
        [
            (
                f"{cell.text} IS NOT NULL AND {cell.value} IS NULL",
                f"'{cell.name} ' || {cell.shown} || ' is not recognised (use none, band_light, band_medium, band_heavy, "
                "spring_light, spring_medium, spring_heavy or a weight in kg such as 2 kg)'",
            )
        ],
    )


def level_number(cell: Cell) -> Parsed:
    """A level on the family's ladder: 2, '2.0', 'L2' and 'level 2' all mean level 2."""
    return Parsed(
        f"TRY_CAST(regexp_extract(lower({cell.text}), '^(?:level|lvl|l)? ?(\\d+)(?:\\.0+)?$', 1) AS INTEGER)",
        [
            (f"{cell.text} IS NOT NULL AND {cell.value} IS NULL", f"'{cell.name} ' || {cell.shown} || ' is not a level number'"),
            (f"{cell.value} NOT BETWEEN 1 AND 20", f"'{cell.name}=' || {cell.text} || ' is outside 1–20'"),
        ],
    )
