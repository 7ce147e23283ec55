"""Differential test: the DuckDB fast path (`analytics.metrics.Analytics`) against the plain pandas
references (`tests.oracles.reference` for docs/metrics.md, `tests.oracles.reference_progressions` for the
recommendations of docs/recommendations.md) on random, seeded warehouses and on the demo warehouse.

Each warehouse is written as CSV files in the docs/input-formats.md formats, loaded with the real loader (nothing
may be quarantined: the generator makes valid input), and built to hit the edge cases of docs/metrics.md on
purpose: partial current weeks, episodes that ended or end later, a client starting after the
analysis day, two sessions of different types on one day, sessions without a type, missed sessions,
weeks over target and weeks missed, pain only before / only after / none, flares, red-flag notes
(negated and not), NPRS scores before the episode, repeated scores on one day, single scores.

Every seed: 4-14 clients started up to ~120 days before the newest record, 1-7 sessions a week, one
client started in the last 3 days, some episodes ended before today, some ending later, some open;
clients with and without a cohort; measures of every instrument (none, one, or a series; changes
sometimes exactly the MCID/MDC). By seed:
- seed % 4 == 3 (3, 7, 11, 15, 19, 23): the analysis day is 10 days before the newest record, so
  later sessions and measures must be ignored; otherwise it is the newest record's day;
- seed % 3 != 1: one client starts after the analysis day (excluded by both);
- seed % 3 == 0: a cohort with one member (no interval);
- seed % 6 == 5 (5, 11, 17, 23): a narrowed scope (some clients, one not started, one unknown id).

Exercises (docs/recommendations.md): each client follows 1-4 ladders of the library, a stretch and sometimes an
exercise the library does not know. Names are the levels' names and aliases in odd case and
spacing ("Single-Leg  Bridge"), sometimes another name or spelling on the other side; the level
moves up and down over time, sometimes two levels of a family share a session; unilateral levels
have an L and an R row (sometimes one); sets, reps and holds are sometimes missing, below the target
or above the ceiling, or in the other unit; RPE 8+, poor form, pain that did not settle. About 40 %
of the clients are comfortable (low pain that settles, full doses, steady attendance), so the dose
and level steps are reached. seed % 3 == 2: clinicians accept or override some recommendations
(another dose, a tempo, a level up or down), dated on or after the newest exposure, before it, or
after the analysis day, and every recommended slower tempo is accepted some days back.

Counts and text must be equal; floats agree to 1e-9 (missing equals missing). The recommendations'
decision, next exercise, level and dose and the exposures at the current level must be equal.
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.decisions import Prescription, disagreement, read_decisions, record
from analytics.definitions import DECISIONS, FLAGS, REVIEW_OUTCOMES
from analytics.metrics import (
    CLIENT_METRICS_COLUMNS,
    CLIENT_WEEKLY_COLUMNS,
    COHORT_WEEKLY_COLUMNS,
    FUNCTION_CHANGE_COLUMNS,
    Analytics,
)
from analytics.reviews import read_reviews, record_review
from analytics.scope import Scope
from analytics.today import newest_session_date
from etl.library import Family, Level, ladder_of, load_library, name_key
from etl.warehouse import connect_read_only
from tests.conftest import SESSION_HEADER, load_files, query
from tests.oracles.reference import read_views, reference_metrics
from tests.oracles.reference_progressions import COLUMNS as RECOMMENDATION_COLUMNS
from tests.oracles.reference_progressions import reference_recommendations

SEEDS = range(24)

# Which frame, its keys, its columns; the columns compared exactly (the rest are floats).
FRAMES = {
    "client_metrics": (["client_id"], CLIENT_METRICS_COLUMNS),
    "client_weekly": (["client_id", "program_week"], CLIENT_WEEKLY_COLUMNS),
    "function_change": (["client_id", "instrument"], FUNCTION_CHANGE_COLUMNS),
    "cohort_weekly": (["cohort_id", "program_week"], COHORT_WEEKLY_COLUMNS),
    "recommendations": (["client_id", "ladder"], RECOMMENDATION_COLUMNS),
}
EXACT = {
    *RECOMMENDATION_COLUMNS,
    "client_id",
    "cohort_id",
    "program_week",
    "attended",
    "target",
    "n",
    "pain_status",
    "flags",
    "flag_evidence",
    "status",
    "instrument",
}
SHOWN_ROWS = 8  # differing rows shown per column

# --- the random warehouse ---------------------------------------------------------------------------

STAFF = [
    ("S-1", "Ana Costa", "physio"),
    ("S-2", "Ben Okafor", "instructor"),
    ("S-3", "Cara Lee", "physio"),
    ("S-4", "Dev Patel", "instructor"),
    ("S-5", "Eve Novak", "admin"),
]
PHYSIOS = ["S-1", "S-3"]
INSTRUCTORS = ["S-2", "S-4"]
LIBRARY = load_library()
LADDER_FAMILIES = [family for family in LIBRARY.values() if not family.stretch]
STRETCHES = [level for family in LIBRARY.values() if family.stretch for level in family.levels]
UNKNOWN_EXERCISES = ["Foam roller", "wall angels", "Cat-Cow", "reformer footwork"]
LEVEL_OF_NAME = {
    name_key(name): (ladder_of(level, family), level.level)
    for family in LIBRARY.values()
    for level in family.levels
    for name in (level.name, *level.aliases)
}
HOLD_LEVELS = {level.name for family in LIBRARY.values() for level in family.levels if level.dose.hold_s is not None}
SESSION_TYPES = ["studio", "home", "clinic", ""]  # "" is a session without a type (NULL)
EVERYDAY_NOTES = [
    "felt good",
    "Tired after work, kept it light",
    "Easier than last week",
    "hamstrings tight",
    "Zoë says the stairs are easier",
    "=SUM(A1:A2) copied from a spreadsheet",
    "a note, with a comma",
]
RED_FLAG_NOTES = ["Some swelling after class", "knee gave way on the stairs", "Numb tingling in the foot", "fell"]
NEGATED_NOTES = ["No swelling today", "denies numbness", "no signs of instability", "without any tingling"]
MIXED_NOTES = ["no swelling but numb tingling", "No swelling. Woke at night, knee swollen"]

# instrument: (low, high, decimals, typical step, MCID/MDC used by the tests to land on a threshold)
MEASURES = {
    "NPRS": (0, 10, 1, 1.5, None),
    "ODI": (0, 100, 0, 8, 10),
    "LEFS": (0, 80, 0, 6, 9),
    "PSFS": (0, 10, 2, 1.5, 2),
    "HOOS_JR": (0, 100, 1, 12, 18),
    "KOOS_JR": (0, 100, 1, 10, 15),
    "CST30": (0, 60, 0, 2, 2.5),
    "TUG_S": (1, 300, 1, 1, 1.1),
    "SLS_S_L": (0, 300, 1, 15, 24),
    "SLS_S_R": (0, 300, 1, 15, 24),
}


CLIENT_HEADER = [
    "client_id",
    "display_name",
    "start_date",
    "region",
    "sessions_per_week",
    "clinician_id",
    "cohort_id",
    "end_date",
]


@dataclass
class Warehouse:
    db: Path
    newest: date  # the newest session: the load's "today"
    today: date  # the analysis day: the newest, or earlier so later records must be ignored
    client_ids: list[str]
    scope_ids: list[str] | None  # a narrowed scope for some seeds, None = everyone
    decisions: int = 0  # clinicians' decisions recorded beside the warehouse
    reviews: int = 0  # red-flag reviews recorded beside the warehouse

    @property
    def scope(self) -> Scope:
        return Scope.everyone() if self.scope_ids is None else Scope.only(self.scope_ids)


def _half(x: float) -> float:
    return min(10.0, max(0.0, round(x * 2) / 2))


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _note(rng: random.Random, red_flag_rate: float) -> str:
    roll = rng.random()
    if roll < red_flag_rate:
        return rng.choice(RED_FLAG_NOTES + MIXED_NOTES)
    if roll < red_flag_rate + 0.05:
        return rng.choice(NEGATED_NOTES)
    if roll < red_flag_rate + 0.2:
        return rng.choice(EVERYDAY_NOTES)
    return ""


def _pains(rng: random.Random, level: float, shape: str, settles: bool = False) -> tuple[float | None, ...]:
    """pain_before, pain_during, pain_after, pain_next_day of one exercise row, by the session's shape;
    `settles`: the pain the next day is mostly no higher than before (a comfortable client)."""
    before = _half(level + rng.uniform(-1, 1))
    during = _half(level + rng.uniform(-1.5, 1 if settles else 2.5))
    if settles and rng.random() < 0.04:  # just above the 0-3 zone in which to progress
        during = rng.choice([3.5, 4])
    after = _half(level + rng.uniform(-1, 1.5))
    rises = [-1, *[0] * 18, 0.5] if settles else [-1, 0, 0.5, 1, 2, 2.5, 3]
    next_day = _half(before + rng.choice(rises)) if rng.random() < (0.9 if settles else 0.6) else None
    if shape == "full":
        return before, during, after, next_day
    if shape == "no_during":  # pain_after carries the session pain
        return (before if rng.random() < 0.5 else None), None, after, next_day
    if shape == "mixed":  # some rows with pain_during, some without
        return before, (during if rng.random() < 0.5 else None), after, next_day
    if shape == "before_only":
        return before, None, None, None
    return None, None, None, None


@dataclass
class Ladder:
    """What a client does of one ladder: a family at a level that moves up and down over time, a
    stretch, or an exercise the library does not know."""

    family: Family | None
    level: int = 1
    stretch: Level | None = None
    unknown: str | None = None

    def rung(self) -> Level | None:
        if self.family is not None:
            return self.family.levels[self.level - 1]
        return self.stretch


@dataclass
class Programme:
    comfortable: bool  # low pain that settles, full doses, steady attendance: recommendations progress
    ladders: list[Ladder]


def _programme(rng: random.Random) -> Programme:
    families = rng.sample(LADDER_FAMILIES, rng.randint(1, 4))
    ladders = [Ladder(f, level=rng.randint(1, len(f.levels))) for f in families]
    if rng.random() < 0.6:
        ladders.append(Ladder(None, stretch=rng.choice(STRETCHES)))
    if rng.random() < 0.25:
        ladders.append(Ladder(None, unknown=rng.choice(UNKNOWN_EXERCISES)))
    return Programme(rng.random() < 0.4, ladders)


def _spelling(rng: random.Random, level: Level) -> str:
    """The level's name or an alias, sometimes in odd case and with odd separators ("Single-Leg  Bridge")."""
    name = rng.choice([level.name, *level.aliases])
    if rng.random() < 0.5:
        words = re.split(r"[\s_\-]+", name)
        name = words[0] + "".join(rng.choice([" ", "  ", "-", "_", " - "]) + w for w in words[1:])
    return rng.choice([str.lower, str.upper, str.title, str.capitalize, lambda x: x])(name)


