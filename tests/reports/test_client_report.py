"""The client's progress report, read back from the PDF with pdftotext: the same numbers as
`hipline metrics` and `hipline recommend`, the charts drawn, A4 or Letter."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analytics import Analytics, Scope
from tests.conftest import chromium_path, in_ci, query

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _needs_chromium_and_poppler():
    if chromium_path() is None or shutil.which("pdftotext") is None:
        if in_ci():
            pytest.fail("CI=true but Chromium or poppler-utils is missing: the report tests must run in CI")
        pytest.skip("the charts need Chromium (kaleido) and the checks poppler-utils")


def hipline(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hipline.cli", *args], capture_output=True, text=True, timeout=300)


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def pdf_info(pdf: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in out.splitlines() if ":" in line)}


def dark_share(pdf: Path, page: int, top: float, bottom: float) -> float:
    """The share of non-white pixels in a band of a page (0 = top, 1 = bottom), from pdftoppm's PGM."""
    raw = subprocess.run(
        ["pdftoppm", "-gray", "-r", "40", "-f", str(page), "-l", str(page), str(pdf)], capture_output=True, check=True
    ).stdout
    header, pixels = raw.split(b"\n", 3)[:3], raw.split(b"\n", 3)[3]
    width, height = (int(v) for v in header[1].split())
    band = pixels[int(top * height) * width : int(bottom * height) * width]
    return sum(1 for value in band if value < 200) / max(len(band), 1)


@pytest.fixture(scope="module")
def numbers(demo_warehouse, tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("metrics")
    assert hipline("metrics", "--db", str(demo_warehouse), "--out", str(out)).returncode == 0
    with open(out / "client_metrics.csv", encoding="utf-8") as f:
        return {row["client_id"]: row for row in csv.DictReader(f)}


def _percent(text: str) -> str:
    return f"{round(100 * float(text)):.0f} %"


def test_the_report_shows_the_numbers_of_hipline_metrics_and_the_recommendations(demo_warehouse, numbers, tmp_path):
    with Analytics.open(demo_warehouse, Scope.everyone()) as analytics:
        recs = analytics.recommendations()
        client_id = recs["client_id"].value_counts().index[0]
        client = analytics.client(client_id)
        mine = recs[recs["client_id"] == client_id]
        today = analytics.today
    pdf = tmp_path / "report.pdf"
    done = hipline("report", "--db", str(demo_warehouse), "--client", client_id, "--out", str(pdf))
    assert done.returncode == 0, done.stdout + done.stderr

    text = " ".join(pdf_text(pdf).split())
    row = numbers[client_id]
    assert client["display_name"] in text
    start = client["start_date"].strftime("%-d %b %Y")
    assert f"Progress report for {start} – {today.strftime('%-d %b %Y')}" in text
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
    assert hipline("report", "--db", str(demo_warehouse), "--client", client_id, "--out", str(pdf)).returncode == 0
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
    done = hipline("report", "--db", str(demo_warehouse), "--client", client_id, "--out", str(pdf), "--paper", "letter")
    assert done.returncode == 0, done.stderr
    text = " ".join(pdf_text(pdf).split())
    assert "No function scores recorded yet" in text
    assert "Adherence, last 4 weeks".upper() in text.upper()
    assert "612 x 792" in pdf_info(pdf)["Page size"]


def test_an_unknown_client_is_refused_with_a_reason(demo_warehouse, tmp_path):
    done = hipline("report", "--db", str(demo_warehouse), "--client", "C-99999", "--out", str(tmp_path / "x.pdf"))
    assert done.returncode == 1
    assert "no client 'C-99999'" in done.stdout + done.stderr
    assert not (tmp_path / "x.pdf").exists()
