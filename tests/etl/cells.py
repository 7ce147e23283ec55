"""Evaluate a parser of `etl.values` / `etl.rules` on one cell's text in DuckDB, apart from `load()`.

As the loader's validation query does: the cell's text is `t_<name>` (an empty cell is NULL, the
loader's `NULLIF(c, '')`), its parsed value `v_<name>`, and each check is a (condition, message) pair.
"Today" is 2026-06-30 for the checks that look at it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from etl.values import Cell, Parsed

TODAY = date(2026, 6, 30)


def evaluate(con, name: str, sql: str, checks: list[tuple[str, str]], text: str | None):
    """The parsed value of `text` in a cell called `name`, and the messages of the checks that fail."""
    cell = Cell(name)
    messages = "".join(f", CASE WHEN {condition} THEN {message} END" for condition, message in checks)
    query = f"""SELECT {cell.value}{messages}
        FROM (SELECT *, {sql} AS {cell.value} FROM (SELECT NULLIF(CAST($text AS VARCHAR), '') AS {cell.text}))"""
    params = {"text": text} | ({"today": TODAY} if "$today" in query else {})
    value, *failed = con.execute(query, params).fetchall()[0]
    return value, [m for m in failed if m is not None]


def run(con, parser: Callable[[Cell], Parsed], text: str | None, name: str = "x"):
    """What `parser` makes of `text` in a cell called `name`: (value, messages)."""
    parsed = parser(Cell(name))
    return evaluate(con, name, parsed.sql, parsed.checks, text)
