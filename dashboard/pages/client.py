"""Client (`/clients/<client_id>`): one client's progress and what they do next (docs/dashboard.md).

Header (region, week, adherence, pain, clinician, cohort, flags); pain chart; one chart per function
instrument; weekly adherence; exercise levels over time; the red flags and their Review; the recommended
next progressions with their evidence and Accept / Override; the session log. Each part has its own
callback, so the browser asks for them at once and a slow part never holds up the rest. The dialogs of
Review and of Accept / Override, and the callbacks that record them, are in client_dialogs.
"""

from __future__ import annotations

from datetime import date

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from analytics.decisions import read_decisions
from analytics.definitions import FLARE_PAIN_DURING, function_threshold
from dashboard import components as ui
from dashboard import exports, rights
from dashboard.clinic_data import clinic
from dashboard.pages.client_dialogs import DECISION_WORDS, decision_dialog, next_words, review_dialog
from dashboard.timing import timed
from etl.instruments import HIGHER_IS_BETTER
from presentation import figures, in_words

GRAPH_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
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

# What every part of the page is drawn from: the day reviewed and the client; the charts and the session log
# also from the period shown. A part that shows what a dialog saves (client_dialogs) listens to that too.
CLIENT = (Input("today", "date"), Input("client-id", "data"))
PERIOD = (*CLIENT, Input("client-range", "start_date"), Input("client-range", "end_date"))


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
        return rights.refused_page("client", "a client's page", client_id=client_id)
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
            decision_dialog(),
            review_dialog(),
        ],
        className="client-page",
    )


# --- header --------------------------------------------------------------------------------------


@callback(Output("client-header", "children"), *CLIENT, Input("review-saved", "data"))
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


@callback(Output("client-red-flags", "children"), *CLIENT, Input("review-saved", "data"))
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


# --- charts --------------------------------------------------------------------------------------


def _range(client: dict, today: date, start: str | None, end: str | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The period shown: the episode (start date to today) unless the viewer picked another, drawn as the
    progress report draws it (figures.period_range)."""
    return figures.period_range(start or client["start_date"], end or today)


@callback(Output("client-pain", "figure"), *PERIOD)
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


@callback(Output("client-function", "children"), *CLIENT)
@rights.requires("client")
def show_function(today, client_id):
    with timed("query"), rights.reading(today) as analytics:
        function = analytics.function_change(client_id)
        measures = analytics.measures(client_id)
    with timed("figures"):
        return function_charts(function, measures)


@callback(Output("client-adherence", "figure"), Output("client-timeline", "figure"), *PERIOD)
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


@callback(Output("client-log", "rowData"), *PERIOD)
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


@callback(Output("client-recs", "children"), *CLIENT, Input("decision-saved", "data"), Input("review-saved", "data"))
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
            html.P(next_words(rec), className="rec-next"),
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
