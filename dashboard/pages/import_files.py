"""Import (`/import`): upload files, see what the load did with each, browse the quarantine (docs/dashboard.md).

Admins only (docs/security.md#roles-and-what-each-may-do). An upload is first checked in the browser and again on
the server: at most HIPLINE_MAX_UPLOAD_MB in all, and only the kinds of file hipline reads; anything
else is refused with a message before any loading. It is then loaded exactly as `hipline load` loads a
folder: each file keeps its own name (so loading a corrected version replaces the earlier one, and
loading the same bytes again changes nothing), and the warehouse is swapped in whole.

The load runs in a process of its own (dashboard/load_jobs.py, etl/load_job.py): the request that
starts it returns at once, the page follows its progress, and every other request keeps being
answered meanwhile; the pages see the new data on their next request (ClinicData notices the new
file). A file that would replace an earlier version is named first, with its rows before and after,
and loads only when the admin says so. Each load in the history can be undone from here (etl/history.py).

The report answers docs/input-formats.md "Bad input": for each file, rows read = rows loaded + rows quarantined,
and every quarantined row with the reason a person can act on. An empty warehouse is not an error:
the page says which files to upload and which columns each needs.
"""

from __future__ import annotations

import json

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import ALL, Input, Output, Patch, State, callback, clientside_callback, dcc, html

from dashboard import components as ui
from dashboard import load_jobs, rights, security, uploads
from dashboard.clinic_data import clinic
from dashboard.uploads import UPLOAD_URL
from etl.columns import RECORD_KINDS, RecordKind
from etl.history import LoadEntry, history
from etl.load import FilePreview, FileReport, LoadReport
from etl.load_job import ROWS_SHOWN, read_json
from etl.sniff import EXTENSIONS
from etl.summary import WarehouseSummary

LOADS_SHOWN = 50  # the newest loads on the page; `hipline history` lists them all
# What the callbacks of an upload, a load or an undo change: the report's place, the job the poll
# follows, and whether the poll runs.
JOB_SHOWN = (
    Output("upload-report", "children", allow_duplicate=True),
    Output("upload-job", "data", allow_duplicate=True),
    Output("upload-poll", "disabled", allow_duplicate=True),
)
JOB_POLL_MS = 500  # how long the page waits after an answer before it asks again how far a load has got
QUARANTINE_SHOWN = 10_000  # rows in the quarantine grid; `hipline quarantine` lists any number
GRID_ROWS_WHOLE = 25  # a quarantine this short is shown whole, a longer one scrolls inside the grid

VIEW_LABELS = {
    "clients": "Clients",
    "session_log": "Session-log rows",
    "measures": "Outcome measures",
    "cohorts": "Cohorts",
    "staff": "Staff",
    "quarantine": "Quarantined rows",
}
FORMATS = "CSV or text (comma, semicolon, tab or pipe), Excel .xlsx, JSON Lines, Parquet"

QUARANTINE_COLUMNS = [
    {"field": "file", "headerName": "File", "minWidth": 260, "filter": "agTextColumnFilter"},
    {"field": "row", "headerName": "Row", "width": 80, "type": "numericColumn", "filter": False},
    {"field": "kind", "headerName": "Kind", "width": 150, "filter": "agTextColumnFilter"},
    {"field": "reason", "headerName": "Reason", "flex": 1, "minWidth": 320, "filter": "agTextColumnFilter",
     "wrapText": True, "autoHeight": True, "cellStyle": {"lineHeight": "20px", "paddingTop": "8px",
                                                         "paddingBottom": "8px"}},
]  # fmt: skip


def register() -> None:
    dash.register_page(__name__, path="/import", name="Import", title="Import · hipline", layout=layout)


def layout(**_query) -> html.Div:
    if not rights.current().may("import"):
        return rights.refused_page("import", "the import page", "importing files")
    return html.Div(
        [
            dcc.Store(id="upload-received"),  # dashboard/assets/upload.js: the server's answer to an upload
            dcc.Store(id="upload-job"),
            # Polls a running load or undo, one question at a time (see follow_job); off while none runs.
            dcc.Interval(id="upload-poll", interval=JOB_POLL_MS, disabled=True),
            ui.page_head("Import", "Upload your clinic's files; every row is loaded or quarantined with a reason."),
            html.Div([_upload_box(),
                      html.Div(id="upload-refusal", className="upload-refusal", role="alert"),
                      html.Div(id="upload-report")],
                     className="upload-area"),
            html.Div(_contents(), id="import-contents"),
        ],
        className="import",
    )  # fmt: skip


