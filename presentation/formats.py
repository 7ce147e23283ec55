"""Numbers and dates in clinic words, the same on the pages and in the reports (no dash here, so the
reports can use it): 0.953 -> "95 %", -0.04 -> "+0.0", a missing value -> "–"."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd


def missing(value) -> bool:
    """None, NaN (Python or numpy), NA, NaT; a list or array of values is not missing."""
    if value is None:
        return True
    if isinstance(value, float | int):  # the common case, fast (numpy floats are floats too)
        return value != value  # NaN is the only value not equal to itself
    if isinstance(value, list | tuple | np.ndarray):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def known(value):
    """The value, or None when it is missing (a grid's JSON null, a chart's "no baseline")."""
    return None if missing(value) else value


def either(value, fallback):
    """The value, or `fallback` when it is missing or empty: a name, else the id."""
    return fallback if missing(value) or value == "" else value


def percent(value) -> str:
    """0.953 -> '95 %' (whole percent; an unknown value is a dash)."""
    return "–" if missing(value) else f"{round(100 * value):.0f} %"


def pain(value) -> str:
    return "–" if missing(value) else f"{value:.1f}"


def signed(value) -> str:
    """A change to one decimal, its sign always written, with a true minus: 2 -> '+2.0', -0.46 -> '−0.5',
    -0.04 -> '+0.0' (tables, stat cards and the reports, where changes line up)."""
    if missing(value):
        return "–"
    rounded = round(value, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:+.1f}".replace("-", "−")


def signed_short(value) -> str:
    """A change to at most one decimal, as short as it reads: 12 -> '+12', 1.5 -> '+1.5', -0.04 -> '+0'
    (a chart's title, beside its threshold: "+12, MCID 9")."""
    if missing(value):
        return "–"
    return f"{round(value, 1) + 0.0:+g}"  # + 0.0 turns a rounded -0.0 into +0


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def span(days: int) -> str:
    """A window in words: whole weeks as weeks (35 -> 'five weeks'), else days (10 -> '10 days')."""
    if days % 7 or days // 7 >= len(NUMBER_WORDS):
        return f"{days} day{'' if days == 1 else 's'}"
    weeks = days // 7
    return f"{NUMBER_WORDS[weeks]} week{'' if weeks == 1 else 's'}"


def day(value) -> str:
    """A date as the clinic reads it: 30 Oct 2026."""
    if missing(value):
        return "–"
    return pd.Timestamp(value).strftime("%-d %b %Y")


def iso(value) -> str | None:
    return None if missing(value) else pd.Timestamp(value).date().isoformat()


def parse_day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None
