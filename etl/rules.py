"""The validation rules of docs/input-formats.md, one query per kind of record.

A file's rows go through one pass: every cell is trimmed (`t_*`), parsed (`v_*`), the row is joined
to the roster it refers to, and each rule adds its message to the row's `reason`. Every row is
inserted, with a reason or without; the public views show the rows without one, the `quarantine`
view the rows with one. Checks that need the other rows of the file (duplicates) run afterwards,
in `etl.load`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from etl import values
from etl.columns import RECORD_KINDS
from etl.instruments import (
    INSTRUMENTS,
    LEFS_ITEM_MAX,
    LEFS_ITEMS,
    ODI_SECTION_MAX,
    ODI_SECTIONS,
    PSFS_MAX_ACTIVITIES,
    PSFS_MIN_ACTIVITIES,
)
from etl.values import Cell, DateOrder, Parsed, literal

Parser = Callable[[Cell], Parsed]


@dataclass(frozen=True)
class Field:
    parse: Parser
    future_allowed: bool = True


SESSION_TYPES = {
    "studio": ("class", "group", "group class", "reformer", "mat", "mat class", "pilates class"),
    "home": ("home programme", "home program", "hep", "app", "home exercise", "at home"),
    "clinic": ("1:1", "1 1", "one to one", "physio", "clinic visit", "appointment", "in clinic"),
}
SIDES = {
    "L": ("l", "left", "lt", "left side"),
    "R": ("r", "right", "rt", "right side"),
    "both": ("b", "bilateral", "bilat", "l r", "lr", "l and r", "both sides", "both legs"),
}
FORMS = {"good": (), "fair": (), "poor": ()}
ROLES = {
    "physio": ("physiotherapist", "physical therapist", "pt", "physio therapist"),
    "instructor": ("pilates instructor", "teacher", "trainer"),
    "admin": ("administrator", "reception", "receptionist", "manager"),
}
REGIONS = {
    "hip": ("hips",),
    "knee": ("knees",),
    "low_back": ("low back", "lower back", "lumbar", "back", "lbp", "low back pain"),
    "other": (),
}


def _fields(kind: str, order: DateOrder) -> dict[str, Field]:
    """How each column of a kind is parsed (docs/input-formats.md). Columns that refer to the roster are only
    trimmed here: the join to the roster checks them (see `Reference`)."""
    fields = _parsers(kind, order)
    for ref in REFERENCES.get(kind, []):
        fields[ref.column] = Field(lambda c: Parsed(f"trim({c.text})"))
    return fields


def _parsers(kind: str, order: DateOrder) -> dict[str, Field]:
    date = Field(lambda c: values.date(c, order), future_allowed=False)
    planned_date = Field(lambda c: values.date(c, order))  # a class or episode may start next week
    text = Field(values.free_text)
    code = Field(values.identifier)
    if kind == "staff":
        return {
            "staff_id": code,
            "name": text,
            "role": Field(lambda c: values.choice(c, ROLES)),
            "email": text,
        }
    if kind == "cohorts":
        return {
            "cohort_id": code,
            "name": text,
            "instructor_id": code,
            "start_date": planned_date,
            "weeks": Field(lambda c: values.whole_between(c, 1, 104)),
            "schedule": text,
        }
    if kind == "clients":
        return {
            "client_id": code,
            "start_date": planned_date,
            "region": Field(lambda c: values.choice(c, REGIONS)),
            "sessions_per_week": Field(lambda c: values.whole_between(c, 1, 7)),
            "display_name": text,
            "birth_year": Field(lambda c: values.whole_between(c, 1900, 2030)),
            "clinician_id": code,
            "cohort_id": code,
            "end_date": planned_date,
            "goals": text,
        }
    if kind == "session_log":
        return {
            "client_id": code,
            "session_date": date,
            "attended": Field(values.yes_no),
            "session_type": Field(lambda c: values.choice(c, SESSION_TYPES)),
            "exercise": text,
            "level": Field(values.level_number),
            "sets": Field(lambda c: values.amount(c, 20, whole=True)),
            "reps": Field(lambda c: values.amount(c, 500, whole=True)),
            "hold_s": Field(lambda c: values.amount(c, 3600, whole=False, unit=" s")),
            "resistance": Field(values.resistance),
            "side": Field(lambda c: values.choice(c, SIDES)),
            "pain_before": Field(values.pain),
            "pain_during": Field(values.pain),
            "pain_after": Field(values.pain),
            "pain_next_day": Field(values.pain),
            "rpe": Field(values.rating),
            "form": Field(lambda c: values.choice(c, FORMS)),
            "notes": text,
            "staff_id": code,
        }
    return {
        "client_id": code,
        "measured_on": date,
        "instrument": Field(_instrument),
        "score": Field(_score),
        "items": Field(_items),
    }


def _score(cell: Cell) -> Parsed:
    return Parsed(values.decimal(cell.text), [values.unparsed(cell, "is not a number")])


def _instrument(cell: Cell) -> Parsed:
    key = f"trim(regexp_replace(upper({cell.text}), '[^A-Z0-9]+', '_', 'g'), '_')"
    codes = [i.code for i in INSTRUMENTS]
    whens = " ".join(
        f"WHEN {key} IN ({', '.join(literal(n) for n in (i.code, *i.synonyms))}) THEN {literal(i.code)}"
        for i in INSTRUMENTS
    )
    return Parsed(
        f"CASE WHEN {cell.text} IN ({', '.join(literal(c) for c in codes)}) THEN {cell.text} {whens} END",
        [values.unparsed(cell, f"is not a known instrument ({', '.join(codes)})")],
    )


def _items(cell: Cell) -> Parsed:
    """Item responses as a list: JSON ([4, 2, null]) or separated by , ; or |. Blank answers, and answers
    written with a "not recorded" word (`n/a`, `nan`), are NULL. A cell that holds nothing but such a
    word (`n/a`), or an empty list (`[]`), gives no items (NULL), like an empty cell."""
    listed = f"trim({cell.text}, '[] ')"
    parts = f"regexp_split_to_array({listed}, '\\s*[,;|]\\s*')"
    blank = values.is_missing("x")
    answer = values.number("trim(x)")
    return Parsed(
        f"CASE WHEN {values.is_missing(listed)} THEN NULL "
        f"ELSE list_transform({parts}, lambda x: CASE WHEN {blank} THEN NULL ELSE {answer} END) END",
        [
            (
                f"len(list_filter({parts}, lambda x: NOT ({blank}) AND {answer} IS NULL)) > 0",
                f"'items ' || {cell.shown} || ' are not all numbers'",
            )
        ],
    )


@dataclass(frozen=True)
class Source:
    """Where a file's rows come from, for the validation query.

    The relation names the file's columns by position (c0, c1, ...), so that no header a file
    may have can clash with the query's own names; `headers` keeps the file's own names.
    """

    relation: str  # a table function call or a registered relation name
    headers: list[str]  # the file's column names, in order: column i is c{i}
    columns: dict[str, int]  # canonical column -> position of the file column that holds it
    has_source_row: bool  # xlsx, JSON Lines and Parquet know their row numbers; CSV rows are numbered later
    load_id: str  # SQL giving each row its load (one relation may read several files)
    source_file: str  # SQL giving each row its file's name
    # Columns of the relation, if it has them: a reason found before any rule (a cell over the length limit, a
    # line that is not JSON), which quarantines the row with that reason alone and none of its cells stored, and
    # the row as the quarantine then keeps it (etl.read bounds both).
    problem: str | None = None
    problem_raw: str | None = None


# Joins and checks that look beyond the row's own cells.
@dataclass(frozen=True)
class Reference:
    """A column that must name a record of the roster: checked by a join to the roster's view."""

    column: str
    view: str
    alias: str
    key: str
    roster: str  # how a message calls it

    @property
    def join(self) -> str:
        return f"LEFT JOIN {self.view} AS {self.alias} ON {self.alias}.{self.key} = p.v_{self.column}"

    @property
    def found(self) -> str:
        return f"{self.alias}.{self.key}"

    def checks(self, required: bool) -> list[tuple[str, str]]:
        # 'n/a' or '-' in an id column means none was given; they are only looked for when the
        # roster lookup fails, so clean rows never pay for it.
        not_given = f"({self.found} IS NULL AND {values.is_missing(f'p.t_{self.column}')})"
        checks = [
            (
                f"p.v_{self.column} IS NOT NULL AND {self.found} IS NULL "
                f"AND NOT {values.is_missing(f'p.t_{self.column}')}",
                f"{literal(self.column + ' ')} || {values.quoted(f'p.v_{self.column}')} || "
                f"{literal(f' is not in the {self.roster}')}",
            )
        ]
        if required:
            checks.insert(0, (f"p.v_{self.column} IS NULL OR {not_given}", literal(f"{self.column} is missing")))
        return checks

    def output(self) -> str:
        not_given = f"r_{self.column} IS NULL AND {values.is_missing(f't_{self.column}')}"
        return f"CASE WHEN {not_given} THEN NULL ELSE v_{self.column} END"