def _dose(rng: random.Random, level: Level | None, comfortable: bool) -> tuple[object, object, object]:
    """sets, reps, hold_s of one row: mostly around the level's target and ceiling, sometimes below
    the target or above the ceiling, sometimes missing or in the other unit."""
    if level is None:  # an unknown exercise: reps or holds
        if rng.random() < 0.5:
            return rng.randint(1, 3), rng.randint(5, 15), ""
        return rng.randint(1, 3), "", rng.choice([10, 20, 30])
    target, ceiling = level.dose, level.ceiling
    if comfortable:
        sets = rng.choice([target.sets, ceiling.sets, ceiling.sets])
    else:
        sets = rng.choice([target.sets - 1, target.sets, ceiling.sets, ceiling.sets + 1])
    if target.hold_s is not None:
        low, high = target.hold_s, ceiling.hold_s
        choices = [low, low + 10, high, high] if comfortable else [low - 5, low, low + 2.5, high, high + 10]
        reps, hold = "", rng.choice([h for h in choices if h <= high] if comfortable else choices)
    else:
        low, high = target.reps, ceiling.reps
        reps, hold = (rng.randint(low, high) if comfortable else rng.randint(low - 2, high + 3)), ""
    missing = 0.02 if comfortable else 0.06
    if rng.random() < missing:
        sets = ""
    if rng.random() < missing:
        reps = hold = ""
    if rng.random() < 0.03:  # logged in the other unit
        reps, hold = ("" if hold == "" else round(hold)), reps
    return sets, reps, hold


