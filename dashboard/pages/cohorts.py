"""Cohorts (`/cohorts`, `/cohorts/<cohort_id>`): an instructor's classes and how each is doing (docs/dashboard.md).

The list shows every cohort of the roster with its roll-ups (docs/metrics.md): members, median adherence with
its quartiles, the share adherent and how many improved in pain. A row opens the cohort: its header,
the same roll-ups as stats, the members (a row opens the client), the adherence distribution, mean
pain by program week with the 95 % interval (and a second cohort to compare) and the attendance grid.
"""

from __future__ import annotations

from datetime import date

import dash
import pandas as pd
from dash import Input, Output, State, callback, dcc, html

from analytics.definitions import RECENT_WEEKS
from dashboard import components as ui
from dashboard import exports, rights
from dashboard.clinic_data import clinic
from dashboard.timing import timed
from presentation import figures
from presentation.in_words import ADHERENT_FROM

ADHERENT_LABEL = f"Adherent ≥ {ADHERENT_FROM}"
NO_PAIN_DATA = "none with pain data yet"  # pain data: a baseline and a current pain (docs/metrics.md)
GRAPH_CONFIG = {"displaylogo": False, "responsive": True}
GRID_OPTIONS = {"tooltipShowDelay": 300, "rowHeight": 40}  # both grids: the list and a cohort's members


def _sorted_by(field: str) -> dict:
    """A comparator on a number kept beside the text a column shows (unknown first)."""
    return {"function": f"(a, b, na, nb) => (na.data.{field} ?? -1) - (nb.data.{field} ?? -1)"}


WRAPPED = {"wrapText": True, "autoHeight": True,
           "cellStyle": {"lineHeight": "20px", "paddingTop": "9px", "paddingBottom": "9px"}}  # fmt: skip

COHORT_COLUMNS = [  # the roll-ups first: on a tablet the roster's details are the part that scrolls
    {"field": "name", "headerName": "Cohort", "pinned": "left", "width": 215, "cellClass": "row-link",
     "tooltipField": "cohort_id"},
    {"field": "members", "headerName": "Members", "width": 105, "type": "numericColumn"},
    {"field": "adherence_median", "headerName": "Adherence median (quartiles)", "width": 145, "type": "numericColumn",
     "valueGetter": {"function": "params.data.adherence_text"}, "comparator": _sorted_by("adherence_median")},
    {"field": "share_adherent", "headerName": ADHERENT_LABEL, "width": 115, "type": "numericColumn",
     "valueFormatter": ui.PERCENT_FORMAT},
    {"field": "improved_text", "headerName": "Pain improved", "minWidth": 175, "flex": 1,
     "tooltipField": "improved_share_text", "comparator": _sorted_by("share_improved")},
    {"field": "instructor", "headerName": "Instructor", "minWidth": 120, "flex": 1},
    {"field": "start_date", "headerName": "Start", "width": 120, "valueFormatter": ui.DAY_FORMAT},
    {"field": "schedule", "headerName": "Schedule", "width": 110},
]  # fmt: skip

MEMBER_FIELDS = [
    "client_id",
    "display_name",
    "program_week",
    "adherence_overall",
    "adherence_last_4_weeks",
    "pain_baseline",
    "pain_current",
    "pain_status",
    "flags",
    "flag_evidence",
]
MEMBER_COLUMNS = [
    {"field": "display_name", "headerName": "Member", "pinned": "left", "width": 150,
     "cellClass": "row-link", "tooltipField": "client_id"},
    {"field": "program_week", "headerName": "Week", "width": 75, "type": "numericColumn", **ui.moves_last_below()},
    {"headerName": "Adherence", "children": [
        {"field": "adherence_overall", "headerName": "Overall", "width": 95, "type": "numericColumn",
         "valueFormatter": ui.PERCENT_FORMAT, "cellClassRules": ui.LOW_ADHERENCE_CELLS},
        {"field": "adherence_last_4_weeks", "headerName": f"Last {RECENT_WEEKS} wk", "width": 105,
         "type": "numericColumn", "valueFormatter": ui.PERCENT_FORMAT, "cellClassRules": ui.LOW_ADHERENCE_CELLS},
    ]},
    {**ui.PAIN_CHANGE_COLUMN, "minWidth": 180, "flex": 2, **WRAPPED},
    ui.FLAGS_COLUMN,
]  # fmt: skip
ui.keep_in_view("cohort-members-grid")  # on a tablet the week gives way to the pain change and the flags


