"""Session logs: who came, what they did, at what dose, and how much it hurt.

Each client gets an adherence pattern (steady, declining, erratic, drop-out) and a pain trajectory
(improving, plateau, flare-ups, worsening). Exercises follow the ladders of the exercise library,
and doses move the way a clinician moves them: after three comfortable sessions the dose steps
up, at the dose ceiling the next level starts, and a flare steps back one level. Decisions are
only taken in supervised (studio or clinic) sessions, as in real practice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from etl.library import Family, Level
from hipline.demo_data.vocabulary import EVERYDAY_NOTES, RED_FLAG_NOTES

ADHERENCE_PATTERNS = np.array(["steady", "declining", "erratic", "drop_out"])
ADHERENCE_SHARE = [0.45, 0.20, 0.20, 0.15]
PAIN_PATTERNS = np.array(["improving", "plateau", "flare_ups", "worsening"])
PAIN_SHARE = [0.45, 0.25, 0.18, 0.12]

FAMILIES_BY_REGION = {
    "hip": [
        "bridge",
        "clamshell",
        "single_leg_stance",
        "hip_mobility",
        "gait",
        "trunk_control",
        "hinge_lift",
    ],
    "knee": [
        "bridge",
        "clamshell",
        "single_leg_stance",
        "hinge_lift",
        "gait",
        "hip_mobility",
        "trunk_control",
    ],
    "low_back": ["trunk_control", "bridge", "hinge_lift", "rotation", "hip_mobility", "clamshell", "gait"],
    "other": [
        "bridge",
        "clamshell",
        "single_leg_stance",
        "trunk_control",
        "gait",
        "rotation",
        "hip_mobility",
    ],
}
STRETCHES_BY_REGION = {
    "hip": ["hip-flexor stretch", "glute release"],
    "knee": ["hamstring stretch", "hip-flexor stretch"],
    "low_back": ["hamstring stretch", "glute release", "hip-flexor stretch"],
    "other": ["hamstring stretch"],
}

# Text columns are carried as small integer codes (-1 = empty) and turned into words only when
# the files are written: 6 million rows of Python strings would not fit in memory.
SESSION_TYPES = ["studio", "clinic", "home"]
STUDIO, CLINIC, HOME = 0, 1, 2
FORMS = ["good", "fair", "poor"]
SIDES = ["L", "R", "both"]
NOTES = EVERYDAY_NOTES + RED_FLAG_NOTES
UNKNOWN_EXERCISE = "foam roller release"  # not in the library: the loader keeps it and reports it

COLUMNS = {
    "client": np.int32,
    "day": np.int16,
    "session_type": np.int8,
    "attended": np.bool_,
    "exercise": np.int16,
    "sets": np.float32,
    "reps": np.float32,
    "hold_s": np.float32,
    "side": np.int8,
    "pain_before": np.float32,
    "pain_during": np.float32,
    "pain_after": np.float32,
    "pain_next_day": np.float32,
    "rpe": np.float32,
    "form": np.int8,
    "note": np.int16,
}
# What a missed session records: who, when, which kind, and that it was missed.
RECORDED_WHEN_MISSED = ("client", "day", "session_type", "attended")


@dataclass
class SessionRows:
    """Column buffers for session-log rows; numeric columns use NaN for "not recorded"."""

    columns: dict[str, list] = field(default_factory=lambda: {name: [] for name in COLUMNS})

    def add(self, **values: np.ndarray) -> None:
        for name, dtype in COLUMNS.items():
            self.columns[name].append(np.asarray(values[name]).astype(dtype, copy=False))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({name: np.concatenate(parts) for name, parts in self.columns.items()})


def _not_recorded(n: int, *names: str) -> dict[str, np.ndarray]:
    """Columns of n rows left empty: NaN in a number column, -1 (no text) in a text column's code."""
    return {name: np.full(n, np.nan if np.issubdtype(COLUMNS[name], np.floating) else -1) for name in names}


