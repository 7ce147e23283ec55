"""Pure figure builders: analytics frames in, plotly figures out, for the Dash pages and the PDF reports.

No dash, no I/O, nothing global changed: the same frames always give the same figure. Every builder
starts from palette.LAYOUT and colours each meaning with its palette colour. The clinical thresholds
drawn (MCID, adherence, baseline window) and their rules are read from analytics.definitions, so a chart
never disagrees with the numbers and flags beside it: no threshold is typed here, not even in words.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics.definitions import (
    ADHERENT,
    BASELINE_DAYS,
    LOW_ADHERENCE,
    TOLERANCE,
    pain_improvement_threshold,
    pain_worsening_threshold,
)
from etl.instruments import BY_CODE, instrument_label, instrument_name
from presentation.formats import known, percent, signed_short
from presentation.palette import (
    ATTENDANCE_SCALE,
    COHORT_COLOURS,
    COLOURS,
    LAYOUT,
    LEVEL_COLOURS,
    LEVEL_DARK_FROM,
    LEVEL_SCALE,
    STATUS_COLOURS,
    translucent,
)

NOT_IN_LIBRARY = "Not in the library"
# A date axis shows a day more either side of the period it covers, so that a point on its first or last
# day is drawn whole (the client page and the progress report alike).
PERIOD_MARGIN = pd.Timedelta(days=1)
DAY_MS = 86_400_000  # a date axis's tick step is in milliseconds
SMALL_TEXT = {"size": 10, "color": COLOURS["muted"]}


def empty_figure(message: str) -> go.Figure:
    """A figure with no axes and the message centred: what a chart shows before there is data for it."""
    message_note = {
        "text": html.escape(message, quote=False),
        "xref": "paper",
        "yref": "paper",
        "x": 0.5,
        "y": 0.5,
        "showarrow": False,
        "font": {"size": 14, "color": COLOURS["muted"]},
    }
    return _figure(
        layout=_layout(xaxis={"visible": False}, yaxis={"visible": False}, hovermode=False, annotations=[message_note])
    )


def pain_chart(
    pain_points: pd.DataFrame,
    weekly: pd.DataFrame,
    sessions: pd.DataFrame,
    red_flags: pd.DataFrame,
    client: Mapping[str, object],
    date_range: tuple[object, object] | None = None,
) -> go.Figure:
    """One client's pain over time against the baseline, the MCID line and the "no important change" band.

    Points are session pains and NPRS scores (docs/metrics.md pain points); the weekly mean sits mid-week.
    Flares (docs/metrics.md, after Silbernagel 2007) are crosses on the session's pain; red-flag notes are
    dashed lines carrying their signs, the note itself on hover. The band runs from the improvement
    threshold to the worsening threshold (analytics.definitions: pain_improvement_threshold and
    pain_worsening_threshold, Ostelo 2008): pain inside it has not changed in a way that matters.
    `red_flags` are the client's own notes; `date_range` = (start, end) sets the x axis only (by default
    the episode so far, at least its baseline window: one rating still reads in days).
    """
    if pain_points.empty:
        return empty_figure("No pain ratings yet")
    start = pd.Timestamp(client["start_date"])
    baseline = known(client.get("pain_baseline"))
    traces = [
        _pain_points_trace(pain_points, "session", "session pain", "circle", COLOURS["pain"]),
        _pain_points_trace(pain_points, "NPRS", "NPRS score", "diamond", COLOURS["pain_nprs"]),
        _weekly_mean_trace(weekly, start),
        _flare_trace(sessions),
    ]
    shapes = [_baseline_window(start)]
    if baseline is not None:
        shapes += _baseline_shapes(baseline)
    flag_lines, flag_notes = _red_flag_marks(red_flags)
    traces = [trace for trace in traces if trace is not None]
    if date_range is None:
        marks = [day for trace in traces for day in trace["x"]] + [line["x0"] for line in flag_lines]
        date_range = _episode_range(start, marks)
    xaxis = {
        "title": {"text": "Date"},
        "type": "date",
        "hoverformat": "%a %d %b %Y",
        "range": [_iso_day(date_range[0]), _iso_day(date_range[1])],
    }
    layout = _layout(
        title={"text": _pain_title(client, baseline)},
        xaxis=xaxis,
        yaxis={"title": {"text": "Pain (0–10)"}, "range": [0, 10], "dtick": 2, "fixedrange": True},
        shapes=shapes + flag_lines,
        annotations=flag_notes,
    )
    return _figure(data=traces, layout=layout)


def function_chart(
    scores: pd.DataFrame,
    instrument: str,
    threshold: float,
    higher_is_better: bool,
    status: str,
    threshold_kind: str = "MCID",
) -> go.Figure:
    """One instrument's scores against the band of no important change: the first score ± its MCID.

    The thresholds are docs/metrics.md's (analytics.definitions.FUNCTION_THRESHOLDS; an MDC where no MCID
    is established, named by `threshold_kind`). The change in the title is first vs latest score,
    signed so that positive is better whichever way the instrument runs; scores on one day are averaged.
    The instrument (its code) is shown by its name, the axis with its unit, and the band stays within the
    instrument's range (a stance is never shorter than 0 s) (etl.instruments).
    """
    scale = BY_CODE.get(instrument)
    name, label = html.escape(instrument_name(instrument)), html.escape(instrument_label(instrument))
    if scores.empty:
        return empty_figure(f"No {instrument_name(instrument)} scores yet")
    scores = scores.sort_values("measured_on", kind="stable")
    by_day = scores.groupby(scores["measured_on"].dt.normalize(), sort=True)["score"].mean()
    first = float(by_day.iloc[0])
    if len(by_day) < 2:
        title = f"{name} — {_status_word('not enough data')}"
    else:
        change = float(by_day.iloc[-1]) - first
        better = change if higher_is_better else -change
        title = f"{name} — {_status_word(status)} ({signed_short(better)}, {threshold_kind} {threshold:g})"
    line = _trace(
        "scatter",
        x=_iso_days(scores["measured_on"]),
        y=scores["score"].to_numpy(),
        mode="lines+markers",
        name=name,
        line={"color": COLOURS["function"], "width": 2},
        marker={"size": 8, "color": COLOURS["function"]},
        hovertemplate=f"{label}: %{{y:.4g}}<br>%{{x|%d %b %Y}}<extra></extra>",
    )
    band = _no_change_band(
        max(first - threshold, scale.low) if scale else first - threshold,
        min(first + threshold, scale.high) if scale else first + threshold,
        f"no important change (first ± {threshold:g})",
    )
    direction = {
        "name": "direction",
        "text": "↑ higher is better" if higher_is_better else "↓ lower is better",
        "xref": "paper",
        "yref": "paper",
        "x": 1,
        "y": 1,
        "xanchor": "right",
        "yanchor": "bottom",
        "showarrow": False,
        "font": SMALL_TEXT,
    }
    layout = _layout(
        title={"text": title},
        xaxis={"title": {"text": "Date measured"}, "hoverformat": "%d %b %Y", **_days_axis(by_day.index)},
        yaxis={"title": {"text": label}},
        shapes=[band],
        annotations=[direction],
        showlegend=False,
    )
    return _figure(data=[line], layout=layout)


def adherence_bars(weekly: pd.DataFrame) -> go.Figure:
    """Sessions attended per program week against the weekly target.

    A week is adherent when it reaches ADHERENT of its target (analytics.definitions: BJSM 2018; Bailey et al.),
    the threshold itself included; its adherence counts extra sessions only up to the target (docs/metrics.md),
    as the hover says.
    """
    if weekly.empty:
        return empty_figure("No program weeks yet")
    weekly = weekly.sort_values("program_week", kind="stable")
    weeks = "Week " + weekly["program_week"].astype(str)
    hover = (
        weekly["attended"].astype(str)
        + " of "
        + weekly["target"].astype(str)
        + " sessions ("
        + (weekly["adherence"] * 100).round().astype(int).astype(str)
        + " %)"
    )
    adherent = (weekly["adherence"] >= ADHERENT - TOLERANCE).to_numpy()
    traces = [
        _week_bars(weekly[mask], weeks[mask], hover[mask], name, COLOURS[colour])
        for mask, name, colour in (
            (adherent, f"adherent (≥ {percent(ADHERENT)})", "adherent"),
            (~adherent, "below target", "below_target"),
        )
        if mask.any()
    ]
    target = _trace(
        "scatter",
        x=weeks.to_numpy(),
        y=weekly["target"].to_numpy(),
        mode="lines+markers",
        name="target",
        line={"color": COLOURS["target"], "width": 1.5, "shape": "hvh", "dash": "dot"},
        marker={"symbol": "line-ew-open", "size": 18, "color": COLOURS["target"], "line": {"width": 2}},
        hovertemplate="target %{y}<extra></extra>",
    )
    layout = _layout(
        title={"text": "Sessions attended per week"},
        barmode="overlay",
        xaxis={
            "title": {"text": "Program week"},
            "type": "category",
            "categoryorder": "array",
            "categoryarray": weeks.tolist(),
        },
        yaxis={"title": {"text": "Sessions attended"}, "rangemode": "tozero", "dtick": 1},
    )
    return _figure(data=[*traces, target], layout=layout)


def exercise_timeline(exposures: pd.DataFrame, date_range: tuple[object, object] | None = None) -> go.Figure:
    """Each exercise family's level over time: one row per family, a marker per session numbered by level.

    Within a row the marker sits higher the higher the level (1 light → 6 dark), and a thin step line
    joins a family's sessions, so a progression or a regression shows as a step. Rows are in a fixed
    order (families by name, then stretches, then exercises not in the library). `date_range` =
    (start, end) sets the x axis (by default the sessions', in days however few they are).
    """
    if exposures.empty:
        return empty_figure("No exercises logged")
    rows, row, day, level, exercise = _timeline_marks(exposures)
    known = level > 0
    # Levels 1..6 spread over ±0.3 of the row; an exercise not in the library sits on the row's middle.
    y = row + np.where(known, (level - 3.5) * 0.12, 0.0)
    dates = day.astype(str).astype(object)
    level_text = np.where(known, level.astype(str), "?").astype(object)
    hover = exercise + np.where(known, " (level " + level_text + ")", "") + " — " + dates
    # The number only where a family's level changes (marks run top row first, then by day): a number
    # on every session's marker crowded a three-month episode into an unreadable strip.
    changes = np.r_[True, (row[1:] != row[:-1]) | (level[1:] != level[:-1])]
    level_text = np.where(changes, level_text, "").astype(object)
    dark = level >= LEVEL_DARK_FROM
    markers = [
        _level_markers(dates[chosen], y[chosen], level[chosen], level_text[chosen], hover[chosen], text_colour)
        for chosen, text_colour in ((~dark, COLOURS["text"]), (dark, "white"))
        if chosen.any()
    ]
    layout = _layout(
        title={"text": "Exercise level by family"},
        height=110 + 46 * len(rows),
        hovermode="closest",
        showlegend=False,
        xaxis={"title": {"text": "Session date"}, **_days_axis(day, date_range)},
        yaxis={
            "tickvals": list(range(len(rows) - 1, -1, -1)),
            "ticktext": [html.escape(row) for row in rows],
            "range": [-0.6, len(rows) - 0.4],
            "showgrid": False,
            "fixedrange": True,
            # Minor grid lines between the rows (cheaper than a shape per row).
            "minor": {"tickvals": [row + 0.5 for row in range(len(rows) - 1)], "showgrid": True, "ticklen": 0},
        },
    )
    return _figure(data=[_step_line(dates, y, row), *markers], layout=layout)


def adherence_distribution(members: pd.DataFrame) -> go.Figure:
    """How many members reached each 10 % band of overall adherence, with the adherent and low lines.

    Adherent is ≥ ADHERENT, low < LOW_ADHERENCE (analytics.definitions, docs/metrics.md). Bands include their
    lower edge (a member exactly at a band's edge counts in the band above it), and the last one 100 %; members
    with no program week yet are left out.
    """
    if members.empty:
        return empty_figure("No members yet")
    known = members[members["adherence_overall"].notna()]
    if known.empty:
        return empty_figure("No adherence yet: no member has a program week")
    band = np.minimum(np.floor(known["adherence_overall"].to_numpy() * 10 + TOLERANCE), 9).astype(int)
    counts = np.bincount(band, minlength=10)
    names = known["display_name"].to_numpy(dtype=object)
    hover = [
        f"{10 * b}–{10 * b + 10} %: {_members(counts[b])}<br>{_name_list(sorted(names[band == b]))}" for b in range(10)
    ]
    bars = _trace(
        "bar",
        x=[10 * b + 5 for b in range(10)],
        y=counts,
        width=10,
        name="members",
        marker={
            "color": [COLOURS["adherent" if 10 * b >= 100 * ADHERENT else "below_target"] for b in range(10)],
            "line": {"color": "white", "width": 1},
        },
        customdata=hover,
        hovertemplate="%{customdata}<extra></extra>",
    )
    lines = [
        _vertical_line(100 * ADHERENT, f"adherent ≥ {percent(ADHERENT)}", COLOURS["adherent"]),
        _vertical_line(100 * LOW_ADHERENCE, f"low < {percent(LOW_ADHERENCE)}", COLOURS["below_target"]),
    ]
    title = f"Overall adherence of {_members(len(known))}"
    if len(known) < len(members):
        title += f" ({len(members) - len(known)} with no program week yet)"
    layout = _layout(
        title={"text": html.escape(title)},
        hovermode="closest",
        showlegend=False,
        bargap=0,
        xaxis={"title": {"text": "Overall adherence"}, "range": [0, 101], "dtick": 10, "ticksuffix": " %"},
        yaxis={"title": {"text": "Members"}, "rangemode": "tozero", "dtick": 1 if counts.max() <= 10 else None},
        shapes=lines,
    )
    return _figure(data=[bars], layout=layout)


def cohort_pain_by_week(series: Sequence[tuple[str, pd.DataFrame]]) -> go.Figure:
    """Mean pain by program week for one cohort, or two to compare, each with its 95 % interval.

    The interval (docs/metrics.md: mean ± t · sd / √n) is a translucent band in the cohort's colour, drawn only
    over the weeks that have one: a week with one member with pain shows its point without a band.
    """
    if len(series) > len(COHORT_COLOURS):
        raise ValueError(f"cohort_pain_by_week compares at most {len(COHORT_COLOURS)} cohorts, got {len(series)}")
    if all(frame.empty for _, frame in series):
        return empty_figure("No pain ratings in this cohort yet")
    traces = []
    for (label, frame), colour in zip(series, COHORT_COLOURS, strict=False):
        frame = _every_week(frame.sort_values("program_week", kind="stable"))
        band = _interval_band(frame, label, colour)
        if band is not None:
            traces.append(band)
        traces.append(_cohort_line(frame, label, colour))
    weeks = max((frame["program_week"].max() for _, frame in series if not frame.empty), default=1)
    title = "Mean pain by program week" + (f" — {html.escape(series[0][0])}" if len(series) == 1 else "")
    notes = []
    if not any(frame["ci_low"].notna().any() for _, frame in series if not frame.empty):
        # Said in the chart itself, so a report that prints the chart alone says it too.
        notes.append(
            {"text": "one member with pain ratings a week: no 95 % interval", "xref": "paper", "yref": "paper",
             "x": 1, "y": 1, "xanchor": "right", "yanchor": "bottom", "showarrow": False,
             "font": {"size": 11, "color": COLOURS["muted"]}}
        )  # fmt: skip
    layout = _layout(
        title={"text": title},
        xaxis={"title": {"text": "Program week"}, "tick0": 1, "dtick": 1 if weeks <= 16 else 2},
        yaxis={"title": {"text": "Mean pain (0–10)"}, "range": [0, 10], "dtick": 2, "fixedrange": True},
        annotations=notes,
    )
    return _figure(data=traces, layout=layout)


def _every_week(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per week from the first to the last, a week without ratings empty: the line breaks
    there instead of joining week 1 straight to week 3."""
    if frame.empty:
        return frame
    weeks = pd.RangeIndex(int(frame["program_week"].min()), int(frame["program_week"].max()) + 1)
    if len(weeks) == len(frame):
        return frame
    every = frame.set_index("program_week").reindex(weeks).rename_axis("program_week").reset_index()
    return every.astype({"n": "Int64"})


def attendance_heatmap(grid: pd.DataFrame) -> go.Figure:
    """Members × program weeks, coloured by the share of the week's target attended (capped at 1).

    The cell shows the sessions attended; a blank cell is a week the member has not reached.
    Members who share a display name are told apart by their client id.
    """
    if grid.empty:
        return empty_figure("No program weeks yet")
    labels, row = _member_rows(grid)
    weeks = np.sort(grid["program_week"].unique())
    column = np.searchsorted(weeks, grid["program_week"].to_numpy())
    attended = grid["attended"].to_numpy()
    target = grid["target"].to_numpy()
    share = np.full((len(labels), len(weeks)), np.nan)
    share[row, column] = np.minimum(np.divide(attended, target, out=np.ones(len(grid)), where=target > 0), 1.0)
    text = np.full(share.shape, "", dtype=object)
    text[row, column] = attended.astype(str)
    hover = np.full(share.shape, "", dtype=object)
    hover[row, column] = (
        np.array(labels, dtype=object)[row]
        + ", week "
        + weeks[column].astype(str).astype(object)
        + ": "
        + text[row, column]
        + " of "
        + target.astype(str).astype(object)
        + " sessions"
    )
    heatmap = _trace(
        "heatmap",
        z=share,
        x=weeks,
        y=labels,
        zmin=0,
        zmax=1,
        colorscale=ATTENDANCE_SCALE,
        xgap=2,
        ygap=2,
        text=text,
        texttemplate="%{text}",
        customdata=hover,
        hovertemplate="%{customdata}<extra></extra>",
        colorbar={
            "title": {"text": "Share of target", "side": "right"},
            "tickvals": [0, 0.5, 1],
            "ticktext": ["0 %", "50 %", "100 %"],
            "thickness": 12,
        },
    )
    layout = _layout(
        title={"text": "Attendance by program week"},
        height=150 + 24 * len(labels),
        hovermode="closest",
        xaxis={"title": {"text": "Program week"}, "dtick": 1, "showgrid": False, "side": "bottom"},
        yaxis={"autorange": "reversed", "type": "category", "showgrid": False, "automargin": True},
    )
    return _figure(data=[heatmap], layout=layout)


# --- the pain chart's parts ------------------------------------------------------------------------


def _pain_points_trace(points: pd.DataFrame, source: str, name: str, symbol: str, colour: str) -> dict | None:
    chosen = points[points["source"] == source]
    marker = {"symbol": symbol, "size": 7 if source == "session" else 10, "color": colour, "opacity": 0.85}
    return _pain_markers(chosen["pain_on"], chosen["pain"], name, marker, f"{name} %{{y:.1f}}<extra></extra>")


def _weekly_mean_trace(weekly: pd.DataFrame, start: pd.Timestamp) -> dict | None:
    with_pain = weekly[weekly["mean_pain"].notna()].sort_values("program_week", kind="stable")
    if with_pain.empty:
        return None
    # Program week w covers days 7(w − 1) … 7(w − 1) + 6, so its middle is day 7(w − 1) + 3.
    middle = start + pd.to_timedelta((with_pain["program_week"] - 1) * 7 + 3, unit="D")
    return _trace(
        "scatter",
        x=_iso_days(middle),
        y=with_pain["mean_pain"].to_numpy(),
        mode="lines+markers",
        name="weekly mean",
        line={"color": COLOURS["weekly_mean_pain"], "width": 2.5},
        marker={"size": 5, "color": COLOURS["weekly_mean_pain"]},
        customdata=with_pain["program_week"].to_numpy(),
        hovertemplate="week %{customdata} mean %{y:.1f}<extra></extra>",
    )


def _flare_trace(sessions: pd.DataFrame) -> dict | None:
    flares = sessions[sessions["flare"].fillna(False).astype(bool) & sessions["session_pain"].notna()]
    marker = {"symbol": "x-thin-open", "size": 13, "color": COLOURS["flare"], "line": {"width": 2.5}}
    return _pain_markers(
        flares["session_date"], flares["session_pain"], "flare", marker, "flare: pain %{y:.1f}<extra></extra>"
    )


def _pain_markers(days: pd.Series, pains: pd.Series, name: str, marker: dict, hover: str) -> dict | None:
    """Pains as markers on their days (None: there are none)."""
    if days.empty:
        return None
    return _trace(
        "scatter", x=_iso_days(days), y=pains.to_numpy(), mode="markers", name=name, marker=marker, hovertemplate=hover
    )


def _baseline_window(start: pd.Timestamp) -> dict:
    # Days 0 … BASELINE_DAYS − 1 give the pain baseline (docs/metrics.md): the window ends at the start of the next.
    return {
        "type": "rect",
        "name": "baseline window",
        "xref": "x",
        "yref": "paper",
        "x0": _iso_day(start),
        "x1": _iso_day(start + pd.Timedelta(days=BASELINE_DAYS)),
        "y0": 0,
        "y1": 1,
        "fillcolor": COLOURS["baseline_window"],
        "line": {"width": 0},
        "layer": "below",
        "label": {"text": "baseline days", "textposition": "bottom center", "font": SMALL_TEXT},
    }


def _baseline_shapes(baseline: float) -> list[dict]:
    improved_at = pain_improvement_threshold(baseline)
    band = _no_change_band(max(improved_at, 0.0), min(pain_worsening_threshold(baseline), 10.0), "no important change")
    # The baseline's label sits at the left above its line, the MCID line's at the right below it, so the
    # two never overlap however close the lines are.
    baseline_line = _horizontal_line("baseline", baseline, f"baseline {baseline:.1f}", COLOURS["baseline"], "dot")
    shapes = [band, baseline_line]
    if improved_at >= 0:
        label = f"important improvement ≤ {improved_at:.1f}"
        shapes.append(
            _horizontal_line("important improvement", improved_at, label, COLOURS["improvement"], "dash", at_left=False)
        )
    return shapes


def _no_change_band(low: float, high: float, label: str) -> dict:
    """The band of no clinically important change, across the plot from `low` to `high`."""
    return {
        "type": "rect",
        "name": "no important change",
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": low,
        "y1": high,
        "fillcolor": COLOURS["no_change_band"],
        "line": {"width": 0},
        "layer": "below",
        "label": {"text": label, "textposition": "top right", "font": SMALL_TEXT},
    }


def _horizontal_line(name: str, y: float, label: str, colour: str, dash: str, at_left: bool = True) -> dict:
    return {
        "type": "line",
        "name": name,
        "xref": "paper",
        "x0": 0,
        "x1": 1,
        "y0": y,
        "y1": y,
        "line": {"color": colour, "width": 1.5, "dash": dash},
        "label": {
            "text": label,
            "textposition": "start" if at_left else "end",
            "yanchor": "bottom" if at_left else "top",
            "font": {"size": 10, "color": colour},
        },
    }


def _red_flag_marks(red_flags: pd.DataFrame) -> tuple[list[dict], list[dict]]:
    lines, notes = [], []
    for i, flag in enumerate(red_flags.sort_values("session_date", kind="stable").itertuples(index=False)):
        day = _iso_day(flag.session_date)
        lines.append(
            {
                "type": "line",
                "name": "red flag",
                "xref": "x",
                "yref": "paper",
                "x0": day,
                "x1": day,
                "y0": 0,
                "y1": 1,
                "line": {"color": COLOURS["red_flag"], "width": 1.2, "dash": "dash"},
            }
        )
        notes.append(
            {
                "name": "red flag",
                "text": html.escape(f"red flag: {flag.signs}", quote=False),
                "hovertext": html.escape(f"{day} ({flag.session_type}): {flag.note}", quote=False),
                "xref": "x",
                "yref": "paper",
                "x": day,
                "y": 0.99 if i % 2 == 0 else 0.92,  # alternate heights so notes close together stay legible
                "xanchor": "left",
                "yanchor": "top",
                "showarrow": False,
                "bgcolor": "rgba(255, 255, 255, 0.8)",
                "font": {"size": 10, "color": COLOURS["red_flag"]},
            }
        )
    return lines, notes


def _pain_title(client: Mapping[str, object], baseline: float | None) -> str:
    current = known(client.get("pain_current"))
    status = _status_word(str(client.get("pain_status") or "not enough data"))
    if baseline is None:
        return f"Pain — {status}"
    if current is None:
        return f"Pain — {status} (baseline {baseline:.1f})"
    return f"Pain — {status} ({baseline:.1f} → {current:.1f})"


# --- the other charts' parts -------------------------------------------------------------------------


def _week_bars(weekly: pd.DataFrame, weeks: pd.Series, hover: pd.Series, name: str, colour: str) -> dict:
    return _trace(
        "bar",
        x=weeks.to_numpy(),
        y=weekly["attended"].to_numpy(),
        name=name,
        marker={"color": colour},
        customdata=hover.to_numpy(),
        hovertemplate="%{customdata}<extra></extra>",
    )


def _timeline_marks(
    exposures: pd.DataFrame,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One mark per family and session day, sorted from the top row down and by day.

    Returns the row labels (top first) and, per mark, its row number (the top row is the highest),
    day, level (0: not in the library) and exercise. Stretches share a family and several are done in
    one session: their mark joins the names.
    """
    family = exposures["family_label"].astype(object).fillna(NOT_IN_LIBRARY).to_numpy()
    day = exposures["session_date"].to_numpy().astype("datetime64[D]")
    level = exposures["level"].astype("Int64").fillna(0).to_numpy(dtype=np.int64).clip(0, len(LEVEL_COLOURS))
    exercise = exposures["exercise"].astype(object).fillna("exercise not in the library").to_numpy()
    stretch = exposures["stretch"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    codes, families = pd.factorize(family)
    kind = np.zeros(len(families), dtype=np.int64)  # 0 a ladder, 1 stretches, 2 not in the library
    np.maximum.at(kind, codes, stretch.astype(np.int64))
    kind[families == NOT_IN_LIBRARY] = 2
    order = sorted(range(len(families)), key=lambda f: (kind[f], families[f]))
    row_of_family = np.empty(len(families), dtype=np.int64)
    row_of_family[order] = np.arange(len(families))[::-1]
    row = row_of_family[codes]
    days_in = (day - day.min()).astype(np.int64)
    key = (len(families) - row) * (days_in.max() + 1) + days_in  # sorts top row first, then by day
    _, first, mark = np.unique(key, return_index=True, return_inverse=True)
    mark_level = np.zeros(len(first), dtype=np.int64)
    np.maximum.at(mark_level, mark, level)
    mark_exercise = exercise[first]
    shared = np.bincount(mark)[mark] > 1
    names: dict[int, set[str]] = {}
    for m, name in zip(mark[shared], exercise[shared], strict=True):
        names.setdefault(int(m), set()).add(name)
    for m, same_day in names.items():
        mark_exercise[m] = ", ".join(sorted(same_day))
    # An exercise not in the library carries the name as logged: plain text, never markup.
    mark_exercise = np.array([html.escape(name, quote=False) for name in mark_exercise], dtype=object)
    return [families[f] for f in order], row[first], day[first], mark_level, mark_exercise


def _level_markers(
    dates: np.ndarray, y: np.ndarray, level: np.ndarray, text: np.ndarray, hover: np.ndarray, text_colour: str
) -> dict:
    # Colour by level number through a colorscale: 0 (not in the library) grey, then 1 light … 6 dark.
    return _trace(
        "scatter",
        x=dates,
        y=y,
        mode="markers+text",
        name="exercise level",
        text=text,
        textposition="middle center",
        textfont={"size": 8, "color": text_colour},
        marker={
            "size": 13,
            "color": level,
            "colorscale": LEVEL_SCALE,
            "cmin": 0,
            "cmax": len(LEVEL_COLOURS),
            "line": {"width": 0.5, "color": COLOURS["muted"]},
        },
        hovertext=hover,
        hoverinfo="text",
    )


def _step_line(dates: np.ndarray, y: np.ndarray, rows: np.ndarray) -> dict:
    # One trace for every family: a gap (None) where the next family's row begins.
    breaks = np.flatnonzero(np.diff(rows)) + 1
    x = np.insert(dates, breaks, None)
    y_line = np.insert(y.astype(object), breaks, None)
    return _trace(
        "scatter",
        x=x,
        y=y_line,
        mode="lines",
        name="level steps",
        line={"color": COLOURS["muted"], "width": 1, "shape": "hv"},
        hoverinfo="skip",
        connectgaps=False,
    )


def _member_rows(grid: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Members' labels in name order, and each grid row's member: a shared name gets the client id."""
    codes, clients = pd.factorize(grid["client_id"].to_numpy(dtype=object))
    names = grid["display_name"].to_numpy(dtype=object)[np.unique(codes, return_index=True)[1]]
    sharing = Counter(names)
    labels = [name if sharing[name] == 1 else f"{name} ({client})" for name, client in zip(names, clients, strict=True)]
    order = sorted(range(len(clients)), key=lambda member: (labels[member], clients[member]))
    position = np.empty(len(clients), dtype=np.int64)
    position[order] = np.arange(len(clients))
    return [html.escape(labels[member], quote=False) for member in order], position[codes]


def _vertical_line(x: float, label: str, colour: str) -> dict:
    return {
        "type": "line",
        "name": label,
        "xref": "x",
        "yref": "paper",
        "x0": x,
        "x1": x,
        "y0": 0,
        "y1": 1,
        "line": {"color": colour, "width": 1.5, "dash": "dash"},
        "label": {
            "text": label,
            "textposition": "end",
            "textangle": 0,
            "xanchor": "right",
            "yanchor": "top",
            "font": {"size": 10, "color": colour},
        },
    }


def _interval_band(frame: pd.DataFrame, label: str, colour: str) -> dict | None:
    """The 95 % interval as closed shapes, one per run of weeks that have one (None separates the runs).

    A run of a single week would be a shape without width: it is drawn 0.4 of a week wide instead.
    """
    x: list[object] = []
    y: list[object] = []
    run: list[tuple[float, float, float]] = []
    rows = zip(frame["program_week"], frame["ci_low"], frame["ci_high"], strict=True)
    for week, low, high in [*rows, (None, np.nan, np.nan)]:
        if pd.notna(low) and pd.notna(high):
            run.append((float(week), float(low), float(high)))
            continue
        if len(run) == 1:
            (week_alone, low_alone, high_alone) = run[0]
            run = [(week_alone - 0.2, low_alone, high_alone), (week_alone + 0.2, low_alone, high_alone)]
        if run:
            x += [w for w, _, _ in run] + [w for w, _, _ in reversed(run)] + [None]
            y += [h for _, _, h in run] + [lo for _, lo, _ in reversed(run)] + [None]
            run = []
    if not x:
        return None
    return _trace(
        "scatter",
        x=x[:-1],
        y=y[:-1],
        mode="lines",
        fill="toself",
        fillcolor=translucent(colour, 0.18),
        line={"width": 0, "color": colour},
        name=html.escape(f"{label} 95 % interval"),
        legendgroup=label,
        showlegend=False,
        hoverinfo="skip",
    )


def _cohort_line(frame: pd.DataFrame, label: str, colour: str) -> dict:
    hover = [
        f"week {week}: {mean:.1f} (95 % CI {low:.1f}–{high:.1f}, n = {n})"
        if pd.notna(low) and pd.notna(high)
        else f"week {week}: {mean:.1f} (n = {n})"
        for week, n, mean, low, high in zip(
            frame["program_week"], frame["n"], frame["mean_pain"], frame["ci_low"], frame["ci_high"], strict=True
        )
    ]
    return _trace(
        "scatter",
        x=frame["program_week"].to_numpy(),
        y=frame["mean_pain"].to_numpy(),
        mode="lines+markers",
        name=html.escape(label),
        legendgroup=label,
        line={"color": colour, "width": 2.5},
        marker={"size": 7, "color": colour},
        customdata=hover,
        hovertemplate=f"%{{customdata}}<extra>{html.escape(label)}</extra>",
    )


# --- small shared helpers -----------------------------------------------------------------------------


def _trace(kind: str, **properties: object) -> dict:
    """A trace as a plain dict: go.Figure validates it once (a go.Scatter would be validated twice)."""
    return {"type": kind, **properties}


def _figure(data=None, layout=None) -> go.Figure:
    """A figure without plotly's property validation, which cost half of a page callback (about 15 ms
    a figure). The builders' output is validated in the tests instead (test_figures: every figure
    rebuilt with validation on)."""
    return go.Figure(data=data, layout=layout, _validate=False)


def _layout(**overrides: object) -> dict:
    """palette.LAYOUT with these keys replaced; a nested dict (an axis, the title) is merged one level deep."""
    layout = {key: dict(value) if isinstance(value, dict) else value for key, value in LAYOUT.items()}
    for key, value in overrides.items():
        base = layout.get(key)
        layout[key] = {**base, **value} if isinstance(base, dict) and isinstance(value, dict) else value
    return layout


def _iso_day(value: object) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def _days_axis(days: Sequence[object], date_range: tuple[object, object] | None = None) -> dict:
    """A date axis that reads in days: `date_range` if given. Dates less than a week apart get three and a
    half days either side (the half: the last day's tick is drawn), ticked by day: on one date alone
    plotly's own range spans a millisecond ("23:59:59.999")."""
    if date_range is not None:
        return {"type": "date", "range": [_iso_day(date_range[0]), _iso_day(date_range[1])]}
    first, last = pd.Timestamp(min(days)).normalize(), pd.Timestamp(max(days)).normalize()
    if last - first >= pd.Timedelta(days=7):
        return {"type": "date"}
    shown = (last - first).days + 7
    either_side = pd.Timedelta(days=3.5)
    return {
        "type": "date",
        "range": [(first - either_side).strftime("%Y-%m-%d %H:%M"), (last + either_side).strftime("%Y-%m-%d %H:%M")],
        "dtick": DAY_MS * (1 if shown <= 7 else 2),
        "tickformat": "%-d %b",
    }


def period_range(first: object, last: object) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The date axis of the period from `first` to `last` (the client page's and the progress report's charts):
    PERIOD_MARGIN either side, and at least the baseline window long, so that a new client's chart reads in
    days, not hours."""
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    return first - PERIOD_MARGIN, max(last, first + pd.Timedelta(days=BASELINE_DAYS)) + PERIOD_MARGIN


def _episode_range(start: pd.Timestamp, days: Sequence[object]) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The episode so far and PERIOD_MARGIN either side: from its start (or an earlier mark) to its last mark,
    at least to the end of the baseline window."""
    marks = [pd.Timestamp(day) for day in days]
    first = min([start, *marks])
    last = max([start + pd.Timedelta(days=BASELINE_DAYS), *marks])
    return first - PERIOD_MARGIN, last + PERIOD_MARGIN


def _iso_days(values: pd.Series) -> np.ndarray:
    return pd.DatetimeIndex(values).to_numpy().astype("datetime64[D]").astype(str).astype(object)


def _status_word(status: str) -> str:
    colour = STATUS_COLOURS.get(status, COLOURS["text"])
    return f'<span style="color:{colour}">{html.escape(status)}</span>'


def _members(count: int) -> str:
    return f"{count} member" if count == 1 else f"{count} members"


def _name_list(names: list[str], shown: int = 8) -> str:
    listed = ", ".join(html.escape(name) for name in names[:shown])
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")
