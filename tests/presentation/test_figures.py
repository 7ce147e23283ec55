"""The figure builders (presentation/figures.py) on small frames built by hand, checked against docs/metrics.md
and docs/dashboard.md.

Every expected number is worked out in the test from the rules of docs/metrics.md, not read from the code.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from analytics.definitions import FLAGS
from presentation import figures
from presentation.palette import COHORT_COLOURS, COLOURS, FLAG_COLOURS, LAYOUT, STATUS_COLOURS

START = pd.Timestamp("2026-06-01")  # day 0 of the episode, a Monday


# --- frames as the analytics layer returns them ------------------------------------------------------


def pain_points(rows: list[tuple[str, float, str]]) -> pd.DataFrame:
    """(date, pain, source) rows."""
    frame = pd.DataFrame(rows, columns=["pain_on", "pain", "source"])
    frame["pain_on"] = pd.to_datetime(frame["pain_on"])
    frame.insert(1, "day", (frame["pain_on"] - START).dt.days)
    return frame


def weekly(rows: list[tuple[int, int, int, float]]) -> pd.DataFrame:
    """(program_week, attended, target, mean_pain) rows; adherence = min(attended, target) / target."""
    frame = pd.DataFrame(rows, columns=["program_week", "attended", "target", "mean_pain"])
    frame.insert(0, "client_id", "C-1")
    frame.insert(4, "adherence", np.minimum(frame["attended"], frame["target"]) / frame["target"])
    return frame


def sessions(rows: list[tuple[str, float, bool]]) -> pd.DataFrame:
    """(date, session_pain, flare) rows of attended home sessions."""
    frame = pd.DataFrame(rows, columns=["session_date", "session_pain", "flare"])
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    frame.insert(1, "session_type", "home")
    frame.insert(2, "program_week", (frame["session_date"] - START).dt.days // 7 + 1)
    frame.insert(3, "attended", True)
    frame["red_flag"] = False
    return frame


def red_flags(rows: list[tuple[str, str, str]] = ()) -> pd.DataFrame:
    """(date, note, signs) rows."""
    frame = pd.DataFrame(list(rows), columns=["session_date", "note", "signs"])
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    frame.insert(0, "client_id", "C-1")
    frame.insert(2, "session_type", "home")
    return frame


def client(baseline: float | None = 5.0, current: float | None = 3.0, status: str = "improved") -> dict:
    return {
        "client_id": "C-1",
        "start_date": START,
        "pain_baseline": math.nan if baseline is None else baseline,
        "pain_current": math.nan if current is None else current,
        "pain_status": status,
    }


POINTS = pain_points(
    [
        ("2026-06-02", 6.0, "session"),
        ("2026-06-04", 4.0, "session"),
        ("2026-06-01", 5.0, "NPRS"),
        ("2026-06-09", 3.0, "session"),
    ]
)
WEEKS = weekly([(1, 2, 3, 5.0), (2, 1, 3, 3.0), (3, 0, 3, math.nan)])
SESSIONS = sessions([("2026-06-02", 6.0, True), ("2026-06-04", 4.0, False), ("2026-06-09", 3.0, False)])


def pain_figure(**changes) -> go.Figure:
    arguments = {
        "pain_points": POINTS,
        "weekly": WEEKS,
        "sessions": SESSIONS,
        "red_flags": red_flags(),
        "client": client(),
    } | changes
    return figures.pain_chart(**arguments)


def trace(figure: go.Figure, name: str):
    matches = [t for t in figure.data if t.name == name]
    assert len(matches) == 1, [t.name for t in figure.data]
    return matches[0]


def shape(figure: go.Figure, name: str):
    matches = [s for s in figure.layout.shapes if s.name == name]
    assert len(matches) == 1, [s.name for s in figure.layout.shapes]
    return matches[0]


def shape_names(figure: go.Figure) -> list[str | None]:
    return [s.name for s in figure.layout.shapes]


def message_of(figure: go.Figure) -> str:
    (note,) = figure.layout.annotations
    return note.text


# --- palette -------------------------------------------------------------------------------------------


def test_every_caseload_flag_and_status_has_its_own_colour():
    assert set(FLAG_COLOURS) == set(FLAGS)
    assert len(set(FLAG_COLOURS.values())) == len(FLAGS)
    assert set(STATUS_COLOURS) == {"improved", "worse", "no important change", "not enough data"}
    assert len(set(STATUS_COLOURS.values())) == 4
    assert COHORT_COLOURS[0] != COHORT_COLOURS[1]


def test_the_shared_layout_uses_dejavu_on_white_with_the_legend_on_top():
    assert LAYOUT["font"]["family"] == "DejaVu Sans"
    assert LAYOUT["paper_bgcolor"] == LAYOUT["plot_bgcolor"] == "white"
    assert LAYOUT["legend"]["orientation"] == "h"
    figure = figures.adherence_bars(WEEKS)
    assert figure.layout.font.family == "DejaVu Sans"
    assert figure.layout.hovermode == "x unified"


# --- pain chart --------------------------------------------------------------------------------------


def test_mcid_line_for_baseline_5_is_the_30_percent_fall_because_it_is_easier_than_2_points():
    # 30 % of 5 = 1.5 < 2 points, so improvement is reached at 5 − 1.5 = 3.5.
    assert figures.pain_improvement_threshold(5.0) == pytest.approx(3.5)
    line = shape(pain_figure(client=client(baseline=5.0)), "important improvement")
    assert line.y0 == line.y1 == pytest.approx(3.5)
    assert line.label.text == "important improvement ≤ 3.5"


def test_mcid_line_for_baseline_8_is_the_2_point_fall_because_it_is_easier_than_30_percent():
    # 30 % of 8 = 2.4 > 2 points, so improvement is reached at 8 − 2 = 6.0.
    assert figures.pain_improvement_threshold(8.0) == pytest.approx(6.0)
    line = shape(pain_figure(client=client(baseline=8.0, current=5.0)), "important improvement")
    assert line.y0 == pytest.approx(6.0)
    assert line.label.text == "important improvement ≤ 6.0"


def test_mcid_line_for_baseline_4_2_reads_2_9():
    # 30 % of 4.2 = 1.26 < 2: 4.2 − 1.26 = 2.94, shown to one decimal.
    line = shape(pain_figure(client=client(baseline=4.2)), "important improvement")
    assert line.y0 == pytest.approx(2.94)
    assert line.label.text == "important improvement ≤ 2.9"
    assert shape(pain_figure(client=client(baseline=4.2)), "baseline").label.text == "baseline 4.2"


def test_the_no_change_band_runs_from_the_improvement_to_the_worsening_threshold():
    # Baseline 5: improvement at 3.5 (above), worsening at 5 + 2 = 7.
    figure = pain_figure(client=client(baseline=5.0))
    band = shape(figure, "no important change")
    assert (band.y0, band.y1) == (pytest.approx(3.5), pytest.approx(7.0))
    assert band.label.text == "no important change"
    assert shape(figure, "baseline").y0 == 5.0
    # Baseline 9: improvement at 9 − 2 = 7 (30 % is 2.7); worsening at 11 is cut at the top of the scale.
    band = shape(pain_figure(client=client(baseline=9.0)), "no important change")
    assert (band.y0, band.y1) == (pytest.approx(7.0), 10.0)


def test_a_baseline_of_0_cannot_improve_so_no_mcid_line_and_the_band_starts_at_0():
    # The 30 % rule needs a baseline above 0; 0 − 2 = −2 is off the scale.
    assert figures.pain_improvement_threshold(0.0) == -2.0
    figure = pain_figure(client=client(baseline=0.0, current=0.0, status="no important change"))
    assert "important improvement" not in shape_names(figure)
    band = shape(figure, "no important change")
    assert (band.y0, band.y1) == (0.0, 2.0)


def test_an_unknown_baseline_draws_no_baseline_band_or_mcid_line():
    figure = pain_figure(client=client(baseline=None, current=None, status="not enough data"))
    assert shape_names(figure) == ["baseline window"]
    assert "not enough data" in figure.layout.title.text


def test_the_baseline_window_shades_days_0_to_13():
    window = shape(pain_figure(), "baseline window")
    # Day 0 = 1 June; day 13 = 14 June, which ends where 15 June begins.
    assert (window.x0, window.x1) == ("2026-06-01", "2026-06-15")


def test_weekly_mean_sits_mid_week_and_skips_weeks_without_pain():
    line = trace(pain_figure(), "weekly mean")
    # Week 1 is days 0–6, its middle day 3 = 4 June; week 2's middle is day 10 = 11 June; week 3 has no pain.
    assert list(line.x) == ["2026-06-04", "2026-06-11"]
    assert list(line.y) == [5.0, 3.0]


def test_session_pain_and_nprs_scores_are_separate_traces_with_different_markers():
    figure = pain_figure()
    session = trace(figure, "session pain")
    nprs = trace(figure, "NPRS score")
    assert list(session.x) == ["2026-06-02", "2026-06-04", "2026-06-09"]
    assert list(nprs.x) == ["2026-06-01"]
    assert list(nprs.y) == [5.0]
    assert session.marker.symbol != nprs.marker.symbol
    assert session.marker.color == COLOURS["pain"]
    assert nprs.marker.color == COLOURS["pain_nprs"]


def test_flares_are_marked_only_on_flare_sessions_at_their_session_pain():
    flares = trace(pain_figure(), "flare")
    assert list(flares.x) == ["2026-06-02"]
    assert list(flares.y) == [6.0]
    assert flares.marker.color == COLOURS["flare"]
    assert "flare" in flares.hovertemplate
    no_flares = sessions([("2026-06-02", 6.0, False), ("2026-06-04", 4.0, False)])
    assert "flare" not in [t.name for t in pain_figure(sessions=no_flares).data]


def test_a_red_flag_note_is_a_dashed_line_with_its_signs_and_the_note_on_hover():
    notes = red_flags([("2026-06-05", "Some swelling after a fall on the stairs", "swelling, fall")])
    figure = pain_figure(red_flags=notes)
    line = shape(figure, "red flag")
    assert line.x0 == line.x1 == "2026-06-05"
    assert line.line.dash == "dash"
    (note,) = figure.layout.annotations
    assert "swelling, fall" in note.text
    assert "Some swelling after a fall on the stairs" in note.hovertext
    assert note.font.color == COLOURS["red_flag"]


def test_the_pain_axis_is_fixed_0_to_10_and_a_date_range_sets_only_the_x_axis():
    figure = pain_figure(date_range=(pd.Timestamp("2026-06-03"), pd.Timestamp("2026-06-10")))
    assert list(figure.layout.yaxis.range) == [0, 10]
    assert figure.layout.yaxis.title.text == "Pain (0–10)"
    assert list(figure.layout.xaxis.range) == ["2026-06-03", "2026-06-10"]
    # The points outside the range are still there: the range is a view, not a filter.
    assert len(trace(figure, "session pain").x) == 3


def test_the_pain_title_says_the_status_and_baseline_to_current():
    title = pain_figure(client=client(baseline=5.0, current=3.0, status="improved")).layout.title.text
    assert "improved" in title
    assert "5.0 → 3.0" in title


# --- function chart -----------------------------------------------------------------------------------


def scores(rows: list[tuple[str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["measured_on", "score"])
    frame["measured_on"] = pd.to_datetime(frame["measured_on"])
    return frame


def test_function_band_is_the_first_score_plus_or_minus_the_mcid_and_the_title_gives_the_change():
    lefs = scores([("2026-06-01", 40.0), ("2026-06-29", 47.0), ("2026-07-27", 52.0)])
    figure = figures.function_chart(lefs, "LEFS", 9, True, "improved")
    band = shape(figure, "no important change")
    # First score 40, MCID 9: the band is 31 to 49.
    assert (band.y0, band.y1) == (31.0, 49.0)
    # 52 − 40 = +12, higher is better.
    assert "Lower Extremity Functional Scale — " in figure.layout.title.text
    assert "improved" in figure.layout.title.text
    assert "(+12, MCID 9)" in figure.layout.title.text
    assert figure.layout.annotations[0].text == "↑ higher is better"
    assert list(figure.data[0].y) == [40.0, 47.0, 52.0]


def test_function_change_is_signed_so_positive_is_better_when_lower_is_better():
    # Timed up and go 12.0 s → 10.5 s: 1.5 s faster is +1.5 (better), against an MDC of 1.1.
    tug = scores([("2026-06-01", 12.0), ("2026-07-01", 10.5)])
    figure = figures.function_chart(tug, "TUG_S", 1.1, False, "improved", "MDC")
    assert "(+1.5, MDC 1.1)" in figure.layout.title.text
    band = shape(figure, "no important change")
    assert (band.y0, band.y1) == (pytest.approx(10.9), pytest.approx(13.1))
    assert figure.layout.annotations[0].text == "↓ lower is better"


def test_the_band_stays_within_the_instruments_range():
    # Single-leg stance of 16 s, MDC 24 s: the band runs from 0 s (not −8 s) to 40 s.
    stance = figures.function_chart(scores([("2026-06-01", 16.0)]), "SLS_S_L", 24, True, "not enough data")
    band = shape(stance, "no important change")
    assert (band.y0, band.y1) == (0, 40.0)
    # ODI 95 (0–100), MCID 10: 85 to 100.
    band = shape(figures.function_chart(scores([("2026-06-01", 95.0)]), "ODI", 10, False, "x"), "no important change")
    assert (band.y0, band.y1) == (85.0, 100)


def test_one_score_shows_the_point_and_the_band_and_says_not_enough_data():
    figure = figures.function_chart(scores([("2026-06-01", 30.0)]), "ODI", 10, False, "not enough data")
    assert "not enough data" in figure.layout.title.text
    assert list(figure.data[0].y) == [30.0]
    band = shape(figure, "no important change")
    assert (band.y0, band.y1) == (20.0, 40.0)


def days_shown(axis) -> float:
    return (pd.Timestamp(axis.range[1]) - pd.Timestamp(axis.range[0])) / pd.Timedelta(days=1)


def test_one_score_draws_a_date_axis_of_days_around_it_not_a_millisecond():
    figure = figures.function_chart(scores([("2026-06-01", 30.0)]), "ODI", 10, False, "not enough data")
    axis = figure.layout.xaxis
    assert axis.type == "date"
    # Three and a half days either side of 1 June: 28 May noon to 4 June noon, a tick a day (29 May to
    # 4 June), labelled by day (no hours).
    assert list(axis.range) == ["2026-05-28 12:00", "2026-06-04 12:00"]
    assert days_shown(axis) == 7
    assert axis.dtick == 24 * 60 * 60 * 1000
    assert axis.tickformat == "%-d %b"  # "1 Jun"


def test_scores_a_few_days_apart_also_read_in_days_and_scores_weeks_apart_keep_plotlys_range():
    close = figures.function_chart(scores([("2026-06-01", 30.0), ("2026-06-04", 26.0)]), "ODI", 10, False, "x")
    assert list(close.layout.xaxis.range) == ["2026-05-28 12:00", "2026-06-07 12:00"]
    apart = figures.function_chart(scores([("2026-06-01", 30.0), ("2026-07-01", 20.0)]), "ODI", 10, False, "x")
    assert apart.layout.xaxis.type == "date" and apart.layout.xaxis.range is None


@pytest.mark.parametrize(
    ("code", "label"),
    [
        ("TUG_S", "Timed Up and Go (s)"),
        ("CST30", "30-second chair stand (stands)"),
        ("ODI", "Oswestry Disability Index (0–100)"),
        ("LEFS", "Lower Extremity Functional Scale (0–80)"),
        ("PSFS", "Patient-Specific Functional Scale (0–10)"),
        ("HOOS_JR", "HOOS JR (0–100)"),
        ("KOOS_JR", "KOOS JR (0–100)"),
        ("SLS_S_L", "Single-leg stance, left (s)"),
        ("SLS_S_R", "Single-leg stance, right (s)"),
    ],
)
def test_a_function_chart_names_its_instrument_and_unit_never_its_code(code, label):
    figure = figures.function_chart(scores([("2026-06-01", 12.0), ("2026-07-01", 10.0)]), code, 1, True, "improved")
    name = label.rsplit(" (", 1)[0]
    assert figure.layout.title.text.startswith(f"{name} — ")
    assert figure.layout.yaxis.title.text == label
    assert figure.data[0].name == name
    assert figure.data[0].hovertemplate.startswith(f"{label}: ")
    assert code not in pio.to_json(figure)


def test_a_single_pain_rating_draws_its_episode_in_days():
    one = pain_points([("2026-06-02", 6.0, "session")])
    figure = pain_figure(pain_points=one, weekly=WEEKS.iloc[0:0], sessions=SESSIONS.iloc[0:0])
    axis = figure.layout.xaxis
    assert axis.type == "date"
    # From the day before the start (1 June) to the day after the baseline window (days 0–13) ends.
    assert list(axis.range) == ["2026-05-31", "2026-06-16"]


def test_a_single_session_draws_the_exercise_timeline_in_days():
    figure = figures.exercise_timeline(EXPOSURES[EXPOSURES["family"] == "clamshell"])
    assert figure.layout.xaxis.type == "date"
    assert list(figure.layout.xaxis.range) == ["2026-09-24 12:00", "2026-10-01 12:00"]
    # The client page passes the period shown, which the axis keeps.
    shown = figures.exercise_timeline(EXPOSURES, (pd.Timestamp("2026-09-01"), pd.Timestamp("2026-10-15")))
    assert list(shown.layout.xaxis.range) == ["2026-09-01", "2026-10-15"]


# --- adherence bars -----------------------------------------------------------------------------------


def test_adherence_bars_split_at_exactly_80_percent_and_hover_gives_sessions_of_target():
    # 4 of 5 = 80 % (adherent, the threshold itself); 3 of 4 = 75 % (below); 6 of 5 counts as 100 %.
    weeks = weekly([(1, 4, 5, math.nan), (2, 3, 4, math.nan), (3, 6, 5, math.nan)])
    figure = figures.adherence_bars(weeks)
    adherent = trace(figure, "adherent (≥ 80 %)")
    below = trace(figure, "below target")
    assert list(adherent.x) == ["Week 1", "Week 3"]
    assert list(below.x) == ["Week 2"]
    assert adherent.marker.color == COLOURS["adherent"]
    assert below.marker.color == COLOURS["below_target"]
    assert list(adherent.customdata) == ["4 of 5 sessions (80 %)", "6 of 5 sessions (100 %)"]
    assert list(below.customdata) == ["3 of 4 sessions (75 %)"]
    target = trace(figure, "target")
    assert list(target.y) == [5, 4, 5]
    # The weeks keep their order although the two colours are two traces.
    assert list(figure.layout.xaxis.categoryarray) == ["Week 1", "Week 2", "Week 3"]


def test_a_week_just_under_80_percent_is_below_target():
    # 7 of 9 = 77.8 %.
    figure = figures.adherence_bars(weekly([(1, 7, 9, math.nan)]))
    assert [t.name for t in figure.data] == ["below target", "target"]


# --- exercise timeline ----------------------------------------------------------------------------------


def exposures(rows: list[tuple[str, str | None, str | None, int | None, str | None, bool | None]]) -> pd.DataFrame:
    """(date, family, family_label, level, exercise, stretch) rows."""
    frame = pd.DataFrame(rows, columns=["session_date", "family", "family_label", "level", "exercise", "stretch"])
    frame["session_date"] = pd.to_datetime(frame["session_date"])
    frame["level"] = frame["level"].astype("Int64")
    return frame


EXPOSURES = exposures(
    [
        ("2026-10-01", "bridge", "Bridge", 5, "single-leg bridge", False),
        ("2026-09-28", "bridge", "Bridge", 4, "bridge march", False),
        ("2026-09-28", "stretches", "Stretches", 1, "hamstring stretch", True),
        ("2026-09-28", "stretches", "Stretches", 1, "glute release", True),
        ("2026-09-28", None, None, None, None, None),
        ("2026-09-28", "clamshell", "Clamshell", 2, "clamshell with isometric hold", False),
    ]
)


def level_markers(figure: go.Figure) -> pd.DataFrame:
    """Every marker of the timeline: its row label, date, level text, hover and y."""
    labels = dict(zip(figure.layout.yaxis.tickvals, figure.layout.yaxis.ticktext, strict=True))
    rows = []
    for t in figure.data:
        if t.name == "exercise level":
            for x, y, text, hover in zip(t.x, t.y, t.text, t.hovertext, strict=True):
                rows.append({"row": labels[round(y)], "date": x, "text": text, "hover": hover, "y": y})
    return pd.DataFrame(rows).sort_values(["row", "date"], ignore_index=True)


def test_timeline_has_one_row_per_family_in_a_fixed_order():
    figure = figures.exercise_timeline(EXPOSURES)
    # Ladders by name first, then the stretches, then what is not in the library; the first row is at the top.
    tick = sorted(zip(figure.layout.yaxis.tickvals, figure.layout.yaxis.ticktext, strict=True), reverse=True)
    assert [label for _, label in tick] == ["Bridge", "Clamshell", "Stretches", "Not in the library"]
    # The same exposures in another order give the same rows.
    shuffled = figures.exercise_timeline(EXPOSURES.iloc[::-1])
    assert list(shuffled.layout.yaxis.ticktext) == list(figure.layout.yaxis.ticktext)


def test_timeline_markers_carry_the_level_and_hover_names_exercise_level_and_date():
    markers = level_markers(figures.exercise_timeline(EXPOSURES))
    bridge = markers[markers["row"] == "Bridge"]
    assert list(bridge["text"]) == ["4", "5"]
    assert list(bridge["hover"]) == ["bridge march (level 4) — 2026-09-28", "single-leg bridge (level 5) — 2026-10-01"]
    # A higher level sits higher in its row, so a progression is a step up.
    assert bridge["y"].iloc[1] > bridge["y"].iloc[0]
    unknown = markers[markers["row"] == "Not in the library"]
    assert list(unknown["text"]) == ["?"]
    assert list(unknown["hover"]) == ["exercise not in the library — 2026-09-28"]


def test_two_stretches_on_one_day_are_one_marker_naming_both():
    markers = level_markers(figures.exercise_timeline(EXPOSURES))
    stretches = markers[markers["row"] == "Stretches"]
    assert list(stretches["hover"]) == ["glute release, hamstring stretch (level 1) — 2026-09-28"]


def test_timeline_step_line_joins_each_family_and_breaks_between_families():
    figure = figures.exercise_timeline(EXPOSURES)
    steps = trace(figure, "level steps")
    assert steps.line.shape == "hv"
    # Four rows, five marks (bridge has two): the line has 5 points and 3 breaks between rows.
    assert sum(x is None for x in steps.x) == 3
    assert sum(x is not None for x in steps.x) == 5


# --- cohort charts -------------------------------------------------------------------------------------


def test_adherence_distribution_counts_members_in_10_percent_bands_80_included_in_the_top_ones():
    members = pd.DataFrame(
        {
            "display_name": ["Ana", "Ben", "Cara", "Dev", "Eve"],
            "adherence_overall": [0.8, 0.79, 1.0, 0.55, math.nan],
        }
    )
    figure = figures.adherence_distribution(members)
    (bars,) = figure.data
    # 0.8 → 80–90 %, 0.79 → 70–80 %, 1.0 → 90–100 %, 0.55 → 50–60 %; Eve has no program week yet.
    assert list(bars.x) == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]
    assert list(bars.y) == [0, 0, 0, 0, 0, 1, 0, 1, 1, 1]
    assert bars.marker.color[8] == COLOURS["adherent"]
    assert bars.marker.color[7] == COLOURS["below_target"]
    assert bars.customdata[8].startswith("80–90 %: 1 member<br>Ana")
    assert "4 members" in figure.layout.title.text
    assert "1 with no program week yet" in figure.layout.title.text
    lines = {s.name: s.x0 for s in figure.layout.shapes}
    assert lines == {"adherent ≥ 80 %": 80, "low < 60 %": 60}


def test_adherence_distribution_works_for_a_cohort_of_one():
    figure = figures.adherence_distribution(pd.DataFrame({"display_name": ["Ana"], "adherence_overall": [0.5]}))
    assert list(figure.data[0].y) == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert "1 member" in figure.layout.title.text


def cohort_weeks(rows: list[tuple[int, int, float, float, float]]) -> pd.DataFrame:
    """(program_week, n, mean_pain, ci_low, ci_high) rows."""
    return pd.DataFrame(rows, columns=["program_week", "n", "mean_pain", "ci_low", "ci_high"])


def test_cohort_band_is_drawn_only_over_weeks_with_an_interval():
    # Week 3 has one member with pain (n = 1): its point shows, without a band.
    weeks = cohort_weeks(
        [
            (1, 12, 3.2, 2.6, 3.7),
            (2, 10, 3.0, 2.5, 3.5),
            (3, 1, 4.0, math.nan, math.nan),
            (4, 5, 2.8, 2.0, 3.6),
            (5, 6, 2.5, 2.0, 3.0),
        ]
    )
    figure = figures.cohort_pain_by_week([("Hip strong", weeks)])
    band = trace(figure, "Hip strong 95 % interval")
    # Two closed shapes (along the highs, back along the lows) split by a gap: week 3 is not in the band.
    assert list(band.x) == [1, 2, 2, 1, None, 4, 5, 5, 4]
    assert list(band.y) == [3.7, 3.5, 2.5, 2.6, None, 3.6, 3.0, 2.0, 2.0]
    assert band.fill == "toself"
    line = trace(figure, "Hip strong")
    assert list(line.x) == [1, 2, 3, 4, 5]
    assert line.customdata[0] == "week 1: 3.2 (95 % CI 2.6–3.7, n = 12)"
    assert line.customdata[2] == "week 3: 4.0 (n = 1)"


def test_a_week_whose_neighbours_have_no_interval_gets_a_band_0_4_of_a_week_wide():
    weeks = cohort_weeks([(1, 1, 3.0, math.nan, math.nan), (2, 5, 3.2, 2.6, 3.7), (3, 1, 4.0, math.nan, math.nan)])
    band = trace(figures.cohort_pain_by_week([("Hip strong", weeks)]), "Hip strong 95 % interval")
    # Week 2 alone: from 1.8 to 2.2 along the high 3.7, back along the low 2.6.
    assert list(band.x) == [pytest.approx(1.8), pytest.approx(2.2), pytest.approx(2.2), pytest.approx(1.8)]
    assert list(band.y) == [3.7, 3.7, 2.6, 2.6]


def test_cohort_hover_gives_the_mean_interval_and_n():
    weeks = cohort_weeks([(1, 12, 3.2, 2.6, 3.7), (2, 1, 4.0, math.nan, math.nan), (3, 5, 2.8, 2.0, 3.6)])
    figure = figures.cohort_pain_by_week([("Hip strong", weeks)])
    line = trace(figure, "Hip strong")
    assert list(line.x) == [1, 2, 3]
    assert list(line.customdata) == [
        "week 1: 3.2 (95 % CI 2.6–3.7, n = 12)",
        "week 2: 4.0 (n = 1)",
        "week 3: 2.8 (95 % CI 2.0–3.6, n = 5)",
    ]


def test_a_cohort_with_one_member_a_week_has_no_band_at_all():
    weeks = cohort_weeks([(1, 1, 3.0, math.nan, math.nan), (2, 1, 2.0, math.nan, math.nan)])
    figure = figures.cohort_pain_by_week([("Solo", weeks)])
    assert [t.name for t in figure.data] == ["Solo"]


def test_two_cohorts_give_two_lines_in_the_two_cohort_colours():
    a = cohort_weeks([(1, 3, 4.0, 3.0, 5.0), (2, 3, 3.5, 2.5, 4.5)])
    b = cohort_weeks([(1, 4, 5.0, 4.0, 6.0)])
    figure = figures.cohort_pain_by_week([("Hip Mon", a), ("Hip Tue", b)])
    lines = [t for t in figure.data if t.showlegend is not False]
    assert [t.name for t in lines] == ["Hip Mon", "Hip Tue"]
    assert [t.line.color for t in lines] == [COLOURS["cohort_a"], COLOURS["cohort_b"]]
    assert "Hip Mon" not in figure.layout.title.text


def test_more_than_two_cohorts_is_refused_with_a_reason():
    weeks = cohort_weeks([(1, 3, 4.0, 3.0, 5.0)])
    with pytest.raises(ValueError, match="at most 2 cohorts"):
        figures.cohort_pain_by_week([("A", weeks), ("B", weeks), ("C", weeks)])


def grid(rows: list[tuple[str, str, int, int, int]]) -> pd.DataFrame:
    """(client_id, display_name, program_week, attended, target) rows."""
    return pd.DataFrame(rows, columns=["client_id", "display_name", "program_week", "attended", "target"])


def test_heatmap_tells_apart_members_with_the_same_name_and_caps_the_share_at_1():
    attendance = grid(
        [
            ("C-2", "Anna Fischer", 1, 2, 3),
            ("C-2", "Anna Fischer", 2, 4, 3),
            ("C-1", "Anna Fischer", 1, 0, 3),
            ("C-3", "Ben Okafor", 1, 3, 3),
        ]
    )
    figure = figures.attendance_heatmap(attendance)
    (heatmap,) = figure.data
    assert list(heatmap.y) == ["Anna Fischer (C-1)", "Anna Fischer (C-2)", "Ben Okafor"]
    assert list(heatmap.x) == [1, 2]
    z = np.asarray(heatmap.z, dtype=float)
    # C-1: 0 of 3 in week 1, week 2 not reached; C-2: 2 of 3, then 4 of 3 capped at 1; Ben 3 of 3.
    assert z[0, 0] == 0.0 and math.isnan(z[0, 1])
    assert z[1, 0] == pytest.approx(2 / 3) and z[1, 1] == 1.0
    assert z[2, 0] == 1.0
    assert [list(row) for row in heatmap.text] == [["0", ""], ["2", "4"], ["3", ""]]
    assert heatmap.customdata[1][1] == "Anna Fischer (C-2), week 2: 4 of 3 sessions"


def test_heatmap_grows_with_the_number_of_members():
    one = figures.attendance_heatmap(grid([("C-1", "Ana", 1, 1, 2)]))
    three = figures.attendance_heatmap(
        grid([("C-1", "Ana", 1, 1, 2), ("C-2", "Ben", 1, 1, 2), ("C-3", "Cara", 1, 1, 2)])
    )
    assert three.layout.height > one.layout.height


def test_notes_names_and_logged_exercises_are_shown_as_text_not_markup():
    notes = red_flags([("2026-06-05", "Knee <b>gave way</b> & swelled", "instability")])
    (note,) = pain_figure(red_flags=notes).layout.annotations
    assert note.hovertext == "2026-06-05 (home): Knee &lt;b&gt;gave way&lt;/b&gt; &amp; swelled"
    logged = exposures([("2026-06-02", None, None, None, "foam roller <release>", False)])
    markers = level_markers(figures.exercise_timeline(logged))
    assert list(markers["hover"]) == ["foam roller &lt;release&gt; — 2026-06-02"]
    (heatmap,) = figures.attendance_heatmap(grid([("C-1", "Zoë <Z>", 1, 1, 2)])).data
    assert list(heatmap.y) == ["Zoë &lt;Z&gt;"]


# --- empty frames, serialisation, purity ---------------------------------------------------------------


EMPTY_CASES = {
    "pain": (
        lambda: figures.pain_chart(POINTS.iloc[0:0], WEEKS, SESSIONS, red_flags(), client()),
        "No pain ratings yet",
    ),
    "function": (
        lambda: figures.function_chart(scores([]), "LEFS", 9, True, "x"),
        "No Lower Extremity Functional Scale scores yet",
    ),
    "adherence": (lambda: figures.adherence_bars(WEEKS.iloc[0:0]), "No program weeks yet"),
    "timeline": (lambda: figures.exercise_timeline(EXPOSURES.iloc[0:0]), "No exercises logged"),
    "distribution": (
        lambda: figures.adherence_distribution(pd.DataFrame({"display_name": [], "adherence_overall": []})),
        "No members yet",
    ),
    "distribution without adherence": (
        lambda: figures.adherence_distribution(
            pd.DataFrame({"display_name": ["Ana"], "adherence_overall": [math.nan]})
        ),
        "No adherence yet: no member has a program week",
    ),
    "cohort pain": (
        lambda: figures.cohort_pain_by_week([("A", cohort_weeks([]))]),
        "No pain ratings in this cohort yet",
    ),
    "cohort pain without cohorts": (lambda: figures.cohort_pain_by_week([]), "No pain ratings in this cohort yet"),
    "heatmap": (lambda: figures.attendance_heatmap(grid([])), "No program weeks yet"),
}


@pytest.mark.parametrize("case", EMPTY_CASES, ids=list(EMPTY_CASES))
def test_an_empty_frame_gives_a_figure_with_the_message_and_no_axes(case):
    build, message = EMPTY_CASES[case]
    figure = build()
    assert message_of(figure) == message
    assert figure.layout.xaxis.visible is False and figure.layout.yaxis.visible is False
    assert len(figure.data) == 0


def test_empty_figure_centres_its_message():
    (note,) = figures.empty_figure("Nothing here").layout.annotations
    assert (note.x, note.y, note.xref, note.yref) == (0.5, 0.5, "paper", "paper")
    assert note.showarrow is False


ALL_FIGURES = {
    "pain": lambda: pain_figure(red_flags=red_flags([("2026-06-05", "Knee <gave way> & swelled", "instability")])),
    "function": lambda: figures.function_chart(
        scores([("2026-06-01", 4.0), ("2026-07-01", 6.5)]), "PSFS", 2, True, "improved"
    ),
    "adherence": lambda: figures.adherence_bars(WEEKS),
    "timeline": lambda: figures.exercise_timeline(EXPOSURES),
    "distribution": lambda: figures.adherence_distribution(
        pd.DataFrame({"display_name": ["Ana", "Ben"], "adherence_overall": [0.9, math.nan]})
    ),
    "cohort pain": lambda: figures.cohort_pain_by_week(
        [("A", cohort_weeks([(1, 3, 4.0, 3.0, 5.0), (2, 1, 3.0, math.nan, math.nan)]))]
    ),
    "heatmap": lambda: figures.attendance_heatmap(grid([("C-1", "Ana", 1, 1, 2), ("C-1", "Ana", 3, 2, 2)])),
    "empty": lambda: figures.empty_figure("No pain ratings yet"),
}


@pytest.mark.parametrize("name", ALL_FIGURES, ids=list(ALL_FIGURES))
def test_every_figure_serialises_to_json_and_is_the_same_every_time(name):
    build = ALL_FIGURES[name]
    first = pio.to_json(build())
    assert json.loads(first)["layout"]["font"]["family"] == "DejaVu Sans"
    assert build().to_plotly_json()
    assert pio.to_json(build()) == first


@pytest.mark.parametrize("name", ALL_FIGURES, ids=list(ALL_FIGURES))
def test_every_figure_is_valid_plotly(name):
    """The builders skip plotly's validation at run time (it was half a page's time): check here that
    every property they set exists and has a valid value, by building the same figure validated."""
    built = ALL_FIGURES[name]().to_dict()
    go.Figure(built)  # raises ValueError on an unknown property or a bad value


def test_builders_leave_the_shared_layout_and_their_input_frames_unchanged():
    layout_before = json.dumps(LAYOUT, sort_keys=True)
    points_before = POINTS.copy()
    exposures_before = EXPOSURES.copy()
    for build in ALL_FIGURES.values():
        build()
    assert json.dumps(LAYOUT, sort_keys=True) == layout_before
    pd.testing.assert_frame_equal(POINTS, points_before)
    pd.testing.assert_frame_equal(EXPOSURES, exposures_before)


def test_the_figure_modules_work_without_dash():
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, presentation.figures, presentation.palette; "
            "print(any(m == 'dash' or m.startswith('dash.') for m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "False"
