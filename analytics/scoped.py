"""The scope (analytics.scope) applied in SQL.

A build reads the warehouse only through the scoped views of its scope (`register_scoped_views`). A view of
a build narrowed to a viewer's scope (`Analytics.within`) reads through a `Narrowing`: the viewer's clients
kept as a small table (`ScopeTables`) that the reads semi-join with in their `{in_scope}` condition, and a
client asked for outside the scope read as one that does not exist (`Narrowing.own`). Which clients a
member of staff may see comes from the roster (`roster_scope`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from analytics.queries import run, sql_file
from analytics.scope import Scope
from etl.exposures import numbered_exposures_select
from etl.sessions import SESSION_SUMMARY_SELECT
from etl.warehouse import scalar

SCOPED_VIEWS = {
    "scoped_clients": "clients",
    "scoped_session_log": "session_log",
    "scoped_session_summary": "session_summary",
    "scoped_exposure_summary": "exposure_summary",
    "scoped_measures": "measures",
}
NO_CLIENT = "\x00 no client"  # an id no client has (a client_id is text read from a file: never NUL)


def register_scoped_views(con: duckdb.DuckDBPyConnection, scope: Scope) -> None:
    """The temporary views of SCOPED_VIEWS: the warehouse's tables narrowed to the clients of `scope`."""
    sources = dict(SCOPED_VIEWS)
    for summary in ("session_summary", "exposure_summary"):
        if not scalar(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [summary]):
            # A warehouse written before the loader kept this table: aggregate the rows here.
            sources[f"scoped_{summary}"] = (
                f"({numbered_exposures_select('library_names', 'library_levels')})"
                if summary == "exposure_summary"
                else f"({SESSION_SUMMARY_SELECT.format(where='')})"
            )
    if scope.client_ids is None:
        for scoped, source in sources.items():
            con.execute(f"CREATE OR REPLACE TEMP VIEW {scoped} AS SELECT * FROM {source}")
        return
    ids = pd.DataFrame({"client_id": sorted(scope.client_ids)}, dtype="str")
    con.register("scope_frame", ids)
    con.execute("CREATE OR REPLACE TEMP TABLE viewer_scope AS SELECT DISTINCT client_id FROM scope_frame")
    con.unregister("scope_frame")
    for scoped, source in sources.items():
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW {scoped} AS
                SELECT * FROM {source} WHERE client_id IN (SELECT client_id FROM viewer_scope)"""
        )


def roster_scope(con: duckdb.DuckDBPyConnection, role: str, staff_id: str) -> Scope:
    """The clients and cohorts a physio or an instructor may see, from the roster (reads/staff_scope.sql;
    docs/security.md#roles-and-what-each-may-do)."""
    rows = run(con, sql_file("reads/staff_scope"), {"role": role, "staff": staff_id}).fetchall()
    return Scope(*(frozenset(i for k, i in rows if k == kind) for kind in ("client", "cohort")))


class ScopeTables:
    """The tables of the viewers' scopes of one build: a small table of the ids of each scope's clients,
    made once per scope and build (a semi-join with it is faster than a list parameter;
    benchmarks/bench_scope.py)."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.tables: dict[Scope, str] = {}

    def of(self, scope: Scope) -> str | None:
        """The table of the clients of `scope` (None: every client)."""
        if scope.client_ids is None:
            return None
        if scope not in self.tables:
            table = f"viewer_scope_{len(self.tables) + 1}"
            ids = pd.DataFrame({"client_id": sorted(scope.client_ids)}, dtype="str")
            self.con.register("viewer_scope_frame", ids)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT client_id FROM viewer_scope_frame")
            self.con.unregister("viewer_scope_frame")
            self.tables[scope] = table
        return self.tables[scope]


@dataclass
class Narrowing:
    """What a view of a build may read: the clients of `scope`, kept in `table` (None: the build holds
    only clients in scope already); `on_outside(client_id)` is told, once per client, of a read asked
    for a client outside the scope."""

    scope: Scope
    table: str | None = None
    on_outside: Callable[[str], None] | None = None
    told: set[str] = field(default_factory=set)

    def in_scope(self, column: str = "client_id") -> str:
        """SQL that holds for a `column` (a client_id) of a client in the scope: what a read's
        `{in_scope}` stands for. Internal text only (the name of the table), never a viewer's input."""
        return "TRUE" if self.table is None else f"{column} IN (SELECT client_id FROM {self.table})"

    def own(self, client_id: str | None) -> str | None:
        """`client_id` when the scope holds it; otherwise an id no client has, so that a client outside
        the scope reads exactly as one that does not exist (empty frames, no error)."""
        if client_id is None or self.scope.sees_client(client_id):
            return client_id
        if self.on_outside is not None and client_id not in self.told:
            self.told.add(client_id)
            self.on_outside(client_id)
        return NO_CLIENT
