"""The `hipline` command: generate demo data, load files, list and undo loads, look at the quarantine,
serve the dashboard, manage the users who may sign in and read the audit trail."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from datetime import date
from pathlib import Path

from etl.settings import NEWEST, Settings, parse_today

TODAY_WORDS = "the day the numbers are for: newest (the newest session's date) or YYYY-MM-DD"
TODAY_HELP = f"{TODAY_WORDS} (default: HIPLINE_TODAY, else the current date)"
DEMO_TODAY_HELP = f"{TODAY_WORDS} (default: HIPLINE_TODAY, else newest)"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from e


def _today(text: str) -> date | str | None:
    try:
        return parse_today(text, "--today")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def _parser(settings: Settings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hipline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write a realistic demo data set")
    generate.add_argument("--clients", type=int, default=300, help="number of clients (default 300)")
    generate.add_argument("--seed", type=int, default=7, help="random seed: the same seed gives the same files")
    generate.add_argument("--out", type=Path, required=True, help="folder to write the files into")
    generate.add_argument("--end", type=_date, help="date of the newest session (default 2026-10-30)")

    db_help = f"warehouse file (default {settings.db}, or HIPLINE_DB)"
    load = commands.add_parser("load", help="load files or folders into the warehouse")
    load.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files, or folders to search for data files")
    load.add_argument("--db", type=Path, default=settings.db, help=db_help)
    load.add_argument("--json", action="store_true", help="print a machine-readable report")
    load.add_argument(
        "--kind",
        choices=["staff", "cohorts", "clients", "session_log", "measures"],
        help="what the files hold, when their columns do not say",
    )
    load.add_argument(
        "--date-order",
        choices=["dmy", "mdy"],
        default=settings.date_order,
        help="how to read 03/04/2025: dmy = 3 April (default), mdy = 4 March",
    )
    load.add_argument("--today", type=_date, help="reject dates after this day (default: the current date)")
    as_help = "who the history records as loading (default: os:<your account>), e.g. your staff_id"
    load.add_argument("--as", dest="loaded_by", metavar="WHO", help=as_help)

    history = commands.add_parser("history", help="list the loads and undos, newest first (docs/warehouse.md)")
    history.add_argument("--db", type=Path, default=settings.db, help=db_help)
    history.add_argument("--json", action="store_true", help="print every load as JSON")
    history.add_argument("--limit", type=int, help="only the newest N loads")

    undo = commands.add_parser(
        "undo", help="put the warehouse back to what it held before a load, for that load's files (itself a load)"
    )
    undo.add_argument("load", type=int, metavar="LOAD", help="the load's number, as `hipline history` lists it")
    undo.add_argument("--db", type=Path, default=settings.db, help=db_help)
    undo.add_argument("--as", dest="loaded_by", metavar="WHO", help=as_help.replace("loading", "undoing"))
    undo.add_argument("--json", action="store_true", help="print a machine-readable report")

    quarantine = commands.add_parser("quarantine", help="list quarantined rows and why")
    quarantine.add_argument("--db", type=Path, default=settings.db, help=db_help)
    quarantine.add_argument("--file", help="only rows from this file")
    quarantine.add_argument("--limit", type=int, default=50)

    metrics = commands.add_parser("metrics", help="write adherence, pain, function and cohort numbers as CSV")
    metrics.add_argument("--db", type=Path, default=settings.db, help=db_help)
    metrics.add_argument("--today", type=_today, default=settings.today, help=TODAY_HELP)
    metrics.add_argument("--out", type=Path, required=True, help="folder to write the CSV files into")

    recommend = commands.add_parser("recommend", help="write the recommended next progressions as CSV")
    recommend.add_argument("--db", type=Path, default=settings.db, help=db_help)
    recommend.add_argument("--today", type=_today, default=settings.today, help=TODAY_HELP)
    recommend.add_argument("--out", type=Path, required=True, help="the CSV file to write")

    report = commands.add_parser(
        "report",
        help="progress reports: a client's, a cohort's or a whole caseload's, as PDF, or their numbers as CSV/XLSX",
    )
    report.add_argument("--db", type=Path, default=settings.db, help=db_help)
    about = report.add_mutually_exclusive_group(required=True)
    about.add_argument("--client", help="a client's progress report (client_id)")
    about.add_argument("--cohort", help="a cohort's report for its instructor (cohort_id)")
    about.add_argument(
        "--caseload", metavar="STAFF_ID", help="every active client of a clinician ('all': everyone's): a zip of PDFs"
    )
    report.add_argument(
        "--out", type=Path, required=True, help="the file to write (.pdf; .zip for a caseload or CSV; .xlsx)"
    )
    report.add_argument(
        "--format",
        choices=["pdf", "csv", "xlsx"],
        default="pdf",
        help="pdf (default), or the numbers behind every chart and table: csv (a zip, or a folder) or xlsx",
    )
    report.add_argument("--today", type=_today, default=settings.today, help=TODAY_HELP)
    report.add_argument(
        "--from", dest="start", type=_date, help="start of the period shown (default: the episode's start)"
    )
    report.add_argument("--to", dest="end", type=_date, help="end of the period shown (default: --today)")
    report.add_argument("--paper", choices=["a4", "letter"], default="a4", help="paper size (default a4)")
    report.add_argument(
        "--workers", type=int, default=2, help="processes laying out a caseload's PDFs (default 2; 1: none)"
    )

    columns = commands.add_parser("columns", help="the columns each kind of file may have, and their aliases")
    columns.add_argument("--markdown", action="store_true", help="print a Markdown table")

    _user_parser(commands, db_help, settings)

    audit = commands.add_parser("audit", help="export the audit trail (who did what, when, to whom) as CSV")
    audit.add_argument("--db", type=Path, default=settings.db, help=db_help)
    audit.add_argument("--since", type=_date, help="from this day on (UTC)")
    audit.add_argument("--user", help="a username or staff_id")
    audit.add_argument("--client", help="a client_id")
    audit.add_argument("--action", help="one action (sign_in, export, decision, ...), or 'refused'")
    audit.add_argument("--out", type=Path, required=True, help="the CSV file to write ('-': standard output)")

    database = commands.add_parser(
        "db", help="a clinic network's PostgreSQL (HIPLINE_DATABASE_URL, docs/deployment.md)"
    )
    steps = database.add_subparsers(dest="action", required=True)
    steps.add_parser("upgrade", help="apply the schema migrations the database lacks, in order")
    steps.add_parser("status", help="the migrations applied and those missing")

    cluster = commands.add_parser(
        "cluster-demo",
        help="a clinic network on this machine: PostgreSQL, Redis and two web hosts on 127.0.0.1 (docs/deployment.md)",
    )
    cluster.add_argument("--folder", type=Path, default=Path("data/cluster"), help="where its services keep their data")
    cluster.add_argument("--data-dir", type=Path, default=settings.demo_dir, help="the demo files (made if absent)")
    cluster.add_argument("--clients", type=int, default=300)
    cluster.add_argument("--ports", type=int, nargs=2, default=[8051, 8052], help="the two web hosts' ports")
    cluster.add_argument("--workers", type=int, default=2, help="gunicorn workers per host")
    cluster.add_argument("--today", default=settings.today or NEWEST, help=DEMO_TODAY_HELP)

    for name, text in (
        ("serve", "serve the dashboard on a warehouse"),
        ("demo", "generate, load and serve demo data"),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("--db", type=Path, default=settings.db, help=db_help)
        command.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        command.add_argument("--port", type=int, default=8050, help="port (default 8050)")
        if name == "serve":
            command.add_argument("--today", type=_today, default=settings.today, help=TODAY_HELP)
        else:  # the demo's data end on a fixed day: pinned to its newest session, it never goes stale
            command.add_argument("--today", type=_today, default=settings.today or NEWEST, help=DEMO_TODAY_HELP)
        command.add_argument(
            "--workers",
            type=int,
            default=0,
            help="serve with gunicorn and this many worker processes (default: Dash's development server)",
        )
        if name == "demo":
            command.add_argument("--clients", type=int, default=300)
            command.add_argument("--seed", type=int, default=7)
            command.add_argument("--data-dir", type=Path, default=settings.demo_dir)
            command.add_argument("--no-serve", action="store_true", help="stop after loading")
    return parser


def _user_parser(commands, db_help: str, settings: Settings) -> None:
    from access.roles import ROLES

    user = commands.add_parser(
        "user", help="the users who may sign in to the dashboard (docs/security.md#roles-and-what-each-may-do)"
    )
    actions = user.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="give a member of the staff roster a user")
    add.add_argument("staff_id", help="their staff_id on the roster")
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--username", help="the name they sign in with (default: the staff_id)")
    passwd = actions.add_parser("passwd", help="set a new password (their other sessions end)")
    passwd.add_argument("username")
    for name, text in (("disable", "stop a user signing in (their sessions end)"), ("enable", "let them again")):
        actions.add_parser(name, help=text).add_argument("username")
    role = actions.add_parser("role", help="change a user's role")
    role.add_argument("username")
    role.add_argument("role", choices=ROLES)
    actions.add_parser("list", help="every user, their role and whether they may sign in")
    for command in (add, passwd):
        command.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input, not a prompt"
        )
    for command in actions.choices.values():
        command.add_argument("--db", type=Path, default=settings.db, help=db_help)


def main(argv: list[str] | None = None) -> int:
    # Everything hipline writes (the warehouse, the records, temporary and job files, logs) holds client
    # data or password hashes: readable by the owner only (docs/security.md#roles-and-what-each-may-do).
    os.umask(0o077)
    settings = Settings.from_env(os.environ)  # the one place hipline reads its environment; handed down from here
    args = _parser(settings).parse_args(argv)
    if getattr(args, "db", None) is not None and (refused := _attach_records(args.db, settings)):
        from hipline.progress import console

        console.print(refused)
        return 1
    if settings.database_url and args.command in USES_CLINIC_DATA and (refused := _use_copy(args, settings)):
        from hipline.progress import console

        console.print(refused)
        return 1
    command = {
        "generate": _generate,
        "load": _load,
        "history": _history,
        "undo": _undo,
        "quarantine": _quarantine,
        "metrics": _metrics,
        "recommend": _recommend,
        "report": _report,
        "columns": _columns,
        "user": _user,
        "audit": _audit,
        "db": _database,
        "cluster-demo": _cluster_demo,
        "serve": _serve,
        "demo": _demo,
    }[args.command]
    return command(args, settings) or 0


def _attach_records(db: Path, settings: Settings) -> str | None:
    """Tell etl.records where the records of `db` are (HIPLINE_DATABASE_URL: a clinic network's
    PostgreSQL; else the SQLite file beside it). A PostgreSQL that lacks migrations is refused before the
    command starts: the refusal in words, else None."""
    if not settings.database_url:
        return None
    from etl import records

    records.attach(db, settings.database_url)
    try:
        records.check(db)
    except records.MigrationsMissing as e:
        return str(e)
    return None


# Commands that read the clinic data (`user add` the roster): in a clinic network, from this machine's copy, brought
# up to date first.
READS_CLINIC_DATA = ("history", "quarantine", "metrics", "recommend", "report", "user")
# and those that load into it (etl/publish.py brings the copy up to date itself, under the network's load lock)
USES_CLINIC_DATA = (*READS_CLINIC_DATA, "load", "undo", "demo")


def _use_copy(args, settings: Settings) -> str | None:
    """A clinic network: the file at --db is this machine's copy of the clinic data; a command that reads it
    brings it to PostgreSQL's newest data first (etl/replica.py), waiting for a load running on this machine.
    A file there that is not a copy (a warehouse loaded on one machine) is refused: the refusal in words."""
    from etl import replica
    from hipline.progress import console

    try:
        if args.command not in READS_CLINIC_DATA:
            replica.local_version(args.db)
            return None
        replica.refresh(
            args.db,
            settings.database_url,
            memory_limit=settings.memory_limit,
            on_wait=lambda: console.print("A load is running on this machine; waiting for it to finish…"),
        )
    except replica.NotACopy as e:
        return str(e)
    return None


def _database(args, settings: Settings) -> int:
    from etl import postgres
    from hipline.progress import console, out

    if not settings.database_url:
        console.print(
            "HIPLINE_DATABASE_URL is not set: this hipline runs on one machine and has no PostgreSQL to upgrade."
        )
        return 1
    if args.action == "upgrade":
        done = postgres.upgrade(settings.database_url)
        for migration in done:
            out.print(f"applied {migration.path.name}")
        out.print(f"{len(done)} migration{'' if len(done) == 1 else 's'} applied; the schema is up to date.")
        return 0
    applied = set(postgres.applied(settings.database_url))
    for migration in postgres.migrations():
        out.print(f"{'applied' if migration.number in applied else 'MISSING'}  {migration.path.name}")
    return 0 if applied >= {m.number for m in postgres.migrations()} else 1


def _cluster_demo(args, settings: Settings) -> int:
    from hipline.cluster_demo import run

    today = args.today if isinstance(args.today, str) or args.today is None else args.today.isoformat()
    return run(args.folder, args.data_dir, args.clients, tuple(args.ports), args.workers, today)


def _generate(args, settings: Settings) -> int:
    from hipline.demo_data import generate_demo
    from hipline.demo_data.generate import DEFAULT_END
    from hipline.progress import console, simulation_progress

    with simulation_progress() as tick:
        summary = generate_demo(args.out, args.clients, args.seed, args.end or DEFAULT_END, progress=tick)
    console.print(
        f"Wrote {len(summary.files)} files to {summary.out_dir}: {summary.staff} staff, {summary.cohorts} cohorts, "
        f"{summary.clients} clients, {summary.session_rows:,} session-log rows, {summary.measures:,} measures "
        f"in {summary.seconds:.1f} s"
    )
    return 0


def _stoppable(what: str, work):
    """Run `work()` so that `kill` (SIGTERM) stops it as cleanly as Ctrl+C: a load or an undo is all or
    nothing, so the warehouse stays as it was (unless it was stopped after the swap) and its temporary
    files are removed (only `kill -9` cannot be caught; the next load clears what that leaves). Returns
    work's result, or the exit code of a stop (128 + the signal)."""
    from hipline.progress import console

    stopped: list[int] = []

    def stop(signum, frame):
        stopped.append(signum)
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        return work()
    except BaseException:  # a query DuckDB was running reports the signal as its own interruption
        if not stopped:
            raise
        console.print(
            f"Stopped by SIGTERM. A {what} is all or nothing: the warehouse holds the whole of it if it was stopped "
            "after it was published, else none of it (hipline history says which)."
        )
        return 128 + stopped[0]
    finally:
        signal.signal(signal.SIGTERM, previous)


