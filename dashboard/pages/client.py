"""Client (`/clients/<client_id>`): one client's progress and what they do next (docs/dashboard.md).

Header (region, week, adherence, pain, clinician, cohort, flags); pain chart; one chart per function
instrument; weekly adherence; exercise levels over time; the recommended next progressions with
their evidence and Accept / Override; the session log. Each part has its own callback, so the
browser asks for them at once and a slow part never holds up the rest.
"""

from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, State, callback, ctx, dcc, html

from analytics.decisions import DecisionError, Prescription, option, read_decisions, record
from analytics.definitions import DECISIONS, FLARE_PAIN_DURING, function_threshold
from analytics.reviews import ReviewError, record_review
from dashboard import components as ui
from dashboard import exports, rights
from dashboard.clinic_data import clinic
from dashboard.timing import timed
from etl.instruments import HIGHER_IS_BETTER
from presentation import figures, in_words

GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
DECISION_WORDS = {
    "progress": "Progress",
    "hold": "Hold",
    "regress": "Regress",
    "refer": "Refer",
}

# Narrow numbers: filtered by typing in the box under the header, which fills the column (no filter buttons).
NARROW_NUMBER = {"type": "numericColumn", "width": 70, "suppressFloatingFilterButton": True,
                 "suppressHeaderFilterButton": True}  # fmt: skip
# On a tablet the date, exercise, pain (4 × 70 px) and notes (115 + 160 + 280 + 200 px) fit its 800 px: the
# other columns give way (dashboard.components.moves_last_below). At 1280 px only the type and resistance do.
LOG_COLUMNS = [
    {"field": "session_date", "headerName": "Date", "width": 115, "sort": "desc", "pinned": "left",
     "floatingFilter": False},  # its filter is a date picker, too cramped for a floating one
    {"field": "session_type", "headerName": "Type", "width": 90, **ui.moves_last_below(1300)},
    {"field": "attended", "headerName": "Attended", "width": 100, **ui.moves_last_below(),
     "valueFormatter": {"function": "params.value == null ? '' : (params.value ? 'yes' : 'missed')"}},
    {"field": "exercise", "headerName": "Exercise", "minWidth": 160, "flex": 1, "wrapText": True, "autoHeight": True,
     "cellStyle": {"lineHeight": "18px", "paddingTop": "6px", "paddingBottom": "6px"},
     # A missed session says so where the exercise would be (on a tablet "Attended" is off to the side).
     "valueGetter": {"function": "params.data.attended === false ? 'missed session' : params.data.exercise"}},
    {"field": "level", "headerName": "Level", **NARROW_NUMBER, **ui.moves_last_below()},
    {"field": "dose", "headerName": "Dose", "width": 120, **ui.moves_last_below()},
    {"field": "resistance", "headerName": "Resistance", "width": 120, **ui.moves_last_below(1300)},
    {"headerName": "Pain (0–10)", "children": [
        {"field": "pain_before", "headerName": "Before", **NARROW_NUMBER},
        {"field": "pain_during", "headerName": "During", **NARROW_NUMBER,
         "cellClassRules": {"low": f"params.value != null && params.value > {FLARE_PAIN_DURING:g}"}},
        {"field": "pain_after", "headerName": "After", **NARROW_NUMBER},
        {"field": "pain_next_day", "headerName": "Next day", **NARROW_NUMBER},
    ]},
    {"field": "rpe", "headerName": "RPE", **NARROW_NUMBER, **ui.moves_last_below()},
    {"field": "form", "headerName": "Form", "width": 85, **ui.moves_last_below()},
    {"field": "notes", "headerName": "Notes", "minWidth": 200, "flex": 2, "wrapText": True, "autoHeight": True,
     "cellStyle": {"lineHeight": "18px", "paddingTop": "6px", "paddingBottom": "6px"}},
]  # fmt: skip
LOG_COLUMN_DEFAULTS = {"filter": True, "floatingFilter": True, **ui.WRAPPED_HEADERS}
ui.keep_in_view("client-log")


def register() -> None:
    dash.register_page(
        __name__, path_template="/clients/<client_id>", name="Client", title="Client · hipline", layout=layout
    )