def register() -> None:
    dash.register_page(__name__, path="/cohorts", name="Cohorts", title="Cohorts · hipline", layout=cohort_list)
    dash.register_page(
        __name__ + ".detail",
        path_template="/cohorts/<cohort_id>",
        name="Cohort",
        title="Cohort · hipline",
        layout=cohort_page,
    )


# --- the list --------------------------------------------------------------------------------------


def cohort_list(**_query) -> html.Div:
    if not clinic().has_data():
        return ui.no_data_yet()
    if not rights.current().may("cohorts"):
        return ui.not_for_role("the cohort pages")
    return html.Div(
        [
            html.Div(html.H1("Cohorts", className="page-title"), className="page-head"),
            html.Div(id="cohorts-count", className="count-line"),
            ui.grid(
                "cohorts-grid",
                COHORT_COLUMNS,
                "No cohorts in the roster yet.",
                defaults=ui.WRAPPED_HEADERS,
                options=GRID_OPTIONS,
                getRowId="params.data.cohort_id",
                className="cohort-grid",
            ),
        ],
        className="cohorts",
    )


def _cohort_rows(roster: pd.DataFrame, summary: pd.DataFrame) -> list[dict]:
    """One row per cohort of the roster; a cohort with no members has no roll-ups (dashes)."""
    rolled = roster[["cohort_id", "name", "instructor", "start_date", "schedule"]].merge(
        summary.drop(columns=["name", "instructor_id"]), on="cohort_id", how="left"
    )
    rolled = rolled.assign(
        members=rolled["members"].fillna(0).astype(int),
        members_with_pain_data=rolled["members_with_pain_data"].astype("Int64"),
        members_improved=rolled["members_improved"].astype("Int64"),
        start_date=rolled["start_date"].dt.strftime("%Y-%m-%d"),
    )
    rows = _records(rolled)
    for row in rows:
        row["adherence_text"] = _adherence_text(row)
        row["improved_text"] = _improved_text(row)
        row["improved_share_text"] = _improved_share_text(row)
    return rows


def _records(frame: pd.DataFrame) -> list[dict]:
    """A frame's rows for a grid, every missing value as None (JSON null)."""
    return [{key: ui.known(value) for key, value in row.items()} for row in frame.to_dict("records")]


@callback(Output("cohorts-grid", "rowData"), Output("cohorts-count", "children"), Input("today", "date"))
@rights.requires("cohorts")
def show_cohorts(today: str | None) -> tuple[list[dict], str]:
    with timed("query"), rights.reading(today) as analytics:
        roster = analytics.cohorts()
        summary = analytics.cohort_summary()
    with timed("layout"):
        rows = _cohort_rows(roster, summary)
    return rows, f"{len(roster)} cohort{'' if len(roster) == 1 else 's'}, newest first: click one to open it"


@callback(Output("nav", "href", allow_duplicate=True), Input("cohorts-grid", "cellClicked"), prevent_initial_call=True)
@rights.requires(rights.NEEDS_NO_RIGHT)
def open_cohort(cell: dict | None) -> str:
    if not cell or not cell.get("rowId"):
        return dash.no_update
    return f"/cohorts/{cell['rowId']}"


# --- one cohort ------------------------------------------------------------------------------------