def _exercise_rows(
    rng: random.Random, programme: Programme, ladder: Ladder, shape: str, level: float, red_flag_rate: float
) -> list[list[object]]:
    """The rows of one ladder in one session: one per side for a unilateral level (sometimes only
    one side), sometimes also a second level of the family in the same session."""
    if ladder.family is not None:  # the level moves now and then: up more often for a comfortable client
        roll = rng.random()
        up, down = (0.06, 0.02) if programme.comfortable else (0.07, 0.07)
        if roll < up:
            ladder.level = min(len(ladder.family.levels), ladder.level + 1)
        elif roll < up + down:
            ladder.level = max(1, ladder.level - 1)
    levels = [ladder.rung()]
    if ladder.family is not None and len(ladder.family.levels) > 1 and rng.random() < 0.04:
        other = ladder.level + 1 if ladder.level < len(ladder.family.levels) else ladder.level - 1
        levels.append(ladder.family.levels[other - 1])  # two levels of one family in one session
    rows = []
    for rung in levels:
        name = ladder.unknown if rung is None else _spelling(rng, rung)
        sides = [rng.choice(["", "both", "L"])]
        if rung is not None and rung.each_side:
            sides = ["L", "R"] if rng.random() < 0.85 else [rng.choice(["L", "R", ""])]
        sets, reps, hold = _dose(rng, rung, programme.comfortable)
        comfortable = programme.comfortable
        rpe = rng.choice([*"45667", "", "7"] if comfortable and rng.random() < 0.95 else ["", "3", "7.5", "8", "9"])
        form = rng.choice(["good", "fair", ""] if comfortable and rng.random() < 0.95 else ["", "good", "fair", "poor"])
        for i, side in enumerate(sides):
            if i and rng.random() < (0.04 if comfortable else 0.15):  # the other side did less, or was not counted
                reps = "" if reps == "" else rng.choice(["", max(0, int(reps) - 2)])
                sets = rng.choice([sets, ""])
            if i and rng.random() < 0.1:  # the other side under another spelling, or another name of the level
                name = ladder.unknown.upper() if rung is None else _spelling(rng, rung)
            if i and rng.random() < (0.03 if comfortable else 0.3):
                rpe, form = rng.choice(["", "6", "8"]), rng.choice(["", "good", "fair", "poor"])
            before, during, after, next_day = _pains(rng, level, shape, programme.comfortable)
            rows.append(
                [
                    name,
                    sets,
                    reps,
                    hold,
                    rng.choice(["none", "band_light", "spring_medium", "2 kg", ""]),
                    side,
                    _num(before),
                    _num(during),
                    _num(after),
                    _num(next_day),
                    rpe,
                    form,
                    _note(rng, red_flag_rate),
                ]
            )
    return rows


def _session_rows(
    rng: random.Random,
    client_id: str,
    day: date,
    session_type: str,
    level: float,
    red_flag_rate: float,
    programme: Programme | None = None,
) -> list[list[object]]:
    """The rows of one session: a missed one (one row, no pain), or some of the client's ladders."""
    staff = rng.choice(["", *PHYSIOS, *INSTRUCTORS])
    if rng.random() < (0.04 if programme and programme.comfortable else 0.12):
        note = rng.choice(["", "", "sick", "work"])
        return [[client_id, day.isoformat(), "no", session_type, *[""] * 13, note, staff]]
    programme = programme or _programme(rng)
    shapes = [30, 1, 1, 0, 0] if programme.comfortable else [5, 2, 2, 1, 1]
    shape = rng.choices(["full", "no_during", "mixed", "before_only", "none"], shapes)[0]
    done = [ladder for ladder in programme.ladders if rng.random() < 0.75] or [rng.choice(programme.ladders)]
    rows = []
    for ladder in done:
        for exercise, sets, reps, hold, resistance, side, *rest in _exercise_rows(
            rng, programme, ladder, shape, level, red_flag_rate
        ):
            attended = rng.choice(["yes", "Yes", "y", "1"])
            level_column = rng.randint(1, 5)  # the log's own level: never read, the name decides
            row = [client_id, day.isoformat(), attended, session_type, exercise, level_column, sets, reps, hold]
            rows.append([*row, resistance, side, *rest, staff])
    return rows


