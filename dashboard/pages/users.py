"""Users (`/users`, admins only): who may sign in, with which role; add one, change a role, disable or
enable, set a new password (docs/security.md#roles-and-what-each-may-do). The same as `hipline user ...`, through
access.users: every
change is audited with the admin who made it, and a password is never shown or kept in the page.
"""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, callback, ctx, dcc, html

from access import users
from access.roles import RIGHT_WORDS, RIGHTS, ROLES
from dashboard import components as ui
from dashboard import rights
from dashboard.clinic_data import clinic

COLUMNS = [
    {"field": "name", "headerName": "Name", "pinned": "left", "width": 190},
    {"field": "username", "headerName": "Username", "width": 150},
    {"field": "staff_id", "headerName": "Staff id", "width": 110},
    {"field": "role", "headerName": "Role", "width": 120},
    {"field": "status", "headerName": "Status", "width": 110,
     "cellClassRules": {"low": "params.value == 'disabled'"}},
    {"field": "changed_at", "headerName": "Last changed (UTC)", "minWidth": 190, "flex": 1},
]  # fmt: skip


def register() -> None:
    dash.register_page(__name__, path="/users", name="Users", title="Users · hipline", layout=layout)


def layout(**_query) -> html.Div:
    if not rights.current().may("users"):
        return rights.refused_page("users", "the users page", "managing users")
    return html.Div(
        [
            ui.page_head("Users", "Who may sign in, and what each role may do."),
            dcc.Store(id="users-changed"),
            ui.grid(
                "users-grid",
                COLUMNS,
                "No users yet.",
                defaults={"filter": True},
                options={"rowSelection": "single"},
                getRowId="params.data.username",
            ),
            html.Div(
                [
                    ui.section("Add a user", *_add_form(), id="user-add"),
                    ui.section("Change a user", *_change_form(), id="user-change"),
                ],
                className="charts-2",
            ),
            ui.section("What each role may do", _rights_table(), id="user-roles"),
        ],
        className="users-page",
    )


def _field(label: str, control, id: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=id, className="form-label"), control], className="mb-2")


def _password(id: str, placeholder: str) -> dbc.Input:
    return dbc.Input(id=id, type="password", placeholder=placeholder, autocomplete="new-password", size="sm")


def _add_form() -> list:
    return [
        _field("Member of staff (the roster)", dcc.Dropdown(id="user-add-staff", placeholder="staff without a user"),
               "user-add-staff"),
        _field("Username", dbc.Input(id="user-add-username", size="sm",
                                     placeholder="the staff id, unless you choose another"), "user-add-username"),
        _field("Role", dcc.Dropdown(id="user-add-role", options=list(ROLES), clearable=False), "user-add-role"),
        _field("Password (at least 12 characters)", _password("user-add-password", ""), "user-add-password"),
        _field("The password again", _password("user-add-again", ""), "user-add-again"),
        dbc.Button("Add user", id="user-add-submit", color="primary", size="sm"),
        html.Div(id="user-add-message", className="mt-2"),
    ]  # fmt: skip


def _change_form() -> list:
    return [
        _field("User", dcc.Dropdown(id="user-change-who", placeholder="choose a user"), "user-change-who"),
        _field("Role", html.Div([dcc.Dropdown(id="user-change-role", options=list(ROLES), clearable=False,
                                              className="control"),
                                 dbc.Button("Set role", id="user-set-role", color="secondary", outline=True,
                                            size="sm")], className="inline-form"), "user-change-role"),
        _field("New password", html.Div([_password("user-change-password", "at least 12 characters"),
                                         _password("user-change-again", "again"),
                                         dbc.Button("Set password", id="user-set-password", color="secondary",
                                                    outline=True, size="sm")], className="inline-form"),
               "user-change-password"),
        html.Div([dbc.Button("Disable", id="user-disable", color="danger", outline=True, size="sm"),
                  dbc.Button("Enable", id="user-enable", color="secondary", outline=True, size="sm")],
                 className="inline-form"),
        html.Div(id="user-change-message", className="mt-2"),
    ]  # fmt: skip


def _rights_table() -> html.Table:
    header = html.Tr([html.Th("May"), *(html.Th(role) for role in ROLES)])
    rows = [
        html.Tr([html.Td(words), *(html.Td("✓" if right in RIGHTS[role] else "–") for role in ROLES)])
        for right, words in RIGHT_WORDS.items()
    ]
    return html.Table([html.Thead(header), html.Tbody(rows)], className="data-table", id="rights-table")