def layout(client_id: str | None = None, **_query) -> html.Div:
    """The page's skeleton; its parts come from the callbacks below. A client outside the viewer's scope
    reads exactly as one that is not in the warehouse (and the attempt is audited: dashboard.rights)."""
    if not clinic().has_data():
        return ui.no_data_yet()
    viewer = rights.current()
    if not viewer.may("client"):
        rights.refused("view_client", "a client's page: not part of their role", client_id=client_id)
        return ui.not_for_role("a client's page")
    with rights.reading() as analytics:  # one outside the viewer's scope is audited as refused there
        known = client_id is not None and analytics.has_client(client_id)
    if not known:
        return ui.not_found("client", client_id or "", "/", "Back to the caseload")
    rights.record("view_client", f"opened the page of client {client_id}", client_id=client_id)
    return html.Div(
        [
            dcc.Store(id="client-id", data=client_id),
            dcc.Store(id="decision-saved"),
            dcc.Store(id="decision-pending"),
            dcc.Store(id="review-saved"),
            ui.loading(html.Div(id="client-header", className="client-header")),
            html.Div(
                [
                    html.Label("Show", htmlFor="client-range", className="today-label"),
                    dcc.DatePickerRange(
                        id="client-range",
                        display_format="D MMM YYYY",
                        first_day_of_week=1,
                        start_date_placeholder_text="episode start",
                        end_date_placeholder_text="today",
                        clearable=True,
                        style={"width": "360px", "maxWidth": "100%"},
                    ),
                    html.Span("of the charts, the session log and the exports", className="text-muted small"),
                    exports.export_bar(
                        "client",
                        "Progress report (PDF)",
                        "The client's progress report for the period shown, with the pain and adherence charts",
                    )
                    if viewer.may("export_client")
                    else None,
                ],
                className="range-control",
            ),
            exports.alert_area("client"),
            ui.section("Pain", ui.loading(dcc.Graph(id="client-pain", config=GRAPH_CONFIG)), id="pain-section"),
            ui.section("Function", ui.loading(html.Div(id="client-function", className="function-charts"))),
            html.Div(
                [
                    ui.section("Adherence", ui.loading(dcc.Graph(id="client-adherence", config=GRAPH_CONFIG))),
                    ui.section("Exercise levels", ui.loading(dcc.Graph(id="client-timeline", config=GRAPH_CONFIG))),
                ],
                className="charts-2",
            ),
            ui.section(
                "Red flags",
                html.Div(id="review-alert"),
                ui.loading(html.Div(id="client-red-flags")),
                id="red-flag-section",
            ),
            ui.section(
                "Recommended next progressions",
                html.P(
                    f"{in_words.RECOMMENDATIONS}, with every rule checked (✓ met, ✗ not met). Accept it, or "
                    "override it with a reason.",
                    className="text-muted small",
                ),
                html.Div(id="decision-alert"),
                ui.loading(html.Div(id="client-recs", className="recs")),
                id="recommendations",
            ),
            ui.section(
                "Session log",
                ui.grid(
                    "client-log",
                    LOG_COLUMNS,
                    "No sessions in this period.",
                    defaults=LOG_COLUMN_DEFAULTS,
                    # As tall as its rows (the page scrolls, not the grid): every row of a page shows.
                    options={"pagination": True, "paginationPageSize": 25, "paginationPageSizeSelector": [25, 50, 100]},
                    className="log-grid",
                ),
                id="session-log",
            ),
            _decision_modal(),
            _review_modal(),
        ],
        className="client-page",
    )


def _decision_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle(id="decision-title")),
            dbc.ModalBody(
                [
                    html.Div(id="decision-summary"),
                    html.P(id="decision-by", className="text-muted small"),
                    html.Div(
                        [
                            html.Label("Decision instead", htmlFor="decision-choice", className="form-label"),
                            dcc.Dropdown(
                                id="decision-choice",
                                options=[{"label": DECISION_WORDS[d], "value": d} for d in DECISIONS],
                                clearable=False,
                            ),
                            html.Label("Exercise", htmlFor="decision-level", className="form-label mt-2"),
                            dcc.Dropdown(id="decision-level", clearable=False),
                            html.Div(
                                [
                                    _number("Sets", "decision-sets"),
                                    _number("Reps", "decision-reps"),
                                    _number("Hold (s)", "decision-hold"),
                                    html.Div(
                                        [
                                            html.Label("Tempo", htmlFor="decision-tempo", className="form-label"),
                                            dcc.Input(id="decision-tempo", type="text", className="form-control"),
                                        ]
                                    ),
                                ],
                                className="dose-inputs",
                            ),
                            html.Label("Reason (required)", htmlFor="decision-reason", className="form-label mt-2"),
                            dcc.Textarea(id="decision-reason", className="form-control", style={"height": "70px"}),
                        ],
                        id="override-fields",
                    ),
                    html.Div(id="decision-error", className="text-danger mt-2"),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id="decision-cancel", color="secondary", outline=True),
                    dbc.Button("Confirm", id="decision-confirm", color="primary"),
                ]
            ),
        ],
        id="decision-modal",
        is_open=False,
        size="lg",
    )


def _number(label: str, id: str) -> html.Div:
    return html.Div(
        [html.Label(label, htmlFor=id, className="form-label"),
         dcc.Input(id=id, type="number", min=0, step=1, className="form-control")]
    )  # fmt: skip


# --- header --------------------------------------------------------------------------------------


@callback(
    Output("client-header", "children"),
    Input("today", "date"),
    Input("client-id", "data"),
    Input("review-saved", "data"),
)
@rights.requires("client")
def show_header(today, client_id, _reviewed=None):
    with timed("query"), rights.reading(today) as analytics:
        client = analytics.client(client_id)
    if client is None:
        return ui.not_found("client", client_id, "/", "Back to the caseload")
    with timed("layout"):
        return header(client)