def _measure_rows(rng: random.Random, client_id: str, start: date, newest: date) -> list[list[object]]:
    """No measures, exactly one score, or a series per instrument; some same-day repeats, some
    before the start date, some changes landing exactly on the instrument's threshold."""
    mode = rng.choices(["none", "one", "series"], [2, 2, 6])[0]
    if mode == "none":
        return []
    rows, seen = [], set()

    def add(instrument: str, day: date, score: float) -> None:
        low, high, decimals, _, _ = MEASURES[instrument]
        score = round(min(high, max(low, score)), decimals)
        if day > newest:  # a future date would be quarantined
            return
        if (instrument, day, score) not in seen:  # an exact repeat would be quarantined as a duplicate
            seen.add((instrument, day, score))
            rows.append([client_id, day.isoformat(), instrument, f"{score:g}"])

    span = max(0, (newest - start).days)
    if mode == "one":
        instrument = rng.choice(list(MEASURES))
        low, high, *_ = MEASURES[instrument]
        add(instrument, start + timedelta(days=rng.randint(0, span)), rng.uniform(low, min(high, 60)))
        return rows
    for instrument in rng.sample(list(MEASURES), rng.randint(1, 4)):
        low, high, _, step, threshold = MEASURES[instrument]
        score = rng.uniform(low, min(high, 60))
        direction = rng.choice([-1, 1])
        day = start - timedelta(days=rng.choice([0, 0, 0, 3, 10]))  # sometimes before the episode
        for _ in range(rng.randint(1, 5)):
            if day > newest:
                break
            add(instrument, day, score)
            if rng.random() < 0.2:  # a second score the same day
                add(instrument, day, score + rng.uniform(-step, step))
            if threshold is not None and rng.random() < 0.25:
                score += direction * threshold  # a change of exactly the threshold
            else:
                score += direction * rng.uniform(0, 1.5) * step
            day += timedelta(days=rng.randint(1, 21))
    return rows