def _who(args) -> str:
    """Who the history records: `--as`, else the operating-system account as the audit trail names it."""
    from access.audit import Actor

    return getattr(args, "loaded_by", None) or Actor.command_line().username


def _load(args, settings: Settings) -> int:
    from etl.load import load
    from hipline.progress import LoadProgressBar, console, print_load_report

    with LoadProgressBar(enabled=not args.json) as bar:
        report = _stoppable(
            "load",
            lambda: load(
                args.db,
                args.paths,
                today=args.today,
                date_order=args.date_order,
                kind=args.kind,
                progress=bar,
                memory_limit=settings.memory_limit,
                max_cell_chars=settings.max_cell_chars,
                on_wait=lambda: console.print("Another load is running on this warehouse; waiting for it to finish…"),
                loaded_by=_who(args),
                database_url=settings.database_url,
            ),
        )
    if isinstance(report, int):
        return report
    _audit_load(args.db, report, args.loaded_by)
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print_load_report(report)
        _say_how_to_undo(report)
    return 0 if report.all_readable else 1


def _say_how_to_undo(report) -> None:
    from hipline.progress import out

    if any(f.status in ("loaded", "replaced") for f in report.files):
        out.print(f"This is load {report.run_id} (hipline history lists it; hipline undo {report.run_id} undoes it).")


