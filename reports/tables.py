"""The numbers behind every chart and table of a page, as CSV (a zip, one file per table) or XLSX
(one sheet per table). Text a spreadsheet would run as a formula is neutralised (docs/input-formats.md).

The tables hold the same values the pages and the PDF reports show, unrounded, so a clinician or an
insurer can check or re-plot them: fractions stay fractions (0.75 = 75 %), dates are days.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pandas as pd

from analytics import Analytics
from analytics.spreadsheet import spreadsheet_safe
from etl.instruments import instrument_label
from reports.client_report import NotFound, Period, client_period

FORMATS = ("csv", "xlsx")


def client_tables(
    analytics: Analytics, client_id: str, start: date | None = None, end: date | None = None
) -> dict[str, pd.DataFrame]:
    """The client page and report: its header, each chart's points, the recommendations, the log."""
    client = analytics.client(client_id)
    if client is None:
        raise NotFound(f"there is no client {client_id!r} in the warehouse as of {analytics.today.isoformat()}")
    period = client_period(client, start, end, analytics.today)
    recommendations = analytics.recommendations(client_id).drop(columns=["evidence"])
    return {
        "client": pd.DataFrame([client]).assign(
            period_start=period.start, period_end=period.end, as_of=analytics.today
        ),
        "pain ratings": _in(analytics.pain_points(client_id), "pain_on", period),
        "weekly": analytics.client_weekly(client_id),
        "sessions": _in(analytics.sessions(client_id), "session_date", period),
        "function change": _named(analytics.function_change(client_id)),
        "outcome measures": _named(_in(analytics.measures(client_id), "measured_on", period)),
        "exercise levels": _in(analytics.exposures(client_id), "session_date", period),
        "recommendations": recommendations,
        "session log": _in(analytics.session_log(client_id), "session_date", period),
        "red flag notes": _in(analytics.red_flag_notes(client_id), "session_date", period),
    }


def cohort_tables(analytics: Analytics, cohort_id: str) -> dict[str, pd.DataFrame]:
    """The cohort page and report: the summary, the members (their adherence is the distribution),
    mean pain by program week with its 95 % interval, and the attendance grid."""
    roster = analytics.cohorts()
    cohort = roster[roster["cohort_id"] == cohort_id]
    if cohort.empty:
        raise NotFound(f"there is no cohort {cohort_id!r} in the warehouse")
    summary = analytics.cohort_summary()
    # the columns as before: the shares (the counts the page shows beside them are shares of `members`)
    repeated = ["name", "instructor_id", "members", "members_adherent", "members_improved"]
    return {
        "cohort": cohort.merge(
            summary[summary["cohort_id"] == cohort_id].drop(columns=repeated),
            on="cohort_id",
            how="left",
        ).assign(as_of=analytics.today),
        "members": analytics.cohort_members(cohort_id),
        "pain by week": analytics.cohort_weekly(cohort_id),
        "attendance": analytics.attendance_grid(cohort_id),
    }


def caseload_tables(analytics: Analytics, staff_id: str | None) -> dict[str, pd.DataFrame]:
    """The caseload page: one row per active client (most urgent first) and the weekly pain of the
    sparklines, one row per client and program week."""
    caseload = analytics.caseload(staff_id)
    weekly = analytics.client_weekly()
    return {
        "caseload": caseload.drop(columns=["weekly_pain"]).assign(as_of=analytics.today),
        "weekly": weekly[weekly["client_id"].isin(caseload["client_id"])].reset_index(drop=True),
    }


def _named(table: pd.DataFrame) -> pd.DataFrame:
    """The instrument's code (for machines) followed by its name and unit (for people)."""
    named = table.copy()
    named.insert(named.columns.get_loc("instrument") + 1, "instrument_name", named["instrument"].map(instrument_label))
    return named


def _in(table: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    days = table[column].dt.normalize()
    keep = (days >= pd.Timestamp(period.start)) & (days <= pd.Timestamp(period.end))
    return table[keep].reset_index(drop=True)


def printable(table: pd.DataFrame) -> pd.DataFrame:
    """Lists become "; "-joined text; text that could run as a formula gets a leading apostrophe."""
    plain = table.copy()
    for column in plain.columns:
        if plain[column].dtype == object:
            plain[column] = plain[column].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v)
    return spreadsheet_safe(plain)


def file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def csv_zip(tables: dict[str, pd.DataFrame], prefix: str) -> bytes:
    """A zip holding `<prefix>_<table>.csv` per table: UTF-8, dates as YYYY-MM-DD, unknowns empty."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, table in tables.items():
            text = printable(table).to_csv(index=False, date_format="%Y-%m-%d")
            archive.writestr(f"{file_name(prefix)}_{file_name(name)}.csv", text)
    return buffer.getvalue()


def xlsx(tables: dict[str, pd.DataFrame]) -> bytes:
    """A workbook with one sheet per table (frozen header row, dates as dates, columns sized)."""
    buffer = io.BytesIO()
    # Text is never turned into formulas or links: a note that starts with "=" stays a note.
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    dates = {"date_format": "yyyy-mm-dd", "datetime_format": "yyyy-mm-dd"}
    with pd.ExcelWriter(buffer, engine="xlsxwriter", engine_kwargs={"options": options}, **dates) as writer:
        for name, table in tables.items():
            sheet = name[:31]  # Excel's limit
            plain = printable(table)
            plain.to_excel(writer, sheet_name=sheet, index=False, freeze_panes=(1, 0))
            worksheet = writer.sheets[sheet]
            for i, column in enumerate(plain.columns):
                longest = max([len(str(column)), *(len(str(v)) for v in plain[column].head(200))])
                worksheet.set_column(i, i, min(max(longest + 2, 8), 60))
    return buffer.getvalue()


def export(tables: dict[str, pd.DataFrame], fmt: str, prefix: str) -> bytes:
    if fmt == "csv":
        return csv_zip(tables, prefix)
    if fmt == "xlsx":
        return xlsx(tables)
    raise ValueError(f"tables are exported as {' or '.join(FORMATS)}, not {fmt!r}")


def write(tables: dict[str, pd.DataFrame], fmt: str, prefix: str, out) -> str:
    """Write the tables to `out`: an .xlsx workbook, a .zip of CSVs, or CSV files into a folder.
    Returns where, in words."""
    from pathlib import Path

    out = Path(out)
    data = export(tables, fmt, prefix)
    if fmt == "csv" and out.suffix.lower() != ".zip":
        out.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(out)
        return "CSV files"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    return "a zip of CSV files" if fmt == "csv" else "a workbook, one sheet per table"
