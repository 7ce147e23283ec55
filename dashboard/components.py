"""Small pieces every page uses: number formats in clinic words, flag badges, cards, grids and empty states."""

from __future__ import annotations

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import ClientsideFunction, Input, Output, clientside_callback, dcc, html

from analytics.definitions import FLAG_EXPLANATIONS, FLAGS, LOW_ADHERENCE
from presentation.formats import day, either, iso, known, missing, pain, parse_day, percent, signed

__all__ = ["day", "either", "iso", "known", "missing", "pain", "parse_day", "percent", "signed"]  # for the pages: ui.*

FLAG_LABELS = {
    "refer": "Refer",
    "on_hold": "On hold",
    "pain_worse": "Pain worse",
    "flare": "Flare",
    "low_adherence": "Low adherence",
    "lapsed": "Lapsed",
    "plateau": "Plateau",
    "ready_to_progress": "Ready to progress",
}


def _id(id) -> dict:
    """Dash 4 refuses `id=None`: pass an id only when there is one."""
    return {"id": id} if id else {}


def pain_change_text(baseline, current, status) -> str:
    """'3.4 → 1.8 (−1.6, improved)': the change is in words too, never colour alone."""
    if missing(baseline) and missing(current):
        return "no pain ratings"
    change = "" if missing(baseline) or missing(current) else f"{signed(current - baseline)}, "
    return f"{pain(baseline)} → {pain(current)} ({change}{status})"


def pain_change_cells(baseline, current, status) -> dict:
    """A grid row's pain change: in words (`pain_text`), and the change to sort by (`pain_delta`)."""
    delta = None if missing(baseline) or missing(current) else current - baseline
    return {"pain_text": pain_change_text(baseline, current, status), "pain_delta": delta}


def flag_list(flags: str | None) -> list[str]:
    """'pain_worse;lapsed' -> ['pain_worse', 'lapsed'] in priority order (docs/metrics.md)."""
    present = set(filter(None, (flags or "").split(";")))
    return [f for f in FLAGS if f in present]


def flag_evidence(evidence: str | None) -> dict[str, str]:
    """'refer: "..." on 26 Oct, not reviewed\\n...' -> {"refer": '"..." on 26 Oct, not reviewed', ...}."""
    lines = (line.split(": ", 1) for line in (evidence or "").split("\n") if ": " in line)
    return {flag: why for flag, why in lines}


def flag_badges(flags: str | None, id_prefix: str = "flag", evidence: str | None = None) -> html.Span:
    """The flags in priority order; with their `evidence` (client_metrics' flag_evidence), each badge
    is followed by why it fired, in words."""
    items = flag_list(flags)
    if not items:
        return html.Span("no flags", className="text-muted small")
    why = flag_evidence(evidence)
    badges = [
        html.Span(FLAG_LABELS[f], className=f"flag flag-{f}", title=why.get(f, FLAG_EXPLANATIONS[f]),
                  id=f"{id_prefix}-{f}")
        for f in items
    ]  # fmt: skip
    if not why:
        return html.Span(badges, className="flags")
    return html.Span(
        [html.Span([badge, html.Span(why.get(f, ""), className="flag-why")], className="flag-line")
         for f, badge in zip(items, badges, strict=True)],
        className="flag-lines",
    )  # fmt: skip


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


def not_for_role(what: str) -> html.Div:
    """A page the signed-in user's role does not include (docs/security.md#roles-and-what-each-may-do): say so,
    and nothing else."""
    return html.Div(
        [
            html.H2(f"Not part of your role: {what}"),
            html.P("If you need it, ask your clinic's hipline admin."),
            dcc.Link("Home", href="/", className="btn btn-outline-primary btn-sm"),
        ],
        className="empty-state",
        id="not-for-role",
    )


