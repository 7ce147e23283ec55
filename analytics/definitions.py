"""The thresholds of docs/metrics.md, each with its source. Both the SQL and the pandas reference read them from
here."""

from __future__ import annotations

from dataclasses import dataclass

from etl.instruments import INSTRUMENTS
from etl.rules import TOLERANCE as TOLERANCE  # stated once, in etl: see below

# Adherence: "adherent" is >= 80 %, the most common threshold in the exercise-adherence literature
# (BJSM 2018; Bailey et al.); "low" is < 60 % over the last 4 weeks.
ADHERENT = 0.80
LOW_ADHERENCE = 0.60
RECENT_WEEKS = 4

# Pain baseline: the pain points of days 0-13 of the episode; current pain: the 14 days ending today.
BASELINE_DAYS = 14
CURRENT_DAYS = 14
# Pain trend: OLS slope over the 42 days ending today, needing >= 3 points on >= 2 distinct days.
TREND_DAYS = 42
TREND_WEEKS = TREND_DAYS // 7  # the same window as the pages, the reports and the flag's evidence say it
TREND_MIN_POINTS = 3
TREND_MIN_DAYS = 2  # the SQL reads this as: first day < last day
# A rise of half a point a week or more is worsening for the caseload flag.
TREND_WORSE_PER_WEEK = 0.5

# Clinically important change in NPRS pain: 2 points or 30 % of baseline (Ostelo 2008 consensus;
# MCID 2.2 at 1 week and 1.5 at 4 weeks in low-back physiotherapy, Childs 2005).
PAIN_MCID_POINTS = 2.0
PAIN_MCID_FRACTION = 0.30


def pain_improvement_threshold(baseline: float) -> float:
    """The pain at or below which the fall from `baseline` is clinically important: the easier of the two
    rules above (the fraction needs a baseline above 0). client_metrics.sql's pain_status applies this rule
    to the numbers; the charts draw its lines with these two functions."""
    if baseline > 0:
        return baseline - min(PAIN_MCID_POINTS, PAIN_MCID_FRACTION * baseline)
    return baseline - PAIN_MCID_POINTS


def pain_worsening_threshold(baseline: float) -> float:
    """The pain at or above which the rise from `baseline` is clinically important (the points alone)."""
    return baseline + PAIN_MCID_POINTS


# Flare (pain-monitoring model, Silbernagel 2007): pain during above 5, or pain the next day 2 or more
# above pain before (it did not settle overnight).
FLARE_PAIN_DURING = 5.0
FLARE_NEXT_DAY_RISE = 2.0

# Windows of the caseload flags.
RED_FLAG_DAYS = 14
FLARE_DAYS = 14
LAPSED_DAYS = 14
PLATEAU_FROM_WEEK = 8

# Recommended next progressions (docs/recommendations.md), after the pain-monitoring model (Silbernagel 2007):
# pain during up to 5 is acceptable while loading, 0-3 is the "safe" zone in which to progress,
# and pain that has not settled by the next morning means the load was too much.
EXERCISE_DAYS = 21  # a recommendation for every exercise done in the 21 days ending today
REGRESS_PAIN_DURING = 5.0  # regress: pain during above 5 in either of the last 2 exposures
REGRESS_NEXT_DAY_RISE = 2.0  # ... or pain the next day 2 or more above pain before
HOLD_MIN_EXPOSURES = 3  # hold: fewer than 3 exposures at the current level
HOLD_PAIN_DURING = 3.0  # hold: pain during above 3 (4-5 is "acceptable", not yet "safe") in the last 3
HOLD_RPE = 8.0  # hold: RPE 8 or more (Borg CR-10: "very hard") in the last 3
PROGRESS_ADHERENCE_WEEKS = 2  # hold: adherence under ADHERENT over the current and previous program week
# Dose steps: sets 2 -> 3, holds +10 s up to 30 s, reps +2 up to the ceiling, then a slower tempo.
SETS_STEP = 1
HOLD_STEP_S = 10
REPS_STEP = 2
DECISIONS = ("refer", "regress", "hold", "progress")