def cohort_page(cohort_id: str | None = None, **_query) -> html.Div:
    """The skeleton: the roster's header now, the day's numbers from `show_cohort` and `show_pain_by_week`.
    A cohort the viewer may not open reads exactly as one that is not on the roster (and is audited)."""
    if not clinic().has_data():
        return ui.no_data_yet()
    viewer = rights.current()
    if not viewer.may("cohorts"):
        rights.refused("view_cohort", f"cohort {cohort_id}: the cohort pages are not part of their role")
        return ui.not_for_role("the cohort pages")
    with timed("query"), rights.reading() as analytics:
        roster = analytics.cohorts()
    chosen = roster[roster["cohort_id"] == cohort_id]
    if chosen.empty:
        rights.refused("view_cohort", f"cohort {cohort_id}: not in their scope or not on the roster")
        return ui.not_found("cohort", str(cohort_id), "/cohorts", "All cohorts")
    rights.record("view_cohort", f"opened the page of cohort {cohort_id}")
    cohort = chosen.iloc[0]
    others = roster[roster["cohort_id"] != cohort_id].sort_values("name")
    compare_options = [{"label": row.name, "value": row.cohort_id} for row in others.itertuples()]
    return html.Div(
        [
            dcc.Store(id="cohort-id", data=cohort_id),
            dcc.Store(id="cohort-label", data=cohort["name"]),
            html.Div(
                [
                    html.Div(
                        [
                            html.H1(cohort["name"], className="page-title", id="cohort-name"),
                            html.P(_cohort_line(cohort), className="page-subtitle", id="cohort-facts"),
                        ]
                    ),
                    html.Div(
                        [
                            exports.export_bar(
                                "cohort",
                                "Cohort report (PDF)",
                                "The cohort's report as of the day reviewed: roll-ups, members and charts",
                            )
                            if viewer.may("export_cohort")
                            else None,
                            dcc.Link(
                                "All cohorts", href="/cohorts", className="btn btn-outline-secondary btn-sm back-link"
                            ),
                        ],
                        className="cohort-actions",
                    ),
                ],
                className="page-head cohort-head",
            ),
            exports.alert_area("cohort"),
            ui.loading(html.Div(id="cohort-stats", className="stats")),
            html.Div(id="cohort-empty"),
            html.Div(
                [
                    ui.section(
                        "Members",
                        ui.grid(
                            "cohort-members-grid",
                            MEMBER_COLUMNS,
                            "No members yet.",
                            options={**GRID_OPTIONS, "headerHeight": 36, "groupHeaderHeight": 30},
                            getRowId="params.data.client_id",
                            className="cohort-grid",
                        ),
                        id="cohort-members",
                    ),
                    html.Div(
                        [
                            ui.section("Adherence", _graph("cohort-adherence"), id="cohort-adherence-section"),
                            ui.section(
                                "Pain by program week",
                                _graph("cohort-pain"),
                                html.P(id="cohort-pain-note", className="chart-note"),
                                id="cohort-pain-section",
                                actions=_compare_control(compare_options),
                            ),
                        ],
                        className="charts-2",
                    ),
                    ui.section("Attendance", _graph("cohort-attendance"), id="cohort-attendance-section"),
                ],
                id="cohort-body",
            ),
        ],
        className="cohort",
    )


def _compare_control(options: list[dict]) -> html.Div:
    return html.Div(
        [
            html.Label("Compare with", htmlFor="cohort-compare", className="compare-label"),
            dcc.Dropdown(
                id="cohort-compare",
                options=options,
                placeholder="another cohort",
                clearable=True,
                searchable=False,
                className="control control-wide",
            ),
        ],
        className="compare",
    )


def _graph(graph_id: str) -> dcc.Loading:
    return ui.loading(dcc.Graph(id=graph_id, figure=figures.empty_figure(""), config=GRAPH_CONFIG))


def _cohort_line(cohort: pd.Series) -> str:
    """'Priya Ahmed · Mon 18:00 · from 31 Aug 2026 · 8 weeks', leaving out what the roster does not say."""
    known = cohort.dropna()
    parts = [
        known.get("instructor", known.get("instructor_id")),
        known.get("schedule"),
        f"from {ui.day(known['start_date'])}" if "start_date" in known else None,
        f"{int(known['weeks'])} weeks" if "weeks" in known else None,
    ]
    return " · ".join(str(part) for part in parts if part)


