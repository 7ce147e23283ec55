"""Caseload (`/`): a physiotherapist's active clients, most urgent first (docs/dashboard.md).

A summary strip counts the clients in each flag (click one to show only those); the grid shows
name, region, program week, recent adherence, pain baseline -> current, a weekly pain sparkline,
the flags in priority order and the last session. A row opens the client.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, ClientsideFunction, Input, Output, State, callback, clientside_callback, ctx, dcc, html

from analytics.definitions import FLAG_EXPLANATIONS, FLAGS, RECENT_WEEKS
from analytics.metrics import flag_priority
from dashboard import components as ui
from dashboard import exports, rights, zip_job
from dashboard.clinic_data import clinic
from dashboard.shared_jobs import JobGone
from dashboard.timing import timed

EVERYONE = "__all__"

# On a tablet the region, week and sparkline give way: the name, adherence, pain change, flags and last
# session (150 + 120 + 170 + 220 + 125 px) fit its 800 px.
COLUMNS = [
    {"field": "display_name", "headerName": "Client", "pinned": "left", "width": 150, "cellClass": "client-link",
     "tooltipField": "client_id"},
    {"field": "region", "headerName": "Region", "width": 100, **ui.moves_last_below()},
    {"field": "program_week", "headerName": "Week", "width": 85, "type": "numericColumn", "cellDataType": "number",
     **ui.moves_last_below()},
    {"field": "adherence_last_4_weeks", "headerName": f"Adherence {RECENT_WEEKS} wk", "width": 120,
     "type": "numericColumn", "cellDataType": "number", "valueFormatter": ui.PERCENT_FORMAT,
     "cellClassRules": ui.LOW_ADHERENCE_CELLS},
    {**ui.PAIN_CHANGE_COLUMN, "minWidth": 170, "flex": 1, "wrapText": True, "autoHeight": True,
     "cellStyle": {"lineHeight": "20px", "paddingTop": "9px", "paddingBottom": "9px"}},
    {"field": "weekly_pain", "headerName": "Pain by week", "width": 130, "sortable": False, "filter": False,
     "cellRenderer": "PainSparkline", **ui.moves_last_below()},
    # Most urgent first: by the highest flag, then the next (analytics.metrics.flag_priority, as the caseload's order).
    {**ui.FLAGS_COLUMN,
     "comparator": {"function": "(a, b, na, nb) => nb.data.flag_priority - na.data.flag_priority"}},
    {"field": "last_session", "headerName": "Last session", "width": 125, "cellDataType": "dateString",
     "valueFormatter": ui.DAY_FORMAT},
]  # fmt: skip
# Each column's data type is stated, not inferred from the first rows: AG Grid infers it when the rows come,
# after the grid has started, and a filter model put back then (going back to the page) was dropped.
COLUMN_DEFAULTS = {"filter": True, "cellDataType": False, **ui.WRAPPED_HEADERS}
ui.keep_in_view("caseload-grid")


def register() -> None:
    dash.register_page(__name__, path="/", name="Caseload", title="Caseload · hipline", layout=layout)


def _clinicians(analytics) -> list[dict]:
    """The clinicians of the active clients the viewer may see, and "All clinicians" when there are
    several: a physio's list is themselves."""
    staff = analytics.staff()
    treating = staff[staff["active_clients"] > 0]
    options = [
        {"label": f"{row.name} ({row.active_clients} active)", "value": row.staff_id}
        for row in treating.itertuples(index=False)
    ]
    if len(options) == 1 and not analytics.scope.is_everyone:
        return options
    return [{"label": "All clinicians", "value": EVERYONE}, *options]


NOBODY = "\x00 nobody"  # the caseload of a clinician outside the viewer's list: no one


def _chosen(analytics, clinician: str | None) -> str | None:
    """The staff_id of the clinician asked for (None: all those the viewer may see). One outside the
    picker's list is refused and audited, and reads as a clinician with no clients."""
    if clinician in (None, EVERYONE):
        return None
    if clinician not in {o["value"] for o in _clinicians(analytics)}:
        rights.refused("request", f"the caseload of {clinician}: not among the clinicians they may see")
        return NOBODY
    return clinician