def _staff(column: str) -> Reference:
    return Reference(column, "staff", "ref_staff", "staff_id", "staff list")


_CLIENT = Reference("client_id", "clients", "ref_client", "client_id", "client roster")
REFERENCES: dict[str, list[Reference]] = {
    "cohorts": [_staff("instructor_id")],
    "clients": [
        _staff("clinician_id"),
        Reference("cohort_id", "cohorts", "ref_cohort", "cohort_id", "cohort list"),
    ],
    "session_log": [_CLIENT, _staff("staff_id")],
    "measures": [_CLIENT],
}
_OTHER_JOINS = {"measures": "LEFT JOIN instruments AS ref_instrument ON ref_instrument.code = p.v_instrument"}


def _row_checks(kind: str) -> list[tuple[str, str]]:
    required = set(RECORD_KINDS[kind].required)
    checks = [c for ref in REFERENCES.get(kind, []) for c in ref.checks(ref.column in required)]
    if kind == "clients":
        checks.append(
            (
                "p.v_end_date < p.v_start_date",
                f"'end_date ' || {values.iso('p.v_end_date')} || ' is before start_date ' || "
                f"{values.iso('p.v_start_date')}",
            )
        )
    if kind == "session_log":
        before_start = literal(" is before the client's start date ")
        checks.append(
            (
                "p.v_session_date < ref_client.start_date",
                f"'session_date ' || {values.iso('p.v_session_date')} || {before_start} || "
                f"{values.iso('ref_client.start_date')}",
            )
        )
    if kind == "measures":
        checks += _measure_checks()
    return checks


