"""The SQL files of `analytics/sql/` and how a statement of them runs: given only the `$name` parameters it
uses, its rows read into pandas through Arrow."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

SQL = Path(__file__).parent / "sql"


@cache
def sql_file(name: str) -> str:
    """The text of `analytics/sql/<name>.sql` (`reads/<name>` for a read)."""
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")


def used(sql: str, params: dict[str, object]) -> dict[str, object]:
    """The `$name` parameters `sql` uses (DuckDB rejects parameters a statement does not use)."""
    return {name: params[name] for name in set(re.findall(r"\$([a-z_]+)", re.sub(r"--[^\n]*", "", sql)))}


def run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> duckdb.DuckDBPyConnection:
    return con.execute(sql, used(sql, params))


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> pd.DataFrame:
    """The rows of `sql` (through Arrow: faster than .df() for text columns)."""
    return con.sql(sql, params=used(sql, params)).to_arrow_table().to_pandas(date_as_object=False)