def exercise_codes(library: dict[str, Family]) -> dict[tuple[str, str], int]:
    """A number for every level of every family, in library order; the unknown exercise comes last."""
    codes = {(lv.family, lv.name): i for i, lv in enumerate(lv for f in library.values() for lv in f.levels)}
    codes[("", UNKNOWN_EXERCISE)] = len(codes)
    return codes


def round_pain(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """NPRS as clients report it: mostly whole numbers, sometimes halves, within 0-10."""
    halves = np.round(np.clip(x, 0, 10) * 2) / 2
    whole = np.clip(np.round(x), 0, 10)
    return np.where(rng.random(x.shape) < 0.85, whole, halves)


def adherence_by_week(rng: np.random.Generator, pattern: str, n_weeks: int) -> np.ndarray:
    """Probability of attending each scheduled session, week by week."""
    weeks = np.arange(n_weeks)
    if pattern == "steady":
        return np.clip(rng.uniform(0.82, 0.98) + rng.normal(0, 0.05, n_weeks), 0, 1)
    if pattern == "declining":
        return np.clip(np.linspace(rng.uniform(0.85, 1.0), rng.uniform(0.15, 0.45), max(n_weeks, 1)), 0, 1)
    if pattern == "erratic":
        return rng.uniform(0.15, 1.0, n_weeks)
    drop_week = int(rng.integers(2, 8))
    return np.where(weeks < drop_week, rng.uniform(0.8, 0.95), 0.0)


def pain_curve(rng: np.random.Generator, pattern: str, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Underlying pain on each day of the episode, and whether the day falls in a flare."""
    baseline = rng.uniform(3.5, 7.0)
    flare = np.zeros(days.shape, dtype=bool)
    if pattern == "improving":
        pain = baseline - rng.uniform(2.5, 0.8 * baseline) * (1 - np.exp(-days / rng.uniform(14, 40)))
    elif pattern == "plateau":
        pain = baseline - rng.uniform(0.0, 1.0) * (1 - np.exp(-days / 20))
    elif pattern == "worsening":
        pain = np.minimum(9.0, baseline + rng.uniform(0.25, 0.5) * days / 7)
    else:
        pain = baseline - rng.uniform(2.0, 0.7 * baseline) * (1 - np.exp(-days / rng.uniform(14, 35)))
        for onset in rng.uniform(10, max(11, days.max() if days.size else 11), size=int(rng.integers(1, 4))):
            in_flare = (days >= onset) & (days < onset + rng.uniform(4, 9))
            pain = pain + 3.0 * in_flare
            flare |= in_flare
    return np.clip(pain, 0, 10), flare


@dataclass
class Progression:
    """One family's current level and dose, moved the way a clinician moves it."""

    levels: tuple[Level, ...]
    index: int
    sets: int
    amount: int  # reps or hold seconds, as the level prescribes
    comfortable: int = 0

    @classmethod
    def start(cls, family: Family, index: int) -> Progression:
        level = family.levels[index]
        return cls(family.levels, index, level.dose.sets, level.dose.reps or level.dose.hold_s or 0)

    @property
    def level(self) -> Level:
        return self.levels[self.index]

    def _move_to(self, index: int) -> None:
        self.index = index
        self.sets = self.level.dose.sets
        self.amount = self.level.dose.reps or self.level.dose.hold_s or 0

    def step_up(self) -> None:
        ceiling, holds = self.level.ceiling, self.level.dose.hold_s is not None
        top = ceiling.hold_s if holds else ceiling.reps
        if self.sets < ceiling.sets:
            self.sets += 1
        elif self.amount < (top or 0):
            self.amount = min(top or 0, self.amount + (10 if holds else 2))
        elif self.index + 1 < len(self.levels):
            self._move_to(self.index + 1)

    def step_back(self) -> None:
        if self.index > 0:
            self._move_to(self.index - 1)
        else:  # at the first level, cut the dose by a third, but never below half the target
            target = self.level.dose.reps or self.level.dose.hold_s or 1
            self.amount = max(math.ceil(target / 2), round(self.amount * 2 / 3))


def _programme(rng: np.random.Generator, region: str, library: dict[str, Family]) -> list[tuple[str, int]]:
    """The families a client works on (with a starting level) plus one or two stretches."""
    families = list(rng.choice(FAMILIES_BY_REGION[region], size=int(rng.integers(6, 8)), replace=False))
    chosen = [(f, int(rng.integers(0, 2))) for f in families]
    stretch_names = STRETCHES_BY_REGION[region]
    stretches = rng.choice(stretch_names, size=min(len(stretch_names), int(rng.integers(2, 4))), replace=False)
    index_of = {lv.name: i for i, lv in enumerate(library["stretches"].levels)}
    return chosen + [("stretches", index_of[name]) for name in stretches]


def schedule(rng: np.random.Generator, n_days: int, per_week: int, attend: np.ndarray, in_cohort: bool):
    """Scheduled sessions: (day of episode, session type, attended)."""
    days, kinds, attended = [], [], []
    for week, p in enumerate(attend):
        available = min(7, n_days - 7 * week)
        engaged = p > 0 or (week > 0 and attend[week - 1] > 0)  # misses are logged for a week after a drop-out
        if available <= 0 or not engaged:
            continue
        planned = per_week if available == 7 else max(1, math.floor(per_week * available / 7))
        came = int(rng.binomial(planned, p))
        extra = int(p > 0.75 and rng.random() < 0.08)
        slots = min(available, planned + extra)
        came = min(came + extra, slots)
        session_days = np.sort(rng.choice(available, size=slots, replace=False)) + 7 * week
        came_mask = np.zeros(slots, dtype=bool)
        came_mask[rng.choice(slots, size=came, replace=False)] = True
        supervised = STUDIO if in_cohort else (CLINIC if week % 2 == 0 else HOME)
        for j in range(slots):
            days.append(int(session_days[j]))
            first_attended = came_mask[j] and not came_mask[:j].any()
            kinds.append(supervised if (first_attended or (not came_mask[j] and in_cohort)) else HOME)
            attended.append(bool(came_mask[j]))
    return np.array(days, dtype=np.int64), np.array(kinds, dtype=np.int8), np.array(attended, dtype=bool)


@dataclass
class Sessions:
    """One client's scheduled sessions, one entry per session (attended or missed)."""

    client: int
    days: np.ndarray  # day of the episode
    kinds: np.ndarray  # STUDIO, CLINIC or HOME
    attended: np.ndarray
    before: np.ndarray  # pain before the session
    flare: np.ndarray
    next_day: np.ndarray  # pain the next day (NaN: not recorded)
    notes: np.ndarray  # note codes; -1: none

    @property
    def supervised(self) -> np.ndarray:
        return self.kinds != HOME


def simulate_client(
    rng: np.random.Generator,
    client: dict,
    client_index: int,
    end: date,
    library: dict[str, Family],
    codes: dict[tuple[str, str], int],
    rows: SessionRows,
) -> tuple[str, np.ndarray, int]:
    """Append one client's session-log rows; return its pain pattern, daily pain and days engaged."""
    last_day = min(end, client["end_date"] or end)
    n_days = max(1, (last_day - client["start_date"]).days + 1)
    adherence_pattern = str(rng.choice(ADHERENCE_PATTERNS, p=ADHERENCE_SHARE))
    pain_pattern = str(rng.choice(PAIN_PATTERNS, p=PAIN_SHARE))
    pain, flare_day = pain_curve(rng, pain_pattern, np.arange(n_days))
    days, kinds, attended = schedule(
        rng,
        n_days,
        int(client["sessions_per_week"]),
        adherence_by_week(rng, adherence_pattern, math.ceil(n_days / 7)),
        client["cohort_id"] is not None,
    )
    if len(days) == 0:
        return pain_pattern, pain, 0
    sessions = _how_sessions_felt(rng, client_index, days, kinds, attended, pain, flare_day)
    _add_missed_sessions(rows, sessions)
    came = np.flatnonzero(attended)
    for family_id, start_index in _programme(rng, client["region"], library):
        family = library[family_id]
        does = came[sessions.supervised[came] | (rng.random(came.size) < (0.9 if family.stretch else 0.85))]
        _add_exercise_rows(
            rng, rows, codes, sessions, does, *_follow_the_clinician(rng, family, start_index, sessions, does)
        )
        sessions.notes[does] = -1  # a session's note is written once, on its first exercise row
    if client_index % 40 == 7:  # a few clients do a warm-up the library does not know
        _add_warm_up(rows, codes, sessions, came[sessions.supervised[came]])
    engaged_days = int(days[attended].max()) + 1 if attended.any() else 0
    return pain_pattern, pain, engaged_days


def _how_sessions_felt(rng, client_index, days, kinds, attended, pain, flare_day) -> Sessions:
    """Pain before and the next day, flares, and the notes written."""
    n = len(days)
    before = round_pain(rng, pain[days] + rng.normal(0, 0.6, n))
    flare = flare_day[days] | (rng.random(n) < 0.005)
    next_day = np.where(flare, before + rng.uniform(2, 3, n), before + rng.normal(-0.2, 0.5, n))
    next_day = np.where(rng.random(n) < 0.35, np.nan, round_pain(rng, next_day))
    # Red-flag words come up more often around a flare.
    red_flag_rate = np.where(flare, 0.06, 0.003)
    notes = np.full(n, -1, dtype=np.int16)
    roll = rng.random(n)
    red_flag = roll < red_flag_rate
    notes[red_flag] = len(EVERYDAY_NOTES) + rng.integers(0, len(RED_FLAG_NOTES), int(red_flag.sum()))
    everyday = ~red_flag & (roll < red_flag_rate + 0.05)
    notes[everyday] = rng.integers(0, len(EVERYDAY_NOTES), int(everyday.sum()))
    return Sessions(client_index, days, kinds, attended, before, flare, next_day, notes)


def _add_missed_sessions(rows: SessionRows, sessions: Sessions) -> None:
    missed = ~sessions.attended
    n = int(missed.sum())
    rows.add(
        client=np.full(n, sessions.client),
        day=sessions.days[missed],
        session_type=sessions.kinds[missed],
        attended=np.zeros(n, dtype=bool),
        **_not_recorded(n, *(name for name in COLUMNS if name not in RECORDED_WHEN_MISSED)),
    )


def _follow_the_clinician(rng, family: Family, start_index: int, sessions: Sessions, does: np.ndarray):
    """Level, dose, pain and effort at each exposure of one family, progressed as a clinician would."""
    if family.stretch:  # stretches are never progressed, only dosed
        progression = Progression(family.levels, start_index, 2, family.levels[start_index].dose.hold_s or 20)
    else:
        progression = Progression.start(family, start_index)
    supervised = sessions.supervised
    # Random draws for every exposure up front; the loop below only follows the clinician's logic.
    # Low-load Pilates work hurts less than the day at rest (about 70 % of it, a point and more below),
    # except in a flare. With these, the demo's caseload flags come at a clinic's rates (300 clients: refer
    # 2 %, pain worse 5 %, flare 18 %, low adherence 29 %, lapsed 6 %, plateau 18 %, ready 30 %).
    flare = np.where(sessions.flare[does], 1.5, 0.0)
    noise_during = rng.normal(-1.3, 0.4, does.size) + flare + 0.7 * sessions.before[does]
    whole = rng.random(does.size) < 0.85
    noise_rpe = rng.normal(4.5, 1.0, does.size) + 0.2 * sessions.before[does]
    form = np.where(supervised[does], rng.choice(3, size=does.size, p=[0.68, 0.26, 0.06]), -1)
    unsettled = sessions.next_day[does] >= sessions.before[does] + 2
    levels, sets, amounts = [], [], []
    pain_during, rpe = np.empty(does.size), np.empty(does.size)
    for j, s in enumerate(does):
        effort = 0.25 * progression.index + (0.6 if progression.comfortable == 0 else 0.0)
        during = noise_during[j] + 0.5 * effort
        during = min(10.0, max(0.0, round(during) if whole[j] else round(during * 2) / 2))
        session_rpe = min(10.0, max(1.0, round(noise_rpe[j] + effort)))
        levels.append(progression.level)
        sets.append(progression.sets)
        amounts.append(progression.amount)
        pain_during[j], rpe[j] = during, session_rpe
        if family.stretch:
            continue
        if during > 5 or unsettled[j]:
            progression.comfortable = 0
            if supervised[s]:
                progression.step_back()
        elif during <= 3 and session_rpe <= 7 and form[j] != FORMS.index("poor"):
            progression.comfortable += 1
            if supervised[s] and progression.comfortable >= 3:
                progression.step_up()
                progression.comfortable = 0
        else:
            progression.comfortable = 0
    return levels, np.array(sets), np.array(amounts), pain_during, rpe, form


def _add_warm_up(rows: SessionRows, codes: dict[tuple[str, str], int], sessions: Sessions, done: np.ndarray) -> None:
    rows.add(
        client=np.full(done.size, sessions.client),
        day=sessions.days[done],
        session_type=sessions.kinds[done],
        attended=np.ones(done.size, dtype=bool),
        exercise=np.full(done.size, codes[("", UNKNOWN_EXERCISE)]),
        sets=np.ones(done.size),
        hold_s=np.full(done.size, 60.0),
        side=np.full(done.size, 2),
        pain_before=sessions.before[done],
        **_not_recorded(done.size, "reps", "pain_during", "pain_after", "pain_next_day", "rpe", "form", "note"),
    )


def _add_exercise_rows(
    rng: np.random.Generator,
    rows: SessionRows,
    codes: dict[tuple[str, str], int],
    sessions: Sessions,
    does: np.ndarray,
    levels: list[Level],
    sets: np.ndarray,
    amounts: np.ndarray,
    during: np.ndarray,
    rpe: np.ndarray,
    form: np.ndarray,
) -> None:
    n = len(does)
    if n == 0:
        return
    exercise = np.array([codes[(lv.family, lv.name)] for lv in levels])
    holds = np.array([lv.dose.hold_s is not None for lv in levels])
    each_side = np.array([lv.each_side for lv in levels])
    # Unilateral exercises are logged once per side; the affected side often hurts a little more.
    expand = np.repeat(np.arange(n), np.where(each_side, 2, 1))
    first_row = np.r_[True, expand[1:] != expand[:-1]]
    side = np.where(each_side[expand], np.where(first_row, 0, 1), 2)
    during_rows = np.clip(during[expand] + np.where(side == 0, rng.choice([0.0, 0.5, 1.0], expand.size), 0.0), 0, 10)
    after = np.clip(during_rows - rng.choice([0.0, 0.5, 1.0], expand.size), 0, 10)
    after[rng.random(expand.size) < 0.1] = np.nan
    session = does[expand]
    home = sessions.kinds[session] == HOME
    rows.add(
        client=np.full(expand.size, sessions.client),
        day=sessions.days[session],
        session_type=sessions.kinds[session],
        attended=np.ones(expand.size, dtype=bool),
        exercise=exercise[expand],
        sets=sets[expand],
        reps=np.where(holds, np.nan, amounts)[expand],
        hold_s=np.where(holds, amounts, np.nan)[expand],
        side=side,
        pain_before=sessions.before[session],
        pain_during=during_rows,
        pain_after=after,
        pain_next_day=sessions.next_day[session],
        rpe=np.where(home & (rng.random(expand.size) < 0.3), np.nan, rpe[expand]),
        form=form[expand],
        note=np.where(first_row, sessions.notes[session], -1),
    )