def _scored_from_items() -> str:
    """ODI, LEFS and PSFS scored from their items (docs/input-formats.md); NULL when they cannot be."""
    answered = "len(list_filter(v_items, lambda x: x IS NOT NULL))"
    total = "list_sum(v_items)"
    return f"""CASE
        WHEN v_items IS NULL THEN NULL
        WHEN v_instrument = 'ODI' AND len(v_items) = {ODI_SECTIONS} AND {answered} >= {ODI_SECTIONS - 1}
            THEN round({total} / ({ODI_SECTION_MAX} * {answered}) * 100, 1)
        WHEN v_instrument = 'LEFS' AND len(v_items) = {LEFS_ITEMS} AND {answered} = {LEFS_ITEMS} THEN {total}
        WHEN v_instrument = 'PSFS' AND {answered} BETWEEN {PSFS_MIN_ACTIVITIES} AND {PSFS_MAX_ACTIVITIES}
             AND len(v_items) = {answered} THEN round({total} / {answered}, 2)
    END"""


# Scores are binary floating point, in which decimals are inexact: 40.1 - 40.0 is 0.10000000000000142,
# 5.1 - 3.1 is 1.9999999999999996. Two numbers closer than TOLERANCE count as equal, so a difference that
# is exactly a threshold as written (0.1 here, 2 points of pain in the analytics) is not lost to floating
# point. It is the code's one tolerance: analytics.definitions imports it from here (the layers import
# downwards, analytics -> etl), for its changes of pain and function, its rounding and its adherence.
TOLERANCE = 1e-9

