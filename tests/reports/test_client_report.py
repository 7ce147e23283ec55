"""The client's progress report, read back from the PDF with pdftotext: the same numbers as
`hipline metrics` and `hipline recommend`, the charts drawn, A4 or Letter."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from analytics import NEWEST, Analytics, Scope
from analytics.decisions import record
from analytics.reviews import record_review
from reports.client_report import client_context, client_report_pdf
from tests.conftest import copy_warehouse, query
from tests.reports.pdfs import (
    body_lines,
    dark_share,
    hipline,
    hipline_process,
    on_demo,
    page_texts,
    pdf_info,
    pdf_text,
)

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
    # The pain chart fills the middle of page 1, under the goals and flags: that band is drawn on, not blank paper.
    assert dark_share(pdf, 1, 0.4, 0.65) > 0.03


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


# --- what the clinicians add: goals, flags, red-flag reviews, decisions, the signature -------------


@pytest.fixture(scope="module")
def clinic(demo_warehouse, tmp_path_factory) -> SimpleNamespace:
    """A copy of the demo with records set by hand, as of its newest day (`today`):
    - `open_note`: a client with a red-flag note in the last 14 days that no review covers (refer);
    - `referred`: a client whose red-flag notes a physio reviewed today and referred to an orthopaedic
      consultant;
    - `decided`: a client with a recommendation to progress overridden (hold, with a reason) by another
      physio two days ago, and another recommendation accepted by their own clinician today;
    and each one's progress report as PDF bytes (`pdfs`)."""
    db = copy_warehouse(demo_warehouse, tmp_path_factory.mktemp("clinic") / "hipline.duckdb")
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        today = analytics.today
        clients = analytics.client_metrics()
        names = dict(zip(analytics.staff()["staff_id"], analytics.staff()["name"], strict=True))
        physios = analytics.staff().query("role == 'physio'")["staff_id"].tolist()
        open_note = clients[clients["flags"].str.contains("refer")]["client_id"].iloc[0]
        notes = analytics.red_flag_notes()
        referred = notes[notes["client_id"] != open_note]["client_id"].iloc[0]
        recs = analytics.recommendations()
        calm = clients[~clients["flags"].str.contains("refer|on_hold")]["client_id"]
        progressing = recs[recs["client_id"].isin(calm) & (recs["decision"] == "progress")]
        decided = progressing["client_id"].iloc[0]
        mine = recs[recs["client_id"] == decided]
        overridden = mine[mine["decision"] == "progress"].iloc[0].to_dict()
        accepted = mine[mine["ladder"] != overridden["ladder"]].iloc[0].to_dict()
        clinician = {c: analytics.client(c)["clinician_id"] for c in (open_note, referred, decided)}
    reviewer = next(p for p in physios if p != clinician[referred])
    record_review(db, referred, outcome="referred", referred_to="orthopaedic consultant", reviewed_by=reviewer,
                  note="Fall and night pain: to be seen before any more loading", reviewed_on=today)  # fmt: skip
    overrider = next(p for p in physios if p != clinician[decided])
    two_days_ago = today - timedelta(days=2)
    record(db, overridden, decided_by=overrider, action="override", decision="hold",
           reason="Sore knee after gardening: one more week at this dose", as_of=two_days_ago,
           decided_on=two_days_ago)  # fmt: skip
    record(db, accepted, decided_by=clinician[decided], action="accept", as_of=today, decided_on=today)
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        pdfs = {c: client_report_pdf(analytics, c)[0] for c in (open_note, referred, decided)}
    return SimpleNamespace(
        db=db, today=today, names=names, clinician=clinician, open_note=open_note, referred=referred,
        reviewer=reviewer, decided=decided, overridden=overridden, accepted=accepted, overrider=overrider,
        two_days_ago=two_days_ago, pdfs=pdfs,
    )  # fmt: skip


def _day(value: date) -> str:
    return value.strftime("%-d %b %Y")


def _words(text: str) -> str:
    return " ".join(text.split())


def test_the_first_page_holds_the_goals_and_each_flag_with_its_evidence(clinic):
    with Analytics.open(clinic.db, Scope.everyone(), NEWEST) as analytics:
        client = analytics.client(clinic.open_note)
    first_page = _words(page_texts(clinic.pdfs[clinic.open_note])[0])
    assert "GOALS" in first_page and client["goals"] in first_page
    lines = client["flag_evidence"].splitlines()
    assert len(lines) == len(client["flags"].split(";")) >= 1
    for line in lines:  # "refer: "knee giving way on stairs" on 26 Oct, not reviewed"
        flag, why = line.split(": ", 1)
        assert f"{flag.replace('_', ' ')}: {_words(why)}" in first_page


def test_an_open_red_flag_note_is_on_the_first_page_with_its_signs(clinic):
    with Analytics.open(clinic.db, Scope.everyone(), NEWEST) as analytics:
        notes = analytics.red_flag_notes(clinic.open_note)
    newest_open = notes[~notes["reviewed"]].iloc[0]
    first_page = _words(page_texts(clinic.pdfs[clinic.open_note])[0])
    assert "Red flags and reviews" in first_page
    assert f"{_day(newest_open['session_date'])} {newest_open['signs']}" in first_page
    assert f"“{_words(newest_open['note'])}”" in first_page and "open: not reviewed" in first_page
    assert "Not reviewed yet: a physiotherapist reviews these notes" in first_page


