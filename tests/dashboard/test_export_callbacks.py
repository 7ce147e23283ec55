"""The export buttons' callbacks of the client, cohort and caseload pages, called in-process on the
demo warehouse: what they send is read back (pdftotext, pandas, zipfile) and compared with the
analytics layer, never with the page itself."""

from __future__ import annotations

import base64
import io
import time
import zipfile
from datetime import timedelta

import dash
import pandas as pd
import psutil
import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

from analytics import NEWEST, Analytics, Scope
from dashboard import exports, zip_job
from dashboard.app import create_app
from dashboard.pages import caseload as caseload_page
from dashboard.pages import client as client_page
from dashboard.pages import cohorts as cohort_page
from reports.caseload import entry_name
from reports.tables import caseload_tables, client_tables, cohort_tables, file_name
from tests.conftest import few_clients_day
from tests.dashboard.conftest import ADMIN
from tests.reports.pdfs import pdf_info, pdf_text


@pytest.fixture(scope="module")
def demo(demo_warehouse):
    create_app(demo_warehouse, NEWEST)
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        caseload = analytics.caseload(None)
        cohorts = analytics.cohort_summary()
        return {
            "db": demo_warehouse,
            "today": analytics.today,
            "client": caseload.iloc[0].to_dict(),
            "cohort_id": cohorts.sort_values("members", ascending=False)["cohort_id"].iloc[0],
        }


def _content(download: dict) -> bytes:
    assert download["base64"] is True
    return base64.b64decode(download["content"])


def _alert_text(alert) -> str:
    assert alert is not None and alert.id == "export-error" and alert.color == "warning", alert
    return alert.children


def _ids(component) -> set:
    found = set()
    if getattr(component, "id", None) is not None:
        found.add(component.id if isinstance(component.id, str) else str(component.id))
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list | tuple) else [children]:
        if hasattr(child, "to_plotly_json"):
            found |= _ids(child)
    return found


def test_each_page_has_its_export_buttons_and_downloads(demo):
    client = _ids(client_page.layout(demo["client"]["client_id"]))
    cohort = _ids(cohort_page.cohort_page(demo["cohort_id"]))
    caseload = _ids(caseload_page.layout())
    for ids, prefix in ((client, "client"), (cohort, "cohort")):
        assert {f"{prefix}-export-pdf", f"{prefix}-report-download", f"{prefix}-export-xlsx", f"{prefix}-export-csv",
                f"{prefix}-numbers-download", f"{prefix}-export-alert", exports.PAPER_ID} <= ids  # fmt: skip
    assert {"caseload-export-xlsx", "caseload-export-csv", "caseload-numbers-download", "caseload-zip-start",
            "caseload-zip-cancel", "caseload-zip-bar", "caseload-zip-progress", "caseload-zip-download",
            exports.PAPER_ID} <= caseload  # fmt: skip


# --- client ----------------------------------------------------------------------------------------


def test_the_client_progress_report_is_a_pdf_of_that_client_named_for_the_client_and_day(demo):
    client, today = demo["client"], demo["today"]
    download, alert = client_page.export_report(1, today.isoformat(), client["client_id"], None, None, "a4")
    assert alert is None
    assert download["filename"] == f"progress-report_{client['client_id']}_{today.isoformat()}.pdf"
    document = _content(download)
    assert document.startswith(b"%PDF")
    text = pdf_text(document)
    assert client["display_name"] in text
    assert client["client_id"] in text
    assert "(A4)" in pdf_info(document)["Page size"]


def test_the_client_report_covers_the_period_shown_on_letter_paper(demo):
    client, today = demo["client"], demo["today"]
    start, end = today - timedelta(days=20), today - timedelta(days=6)
    download, alert = client_page.export_report(
        1, today.isoformat(), client["client_id"], start.isoformat(), end.isoformat(), "letter"
    )
    assert alert is None
    document = _content(download)
    assert pdf_info(document)["Page size"] == "612 x 792 pts (letter)"
    period = f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"
    assert period in pdf_text(document)


def test_a_client_report_for_a_past_day_is_named_and_computed_for_that_day(demo):
    client = demo["client"]
    past = demo["today"] - timedelta(days=7)
    download, alert = client_page.export_report(1, past.isoformat(), client["client_id"], None, None, "a4")
    assert alert is None
    assert download["filename"].endswith(f"_{past.isoformat()}.pdf")
    assert f"numbers as of {past.day} {past:%b %Y}" in pdf_text(_content(download))


