"""Small pieces every page uses: number formats in clinic words, flag badges, cards and empty states."""

from __future__ import annotations

from datetime import date

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import dcc, html

from analytics.definitions import FLAG_EXPLANATIONS, FLAGS

FLAG_LABELS = {
    "refer": "Refer",
    "pain_worse": "Pain worse",
    "low_adherence": "Low adherence",
    "lapsed": "Lapsed",
    "plateau": "Plateau",
    "ready_to_progress": "Ready to progress",
}
PAIN_STATUS_WORDS = {
    "improved": "improved",
    "worse": "worse",
    "no important change": "no important change",
    "not enough data": "not enough data",
}


def _id(id) -> dict:
    """Dash 4 refuses `id=None`: pass an id only when there is one."""
    return {"id": id} if id else {}


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


def percent(value) -> str:
    """0.953 -> '95 %' (whole percent; an unknown value is a dash)."""
    return "–" if missing(value) else f"{round(100 * value):.0f} %"


def pain(value) -> str:
    return "–" if missing(value) else f"{value:.1f}"


def signed(value) -> str:
    if missing(value):
        return "–"
    rounded = round(value, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:+.1f}".replace("-", "−")


def day(value) -> str:
    """A date as the clinic reads it: 30 Oct 2026."""
    if missing(value):
        return "–"
    return pd.Timestamp(value).strftime("%-d %b %Y")


def iso(value) -> str | None:
    return None if missing(value) else pd.Timestamp(value).date().isoformat()


def parse_day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def pain_change_text(baseline, current, status) -> str:
    """'3.4 → 1.8 (−1.6, improved)': the change is in words too, never colour alone."""
    if missing(baseline) and missing(current):
        return "no pain ratings"
    change = "" if missing(baseline) or missing(current) else f"{signed(current - baseline)}, "
    return f"{pain(baseline)} → {pain(current)} ({change}{PAIN_STATUS_WORDS.get(status, status)})"


def flag_list(flags: str | None) -> list[str]:
    """'pain_worse;lapsed' -> ['pain_worse', 'lapsed'] in priority order (SPEC §2)."""
    present = set(filter(None, (flags or "").split(";")))
    return [f for f in FLAGS if f in present]


def flag_badges(flags: str | None, id_prefix: str = "flag") -> html.Span:
    items = flag_list(flags)
    if not items:
        return html.Span("no flags", className="text-muted small")
    return html.Span(
        [
            html.Span(FLAG_LABELS[f], className=f"flag flag-{f}", title=FLAG_EXPLANATIONS[f], id=f"{id_prefix}-{f}")
            for f in items
        ],
        className="flags",
    )


def stat(label: str, value: str, detail: str | None = None, *, id: str | None = None, tone: str = "") -> html.Div:
    return html.Div(
        [
            html.Div(label, className="stat-label"),
            html.Div(value, className="stat-value"),
            html.Div(detail, className="stat-detail") if detail else None,
        ],
        className=f"stat {tone}".strip(),
        id=id or f"stat-{label.lower().replace(' ', '-')}",
    )


def no_data_yet() -> html.Div:
    """A warehouse with nothing loaded: say what to do, not an error."""
    return html.Div(
        [
            html.H2("No data loaded yet"),
            html.P("hipline shows progress once your clinic's files are loaded."),
            html.Ul(
                [
                    html.Li(
                        [
                            "Upload session logs, clients, measures and rosters on the ",
                            dcc.Link("Import", href="/import"),
                            " page,",
                        ]
                    ),
                    html.Li(
                        [
                            "or load a folder from the command line: ",
                            html.Code("hipline load --db data/hipline.duckdb FOLDER"),
                        ]
                    ),
                    html.Li(["or try the demo data: ", html.Code("make demo"), "."]),
                ]
            ),
        ],
        className="empty-state",
        id="empty-state",
    )


def not_found(what: str, key: str, back_href: str, back_label: str) -> html.Div:
    return html.Div(
        [
            html.H2(f"No {what} {key}"),
            html.P(f"There is no {what} with the id {key!r} in the warehouse as of the day shown."),
            dcc.Link(back_label, href=back_href, className="btn btn-outline-primary btn-sm"),
        ],
        className="empty-state",
        id="not-found",
    )


def section(title: str, *children, id: str | None = None, actions=None) -> html.Section:
    # `is not None`: a Dash component with no children counts as false.
    header = html.Div([html.H2(title), actions] if actions is not None else [html.H2(title)], className="section-head")
    return html.Section([header, *children], className="section", **_id(id))


def loading(child, id: str | None = None):
    """A spinner while a callback works (the pages' loading indicator)."""
    return dcc.Loading(child, type="dot", color="#2c6e9b", delay_show=250, **_id(id))


def alert(message: str, colour: str = "warning", id: str | None = None):
    return dbc.Alert(message, color=colour, id=id or "alert", className="py-2")