@callback(
    Output("cohort-stats", "children"),
    Output("cohort-empty", "children"),
    Output("cohort-body", "hidden"),
    Output("cohort-members-grid", "rowData"),
    Output("cohort-adherence", "figure"),
    Output("cohort-attendance", "figure"),
    Input("today", "date"),
    Input("cohort-id", "data"),
)
@rights.requires("cohorts")
def show_cohort(today: str | None, cohort_id: str):
    """The day's roll-ups, the members and two charts; "No members yet" instead of them for an empty cohort.
    Everything over the members the viewer may see; a cohort they may not open reads as an empty one."""
    with timed("query"), rights.reading(today) as analytics:
        cohort_id = _visible(analytics, cohort_id)
        summary = analytics.cohort_summary()
        members = analytics.cohort_members(cohort_id)
        grid = analytics.attendance_grid(cohort_id)
        day = analytics.today
    rolled = _records(summary[summary["cohort_id"] == cohort_id])
    stats = _stats(rolled[0] if rolled else None, day)
    if members.empty:
        nothing = html.Div(
            [html.H2("No members yet"), html.P("Clients join a cohort through the cohort_id of the client roster.")],
            className="empty-state",
            id="cohort-no-members",
        )
        return stats, nothing, True, [], dash.no_update, dash.no_update
    with timed("layout"):
        rows = _member_rows(members)
    with timed("figures"):
        adherence, attendance = figures.adherence_distribution(members), figures.attendance_heatmap(grid)
    return stats, None, False, rows, adherence, attendance


def _stats(rolled: dict | None, day: date) -> list[html.Div]:
    """The roll-ups of docs/metrics.md as stats: a row of `Analytics.cohort_summary()`, None for no members."""
    if rolled is None:
        return [ui.stat("Members", "0", f"as of {ui.day(day)}", id="stat-members")]
    members = rolled["members"]
    improved, adherent = rolled["members_improved"], rolled["members_adherent"]
    with_pain_data = rolled["members_with_pain_data"]
    return [
        ui.stat("Members", f"{members}", f"as of {ui.day(day)}", id="stat-members"),
        ui.stat(
            "Median adherence",
            ui.percent(rolled["adherence_median"]),
            f"quartiles {_quartiles(rolled['adherence_q1'], rolled['adherence_q3'])}",
            id="stat-adherence",
        ),
        ui.stat(
            "Pain improved",
            f"{improved} of {with_pain_data}" if with_pain_data else "–",
            f"with pain data; {ui.percent(rolled['share_improved'])} of all {members}"
            if with_pain_data
            else NO_PAIN_DATA,
            id="stat-pain-improved",
        ),
        ui.stat(
            ADHERENT_LABEL,
            ui.percent(rolled["share_adherent"]),
            f"{adherent} of {members} overall",
            id="stat-adherent",
        ),
    ]


def _member_rows(members: pd.DataFrame) -> list[dict]:
    """The members grid's rows, with the pain change in words (never colour alone) and its number to sort by."""
    shown = members.assign(display_name=members["display_name"].fillna(members["client_id"]))
    rows = _records(shown[MEMBER_FIELDS].sort_values(["display_name", "client_id"]))
    for row in rows:
        row.update(ui.pain_change_cells(row.pop("pain_baseline"), row.pop("pain_current"), row["pain_status"]))
    return rows


@callback(
    Output("cohort-pain", "figure"),
    Output("cohort-pain-note", "children"),
    Input("today", "date"),
    Input("cohort-id", "data"),
    Input("cohort-compare", "value"),
    State("cohort-label", "data"),
    State("cohort-compare", "options"),
)
@rights.requires("cohorts")
def show_pain_by_week(today: str | None, cohort_id: str, compare: str | None, label: str, others: list[dict]):
    """This cohort's mean pain by week, and the compared cohort's on the same axes."""
    with timed("query"), rights.reading(today) as analytics:
        cohort_id, compare = _visible(analytics, cohort_id), compare and _visible(analytics, compare)
        weekly = analytics.cohort_weekly()  # every cohort in one query: cheaper than one query per cohort
    names = {cohort_id: label} | {o["value"]: o["label"] for o in others if o["value"] == compare}
    series = [(name, weekly[weekly["cohort_id"] == c]) for c, name in names.items()]
    with timed("figures"):
        figure = figures.cohort_pain_by_week(series)
    return figure, _interval_note(series)