def random_warehouse(folder: Path, seed: int) -> Warehouse:
    """A valid warehouse of 4-14 clients over ~120 days, loaded with the real loader."""
    rng = random.Random(seed)
    newest = date(2026, 6, 30) - timedelta(days=rng.randint(0, 90))
    earlier = seed % 4 == 3  # analysis day 10 days before the newest record
    today = newest - timedelta(days=10) if earlier else newest

    cohorts = [("G-1", "Hip strong", rng.choice(INSTRUCTORS), newest - timedelta(days=100))]
    cohorts.append(("G-2", "Knee class", rng.choice(INSTRUCTORS), newest - timedelta(days=40)))
    if seed % 3 == 0:
        cohorts.append(("G-3", "One to one", rng.choice(INSTRUCTORS), newest - timedelta(days=20)))

    n = rng.randint(4, 14)
    clients, sessions, measures, starts = [], [], [], {}
    for i in range(n):
        client_id = f"C-{i + 1:02d}"
        if i == 0:  # started in the last 3 days: a partial first week
            start = today - timedelta(days=rng.randint(0, 2))
        elif i == 1 and seed % 3 != 1:  # starts after the analysis day: excluded by both
            start = today + timedelta(days=rng.randint(1, 10) if earlier else rng.randint(1, 20))
        else:
            start = newest - timedelta(days=rng.randint(3, 120))
        roll = rng.random()
        end = None
        if roll < 0.25 and (today - start).days > 1:
            end = start + timedelta(days=rng.randint(0, (today - start).days - 1))  # ended before today
        elif roll < 0.45:
            end = max(today, start) + timedelta(days=rng.randint(0, 60))  # ends today or later
        spw = rng.randint(1, 7)
        cohort = "G-3" if seed % 3 == 0 and i == 2 else rng.choice(["", "G-1", "G-2"])  # G-3: one member
        clinician = rng.choice(["", *PHYSIOS])
        region = rng.choice(["hip", "knee", "low_back", "other"])
        ended = "" if end is None else end.isoformat()
        clients.append([client_id, f"Client {i + 1}", start.isoformat(), region, spw, clinician, cohort, ended])
        starts[client_id] = start

        # Sessions: random days, a few skipped weeks, sometimes above target, up to the newest day.
        # A comfortable client comes steadily with little pain, so the engine has doses to step.
        programme = _programme(rng)
        rate = rng.choice([0.05, 0.2, 0.4, 0.7, 1.0]) * min(1.0, (spw + rng.choice([-1, 0, 2])) / 7)
        skipped = {w for w in range(1, 20) if rng.random() < 0.15}
        pain0, slope = rng.uniform(1, 8), rng.uniform(-0.08, 0.08)
        red_flag_rate = rng.choice([0, 0.01, 0.05])
        if programme.comfortable:
            rate, skipped = min(1.0, (spw + 1.5) / 7), {w for w in skipped if w < 4}
            pain0, slope, red_flag_rate = rng.uniform(0, 2), rng.uniform(-0.02, 0.01), rng.choice([0, 0, 0.01])
        last = newest if end is None else min(newest, end + timedelta(days=rng.choice([0, 7])))
        for offset in range((last - start).days + 1):
            day = start + timedelta(days=offset)
            if offset // 7 + 1 in skipped or rng.random() >= rate:
                continue
            kinds = rng.sample(SESSION_TYPES, 2 if rng.random() < 0.15 else 1)
            for kind in kinds:
                level = pain0 + slope * offset + (rng.uniform(2, 4) if rng.random() < 0.05 else 0)
                sessions += _session_rows(rng, client_id, day, kind, level, red_flag_rate, programme)
        measures += _measure_rows(rng, client_id, start, newest)

    # The newest day has a session, so it is the warehouse's default "today".
    if not any(r[0] == "C-01" and r[1] == newest.isoformat() for r in sessions):
        sessions += _session_rows(rng, "C-01", newest, "clinic", 3, 0)

    if earlier:  # records after the analysis day that would change every number if they were read
        late = rng.choice(sorted(c for c, s in starts.items() if s <= today))
        for offset in (1, 4, 9):
            day = (today + timedelta(days=offset)).isoformat()
            measures += [[late, day, "NPRS", "9.25"], [late, day, "ODI", f"{90 + offset}.5"]]
            sessions.append([late, day, "yes", "clinic", "late check", 1, 1, 5, "", "", "", 1, 8, 8, 4, 9, "poor"])
            sessions[-1] += ["knee gave way", ""]

    # Two rows alike would be quarantined as exact duplicates (the loader reads "y" and "yes" alike).
    seen, unique = set(), []
    for row in sessions:
        key = tuple(str(v).strip().lower() for i, v in enumerate(row) if i != 2)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    sessions = unique

    scope_ids = None
    if seed % 6 == 5:  # a narrowed scope: some clients, one that has not started, one unknown id
        scope_ids = [*rng.sample(sorted(starts)[2:], min(3, n - 2)), "C-01", "C-02", "C-99"]

    folder.mkdir(parents=True, exist_ok=True)
    files = [
        _write_csv(folder / "staff.csv", ["staff_id", "name", "role"], [list(s) for s in STAFF]),
        _write_csv(
            folder / "cohorts.csv",
            ["cohort_id", "name", "instructor_id", "start_date"],
            [[c, name, who, day.isoformat()] for c, name, who, day in cohorts],
        ),
        _write_csv(
            folder / "clients.csv",
            CLIENT_HEADER,
            clients,
        ),
        _write_csv(folder / "sessions.csv", SESSION_HEADER.split(","), sessions),
        _write_csv(folder / "measures.csv", ["client_id", "measured_on", "instrument", "score"], measures),
    ]
    db = folder / "hipline.duckdb"
    report = load_files(db, *files, today=newest)
    assert report.all_readable, [f.error for f in report.files if f.error]
    assert [(f.file, f.rows_quarantined) for f in report.files if f.rows_quarantined] == [], query(
        db, "SELECT source_file, source_row, reason FROM quarantine LIMIT 10"
    )
    decisions = _record_decisions(rng, db, today) if seed % 3 == 2 else 0
    # (not with the decisions: a client on hold is never progressed, and the seeds with decisions are
    # the ones that reach the top of a ladder)
    reviews = _record_reviews(rng, db, today) if seed % 4 == 1 and seed % 3 != 2 else 0
    return Warehouse(db, newest, today, sorted(starts), scope_ids, decisions, reviews)


def _record_reviews(rng: random.Random, db: Path, today: date) -> int:
    """Red-flag reviews of some clients with notes: each outcome, dated before, on and after a note's
    day, some after the analysis day (to be ignored), some clients reviewed twice (the newest rules)."""
    noted = query(db, "SELECT DISTINCT client_id, session_date FROM session_log WHERE notes IS NOT NULL ORDER BY ALL")
    recorded = 0
    for client_id, day in noted:
        if rng.random() < 0.5:
            continue
        for _ in range(rng.choice([1, 1, 2])):
            outcome = rng.choice(REVIEW_OUTCOMES)
            to = rng.choice(["GP", "emergency care", "orthopaedic surgeon"]) if outcome == "referred" else None
            on = min(day + timedelta(days=rng.randint(-3, 5)), today + timedelta(days=rng.choice([0, 0, 2])))
            record_review(db, client_id, outcome=outcome, note="checked in clinic", reviewed_by=rng.choice(STAFF)[0],
                          referred_to=to, reviewed_on=on)  # fmt: skip
            recorded += 1
    return recorded


def _int(x: object) -> int | None:
    return None if _missing(x) else int(x)


