"""The client's progress report, read back from the PDF with pdftotext: the same numbers as
`hipline metrics` and `hipline recommend`, the charts drawn, A4 or Letter."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from analytics import NEWEST, Analytics, Scope
from tests.conftest import query
from tests.reports.pdfs import dark_share, hipline, hipline_process, on_demo, pdf_info, pdf_text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def numbers(metrics) -> dict[str, dict]:
    with open(metrics / "client_metrics.csv", encoding="utf-8") as f:
        return {row["client_id"]: row for row in csv.DictReader(f)}


def _percent(text: str) -> str:
    return f"{round(100 * float(text)):.0f} %"


def test_the_report_shows_the_numbers_of_hipline_metrics_and_the_recommendations(demo_warehouse, numbers, tmp_path):
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        recs = analytics.recommendations()
        client_id = recs["client_id"].value_counts().index[0]
        client = analytics.client(client_id)
        mine = recs[recs["client_id"] == client_id]
        today = analytics.today
    pdf = tmp_path / "report.pdf"
    done = hipline_process("report", *on_demo(demo_warehouse), "--client", client_id, "--out", str(pdf))
    assert done.returncode == 0, done.stdout + done.stderr

    text = " ".join(pdf_text(pdf).split())
    row = numbers[client_id]
    assert client["display_name"] in text
    start = client["start_date"].strftime("%-d %b %Y")
    assert f"Progress report for {start} – {today.strftime('%-d %b %Y')}" in text
    # The demo's newest session is weeks before the day the report is made: it says so under the title.
    made_on = date.today().strftime("%-d %b %Y")
    assert f"These numbers are for {today:%-d %b %Y}, not today: this report was made on {made_on}." in text
    assert _percent(row["adherence_last_4_weeks"]) in text and f"overall {_percent(row['adherence_overall'])}" in text
    baseline, current = (f"{float(row[k]):.1f}" if row[k] else "–" for k in ("pain_baseline", "pain_current"))
    assert f"{baseline} → {current}" in text
    status_words = {
        "improved": "clinically important improvement",
        "worse": "clinically important worsening",
        "no important change": "no clinically important change",
        "not enough data": "not enough data",
    }[row["pain_status"]]
    assert status_words in text
    for rec in mine.itertuples():
        assert rec.decision.upper() in text
        if rec.decision != "refer":
            assert f"{rec.next_exercise}, {rec.next_dose}" in text
    info = pdf_info(pdf)
    assert 2 <= int(info["Pages"]) <= 8
    assert "595.2" in info["Page size"]  # A4: 595 × 842 pt
    assert f"Page 1 of {info['Pages']}" in text


def test_the_charts_are_drawn(demo_warehouse, tmp_path):
    client_id = query(demo_warehouse, "SELECT client_id FROM measures GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")[0][0]
    pdf = tmp_path / "report.pdf"
    assert hipline("report", *on_demo(demo_warehouse), "--client", client_id, "--out", str(pdf)).returncode == 0
    text = pdf_text(pdf)
    assert "Pain (0–10)" in text and "Sessions attended" in text  # the charts' axis titles
    # The pain chart fills the middle of page 1: that band is drawn on, not blank paper.
    assert dark_share(pdf, 1, 0.3, 0.55) > 0.03


def test_a_client_without_measures_still_gets_a_useful_report_on_letter_paper(demo_warehouse, tmp_path):
    client_id = query(
        demo_warehouse,
        "SELECT client_id FROM clients WHERE client_id NOT IN (SELECT client_id FROM measures) ORDER BY 1 LIMIT 1",
    )[0][0]
    pdf = tmp_path / "report.pdf"
    done = hipline("report", *on_demo(demo_warehouse), "--client", client_id, "--out", str(pdf), "--paper", "letter")
    assert done.returncode == 0, done.stderr
    text = " ".join(pdf_text(pdf).split())
    assert "No function scores recorded yet" in text
    assert "Adherence, last 4 weeks".upper() in text.upper()
    assert "612 x 792" in pdf_info(pdf)["Page size"]


def test_an_unknown_client_is_refused_with_a_reason(demo_warehouse, tmp_path):
    done = hipline("report", *on_demo(demo_warehouse), "--client", "C-99999", "--out", str(tmp_path / "x.pdf"))
    assert done.returncode == 1
    assert "no client 'C-99999'" in done.stdout + done.stderr
    assert not (tmp_path / "x.pdf").exists()
