"""The Dash application: for now one page with what the warehouse holds and what the last loads did."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from dash import Dash, dcc, html

from hipline.summary import WarehouseSummary, warehouse_summary

ASSETS = Path(__file__).parent / "assets"

VIEW_LABELS = {
    "clients": "Clients",
    "session_log": "Session-log rows",
    "measures": "Outcome measures",
    "cohorts": "Cohorts",
    "staff": "Staff",
    "quarantine": "Quarantined rows",
}


def _cell(value: object) -> html.Td:
    if isinstance(value, int) and not isinstance(value, bool):
        return html.Td(f"{value:,}", className="num")
    return html.Td("" if pd.isna(value) else str(value))


def _table(frame: pd.DataFrame, table_id: str) -> html.Table:
    numeric = {c for c in frame.columns if pd.api.types.is_integer_dtype(frame[c])}
    header = html.Thead(
        html.Tr([html.Th(c.replace("_", " "), className="num" if c in numeric else None) for c in frame.columns])
    )
    body = html.Tbody([html.Tr([_cell(v) for v in row]) for row in frame.astype(object).itertuples(index=False)])
    return html.Table([header, body], id=table_id, className="data-table")


def _counts(summary: WarehouseSummary) -> html.Div:
    return html.Div(
        [
            html.Div(
                [
                    html.Div(f"{summary.counts[view]:,}", className="count-value"),
                    html.Div(label, className="count-label"),
                ],
                className="count-card" + (" count-card--warn" if view == "quarantine" and summary.counts[view] else ""),
                id=f"count-{view}",
            )
            for view, label in VIEW_LABELS.items()
        ],
        className="counts",
    )


def overview(db: Path) -> html.Div:
    try:
        summary = warehouse_summary(db)
    except FileNotFoundError:
        return html.Div(
            [
                html.H2("No data loaded yet"),
                html.P(
                    [
                        "Load your clinic's files with ",
                        html.Code("hipline load --db " + str(db) + " FOLDER"),
                        ", or try the demo data with ",
                        html.Code("make demo"),
                        ".",
                    ]
                ),
            ],
            className="empty-state",
            id="empty-state",
        )
    history = summary.load_history.assign(finished=summary.load_history["finished"].dt.strftime("%Y-%m-%d %H:%M"))
    return html.Div(
        [
            _counts(summary),
            html.H2("Load report"),
            _table(history, "load-history"),
            html.H2("Quarantined rows"),
            html.P("Rows that were not loaded, with the reason, so they can be fixed at the source and loaded again."),
            _table(summary.quarantine, "quarantine") if len(summary.quarantine) else html.P("None.", id="quarantine"),
        ]
    )


def create_app(db: Path) -> Dash:
    app = Dash(__name__, assets_folder=str(ASSETS), title="hipline", serve_locally=True)
    app.layout = lambda: html.Div(
        [
            html.Header([html.H1("hipline"), html.Span("Pilates rehabilitation progress", className="tagline")]),
            html.Main(overview(db)),
            dcc.Location(id="url"),
        ],
        className="page",
    )
    return app
