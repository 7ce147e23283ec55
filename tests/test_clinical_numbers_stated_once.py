"""Every clinical threshold and window is stated once, in analytics/definitions.py: the pages (dashboard/, its
Python and its assets' JavaScript), the reports (their Python and templates) and the presentation layer take
them from there (analytics.definitions, presentation.in_words), never as a number typed again.

The patterns are made from the constants themselves, each in the clinical contexts it is written in: a
comparison (`< 0.6`, `>= 2`), a percent (`60 %`), a window (`14 days`, `6 weeks`, `4 wk`, `two weeks`,
`days=14`), points (`2 points`), an instrument's threshold (`LEFS 9`). Numbers in other contexts (CSS sizes,
plot margins, opacities) do not match; the few clinical-looking ones that are not clinical are allowed below,
each with its reason."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from analytics import definitions as d
from presentation.formats import NUMBER_WORDS

ROOT = Path(__file__).parents[1]


def scanned() -> list[Path]:
    """The files that show the numbers: the pages (Python and assets' JavaScript), the reports (Python and
    templates) and the presentation layer."""
    files = [
        *(ROOT / "dashboard").rglob("*.py"),
        *(ROOT / "dashboard" / "assets").rglob("*.js"),
        *(ROOT / "reports").rglob("*.py"),
        *(ROOT / "reports" / "templates").rglob("*.html"),
        *(ROOT / "presentation").rglob("*.py"),
    ]
    return sorted(files)


@dataclass(frozen=True)
class Restated:
    constant: str  # the name in analytics.definitions
    pattern: re.Pattern


STARTS = r"(?<![\w.])"  # a number that does not go on from a word or a number (114, v14, 1.14)
ENDS = r"(?![\d.]*\d)"  # and is not followed by more of it (140, 14.5)


def _number(value: float) -> str:
    """A number as it may be typed: 2 -> '2' or '2.0'; 0.5 -> '0.5' or '.5'."""
    text = f"{value:g}"
    if "." not in text:
        return rf"{text}(?:\.0+)?"
    whole, fraction = text.split(".")
    return rf"{'0?' if whole == '0' else whole}\.{fraction}0*"


def _restated() -> list[Restated]:
    found: list[tuple[str, str]] = []

    def fraction(name: str) -> None:
        value = getattr(d, name)
        found.append((name, rf"(?:[<>]=?|==|≥|≤)\s*{_number(value)}{ENDS}"))  # < 0.6
        found.append((name, rf"{STARTS}{round(100 * value)}\s?%"))  # 60 %

    def window_in_days(name: str) -> None:
        days = getattr(d, name)
        found.append((name, rf"{STARTS}{days}[\s-]*days?\b"))  # 14 days
        found.append((name, rf"\bdays\s*=\s*{days}{ENDS}"))  # Timedelta(days=14)
        if days % 7 == 0:
            window_in_weeks(name, days // 7)

    def window_in_weeks(name: str, weeks: int) -> None:
        found.append((name, rf"{STARTS}{weeks}[\s-]*(?:weeks?|wk)\b"))  # 6 weeks, 4 wk
        if weeks < len(NUMBER_WORDS):
            found.append((name, rf"\b{NUMBER_WORDS[weeks]}[\s-]+weeks?\b"))  # two weeks

    def at_least(name: str) -> None:
        value = _number(getattr(d, name))
        found.append((name, rf"(?:>=|≥)\s*{value}{ENDS}"))  # >= 2
        found.append((name, rf"{STARTS}{value} or more\b"))  # 2 or more

    def above(name: str) -> None:
        value = _number(getattr(d, name))
        found.append((name, rf"(?:\s>|\babove)\s*{value}{ENDS}"))  # > 5, above 5

    for name in ("ADHERENT", "LOW_ADHERENCE", "PAIN_MCID_FRACTION"):
        fraction(name)
    for name in ("BASELINE_DAYS", "CURRENT_DAYS", "TREND_DAYS", "RED_FLAG_DAYS", "FLARE_DAYS", "LAPSED_DAYS"):
        window_in_days(name)
    window_in_days("EXERCISE_DAYS")
    window_in_weeks("RECENT_WEEKS", d.RECENT_WEEKS)
    window_in_weeks("TREND_WEEKS", d.TREND_WEEKS)
    window_in_weeks("PROGRESS_ADHERENCE_WEEKS", d.PROGRESS_ADHERENCE_WEEKS)
    found.append(("PLATEAU_FROM_WEEK", rf"\bweek\s+{d.PLATEAU_FROM_WEEK}{ENDS}"))  # week 8
    found.append(("PAIN_MCID_POINTS", rf"{STARTS}{_number(d.PAIN_MCID_POINTS)}\s+points?\b"))
    for name in ("PAIN_MCID_POINTS", "FLARE_NEXT_DAY_RISE", "REGRESS_NEXT_DAY_RISE", "TREND_MIN_DAYS"):
        at_least(name)
    for name in ("FLARE_PAIN_DURING", "REGRESS_PAIN_DURING"):
        above(name)
    found.append(("TREND_WORSE_PER_WEEK", rf"{STARTS}{_number(d.TREND_WORSE_PER_WEEK)}\s*(?:a|/|per)\s*week"))
    found.append(("HOLD_RPE", rf"\bRPE\s*(?:of\s*)?{_number(d.HOLD_RPE)}{ENDS}"))
    found.append(("EVIDENCE_NOTE_CHARS", rf"{STARTS}{d.EVIDENCE_NOTE_CHARS}\s*(?:characters|chars)\b"))
    for code, threshold in d.FUNCTION_THRESHOLDS.items():  # LEFS 9, HOOS JR 18
        spelled = re.escape(code).replace("_", "[_ ]")
        found.append((f"FUNCTION_THRESHOLDS[{code!r}]", rf"\b{spelled}\s+{_number(threshold.points)}{ENDS}"))
    return [Restated(name, re.compile(pattern)) for name, pattern in found]


RESTATED = _restated()

# (file, a piece of the line): why the number there is not a clinical one.
ALLOWED = {
    ("reports/charts.py", "about 80 % of the cost"): "a share of the time a report took to render, not adherence",
}


def restatements(line: str) -> list[str]:
    """The constants a line restates as a literal."""
    return sorted({r.constant for r in RESTATED if r.pattern.search(line)})


def _allowed(path: str, line: str) -> bool:
    return any(path == where and piece in line for where, piece in ALLOWED)


def test_no_clinical_number_is_typed_outside_the_analytics():
    typed = []
    for path in scanned():
        where = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            names = restatements(line)
            if names and not _allowed(where, line):
                typed.append(f"{where}:{number}: {line.strip()!r} restates {', '.join(names)}")
    assert typed == [], "take these from analytics.definitions (or presentation.in_words):\n" + "\n".join(typed)


def test_every_allowance_is_still_needed():
    for (where, piece), reason in ALLOWED.items():
        text = (ROOT / where).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if piece in line]
        assert lines and any(restatements(line) for line in lines), f"{where}: {piece!r} ({reason}) is gone"


@pytest.mark.parametrize(
    ("line", "constant"),
    [
        ('"cellClassRules": {"low": "params.value != null && params.value < 0.6"}}', "LOW_ADHERENCE"),
        ("adherent; under 60 % is low.</p>", "LOW_ADHERENCE"),
        ('ADHERENT_LABEL = "Adherent ≥ 80 %"', "ADHERENT"),
        ("if share >= 0.80:", "ADHERENT"),
        ('"over the last 6 weeks", id="stat-trend"),', "TREND_WEEKS"),
        ('f"{n} in the last 14 days", id="stat-last"),', "LAPSED_DAYS"),
        ("<p>No exercises logged in the last 21 days.</p>", "EXERCISE_DAYS"),
        ('{"headerName": "Adherence 4 wk"}', "RECENT_WEEKS"),
        ("mean of the pain ratings in the first two weeks", "BASELINE_DAYS"),
        ("return first, max(last, first + pd.Timedelta(days=14))", "BASELINE_DAYS"),
        ("pain down by 2 points or 30 % or more", "PAIN_MCID_POINTS"),
        ("pain down by 2 points or 30 % or more", "PAIN_MCID_FRACTION"),
        ("improved when the fall is >= 2", "PAIN_MCID_POINTS"),
        ("pain the next day 2 or more above pain before", "FLARE_NEXT_DAY_RISE"),
        ('"cellClassRules": {"low": "params.value != null && params.value > 5"}}', "FLARE_PAIN_DURING"),
        ("Flares (pain during above 5) are crosses", "FLARE_PAIN_DURING"),
        ("or rises 0.5 a week or more", "TREND_WORSE_PER_WEEK"),
        ("week 8 or later with no improvement", "PLATEAU_FROM_WEEK"),
        ("(ODI 10, Ostelo 2008; LEFS 9, Binkley 1999)", "FUNCTION_THRESHOLDS['LEFS']"),
        ("HOOS JR 18 (Hung 2018)", "FUNCTION_THRESHOLDS['HOOS_JR']"),
    ],
)
def test_a_number_typed_back_is_caught(line, constant):
    assert constant in restatements(line)


@pytest.mark.parametrize(
    "line",
    [
        '"bgcolor": "rgba(255, 255, 255, 0.8)",',
        '"range": [-0.6, len(rows) - 0.4],',
        '"margin": {"l": 56, "r": 16, "t": 56, "b": 44},',
        'style={"width": "100%"},',
        '"opacity": 0.85, "size": 14, "height": 280,',
        "if len(by_day) < 2:",
        '"dtick": 1 if weeks <= 16 else 2,',
        "'Priya Ahmed · Mon 18:00 · from 31 Aug 2026 · 8 weeks', leaving out what the roster does not say.",
        'f"Adherence, last {RECENT_WEEKS} weeks"',
        "params.value < {LOW_ADHERENCE!r}",
        "the last 114 days or 1.5 points",
    ],
)
def test_numbers_in_other_contexts_are_not_taken_for_clinical_ones(line):
    assert restatements(line) == []