def header(client: dict) -> html.Div:
    status = client["pain_status"]
    tone = {"improved": "improved", "worse": "worse"}.get(status, "")
    ended = f" · ended {ui.day(client['end_date'])}" if client.get("end_date") else ""
    cohort = client.get("cohort_name") or client.get("cohort_id")
    return html.Div(
        [
            html.Div(
                [
                    html.H1(client["display_name"], className="page-title", id="client-name"),
                    html.P(
                        f"{client['client_id']} · {str(client['region']).replace('_', ' ')} · started "
                        f"{ui.day(client['start_date'])}{ended} · clinician "
                        f"{client.get('clinician_name') or client.get('clinician_id') or '–'}"
                        + (f" · cohort {cohort}" if cohort else ""),
                        className="page-subtitle",
                    ),
                    html.P([html.Strong("Goals: "), client["goals"]], className="client-goals", id="client-goals")
                    if client.get("goals") else
                    html.P("No goals recorded.", className="client-goals text-muted", id="client-goals"),
                    _on_hold(client),
                    ui.flag_badges(client["flags"], id_prefix="client-flag", evidence=client.get("flag_evidence")),
                ],
                className="client-title",
            ),
            html.Div(
                [
                    ui.stat("Program week", f"{client['program_week']}",
                            f"{client['sessions_per_week']} sessions a week planned", id="stat-week"),
                    ui.stat(in_words.RECENT_ADHERENCE, ui.percent(client["adherence_last_4_weeks"]),
                            f"overall {ui.percent(client['adherence_overall'])}", id="stat-adherence"),
                    ui.stat("Pain baseline → current", f"{ui.pain(client['pain_baseline'])} → "
                            f"{ui.pain(client['pain_current'])}", status, id="stat-pain", tone=tone),
                    ui.stat("Pain trend", f"{ui.signed(client['pain_trend_per_week'])} / week",
                            in_words.TREND_WINDOW, id="stat-trend"),
                    ui.stat("Last session", ui.day(client["last_session"]),
                            f"{client['recent_sessions']} {in_words.LAPSED_WINDOW}", id="stat-last"),
                ],
                className="stats",
            ),
        ]
    )  # fmt: skip


def _on_hold(client: dict):
    """The on-hold status of docs/metrics.md in words: the outcome, the day and to whom."""
    if not client.get("on_hold"):
        return None
    to = f" to {client['referred_to']}" if client.get("referred_to") else ""
    return html.Div(
        f"On hold since {ui.day(client['reviewed_on'])}: {client['review_outcome']}{to}. Nothing is progressed "
        "until a review clears it.",
        className="on-hold", id="client-on-hold", role="status",
    )  # fmt: skip


# --- red flags -----------------------------------------------------------------------------------

REVIEW_OUTCOME_WORDS = {
    "cleared": "Cleared: safe to continue",
    "referred": "Referred on (GP, emergency care, a specialist)",
    "paused": "Paused: exercise stops until a later review",
}


@callback(
    Output("client-red-flags", "children"),
    Input("today", "date"),
    Input("client-id", "data"),
    Input("review-saved", "data"),
)
@rights.requires("client")
def show_red_flags(today, client_id, _reviewed=None):
    with timed("query"), rights.reading(today) as analytics:
        client = analytics.client(client_id)
        notes = analytics.red_flag_notes(client_id)
        reviews = analytics.red_flag_reviews(client_id)
    if client is None:
        return None
    with timed("layout"):
        return red_flag_section(client, notes, reviews, may_review=rights.current().may("review"))


def red_flag_section(client: dict, notes: pd.DataFrame, reviews: pd.DataFrame, may_review: bool) -> list:
    """The red-flag notes no review covers, the client's on-hold status, the Review action, and the
    reviews made so far."""
    open_notes = notes[~notes["reviewed"]]
    parts = []
    if open_notes.empty:
        parts.append(html.P("No red-flag note waits for a review.", className="text-muted", id="no-open-red-flags"))
    else:
        parts.append(html.Ul(
            [html.Li([html.Strong(ui.day(n.session_date)), f" · {n.signs} · “{n.note}”"], className="red-flag-note")
             for n in open_notes.itertuples()],
            className="red-flag-notes", id="open-red-flags",
        ))  # fmt: skip
    if may_review and (len(open_notes) or client.get("on_hold")):
        parts.append(dbc.Button("Review…", id="review-open", color="danger", size="sm", className="mb-2"))
    if len(reviews):
        parts.append(html.Details(
            [html.Summary(f"Reviews ({len(reviews)})"),
             html.Ul([html.Li(_review_words(r), className="red-flag-review") for r in reviews.itertuples()],
                     id="red-flag-reviews")],
            open=bool(client.get("on_hold")),
        ))  # fmt: skip
    reviewed = notes[notes["reviewed"]]
    if len(reviewed):
        parts.append(html.Details(
            [html.Summary(f"Reviewed notes ({len(reviewed)})"),
             html.Ul([html.Li(f"{ui.day(n.session_date)} · {n.signs} · “{n.note}”") for n in reviewed.itertuples()])],
        ))  # fmt: skip
    return parts


