"""The export controls of the client, cohort and caseload pages (docs/reports.md), and what their
callbacks share: file names, the download, a readable alert instead of a traceback, and the
background-callback manager the caseload's zip of progress reports runs under.

The reports themselves are made by `reports/` (imported when first asked for: WeasyPrint and the
report modules take about a second to import, which the pages' start-up should not pay).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html

from dashboard import components as ui
from dashboard import rights
from dashboard.timing import timed

log = logging.getLogger(__name__)

PAPER_ID = "export-paper"  # one id on every page: the paper chosen is remembered across pages
PAPERS = [{"label": "A4", "value": "a4"}, {"label": "Letter", "value": "letter"}]
STALE_SECONDS = 3600  # a zip left behind by a cancelled run is removed after an hour


def paper_select() -> html.Div:
    return html.Div(
        [
            html.Label("Paper", htmlFor=PAPER_ID, className="visually-hidden"),
            dbc.Select(
                id=PAPER_ID,
                options=PAPERS,
                value="a4",
                size="sm",
                persistence=True,
                persistence_type="local",
                className="export-paper",
            ),
        ],
        title="Paper size of the PDF reports",
    )


def button(label: str, id: str, *, primary: bool = False, title: str | None = None) -> dbc.Button:
    return dbc.Button(
        label, id=id, size="sm", color="primary" if primary else "secondary", outline=not primary, title=title
    )


def export_bar(prefix: str, pdf_label: str, pdf_title: str) -> html.Div:
    """'Export  [<pdf_label>] [A4 v]  [Numbers (XLSX)] [Numbers (CSV)]', their downloads and an alert.
    Ids: <prefix>-export-pdf, -export-xlsx, -export-csv, -report-download, -numbers-download,
    -export-alert."""
    return html.Div(
        [
            html.Span("Export", className="export-label"),
            html.Div(
                [button(pdf_label, f"{prefix}-export-pdf", primary=True, title=pdf_title), paper_select()],
                className="export-group",
            ),
            numbers_buttons(prefix),
            dcc.Download(id=f"{prefix}-report-download"),
            dcc.Download(id=f"{prefix}-numbers-download"),
        ],
        className="export-bar",
        id=f"{prefix}-export",
    )


def numbers_buttons(prefix: str) -> html.Div:
    title = "The numbers behind the charts and tables: one sheet (XLSX) or one file (CSV, zipped) per table"
    return html.Div(
        [
            button("Numbers (XLSX)", f"{prefix}-export-xlsx", title=title),
            button("Numbers (CSV)", f"{prefix}-export-csv", title=title),
        ],
        className="export-group",
    )


def alert_area(prefix: str) -> html.Div:
    return html.Div(id=f"{prefix}-export-alert", className="export-alert")


# --- what the callbacks share ----------------------------------------------------------------------


def report_callback(prefix: str, *page: State) -> dict:
    """`@callback(**report_callback(prefix, *page))`: the callback of the PDF button of `export_bar(prefix)`.
    It is given the click, the day reviewed, the page's `page` states (whose report) and the paper, and
    gives the download and the alert; the button is disabled while the report is made."""
    return {
        "output": [Output(f"{prefix}-report-download", "data"), Output(f"{prefix}-export-alert", "children")],
        "inputs": [Input(f"{prefix}-export-pdf", "n_clicks")],
        "state": [State("today", "date"), *page, State(PAPER_ID, "value")],
        "running": [(Output(f"{prefix}-export-pdf", "disabled"), True, False)],
        "prevent_initial_call": True,
    }


def numbers_callback(prefix: str, *page: State, with_report: bool = True) -> dict:
    """`@callback(**numbers_callback(prefix, *page))`: the callback of `numbers_buttons(prefix)`. It is given
    the clicks on XLSX and CSV, the day reviewed and the page's `page` states (whose numbers), and gives the
    download and the alert (which, `with_report`, the PDF button's callback gives too)."""
    return {
        "output": [
            Output(f"{prefix}-numbers-download", "data"),
            Output(f"{prefix}-export-alert", "children", allow_duplicate=with_report),
        ],
        "inputs": [Input(f"{prefix}-export-xlsx", "n_clicks"), Input(f"{prefix}-export-csv", "n_clicks")],
        "state": [State("today", "date"), *page],
        "prevent_initial_call": True,
    }


def file_name(kind: str, key: str, day: date, suffix: str) -> str:
    """'progress-report_C-00002_2026-10-30.pdf': what, whose, as of which day."""
    from reports.tables import file_name as safe

    return f"{kind}_{safe(key)}_{day.isoformat()}.{suffix}"


def report_download(
    today: str | None, what: str, kind: str, key: str, context_of: Callable, pdf_of: Callable,
    client_id: str | None = None,
):  # fmt: skip
    """A PDF report for a page's export button: `context_of(analytics)` reads its numbers, within the
    viewer's scope, while the day's analytics are held; `pdf_of(context)` lays it out after letting go of
    them (the other callbacks need them meanwhile; layout takes ~0.6 s). Returns (download, alert): a
    failure is said in words. The export is audited: what, of whom (`key`; `client_id` when a client's)."""
    try:
        with timed("query"), rights.reading(today) as analytics:
            context = context_of(analytics)
            day = analytics.today
        with timed("report"):
            document = pdf_of(context)
    except Exception as error:
        return dash.no_update, failed(error, what, key, client_id)
    rights.record("export", f"{what} (PDF) of {key} as of {day}", client_id=client_id)
    return dcc.send_bytes(document, file_name(kind, key, day, "pdf")), None


def numbers_download(today: str | None, key: str, tables_of: Callable, client_id: str | None = None):
    """The numbers behind a page, as a workbook or a zip of CSVs (whichever Numbers button was clicked):
    `tables_of(analytics)` reads them, within the viewer's scope. Returns (download, alert); audited."""
    fmt = triggered_format()
    if fmt is None:
        return dash.no_update, dash.no_update
    try:
        from reports.tables import export

        with timed("query"), rights.reading(today) as analytics:
            tables = tables_of(analytics)
            day = analytics.today
        with timed("report"):
            content = export(tables, fmt, key)
    except Exception as error:
        return dash.no_update, failed(error, "numbers", key, client_id)
    rights.record("export", f"numbers ({fmt.upper()}) of {key} as of {day}: {', '.join(tables)}", client_id=client_id)
    return dcc.send_bytes(content, file_name("numbers", key, day, "xlsx" if fmt == "xlsx" else "zip")), None


def failed(error: Exception, what: str, key: str, client_id: str | None = None) -> dbc.Alert:
    """A report that could not be made, in words, and audited: the reports' own message for what the
    viewer can change (an unknown client, a period that ends before it starts; a client outside the
    viewer's scope reads as unknown, and is audited as refused); otherwise a plain sentence, and the
    traceback goes to the server's log, never to the page."""
    try:
        from reports.client_report import NotFound, ReportError
    except ImportError:  # the reports cannot be made at all: said below, with the cause in the log
        NotFound = ReportError = ()

    if isinstance(error, NotFound):
        rights.refused("export", f"{what} of {key}: not in their scope or not in the warehouse", client_id=client_id)
        return cannot(what, str(error))
    if isinstance(error, ReportError):
        rights.record("export", f"{what} of {key}: {error}", client_id=client_id, outcome="failed")
        return cannot(what, str(error))
    log.error("the %s could not be made", what, exc_info=error)
    rights.record("export", f"{what} of {key}: {type(error).__name__}", client_id=client_id, outcome="failed")
    return went_wrong(what, type(error).__name__)


def cannot(what: str, reason: str) -> dbc.Alert:
    """'No progress report: there is no client 'C-99999' in the warehouse as of 2026-10-30.'"""
    reason = reason.strip().rstrip(".")
    return ui.alert(f"No {what}: {reason[:1].lower()}{reason[1:]}.", id="export-error")


def went_wrong(what: str, kind: str) -> dbc.Alert:
    return ui.alert(f"The {what} could not be made ({kind}); the server's log has the details.", "danger",
                    id="export-error")  # fmt: skip


def triggered_format() -> str | None:
    """'xlsx' or 'csv' from the id of the Numbers button that was clicked."""
    trigger = dash.ctx.triggered_id
    if not isinstance(trigger, str) or not (dash.ctx.triggered and dash.ctx.triggered[0]["value"]):
        return None
    return trigger.rsplit("-", 1)[-1] if trigger.endswith(("-xlsx", "-csv")) else None


# --- the background jobs (the caseload's zip of progress reports) ----------------------------------


def jobs_folder(db: Path) -> Path:
    """Where background jobs keep their state and their files: one folder per warehouse in the system's
    temporary folder, the same for every worker process serving it (gunicorn's workers share the
    jobs), never in the repository or beside the data. Made when first asked for."""
    folder = jobs_folder_path(db)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def jobs_folder_path(db: Path) -> Path:
    """The jobs folder of a warehouse, whether it exists or not."""
    key = hashlib.sha256(str(Path(db).resolve()).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"hipline-jobs-{os.getuid()}" / key


class OneJobPerStart:
    """For a background-callback manager: each start is a job of its own, under a fresh random key.
    Dash's own key is a hash of the callback and its arguments, so two users asking for the same caseload
    on the same day (a physio's "All clinicians" and an admin's) would share one job's result, and either
    could be handed the other's zip."""

    def build_cache_key(self, fn, args, cache_args_to_ignore, triggered) -> str:
        return secrets.token_hex(32)


class MachineJobs(OneJobPerStart, dash.DiskcacheManager):
    """The jobs' state in a folder of this machine, shared by its worker processes."""


def background_manager(db: Path, redis_url: str | None = None):
    """On one machine, the jobs' state in a folder of this machine (dash.DiskcacheManager); on a clinic
    network (`redis_url`), in its Redis, for every web host (dashboard.shared_jobs)."""
    if redis_url:
        from dashboard.shared_jobs import SharedJobs

        return SharedJobs(redis_url)
    import diskcache

    return MachineJobs(diskcache.Cache(str(jobs_folder(db) / "cache")))


def zip_path(db: Path, name: str) -> Path:
    """A fresh file for a zip being made; files that a cancelled (killed) run left behind go first."""
    folder = jobs_folder(db) / "zips"
    folder.mkdir(exist_ok=True)
    now = time.time()
    for old in folder.iterdir():
        try:
            if now - old.stat().st_mtime > STALE_SECONDS:
                old.unlink()
        except FileNotFoundError:
            pass
    return folder / f"{os.getpid()}-{time.time_ns()}-{name}"


def parent_gone() -> Callable[[], bool]:
    """For a job running in its own process: true once the server process that started it has ended,
    so an orphaned job stops instead of making reports nobody will fetch."""
    parent = os.getppid()
    return lambda: os.getppid() != parent
