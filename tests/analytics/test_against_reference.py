"""Differential test: the DuckDB fast path (`analytics.metrics.Analytics`) against the plain pandas
reference (`analytics.reference`) on random, seeded warehouses and on the demo warehouse.

Each warehouse is written as CSV files in the SPEC §1 formats, loaded with the real loader (nothing
may be quarantined: the generator makes valid input), and built to hit the edge cases of SPEC §2 on
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

Counts and text must be equal; floats agree to 1e-9 (missing equals missing).
"""

from __future__ import annotations

import csv
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.metrics import (
    CLIENT_METRICS_COLUMNS,
    CLIENT_WEEKLY_COLUMNS,
    COHORT_WEEKLY_COLUMNS,
    FUNCTION_CHANGE_COLUMNS,
    Analytics,
    newest_session_date,
)
from analytics.reference import read_views, reference_metrics
from analytics.scope import Scope
from etl.warehouse import connect_read_only
from tests.conftest import SESSION_HEADER, load_files, query

SEEDS = range(24)

# Which frame, its keys, its columns; the columns compared exactly (the rest are floats).
FRAMES = {
    "client_metrics": (["client_id"], CLIENT_METRICS_COLUMNS),
    "client_weekly": (["client_id", "program_week"], CLIENT_WEEKLY_COLUMNS),
    "function_change": (["client_id", "instrument"], FUNCTION_CHANGE_COLUMNS),
    "cohort_weekly": (["cohort_id", "program_week"], COHORT_WEEKLY_COLUMNS),
}
EXACT = {
    "client_id",
    "cohort_id",
    "program_week",
    "attended",
    "target",
    "n",
    "pain_status",
    "flags",
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
EXERCISES = ["bridge", "clamshell", "dead bug", "leg slides", "hip hinge", "single-leg stance", "hamstring stretch"]
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


def _pains(rng: random.Random, level: float, shape: str) -> tuple[float | None, ...]:
    """pain_before, pain_during, pain_after, pain_next_day of one exercise row, by the session's shape."""
    before = _half(level + rng.uniform(-1, 1))
    during = _half(level + rng.uniform(-1.5, 2.5))
    after = _half(level + rng.uniform(-1, 1.5))
    next_day = _half(before + rng.choice([-1, 0, 0.5, 1, 2, 2.5, 3])) if rng.random() < 0.6 else None
    if shape == "full":
        return before, during, after, next_day
    if shape == "no_during":  # pain_after carries the session pain
        return (before if rng.random() < 0.5 else None), None, after, next_day
    if shape == "mixed":  # some rows with pain_during, some without
        return before, (during if rng.random() < 0.5 else None), after, next_day
    if shape == "before_only":
        return before, None, None, None
    return None, None, None, None


def _session_rows(
    rng: random.Random, client_id: str, day: date, session_type: str, level: float, red_flag_rate: float
) -> list[list[object]]:
    """The rows of one session: a missed one (one row, no pain), or 1-4 exercises."""
    staff = rng.choice(["", *PHYSIOS, *INSTRUCTORS])
    if rng.random() < 0.12:
        note = rng.choice(["", "", "sick", "work"])
        return [[client_id, day.isoformat(), "no", session_type, *[""] * 13, note, staff]]
    shape = rng.choices(["full", "no_during", "mixed", "before_only", "none"], [5, 2, 2, 1, 1])[0]
    rows = []
    for exercise in rng.sample(EXERCISES, rng.randint(1, 4)):
        before, during, after, next_day = _pains(rng, level, shape)
        hold = rng.random() < 0.3
        rows.append(
            [
                client_id,
                day.isoformat(),
                rng.choice(["yes", "Yes", "y", "1"]),
                session_type,
                exercise,
                rng.randint(1, 5),
                rng.randint(1, 3),
                "" if hold else rng.randint(5, 15),
                rng.choice([10, 20, 30]) if hold else "",
                rng.choice(["none", "band_light", "spring_medium", "2 kg", ""]),
                rng.choice(["L", "R", "both", ""]),
                _num(before),
                _num(during),
                _num(after),
                _num(next_day),
                rng.choice(["", "3", "5", "6.5", "8"]),
                rng.choice(["", "good", "fair", "poor"]),
                _note(rng, red_flag_rate),
                staff,
            ]
        )
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
        rate = rng.choice([0.05, 0.2, 0.4, 0.7, 1.0]) * min(1.0, (spw + rng.choice([-1, 0, 2])) / 7)
        skipped = {w for w in range(1, 20) if rng.random() < 0.15}
        pain0, slope = rng.uniform(1, 8), rng.uniform(-0.08, 0.08)
        red_flag_rate = rng.choice([0, 0.01, 0.05])
        last = newest if end is None else min(newest, end + timedelta(days=rng.choice([0, 7])))
        for offset in range((last - start).days + 1):
            day = start + timedelta(days=offset)
            if offset // 7 + 1 in skipped or rng.random() >= rate:
                continue
            kinds = rng.sample(SESSION_TYPES, 2 if rng.random() < 0.15 else 1)
            for kind in kinds:
                level = pain0 + slope * offset + (rng.uniform(2, 4) if rng.random() < 0.05 else 0)
                sessions += _session_rows(rng, client_id, day, kind, level, red_flag_rate)
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
    return Warehouse(db, newest, today, sorted(starts), scope_ids)


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
    """Run both implementations and assert the four frames agree; return the fast frames."""
    with Analytics.open(db, scope, today=today) as analytics:
        fast = {
            "client_metrics": analytics.client_metrics(),
            "client_weekly": analytics.client_weekly(),
            "function_change": analytics.function_change(),
            "cohort_weekly": analytics.cohort_weekly(),
        }
    reference = reference_metrics(*read_views(db), scope, today)
    problems = [
        problem
        for name, (keys, columns) in FRAMES.items()
        for problem in frame_differences(name, fast[name], getattr(reference, name), keys, columns)
    ]
    assert not problems, f"fast path and reference disagree (today={today}, scope={scope}):\n" + "\n".join(problems)
    return fast


# --- the tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_fast_path_agrees_with_the_reference(tmp_path: Path, seed: int) -> None:
    warehouse = random_warehouse(tmp_path, seed)
    scope = Scope.everyone() if warehouse.scope_ids is None else Scope.only(warehouse.scope_ids)
    fast = compare(warehouse.db, scope, warehouse.today)

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