def _review_words(review) -> str:
    to = f" to {review.referred_to}" if ui.known(review.referred_to) else ""
    who = ui.either(review.reviewer, review.reviewed_by)
    return f"{ui.day(review.reviewed_on)} · {review.outcome}{to} by {who}: “{review.note}”"


def _review_modal() -> dbc.Modal:
    return dbc.Modal(
        [
            dbc.ModalHeader(dbc.ModalTitle("Review the red flags")),
            dbc.ModalBody(
                [
                    html.P("A review covers every red-flag note up to the day shown. Referred or paused puts the "
                           "client on hold until a later review clears it.", className="text-muted small"),
                    html.Label("Outcome", htmlFor="review-outcome", className="form-label"),
                    dcc.RadioItems(
                        id="review-outcome",
                        options=[{"label": words, "value": o} for o, words in REVIEW_OUTCOME_WORDS.items()],
                        labelStyle={"display": "block"},
                        inputStyle={"marginRight": "6px"},
                    ),
                    html.Label("Referred to", htmlFor="review-to", className="form-label mt-2"),
                    dcc.Input(id="review-to", type="text", className="form-control",
                              placeholder="GP, emergency care, orthopaedic surgeon…"),
                    html.Label("Note (required)", htmlFor="review-note", className="form-label mt-2"),
                    dcc.Textarea(id="review-note", className="form-control", style={"height": "70px"}),
                    html.P(id="review-by", className="text-muted small mt-2"),
                    html.Div(id="review-error", className="text-danger mt-2"),
                ]
            ),
            dbc.ModalFooter(
                [
                    dbc.Button("Cancel", id="review-cancel", color="secondary", outline=True),
                    dbc.Button("Save review", id="review-save", color="primary"),
                ]
            ),
        ],
        id="review-modal",
        is_open=False,
    )  # fmt: skip


@callback(
    Output("review-modal", "is_open"),
    Output("review-outcome", "value"),
    Output("review-to", "value"),
    Output("review-note", "value"),
    Output("review-by", "children"),
    Output("review-error", "children"),
    Input("review-open", "n_clicks"),
    prevent_initial_call=True,
)
@rights.requires("review")
def open_review(clicks):
    if not clicks:
        return (dash.no_update,) * 6
    viewer = rights.current()
    return True, None, "", "", f"Recorded as reviewed by {viewer.name} ({viewer.role}), now.", ""


@callback(
    Output("review-modal", "is_open", allow_duplicate=True),
    Output("review-error", "children", allow_duplicate=True),
    Output("review-saved", "data"),
    Output("review-alert", "children"),
    Input("review-save", "n_clicks"),
    Input("review-cancel", "n_clicks"),
    State("today", "date"),
    State("client-id", "data"),
    State("review-outcome", "value"),
    State("review-to", "value"),
    State("review-note", "value"),
    prevent_initial_call=True,
)
@rights.requires("review")
def save_review(_save, _cancel, today, client_id, outcome, to, note):
    """Store the review in the signed-in user's name, dated the day the page shows (it covers the
    notes up to it), audit it, then refresh the page. A client outside the viewer's scope reads as one
    that does not exist (and the attempt is audited)."""
    if ctx.triggered_id == "review-cancel":
        return False, "", dash.no_update, dash.no_update
    with rights.reading(today) as analytics:
        known = analytics.has_client(client_id)
        day = analytics.today
    if not known:
        return True, "There is no such client.", dash.no_update, dash.no_update
    if not outcome:
        return True, "Choose an outcome.", dash.no_update, dash.no_update
    viewer = rights.current()
    try:
        review_id = record_review(clinic().db, client_id, outcome=outcome, note=note or "", referred_to=to,
                                  reviewed_by=viewer.staff_id, reviewed_on=day)  # fmt: skip
    except ReviewError as e:
        return True, str(e)[0].upper() + str(e)[1:] + ".", dash.no_update, dash.no_update
    to_whom = f" to {to.strip()}" if outcome == "referred" and to else ""
    rights.record("review", f"review {review_id}: {outcome}{to_whom} as of {day}: {note.strip()}", client_id=client_id)
    message = ui.alert(f"Review saved: {outcome}{to_whom}.", "success", id="review-done")
    return False, "", {"review": review_id}, message


# --- charts --------------------------------------------------------------------------------------


