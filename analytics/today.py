"""Which day "today" is (docs/metrics.md#the-day-under-review): the one rule the commands, the pages and the
reports share.

"Today" is a parameter. By default it is the current date, so a row loaded with a newer date than the
others moves nothing. A warehouse can be pinned to the date of its newest session (`newest`: the demo,
whose data end on a fixed day and would otherwise go stale) or to a fixed date, by the setting
HIPLINE_TODAY or by a command's `--today` (the command reads both into etl.settings.Settings).
"""

from __future__ import annotations

from datetime import date

import duckdb

from etl.settings import NEWEST  # pin "today" to the newest session in the warehouse
from etl.warehouse import scalar

Today = date | str | None  # a pinned date, NEWEST, or None: the current date


def newest_session_date(con: duckdb.DuckDBPyConnection) -> date:
    """The newest session in the warehouse (the current date when there is none). It is the same for
    every viewer (their flags must agree), and it says nothing about any client."""
    # The loader's one row per session holds the same dates in a tenth of the log's rows (a warehouse
    # loaded before the loader kept it has the log only).
    summary = scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'session_summary'")
    table = "session_summary" if summary else "session_log"
    return scalar(con, f"SELECT max(session_date) FROM {table}") or date.today()


def resolve_today(today: Today, con: duckdb.DuckDBPyConnection | None = None) -> date:
    """The day `today` stands for: itself when it is a date, the newest session of the warehouse `con`
    (read only then) when it is NEWEST, and the current date when it is None."""
    if today is None:
        return date.today()
    if isinstance(today, date):
        return today
    if today != NEWEST:
        raise ValueError(f"today is {NEWEST!r}, a date or None (the current date), not {today!r}")
    if con is None:
        raise ValueError(f"today={NEWEST!r} needs the warehouse to read its newest session from")
    return newest_session_date(con)


def not_today(day: date) -> date | None:
    """The current date when `day` is not it (every page and report then says so), else None."""
    current = date.today()
    return current if day != current else None