def page_head(title: str, subtitle: str) -> html.Div:
    """A page's title, and under it what the page is for."""
    return html.Div(
        [html.H1(title, className="page-title"), html.P(subtitle, className="page-subtitle")], className="page-head"
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


def sentence(error: Exception) -> str:
    """An error's message as a sentence for the page: 'no such role: nurse' -> 'No such role: nurse.'"""
    text = str(error)
    return text[:1].upper() + text[1:] + "."


# docs/dashboard.md: every page works at 1280 px and on a tablet (820 px) with the columns that matter in view. A grid
# column that can give way carries `moves_last_below(px)`: while the grid is narrower than that it moves
# after the others (it is still there, a sideways scroll away), and back when the grid is wide again
# (dashboard/assets/grids.js, for each grid named to `keep_in_view`).
TABLET = 1000  # px of grid: an 820 px tablet's grid is about 800 wide, a 1280 px screen's about 1240
WRAPPED_HEADERS = {"wrapHeaderText": True, "autoHeaderHeight": True}  # a narrow column's header in two lines, not cut


# The grids' shared cells (AG Grid's JavaScript, run in the browser): a fraction as a whole percent, a day,
# adherence under analytics.definitions.LOW_ADHERENCE marked low, and the pain change in words with its
# status as a class (never colour alone) and sorted by the change.
PERCENT_FORMAT = {"function": "params.value == null ? '–' : Math.round(params.value * 100) + ' %'"}
DAY_FORMAT = {"function": "params.value ? d3.timeFormat('%-d %b %Y')(d3.timeParse('%Y-%m-%d')(params.value)) : '–'"}
LOW_ADHERENCE_CELLS = {"low": f"params.value != null && params.value < {LOW_ADHERENCE!r}"}
PAIN_CHANGE_COLUMN = {
    "field": "pain_change",
    "headerName": "Pain baseline → current",
    "valueGetter": {"function": "params.data.pain_text"},
    "comparator": {"function": "(a, b, na, nb) => (na.data.pain_delta ?? 99) - (nb.data.pain_delta ?? 99)"},
    "cellClassRules": {
        "pain-improved": "params.data.pain_status == 'improved'",
        "pain-worse": "params.data.pain_status == 'worse'",
    },
}
# The flags as badges in priority order, each with why it fired (dashboard/assets/dashAgGridComponentFunctions.js).
FLAGS_COLUMN = {
    "field": "flags", "headerName": "Flags and why", "minWidth": 220, "flex": 2, "cellRenderer": "FlagBadges",
    "autoHeight": True, "cellStyle": {"paddingTop": "9px", "paddingBottom": "9px", "lineHeight": "20px"},
    "cellRendererParams": {"order": list(FLAGS), "labels": FLAG_LABELS, "explanations": FLAG_EXPLANATIONS},
}  # fmt: skip


def grid(id: str, columns: list, no_rows: str, *, rows: list | None = None, defaults: dict | None = None,
         options: dict | None = None, height: str | None = None, **props) -> dag.AgGrid:  # fmt: skip
    """An AG Grid as every page draws one: as wide as the page, its columns sortable and resizable (`defaults`
    adds to the columns' defaults), no row animation, and `no_rows` said when it has none. As tall as its
    rows (the page scrolls, not the grid) unless it is given a `height`: then its rows scroll inside it.
    `options` adds to AG Grid's options, `props` to the grid's own (getRowId, className...)."""
    whole = {} if height else {"domLayout": "autoHeight"}
    return dag.AgGrid(
        id=id,
        columnDefs=columns,
        rowData=[] if rows is None else rows,
        defaultColDef={"sortable": True, "resizable": True, **(defaults or {})},
        dashGridOptions={"animateRows": False, **whole, **(options or {}), "localeText": {"noRowsToShow": no_rows}},
        style={"width": "100%"} if height is None else {"height": height, "width": "100%"},
        **props,
    )


def moves_last_below(grid_width: int = TABLET) -> dict:
    """The part of a column definition that moves it to the end of a grid narrower than `grid_width` px."""
    return {"context": {"lastBelow": grid_width}}


def keep_in_view(grid_id: str) -> None:
    """Arrange the grid's columns for its width whenever it is shown (call once, where its page is defined).
    The callback changes nothing of the grid's class: a callback with an output in the page is what Dash
    runs when the page is shown."""
    clientside_callback(ClientsideFunction("hipline", "keepInView"), Output(grid_id, "className"), Input(grid_id, "id"))