# Scores are means of halves and decimals: two numbers closer than TOLERANCE are equal, so a change of
# exactly 2 points is not lost to floating point (5.1 - 3.1 = 1.9999999999999996). It is the loader's
# tolerance (etl.rules.TOLERANCE, imported above), the same number for the same reason, so it is stated
# once, there: etl may not import analytics.

# Red-flag review (docs/metrics.md): a physio's outcome for a client's red-flag notes. A review covers the notes
# dated on or before its day; `referred` and `paused` put the client on hold until a later `cleared`.
REVIEW_OUTCOMES = ("cleared", "referred", "paused")
HOLDING_OUTCOMES = ("referred", "paused")

# Caseload flags in priority order (docs/metrics.md): a client shows all that apply, sorted by the highest.
FLAGS = ("refer", "on_hold", "pain_worse", "flare", "low_adherence", "lapsed", "plateau", "ready_to_progress")

# What each flag means, in words, from the numbers above (the pages show it where a flag has no evidence).
FLAG_EXPLANATIONS = {
    "refer": f"a red-flag note in the last {RED_FLAG_DAYS} days (swelling, instability, numbness, night pain, a fall) "
    "that no review covers",
    "on_hold": "a red-flag review referred the client on or paused exercise, and no later review cleared it",
    "pain_worse": f"pain is clinically worse than baseline ({PAIN_MCID_POINTS:g} points or more), or rises "
    f"{TREND_WORSE_PER_WEEK:g} a week or more",
    "flare": f"a flare in the last {FLARE_DAYS} days: pain during above {FLARE_PAIN_DURING:g}, or pain the next day "
    f"{FLARE_NEXT_DAY_RISE:g} or more above pain before",
    "low_adherence": f"attended under {100 * LOW_ADHERENCE:.0f} % of target sessions over the last "
    f"{RECENT_WEEKS} weeks",
    "lapsed": f"no attended session in the last {LAPSED_DAYS} days",
    "plateau": f"week {PLATEAU_FROM_WEEK} or later with no clinically important improvement in pain or function",
    "ready_to_progress": "at least one exercise is recommended to progress",
}
# The evidence quotes a red-flag note up to this many characters (the client page shows it whole).
EVIDENCE_NOTE_CHARS = 80


@dataclass(frozen=True)
class FunctionThreshold:
    instrument: str
    points: float  # the change that counts as clinically important
    kind: str  # MCID, or MDC where no MCID is established
    source: str


# docs/metrics.md#function-change-thresholds. Single-leg stance with a side (SLS_S_L, SLS_S_R) uses SLS_S.
FUNCTION_THRESHOLDS: dict[str, FunctionThreshold] = {
    t.instrument: t
    for t in (
        FunctionThreshold("ODI", 10, "MCID", "Ostelo 2008"),
        FunctionThreshold("LEFS", 9, "MCID", "Binkley 1999"),
        FunctionThreshold("PSFS", 2, "MCID", "Stratford 1995"),
        FunctionThreshold("HOOS_JR", 18, "MCID", "Hung 2018 (median)"),
        FunctionThreshold("KOOS_JR", 15, "MCID", "Hung 2018 (median)"),
        FunctionThreshold("CST30", 2.5, "MDC", "knee OA test-retest study"),
        FunctionThreshold("TUG_S", 1.1, "MDC", "knee OA test-retest study"),
        FunctionThreshold("SLS_S", 24, "MDC95", "community-dwelling older adults (poorly responsive)"),
    )
}


def function_threshold(instrument: str) -> FunctionThreshold:
    return FUNCTION_THRESHOLDS["SLS_S" if instrument in ("SLS_S_L", "SLS_S_R") else instrument]


def function_instruments() -> list[tuple[str, float, bool]]:
    """(instrument, threshold, higher_is_better) for every instrument of the measures except NPRS (pain)."""
    return [(i.code, function_threshold(i.code).points, i.higher_is_better) for i in INSTRUMENTS if i.code != "NPRS"]
