"""`hipline metrics` and `hipline recommend`: the numbers of docs/metrics.md and the recommendations of
docs/recommendations.md as CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analytics.metrics import (
    CLIENT_METRICS_COLUMNS,
    CLIENT_WEEKLY_COLUMNS,
    COHORT_WEEKLY_COLUMNS,
    FUNCTION_CHANGE_COLUMNS,
    Analytics,
)
from analytics.progressions import RECOMMEND_COLUMNS
from analytics.spreadsheet import spreadsheet_safe

COHORT_SUMMARY_COLUMNS = [
    "cohort_id",
    "name",
    "members",
    "adherence_median",
    "adherence_q1",
    "adherence_q3",
    "share_adherent",
    "share_improved",
    "members_with_pain_data",
]


def metric_tables(analytics: Analytics) -> dict[str, pd.DataFrame]:
    """The tables `hipline metrics` writes, by file name."""
    return {
        "client_metrics.csv": analytics.client_metrics()[CLIENT_METRICS_COLUMNS],
        "client_weekly.csv": analytics.client_weekly()[CLIENT_WEEKLY_COLUMNS],
        "function_change.csv": analytics.function_change()[FUNCTION_CHANGE_COLUMNS],
        "cohort_weekly.csv": analytics.cohort_weekly()[COHORT_WEEKLY_COLUMNS],
        "cohort_summary.csv": analytics.cohort_summary()[COHORT_SUMMARY_COLUMNS],
    }


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    spreadsheet_safe(table).to_csv(path, index=False, date_format="%Y-%m-%d")


def write_metric_tables(analytics: Analytics, out_dir: Path) -> dict[Path, int]:
    """Write every table as UTF-8 CSV (numbers at full precision, unknown values empty); rows per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, table in metric_tables(analytics).items():
        path = out_dir / name
        _write_csv(table, path)
        written[path] = len(table)
    return written


def write_recommendations(analytics: Analytics, path: Path) -> pd.DataFrame:
    """`hipline recommend`: one row per client and exercise ladder, the columns of RECOMMEND_COLUMNS
    (`reasons` holds every rule checked, joined by "; "). Returns what was written."""
    table = analytics.recommendations()[RECOMMEND_COLUMNS]
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_csv(table, path)
    return table