def _audit_export(db: Path, what: str, client_id: str | None = None) -> None:
    """An export from the command line: audited like one from the pages, the operating-system user as who."""
    from access import audit
    from access.audit import Actor

    audit.record(db, Actor.command_line(), "export", what, client_id=client_id)


def _audit_load(db: Path, report, loaded_by: str | None = None) -> None:
    """A load from the command line is an import: audited, with the operating-system user as who."""
    from access import audit
    from access.audit import Actor

    number = f"load {report.run_id}" + (f" as {loaded_by}" if loaded_by else "") + ": " if report.run_id else ""
    audit.record(db, Actor.command_line(), "import", number + report.in_words())


def _history(args, settings: Settings) -> int:
    from etl.history import history
    from hipline.progress import console, out

    try:
        entries = history(args.db, args.limit)
    except FileNotFoundError as e:
        console.print(str(e))
        return 1
    if args.json:
        json.dump([e.as_dict() for e in entries], sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    out.print(_history_table(args.db, entries))
    if not entries:
        out.print("Nothing has been loaded yet.")
    return 0


def _history_table(db: Path, entries):
    """Each load on a line of its own (number, when, who, what), then a line per file: what the load did
    with it and its rows read = loaded + quarantined; an undo's lines say what it took out and put back."""
    from rich import box
    from rich.table import Table

    table = Table(title=f"Loads into {db}, newest first", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("load", justify="right", no_wrap=True)
    table.add_column("when", no_wrap=True)
    table.add_column("by", overflow="fold")
    table.add_column("what", overflow="fold", ratio=1)
    for entry in entries:
        what = entry.what() if entry.load is not None else "load (before loads were numbered)"
        number = "" if entry.load is None else str(entry.load)
        table.add_row(number, f"{entry.started:%Y-%m-%d %H:%M}", entry.loaded_by or "", f"[bold]{what}[/bold]")
        for f in entry.files:
            table.add_row("", "", "", f"  {_file_words(f)}")
        if not entry.files:
            table.add_row("", "", "", "  no files")
    return table


def _file_words(f) -> str:
    """A file of the history's table in words (rich markup in a file's name or a note is shown as it is)."""
    from rich.markup import escape

    words = escape(f.in_words(detailed=True))
    return f"[red]{words}[/red]" if f.error else words


def _undo(args, settings: Settings) -> int:
    from access import audit
    from access.audit import Actor
    from etl.history import UndoRefused, undo
    from hipline.progress import console, out

    try:
        report = _stoppable(
            "undo",
            lambda: undo(
                args.db,
                args.load,
                loaded_by=_who(args),
                memory_limit=settings.memory_limit,
                on_wait=lambda: console.print("Another load is running on this warehouse; waiting for it to finish…"),
                database_url=settings.database_url,
            ),
        )
    except UndoRefused as e:
        if args.db.exists():
            what = f"undo of load {args.load} refused: {e}"
            audit.record(args.db, Actor.command_line(), "undo", what, outcome="failed")
        console.print(f"Nothing changed: {e}.")
        return 1
    if isinstance(report, int):
        return report
    audit.record(args.db, Actor.command_line(), "undo", report.in_words())
    if args.json:
        json.dump(report.as_dict(), sys.stdout, indent=2, default=str)
        sys.stdout.write("\n")
        return 0
    out.print(
        f"Load {report.undid} is undone (this undo is load {report.run_id}; hipline undo {report.run_id} redoes it):"
    )
    for f in report.taken_out:
        out.print(f"  took out {f.file}, the version of load {f.loaded_in} ({f.counts()})")
    for f in report.put_back:
        out.print(f"  put back {f.file}, the version of load {f.loaded_in} ({f.counts()})")
    return 0


def _quarantine(args, settings: Settings) -> int:
    from etl.summary import quarantined_rows
    from hipline.progress import console, print_quarantine

    try:
        rows = quarantined_rows(args.db, args.file, args.limit)
    except FileNotFoundError as e:
        console.print(str(e))
        return 1
    print_quarantine(rows)
    return 0


def _on_analytics(args, settings: Settings, work):
    """Run `work(analytics)` on the warehouse for everyone; a missing warehouse or word list says so (None)."""
    from analytics import Analytics, Scope
    from analytics.red_flags import load_red_flag_words
    from hipline.progress import console

    try:
        words = load_red_flag_words(settings.red_flags)
        with Analytics.open(args.db, Scope.everyone(), args.today, words) as analytics:
            return analytics.today, work(analytics)
    except (FileNotFoundError, ValueError) as e:
        console.print(str(e))
        return None


def _as_of(day: date) -> str:
    """`as of 2026-10-30`, saying so plainly when that is not the current date (docs/metrics.md)."""
    current = date.today()
    return f"as of {day.isoformat()}" + ("" if day == current else f" (not today: today is {current.isoformat()})")


def _metrics(args, settings: Settings) -> int:
    from analytics.export import write_metric_tables
    from hipline.progress import console

    done = _on_analytics(args, settings, lambda analytics: write_metric_tables(analytics, args.out))
    if done is None:
        return 1
    today, written = done
    _audit_export(args.db, f"hipline metrics as of {today.isoformat()} -> {args.out}")
    console.print(f"Metrics {_as_of(today)}:")
    for path, rows in written.items():
        console.print(f"  {path}  {rows:,} rows")
    return 0


def _recommend(args, settings: Settings) -> int:
    from analytics.export import write_recommendations
    from hipline.progress import console

    done = _on_analytics(args, settings, lambda analytics: write_recommendations(analytics, args.out))
    if done is None:
        return 1
    today, table = done
    counts = table["decision"].value_counts()
    summary = ", ".join(f"{counts.get(d, 0):,} {d}" for d in ("refer", "regress", "hold", "progress"))
    _audit_export(args.db, f"hipline recommend as of {today.isoformat()}: {len(table):,} rows -> {args.out}")
    console.print(f"Recommendations {_as_of(today)}: {len(table):,} ({summary}) -> {args.out}")
    return 0


def _report(args, settings: Settings) -> int:
    from hipline.progress import console
    from reports.client_report import ReportError

    if args.caseload is not None and args.format == "pdf":
        return _caseload_zip(args, settings)

    def work(analytics):
        try:
            return _write_report(analytics, args)
        except ReportError as e:
            console.print(str(e))
            return None

    done = _on_analytics(args, settings, work)
    if done is None or done[1] is None:
        return 1
    today, what = done
    _audit_export(args.db, f"{what} as of {today.isoformat()} -> {args.out}", client_id=args.client)
    console.print(f"{what} {_as_of(today)} -> {args.out}")
    return 0


def _write_report(analytics, args) -> str:
    """Write what `hipline report` asked for; returns what it was, in words."""
    from reports import tables
    from reports.client_report import write_client_report
    from reports.cohort_report import cohort_report_pdf

    if args.format == "pdf" and args.client is not None:
        context = write_client_report(analytics, args.client, args.out, args.start, args.end, args.paper)
        return f"Progress report for {context['client']['display_name']}"
    if args.format == "pdf":
        document, context = cohort_report_pdf(analytics, args.cohort, args.paper)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(document)
        return f"Cohort report for {context['cohort']['name']}"
    if args.client is not None:
        numbers, prefix = tables.client_tables(analytics, args.client, args.start, args.end), args.client
    elif args.cohort is not None:
        numbers, prefix = tables.cohort_tables(analytics, args.cohort), args.cohort
    else:
        staff = _staff_id(analytics, args.caseload)
        numbers, prefix = tables.caseload_tables(analytics, staff), f"caseload_{args.caseload}"
    written = tables.write(numbers, args.format, prefix, args.out)
    return f"The numbers of {prefix} ({written}: {', '.join(numbers)})"


def _staff_id(analytics, asked: str) -> str | None:
    """`all` means every clinician; any other id must be on the staff roster."""
    from reports.client_report import ReportError

    if asked.lower() == "all":
        return None
    if asked not in set(analytics.staff()["staff_id"]):
        raise ReportError(f"there is no staff member {asked!r} on the roster")
    return asked


def _caseload_zip(args, settings: Settings) -> int:
    from hipline.progress import console, report_progress
    from reports.caseload import write_caseload_zip
    from reports.client_report import ReportError

    staff = None if args.caseload.lower() == "all" else args.caseload
    try:
        with report_progress() as tick:
            done = write_caseload_zip(
                args.db, staff, args.out, today=args.today, start=args.start, end=args.end, paper=args.paper,
                red_flags=settings.red_flags, progress=tick, workers=args.workers,
            )  # fmt: skip
    except (FileNotFoundError, ValueError, ReportError) as e:
        console.print(str(e))
        return 1
    what = f"progress reports (zip) of the caseload of {args.caseload}: {done.clients} clients -> {done.path}"
    _audit_export(args.db, what)
    console.print(f"{done.clients} progress reports in {done.seconds:.0f} s -> {done.path}")
    if done.skipped:
        console.print(f"{done.skipped} clients have nothing in the period asked for: see 'not included.txt' in the zip")
    return 0


def _columns(args, settings: Settings) -> int:
    from hipline.progress import print_columns

    print_columns(markdown=args.markdown)
    return 0


def _serve(args, settings: Settings) -> int:
    from access.users import has_admin
    from hipline.progress import console

    if not has_admin(args.db):
        console.print(
            f"No admin can sign in to {args.db} yet, so hipline will not serve it: nobody could manage users or "
            "import files. Create one from a member of the staff roster (load the staff list first if there is "
            f"none: hipline load --db {args.db} staff.csv), then serve again:\n"
            f"  hipline user add STAFF_ID --role admin --db {args.db}"
        )
        return 1
    _log_to_stderr()
    if args.workers > 0:
        from dashboard.server import serve_with_gunicorn

        serve_with_gunicorn(args.db, args.host, args.port, args.workers, args.today, settings)
        return 0
    from dashboard.app import create_app
    from dashboard.server import serve_with_werkzeug

    serve_with_werkzeug(create_app(args.db, args.today, settings), args.host, args.port)
    return 0


def _log_to_stderr() -> None:
    """hipline's own messages (a host's copy refreshed to a new data version, a refresh that failed) go
    to standard error beside the server's, in its format, for the clinic's monitoring (docs/deployment.md)."""
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S %z")
    )
    for name in ("etl", "dashboard"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(handler)


def _user(args, settings: Settings) -> int:
    from access import users
    from access.audit import Actor
    from hipline.progress import console, print_users

    by = Actor.command_line()
    try:
        if args.action == "list":
            print_users(users.list_users(args.db))
            return 0
        if args.action == "add":
            name, roster_role = users.roster_member(args.db, args.staff_id)
            user = users.add_user(args.db, args.staff_id, name, args.role, _new_password(args), by=by,
                                  username=args.username)  # fmt: skip
            note = f" (the roster says {roster_role})" if roster_role != args.role else ""
            console.print(f"{user.name} may now sign in as {user.username!r}, {user.role}{note}.")
        elif args.action == "passwd":
            user = users.change_password(args.db, args.username, _new_password(args), by=by)
            console.print(f"{user.username} has a new password; their other sessions end at their next request.")
        elif args.action in ("disable", "enable"):
            user = users.set_enabled(args.db, args.username, args.action == "enable", by=by)
            console.print(f"{user.username} is {args.action}d.")
        else:
            user = users.change_role(args.db, args.username, args.role, by=by)
            console.print(f"{user.username} is now {user.role}, from their next request.")
    except users.UserError as e:
        console.print(f"Nothing changed: {e}.")
        return 1
    return 0


def _new_password(args) -> str:
    """From standard input (one line) with --password-stdin, else asked for twice without echo."""
    import getpass

    from access.users import UserError

    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("The same password again: ") != password:
        raise UserError("the two passwords differ")
    return password


def _audit(args, settings: Settings) -> int:
    from access import audit
    from access.audit import Actor
    from hipline.progress import console

    if args.action and args.action not in (*audit.ACTIONS, "refused"):
        console.print(f"--action is one of {', '.join(audit.ACTIONS)} or refused, not {args.action!r}")
        return 1
    rows = audit.read(args.db, since=args.since, user=args.user, client=args.client, action=args.action)
    text = audit.as_csv(rows)
    if str(args.out) == "-":
        sys.stdout.write(text)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        console.print(f"{len(rows):,} audit rows -> {args.out}")
    filters = {"since": args.since, "user": args.user, "client": args.client, "action": args.action}
    said = ", ".join(f"{k}={v}" for k, v in filters.items() if v) or "no filter"
    audit.record(args.db, Actor.command_line(), "export", f"audit trail (CSV), {len(rows)} rows: {said}")
    return 0


def _demo(args, settings: Settings) -> int:
    from etl.load import load
    from hipline.demo_data import generate_demo
    from hipline.demo_data.accounts import add_demo_users
    from hipline.demo_data.reviews import add_demo_review
    from hipline.progress import LoadProgressBar, console, print_demo_users, print_load_report, simulation_progress

    if not args.data_dir.exists() or not any(args.data_dir.iterdir()):
        console.print(f"Generating demo data for {args.clients} clients in {args.data_dir} …")
        with simulation_progress() as tick:
            generate_demo(args.data_dir, args.clients, args.seed, progress=tick)
    with LoadProgressBar(enabled=True) as bar:
        report = load(
            args.db,
            [args.data_dir],
            progress=bar,
            memory_limit=settings.memory_limit,
            max_cell_chars=settings.max_cell_chars,
            loaded_by=_who(args),
            database_url=settings.database_url,
        )
    _audit_load(args.db, report)
    print_load_report(report)
    demo_users = add_demo_users(args.db)
    print_demo_users(demo_users)
    physio = next(u for u in demo_users if u.role == "physio")
    if (on_hold := add_demo_review(args.db, physio.staff_id)) is not None:
        console.print(f"{physio.name} has referred client {on_hold} to the GP after a red-flag note: on hold.")
    if args.no_serve:
        return 0
    console.print(f"Serving the dashboard on http://{args.host}:{args.port} (Ctrl+C to stop)")
    return _serve(args, settings)


if __name__ == "__main__":
    raise SystemExit(main())