def _override(rng: random.Random, rec: dict) -> tuple[str, Prescription | None]:
    """A clinician's own decision instead of the recommendation: the same dose (no change), another
    dose or tempo at the same level, or a level up or down at its target dose."""
    family = LIBRARY.get(rec["family"]) if not _missing(rec["family"]) else None
    level = _int(rec["level"])
    sets = _int(rec["sets"]) or 2
    holds = not _missing(rec["hold_s"]) if family is None else rec["exercise"] in HOLD_LEVELS
    amount = rec["hold_s"] if holds else rec["reps"]
    amount = 10 if _missing(amount) else _int(amount)
    kinds = ["same", "dose", "tempo"]
    if level is not None and level < len(family.levels):
        kinds.append("up")
    if level is not None and level > 1:
        kinds.append("down")
    kind = rng.choice(kinds)
    if kind == "same":
        return "hold", None
    if kind in ("up", "down"):
        to = family.levels[level if kind == "up" else level - 2]
        target = to.dose
        return ("progress" if kind == "up" else "regress"), Prescription(
            to.name, to.level, target.sets, target.reps, target.hold_s, target.tempo
        )
    if kind == "dose":  # the sets and the amount both up or both down (one up, one down agrees with no decision)
        more_sets, more_amount = rng.choice([-1, 1]), rng.choice([-2, 2, 5])
        sets, amount = max(1, sets + more_sets), max(1, amount + abs(more_amount) * more_sets)
    tempo = rng.choice(["3-1-3", "4-2-4"]) if kind == "tempo" else None
    return rng.choice(["hold", "progress"]), Prescription(
        rec["exercise"], level, sets, None if holds else amount, amount if holds else None, tempo
    )


def _record_decisions(rng: random.Random, db: Path, today: date) -> int:
    """Accept or override a few of the recommendations (as the dashboard shows them), dated on or
    after the ladder's newest exposure, before it, or after the analysis day; sometimes twice for
    one ladder. They are recorded in the order of their days, so the newest is the latest. Also:
    - every slower tempo recommended is accepted some days back (before the last exposure at
      another level, when there is one): the client has done the exercise since, so the next step
      (the next level, or past the top) comes up, and a tempo must go when the level changed;
    - a few tempos are set at the current level before the client last did another level;
    - up to two stretches are dosed by a clinician on their newest exposure's day, sometimes at a
      tempo, sometimes some days back."""
    with Analytics.open(db, Scope.everyone(), today=today) as analytics:
        recommendations = analytics.recommendations()
    if recommendations.empty:
        return 0
    recs = recommendations.to_dict("records")
    planned = []  # (day, recommendation, how): "accept", "override", or an override's (decision, prescription)
    tempo = [rec for rec in recs if rec["change"] == "tempo"]
    for rec in tempo:
        newest = pd.Timestamp(rec["last_done"]).date()
        other_level = _last_day_at_another_level(db, rec, newest)
        back = other_level - timedelta(days=rng.randint(1, 3)) if other_level else None
        planned.append((back or newest - timedelta(days=rng.randint(6, 12)), rec, "accept"))
    # a tempo set at the current level before the client last did another level: it went with it
    laddered = [rec for rec in recs if not _missing(rec["level"]) and rec not in tempo]
    for rec in rng.sample(laddered, min(3, len(laddered))):
        other_level = _last_day_at_another_level(db, rec, pd.Timestamp(rec["last_done"]).date())
        if other_level:
            holds = rec["exercise"] in HOLD_LEVELS
            amount = _int(rec["hold_s"] if holds else rec["reps"]) or 10
            prescription = Prescription(
                rec["exercise"], _int(rec["level"]), _int(rec["sets"]) or 2, None if holds else amount,
                amount if holds else None, rng.choice(["3-1-3", "4-2-4"]),
            )  # fmt: skip
            planned.append((other_level - timedelta(days=rng.randint(1, 3)), rec, ("hold", prescription)))
    stretches = [rec for rec in recs if rec["stretch"] is True]
    for rec in rng.sample(stretches, min(2, len(stretches))):
        newest = pd.Timestamp(rec["last_done"]).date()
        amount = (_int(rec["hold_s"]) or 20) + 10
        prescription = Prescription(
            rec["exercise"], None, _int(rec["sets"]) or 2, None, amount, rng.choice([None, "3-1-3"])
        )
        day = rng.choice([newest, newest, newest - timedelta(days=rng.randint(2, 8))])
        planned.append((day, rec, ("hold", prescription)))
    others = [rec for rec in recs if rec not in tempo]
    for rec in rng.sample(others, min(len(others), rng.randint(4, 10))):
        newest = pd.Timestamp(rec["last_done"]).date()
        for _ in range(2 if rng.random() < 0.25 else 1):
            when = rng.choice(["on", "after", "before", "before", "future"])
            day = {
                "on": newest,
                "after": min(today, newest + timedelta(days=rng.randint(1, 6))),
                "before": newest - timedelta(days=rng.randint(1, 15)),
                "future": today + timedelta(days=rng.randint(1, 5)),
            }[when]
            planned.append((day, rec, rng.choice(["accept", "override"])))
    newest_id = {}  # (client, ladder) -> the newest decision: a second on the same recommendation replaces it
    for day, rec, how in sorted(planned, key=lambda p: p[0]):
        at = datetime.combine(day, time(12), tzinfo=UTC)
        who = rng.choice(PHYSIOS)
        key = (rec["client_id"], rec["ladder"])
        if how == "accept":
            newest_id[key] = record(db, rec, decided_by=who, action="accept", as_of=today, decided_on=day,
                                    decided_at=at, replaces=newest_id.get(key))  # fmt: skip
            continue
        decision, prescription = _override(rng, rec) if how == "override" else how
        decision = _agreeing(rec, decision, prescription)
        newest_id[key] = record(
            db, rec, decided_by=who, action="override", decision=decision, prescription=prescription,
            reason="the clinician's judgement", as_of=today, decided_on=day, decided_at=at, replaces=newest_id.get(key),
        )  # fmt: skip
    return len(planned)