def test_an_unknown_client_or_an_impossible_period_says_so_and_sends_nothing(demo):
    today = demo["today"].isoformat()
    download, alert = client_page.export_report(1, today, "C-99999", None, None, "a4")
    assert download is dash.no_update
    assert "C-99999" in _alert_text(alert) and "Traceback" not in _alert_text(alert)
    client_id = demo["client"]["client_id"]
    download, alert = client_page.export_report(1, today, client_id, "2026-10-20", "2026-10-01", "a4")
    assert download is dash.no_update
    assert "ends" in _alert_text(alert) and "before it starts" in _alert_text(alert)


def test_the_client_numbers_as_xlsx_hold_one_sheet_per_table_of_the_period_shown(demo, clicked):
    client, today = demo["client"], demo["today"]
    start = today - timedelta(days=13)
    with clicked("client-export-xlsx"):
        download, alert = client_page.export_numbers(
            1, None, today.isoformat(), client["client_id"], start.isoformat(), None
        )
    assert alert is None
    assert download["filename"] == f"numbers_{client['client_id']}_{today.isoformat()}.xlsx"
    sheets = pd.read_excel(io.BytesIO(_content(download)), sheet_name=None, engine="calamine")
    with Analytics.open(demo["db"], Scope.everyone(), NEWEST) as analytics:
        expected = client_tables(analytics, client["client_id"], start, today)
    assert list(sheets) == [name[:31] for name in expected]
    assert {"client", "session log", "pain ratings", "weekly"} <= set(sheets)
    assert sheets["client"]["display_name"].tolist() == [client["display_name"]]
    log = sheets["session log"]
    assert len(log) == len(expected["session log"]) > 0
    assert pd.to_datetime(log["session_date"]).min() >= pd.Timestamp(start)


def test_the_client_numbers_as_csv_are_a_zip_of_one_file_per_table(demo, clicked):
    client, today = demo["client"], demo["today"]
    with clicked("client-export-csv"):
        download, alert = client_page.export_numbers(None, 1, today.isoformat(), client["client_id"], None, None)
    assert alert is None
    assert download["filename"] == f"numbers_{client['client_id']}_{today.isoformat()}.zip"
    archive = zipfile.ZipFile(io.BytesIO(_content(download)))
    with Analytics.open(demo["db"], Scope.everyone(), NEWEST) as analytics:
        expected = client_tables(analytics, client["client_id"])
    assert archive.namelist() == [f"{file_name(client['client_id'])}_{file_name(name)}.csv" for name in expected]
    log = pd.read_csv(archive.open(f"{client['client_id']}_session_log.csv"))
    assert len(log) == len(expected["session log"])


def test_the_numbers_of_an_unknown_client_say_so(demo, clicked):
    with clicked("client-export-xlsx"):
        download, alert = client_page.export_numbers(1, None, demo["today"].isoformat(), "C-99999", None, None)
    assert download is dash.no_update
    assert "C-99999" in _alert_text(alert)


def test_no_numbers_without_a_click(demo):
    token = context_value.set(AttributeDict(triggered_inputs=[{"prop_id": ".", "value": None}]))
    try:
        assert client_page.export_numbers(None, None, None, demo["client"]["client_id"], None, None) == (
            dash.no_update, dash.no_update,
        )  # fmt: skip
    finally:
        context_value.reset(token)


# --- cohort ----------------------------------------------------------------------------------------


def test_the_cohort_report_is_a_pdf_of_that_cohort(demo):
    cohort_id, today = demo["cohort_id"], demo["today"]
    with Analytics.open(demo["db"], Scope.everyone(), NEWEST) as analytics:
        roster = analytics.cohorts()
    name = roster.loc[roster["cohort_id"] == cohort_id, "name"].iloc[0]
    download, alert = cohort_page.export_report(1, today.isoformat(), cohort_id, "a4")
    assert alert is None
    assert download["filename"] == f"cohort-report_{cohort_id}_{today.isoformat()}.pdf"
    document = _content(download)
    assert document.startswith(b"%PDF")
    assert name in pdf_text(document)


def test_an_unknown_cohort_says_so(demo, clicked):
    download, alert = cohort_page.export_report(1, demo["today"].isoformat(), "G-NOPE", "a4")
    assert download is dash.no_update and "G-NOPE" in _alert_text(alert)
    with clicked("cohort-export-csv"):
        download, alert = cohort_page.export_numbers(None, 1, demo["today"].isoformat(), "G-NOPE")
    assert download is dash.no_update and "G-NOPE" in _alert_text(alert)