def layout(clinician: str | None = None, **_query) -> html.Div:
    if not clinic().has_data():
        return ui.no_data_yet()
    viewer = rights.current()
    if not viewer.may("caseload"):
        return ui.not_for_role("the caseload")
    with rights.reading() as analytics:
        options = _clinicians(analytics)
    values = {o["value"] for o in options}
    default = options[0]["value"] if len(options) == 1 else EVERYONE
    # The filters (pickers, search, the grid's column filters) survive a visit to a client and back, for this
    # browser tab's session and this user: another user signing in here starts from none.
    kept_for_the_visit = {"persistence": viewer.username, "persistence_type": "session"}
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Caseload", className="page-title"),
                    html.Div(
                        [
                            dcc.Dropdown(
                                id="caseload-clinician",
                                options=options,
                                value=clinician if clinician in values else default,
                                clearable=False,
                                # Remembered in the browser per user: another user of the same browser
                                # starts from their own list, not from a clinician they may not see.
                                persistence=viewer.username if clinician is None else False,
                                persistence_type="local",
                                className="control control-wide",
                            ),
                            dcc.Dropdown(
                                id="caseload-region",
                                placeholder="All regions",
                                multi=True,
                                className="control",
                                **kept_for_the_visit,
                            ),
                            dcc.Dropdown(
                                id="caseload-flags",
                                options=[{"label": ui.FLAG_LABELS[f], "value": f} for f in FLAGS],
                                placeholder="Any flag or none",
                                multi=True,
                                className="control control-wide",
                                **kept_for_the_visit,
                            ),
                            dcc.Input(
                                id="caseload-search",
                                type="search",
                                placeholder="Search by name",
                                debounce=0.3,
                                className="form-control control",
                                **kept_for_the_visit,
                            ),
                        ],
                        className="controls",
                    ),
                ],
                className="page-head",
            ),
            ui.loading(html.Div(id="caseload-summary", className="flag-strip")),
            html.Div(
                [
                    html.Div(id="caseload-count", className="count-line"),
                    _export_bar() if viewer.may("export_client") else None,
                ],
                className="caseload-tools",
            ),
            _zip_running(),
            exports.alert_area("caseload"),
            html.Div(id="caseload-zip-status"),
            ui.grid(
                "caseload-grid",
                COLUMNS,
                "No active clients match.",
                defaults=COLUMN_DEFAULTS,
                options={"tooltipShowDelay": 300, "rowHeight": 40},
                height="70vh",
                getRowId="params.data.client_id",
                persisted_props=["filterModel"],
                **kept_for_the_visit,
                className="caseload-grid",
            ),
        ],
        className="caseload",
    )


def _rows(clients: pd.DataFrame) -> list[dict]:
    """The grid's rows, with the pain change in words (never colour alone) and a sort key for flags.
    Plain lists, not pandas, row by row: a few microseconds a row where pandas' per-call overhead cost
    more than the query."""
    columns = {name: clients[name].tolist() for name in ROW_FIELDS}
    last = clients["last_session"].dt.strftime("%Y-%m-%d").tolist()
    rows = []
    for i, client_id in enumerate(columns["client_id"]):
        baseline, current = ui.known(columns["pain_baseline"][i]), ui.known(columns["pain_current"][i])
        flags = columns["flags"][i] or ""
        weekly = columns["weekly_pain"][i]
        rows.append(
            {
                "client_id": client_id,
                "display_name": columns["display_name"][i],
                "region": (columns["region"][i] or "").replace("_", " "),
                "program_week": columns["program_week"][i],
                "adherence_last_4_weeks": ui.known(columns["adherence_last_4_weeks"][i]),
                **ui.pain_change_cells(baseline, current, columns["pain_status"][i]),
                "pain_status": columns["pain_status"][i],
                "flags": flags,
                "flag_evidence": columns["flag_evidence"][i] or "",
                "flag_priority": flag_priority(flags),
                "last_session": last[i] if isinstance(last[i], str) else None,
                # A missing week is null (Dash's JSON turns NaN into null): a gap in the sparkline.
                "weekly_pain": [] if weekly is None else list(weekly),
            }
        )
    return rows


ROW_FIELDS = ("client_id", "display_name", "region", "program_week", "adherence_last_4_weeks", "pain_baseline",
              "pain_current", "pain_status", "flags", "flag_evidence", "weekly_pain")  # fmt: skip