def _agreeing(rec: dict, decision: str, prescription: Prescription | None) -> str:
    """`decision`, or the first decision the prescription agrees with (docs/recommendations.md: an override must)."""
    if prescription is None:
        return decision
    agreeing = [d for d in (decision, *DECISIONS) if disagreement(rec, d, prescription) is None]
    assert agreeing, (
        {k: rec[k] for k in ("exercise", "level", "sets", "reps", "hold_s", "tempo", "hold_to")},
        prescription,
    )
    return agreeing[0]


def _last_day_at_another_level(db: Path, rec: dict, before: date) -> date | None:
    """The last day before `before` on which the client did the ladder at another level than now."""
    rows = query(
        db,
        "SELECT session_date, exercise FROM session_log WHERE client_id = ? AND attended AND exercise IS NOT NULL",
        [rec["client_id"]],
    )
    ladder, level = rec["ladder"], _int(rec["level"])
    levels = [(day, LEVEL_OF_NAME.get(name_key(exercise), (None, None))) for day, exercise in rows]
    return max((day for day, (lad, lev) in levels if day < before and lad == ladder and lev != level), default=None)


# --- the comparison ---------------------------------------------------------------------------------


def _missing(x: object) -> bool:
    return x is None or (not isinstance(x, str) and bool(pd.isna(x)))


def _plain(x: object) -> object:
    """A value as plain Python for exact comparison: None for missing, int for whole numbers."""
    if _missing(x):
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)) or (isinstance(x, (float, np.floating)) and float(x).is_integer()):
        return int(x)
    return x


def _sorted(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    absent = [c for c in columns if c not in frame.columns]
    assert not absent or frame.empty, f"columns {absent} are missing"
    frame = frame.reindex(columns=columns)
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def frame_differences(
    name: str, fast: pd.DataFrame, reference: pd.DataFrame, keys: list[str], columns: list[str]
) -> list[str]:
    """Where the fast frame and the reference frame disagree, in words: rows only one side has, then
    for each column the rows (by key) whose values differ, with both values."""
    fast, reference = _sorted(fast, keys, columns), _sorted(reference, keys, columns)
    fast_keys = [tuple(_plain(v) for v in row) for row in fast[keys].itertuples(index=False)]
    ref_keys = [tuple(_plain(v) for v in row) for row in reference[keys].itertuples(index=False)]
    if fast_keys != ref_keys:
        only_fast = sorted(set(fast_keys) - set(ref_keys))
        only_ref = sorted(set(ref_keys) - set(fast_keys))
        return [
            f"{name}: the rows differ ({len(fast_keys)} fast, {len(ref_keys)} reference); "
            f"only in fast: {only_fast[:SHOWN_ROWS]}; only in reference: {only_ref[:SHOWN_ROWS]}"
            + ("" if only_fast or only_ref else "; (repeated keys)")
        ]
    problems = []
    for column in columns:
        if column in keys:
            continue
        if column in EXACT:
            a = [_plain(v) for v in fast[column]]
            b = [_plain(v) for v in reference[column]]
            differs = [x != y for x, y in zip(a, b, strict=True)]
        else:
            a = [math.nan if _missing(v) else float(v) for v in fast[column]]
            b = [math.nan if _missing(v) else float(v) for v in reference[column]]
            differs = list(~np.isclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True)) if a else []
        rows = [i for i, bad in enumerate(differs) if bad]
        if rows:
            shown = "; ".join(f"{fast_keys[i]}: fast={a[i]!r} reference={b[i]!r}" for i in rows[:SHOWN_ROWS])
            more = f" (and {len(rows) - SHOWN_ROWS} more)" if len(rows) > SHOWN_ROWS else ""
            problems.append(f"{name}.{column} differs in {len(rows)} of {len(differs)} rows: {shown}{more}")
    return problems


def compare(db: Path, scope: Scope, today: date) -> dict[str, pd.DataFrame]:
    """Run both implementations and assert the five frames agree; return the fast frames."""
    fast, problems = differences(db, scope, today)
    assert not problems, f"fast path and reference disagree (today={today}, scope={scope}):\n" + "\n".join(problems)
    return fast