def test_the_cohort_numbers_as_xlsx_have_the_members_and_the_charts_tables(demo, clicked):
    cohort_id, today = demo["cohort_id"], demo["today"]
    with clicked("cohort-export-xlsx"):
        download, alert = cohort_page.export_numbers(1, None, today.isoformat(), cohort_id)
    assert alert is None
    assert download["filename"] == f"numbers_{cohort_id}_{today.isoformat()}.xlsx"
    sheets = pd.read_excel(io.BytesIO(_content(download)), sheet_name=None, engine="calamine")
    with Analytics.open(demo["db"], Scope.everyone(), NEWEST) as analytics:
        expected = cohort_tables(analytics, cohort_id)
        members = analytics.cohort_members(cohort_id)
    assert list(sheets) == list(expected)
    assert sorted(sheets["members"]["client_id"]) == sorted(members["client_id"])


# --- caseload --------------------------------------------------------------------------------------


@pytest.mark.parametrize("clinician", ["S-001", caseload_page.EVERYONE])
def test_the_caseload_numbers_are_the_caseload_of_the_clinician_chosen(demo, clicked, clinician):
    today = demo["today"]
    with clicked("caseload-export-csv"):
        download, alert = caseload_page.export_numbers(None, 1, today.isoformat(), clinician)
    assert alert is None
    who = "all" if clinician == caseload_page.EVERYONE else clinician
    assert download["filename"] == f"numbers_caseload-{who}_{today.isoformat()}.zip"
    archive = zipfile.ZipFile(io.BytesIO(_content(download)))
    with Analytics.open(demo["db"], Scope.everyone(), NEWEST) as analytics:
        expected = caseload_tables(analytics, None if who == "all" else who)
    assert archive.namelist() == [f"caseload-{who}_{file_name(name)}.csv" for name in expected]
    caseload = pd.read_csv(archive.open(f"caseload-{who}_caseload.csv"))
    assert caseload["client_id"].tolist() == expected["caseload"]["client_id"].tolist()


def test_the_zip_of_progress_reports_has_one_pdf_per_active_client_and_says_how_far_it_is(demo):
    day, caseload = few_clients_day(demo["db"], "S-001")
    seen = []
    download, done = caseload_page.zip_reports(seen.append, 1, day.isoformat(), "S-001", "letter")
    total = len(caseload)
    assert seen == [[i, total, f"{i} of {total} · {name}"] for i, name in enumerate(caseload["display_name"], start=1)]
    assert download["filename"] == f"progress-reports_S-001_{day.isoformat()}.zip"
    archive = zipfile.ZipFile(io.BytesIO(_content(download)))
    pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert pdfs == [entry_name(i, c) for i, c in enumerate(caseload.to_dict("records"), start=1)]
    first = archive.read(pdfs[0])
    assert first.startswith(b"%PDF") and pdf_info(first)["Page size"] == "612 x 792 pts (letter)"
    assert caseload["display_name"].iloc[0] in pdf_text(first)
    assert done.id == "zip-done" and done.children.startswith(f"{total} progress report")
    assert not [f for f in (exports.jobs_folder(demo["db"]) / "zips").iterdir() if "S-001" in f.name]


def test_two_starts_of_the_same_zip_are_two_jobs_whoever_started_them(demo):
    """Dash keys a background job by its callback's arguments: a physio's and an admin's "All clinicians"
    on the same day would share one result, and either could be handed the other's zip."""
    manager = exports.background_manager(demo["db"])
    same = [1, demo["today"].isoformat(), "__all__", "a4"]
    dashs = {dash.DiskcacheManager.build_cache_key(manager, caseload_page.zip_reports, same, [], None) for _ in "ab"}
    ours = {manager.build_cache_key(caseload_page.zip_reports, same, [], None) for _ in "ab"}
    assert len(dashs) == 1 and len(ours) == 2


def test_a_stopped_zip_ends_its_process_and_leaves_no_file(demo, tmp_path):
    """What Cancel and a server that went away rely on: the reports' process stops between two
    clients, removes what it had written and takes its workers with it."""
    out = tmp_path / "all.zip"
    seen = []
    started, begun = time.monotonic(), time.time()
    with pytest.raises(zip_job.ZipStopped):
        zip_job.make_caseload_zip(
            demo["db"], None, out, today=demo["today"], paper="a4", red_flags=None,
            progress=lambda *done: seen.append(done), stop=lambda: bool(seen), viewer=ADMIN,
        )  # fmt: skip
    assert len(seen) == 1 and seen[0][1] > 10, "stopped after the first of many clients"
    assert time.monotonic() - started < 60
    assert list(tmp_path.iterdir()) == []
    left = [p for p in psutil.Process().children(recursive=True) if p.create_time() >= begun]
    assert [" ".join(p.cmdline()) for p in left if "spawn" in " ".join(p.cmdline())] == []