def _upload_box() -> html.Label:
    """A drop zone; dashboard/assets/upload.js puts a file input in it (Dash has no component for one
    that does not read the files into the page), checks the files chosen or dropped, and posts them to
    dashboard/uploads.py. No `accept` on the input: the chooser would hide a file of another kind without
    a word; the check says which file and why."""
    limit = security.max_upload_mb()
    return html.Label(
        [
            html.Div(["Drag and drop files here, or ", html.Span("choose files", className="upload-link")],
                     className="upload-prompt"),
            html.Div(f"{FORMATS}. Several files at once are fine, up to {limit} MB in all.",
                     className="upload-formats"),
        ],
        id="upload",
        className="upload-box",
        **{"data-url": UPLOAD_URL, "data-max-mb": limit, "data-extensions": " ".join(sorted(EXTENSIONS))},
    )  # fmt: skip


def _contents() -> html.Div:
    """Below the upload box: what the warehouse holds, and, until it holds clients, what to upload."""
    if not clinic().db.exists():
        return _what_to_upload()
    summary = clinic().summary(QUARANTINE_SHOWN)
    if not summary.counts["clients"]:  # the staff list, or files that could not be read, so far
        return html.Div([_what_to_upload(), _browse(summary)])
    return _browse(summary)


@callback(
    *JOB_SHOWN,
    Input("upload-received", "data"),
    prevent_initial_call=True,
)
@rights.requires("import")
def show_upload(received: dict | None):
    """The server's answer to an upload (dashboard/uploads.py): a refusal, the question whether to replace
    an earlier version, or the progress of the load it started."""
    if not received:
        return (dash.no_update,) * 3
    if "refusal" in received:
        return ui.alert(received["refusal"], "danger", id="upload-error"), None, True
    folder = load_jobs.find_job(clinic().db, received.get("job"), rights.current().username)
    if folder is None:
        return _gone(), None, True
    job = {"job": received["job"], "action": "load", "confirm": bool(received.get("confirm"))}
    if job["confirm"]:
        replacing = [FilePreview(**p) for p in (read_json(folder.path / uploads.PREVIEW) or {}).get("replacing", [])]
        return _confirm_replacing(replacing), job, True
    return _progress(None), job, False


@callback(
    *JOB_SHOWN,
    Input("job-go", "n_clicks"),
    State("upload-job", "data"),
    prevent_initial_call=True,
)
@rights.requires("import")
def go_ahead(go: int | None, job: dict | None):
    """Yes to "load and replace?" or "undo this load?": start it."""
    if not go or not job or not job.get("confirm"):
        return (dash.no_update,) * 3
    if job["action"] == "undo":
        job_id, folder = load_jobs.new_job(clinic().db, rights.current().username)
        uploads.start(folder, "undo", job["load"])
        return _progress(None), {"job": job_id, "action": "undo", "load": job["load"]}, False
    folder = load_jobs.find_job(clinic().db, job.get("job"), rights.current().username)
    if folder is None:
        return _gone(), None, True
    uploads.start(folder, "load")
    return _progress(None), {**job, "confirm": False}, False


@callback(
    Output("upload-report", "children", allow_duplicate=True),
    Output("upload-job", "data", allow_duplicate=True),
    Input("job-cancel", "n_clicks"),
    State("upload-job", "data"),
    prevent_initial_call=True,
)
@rights.requires("import")
def cancel(clicked: int | None, job: dict | None):
    """No: the uploaded files are deleted unread; nothing changes."""
    if not clicked or not job or not job.get("confirm"):
        return (dash.no_update,) * 2
    folder = load_jobs.find_job(clinic().db, job.get("job"), rights.current().username)
    if folder is not None:
        folder.remove()
    return ui.alert("Nothing was changed.", "secondary", id="job-cancelled"), None