def differences(db: Path, scope: Scope, today: date) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The fast frames, and where the reference disagrees with them (`frame_differences`)."""
    with Analytics.open(db, scope, today=today) as analytics:
        fast = {
            "client_metrics": analytics.client_metrics(),
            "client_weekly": analytics.client_weekly(),
            "function_change": analytics.function_change(),
            "cohort_weekly": analytics.cohort_weekly(),
            "recommendations": analytics.recommendations(),
        }
    clients, session_log, measures = read_views(db)
    decisions, reviews = read_decisions(db), read_reviews(db)
    reference = vars(reference_metrics(clients, session_log, measures, scope, today, decisions=decisions,
                                       reviews=reviews))  # fmt: skip
    reference["recommendations"] = reference_recommendations(
        clients, session_log, scope, today, decisions=decisions, reviews=reviews
    )
    problems = [
        problem
        for name, (keys, columns) in FRAMES.items()
        for problem in frame_differences(name, fast[name], reference[name], keys, columns)
    ]
    return fast, problems


# --- the tests --------------------------------------------------------------------------------------


def reached(fast: dict[str, pd.DataFrame]) -> Counter:
    """The flags, decisions and dose steps the fast path gave."""
    seen = Counter(f"flag: {flag}" for flags in fast["client_metrics"]["flags"] for flag in flags.split(";"))
    for rec in fast["recommendations"].to_dict("records"):
        seen[rec["decision"]] += 1
        if rec["decision"] == "progress":
            seen[f"progress: {rec['change']}"] += 1
        elif rec["stretch"] is True and rec["change"] != "none":
            seen[f"stretch dosed: {rec['change']}"] += 1
    return seen


@pytest.fixture(scope="session")
def reached_folder(tmp_path_factory) -> Path:
    """Where each seed's test leaves what it reached, for test_the_random_warehouses_reach_every_... to
    add up: the folder all pytest-xdist workers of this run share (the parent of each one's own)."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if base.name.startswith("popen-gw") else base) / "reached_by_seed"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_path_agrees_with_the_reference(tmp_path: Path, seed: int, reached_folder: Path) -> None:
    warehouse = random_warehouse(tmp_path, seed)
    fast, problems = differences(warehouse.db, warehouse.scope, warehouse.today)
    left = reached_folder / f"{seed}.json"  # whole or not at all: the reach test may read it from the other worker
    left.with_suffix(".part").write_text(json.dumps(reached(fast)))
    left.with_suffix(".part").replace(left)
    assert not problems, "\n".join([f"fast path and reference disagree (today={warehouse.today}):", *problems])

    started = {
        client_id
        for (client_id,) in query(
            warehouse.db, "SELECT client_id FROM clients WHERE start_date <= ?", [warehouse.today]
        )
    }
    expected = started if warehouse.scope_ids is None else started & set(warehouse.scope_ids)
    assert set(fast["client_metrics"]["client_id"]) == expected
    assert set(fast["client_weekly"]["client_id"]) == expected
    assert set(fast["function_change"]["client_id"]) <= expected
    assert expected and len(fast["client_weekly"]) > 0  # not vacuous
    if warehouse.today < warehouse.newest:  # there are records after the analysis day to ignore
        assert query(warehouse.db, "SELECT count(*) FROM session_log WHERE session_date > ?", [warehouse.today])[0][0]
    assert (warehouse.decisions > 0) == (seed % 3 == 2)
    assert (warehouse.reviews > 0) == (seed % 4 == 1 and seed % 3 != 2)


def test_the_random_warehouses_reach_every_decision_and_dose_step(tmp_path: Path, reached_folder: Path) -> None:
    """Not vacuous: over all the seeds, every decision, every kind of next step and every flag (with its
    evidence) is compared. Each seed's test left what it reached; a seed whose test has not run yet in
    this run (another worker has it, or it was not selected) is worked out here."""
    by_seed = []
    for seed in SEEDS:
        left = reached_folder / f"{seed}.json"
        if left.exists():
            by_seed.append(Counter(json.loads(left.read_text())))
            continue
        warehouse = random_warehouse(tmp_path / str(seed), seed)
        with Analytics.open(warehouse.db, warehouse.scope, today=warehouse.today) as analytics:
            by_seed.append(reached({"client_metrics": analytics.client_metrics(),
                                    "recommendations": analytics.recommendations()}))  # fmt: skip
    reached_all = sum(by_seed, Counter())
    wanted = [*DECISIONS, *(f"progress: {step}" for step in ("sets", "amount", "tempo", "level", "top")),
              *(f"flag: {flag}" for flag in FLAGS)]  # fmt: skip
    assert all(reached_all[w] > 0 for w in wanted), [w for w in wanted if not reached_all[w]]
    assert reached_all["stretch dosed: sets"] + reached_all["stretch dosed: amount"] > 0, reached_all


def test_fast_path_agrees_with_the_reference_on_the_demo_warehouse(demo_warehouse: Path) -> None:
    con = connect_read_only(demo_warehouse)
    try:
        today = newest_session_date(con)
    finally:
        con.close()
    fast = compare(demo_warehouse, Scope.everyone(), today)
    assert len(fast["client_metrics"]) >= 100 and len(fast["cohort_weekly"]) > 0


def test_the_comparison_names_the_column_and_the_rows_that_differ() -> None:
    keys, columns = FRAMES["client_weekly"]
    frame = pd.DataFrame(
        {
            "client_id": ["C-2", "C-1", "C-1"],
            "program_week": [1, 2, 1],
            "attended": [1, 2, 3],
            "target": [3, 3, 3],
            "adherence": [1 / 3, 2 / 3, 1.0],
            "mean_pain": [None, 4.5, 2.0],
        }
    )
    assert frame_differences("client_weekly", frame, frame.iloc[::-1].copy(), keys, columns) == []
    close = frame.assign(adherence=frame["adherence"] + 1e-12, mean_pain=[math.nan, 4.5, 2.0])
    assert frame_differences("client_weekly", frame, close, keys, columns) == []

    changed = frame.assign(attended=[1, 2, 2], mean_pain=[None, 4.5 + 1e-6, 2.0])
    assert frame_differences("client_weekly", frame, changed, keys, columns) == [
        "client_weekly.attended differs in 1 of 3 rows: ('C-1', 1): fast=3 reference=2",
        "client_weekly.mean_pain differs in 1 of 3 rows: ('C-1', 2): fast=4.5 reference=4.500001",
    ]
    missing = frame.assign(mean_pain=[1.0, 4.5, 2.0])
    assert frame_differences("client_weekly", frame, missing, keys, columns) == [
        "client_weekly.mean_pain differs in 1 of 3 rows: ('C-2', 1): fast=nan reference=1.0"
    ]
    assert frame_differences("client_weekly", frame, frame.iloc[1:], keys, columns) == [
        "client_weekly: the rows differ (3 fast, 2 reference); only in fast: [('C-2', 1)]; only in reference: []"
    ]