def _interval_note(series: list[tuple[str, pd.DataFrame]]) -> str | None:
    """Say why a line has no band: the analytics give no 95 % interval for a week with pain from one member only
    (docs/metrics.md, analytics.metrics.t_interval)."""
    alone = [name for name, weekly in series if not weekly.empty and weekly["ci_low"].isna().all()]
    if alone:
        return f"No 95 % interval for {' or '.join(alone)}: at most one member has pain ratings in any week."
    if any(weekly["ci_low"].isna().any() for _, weekly in series):
        return "No 95 % interval in the weeks where only one member has pain ratings."
    return None


@callback(
    Output("nav", "href", allow_duplicate=True),
    Input("cohort-members-grid", "cellClicked"),
    prevent_initial_call=True,
)
@rights.requires(rights.NEEDS_NO_RIGHT)
def open_member(cell: dict | None) -> str:
    if not cell or not cell.get("rowId"):
        return dash.no_update
    return f"/clients/{cell['rowId']}"


# --- exports -------------------------------------------------------------------------------------


@callback(**exports.report_callback("cohort", State("cohort-id", "data")))
@rights.requires("export_cohort")
def export_report(_clicks, today: str | None, cohort_id: str, paper: str | None):
    """The cohort's report as of the day reviewed, as PDF."""

    def context_of(analytics):
        from reports.cohort_report import cohort_context

        return cohort_context(analytics, cohort_id)

    def pdf_of(context):
        from reports.cohort_report import cohort_report_from_context

        return cohort_report_from_context(context, paper or "a4")

    return exports.report_download(today, "cohort report", "cohort-report", cohort_id, context_of, pdf_of)


@callback(**exports.numbers_callback("cohort", State("cohort-id", "data")))
@rights.requires("export_cohort")
def export_numbers(_xlsx, _csv, today: str | None, cohort_id: str):
    """The numbers behind the cohort's roll-ups and charts, as XLSX or zipped CSV."""

    def tables_of(analytics):
        from reports.tables import cohort_tables

        return cohort_tables(analytics, cohort_id)

    return exports.numbers_download(today, cohort_id, tables_of)


def _visible(analytics, cohort_id: str) -> str:
    """`cohort_id` when the viewer may open it; otherwise an id no cohort has (so the answer is that of a
    cohort that does not exist), and the attempt is audited."""
    if cohort_id in set(analytics.cohorts()["cohort_id"]):
        return cohort_id
    rights.refused("view_cohort", f"cohort {cohort_id}: not in their scope or not on the roster")
    return NO_COHORT


NO_COHORT = "\x00 no cohort"


# --- words -----------------------------------------------------------------------------------------


def _quartiles(q1: float | None, q3: float | None) -> str:
    if q1 is None or q3 is None:
        return "–"
    return f"{round(100 * q1):.0f}–{round(100 * q3):.0f} %"


def _adherence_text(row: dict) -> str:
    """'79 % (64–94 %)': the median and, in brackets, the middle half of the members."""
    if row["adherence_median"] is None:
        return "–"
    return f"{ui.percent(row['adherence_median'])} ({_quartiles(row['adherence_q1'], row['adherence_q3'])})"


def _improved_text(row: dict) -> str:
    if row["share_improved"] is None:
        return "no members yet"
    if not row["members_with_pain_data"]:
        return NO_PAIN_DATA
    return f"{row['members_improved']} of {row['members_with_pain_data']} with pain data"


def _improved_share_text(row: dict) -> str | None:
    if row["share_improved"] is None:
        return None
    return f"{ui.percent(row['share_improved'])} of all {row['members']} member{'' if row['members'] == 1 else 's'}"