@callback(
    *JOB_SHOWN,
    Input({"type": "undo-load", "load": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
@rights.requires("import")
def ask_to_undo(clicks: list[int | None]):
    """An Undo button of the history: say what undoing that load would take out and put back, and ask."""
    if not any(clicks) or not isinstance(dash.ctx.triggered_id, dict):
        return (dash.no_update,) * 3
    number = int(dash.ctx.triggered_id["load"])
    entry = next((e for e in history(clinic().db) if e.load == number), None)
    if entry is None:
        return ui.alert(f"There is no load {number}.", "danger", id="upload-error"), None, True
    return _confirm_undo(entry), {"job": None, "action": "undo", "load": number, "confirm": True}, True


# The poll stops at each tick, in the browser, and its answer starts it again. Dash drops the answer of a
# callback that is asked again before it has answered: with a tick every half second regardless, a server
# slower than that (a big load keeps it busy) had every answer dropped and the page never showed the result.
clientside_callback(
    "(tick) => tick",  # no more ticks than this one (dcc.Interval stops at max_intervals)
    Output("upload-poll", "max_intervals", allow_duplicate=True),
    Input("upload-poll", "n_intervals"),
    prevent_initial_call=True,
)


@callback(
    Output("upload-report", "children", allow_duplicate=True),
    Output("import-contents", "children"),
    Output("today", "date", allow_duplicate=True),
    Output("today", "max_date_allowed", allow_duplicate=True),
    Output("today", "disabled", allow_duplicate=True),
    Output("upload-job", "data", allow_duplicate=True),
    Output("upload-poll", "disabled", allow_duplicate=True),
    Output("upload-poll", "max_intervals", allow_duplicate=True),
    Input("upload-poll", "n_intervals"),
    State("upload-job", "data"),
    prevent_initial_call=True,
)
@rights.requires("import")
def follow_job(_tick, job: dict | None):
    """How far the running load or undo has got; at its end, its report and what the warehouse holds now.
    Every answer lets the poll tick again (max_intervals -1: no limit); `disabled` says whether it does."""
    unchanged = (dash.no_update,) * 5
    folder = load_jobs.find_job(clinic().db, (job or {}).get("job"), rights.current().username)
    if folder is None:
        return (dash.no_update, *unchanged, True, -1)
    state = load_jobs.state(folder)
    if not state.finished:
        return (_progress(state), *unchanged, False, -1)
    result, first = load_jobs.take_result(folder)
    if result is None:  # its folder went meanwhile (shown minutes ago): nothing more to show
        return (dash.no_update, *unchanged, True, -1)
    shown = _finished(job, result, audit=first)
    day = clinic().default_today().isoformat() if clinic().has_data() else None
    return shown, _contents(), day, day, day is None, None, True, -1


def _finished(job: dict, result: dict, audit: bool):
    """The report of a finished job; `audit`: recorded in the audit trail too, in the name of the user who
    started it (by the first request that shows it: a page may ask twice)."""

    def record(what: str, outcome: str = "done") -> None:
        if audit:
            rights.record("import", what, outcome=outcome)

    if not result.get("ok"):
        what = "undo of load {}".format(job.get("load")) if job.get("action") == "undo" else "upload"
        record(f"{what} failed: {result.get('error')}", outcome="failed")
        return ui.alert(f"The {what} could not be done: {result.get('error')}", "danger", id="upload-error")
    if "undo" in result:
        undone = result["undo"]
        words = _undo_words(undone)
        record(words)
        return html.Div(ui.alert(words[:1].upper() + words[1:] + ".", "success", id="undo-result"),
                        className="upload-result", id="upload-result")  # fmt: skip
    report = result["report"]
    loaded = LoadReport(report["warehouse"], [FileReport(**f) for f in report["files"]], report["seconds"],
                        report.get("load"))  # fmt: skip
    record(loaded.in_words())
    return _report(loaded, [tuple(row) for row in result.get("quarantined", [])])


def _undo_words(undone: dict) -> str:
    """'load 14 undid load 12: took out sessions.csv (4 rows), put back sessions.csv (32,767 rows)'"""
    changes = [f"took out {f['file']} ({f['rows_read']:,} rows)" for f in undone["taken_out"]]
    changes += [f"put back {f['file']} ({f['rows_read']:,} rows)" for f in undone["put_back"]]
    return f"load {undone['load']} undid load {undone['undid']}: " + ("; ".join(changes) or "nothing to change")


def _gone():
    return ui.alert("The upload is no longer there: upload it again.", "danger", id="upload-error")


def _progress(state: load_jobs.JobState | None) -> html.Div:
    """A progress bar with what the load is doing now."""
    if state is None or state.state == "waiting":
        words, fraction = "Waiting for the load to start (another load may be running)…", 0.0
    else:
        fraction = state.fraction
        doing = f"Loading {state.file}" if state.file else "Checking the files"
        words = f"{doing}… {fraction:.0%} of the bytes read"
    return html.Div(
        [
            html.Div(words, className="job-words", id="job-words"),
            dbc.Progress(value=round(fraction * 100), striped=True, animated=True, className="job-bar"),
            html.Div("Other pages keep working while this runs.", className="hint"),
        ],
        className="job-progress",
        id="job-progress",
    )


def _confirm_replacing(replacing: list[FilePreview]) -> html.Div:
    rows = [
        html.Tr([html.Td(p.file, className="file-name"), html.Td(f"load {p.earlier_load}" if p.earlier_load else "–"),
                 html.Td(f"{p.rows_before[0]:,}", className="num"), html.Td(f"{p.rows_after:,}", className="num")])
        for p in replacing
    ]  # fmt: skip
    head = html.Tr([html.Th("File"), html.Th("Earlier version"), html.Th("Rows before", className="num"),
                    html.Th("Rows after", className="num")])  # fmt: skip
    many = len(replacing) != 1
    return _confirmation(
        f"{'These files replace' if many else 'This file replaces'} an earlier version: its rows are taken out and "
        "the new file's rows are loaded instead. The earlier version is kept, and undoing this load from the "
        "history puts it back.",
        html.Table([html.Thead(head), html.Tbody(rows)], className="data-table", id="replace-files"),
        "Load and replace",
    )


def _confirm_undo(entry: LoadEntry) -> html.Div:
    files = html.Ul([html.Li(f.in_words()) for f in entry.files], className="undo-files")
    return _confirmation(
        f"Undo load {entry.load} ({entry.what()}, {entry.started:%-d %b %Y %H:%M}): the warehouse goes back to what "
        "it held before it, for these files. The undo is itself a load in the history, and can be undone.",
        files,
        f"Undo load {entry.load}",
    )


def _confirmation(question: str, details, action: str) -> html.Div:
    return html.Div(
        [
            html.P(question, className="confirm-question"),
            details,
            html.Div(
                [
                    html.Button(action, id="job-go", className="btn btn-primary"),
                    html.Button("Cancel", id="job-cancel", className="btn btn-outline-secondary"),
                ],
                className="confirm-actions",
            ),
        ],
        className="job-confirm",
        id="job-confirm",
    )


@callback(Output("quarantine", "dashGridOptions"), Input("quarantine-search", "value"), prevent_initial_call=True)
@rights.requires("import")
def search_quarantine(text: str | None):
    options = Patch()
    options["quickFilterText"] = text or ""
    return options


# -- the report of one upload ------------------------------------------------------------------


def _report(report: LoadReport, quarantined: list[tuple]) -> html.Div:
    files = report.files
    failed = sum(1 for f in files if f.error)
    rows_quarantined = sum(f.rows_quarantined for f in files if not f.error)
    tone = "danger" if failed else "warning" if rows_quarantined else "success"
    return html.Div(
        [
            html.Div(_headline(report), className=f"upload-headline upload-headline--{tone}", id="upload-headline"),
            _file_table(files),
            _quarantined_in_upload(files, quarantined) if rows_quarantined else None,
        ],
        className="upload-result",
        id="upload-result",
    )


def _headline(report: LoadReport) -> str:
    """'2 files in 1.2 s: 1 loaded, 1 could not be read. 40 rows read = 38 loaded + 2 quarantined.'"""
    by_status: dict[str, int] = {}
    for f in report.files:
        by_status[f.status] = by_status.get(f.status, 0) + 1
    words = {"loaded": "loaded", "replaced": "replaced an earlier version", "unchanged": "already loaded",
             "error": "could not be read"}  # fmt: skip
    count = len(report.files)
    headline = f"{count} file{'s' if count != 1 else ''} in {report.seconds:.1f} s: "
    headline += ", ".join(f"{n} {words.get(status, status)}" for status, n in by_status.items()) + "."
    read_now = [f for f in report.files if f.status in ("loaded", "replaced")]
    if read_now:
        rows = [sum(getattr(f, field) for f in read_now) for field in ("rows_read", "rows_loaded", "rows_quarantined")]
        headline += " {:,} rows read = {:,} loaded + {:,} quarantined.".format(*rows)
    return headline


def _note(f: FileReport) -> str:
    note = f.error or f.note or ""
    if f.ignored_columns:
        note = (note + "; " if note else "") + "ignored columns: " + ", ".join(f.ignored_columns)
    return note


def _file_table(files: list[FileReport]) -> html.Table:
    header = html.Tr(
        [html.Th("File"), html.Th("Kind"), html.Th("Status"), html.Th("Rows read", className="num"),
         html.Th("= loaded", className="num"), html.Th("+ quarantined", className="num"), html.Th("Note")]
    )  # fmt: skip
    rows = [
        html.Tr(
            [
                html.Td(f.file, className="file-name"),
                html.Td((f.kind or "–").replace("_", " "), className="kind"),
                html.Td(html.Span(f.status, className=f"status status-{f.status}")),
                html.Td(f"{f.rows_read:,}", className="num"),
                html.Td(f"{f.rows_loaded:,}", className="num"),
                html.Td(f"{f.rows_quarantined:,}", className="num" + (" quarantined" if f.rows_quarantined else "")),
                html.Td(_note(f), className="error" if f.error else None),
            ],
            className="file-error" if f.error else None,
        )
        for f in files
    ]
    return html.Table([html.Thead(header), html.Tbody(rows)], className="data-table upload-files", id="upload-files")


def _quarantined_in_upload(files: list[FileReport], quarantined: list[tuple]) -> html.Div:
    more = [
        f"{f.file}: the first {ROWS_SHOWN:,} of {f.rows_quarantined:,} rows are shown"
        for f in files
        if not f.error and f.rows_quarantined > ROWS_SHOWN
    ]
    header = html.Tr([html.Th("File"), html.Th("Row", className="num"), html.Th("Kind"), html.Th("Reason"),
                      html.Th("The row as it was in the file")])  # fmt: skip
    rows = [
        html.Tr(
            [
                html.Td(file, className="file-name"),
                html.Td("" if row is None else f"{row:,}", className="num"),
                html.Td(kind.replace("_", " "), className="kind"),
                html.Td(reason, className="reason"),
                html.Td(raw_row_text(raw), className="raw"),
            ]
        )
        for file, row, kind, reason, raw in quarantined
    ]
    return html.Div(
        [
            html.H3("Quarantined rows of these files"),
            html.P("Fix them in the source file and upload it again: the corrected file replaces this version.",
                   className="hint"),
            html.P("; ".join(more) + " (the quarantine below lists them all).", className="hint") if more else None,
            html.Table([html.Thead(header), html.Tbody(rows)], className="data-table", id="upload-quarantine"),
        ],
        className="upload-quarantine",
    )  # fmt: skip


def raw_row_text(raw: str | None) -> str:
    """A quarantined row as the file had it: `column=value` pairs (empty cells left out), or the line
    itself when it could not be split into columns."""
    if not raw:
        return ""
    try:
        values = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(values, dict):
        return raw
    return " · ".join(
        f"{column}={value if isinstance(value, str) else json.dumps(value)}"
        for column, value in values.items()
        if value is not None
    )


# -- what the warehouse holds ------------------------------------------------------------------


def _browse(summary: WarehouseSummary) -> html.Div:
    return html.Div(
        [
            _counts(summary.counts),
            ui.section("Loads", html.Div(_loads_table(history(clinic().db, LOADS_SHOWN)), className="scroll-box"),
                       id="loads-section"),
            ui.section("Load history", html.Div(_history_table(summary.load_history), className="scroll-box"),
                       id="history-section"),
            ui.section("Quarantine", *_quarantine_grid(summary), id="quarantine-section",
                       actions=html.Div(dcc.Input(id="quarantine-search", type="search", debounce=0.3,
                                                  placeholder="Search the quarantine",
                                                  className="form-control control-wide"))),
        ]
    )  # fmt: skip


def _counts(counts: dict[str, int]) -> html.Div:
    return html.Div(
        [
            html.Div(
                [html.Div(f"{counts[view]:,}", className="count-value"), html.Div(label, className="count-label")],
                className="count-card" + (" count-card--warn" if view == "quarantine" and counts[view] else ""),
                id=f"count-{view}",
            )
            for view, label in VIEW_LABELS.items()
        ],
        className="counts",
    )


def _loads_table(loads: list[LoadEntry]) -> html.Table:
    """Each load and undo, newest first, with who ran it; a load that stands can be undone from here."""
    header = html.Tr([html.Th("Load", className="num"), html.Th("What"), html.Th("By"), html.Th("Finished"),
                      html.Th("Files"), html.Th("")])  # fmt: skip
    rows = [
        html.Tr(
            [
                html.Td("–" if entry.load is None else str(entry.load), className="num"),
                html.Td(entry.what()),
                html.Td(entry.loaded_by or "–"),
                html.Td("–" if entry.finished is None else f"{entry.finished:%-d %b %Y %H:%M}", className="finished"),
                html.Td(", ".join(f.file for f in entry.files) or "–", className="file-name"),
                html.Td(
                    html.Button("Undo", id={"type": "undo-load", "load": entry.load},
                                className="btn btn-sm btn-outline-secondary")
                    if entry.load is not None and entry.undone_by is None and entry.files else None,
                    className="undo-cell"
                ),
            ]
        )
        for entry in loads
    ]  # fmt: skip
    return html.Table([html.Thead(header), html.Tbody(rows)], className="data-table", id="loads")


def _history_table(files: pd.DataFrame) -> html.Table:
    header = html.Tr(
        [html.Th("File"), html.Th("Kind"), html.Th("Status"), html.Th("Read", className="num"),
         html.Th("Loaded", className="num"), html.Th("Quarantined", className="num"), html.Th("Note"),
         html.Th("Finished")]
    )  # fmt: skip
    rows = [
        html.Tr(
            [
                html.Td(row.file, className="file-name"),
                html.Td("–" if ui.missing(row.kind) else row.kind.replace("_", " "), className="kind"),
                html.Td(html.Span(row.status, className=f"status status-{row.status}")),
                html.Td(f"{row.rows_read:,}", className="num"),
                html.Td(f"{row.rows_loaded:,}", className="num"),
                html.Td(f"{row.rows_quarantined:,}", className="num"),
                html.Td(row.note, className="error" if row.status == "error" else None),
                html.Td(
                    "–" if ui.missing(row.finished) else pd.Timestamp(row.finished).strftime("%-d %b %Y %H:%M"),
                    className="finished",
                ),
            ]
        )
        for row in files.itertuples(index=False)
    ]
    return html.Table([html.Thead(header), html.Tbody(rows)], className="data-table", id="load-history")


def _quarantine_grid(summary: WarehouseSummary) -> list:
    quarantine = summary.quarantine
    total = summary.counts["quarantine"]
    if total > len(quarantine):
        shown = (
            f"Showing the first {len(quarantine):,} of {total:,} quarantined rows (hipline quarantine lists them all)."
        )
    else:
        shown = f"{total:,} quarantined row{'s' if total != 1 else ''}. Filter by file, kind or reason in the headers."
    shaped = quarantine.assign(kind=quarantine["kind"].str.replace("_", " "))
    rows = shaped.astype(object).where(shaped.notna(), None).to_dict("records")
    return [
        html.Div(shown, className="count-line", id="quarantine-count"),
        ui.grid(
            "quarantine",
            QUARANTINE_COLUMNS,
            "Nothing quarantined: every row read was loaded.",
            rows=rows,
            defaults={"floatingFilter": True},
            # A long quarantine scrolls inside the grid, which then draws only the rows in view.
            height=None if len(rows) <= GRID_ROWS_WHOLE else "600px",
            className="quarantine-grid",
        ),
    ]


# -- before the first load ---------------------------------------------------------------------


def _what_to_upload() -> html.Div:
    """The input contract (docs/input-formats.md) as `hipline columns` prints it: each kind with its columns."""
    return html.Div(
        [
            html.H2("Nothing loaded yet: upload your clinic's files"),
            html.P(
                [
                    "Upload the roster (staff, cohorts, clients) with or before the session logs and measures: rows "
                    "that name a client who is not in the roster are quarantined. Which kind of record a file holds "
                    "is told by its columns; names are case-insensitive and the aliases below are accepted too. "
                    f"Formats: {FORMATS} (file names ending in {', '.join(sorted(EXTENSIONS))}).",
                ]
            ),
            html.P(
                [
                    "To try it with a demo clinic, write its files with ",
                    html.Code("hipline generate --out demo-files"),
                    " and upload them all here.",
                ]
            ),
            html.Div([_kind_card(record) for record in RECORD_KINDS.values()], className="kind-cards"),
        ],
        className="empty-state what-to-upload",
        id="what-to-upload",
    )


def _kind_card(record: RecordKind) -> html.Div:
    rows = [
        html.Tr(
            [
                html.Td(html.Code(column.name)),
                html.Td("required" if column.required else "optional",
                        className="required" if column.required else "optional"),
                html.Td(", ".join(column.aliases), className="aliases"),
            ]
        )
        for column in record.columns
    ]  # fmt: skip
    return html.Div(
        [
            html.H3([html.Span(record.kind.replace("_", " "), className="kind-name"), f" — {record.description}"]),
            html.Table(
                [
                    html.Thead(html.Tr([html.Th("Column"), html.Th("Required"), html.Th("Also accepted")])),
                    html.Tbody(rows),
                ],
                className="data-table",
            ),
        ],
        className="kind-card",
        id=f"kind-{record.kind}",
    )