def _range(client: dict, today: date, start: str | None, end: str | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The period shown: the episode (start date to today) unless the viewer picked another, drawn as the
    progress report draws it (figures.period_range)."""
    return figures.period_range(start or client["start_date"], end or today)


CHART_INPUTS = (
    Input("today", "date"),
    Input("client-id", "data"),
    Input("client-range", "start_date"),
    Input("client-range", "end_date"),
)


@callback(Output("client-pain", "figure"), *CHART_INPUTS)
@rights.requires("client")
def show_pain(today, client_id, start, end):
    with timed("query"), rights.reading(today) as analytics:
        client = analytics.client(client_id)
        if client is None:
            return figures.empty_figure("No such client")
        day = analytics.today
        pain_points = analytics.pain_points(client_id)
        weekly = analytics.client_weekly(client_id)
        sessions = analytics.sessions(client_id)
        red_flags = analytics.red_flag_notes(client_id)
    with timed("figures"):
        return figures.pain_chart(pain_points, weekly, sessions, red_flags, client, _range(client, day, start, end))


@callback(Output("client-function", "children"), Input("today", "date"), Input("client-id", "data"))
@rights.requires("client")
def show_function(today, client_id):
    with timed("query"), rights.reading(today) as analytics:
        function = analytics.function_change(client_id)
        measures = analytics.measures(client_id)
    with timed("figures"):
        return function_charts(function, measures)


@callback(Output("client-adherence", "figure"), Output("client-timeline", "figure"), *CHART_INPUTS)
@rights.requires("client")
def show_adherence_and_levels(today, client_id, start, end):
    with timed("query"), rights.reading(today) as analytics:
        client = analytics.client(client_id)
        if client is None:
            empty = figures.empty_figure("No such client")
            return empty, empty
        day = analytics.today
        weekly = analytics.client_weekly(client_id)
        exposures = analytics.exposures(client_id)
    with timed("figures"):
        timeline = figures.exercise_timeline(exposures, _range(client, day, start, end))
        return figures.adherence_bars(weekly), timeline


def function_charts(function: pd.DataFrame, measures: pd.DataFrame) -> list:
    """One chart per function instrument the client has scores for, with its MCID band."""
    if function.empty:
        return [html.P("No function scores yet (ODI, LEFS, PSFS, HOOS JR, KOOS JR or performance tests).",
                       className="text-muted", id="no-function-scores")]  # fmt: skip
    charts = []
    for row in function.itertuples(index=False):
        threshold = function_threshold(row.instrument)
        scores = measures[measures["instrument"] == row.instrument][["measured_on", "score"]]
        figure = figures.function_chart(
            scores,
            row.instrument,
            row.threshold,
            HIGHER_IS_BETTER.get(row.instrument, True),
            row.status,
            threshold.kind,
        )
        charts.append(dcc.Graph(figure=figure, config=GRAPH_CONFIG, id=f"function-{row.instrument}"))
    return charts


# --- session log ---------------------------------------------------------------------------------


@callback(
    Output("client-log", "rowData"),
    Input("today", "date"),
    Input("client-id", "data"),
    Input("client-range", "start_date"),
    Input("client-range", "end_date"),
)
@rights.requires("client")
def show_log(today, client_id, start, end):
    with timed("query"), rights.reading(today) as analytics:
        log = analytics.session_log(client_id)
    with timed("layout"):
        if start:
            log = log[log["session_date"] >= pd.Timestamp(start)]
        if end:
            log = log[log["session_date"] <= pd.Timestamp(end)]
        return log_rows(log)


def log_rows(log: pd.DataFrame) -> list[dict]:
    """The session log's rows, the dose in words ("3 × 10 (L)", "2 × 20 s"). Plain lists, row by row:
    pandas' per-call overhead cost more than the query here."""
    columns = {name: log[name].tolist() for name in log.columns if name != "session_date"}
    days = log["session_date"].dt.strftime("%Y-%m-%d").tolist()
    shown = [c for c in columns if c not in ("sets", "reps", "hold_s", "side")]
    rows = []
    for i, day in enumerate(days):
        row = {name: ui.known(columns[name][i]) for name in shown}
        row["session_date"] = day
        row["dose"] = _dose(columns["sets"][i], columns["reps"][i], columns["hold_s"][i], columns["side"][i])
        rows.append(row)
    return rows


def _dose(sets, reps, hold_s, side) -> str:
    amount = f"{reps:g}" if not ui.missing(reps) else f"{hold_s:g} s" if not ui.missing(hold_s) else ""
    dose = f"{sets:g} × {amount}" if not ui.missing(sets) and amount else amount
    if not ui.missing(side) and side not in ("both", ""):
        dose = f"{dose} ({side})".strip()
    return dose


# --- recommendations and decisions ---------------------------------------------------------------


@callback(
    Output("client-recs", "children"),
    Input("today", "date"),
    Input("client-id", "data"),
    Input("decision-saved", "data"),
    Input("review-saved", "data"),
)
@rights.requires("client")
def show_recommendations(today, client_id, _saved, _reviewed=None):
    with timed("query"), rights.reading(today) as analytics:
        recs = analytics.recommendations(client_id)
        staff = analytics.staff()
        decided = read_decisions(clinic().db, client_id)
        notes = analytics.red_flag_notes(client_id)
    with timed("layout"):
        return recommendation_cards(recs, staff, decided, may_decide=rights.current().may("decide"), notes=notes)


def recommendation_cards(recs: pd.DataFrame, staff: pd.DataFrame, decided: pd.DataFrame,
                         may_decide: bool = True, notes: pd.DataFrame | None = None) -> list:  # fmt: skip
    if recs.empty:
        return html.P(f"{in_words.NO_EXERCISES}, so nothing to recommend yet.",
                      className="text-muted", id="no-recommendations")  # fmt: skip
    latest = decided.drop_duplicates("ladder", keep="last").set_index("ladder") if len(decided) else None
    names = dict(zip(staff["staff_id"], staff["name"], strict=True))
    referred = recs[recs["decision"] == "refer"]
    if len(referred):  # rule 1 holds for the client, not an exercise: one card, with the note behind it
        return [refer_card(referred, notes)]
    order = {"regress": 1, "progress": 2, "hold": 3}
    recs = recs.assign(_order=recs["decision"].map(order)).sort_values(["_order", "family_label", "exercise"])
    cards = []
    for rec in recs.to_dict("records"):
        decision = None if latest is None or rec["ladder"] not in latest.index else latest.loc[rec["ladder"]]
        cards.append(recommendation_card(rec, decision, names, may_decide))
    return cards


def refer_card(referred: pd.DataFrame, notes: pd.DataFrame | None) -> html.Div:
    """docs/recommendations.md rule 1 for the whole client: why (the red-flag note no review covers, or the review that
    put the client on hold), the note itself, and the exercises that stay as they are."""
    first = referred.iloc[0]
    open_notes = pd.DataFrame() if notes is None else notes[~notes["reviewed"]]
    newest = open_notes.iloc[0] if len(open_notes) else None
    quoted = None
    if newest is not None:
        quoted = html.P(f"“{newest['note']}” ({ui.day(newest['session_date'])})", className="rec-note")
    exercises = ", ".join(sorted(referred["exercise"].astype(str)))
    return html.Div(
        [
            html.Div(
                [
                    html.Span("All exercises", className="rec-family"),
                    html.Span(DECISION_WORDS["refer"], className="decision decision-refer"),
                ],
                className="rec-head",
            ),
            html.P(first["why"], className="rec-why"),
            quoted,
            html.P(
                f"Nothing is progressed until a review clears it: {exercises} stay as they are. "
                "Review the red flags above.",
                className="rec-next",
            ),
        ],
        className="rec rec-refer rec-client",
        id="refer-card",
    )


def _next_words(rec: dict) -> str:
    decision = rec["decision"]
    if decision == "refer":
        return "No change until a clinician has reviewed the red flag."
    if decision == "hold" and rec.get("change") == "target dose":
        return f"Keep the level, at its target dose: {rec['next_exercise']}, {rec['next_dose']}"
    if decision == "hold" and rec.get("change") not in (None, "none"):  # a stretch that passed every check
        return f"Dose up to: {rec['next_exercise']}, {rec['next_dose']}"
    if decision == "hold":
        return f"Keep: {rec['next_exercise']}, {rec['next_dose']}"
    verb = "Progress to" if decision == "progress" else "Step back to"
    return f"{verb}: {rec['next_exercise']}, {rec['next_dose']}"


def recommendation_card(rec: dict, decision, names: dict, may_decide: bool = True) -> html.Div:
    ladder = rec["ladder"]
    level = "" if ui.missing(rec["level"]) else f" (level {rec['level']})"
    evidence = list(rec["evidence"]) if not ui.missing(rec["evidence"]) else []
    return html.Div(
        [
            html.Div(
                [
                    html.Span(ui.either(rec["family_label"], rec["exercise"]), className="rec-family"),
                    html.Span(DECISION_WORDS[rec["decision"]], className=f"decision decision-{rec['decision']}"),
                ],
                className="rec-head",
            ),
            html.P(rec["why"], className="rec-why"),
            html.P(f"Now: {rec['exercise']}{level}, {rec['dose']}", className="rec-now"),
            html.P(_next_words(rec), className="rec-next"),
            html.Details(
                [html.Summary("Every rule checked"),
                 html.Ul([html.Li(item, className="fail" if item.rstrip(")").endswith("✗") else "pass")
                          for item in evidence], className="rec-evidence")],
                className="rec-details",
            ),
            _decided(decision, names) if decision is not None else None,
            html.Div(
                [
                    dbc.Button("Accept", id={"type": "rec-accept", "ladder": ladder}, color="primary", size="sm"),
                    dbc.Button("Override…", id={"type": "rec-override", "ladder": ladder}, color="secondary",
                               outline=True, size="sm"),
                ],
                className="rec-actions",
            )
            if may_decide
            else None,
        ],
        className=f"rec rec-{rec['decision']}",
        id={"type": "rec", "ladder": ladder},
    )  # fmt: skip


def _decided(decision, names: dict) -> html.Div:
    who = names.get(decision["decided_by"], decision["decided_by"])
    when = ui.day(decision["decided_on"])
    if decision["action"] == "accept":
        text = f"Accepted by {who} on {when}: {DECISION_WORDS[decision['decision']].lower()}"
    else:
        text = f"Overridden by {who} on {when}: {DECISION_WORDS[decision['decision']].lower()} — “{decision['reason']}”"
    dose = [str(decision["exercise"])] if decision["exercise"] else []
    return html.Div(text + (f" ({', '.join(dose)})" if dose else ""), className="rec-decided")


def _recommendation(analytics, client_id: str, ladder: str) -> dict | None:
    recs = analytics.recommendations(client_id)
    match = recs[recs["ladder"] == ladder]
    return None if match.empty else match.iloc[0].to_dict()


@callback(
    Output("decision-modal", "is_open"),
    Output("decision-pending", "data"),
    Output("decision-title", "children"),
    Output("decision-summary", "children"),
    Output("override-fields", "style"),
    Output("decision-by", "children"),
    Output("decision-choice", "value"),
    Output("decision-level", "options"),
    Output("decision-level", "value"),
    Output("decision-sets", "value"),
    Output("decision-reps", "value"),
    Output("decision-hold", "value"),
    Output("decision-tempo", "value"),
    Output("decision-reason", "value"),
    Output("decision-error", "children"),
    Input({"type": "rec-accept", "ladder": ALL}, "n_clicks"),
    Input({"type": "rec-override", "ladder": ALL}, "n_clicks"),
    State("today", "date"),
    State("client-id", "data"),
    prevent_initial_call=True,
)
@rights.requires("decide")
def open_decision(_accepts, _overrides, today, client_id):
    """Accept or Override opens the same dialog; for an override, what instead and why. The decision is
    the signed-in user's: it is recorded in their name."""
    trigger = ctx.triggered_id
    if not trigger or not (ctx.triggered and ctx.triggered[0]["value"]):
        return (dash.no_update,) * 15
    action = "accept" if trigger["type"] == "rec-accept" else "override"
    ladder = trigger["ladder"]
    with rights.reading(today) as analytics:
        rec = _recommendation(analytics, client_id, ladder)
        levels = analytics.exercise_levels(ladder) if rec is not None and rec["in_library"] else pd.DataFrame()
        day = analytics.today
        decided = analytics.decisions(client_id)  # kept current with the records on every request
    if rec is None:
        return (dash.no_update,) * 15
    viewer = rights.current()
    by = f"Recorded as decided by {viewer.name} ({viewer.role}), now."
    # A recommendation already decided on today: this decision says that it replaces that one (docs/recommendations.md).
    earlier = decided[(decided["ladder"] == ladder) & (decided["as_of"] == day.isoformat())]
    replaces = None
    if len(earlier):
        last = earlier.iloc[-1]
        replaces = int(last["decision_id"])
        done = "accepted" if last["action"] == "accept" else f"overridden ({last['decision']})"
        who = ui.either(last["decider"], last["decided_by"])
        by += f" This recommendation was already {done} by {who} today: this decision replaces it."
    if len(levels) and not rec["stretch"]:
        level_options = [{"label": f"{r.level}. {r.exercise}", "value": int(r.level)} for r in levels.itertuples()]
        level_value = None if ui.missing(rec["next_level"]) else int(rec["next_level"])
    else:  # a stretch or an exercise the library does not know: only its dose can change
        level_options = [{"label": rec["exercise"], "value": 0}]
        level_value = 0
    family = ui.either(rec["family_label"], rec["exercise"])
    if action == "accept":
        title = f"Accept: {DECISION_WORDS[rec['decision']].lower()} · {family}"
        summary = html.P(_next_words(rec), id="decision-what")
    else:
        title = f"Override the recommendation · {family}"
        summary = html.P(f"Recommended: {DECISION_WORDS[rec['decision']].lower()}. {_next_words(rec)}",
                         id="decision-what")  # fmt: skip
    return (
        True,
        {"ladder": ladder, "action": action, "replaces": replaces},
        title,
        summary,
        {"display": "none"} if action == "accept" else {},
        by,
        rec["decision"],
        level_options,
        level_value,
        _whole(rec["next_sets"]),
        _whole(rec["next_reps"]),
        _whole(rec["next_hold_s"]),
        None if ui.missing(rec["next_tempo"]) else rec["next_tempo"],
        "",
        "",
    )


@callback(
    Output("decision-level", "value", allow_duplicate=True),
    Output("decision-sets", "value", allow_duplicate=True),
    Output("decision-reps", "value", allow_duplicate=True),
    Output("decision-hold", "value", allow_duplicate=True),
    Output("decision-tempo", "value", allow_duplicate=True),
    Input("decision-choice", "value"),
    State("decision-pending", "data"),
    State("today", "date"),
    State("client-id", "data"),
    prevent_initial_call=True,
)
@rights.requires("decide")
def fill_in_decision(choice, pending, today, client_id):
    """Choosing a decision fills in the exercise and dose that agree with it (analytics.decisions.option):
    the engine's step back or up, the level kept, or no change for refer. The clinician may edit them."""
    if not choice or not pending or pending.get("action") != "override":
        return (dash.no_update,) * 5
    with rights.reading(today) as analytics:
        rec = _recommendation(analytics, client_id, pending["ladder"])
    if rec is None:
        return (dash.no_update,) * 5
    chosen = option(rec, choice)
    return (0 if chosen.level is None else chosen.level), chosen.sets, chosen.reps, chosen.hold_s, chosen.tempo


def _whole(value) -> int | None:
    return None if ui.missing(value) else int(value)


@callback(
    Output("decision-modal", "is_open", allow_duplicate=True),
    Output("decision-error", "children", allow_duplicate=True),
    Output("decision-saved", "data"),
    Output("decision-alert", "children"),
    Input("decision-confirm", "n_clicks"),
    Input("decision-cancel", "n_clicks"),
    State("decision-pending", "data"),
    State("today", "date"),
    State("client-id", "data"),
    State("decision-choice", "value"),
    State("decision-level", "value"),
    State("decision-sets", "value"),
    State("decision-reps", "value"),
    State("decision-hold", "value"),
    State("decision-tempo", "value"),
    State("decision-reason", "value"),
    prevent_initial_call=True,
)
@rights.requires("decide")
def save_decision(_confirm, _cancel, pending, today, client_id, choice, level, sets, reps, hold, tempo, reason):
    """Store the decision in the signed-in user's name (analytics.decisions: who, when, what was shown,
    what was taken), audit it, then refresh. A recommendation outside the viewer's scope reads as one
    that is no longer current (and the attempt is audited)."""
    if ctx.triggered_id == "decision-cancel" or not pending:
        return False, "", dash.no_update, dash.no_update
    with rights.reading(today) as analytics:
        rec = _recommendation(analytics, client_id, pending["ladder"])
        levels = analytics.exercise_levels(pending["ladder"])
        day = analytics.today
    if rec is None:
        rights.refused("decision", f"{pending['ladder']} of client {client_id}: no such recommendation in their scope",
                       client_id=client_id)  # fmt: skip
        return True, "This recommendation is no longer current: reload the page.", dash.no_update, ""
    prescription = None
    if pending["action"] == "override" and choice in ("regress", "progress", "hold") and level is not None:
        chosen = levels[levels["level"] == level]
        exercise = chosen["exercise"].iloc[0] if len(chosen) else rec["exercise"]
        prescription = Prescription(
            exercise, int(level) if len(chosen) else _whole(rec["level"]), _whole(sets), _whole(reps), _whole(hold),
            tempo or None,
        )  # fmt: skip
    viewer = rights.current()
    try:
        decision_id = record(
            clinic().db,
            rec,
            decided_by=viewer.staff_id,
            action=pending["action"],
            decision=choice,
            prescription=prescription,
            reason=reason,
            as_of=day,
            decided_on=day,  # the clinic day reviewed: a decision made while reviewing a day applies from it
            replaces=pending.get("replaces"),
        )
    except DecisionError as e:
        return True, str(e)[0].upper() + str(e)[1:] + ".", dash.no_update, dash.no_update
    done = "accepted" if pending["action"] == "accept" else "overridden"
    rights.record("decision", f"decision {decision_id}: {done} {rec['decision']} of {rec['ladder']} as of {day}"
                  + (f", {choice} instead: {reason.strip()}" if pending["action"] == "override" else ""),
                  client_id=client_id)  # fmt: skip
    message = ui.alert(f"Recommendation {done}; the recommendations below are updated.", "success", id="decision-done")
    return False, "", {"ladder": pending["ladder"], "at": pd.Timestamp.now().isoformat()}, message


# --- exports -------------------------------------------------------------------------------------


EXPORTED = (State("client-id", "data"), State("client-range", "start_date"), State("client-range", "end_date"))


@callback(**exports.report_callback("client", *EXPORTED))
@rights.requires("export_client")
def export_report(_clicks, today, client_id, start, end, paper):
    """The progress report of the period shown, as of the day reviewed, as PDF."""

    def context_of(analytics):
        from reports.client_report import client_context

        return client_context(analytics, client_id, ui.parse_day(start), ui.parse_day(end))

    def pdf_of(context):
        from reports.client_report import client_report_from_context

        return client_report_from_context(context, paper or "a4")

    return exports.report_download(
        today, "progress report", "progress-report", client_id, context_of, pdf_of, client_id=client_id
    )


@callback(**exports.numbers_callback("client", *EXPORTED))
@rights.requires("export_client")
def export_numbers(_xlsx, _csv, today, client_id, start, end):
    """The numbers behind the client's charts and tables, of the period shown, as XLSX or zipped CSV."""

    def tables_of(analytics):
        from reports.tables import client_tables

        return client_tables(analytics, client_id, ui.parse_day(start), ui.parse_day(end))

    return exports.numbers_download(today, client_id, tables_of, client_id=client_id)