def _strip(clients: pd.DataFrame, chosen: list[str]) -> list:
    counts = {flag: 0 for flag in FLAGS}
    for flags in clients["flags"]:
        for flag in ui.flag_list(flags):
            counts[flag] += 1
    cards = [
        html.Button(
            [html.Span(f"{counts[flag]}", className="flag-count"), html.Span(ui.FLAG_LABELS[flag])],
            id={"type": "flag-card", "flag": flag},
            className=f"flag-card flag-card-{flag}" + (" chosen" if flag in chosen else ""),
            title=FLAG_EXPLANATIONS[flag],
            n_clicks=0,
        )
        for flag in FLAGS
    ]
    return [html.Div([html.Span(f"{len(clients)}", className="flag-count"), html.Span("Active clients")],
                     className="flag-card flag-card-all", id="flag-card-all"), *cards]  # fmt: skip


@callback(
    Output("caseload-summary", "children"),
    Output("caseload-grid", "rowData"),
    Output("caseload-count", "children"),
    Output("caseload-region", "options"),
    Input("today", "date"),
    Input("caseload-clinician", "value"),
    Input("caseload-region", "value"),
    Input("caseload-flags", "value"),
    Input("caseload-search", "value"),
)
@rights.requires("caseload")
def show_caseload(today, clinician, regions, flags, search):
    with timed("query"), rights.reading(today) as analytics:
        clients = analytics.caseload(_chosen(analytics, clinician))
    with timed("layout"):
        return _shown(clients, regions, flags, search)


def _shown(clients: pd.DataFrame, regions, flags, search):
    region_options = [{"label": r.replace("_", " "), "value": r} for r in sorted(clients["region"].dropna().unique())]
    if regions:
        clients = clients[clients["region"].isin(regions)]
    strip = _strip(clients, flags or [])
    if flags:
        wanted = set(flags)
        clients = clients[[bool(wanted & set(ui.flag_list(f))) for f in clients["flags"]]]
    if search:
        clients = clients[clients["display_name"].str.contains(search.strip(), case=False, regex=False)]
    shown = f"{len(clients)} client{'s' if len(clients) != 1 else ''} shown, most urgent first"
    return strip, _rows(clients), shown, region_options


clientside_callback(
    ClientsideFunction("hipline", "countShown"),  # dashboard/assets/grids.js
    Output("caseload-count", "children", allow_duplicate=True),
    Input("caseload-grid", "virtualRowData"),
    prevent_initial_call=True,
)


@callback(
    Output("caseload-flags", "value"),
    Input({"type": "flag-card", "flag": ALL}, "n_clicks"),
    State("caseload-flags", "value"),
    prevent_initial_call=True,
)
@rights.requires(rights.NEEDS_NO_RIGHT)
def pick_flag(clicks, chosen):
    """Clicking a flag in the strip shows only those clients; clicking it again shows everyone."""
    if not ctx.triggered_id or not any(clicks):
        return dash.no_update
    flag = ctx.triggered_id["flag"]
    return [] if chosen == [flag] else [flag]


@callback(Output("nav", "href"), Input("caseload-grid", "cellClicked"), prevent_initial_call=True)
@rights.requires(rights.NEEDS_NO_RIGHT)
def open_client(cell):
    if not cell or not cell.get("rowId"):
        return dash.no_update
    return f"/clients/{cell['rowId']}"


# --- exports -------------------------------------------------------------------------------------


def _export_bar() -> html.Div:
    return html.Div(
        [
            html.Span("Export", className="export-label"),
            exports.numbers_buttons("caseload"),
            html.Div(
                [
                    exports.button(
                        "All progress reports (zip)",
                        "caseload-zip-start",
                        primary=True,
                        title="A progress report (PDF) for every active client of the clinician chosen, in one zip",
                    ),
                    exports.paper_select(),
                ],
                className="export-group",
            ),
            dcc.Download(id="caseload-numbers-download"),
            dcc.Download(id="caseload-zip-download"),
        ],
        className="export-bar",
        id="caseload-export",
    )


def _zip_running() -> html.Div:
    """Shown while the zip is being made: how far it is, and a way to stop it."""
    return html.Div(
        [
            html.Span("Progress reports", className="export-label"),
            dbc.Progress(id="caseload-zip-bar", value=0, max=1, striped=True, animated=True, className="zip-bar"),
            html.Span(id="caseload-zip-progress", className="zip-progress"),
            exports.button("Cancel", "caseload-zip-cancel", title="Stop making the progress reports"),
        ],
        id="caseload-zip-running",
        className="zip-running",
        style={"display": "none"},
    )


