"""What the command line shows: progress bars while working, tables when done."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from etl.columns import RECORD_KINDS
from etl.load import LoadReport

console = Console(stderr=True)
out = Console()


def _counting_bar(title: str, *more: ProgressColumn) -> Progress:
    """A bar that counts what is done of all and the time left, then shows `more`."""
    return Progress(
        TextColumn(title),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        *more,
        console=console,
        transient=True,
    )


@contextlib.contextmanager
def simulation_progress() -> Iterator:
    with _counting_bar("Simulating clients") as bar:
        task = bar.add_task("clients", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


@contextlib.contextmanager
def report_progress() -> Iterator:
    """The caseload export's bar: reports written of all, time left, the client just done."""
    with _counting_bar("Progress reports", TextColumn("{task.description}")) as bar:
        task = bar.add_task("", total=None)
        yield lambda done, total, name: bar.update(task, completed=done, total=total, description=name)


class LoadProgressBar:
    """A bar over the bytes of the files being loaded; the spinner and the clock show a large file
    is still being worked on."""

    def __init__(self, enabled: bool = True):
        self.bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not enabled or not console.is_terminal,
        )
        self.task = self.bar.add_task("Reading files", total=None)
        self.current = 0

    def __enter__(self) -> LoadProgressBar:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.bar.__exit__(*exc)

    def begin(self, total_bytes: int) -> None:
        self.bar.update(self.task, description="Loading", total=total_bytes, completed=0)

    def file_started(self, name: str, size: int) -> None:
        self.current = size
        self.bar.update(self.task, description=f"Loading {name}")

    def file_done(self) -> None:
        self.bar.advance(self.task, self.current)


def print_load_report(report: LoadReport) -> None:
    table = Table(title=f"Load into {report.warehouse} ({report.seconds:.1f} s)", title_justify="left")
    for column, justify in (
        ("file", "left"),
        ("kind", "left"),
        ("status", "left"),
        ("read", "right"),
        ("loaded", "right"),
        ("quarantined", "right"),
        ("note", "left"),
    ):
        table.add_column(column, justify=justify)
    for f in report.files:
        note = f.error or f.note or ""
        if f.ignored_columns:
            note = (note + "; " if note else "") + "ignored columns: " + ", ".join(f.ignored_columns)
        status = f"[red]{f.status}[/red]" if f.error else f.status
        table.add_row(
            f.file,
            f.kind or "",
            status,
            f"{f.rows_read:,}",
            f"{f.rows_loaded:,}",
            f"{f.rows_quarantined:,}",
            note,
        )
    out.print(table)
    quarantined = sum(f.rows_quarantined for f in report.files if f.status != "unchanged")
    if quarantined:
        out.print(f"{quarantined:,} rows quarantined: `hipline quarantine` lists them with the reason for each.")


def print_quarantine(rows: list[tuple]) -> None:
    table = Table(title="Quarantined rows", title_justify="left")
    for column in ("file", "row", "kind", "reason"):
        table.add_column(column)
    for file, row, kind, reason, _raw in rows:
        table.add_row(file, str(row if row is not None else ""), kind, reason)
    out.print(table)


def print_columns(markdown: bool) -> None:
    if markdown:  # plain print: Markdown must not be wrapped to the terminal's width
        for record in RECORD_KINDS.values():
            print(f"\n### {record.kind}: {record.description}\n")
            print("| column | required | also accepted |\n|---|---|---|")
            for c in record.columns:
                print(f"| `{c.name}` | {'yes' if c.required else ''} | {', '.join(c.aliases)} |")
        return
    for record in RECORD_KINDS.values():
        table = Table(title=f"{record.kind}: {record.description}", title_justify="left")
        for column in ("column", "required", "also accepted"):
            table.add_column(column)
        for c in record.columns:
            table.add_row(c.name, "yes" if c.required else "", ", ".join(c.aliases))
        out.print(table)


def print_users(users: list) -> None:
    table = Table(title="Users", title_justify="left")
    for column in ("username", "name", "staff_id", "role", "status", "last changed (UTC)"):
        table.add_column(column)
    for u in users:
        table.add_row(u.username, u.name, u.staff_id, u.role, "enabled" if u.enabled else "disabled", u.changed_at)
    out.print(table)
    if not users:
        out.print("No users yet: hipline user add STAFF_ID --role admin")


def print_demo_users(users: list) -> None:
    """The demo's users and their passwords, with the warning that they are for the demo only."""
    table = Table(title="Sign in to the demo as", title_justify="left")
    for column in ("username", "password", "role", "who"):
        table.add_column(column)
    for u in users:
        table.add_row(u.username, u.password, u.role, f"{u.name} ({u.staff_id})")
    out.print(table)
    out.print(
        "[bold]These users and passwords are for the demo only:[/bold] they are printed here and in the README. "
        "A clinic adds its own users with `hipline user add`."
    )
