"""The cohort report, the caseload zip, and the numbers behind the charts as CSV and XLSX: read back
and compared with `hipline metrics`; formula-like text neutralised; a cancelled export leaves nothing."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analytics import NEWEST, Analytics, Scope
from reports import tables
from reports.caseload import Cancelled, write_caseload_zip
from tests.conftest import SESSION_HEADER, load_files, write
from tests.reports.pdfs import dark_share, hipline, on_demo, pdf_info, words

pytestmark = pytest.mark.slow

FORMULA_NOTE = '=HYPERLINK("http://example.com","video")'


def _rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _percent(text: str) -> str:
    return f"{round(100 * float(text)):.0f} %"


def _pain(text: str) -> str:
    return f"{float(text):.1f}" if text else "–"


# --- the cohort report --------------------------------------------------------------------------


def test_the_cohort_report_shows_the_roll_ups_of_hipline_metrics_and_every_member(demo_warehouse, metrics, tmp_path):
    summary = max(_rows(metrics / "cohort_summary.csv"), key=lambda r: int(r["members"]))
    clients = {r["client_id"]: r for r in _rows(metrics / "client_metrics.csv")}
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        members = analytics.cohort_members(summary["cohort_id"])
        today = analytics.today
    pdf = tmp_path / "cohort.pdf"
    done = hipline("report", *on_demo(demo_warehouse), "--cohort", summary["cohort_id"], "--out", str(pdf))
    assert done.returncode == 0, done.stdout + done.stderr

    text = words(pdf)
    assert f"COHORT REPORT {summary['name']} Cohort report · {summary['cohort_id']}" in text
    made_on = date.today().strftime("%-d %b %Y")
    assert f"These numbers are for {today:%-d %b %Y}, not today: this report was made on {made_on}." in text
    members_count = int(summary["members"])
    improved = round(float(summary["share_improved"]) * members_count)
    # pdftotext reads the four boxes row by row: the labels, then the values, then the details
    assert (
        "MEMBERS MEDIAN ADHERENCE ADHERENT (≥ 80 %) PAIN IMPROVED "
        f"{members_count} {_percent(summary['adherence_median'])} {_percent(summary['share_adherent'])} "
        f"{improved} of {summary['members_with_pain_data']}"
    ) in text
    assert f"quartiles {_percent(summary['adherence_q1'])} – {_percent(summary['adherence_q3'])}" in text
    assert len(members) == members_count
    # the table as laid out: a member's row reads across one line (their evidence is a row under it)
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    for member in members.itertuples():
        row = clients[member.client_id]
        assert member.client_id in text and row["pain_status"] in text
        # one table row: week, adherence (4 weeks, overall), pain baseline -> current
        cells = [row["program_week"], _percent(row["adherence_last_4_weeks"]), _percent(row["adherence_overall"]),
                 f"{_pain(row['pain_baseline'])} → {_pain(row['pain_current'])}"]  # fmt: skip
        # pdftotext sometimes drops the space in "0 %"
        pattern = r"\s+".join(re.escape(c).replace(r"\ ", r"\s*") for c in cells)
        assert re.search(rf"\b{pattern}", layout), member.client_id
        # each flag with its evidence, as hipline metrics writes it (the first words of each line: the
        # table may wrap a line anywhere after them)
        for line in filter(None, row["flag_evidence"].split("\n")):
            assert " ".join(line.split()[:3]) in text, (member.client_id, line)
    info = pdf_info(pdf)
    # a page or two of charts, then the members: about eight to a page with their flags' evidence
    assert info["Page size"].startswith("595.") and 1 <= int(info["Pages"]) <= 2 + members_count // 8
    assert dark_share(pdf, 1, 0.30, 0.55) > 0.03, "the adherence chart band of page 1 is blank"


def test_an_unknown_cohort_is_refused_in_words(demo_warehouse, tmp_path):
    done = hipline("report", *on_demo(demo_warehouse), "--cohort", "G-NOPE", "--out", str(tmp_path / "x.pdf"))
    assert done.returncode == 1 and "no cohort 'G-NOPE'" in done.stdout + done.stderr
    assert not (tmp_path / "x.pdf").exists()


# --- the numbers as XLSX and CSV -------------------------------------------------------------------


def test_the_client_numbers_round_trip_through_xlsx_with_pandas(demo_warehouse, metrics, tmp_path):
    client_id = _rows(metrics / "client_metrics.csv")[0]["client_id"]
    out = tmp_path / "numbers.xlsx"
    args = ["report", *on_demo(demo_warehouse), "--client", client_id, "--format", "xlsx", "--out", str(out)]
    done = hipline(*args)
    assert done.returncode == 0, done.stdout + done.stderr

    book = pd.read_excel(out, sheet_name=None, engine="calamine")
    assert list(book) == [
        "client", "pain ratings", "weekly", "sessions", "function change", "outcome measures",
        "exercise levels", "recommendations", "session log", "red flag notes",
    ]  # fmt: skip
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        expected = tables.client_tables(analytics, client_id)
    for name, table in expected.items():
        assert book[name].shape == table.shape, name
        assert list(book[name].columns) == list(table.columns), name
    row = next(r for r in _rows(metrics / "client_metrics.csv") if r["client_id"] == client_id)
    client = book["client"].iloc[0]
    assert client["adherence_overall"] == pytest.approx(float(row["adherence_overall"]))
    assert client["pain_status"] == row["pain_status"]
    weekly = [r for r in _rows(metrics / "client_weekly.csv") if r["client_id"] == client_id]
    assert book["weekly"]["attended"].tolist() == [int(r["attended"]) for r in weekly]
    assert book["weekly"]["adherence"].tolist() == pytest.approx([float(r["adherence"]) for r in weekly])
    assert pd.api.types.is_datetime64_any_dtype(book["pain ratings"]["pain_on"])  # dates stay dates


def test_the_cohort_and_caseload_numbers_as_a_zip_of_csv(demo_warehouse, metrics, tmp_path):
    summary = max(_rows(metrics / "cohort_summary.csv"), key=lambda r: int(r["members"]))
    out = tmp_path / "cohort.zip"
    args = ["report", *on_demo(demo_warehouse), "--cohort", summary["cohort_id"], "--format", "csv"]
    assert hipline(*args, "--out", str(out)).returncode == 0
    with zipfile.ZipFile(out) as archive:
        prefix = summary["cohort_id"]
        names = [f"{prefix}_{table}.csv" for table in ("cohort", "members", "pain_by_week", "attendance")]
        assert archive.namelist() == names
        members = list(csv.DictReader(io.TextIOWrapper(archive.open(names[1]), encoding="utf-8")))
        weekly = list(csv.DictReader(io.TextIOWrapper(archive.open(names[2]), encoding="utf-8")))
    assert len(members) == int(summary["members"])
    expected = [r for r in _rows(metrics / "cohort_weekly.csv") if r["cohort_id"] == summary["cohort_id"]]
    assert [r["program_week"] for r in weekly] == [r["program_week"] for r in expected]
    # equal up to the last bits: DuckDB's parallel sums may add in another order from run to run
    for column in ("mean_pain", "ci_low", "ci_high"):
        assert [float(r[column] or "nan") for r in weekly] == pytest.approx(
            [float(r[column] or "nan") for r in expected], rel=1e-12, nan_ok=True
        ), column

    folder = tmp_path / "caseload"
    args = ["report", *on_demo(demo_warehouse), "--caseload", "all", "--format", "csv", "--out", str(folder)]
    assert hipline(*args).returncode == 0
    caseload = _rows(folder / "caseload_all_caseload.csv")
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        active = analytics.client_metrics().query("active")["client_id"]
    assert sorted(r["client_id"] for r in caseload) == sorted(active) and len(caseload) > 0


@pytest.fixture
def formula_warehouse(loaded_roster, tmp_path) -> Path:
    """Zoë Ahmed (C-1) with three sessions: notes a spreadsheet would run, and a plain one."""
    quoted = '"' + FORMULA_NOTE.replace('"', '""') + '"'  # CSV quoting
    rows = [
        f"C-1,2026-06-01,yes,studio,bridge,2,2,,10,none,both,3,3,2,3,5,good,{quoted},S-2",
        "C-1,2026-06-03,yes,studio,bridge,2,2,,10,none,both,3,2,2,2,5,good,felt easier,S-2",
        "C-1,2026-06-05,yes,studio,bridge,2,2,,10,none,both,2,2,2,2,5,good,-2 reps on the left,S-2",
    ]
    log = write(tmp_path / "logs", "session_log.csv", SESSION_HEADER + "\n" + "\n".join(rows) + "\n")
    report = load_files(loaded_roster, log)
    assert report.all_readable and report.files[0].rows_loaded == 3, report.files
    return loaded_roster


def test_formula_like_notes_are_neutralised_in_csv_and_xlsx(formula_warehouse, tmp_path):
    with Analytics.open(formula_warehouse, Scope.everyone(), today=pd.Timestamp("2026-06-30").date()) as analytics:
        numbers = tables.client_tables(analytics, "C-1")
    assert FORMULA_NOTE in set(numbers["session log"]["notes"])  # stored as written

    with zipfile.ZipFile(io.BytesIO(tables.export(numbers, "csv", "C-1"))) as archive:
        log = list(csv.DictReader(io.TextIOWrapper(archive.open("C-1_session_log.csv"), encoding="utf-8")))
    assert sorted(r["notes"] for r in log) == sorted(["'" + FORMULA_NOTE, "felt easier", "'-2 reps on the left"])

    workbook = tables.export(numbers, "xlsx", "C-1")
    notes = pd.read_excel(io.BytesIO(workbook), sheet_name="session log", engine="calamine")["notes"]
    assert sorted(notes) == sorted(["'" + FORMULA_NOTE, "felt easier", "'-2 reps on the left"])
    with zipfile.ZipFile(io.BytesIO(workbook)) as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in book.read(n) for n in sheets), "a cell was written as a formula"


def test_a_client_with_no_measures_gets_every_table_with_headers(formula_warehouse):
    with Analytics.open(formula_warehouse, Scope.everyone(), today=pd.Timestamp("2026-06-30").date()) as analytics:
        numbers = tables.client_tables(analytics, "C-2")  # José Byrne: on the roster, nothing logged
    workbook = pd.read_excel(io.BytesIO(tables.export(numbers, "xlsx", "C-2")), sheet_name=None, engine="calamine")
    assert workbook["client"]["display_name"].tolist() == ["José Byrne"]
    assert len(workbook["outcome measures"]) == 0 and list(workbook["outcome measures"].columns) == [
        "measured_on", "instrument", "instrument_name", "score",
    ]  # fmt: skip


def test_the_period_narrows_the_dated_tables(formula_warehouse):
    june_3 = pd.Timestamp("2026-06-03").date()
    with Analytics.open(formula_warehouse, Scope.everyone(), today=pd.Timestamp("2026-06-30").date()) as analytics:
        numbers = tables.client_tables(analytics, "C-1", start=june_3, end=june_3)
    assert numbers["session log"]["notes"].tolist() == ["felt easier"]
    assert numbers["client"][["period_start", "period_end"]].iloc[0].tolist() == [june_3, june_3]


# --- the caseload zip -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smallest_caseload(demo_warehouse) -> tuple[str, pd.DataFrame]:
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        counts = analytics.caseload(None)["clinician_id"].value_counts()
        staff_id = counts.index[-1]
        return staff_id, analytics.caseload(staff_id)


def test_the_caseload_zip_holds_one_report_per_active_client_most_urgent_first(
    demo_warehouse, smallest_caseload, tmp_path
):
    staff_id, caseload = smallest_caseload
    out = tmp_path / "caseload.zip"
    done = hipline("report", *on_demo(demo_warehouse), "--caseload", staff_id, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(caseload)} progress reports" in done.stdout + done.stderr

    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert names[0] == "caseload.csv"
        reports = names[1:]
        assert reports == [
            f"{i:03d} {c.client_id} {c.display_name}.pdf" for i, c in enumerate(caseload.itertuples(), start=1)
        ]
        first = archive.read(reports[0])
        listed = list(csv.DictReader(io.TextIOWrapper(archive.open("caseload.csv"), encoding="utf-8")))
    assert first.startswith(b"%PDF") and caseload["display_name"].iloc[0] in words(first)
    assert [r["client_id"] for r in listed] == caseload["client_id"].tolist()
    assert not list(tmp_path.glob("*.part"))


def test_the_caseload_zip_reports_progress_and_can_be_cancelled(demo_warehouse, smallest_caseload, tmp_path):
    staff_id, caseload = smallest_caseload
    seen: list[tuple[int, int, str]] = []
    out = tmp_path / "caseload.zip"
    with pytest.raises(Cancelled):
        write_caseload_zip(
            demo_warehouse, staff_id, out, today=NEWEST, workers=1, progress=lambda *p: seen.append(p),
            stop=lambda: len(seen) >= 2,
        )  # fmt: skip
    assert not out.exists() and not list(tmp_path.iterdir()), "a cancelled export left a file behind"
    assert [p[:2] for p in seen] == [(1, len(caseload)), (2, len(caseload))]
    assert seen[0][2] == caseload["display_name"].iloc[0]


def test_an_unknown_clinician_is_refused_in_words(demo_warehouse, tmp_path):
    done = hipline("report", *on_demo(demo_warehouse), "--caseload", "S-NOPE", "--out", str(tmp_path / "x.zip"))
    assert done.returncode == 1 and "no staff member 'S-NOPE'" in done.stdout + done.stderr
    assert not list(tmp_path.iterdir())


def test_a_period_before_a_clients_episode_leaves_that_client_out_of_the_zip_and_says_so(formula_warehouse, tmp_path):
    # S-1's active clients: Zoë Ahmed (C-1, from 2 Mar) and José Byrne (C-2, from 6 Apr); Mei Chen ended in June.
    out = tmp_path / "march.zip"
    done = write_caseload_zip(formula_warehouse, "S-1", out, today=date(2026, 6, 30), end=date(2026, 3, 31), workers=1)
    assert (done.clients, done.skipped) == (1, 1)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        note = archive.read("not included.txt").decode()
        report = archive.read(next(n for n in names if n.endswith(".pdf")))
    pdfs = [n for n in names if n.endswith(".pdf")]
    assert len(pdfs) == 1 and pdfs[0].endswith(" C-1 Zoë Ahmed.pdf")
    assert names == ["caseload.csv", pdfs[0], "not included.txt"]
    assert "C-2 José Byrne" in note and "ends (2026-03-31) before it starts (2026-04-06)" in note
    assert "Progress report for 2 Mar 2026 – 31 Mar 2026" in words(report)


def test_the_function_tables_keep_the_instrument_code_and_add_its_name_and_unit(demo_warehouse):
    names = {
        "ODI": "Oswestry Disability Index (0–100)", "LEFS": "Lower Extremity Functional Scale (0–80)",
        "PSFS": "Patient-Specific Functional Scale (0–10)", "HOOS_JR": "HOOS JR (0–100)", "KOOS_JR": "KOOS JR (0–100)",
        "SLS_S_L": "Single-leg stance, left (s)", "SLS_S_R": "Single-leg stance, right (s)",
        "CST30": "30-second chair stand (stands)", "TUG_S": "Timed Up and Go (s)", "NPRS": "Pain (NPRS 0–10)",
    }  # fmt: skip
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        measured = analytics.function_change()["client_id"].iloc[0]
        numbers = tables.client_tables(analytics, measured)
    for sheet in ("function change", "outcome measures"):
        table = numbers[sheet]
        assert len(table), sheet
        columns = list(table.columns)
        assert columns[columns.index("instrument") + 1] == "instrument_name", sheet
        assert (table["instrument_name"] == table["instrument"].map(names)).all(), sheet


def test_a_report_for_the_current_date_says_nothing_more_and_one_for_another_day_says_so(formula_warehouse):
    from reports import render
    from reports.client_report import client_context

    current = date.today().strftime("%-d %b %Y")
    with Analytics.open(formula_warehouse, Scope.everyone()) as analytics:
        made_today = " ".join(render.html("client.html", client_context(analytics, "C-1")).split())
    assert f"numbers as of {current} · made on {current}" in made_today and "not today" not in made_today
    with Analytics.open(formula_warehouse, Scope.everyone(), date(2026, 6, 30)) as analytics:
        for_june = " ".join(render.html("client.html", client_context(analytics, "C-1")).split())
    assert f"These numbers are for 30 Jun 2026, not today: this report was made on {current}." in for_june
