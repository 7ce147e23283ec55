"""Plain read-outs of the warehouse: its counts, load history and quarantined rows, for the command line
and the import page."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from etl.warehouse import connect_read_only, scalar

PUBLIC_VIEWS = ("staff", "cohorts", "clients", "session_log", "measures", "quarantine")


@dataclass
class WarehouseSummary:
    counts: dict[str, int]
    load_history: pd.DataFrame
    quarantine: pd.DataFrame


def warehouse_summary(db: Path, quarantine_limit: int = 200) -> WarehouseSummary:
    con = connect_read_only(db)
    try:
        counts = {view: scalar(con, f"SELECT count(*) FROM {view}") for view in PUBLIC_VIEWS}
        history = con.execute(
            "SELECT file, kind, status, rows_read, rows_loaded, rows_quarantined, coalesce(error, note, '') AS note, "
            "finished FROM load_history ORDER BY load_id DESC"
        ).df()
        quarantine = con.execute(
            "SELECT source_file AS file, source_row AS row, kind, reason FROM quarantine "
            "ORDER BY load_id, source_row LIMIT ?",
            [quarantine_limit],
        ).df()
    finally:
        con.close()
    return WarehouseSummary(counts, history, quarantine)


def quarantined_rows(db: Path, file: str | None, limit: int) -> list[tuple]:
    con = connect_read_only(db)
    try:
        return con.execute(
            "SELECT source_file, source_row, kind, reason, raw FROM quarantine "
            "WHERE ? IS NULL OR source_file = ? ORDER BY source_file, source_row LIMIT ?",
            [file, file, limit],
        ).fetchall()
    finally:
        con.close()
