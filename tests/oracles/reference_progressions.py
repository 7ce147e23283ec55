"""A plain Python reference of the recommendation engine (docs/recommendations.md), written from
docs/recommendations.md.

Slow on purpose and written to be checked line by line against the doc: it walks each client's
session-log rows in Python loops and shares no SQL with the fast path (the loader's
`exposure_summary`, `analytics/sql/exposure_runs.sql`, `analytics/sql/recommendations.sql`). It
reads only the exercise library (`etl.library`), the thresholds (`analytics.definitions`) and the
red-flag word list (`analytics.red_flags`), as the pandas reference of docs/metrics.md
(`tests.oracles.reference`) does. Tests use it as an independent oracle.

Where the doc leaves a choice open, the choice made here is written next to the code ("doc: silent").
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from analytics import definitions as d
from analytics.red_flags import RedFlagWords, load_red_flag_words
from analytics.scope import Scope
from etl.library import Family, Level, ladder_of, load_library, name_key

COLUMNS = [
    "client_id",
    "family",
    "ladder",
    "exercise",
    "level",
    "decision",
    "next_exercise",
    "next_level",
    "next_sets",
    "next_reps",
    "next_hold_s",
    "next_tempo",
    "exposures_at_level",
]

FORM_RANK = {"good": 1, "fair": 2, "poor": 3}  # worse is higher


def _value(x):
    """None for a missing value (pandas gives NaN, NaT or None), the value otherwise."""
    return None if x is None or (not isinstance(x, str) and pd.isna(x)) else x


def _day(x) -> date | None:
    x = _value(x)
    return None if x is None else pd.Timestamp(x).date()


def _number(x):
    """A whole number as int, any other number as float, None when missing."""
    x = _value(x)
    if x is None:
        return None
    x = float(x)
    return int(x) if x.is_integer() else x


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


# --- the exercise library ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rung:
    """A level of the library with its family (a stretch is a family's level too, but its own ladder)."""

    family: Family
    level: Level

    @property
    def ladder(self) -> str:
        return ladder_of(self.level, self.family)

    @property
    def stretch(self) -> bool:
        return self.family.stretch

    @property
    def counts_holds(self) -> bool:
        return self.level.dose.hold_s is not None


class Library:
    def __init__(self, families: dict[str, Family]) -> None:
        self.families = families
        self.by_name: dict[str, Rung] = {}
        for family in families.values():
            for level in family.levels:
                for name in (level.name, *level.aliases):
                    self.by_name[name_key(name)] = Rung(family, level)

    def rung(self, exercise: str) -> Rung | None:
        """The level a logged name means: its name or an alias, after name_key."""
        return self.by_name.get(name_key(exercise))

    def at(self, rung: Rung, level: int) -> Rung | None:
        """Another level of the same ladder (None: there is none; a stretch has only itself)."""
        if rung.stretch:
            return rung if level == rung.level.level else None
        for lv in rung.family.levels:
            if lv.level == level:
                return Rung(rung.family, lv)
        return None

    def top(self, rung: Rung) -> int:
        return max(lv.level for lv in rung.family.levels)


# --- exposures --------------------------------------------------------------------------------------


SESSION_ORDER = {None: 0, "clinic": 1, "home": 2, "studio": 3}


@dataclass
class Exposure:
    """One attended session of a ladder, described by the rows of its higher level."""

    day: date
    session_type: str | None
    rung: Rung | None  # the library level (None for an unknown exercise)
    logged_as: str
    pain_during: float | None  # the highest recorded
    pain_missing: bool  # a row lacks it: "pain during not recorded"
    rise: float | None  # the highest pain_next_day - pain_before; None if no row has both
    rpe: float | None  # the highest
    form: str | None  # the worst
    sets: int | None  # the lowest recorded
    reps: int | None
    hold_s: float | None
    sets_missing: bool  # a row lacks it
    reps_missing: bool
    hold_s_missing: bool

    @property
    def level(self) -> int | None:
        return None if self.rung is None else self.rung.level.level

    def order(self) -> tuple:
        # Two exposures on one day are in time order clinic, home, studio. doc: silent on a session
        # without a type. Chosen: it is the earliest of its day.
        return (self.day, SESSION_ORDER.get(self.session_type, 0))

    def dose_missing(self, holds: bool) -> bool:
        """ "dose not recorded": a row lacks the sets or the level's unit."""
        return self.sets_missing or (self.hold_s_missing if holds else self.reps_missing)


def _highest(values):
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _lowest(values):
    values = [v for v in values if v is not None]
    return min(values) if values else None


def _exposure(day: date, session_type: str | None, rung: Rung | None, rows: list[dict]) -> Exposure:
    def column(name):
        return [_number(r[name]) for r in rows]

    rises = [
        _number(r["pain_next_day"]) - _number(r["pain_before"])
        for r in rows
        if _number(r["pain_next_day"]) is not None and _number(r["pain_before"]) is not None
    ]
    forms = [_value(r["form"]) for r in rows if _value(r["form"]) is not None]
    return Exposure(
        day=day,
        session_type=session_type,
        rung=rung,
        # doc: silent on which spelling names an exercise logged two ways in one session. Chosen: the
        # first in code-point order. (It shows only for an unknown exercise.)
        logged_as=min(str(r["exercise"]) for r in rows),
        pain_during=_highest(column("pain_during")),
        pain_missing=None in column("pain_during"),
        rise=max(rises) if rises else None,
        rpe=_highest(column("rpe")),
        form=max(forms, key=FORM_RANK.__getitem__) if forms else None,
        sets=_lowest(column("sets")),
        reps=_lowest(column("reps")),
        hold_s=_lowest(column("hold_s")),
        sets_missing=None in column("sets"),
        reps_missing=None in column("reps"),
        hold_s_missing=None in column("hold_s"),
    )


def _exposures(rows: list[dict], library: Library, today: date) -> dict[str, list[Exposure]]:
    """One client's exposures by ladder, newest first."""
    sessions = defaultdict(lambda: defaultdict(list))  # (ladder, day, type) -> level -> rows
    rung_at = {}  # (ladder, level) -> the rung
    for row in rows:
        exercise = _value(row["exercise"])
        day = _day(row["session_date"])
        if exercise is None or not bool(row["attended"]) or day > today:
            continue
        rung = library.rung(exercise)
        ladder = rung.ladder if rung else f"unknown: {name_key(exercise)}"
        level = rung.level.level if rung else None
        sessions[(ladder, day, _value(row["session_type"]))][level].append(row)
        rung_at[(ladder, level)] = rung
    exposures = defaultdict(list)
    for (ladder, day, session_type), levels in sessions.items():
        # two levels of a family in one session: the exposure is at the higher one, described by its
        # rows only (all of them, under whichever names and spellings they were logged)
        level = None if None in levels else max(levels)
        exposures[ladder].append(_exposure(day, session_type, rung_at[(ladder, level)], levels[level]))
    for found in exposures.values():
        found.sort(key=Exposure.order, reverse=True)
    return exposures


# --- adherence (docs/metrics.md weekly series, as tests.oracles.reference computes it) ---------------------------


def _week(day: date, start: date) -> int:
    return (day - start).days // 7 + 1


def _adherence_last_2_weeks(client: dict | None, rows: list[dict], today: date) -> float | None:
    """Attended / target over the episode's last two program weeks; None without an episode."""
    if client is None:
        return None
    start = _day(client["start_date"])
    if start is None or start > today:
        return None
    spw = int(client["sessions_per_week"])
    end = _day(client["end_date"])
    current_week = _week(today, start)
    last_week = _week(min(today, end) if end else today, start)
    attended_sessions = {
        (_day(r["session_date"]), _value(r["session_type"]))
        for r in rows
        if bool(r["attended"]) and start <= _day(r["session_date"]) <= today
    }
    attended_total = target_total = 0
    for week in range(max(1, last_week - 1), last_week + 1):
        attended = sum(1 for day, _ in attended_sessions if _week(day, start) == week)
        target = spw
        elapsed = (today - start).days % 7 + 1
        if week == current_week and elapsed < 7:
            target = max(1, math.floor(spw * elapsed / 7))
        attended_total += min(attended, target)
        target_total += target
    return attended_total / target_total


# --- decisions --------------------------------------------------------------------------------------


@dataclass
class Decision:
    decided_on: date
    level: int | None
    sets: int | None
    reps: int | None
    hold_s: float | None
    tempo: str | None


def _decisions_in_force(decisions: pd.DataFrame | None, today: date) -> dict[tuple[str, str], Decision]:
    """Per client and ladder: the newest decision that changed the level or the dose, made by today."""
    in_force = {}
    if decisions is None or decisions.empty:
        return in_force
    for row in sorted(decisions.to_dict("records"), key=lambda r: int(r["decision_id"])):
        decided_on = _day(row["decided_on"])
        if not int(row["changes"]) or decided_on > today:  # no change restarts nothing; future ones are ignored
            continue
        in_force[(row["client_id"], row["ladder"])] = Decision(
            decided_on,
            _number(row["level"]),
            _number(row["sets"]),
            _number(row["reps"]),
            _number(row["hold_s"]),
            _value(row["tempo"]),
        )
    return in_force


# --- the engine -------------------------------------------------------------------------------------


@dataclass
class Dose:
    sets: int | None
    amount: float | None  # reps or hold seconds, by the unit
    holds: bool  # the unit: hold seconds (True) or reps
    tempo: str | None


def reference_recommendations(
    clients: pd.DataFrame,
    session_log: pd.DataFrame,
    scope: Scope,
    today: date,
    words: RedFlagWords | None = None,
    decisions: pd.DataFrame | None = None,
    reviews: pd.DataFrame | None = None,
    families: dict[str, Family] | None = None,
) -> pd.DataFrame:
    """One row per client and ladder with an exposure in the 21 days ending today: `COLUMNS`.
    `reviews`: the red-flag reviews (`analytics.reviews.read_reviews`) that rule 1 follows."""
    words = words or load_red_flag_words()
    library = Library(families or load_library())
    in_force = _decisions_in_force(decisions, today)
    client_of = {c["client_id"]: c for c in clients.to_dict("records")}
    rows_of = defaultdict(list)
    for row in session_log.to_dict("records"):
        if scope.client_ids is None or row["client_id"] in scope.client_ids:
            rows_of[row["client_id"]].append(row)

    result = []
    for client_id in sorted(rows_of):
        rows = rows_of[client_id]
        newest_review = _newest_review(reviews, client_id, today)
        reviewed_until = None if newest_review is None else _day(newest_review["reviewed_on"])
        red_flag = any(
            today - timedelta(days=d.RED_FLAG_DAYS) < _day(r["session_date"]) <= today
            and (reviewed_until is None or _day(r["session_date"]) > reviewed_until)
            and words.is_red_flag(_value(r["notes"]))
            for r in rows
        ) or (newest_review is not None and newest_review["outcome"] in d.HOLDING_OUTCOMES)
        adherence = _adherence_last_2_weeks(client_of.get(client_id), rows, today)
        for ladder, exposures in sorted(_exposures(rows, library, today).items()):
            if exposures[0].day <= today - timedelta(days=d.EXERCISE_DAYS):
                continue  # not done in the 21 days ending today
            decision = in_force.get((client_id, ladder))
            result.append(_recommend(client_id, ladder, exposures, library, decision, red_flag, adherence))
    return pd.DataFrame(result, columns=COLUMNS)


def _newest_review(reviews: pd.DataFrame | None, client_id: str, today: date) -> dict | None:
    """The client's newest red-flag review made by today (it covers the notes up to its day and says
    whether the client is on hold)."""
    if reviews is None or reviews.empty:
        return None
    own = [r for r in reviews.to_dict("records") if r["client_id"] == client_id and _day(r["reviewed_on"]) <= today]
    return max(own, key=lambda r: (_day(r["reviewed_on"]), r["review_id"]), default=None)


def _recommend(
    client_id: str,
    ladder: str,
    exposures: list[Exposure],
    library: Library,
    decision: Decision | None,
    red_flag: bool,
    adherence: float | None,
) -> dict:
    newest = exposures[0]

    # The current level and dose: the newest exposure's, or those of a decision that changed the
    # level or the dose made on or after the newest exposure's day.
    decision_rules = decision is not None and decision.decided_on >= newest.day
    rung = newest.rung
    if decision_rules and rung is not None and not rung.stretch:
        rung = library.at(rung, decision.level)  # a stretch or an unknown exercise keeps its "level"
    holds = _counts_holds(rung, decision if decision_rules else None, newest)
    if decision_rules:
        dose = Dose(decision.sets, decision.hold_s if holds else decision.reps, holds, decision.tempo)
    else:
        dose = Dose(newest.sets, newest.hold_s if holds else newest.reps, holds, None)
        if decision is not None and _level_kept_since(exposures, decision, rung):
            dose.tempo = decision.tempo  # a tempo set by a decision stays with the level until it changes
    current_level = None if rung is None else rung.level.level

    # The exposures at the current level: the newest, back to one at another level, or to the day of
    # a decision that changed the level or the dose (they start again after it).
    run = []
    for e in exposures:
        if e.level != current_level or (decision is not None and e.day <= decision.decided_on):
            break
        run.append(e)
    last_2, last_3 = run[:2], run[:3]

    in_library = rung is not None
    stretch = in_library and rung.stretch
    hold_due = _hold_due(run, last_3, rung, adherence)
    if red_flag:
        outcome = "refer"
    elif any(
        (e.pain_during is not None and e.pain_during > d.REGRESS_PAIN_DURING)
        or (e.rise is not None and e.rise >= d.REGRESS_NEXT_DAY_RISE)
        for e in last_2
    ):
        outcome = "regress"
    elif hold_due or stretch or not in_library:
        outcome = "hold"
    else:
        outcome = "progress"

    next_rung, next_dose = rung, Dose(dose.sets, dose.amount, dose.holds, dose.tempo)
    if outcome == "regress":
        if in_library and not stretch and current_level > 1:
            next_rung = library.at(rung, current_level - 1)  # one level back, at its target dose
            next_dose = _target(next_rung)
        elif dose.amount is not None:  # cut the dose by a third: reps or hold seconds x 2/3, at least 1
            next_dose.amount = max(1, _round_half_up(dose.amount * 2 / 3))
    elif outcome == "progress" or (outcome == "hold" and stretch and not hold_due):
        next_rung, next_dose = _step(rung, dose, library)  # a stretch that passed every check is dosed
    elif outcome == "hold" and in_library:
        target = _target(rung)  # hold: the dose done, or the level's target dose when less was done
        if (dose.sets is not None and dose.sets < target.sets) or (
            dose.amount is not None and target.amount is not None and dose.amount < target.amount
        ):
            next_dose = Dose(target.sets, target.amount, rung.counts_holds, dose.tempo)

    laddered = in_library and not stretch
    return {
        "client_id": client_id,
        "family": rung.family.family if rung else None,
        "ladder": ladder,
        "exercise": rung.level.name if rung else newest.logged_as,
        "level": current_level if laddered else None,
        "decision": outcome,
        "next_exercise": next_rung.level.name if next_rung else newest.logged_as,
        "next_level": next_rung.level.level if laddered else None,
        "next_sets": next_dose.sets,
        "next_reps": None if next_dose.holds else next_dose.amount,
        "next_hold_s": next_dose.amount if next_dose.holds else None,
        "next_tempo": next_dose.tempo,
        "exposures_at_level": len(run),
    }


def _counts_holds(rung: Rung | None, decision: Decision | None, newest: Exposure) -> bool:
    """The level's unit: hold seconds or reps.

    doc: silent on the unit of an unknown exercise. Chosen: reps when the current dose has them,
    else hold seconds when it has those, else reps.
    """
    if rung is not None:
        return rung.counts_holds
    source = decision or newest
    return source.reps is None and source.hold_s is not None


def _level_kept_since(exposures: list[Exposure], decision: Decision, rung: Rung | None) -> bool:
    """The level has not changed since the decision: every exposure after it was at the decision's
    level, which is the current level (a stretch or an unknown exercise has one level only)."""
    if rung is None or rung.stretch:
        return True
    after = [e for e in exposures if e.day > decision.decided_on]
    return rung.level.level == decision.level and all(e.level == decision.level for e in after)


def _hold_due(run: list[Exposure], last_3: list[Exposure], rung: Rung | None, adherence: float | None) -> bool:
    if len(run) < d.HOLD_MIN_EXPOSURES:
        return True
    if adherence is None or adherence < d.ADHERENT - d.TOLERANCE:
        return True
    for e in last_3:
        if e.pain_missing or e.pain_during > d.HOLD_PAIN_DURING:
            return True
        if e.rise is not None and e.rise > 0:
            return True
        if e.form == "poor":
            return True
        if e.rpe is not None and e.rpe >= d.HOLD_RPE:
            return True
        if rung is not None:
            if e.dose_missing(rung.counts_holds):  # dose not recorded
                return True
            amount = e.hold_s if rung.counts_holds else e.reps
            target = rung.level.dose
            if e.sets < target.sets or amount < (target.hold_s if rung.counts_holds else target.reps):
                return True
    return False


def _target(rung: Rung) -> Dose:
    target = rung.level.dose
    return Dose(target.sets, target.hold_s if rung.counts_holds else target.reps, rung.counts_holds, target.tempo)


def _step(rung: Rung, dose: Dose, library: Library) -> tuple[Rung, Dose]:
    """The next dose step: sets, then reps or holds, then tempo, then the next level; past the ceiling at the top."""
    ceiling = rung.level.ceiling
    ceiling_amount = ceiling.hold_s if dose.holds else ceiling.reps
    step = d.HOLD_STEP_S if dose.holds else d.REPS_STEP
    if dose.sets < ceiling.sets:
        return rung, Dose(min(ceiling.sets, dose.sets + d.SETS_STEP), dose.amount, dose.holds, dose.tempo)
    if dose.amount < ceiling_amount:
        return rung, Dose(dose.sets, min(ceiling_amount, dose.amount + step), dose.holds, dose.tempo)
    if rung.stretch:  # stretches stay at their ceiling
        return rung, dose
    if ceiling.tempo is not None and dose.tempo != ceiling.tempo:
        return rung, Dose(dose.sets, dose.amount, dose.holds, ceiling.tempo)
    if rung.level.level < library.top(rung):
        following = library.at(rung, rung.level.level + 1)
        return following, _target(following)
    return rung, Dose(dose.sets, dose.amount + step, dose.holds, dose.tempo)