# A score given with items must agree with them within 0.1 (docs/input-formats.md): a score 0.1 from
# its items (as written) agrees.
SCORE_AGREEMENT = 0.1


def _measure_checks() -> list[tuple[str, str]]:
    answered = "len(list_filter(p.v_items, lambda x: x IS NOT NULL))"
    unanswered = f"(len(p.v_items) - {answered})"
    score = "coalesce(p.v_score, scored)"

    def out_of(limit: int) -> str:
        return f"len(list_filter(p.v_items, lambda x: x < 0 OR x > {limit})) > 0"

    return [
        # A measure needs a score or its items: both empty (or "not recorded") is a missing score.
        (
            f"p.v_score IS NULL AND p.v_items IS NULL AND (p.t_score IS NULL OR {values.is_missing('p.t_score')})",
            "'score is missing'",
        ),
        (
            f"p.v_instrument = 'ODI' AND len(p.v_items) <> {ODI_SECTIONS}",
            f"{literal(f'ODI needs {ODI_SECTIONS} section scores, got ')} || len(p.v_items)",
        ),
        (
            f"p.v_instrument = 'ODI' AND {out_of(ODI_SECTION_MAX)}",
            literal(f"ODI section scores must be 0–{ODI_SECTION_MAX}"),
        ),
        (
            f"p.v_instrument = 'ODI' AND len(p.v_items) = {ODI_SECTIONS} AND {unanswered} > 1",
            f"'ODI has ' || {unanswered} || ' unanswered sections; at most 1 may be missing'",
        ),
        (
            f"p.v_instrument = 'LEFS' AND len(p.v_items) <> {LEFS_ITEMS}",
            f"{literal(f'LEFS needs {LEFS_ITEMS} item scores, got ')} || len(p.v_items)",
        ),
        (
            f"p.v_instrument = 'LEFS' AND {out_of(LEFS_ITEM_MAX)}",
            literal(f"LEFS item scores must be 0–{LEFS_ITEM_MAX}"),
        ),
        (
            f"p.v_instrument = 'LEFS' AND len(p.v_items) = {LEFS_ITEMS} AND {unanswered} > 0",
            f"'LEFS has ' || {unanswered} || {literal(f' unanswered items; all {LEFS_ITEMS} are needed')}",
        ),
        (
            f"p.v_instrument = 'PSFS' AND p.v_items IS NOT NULL AND NOT ({answered} BETWEEN {PSFS_MIN_ACTIVITIES} "
            f"AND {PSFS_MAX_ACTIVITIES} AND len(p.v_items) = {answered})",
            literal(f"PSFS needs {PSFS_MIN_ACTIVITIES}–{PSFS_MAX_ACTIVITIES} activity ratings, got ")
            + f" || {answered}",
        ),
        ("p.v_instrument = 'PSFS' AND " + out_of(10), "'PSFS activity ratings must be 0–10'"),
        (
            "p.v_score IS NULL AND p.v_items IS NOT NULL AND scored IS NULL "
            "AND p.v_instrument NOT IN ('ODI', 'LEFS', 'PSFS')",
            "p.v_instrument || ' is not scored from items: give its score'",
        ),
        (
            "p.v_score IS NOT NULL AND scored IS NOT NULL "
            f"AND abs(p.v_score - scored) > {SCORE_AGREEMENT} + {TOLERANCE}",
            "'score ' || p.t_score || ' does not match its items (they score ' || scored || ')'",
        ),
        (
            f"{score} NOT BETWEEN ref_instrument.low AND ref_instrument.high",
            f"p.v_instrument || ' score ' || {score} || ' is outside ' "
            "|| ref_instrument.low || '–' || ref_instrument.high",
        ),
    ]


