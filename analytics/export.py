"""`hipline metrics`: the numbers of SPEC §2 as CSV files, one per table."""

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


def write_metric_tables(analytics: Analytics, out_dir: Path) -> dict[Path, int]:
    """Write every table as UTF-8 CSV (numbers at full precision, unknown values empty); rows per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, table in metric_tables(analytics).items():
        path = out_dir / name
        table.to_csv(path, index=False, date_format="%Y-%m-%d")
        written[path] = len(table)
    return written
