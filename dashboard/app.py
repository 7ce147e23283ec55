"""The Dash application: navigation, the day being reviewed, and the pages of docs/dashboard.md.

Data flows one way: warehouse -> `ClinicData` (analytics built once per day, kept warm) -> a page's
callback (filter, shape), reading within the signed-in user's scope (dashboard.rights) ->
`presentation.figures` (pure plotly builders, shared with the reports) -> the browser. Callbacks stay
thin; nothing here opens the warehouse directly. Every request but the sign-in page's passes the
checks of dashboard.security first.
"""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Dash, Input, Output, dcc, html
from flask import send_file
from flask_wtf.csrf import generate_csrf

from analytics.today import Today
from dashboard import clinic_data, exports, rights, security, timing, uploads
from dashboard.clinic_data import ClinicData
from dashboard.security import SecurityOptions
from etl import records
from etl.settings import Settings
from presentation.formats import day as format_day
from presentation.formats import parse_day

ASSETS = Path(__file__).parent / "assets"
BOOTSTRAP_URL = "/vendor/bootstrap.min.css"


def _bootstrap_css() -> Path:
    """Bootstrap 5's stylesheet as shipped by the Bootstrap-Flask package: served by the app itself,
    never from a CDN (clinics often block the internet). Found without importing the package."""
    spec = importlib.util.find_spec("flask_bootstrap")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("bootstrap-flask is not installed: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "static" / "bootstrap5" / "css" / "bootstrap.min.css"


# The pages of the top bar, and the right each needs: a user sees the links to what they may open.
NAVIGATION = [("Caseload", "/", "caseload"), ("Cohorts", "/cohorts", "cohorts"), ("Import", "/import", "import"),
              ("Users", "/users", "users"), ("Audit", "/audit", "audit")]  # fmt: skip


def _signed_in_as(viewer) -> html.Div:
    """Who is signed in (name and role), and a sign-out button: a form that posts with its CSRF token."""
    return html.Div(
        [
            html.Span([html.Span(viewer.name, className="who-name"), html.Span(viewer.role, className="who-role")],
                      className="who", id="signed-in-as", title=f"Signed in as {viewer.username}"),
            html.Form(
                [
                    dcc.Input(type="hidden", name="csrf_token", value=generate_csrf(), id="signout-csrf"),
                    html.Button("Sign out", type="submit", className="btn btn-outline-secondary btn-sm", id="signout"),
                ],
                method="POST",
                action=security.LOGOUT,
                className="signout",
            ),
        ],
        className="signed-in",
    )  # fmt: skip


def _navigation(viewer) -> html.Header:
    clinic = clinic_data.clinic()
    has_data = clinic.has_data()
    today = clinic.default_today() if has_data else None
    links = [(label, href) for label, href, right in NAVIGATION if viewer.may(right)]
    return html.Header(
        [
            dcc.Link([html.Span("hipline", className="brand-name")], href="/", className="brand"),
            html.Nav(
                [dbc.NavLink(label, href=href, active="exact" if href == "/" else "partial") for label, href in links],
                className="nav nav-pills main-nav",
            ),
            html.Div(
                [
                    html.Label("Numbers for", htmlFor="today", className="today-label"),
                    dcc.DatePickerSingle(
                        id="today",
                        date=today.isoformat() if today else None,
                        max_date_allowed=today.isoformat() if today else None,
                        display_format="D MMM YYYY",
                        first_day_of_week=1,
                        disabled=not has_data,
                        persistence=True,
                        persistence_type="session",
                    ),
                    html.Span(today_note(today), id="today-note", className="today-note badge text-bg-warning"),
                ],
                className="today",
                title="The day the numbers are computed for: pick an earlier day to review the caseload as it was.",
            ),
            _signed_in_as(viewer),
        ],
        className="topbar",
    )


@dash.callback(Output("ping", "children"), Input("ping", "n_clicks"), prevent_initial_call=True)
@rights.requires(rights.NEEDS_NO_RIGHT)
def _ping(_clicks) -> str:
    """An empty callback: benchmarks/bench_pages.py times it as the floor of any callback (HTTP,
    Dash's dispatch, JSON), against which the pages' callbacks are compared."""
    return ""


def today_note(day: date | None) -> str:
    """Said plainly beside the day when the pages' numbers are not for the current date (docs/metrics.md), so
    nobody mistakes them for the current picture: a past day picked, or a warehouse pinned to one."""
    current = date.today()
    return "" if day is None or day == current else f"{format_day(day)} is not today ({format_day(current)})"


@dash.callback(Output("today-note", "children"), Input("today", "date"))
@rights.requires(rights.NEEDS_NO_RIGHT)
def _today_note(picked: str | None) -> str:
    return today_note(parse_day(picked))


def _shell() -> html.Div:
    viewer = security.viewer()
    return html.Div(
        [
            dcc.Location(id="nav", refresh="callback-nav"),
            html.Div(id="ping", hidden=True),
            # Dash renders the shell once before any request is let through, to check it: nobody is
            # signed in then, and it needs no navigation.
            _navigation(viewer) if viewer is not None else None,
            html.Main(dash.page_container, className="page"),
        ]
    )


def create_app(db: Path, today: Today = None, settings: Settings | None = None) -> Dash:
    """The app on the warehouse at `db`. `today` is the day the pages open on (analytics.today: a date,
    NEWEST, or None: the current date). `settings` are the ones the command read at its start (None:
    the defaults); the pages reach them through `clinic_data.clinic().settings`, and never read the
    environment themselves. Every page needs a signed-in user (dashboard.security); the settings say
    how they are kept."""
    settings = settings or Settings()
    # The records (users, audit, decisions, reviews) are in the clinic network's PostgreSQL when the settings
    # name one; a database that lacks migrations is refused here, before any request (etl.records).
    records.attach(Path(db), settings.database_url)
    records.check(Path(db))
    clinic_data.use(ClinicData(Path(db), today, settings))
    dash._pages.PAGE_REGISTRY.clear()  # one app per process; tests create several
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        external_stylesheets=[BOOTSTRAP_URL],
        title="hipline",
        update_title=None,
        serve_locally=True,
        suppress_callback_exceptions=True,
        # The caseload's zip of progress reports runs as a background callback, in its own process; its
        # state is in a folder every worker process of this warehouse shares (dashboard.exports), or in a
        # clinic network's Redis, which every host shares (dashboard.shared_jobs).
        background_callback_manager=exports.background_manager(Path(db), settings.redis_url),
        # Callbacks are reached only through /_dash-update-component, where each one's right is checked
        # (dashboard.rights): never through Dash's MCP server or websockets, whatever the environment says.
        enable_mcp=False,
        websocket_callbacks=False,
    )
    timing.install(app.server)
    bootstrap = _bootstrap_css()
    app.server.add_url_rule(
        BOOTSTRAP_URL, "bootstrap_css", lambda: send_file(bootstrap, mimetype="text/css", max_age=86400)
    )
    from dashboard.pages import audit, caseload, client, cohorts, import_files, users

    for page in (caseload, client, cohorts, import_files, users, audit):
        page.register()
    app.layout = _shell
    uploads.register(app.server)
    security.install(app, Path(db), SecurityOptions.from_settings(settings))
    app.server.before_request(rights.check_callbacks(app))  # after the session and CSRF checks
    return app