@callback(
    Output("users-grid", "rowData"),
    Output("user-add-staff", "options"),
    Output("user-change-who", "options"),
    Input("users-changed", "data"),
)
@rights.requires("users")
def show_users(_changed):
    everyone = users.list_users(clinic().db)
    rows = [
        {"name": u.name, "username": u.username, "staff_id": u.staff_id, "role": u.role,
         "status": "enabled" if u.enabled else "disabled", "changed_at": u.changed_at.replace("T", " ")[:16]}
        for u in everyone
    ]  # fmt: skip
    with rights.reading() as analytics:
        staff = analytics.staff()
    has_user = {u.staff_id for u in everyone}
    free = [
        {"label": f"{row.name} ({row.staff_id}, {row.role})", "value": row.staff_id}
        for row in staff.itertuples(index=False)
        if row.staff_id not in has_user
    ]
    who = [{"label": f"{u.name} ({u.username})", "value": u.username} for u in everyone]
    return rows, free, who


@callback(Output("user-add-role", "value"), Output("user-add-username", "value"), Input("user-add-staff", "value"))
@rights.requires("users")
def suggest(staff_id):
    """The roster's role and the staff id as the username, to start from."""
    if not staff_id:
        return dash.no_update, dash.no_update
    with rights.reading() as analytics:
        staff = analytics.staff()
    role = staff.loc[staff["staff_id"] == staff_id, "role"]
    return (role.iloc[0] if len(role) and role.iloc[0] in ROLES else dash.no_update), staff_id


@callback(
    Output("user-add-message", "children"),
    Output("users-changed", "data"),
    Output("user-add-password", "value"),
    Output("user-add-again", "value"),
    Input("user-add-submit", "n_clicks"),
    State("user-add-staff", "value"),
    State("user-add-username", "value"),
    State("user-add-role", "value"),
    State("user-add-password", "value"),
    State("user-add-again", "value"),
    prevent_initial_call=True,
)
@rights.requires("users")
def add_user(_clicks, staff_id, username, role, password, again):
    if not staff_id or not role:
        return _said("Choose a member of staff and a role."), dash.no_update, "", ""
    if (password or "") != (again or ""):
        return _said("The two passwords differ."), dash.no_update, "", ""
    with rights.reading() as analytics:
        staff = analytics.staff()
    named = staff.loc[staff["staff_id"] == staff_id, "name"]
    if named.empty:
        return _said(f"{staff_id} is not on the staff roster."), dash.no_update, "", ""
    try:
        user = users.add_user(clinic().db, staff_id, named.iloc[0], role, password or "", by=rights.actor(),
                              username=(username or "").strip() or None)  # fmt: skip
    except users.UserError as e:
        return _said(ui.sentence(e)), dash.no_update, "", ""
    return _said(f"{user.name} may now sign in as {user.username} ({user.role}).", "success"), user.username, "", ""


@callback(
    Output("user-change-message", "children"),
    Output("users-changed", "data", allow_duplicate=True),
    Output("user-change-password", "value"),
    Output("user-change-again", "value"),
    Input("user-set-role", "n_clicks"),
    Input("user-set-password", "n_clicks"),
    Input("user-disable", "n_clicks"),
    Input("user-enable", "n_clicks"),
    State("user-change-who", "value"),
    State("user-change-role", "value"),
    State("user-change-password", "value"),
    State("user-change-again", "value"),
    prevent_initial_call=True,
)
@rights.requires("users")
def change_user(_role, _password, _disable, _enable, username, role, password, again):
    if not ctx.triggered_id or not (ctx.triggered and ctx.triggered[0]["value"]):
        return dash.no_update, dash.no_update, dash.no_update, dash.no_update
    if not username:
        return _said("Choose a user first."), dash.no_update, "", ""
    db, by = clinic().db, rights.actor()
    try:
        if ctx.triggered_id == "user-set-role":
            if not role:
                return _said("Choose the new role."), dash.no_update, "", ""
            user = users.change_role(db, username, role, by=by)
            done = f"{user.name} is now {user.role}, from their next request."
        elif ctx.triggered_id == "user-set-password":
            if (password or "") != (again or ""):
                return _said("The two passwords differ."), dash.no_update, "", ""
            user = users.change_password(db, username, password or "", by=by)
            done = f"{user.name} has a new password; their other sessions have ended."
        else:
            enabled = ctx.triggered_id == "user-enable"
            user = users.set_enabled(db, username, enabled, by=by)
            done = f"{user.name} may sign in again." if enabled else f"{user.name} is disabled and signed out."
    except users.UserError as e:
        return _said(ui.sentence(e)), dash.no_update, "", ""
    return _said(done, "success"), f"{user.username} {user.changed_at}", "", ""


def _said(message: str, colour: str = "warning") -> dbc.Alert:
    return dbc.Alert(message, color=colour, className="py-2 mb-0")
