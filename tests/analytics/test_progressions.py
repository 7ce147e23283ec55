"""Recommended next progressions (docs/recommendations.md), one vignette at a time.

Each vignette is a short session history of one client, written out below, with the recommendation
a clinician would work out by hand from the rules. The vignettes are loaded together, each client
under an id of its own, and read in one build per day a vignette is seen on (the engine works per
client: one load and one build took a second per vignette). The client starts on Monday 2026-06-01 with 3
sessions a week; unless a vignette says otherwise, today is Friday 2026-06-26 (week 4, day 5: its
target is floor(3 × 5 / 7) = 2) and the client came on Mon/Wed/Fri of weeks 3 and 4 (a hip-flexor
stretch each time), so adherence over the current and previous week is (3 + 2) / (3 + 2) = 100 %.

The bridge ladder (data/exercise_library.yaml): 1 supine pelvic tilt 2 × 10 (ceiling 3 × 15),
2 bridge 2 × 10 s hold (ceiling 3 × 30 s), 3 bridge with slow tempo 2 × 8 (ceiling 3 × 12 at
4-2-4), 4 bridge march, 5 single-leg bridge, 6 bridge with band around knees 2 × 10 (ceiling 3 × 15
at 3-2-3, the top).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pytest

from analytics import Analytics, Scope
from tests.analytics.clinic import Clinic

WEEK_3_AND_4 = ["2026-06-15", "2026-06-17", "2026-06-19", "2026-06-22", "2026-06-24", "2026-06-26"]
TODAY = "2026-06-26"
LAST_3 = WEEK_3_AND_4[-3:]


def ex(
    day: str,
    exercise: str = "bridge",
    pain: float | None = 2,
    before: float | None = 2,
    rise: float | None = 0,
    rpe: float | None = 5,
    form: str | None = "good",
    sets: int | None = 2,
    reps: int | None = None,
    hold: float | None = 10,
    side: str | None = None,
    notes: str | None = None,
    attended: bool = True,
) -> dict:
    """One exercise row; `rise` is pain the next day minus pain before (None: not recorded)."""
    return {
        "day": day,
        "exercise": exercise,
        "pain_before": before,
        "pain_during": pain,
        "pain_next_day": None if rise is None or before is None else before + rise,
        "rpe": rpe,
        "form": form,
        "sets": sets,
        "reps": reps,
        "hold_s": hold,
        "side": side,
        "notes": notes,
        "attended": attended,
    }


def fine(*days: str, **values) -> list[dict]:
    """The same comfortable exposure on each day."""
    return [ex(day, **values) for day in days]


@dataclass
class Vignette:
    name: str
    rows: list[dict]
    decision: str
    next_exercise: str
    next_dose: str
    evidence: list[str] = field(default_factory=list)  # lines (or parts of lines) that must be shown
    ladder: str = "bridge"
    today: str = TODAY
    sessions_per_week: int = 3
    background: list[str] = field(default_factory=lambda: list(WEEK_3_AND_4))
    exercise: str | None = None  # the current exercise, when it is not the first row's


VIGNETTES = [
    # --- progress: the dose first ------------------------------------------------------------------
    Vignette(
        "three comfortable exposures at the target dose: add a set",
        fine(*LAST_3),
        "progress",
        "bridge",
        "3 × 10 s hold",
        [
            "red-flag notes last 14 days not reviewed: none ✓",
            "exposures at current level: 3 (≥ 3 ✓)",
            "adherence last 2 weeks: 100 % (≥ 80 % ✓)",
            "pain during last 3: 2, 2, 2 (≤ 3 ✓)",
            "next-day rise last 3: 0, 0, 0 (≤ 0 ✓)",
            "form last 3: good, good, good (not poor ✓)",
            "RPE last 3: 5, 5, 5 (< 8 ✓)",
            "dose last 3: 2 × 10 s hold, 2 × 10 s hold, 2 × 10 s hold (target 2 × 10 s hold ✓)",
        ],
    ),
    Vignette(
        "at 3 sets a hold steps 10 s",
        fine(*LAST_3, sets=3, hold=20),
        "progress",
        "bridge",
        "3 × 30 s hold",
    ),
    Vignette(
        "reps step 2 at a time up to the ceiling",
        fine(*LAST_3, exercise="bridge with slow tempo", sets=3, reps=11, hold=None),
        "progress",
        "bridge with slow tempo",
        "3 × 12",
    ),
    Vignette(
        "reps at the ceiling and the level has a tempo: slow the tempo",
        fine(*LAST_3, exercise="bridge with slow tempo", sets=3, reps=12, hold=None),
        "progress",
        "bridge with slow tempo",
        "3 × 12, tempo 4-2-4",
    ),
    Vignette(
        "dose ceiling reached (3 × 30 s, no tempo): the next level at its target dose",
        fine(*LAST_3, sets=3, hold=30),
        "progress",
        "bridge with slow tempo",
        "2 × 8",
    ),
    Vignette(
        "more than the ceiling done counts as the ceiling reached",
        fine(*LAST_3, sets=4, hold=45),
        "progress",
        "bridge with slow tempo",
        "2 × 8",
    ),
    Vignette(
        "top of the ladder at its ceiling: keep the level, slow the tempo",
        fine(*LAST_3, exercise="bridge with band around knees", sets=3, reps=15, hold=None),
        "progress",
        "bridge with band around knees",
        "3 × 15, tempo 3-2-3",
    ),
    Vignette(
        "a name matched by an alias, in any case and spacing",
        fine(*LAST_3, exercise="Glute  Bridge"),
        "progress",
        "bridge",
        "3 × 10 s hold",
        exercise="bridge",
    ),
    # --- pain during: 3 vs 4 (hold), 5 vs 6 (regress) ------------------------------------------------
    Vignette(
        "pain during 3 is in the safe zone",
        fine(*LAST_3, pain=3),
        "progress",
        "bridge",
        "3 × 10 s hold",
        ["pain during last 3: 3, 3, 3 (≤ 3 ✓)"],
    ),
    Vignette(
        "pain during 4 in the newest exposure: hold",
        [ex(LAST_3[0], pain=3), ex(LAST_3[1], pain=3), ex(LAST_3[2], pain=4)],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["pain during last 2: 4, 3 (≤ 5 ✓)", "pain during last 3: 4, 3, 3 (≤ 3 ✗)"],
    ),
    Vignette(
        "pain during 3.5 (a half point) is above 3: hold",
        [ex(LAST_3[0], pain=3.5), ex(LAST_3[1]), ex(LAST_3[2])],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["pain during last 3: 2, 2, 3.5 (≤ 3 ✗)"],
    ),
    Vignette(
        "pain during 5 is acceptable, not a regression: hold",
        [ex(LAST_3[0]), ex(LAST_3[1]), ex(LAST_3[2], pain=5)],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["pain during last 2: 5, 2 (≤ 5 ✓)"],
    ),
    Vignette(
        "pain during 6 in the newest exposure: back one level to its target dose",
        [ex(LAST_3[0]), ex(LAST_3[1]), ex(LAST_3[2], pain=6)],
        "regress",
        "supine pelvic tilt",
        "2 × 10",
        ["pain during last 2: 6, 2 (≤ 5 ✗)"],
    ),
    Vignette(
        "pain during 6 in the exposure before: regress too",
        [ex(LAST_3[0]), ex(LAST_3[1], pain=6), ex(LAST_3[2])],
        "regress",
        "supine pelvic tilt",
        "2 × 10",
        ["pain during last 2: 2, 6 (≤ 5 ✗)"],
    ),
    Vignette(
        "pain during 6 three exposures back is not a regression, but holds",
        [ex(LAST_3[0], pain=6), ex(LAST_3[1]), ex(LAST_3[2])],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["pain during last 2: 2, 2 (≤ 5 ✓)", "pain during last 3: 2, 2, 6 (≤ 3 ✗)"],
    ),
    Vignette(
        "regress at level 1: the same exercise, reps cut by a third (10 × 2/3 = 6.7 -> 7)",
        [ex(d, exercise="supine pelvic tilt", reps=10, hold=None) for d in LAST_3[:2]]
        + [ex(LAST_3[2], exercise="supine pelvic tilt", reps=10, hold=None, pain=7)],
        "regress",
        "supine pelvic tilt",
        "2 × 7",
    ),
    Vignette(
        "a unilateral exercise is judged by its worse side",
        [ex(d, exercise="clamshell", reps=10, hold=None, side=s) for d in LAST_3[:2] for s in "LR"]
        + [ex(LAST_3[2], exercise="clamshell", reps=10, hold=None, side="L", pain=2)]
        + [ex(LAST_3[2], exercise="clamshell", reps=10, hold=None, side="R", pain=6)],
        "regress",
        "clamshell",
        "2 × 7 each side",
        ["pain during last 2: 6, 2 (≤ 5 ✗)"],
        ladder="clamshell",
    ),
    # --- the next day: +1 holds, +2 regresses -------------------------------------------------------
    Vignette(
        "pain the next day 1 above pain before: not settled, hold",
        [ex(LAST_3[0]), ex(LAST_3[1]), ex(LAST_3[2], rise=1)],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["next-day rise last 2: +1, 0 (< +2 ✓)", "next-day rise last 3: +1, 0, 0 (≤ 0 ✗)"],
    ),
    Vignette(
        "pain the next day 2 above pain before: regress",
        [ex(LAST_3[0]), ex(LAST_3[1]), ex(LAST_3[2], rise=2)],
        "regress",
        "supine pelvic tilt",
        "2 × 10",
        ["next-day rise last 2: +2, 0 (< +2 ✗)"],
    ),
    Vignette(
        "pain the next day lower than before is settled",
        fine(*LAST_3, before=4, pain=3, rise=-1),
        "progress",
        "bridge",
        "3 × 10 s hold",
        ["next-day rise last 3: -1, -1, -1 (≤ 0 ✓)"],
    ),
    Vignette(
        "next-day pain, RPE and form not recorded: their rules are skipped",
        fine(*LAST_3, rise=None, rpe=None, form=None),
        "progress",
        "bridge",
        "3 × 10 s hold",
        [
            "next-day rise last 3: not recorded (skipped)",
            "RPE last 3: not recorded (skipped)",
            "form last 3: not recorded (skipped)",
        ],
    ),
    Vignette(
        "pain during not recorded never counts as a pass",
        [ex(LAST_3[0]), ex(LAST_3[1], pain=None), ex(LAST_3[2])],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["pain during last 3: 2, not recorded, 2 (pain during not recorded ✗)"],
    ),
    # --- exposures: 2 vs 3 --------------------------------------------------------------------------
    Vignette(
        "two exposures at the level: hold",
        fine(*LAST_3[1:]),
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["exposures at current level: 2 (≥ 3 ✗)"],
    ),
    Vignette(
        "only the exposures since the last change of level count, and old pain does not regress again",
        [ex(d, exercise="bridge with slow tempo", reps=8, hold=None, pain=7) for d in WEEK_3_AND_4[2:4]]
        + fine(*WEEK_3_AND_4[4:]),
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["exposures at current level: 2 (≥ 3 ✗)", "pain during last 2: 2, 2 (≤ 5 ✓)"],
        exercise="bridge",
    ),
    Vignette(
        "a missed session is not an exposure",
        [*fine(*LAST_3[:2]), ex(LAST_3[2], attended=False)],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["exposures at current level: 2 (≥ 3 ✗)"],
        background=WEEK_3_AND_4[:5],
    ),
    Vignette(
        "two levels of a family in one session: the exposure is at the higher one",
        fine(*LAST_3) + [ex(d, exercise="supine pelvic tilt", reps=10, hold=None, pain=7) for d in LAST_3],
        "progress",
        "bridge",
        "3 × 10 s hold",
    ),
    # --- adherence over the current and previous week: 80 % vs 78.6 % ---------------------------------
    Vignette(
        "adherence exactly 80 % (8 of 10) progresses",
        fine("2026-06-24", "2026-06-25", "2026-06-26"),
        "progress",
        "bridge",
        "3 × 10 s hold",
        ["adherence last 2 weeks: 80 % (≥ 80 % ✓)"],
        today="2026-06-28",  # a Sunday: week 4 complete, targets 5 + 5
        sessions_per_week=5,
        background=["2026-06-15", "2026-06-16", "2026-06-17", "2026-06-18", "2026-06-22"],
    ),
    Vignette(
        "adherence 78.6 % (11 of 14) holds",
        fine("2026-06-26", "2026-06-27", "2026-06-28"),
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["adherence last 2 weeks: 78.6 % (≥ 80 % ✗)"],
        today="2026-06-28",
        sessions_per_week=7,
        background=[f"2026-06-{d}" for d in (15, 16, 17, 18, 19, 22, 23, 24)],
    ),
    # --- form, RPE, dose ----------------------------------------------------------------------------
    Vignette(
        "form poor in one of the last 3: hold",
        [ex(LAST_3[0], form="poor"), ex(LAST_3[1], form="fair"), ex(LAST_3[2])],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["form last 3: good, fair, poor (not poor ✗)"],
    ),
    Vignette(
        "RPE 7 progresses",
        fine(*LAST_3, rpe=7),
        "progress",
        "bridge",
        "3 × 10 s hold",
        ["RPE last 3: 7, 7, 7 (< 8 ✓)"],
    ),
    Vignette(
        "RPE 8 holds",
        [ex(LAST_3[0]), ex(LAST_3[1], rpe=8), ex(LAST_3[2])],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["RPE last 3: 5, 8, 5 (< 8 ✗)"],
    ),
    Vignette(
        "less than the level's target dose done: hold",
        [ex(LAST_3[0]), ex(LAST_3[1], hold=8), ex(LAST_3[2])],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["dose last 3: 2 × 10 s hold, 2 × 8 s hold, 2 × 10 s hold (target 2 × 10 s hold ✗)"],
    ),
    Vignette(
        "dose not recorded: hold",
        [ex(LAST_3[0]), ex(LAST_3[1], sets=None, hold=None), ex(LAST_3[2])],
        "hold",
        "bridge",
        "2 × 10 s hold",
        ["(dose not recorded ✗)"],
    ),
    # --- red flags: a note 13 days back is in the 14 days ending today, 14 days back is not ----------
    Vignette(
        "a red-flag note on the 14th day of the window: refer",
        [*fine(*LAST_3), ex("2026-06-13", exercise="hip-flexor stretch", notes="Knee gave way on the stairs")],
        "refer",
        "bridge",
        "no change until a clinician has reviewed the red flag",
        ["red-flag notes last 14 days not reviewed: 1, newest 2026-06-13 ✗"],
    ),
    Vignette(
        "a red-flag note 14 days back is outside the window",
        [*fine(*LAST_3), ex("2026-06-12", exercise="hip-flexor stretch", notes="Knee gave way on the stairs")],
        "progress",
        "bridge",
        "3 × 10 s hold",
        ["red-flag notes last 14 days not reviewed: none ✓"],
    ),
    Vignette(
        "a red flag wins over a regression",
        [ex(LAST_3[0]), ex(LAST_3[1]), ex(LAST_3[2], pain=7, notes="Some swelling around the knee tonight")],
        "refer",
        "bridge",
        "no change until a clinician has reviewed the red flag",
    ),
    Vignette(
        "a note that denies a red flag is not one",
        [*fine(*LAST_3[:2]), ex(LAST_3[2], notes="no swelling, no numbness")],
        "progress",
        "bridge",
        "3 × 10 s hold",
    ),
    # --- stretches and unknown exercises ------------------------------------------------------------
    Vignette(
        "a stretch is only dosed: all checks pass, the hold steps, the decision stays hold",
        [ex(d, exercise="hamstring stretch", hold=20, side=s) for d in LAST_3 for s in "LR"],
        "hold",
        "hamstring stretch",
        "3 × 20 s hold each side",
        ["stretch: only dosed, never progressed"],
        ladder="hamstring stretch",
    ),
    Vignette(
        "a stretch at its ceiling keeps its dose",
        [ex(d, exercise="hamstring stretch", sets=3, hold=30) for d in LAST_3],
        "hold",
        "hamstring stretch",
        "3 × 30 s hold each side",
        ladder="hamstring stretch",
    ),
    Vignette(
        "an exercise the library does not know is kept, held, and said so",
        fine(*LAST_3, exercise="Foam roller release", sets=1, hold=60),
        "hold",
        "Foam roller release",
        "1 × 60 s hold",
        [
            "dose last 3: 1 × 60 s hold, 1 × 60 s hold, 1 × 60 s hold (no target: not in the library)",
            "'Foam roller release' is not in the exercise library: no ladder to progress",
        ],
        ladder="unknown: foam roller release",
    ),
    Vignette(
        "an unknown exercise that hurts is cut by a third",
        [
            *fine(*LAST_3[:2], exercise="foam roller release", sets=1, hold=60),
            ex(LAST_3[2], exercise="foam roller release", sets=1, hold=60, pain=6),
        ],
        "regress",
        "foam roller release",
        "1 × 40 s hold",
        ladder="unknown: foam roller release",
    ),
]


def _client_of(clinic: Clinic, v: Vignette, client_id: str) -> None:
    clinic.client(client_id, start="2026-06-01", sessions_per_week=v.sessions_per_week)
    for day in v.background:
        clinic.session(client_id, day, exercise="hip-flexor stretch", pain_during=1, sets=2, hold_s=20)
    for row in v.rows:
        values = {k: row[k] for k in row if k != "day"}
        clinic.session(client_id, row["day"], **values)


def _client_id(v: Vignette) -> str:
    return f"V-{VIGNETTES.index(v) + 1}"


@pytest.fixture(scope="module")
def recommendations_on(tmp_path_factory) -> Callable[[str], pd.DataFrame]:
    """Every vignette's client loaded into one warehouse; the recommendations of them all on a day,
    read once per day."""
    clinic = Clinic(tmp_path_factory.mktemp("vignettes"))
    for v in VIGNETTES:
        _client_of(clinic, v, _client_id(v))
    db = clinic.load()

    @functools.cache
    def on(today: str) -> pd.DataFrame:
        with Analytics.open(db, Scope.everyone(), date.fromisoformat(today)) as analytics:
            return analytics.recommendations()

    return on


def recommendation(frame, ladder: str) -> dict:
    rows = frame[frame["ladder"] == ladder]
    assert len(rows) == 1, f"expected one recommendation for {ladder}, got {len(rows)}:\n{frame[['ladder']]}"
    return rows.iloc[0].to_dict()


@pytest.mark.parametrize("v", VIGNETTES, ids=[v.name for v in VIGNETTES])
def test_vignette(recommendations_on, v: Vignette):
    frame = recommendations_on(v.today)
    rec = recommendation(frame[frame["client_id"] == _client_id(v)], v.ladder)
    shown = f"{rec['decision']}: {rec['next_exercise']} {rec['next_dose']}\n" + "\n".join(rec["evidence"])
    expected = (v.decision, v.next_exercise, v.next_dose)
    assert (rec["decision"], rec["next_exercise"], rec["next_dose"]) == expected, shown
    assert rec["exercise"] == (v.exercise or v.rows[0]["exercise"]), shown
    for line in v.evidence:
        assert any(line in shown_line for shown_line in rec["evidence"]), f"{line!r} not in\n{shown}"


def test_there_are_at_least_25_vignettes():
    assert len(VIGNETTES) >= 25
