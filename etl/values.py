"""How one text cell becomes a typed value, and what is wrong with it when it cannot.

The validation query is built in layers (see `etl.rules`): each cell's text (`t_<column>`) is
parsed once (`v_<column>`), then checked. A parser here returns the SQL that parses a `Cell` and
the checks that quarantine a row, each a (condition, message) pair of SQL. Messages name the
column, quote the value and say what is allowed, so the person fixing the file knows what to
change.

Speed: a session log has millions of rows, so each parser tries the common spelling first with
cheap operations (an exact match, a cast) and only falls back to lower-casing, trimming and
regular expressions for the rows that need it. DuckDB evaluates CASE branches and AND/OR chains
only for the rows that reach them, so the slow paths cost nothing on clean rows. Words that mean
"not recorded" (`n/a`, `-`) are likewise only looked for in cells that failed to parse.

Text goes into SQL one way only, as a `literal`. Here it is always a constant of the code; what a file
brings (its name, its headers) is quoted the same way where a query takes it (`etl.read`, `etl.rules`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DateOrder = Literal["dmy", "mdy"]

# Cells that mean "not recorded" in exports from spreadsheets and clinic systems.
# `-nan` is how a NaN with its sign bit set is written out (a Parquet float column read as text).
MISSING_TOKENS = ("", "na", "n/a", "null", "nan", "-nan", "none", "-", "--", "?", "not recorded", "not done")


@dataclass(frozen=True)
class Cell:
    """One column of a row: its name, its text and its parsed value (columns of the query's layers)."""

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
        return quoted(self.text)


def literal(text: str) -> str:
    """`text` as a DuckDB string literal: between single quotes, each single quote in it doubled. That is
    the only escape a DuckDB string literal has (a backslash is a backslash), and this is the one way etl
    writes text into SQL. It is for SQL put together per rule or per file; SQL that is the same every
    time takes its values as bound parameters instead ($today, ?)."""
    return "'" + text.replace("'", "''") + "'"


def quoted(expression: str) -> str:
    """SQL for the expression's text between single quotes, as messages show values."""
    quote = literal("'")
    return f"{quote} || {expression} || {quote}"


@dataclass
class Parsed:
    sql: str
    checks: list[tuple[str, str]] = field(default_factory=list)


def _words(words: tuple[str, ...] | list[str]) -> str:
    """The words as literals, a list for IN (...)."""
    return ", ".join(literal(w) for w in words)


def is_missing(text: str, keep: tuple[str, ...] = ()) -> str:
    tokens = tuple(t for t in MISSING_TOKENS if t not in keep)
    return f"lower(trim({text})) IN ({_words(tokens)})"


def did_not_parse(cell: Cell, keep: tuple[str, ...] = ()) -> str:
    """SQL: the cell has text that did not parse, and is not a "not recorded" word (but those of `keep`)."""
    return f"{cell.text} IS NOT NULL AND {cell.value} IS NULL AND NOT {is_missing(cell.text, keep)}"


def unparsed(cell: Cell, what: str, keep: tuple[str, ...] = ()) -> tuple[str, str]:
    """The check every parser adds: the cell has text that did not parse (and is not a "not recorded"
    word, but those of `keep`, which mean something in the column). The message quotes the text and says
    `what` is wrong: "reps 'ten' is not a number"."""
    return did_not_parse(cell, keep), f"{literal(cell.name + ' ')} || {cell.shown} || {literal(' ' + what)}"


def required(cell: Cell) -> tuple[str, str]:
    return (
        f"{cell.value} IS NULL AND ({cell.text} IS NULL OR {is_missing(cell.text)})",
        literal(f"{cell.name} is missing"),
    )


def free_text(cell: Cell) -> Parsed:
    """Notes, names, goals: kept as written (trimmed); formula-like text stays text."""
    return Parsed(f"NULLIF(trim({cell.text}), '')")


def identifier(cell: Cell) -> Parsed:
    """An id that must match the roster; 'n/a' and '-' mean none was given."""
    return Parsed(f"CASE WHEN {is_missing(cell.text)} THEN NULL ELSE trim({cell.text}) END")


def date_formats(order: DateOrder) -> list[str]:
    """Other accepted spellings. Slashed dates follow one configured order for the whole load:
    03/04/2025 is 3 April (day-first, the default) or 4 March (month-first), never guessed row by row.
    Dashed and dotted dates are day-first whatever the order (docs/input-formats.md). A two-digit
    year (dd/mm/yy) is written out in full before these are tried (see `date`)."""
    day_month = ["%d/%m/%Y", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"]
    slashed = (
        day_month
        if order == "dmy"
        else [f.replace("%d", "#").replace("%m", "%d").replace("#", "%m") for f in day_month]
    )
    iso = [
        "%Y-%m-%d",
        "%Y/%m/%d",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    return iso + slashed + ["%d-%m-%Y", "%d.%m.%Y"]  # dashed and dotted dates are day-first everywhere


# A time-zone suffix (Z, +01:00) is dropped: the date is the one the clinic wrote down. (Parsing
# with %z in DuckDB 2.0 also rolls impossible dates over, 31 February becoming 3 March.)
_TIME_ZONE = literal(r"([T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?) ?(?:Z|[+-]\d{2}(?::?\d{2})?)$")
_TIME = literal(r"\1")  # what a match is replaced with: its time, without the zone

# A two-digit year is 2000 + yy (docs/input-formats.md): 01/06/26 (or 1/6/26, with or without a time)
# is 1 June 2026. The year is written out in full before parsing, because DuckDB's %y pivots at 69
# (01/06/75 would be 1975) and its %Y reads "26" as the year 26.
TWO_DIGIT_YEARS_FROM = 2000
_TWO_DIGIT_YEAR = literal(r"^(\d{1,2}/\d{1,2}/)(\d{2})( \d{1,2}:\d{2}(?::\d{2})?)?$")

# Dates outside these years are quarantined, not loaded: a year of three digits (01/06/026), one
# before 1900 or one of five digits is a typing mistake (docs/input-formats.md).
FIRST_YEAR, LAST_YEAR = 1900, 9999


def _within_years(day: str) -> str:
    """SQL for `day` when its year is FIRST_YEAR..LAST_YEAR, else NULL, with `day` (a parse) written once:
    a date outside is clamped to the day just outside the bounds, then nulled."""
    before, after = f"DATE {literal(f'{FIRST_YEAR - 1}-12-31')}", f"DATE {literal(f'{LAST_YEAR + 1}-01-01')}"
    return f"nullif(nullif(least(greatest({day}, {before}), {after}), {before}), {after})"


def date(cell: Cell, order: DateOrder) -> Parsed:
    """The two common spellings are parsed straight away: dd/mm/yyyy (or mm/dd/yyyy) with one format,
    ISO (with or without a time) with DuckDB's strict date cast. Only other spellings pay for the
    list of formats, and so do cells the common ones read with a year outside 1900-9999 (the date
    cast reads 1/6/26 as 0001-06-26)."""
    t = cell.text
    slashed = "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y"
    common = (
        f"CASE WHEN substr({t}, 3, 1) = '/' THEN CAST(try_strptime({t}, {literal(slashed)}) AS DATE) "
        f"ELSE TRY_CAST({t} AS DATE) END"
    )
    formats = _words(date_formats(order))
    century = literal(rf"\1{TWO_DIGIT_YEARS_FROM // 100}\2\3")
    spelled = f"regexp_replace(regexp_replace(trim({t}), {_TIME_ZONE}, {_TIME}), {_TWO_DIGIT_YEAR}, {century})"
    general = f"CAST(try_strptime({spelled}, [{formats}]) AS DATE)"
    hint = "YYYY-MM-DD or day/month/year" if order == "dmy" else "YYYY-MM-DD or month/day/year"
    # The message is only put together for a cell that gave no date: a date was read, but its year is
    # out of bounds, or no date at all. (As a condition of its own, the second parse would run on
    # every row: DuckDB may evaluate the terms of an AND in any order.)
    out_of_years = f"coalesce({general}, {common}) IS NOT NULL"
    message = (
        f"{literal(cell.name + ' ')} || {cell.shown} || CASE WHEN {out_of_years} "
        f"THEN {literal(f' has a year outside {FIRST_YEAR}–{LAST_YEAR} (write the year with four digits)')} "
        f"ELSE {literal(f' is not a date (use {hint})')} END"
    )
    return Parsed(
        # The years are checked on the whole, not on `general`: a function around the second argument
        # of coalesce makes DuckDB evaluate it for every row (20 times slower on clean rows).
        _within_years(f"coalesce({_within_years(common)}, {general})"),
        [(did_not_parse(cell), message)],
    )


def iso(value: str) -> str:
    return f"strftime({value}, '%Y-%m-%d')"


def not_in_future(cell: Cell) -> tuple[str, str]:
    return (
        f"{cell.value} > $today",
        f"{literal(cell.name + ' ')} || {iso(cell.value)} || {literal(' is in the future (today is ')} || "
        f"{iso('$today')} || {literal(')')}",
    )


def number(text: str) -> str:
    """A number written with a decimal point. NaN is "not recorded" (NULL), not a number to check: the
    cast reads the word `nan` as NaN, and so arrives a NaN of a Parquet float column (as `nan`, or
    `-nan` when its sign bit is set). DuckDB counts NaN equal to itself, so one nullif catches them all."""
    return f"nullif(TRY_CAST({text} AS DOUBLE), 'NaN'::DOUBLE)"


def decimal(text: str) -> str:
    """A decimal number; a decimal comma (3,5) is read as a decimal point."""
    comma = number(f"replace({text}, ',', '.')")
    return f"CASE WHEN contains({text}, ',') THEN {comma} ELSE {number(text)} END"


def _about(cell: Cell, what: str) -> str:
    """A message about a number as written (trimmed): "reps=600 is more than 500, which cannot be right"."""
    return f"{literal(cell.name + '=')} || trim({cell.text}) || {literal(' ' + what)}"


def _outside(cell: Cell, low: int, high: int) -> tuple[str, str]:
    return f"{cell.value} NOT BETWEEN {low} AND {high}", _about(cell, f"is outside {low}–{high}")


def _not_whole(cell: Cell) -> tuple[str, str]:
    return f"{cell.value} <> floor({cell.value})", _about(cell, "is not a whole number")


def _number_between(cell: Cell, low: int, high: int, *more: tuple[str, str]) -> Parsed:
    """A number from `low` to `high`, and whatever else the checks of `more` ask of it."""
    return Parsed(decimal(cell.text), [unparsed(cell, "is not a number"), _outside(cell, low, high), *more])


def amount(cell: Cell, high: float, whole: bool, unit: str = "") -> Parsed:
    """A count or a duration: never negative, and not beyond what a person could do."""
    v = cell.value
    checks = [
        unparsed(cell, "is not a number"),
        (f"{v} < 0", _about(cell, "is negative")),
        (f"{v} > {high}", _about(cell, f"is more than {high:g}{unit}, which cannot be right")),
    ]
    if whole:
        checks.append(_not_whole(cell))
    return Parsed(decimal(cell.text), checks)


def whole_between(cell: Cell, low: int, high: int) -> Parsed:
    return _number_between(cell, low, high, _not_whole(cell))


def pain(cell: Cell) -> Parsed:
    """NPRS 0-10 in whole or half points (docs/input-formats.md)."""
    halves = f"{cell.value} * 2"
    not_half = (f"{halves} <> floor({halves})", _about(cell, "is not a whole or half point on the 0–10 scale"))
    return _number_between(cell, 0, 10, not_half)


def rating(cell: Cell) -> Parsed:
    """Borg CR-10 effort: 0-10, decimals allowed."""
    return _number_between(cell, 0, 10)


TRUE_WORDS = ("true", "t", "yes", "y", "1", "attended", "present", "x", "came")
FALSE_WORDS = (
    "false",
    "f",
    "no",
    "n",
    "0",
    "missed",
    "absent",
    "dna",
    "did not attend",
    "cancelled",
    "no show",
)


def yes_no(cell: Cell) -> Parsed:
    t = cell.text
    common = " ".join(
        f"WHEN {literal(form)} THEN {'TRUE' if word in TRUE_WORDS else 'FALSE'}"
        for word in ("yes", "no", "true", "false", "y", "n", "1", "0")
        for form in dict.fromkeys((word, word.capitalize(), word.upper()))
    )
    return Parsed(
        f"""CASE {t} {common}
                 ELSE CASE WHEN lower(trim({t})) IN ({_words(TRUE_WORDS)}) THEN TRUE
                           WHEN lower(trim({t})) IN ({_words(FALSE_WORDS)}) THEN FALSE END END""",
        [unparsed(cell, "is not yes/no")],
    )


def choice(cell: Cell, synonyms: dict[str, tuple[str, ...]]) -> Parsed:
    """One of a fixed set of words; listed synonyms are mapped, case and punctuation ignored."""
    t = cell.text
    key = f"trim(regexp_replace(lower({t}), '[^a-z0-9:]+', ' ', 'g'))"
    whens = " ".join(
        f"WHEN {key} IN ({_words((canonical.lower(), *words))}) THEN {literal(canonical)}"
        for canonical, words in synonyms.items()
    )
    return Parsed(
        f"CASE WHEN {t} IN ({_words(list(synonyms))}) THEN {t} {whens} END",
        [unparsed(cell, f"is not one of {', '.join(synonyms)}")],
    )


def _band_strength(words: str) -> str:
    """Strength words, and Theraband colours in the maker's order: yellow, red, green, blue, black."""
    return f"""CASE
        WHEN regexp_matches({words}, '\\b(extra light|x light|yellow|tan|light|lite|easy)\\b') THEN 'light'
        WHEN regexp_matches({words}, '\\b(medium|med|red|moderate)\\b') THEN 'medium'
        WHEN regexp_matches({words}, '\\b(heavy|hard|strong|green|blue|black|silver|gold)\\b') THEN 'heavy'
    END"""


NO_RESISTANCE = (
    "none",
    "no",
    "nil",
    "bodyweight",
    "body weight",
    "bw",
    "unloaded",
    "no band",
    "no resistance",
)
RESISTANCES = tuple(f"{kind}_{strength}" for kind in ("band", "spring") for strength in ("light", "medium", "heavy"))


def resistance(cell: Cell) -> Parsed:
    """Free text normalised to none, band_*, spring_* or weight_<kg> (docs/input-formats.md)."""
    t = cell.text
    words = f"trim(regexp_replace(lower({t}), '[^a-z0-9.]+', ' ', 'g'))"
    kg = (
        f"NULLIF(regexp_extract({words}, '^(?:weight |dumbbell |db |ankle weight |kettlebell |kb )?"
        f"(\\d+(?:\\.\\d+)?) ?(?:kg|kgs|kilo|kilos)?(?: weight| dumbbell| db)?$', 1), '')"
    )
    has_unit = f"regexp_matches({words}, '(kg|kgs|kilo|kilos)$|^weight ')"
    strength = _band_strength(words)
    sql = f"""CASE
        WHEN {t} IN ({_words(("none", *RESISTANCES))}) THEN {t}
        WHEN {words} IN ({_words(NO_RESISTANCE)}) OR trim({t}) IN ('-', '--') THEN 'none'
        WHEN regexp_matches({words}, '^(band|spring) (light|medium|heavy)$') THEN replace({words}, ' ', '_')
        WHEN {kg} IS NOT NULL AND {has_unit}
            THEN 'weight_' || regexp_replace(CAST(CAST({kg} AS DOUBLE) AS VARCHAR), '\\.0$', '')
        WHEN regexp_matches({words}, '\\b(band|theraband|loop|tube|tubing)\\b') AND {strength} IS NOT NULL
            THEN 'band_' || {strength}
        WHEN regexp_matches({words}, '\\bsprings?\\b') AND {strength} IS NOT NULL THEN 'spring_' || {strength}
    END"""
    allowed = f"none, {', '.join(RESISTANCES)} or a weight in kg such as 2 kg"
    return Parsed(sql, [unparsed(cell, f"is not recognised (use {allowed})", keep=("none", "-", "--"))])


def level_number(cell: Cell) -> Parsed:
    """A level on the family's ladder: 2, '2.0', 'L2' and 'level 2' all mean level 2; 2.5 is no level (DuckDB's
    cast to INTEGER would round it to 3 without a word, so a whole number is taken only when it is one)."""
    t = cell.text
    spelled = f"TRY_CAST(regexp_extract(lower(trim({t})), '^(?:level|lvl|l)? ?(\\d+)(?:\\.0+)?$', 1) AS INTEGER)"
    whole = f"CASE WHEN TRY_CAST({t} AS DOUBLE) = TRY_CAST({t} AS INTEGER) THEN TRY_CAST({t} AS INTEGER) END"
    return Parsed(
        f"coalesce({whole}, {spelled})",
        [
            unparsed(cell, "is not a level number"),
            _outside(cell, 1, 20),
        ],
    )