# Columns of each kind's table, in order (after load_id, source_file, source_row).
def table_columns(kind: str) -> list[str]:
    return [c.name for c in RECORD_KINDS[kind].columns]


def _stored(kind: str, column: str, referenced: dict[str, Reference]) -> str:
    """What is stored for a column: its parsed value, the score computed from items when none was
    given, or NULL for an id written as 'n/a'."""
    if (kind, column) == ("measures", "score"):
        return "coalesce(v_score, scored)"
    if column in referenced:
        return referenced[column].output()
    return f"v_{column}"


def validation_insert(kind: str, source: Source, order: DateOrder) -> str:
    """INSERT every row of a file into `<kind>_rows`, each with the reasons it is quarantined (or NULL).

    Parameter: $today (for the kinds whose dates may not lie in the future).
    """
    fields = _fields(kind, order)
    cells = {name: Cell(name) for name in fields}
    kept = f"CASE WHEN {source.problem} IS NULL THEN c{{}} END" if source.problem else "c{}"
    texts = ",\n".join(
        f"NULLIF({kept.format(source.columns[name])}, '') AS {cells[name].text}"
        if name in source.columns
        else f"NULL::VARCHAR AS {cells[name].text}"
        for name in fields
    )
    parsed = {name: f.parse(cells[name]) for name, f in fields.items()}
    typed = ",\n".join(f"{p.sql} AS {cells[name].value}" for name, p in parsed.items())

    referenced = {ref.column: ref for ref in REFERENCES.get(kind, [])}
    checks = [values.required(cells[name]) for name in RECORD_KINDS[kind].required if name not in referenced]
    for name, p in parsed.items():
        checks += p.checks
        if not fields[name].future_allowed:
            checks.append(values.not_in_future(cells[name]))
    checks += _row_checks(kind)
    # The messages are only put together for rows that fail a check.
    failed = " OR ".join(f"({c})" for c, _ in checks)
    messages = ",\n".join(f"CASE WHEN {c} THEN {m} END" for c, m in checks)
    reason = f"CASE WHEN {failed} THEN concat_ws('; ',\n{messages}) END"
    if source.problem:
        reason = f"CASE WHEN p.{source.problem} IS NOT NULL THEN p.{source.problem} ELSE {reason} END"

    outputs = table_columns(kind)
    output_values = [_stored(kind, column, referenced) for column in outputs]
    raw = "json_object(" + ", ".join(f"{literal(h)}, c{i}" for i, h in enumerate(source.headers)) + ")"
    if source.problem_raw:
        raw = f"coalesce({source.problem_raw}, CAST({raw} AS VARCHAR))"
    row_hash = "hash(" + ", ".join(output_values) + ")"
    source_row = "source_row" if source.has_source_row else "NULL"
    found = "".join(f", {ref.found} AS r_{ref.column}" for ref in referenced.values())
    joins = "\n".join([ref.join for ref in referenced.values()] + [_OTHER_JOINS.get(kind, "")])
    scored = f", {_scored_from_items()} AS scored" if kind == "measures" else ""
    return f"""
        INSERT INTO {kind}_rows (load_id, source_file, source_row, {", ".join(outputs)}, row_hash, reason, raw)
        SELECT {source.load_id}, {source.source_file}, {source_row}, {", ".join(output_values)}, {row_hash}, reason,
               CASE WHEN reason IS NOT NULL THEN {raw} END
        FROM (
            SELECT p.*{found}, {reason} AS reason
            FROM (
                SELECT *{scored}
                FROM (SELECT *, {typed} FROM (SELECT *, {texts} FROM {source.relation}))
            ) AS p
            {joins}
        )
    """