@callback(**exports.numbers_callback("caseload", State("caseload-clinician", "value"), with_report=False))
@rights.requires("export_client")
def export_numbers(_xlsx, _csv, today, clinician):
    """The caseload of the clinician chosen (or everyone's the viewer may see) and its weekly pain, as
    XLSX or zipped CSV. The region, flag and name filters narrow the grid only: the export is the whole
    caseload."""

    def tables_of(analytics):
        from reports.tables import caseload_tables

        return caseload_tables(analytics, _chosen(analytics, clinician))

    key = "caseload-all" if clinician in (None, EVERYONE) else f"caseload-{clinician}"
    return exports.numbers_download(today, key, tables_of)


def _zip_lost(error: Exception):
    """A zip the page can no longer follow, said in words and audited: on a clinic network, one no longer
    kept, whose host stopped, or whose Redis is out of reach (dashboard.shared_jobs). Anything else as any
    failure, the cause in the server's log."""
    if isinstance(error, JobGone):
        rights.record("export", f"progress reports (zip): {error}", outcome="failed")
        return dash.no_update, exports.cannot("progress reports", str(error))
    exports.log.error("the progress reports could not be made: %s", error)
    rights.record("export", "progress reports (zip): failed", outcome="failed")
    return dash.no_update, exports.went_wrong("progress reports", "the reports' process failed")


@callback(
    Output("caseload-zip-download", "data"),
    Output("caseload-zip-status", "children"),
    Input("caseload-zip-start", "n_clicks"),
    State("today", "date"),
    State("caseload-clinician", "value"),
    State(exports.PAPER_ID, "value"),
    background=True,
    progress=[
        Output("caseload-zip-bar", "value"),
        Output("caseload-zip-bar", "max"),
        Output("caseload-zip-progress", "children"),
    ],
    progress_default=[0, 1, "starting…"],
    running=[
        (Output("caseload-zip-start", "disabled"), True, False),
        (Output("caseload-zip-running", "style"), {}, {"display": "none"}),
        (Output("caseload-zip-status", "hidden"), True, False),  # not the last run's message meanwhile
    ],
    cancel=[Input("caseload-zip-cancel", "n_clicks")],
    interval=500,
    on_error=_zip_lost,
    prevent_initial_call=True,
)
@rights.requires("export_client")
def zip_reports(set_progress, _clicks, today, clinician, paper):
    """Every active client's progress report in one zip, of the clients the viewer may see. A background
    callback: Dash runs it in a fork of the server process (dash.DiskcacheManager, see dashboard.app),
    the fork of the request that started it, signed-in user included; it makes the zip in a fresh process
    (dashboard.zip_job says why), shows each client done, and Cancel ends it. Nothing here may take the
    analytics' lock: a fork made while another thread held it would wait for ever (so the zip's process
    checks the clinician asked for against the viewer's scope)."""
    data = clinic()
    day = ui.parse_day(today) or data.today
    staff_id = None if clinician in (None, EVERYONE) else clinician
    who = staff_id or "all"
    out = exports.zip_path(data.db, f"{who}.zip")

    def progress(done: int, total: int, name: str) -> None:
        set_progress([done, total, f"{done} of {total} · {name}"])

    try:
        made = zip_job.make_caseload_zip(
            data.db,
            staff_id,
            out,
            today=day,
            paper=paper or "a4",
            red_flags=data.settings.red_flags,
            progress=progress,
            stop=exports.parent_gone(),
            viewer=rights.current(),
        )
        content = made.path.read_bytes()
    except zip_job.ZipStopped:
        rights.record("export", f"progress reports (zip) of the caseload of {who}: stopped", outcome="failed")
        return dash.no_update, dash.no_update
    except zip_job.ZipFailed as error:
        if error.not_found:
            rights.refused("export", f"progress reports (zip) of the caseload of {who}: {error}")
        else:
            rights.record("export", f"progress reports (zip) of the caseload of {who}: failed", outcome="failed")
        if error.readable:
            return dash.no_update, exports.cannot("progress reports", str(error))
        exports.log.error("the progress reports could not be made:\n%s", error)
        return dash.no_update, exports.went_wrong("progress reports", "the reports' process failed")
    finally:
        out.unlink(missing_ok=True)
    what = f"progress reports (zip) of the caseload of {who} as of {made.today}: {made.clients} clients"
    rights.record("export", what)
    name = exports.file_name("progress-reports", who, made.today, "zip")
    reports = f"{made.clients} progress report{'' if made.clients == 1 else 's'}"
    done = dbc.Alert(
        f"{reports} made in {made.seconds:.0f} s: {name}", color="success", dismissable=True, className="py-2",
        id="zip-done",
    )  # fmt: skip
    return dcc.send_bytes(content, name), done
