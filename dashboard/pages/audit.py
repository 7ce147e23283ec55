"""Audit trail (`/audit`, admins only): who did what, when, from where, to whom
(docs/security.md#roles-and-what-each-may-do). Filter by
user, client, action and day; export what is shown as CSV (`hipline audit` does the same at the shell).
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, dcc, html

from access import audit
from access.users import list_users
from dashboard import components as ui
from dashboard import exports, rights
from dashboard.clinic_data import clinic
from presentation.formats import parse_day

SHOWN = 10_000  # rows in the grid, newest first; `hipline audit` exports any number
REFUSED = "refused"  # not an action: every request refused, whatever it asked

WHEN = "params.value ? params.value.slice(0, 19).replace('T', ' ') : ''"  # 2026-12-03 13:14:07 (UTC)
COLUMNS = [  # what happened first: on a tablet the address and the role are what scrolls
    {"field": "at", "headerName": "When (UTC)", "width": 165, "sort": "desc", "valueFormatter": {"function": WHEN}},
    {"field": "username", "headerName": "User", "width": 115},
    {"field": "action", "headerName": "Action", "width": 130},
    {"field": "what", "headerName": "What", "minWidth": 260, "flex": 1, "wrapText": True, "autoHeight": True,
     "cellStyle": {"lineHeight": "18px", "paddingTop": "6px", "paddingBottom": "6px"}},
    {"field": "outcome", "headerName": "Outcome", "width": 105,
     "cellClassRules": {"low": "params.value == 'refused'"}},
    {"field": "client_id", "headerName": "Client", "width": 105},
    {"field": "role", "headerName": "Role", "width": 100},
    {"field": "address", "headerName": "From", "width": 130},
]  # fmt: skip


def register() -> None:
    dash.register_page(__name__, path="/audit", name="Audit", title="Audit trail · hipline", layout=layout)


def layout(**_query) -> html.Div:
    if not rights.current().may("audit"):
        return rights.refused_page("audit", "the audit trail")
    usernames = sorted({u.username for u in list_users(clinic().db)})
    actions = [{"label": words, "value": action} for action, words in audit.ACTIONS.items()]
    return html.Div(
        [
            ui.page_head("Audit trail", "Every sign-in, client page opened, export, decision, import and user "
                         "change, and every request refused. Nothing here can be changed or deleted."),
            html.Div(
                [
                    html.Div(dcc.Dropdown(id="audit-user", options=usernames, placeholder="Any user"),
                             className="audit-filter"),
                    html.Div(dbc.Input(id="audit-client", type="search", placeholder="Client id", debounce=True,
                                       size="sm"), className="audit-filter"),
                    html.Div(dcc.Dropdown(id="audit-action", placeholder="Any action",
                                          options=[*actions, {"label": "refused (any)", "value": REFUSED}]),
                             className="audit-filter audit-filter-wide"),
                    html.Div(dcc.DatePickerSingle(id="audit-day", placeholder="Any day", display_format="D MMM YYYY",
                                                  first_day_of_week=1, clearable=True),
                             className="audit-filter"),
                    exports.button("Export CSV", "audit-export", title="Every row that matches the filters, as CSV"),
                    dcc.Download(id="audit-download"),
                ],
                className="audit-filters",
            ),
            html.Div(id="audit-count", className="count-line"),
            ui.grid("audit-grid", COLUMNS, "Nothing in the audit trail matches.", defaults={"filter": True},
                    options={"pagination": True, "paginationPageSize": 50}),
        ],
        className="audit-page",
    )  # fmt: skip


def _rows(user, client, action, day, limit: int | None = SHOWN):
    return audit.read(clinic().db, user=user, client=(client or "").strip() or None, action=action,
                      day=parse_day(day), limit=limit)  # fmt: skip


FILTERS = (
    Input("audit-user", "value"),
    Input("audit-client", "value"),
    Input("audit-action", "value"),
    Input("audit-day", "date"),
)


@callback(Output("audit-grid", "rowData"), Output("audit-count", "children"), *FILTERS)
@rights.requires("audit")
def show_audit(user, client, action, day):
    rows = _rows(user, client, action, day)
    shown = f"{len(rows):,} row{'' if len(rows) == 1 else 's'}, newest first"
    if len(rows) == SHOWN:
        shown += f" (the newest {SHOWN:,}: hipline audit exports them all)"
    return rows.astype(object).where(rows.notna(), None).to_dict("records"), shown


@callback(
    Output("audit-download", "data"),
    Input("audit-export", "n_clicks"),
    *(State(i.component_id, i.component_property) for i in FILTERS),
    prevent_initial_call=True,
)
@rights.requires("audit")
def export_audit(_clicks, user, client, action, day):
    """Every row that matches the filters (not only the newest shown), as CSV; the export is audited."""
    rows = _rows(user, client, action, day, limit=None)
    filters = ", ".join(f"{k}={v}" for k, v in (("user", user), ("client", client), ("action", action),
                                                 ("day", day)) if v) or "no filter"  # fmt: skip
    rights.record("export", f"audit trail (CSV), {len(rows)} rows: {filters}")
    return dcc.send_string(audit.as_csv(rows), "hipline-audit.csv")