def test_a_client_to_refer_has_one_refer_block_with_its_why_not_one_per_exercise(clinic):
    with Analytics.open(clinic.db, Scope.everyone(), NEWEST) as analytics:
        recs = analytics.recommendations(clinic.referred)
    assert len(recs) > 1 and set(recs["decision"]) == {"refer"}
    text = _words(" ".join(page_texts(clinic.pdfs[clinic.referred])))
    assert text.count("All exercises ·") == 1 and "REFER: nothing is progressed until a review clears it" in text
    assert recs["why"].iloc[0] in text and recs["why"].iloc[0].startswith("on hold: referred to orthopaedic consultant")
    assert "pain during last 3:" not in text  # no exercise's checks: nothing is decided per exercise


def test_a_review_says_its_outcome_to_whom_who_and_when_and_which_notes_it_covers(clinic):
    text = _words(pdf_text(clinic.pdfs[clinic.referred]))
    today = _day(clinic.today)
    reviewer = clinic.names[clinic.reviewer]
    # pdftotext reads a table a cell at a time, so each cell is looked for on its own (there is one review).
    assert f"{today} {reviewer}" in text and "referred to orthopaedic consultant" in text
    assert "Fall and night pain: to be seen before any more loading" in text
    assert f"reviewed {today} (referred)" in text and "open: not reviewed" not in text
    # The flags near the top say the client is on hold, and to whom.
    assert f"on hold: referred to orthopaedic consultant on {clinic.today:%-d %b}" in _words(
        page_texts(clinic.pdfs[clinic.referred])[0]
    )
    # No note is open, so the red flags follow the decisions, at the end.
    assert text.index("Clinicians’ decisions in this period") < text.index("Red flags and reviews")


def test_the_decisions_of_the_period_say_accepted_or_overridden_why_who_and_when(clinic):
    text = _words(pdf_text(clinic.pdfs[clinic.decided]))
    overridden, accepted = clinic.overridden, clinic.accepted
    # pdftotext reads a table a cell at a time: each cell is looked for on its own.
    assert f"{_day(clinic.two_days_ago)} {clinic.names[clinic.overrider]}" in text
    assert f"{overridden['exercise']}, {overridden['dose']}" in text
    assert "overridden: hold (recommended: progress)" in text
    assert "Sore knee after gardening: one more week at this dose" in text
    assert f"goes on with {overridden['exercise']}, {overridden['dose']}" in text  # hold keeps the dose
    assert f"{_day(clinic.today)} {clinic.names[clinic.clinician[clinic.decided]]}" in text
    assert f"accepted: {accepted['decision']}" in text and "as recommended" in text
    assert f"goes on with {accepted['next_exercise']}, {accepted['next_dose']}" in text


def test_the_report_ends_with_a_signature_line_for_the_clinician_and_the_day_it_was_made(clinic):
    for client_id, pdf in clinic.pdfs.items():
        last_page = _words(page_texts(pdf)[-1])
        name = clinic.names[clinic.clinician[client_id]]
        assert re.search(rf"Clinician: {re.escape(name)} · Signature _{{10,}} · Date _{{10,}}", last_page), last_page
        assert f"Made on {_day(date.today())}, with the numbers as of {_day(clinic.today)}." in last_page


def test_no_page_holds_only_a_line_or_two(clinic):
    # The old report's last page held a heading and "no red flag" alone. A heading, one sentence and the
    # signature (4 lines) is still a page nobody needs: every page holds at least 5 lines besides the
    # running footer. The hand-set clients, and every 15th client of the demo.
    with Analytics.open(clinic.db, Scope.everyone(), NEWEST) as analytics:
        sample = analytics.client_metrics()["client_id"].iloc[::15].tolist()
        pdfs = dict(clinic.pdfs) | {c: client_report_pdf(analytics, c)[0] for c in sample}
    for client_id, pdf in pdfs.items():
        pages = page_texts(pdf)
        assert len(pages) == int(pdf_info(pdf)["Pages"])
        for number, page in enumerate(pages, start=1):
            assert len(body_lines(page)) >= 5, f"{client_id} page {number} of {len(pages)}:\n{page}"


def test_the_period_narrows_the_decisions_and_reviews_but_never_hides_an_open_red_flag(clinic):
    with Analytics.open(clinic.db, Scope.everyone(), NEWEST) as analytics:
        decided = client_context(analytics, clinic.decided, start=clinic.today)
        open_note = client_context(analytics, clinic.open_note, start=clinic.today, end=clinic.today)
        referred = client_context(analytics, clinic.referred, end=clinic.today - timedelta(days=1))
        notes = analytics.red_flag_notes(clinic.open_note)
    # The override two days ago is before the period; the acceptance today is in it.
    assert [(d["action"], d["by"]) for d in decided["decisions"]] == [
        ("accepted", clinic.names[clinic.clinician[clinic.decided]])
    ]
    # A note before the period that no review covers is still shown (and puts the section on page 1).
    assert [r["note"] for r in open_note["red_flags"]] == notes[~notes["reviewed"]]["note"].tolist()
    assert all(r["open"] for r in open_note["red_flags"])
    # The review (today) is after a period that ends yesterday; the notes it covers still say so.
    assert referred["reviews"] == []
    assert {r["status"] for r in referred["red_flags"]} == {f"reviewed {_day(clinic.today)} (referred)"}
