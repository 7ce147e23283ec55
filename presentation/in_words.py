"""The windows and thresholds of analytics.definitions in the words the pages and the reports share.

Each is written from its constant, never typed again: change a number in analytics.definitions and the
pages, the reports and the flags' evidence all say the new one (tests/test_clinical_numbers_stated_once.py
fails on a number typed back). The templates get them as `rules` (`TEMPLATE_RULES`)."""

from __future__ import annotations

from analytics.definitions import (
    ADHERENT,
    BASELINE_DAYS,
    CURRENT_DAYS,
    EXERCISE_DAYS,
    LAPSED_DAYS,
    LOW_ADHERENCE,
    PAIN_MCID_FRACTION,
    PAIN_MCID_POINTS,
    RECENT_WEEKS,
    TREND_WEEKS,
)
from presentation.formats import percent, span

ADHERENT_FROM = percent(ADHERENT)  # adherent at or above it
LOW_ADHERENCE_BELOW = percent(LOW_ADHERENCE)  # low adherence under it
RECENT_ADHERENCE = f"Adherence, last {RECENT_WEEKS} weeks"
TREND_WINDOW = f"over the last {TREND_WEEKS} weeks"
LAPSED_WINDOW = f"in the last {LAPSED_DAYS} days"  # the sessions attended that keep a client from lapsing
NO_EXERCISES = f"No exercises logged in the last {EXERCISE_DAYS} days"  # so no recommendation
RECOMMENDATIONS = f"One recommendation per exercise done in the last {EXERCISE_DAYS} days"
BASELINE_WINDOW = span(BASELINE_DAYS)  # the first of the episode
CURRENT_WINDOW = span(CURRENT_DAYS)  # the last, ending today
PAIN_IMPROVEMENT = f"{PAIN_MCID_POINTS:g} points or {percent(PAIN_MCID_FRACTION)}"  # a fall of either
PAIN_WORSENING = f"{PAIN_MCID_POINTS:g} points"  # a rise of it


def _the_last(window: str, like: str) -> str:
    """A window after another in the same unit drops its unit: 'the first n weeks ... the last n'."""
    number, _, unit = window.partition(" ")
    return number if unit == like.partition(" ")[2] else window


# docs/metrics.md#per-client in words, for a reader who is not a physiotherapist (the reports).
PAIN_STATUS_WORDS = {
    "improved": f"clinically important improvement (pain down by {PAIN_IMPROVEMENT} or more)",
    "worse": f"clinically important worsening (pain up by {PAIN_WORSENING} or more)",
    "no important change": "no clinically important change",
    "not enough data": f"not enough data (no pain rating in the first {BASELINE_WINDOW} or in the last "
    f"{_the_last(CURRENT_WINDOW, BASELINE_WINDOW)})",
}

TEMPLATE_RULES = {
    "adherent_from": ADHERENT_FROM,
    "low_adherence_below": LOW_ADHERENCE_BELOW,
    "recent_weeks": RECENT_WEEKS,
    "recent_adherence": RECENT_ADHERENCE,
    "trend_window": TREND_WINDOW,
    "no_exercises": NO_EXERCISES,
    "baseline_window": BASELINE_WINDOW,
    "current_window": CURRENT_WINDOW,
    "pain_improvement": PAIN_IMPROVEMENT,
}
