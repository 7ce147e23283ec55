"""A client's progress report (docs/reports.md): for the client, a referring doctor or an insurer.

Client and period, clinician, the client's goals, the flags with their evidence, adherence, pain
baseline -> current with its MCID status in words, function scores with change and MCID status, the
pain and adherence charts, red-flag notes and their reviews (on the first page when a note is open),
current exercises and the recommended progressions led by why, the clinicians' decisions in the
period, a line for the clinician's signature, the day it was made, page x of y.
Numbers come from the analytics layer (the same as `hipline metrics` and the pages); charts from the
pages' figure builders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from analytics import Analytics
from analytics.definitions import function_threshold
from etl.instruments import INSTRUMENT_LABELS
from presentation import figures
from presentation.formats import day, either, missing, pain, percent, signed
from presentation.in_words import PAIN_STATUS_WORDS, TEMPLATE_RULES
from reports import render
from reports.charts import Chart

REVIEW_OUTCOME_WORDS = {
    "cleared": "cleared: safe to continue",
    "paused": "paused: exercise stops until a later review",
}
FUNCTION_STATUS_WORDS = {
    "improved": "clinically important improvement",
    "worse": "clinically important worsening",
    "no important change": "no clinically important change",
    "not enough data": "not enough data (fewer than 2 scores)",
}


class ReportError(ValueError):
    """A report that cannot be made; the message says why."""


class NotFound(ReportError):
    """No such client, cohort or clinician for whoever asked: not in the warehouse, or not in their
    scope (the two read the same, docs/security.md#roles-and-what-each-may-do)."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date


def client_period(client: dict, start: date | None, end: date | None, today: date) -> Period:
    """The period a report covers: by default from the episode's start to the day reviewed."""
    period = Period(start or pd.Timestamp(client["start_date"]).date(), end or today)
    if period.end < period.start:
        raise ReportError(f"the period ends ({period.end}) before it starts ({period.start})")
    return period


def client_context(analytics: Analytics, client_id: str, start: date | None = None, end: date | None = None) -> dict:
    """Everything the client report shows, as plain values (also what the tests check)."""
    client = analytics.client(client_id)
    if client is None:
        raise NotFound(f"there is no client {client_id!r} in the warehouse as of {analytics.today.isoformat()}")
    period = client_period(client, start, end, analytics.today)
    weekly = analytics.client_weekly(client_id)
    sessions = analytics.sessions(client_id)
    red_flags = analytics.red_flag_notes(client_id)
    function = analytics.function_change(client_id)
    measures = analytics.measures(client_id)
    recommendations = analytics.recommendations(client_id)
    shown = figures.period_range(period.start, period.end)
    pain_chart = figures.pain_chart(analytics.pain_points(client_id), weekly, sessions, red_flags, client, shown)
    # Newest first. A client with no review by today (most) has no review_outcome: no query for them.
    reviews = analytics.red_flag_reviews(client_id).to_dict("records") if client["review_outcome"] else []
    return {
        "client": client,
        "clinician": client["clinician_name"] or client["clinician_id"] or "–",
        "flags": flags_with_evidence(client),
        "period": period,
        "today": analytics.today,
        "made_on": date.today(),
        "rules": TEMPLATE_RULES,
        "adherence": {
            "overall": percent(client["adherence_overall"]),
            "last_4_weeks": percent(client["adherence_last_4_weeks"]),
            "weeks": [
                {
                    "week": int(r.program_week),
                    "attended": int(r.attended),
                    "target": int(r.target),
                    "adherence": percent(r.adherence),
                }
                for r in weekly.itertuples(index=False)
            ],
        },
        "pain": {
            "baseline": pain(client["pain_baseline"]),
            "current": pain(client["pain_current"]),
            "trend": signed(client["pain_trend_per_week"]),
            "status": client["pain_status"],
            "status_words": PAIN_STATUS_WORDS.get(client["pain_status"], client["pain_status"]),
        },
        "function": [
            {
                "instrument": INSTRUMENT_LABELS.get(r.instrument, r.instrument),
                "first": pain(r.first_score),
                "first_on": day(r.first_on),
                "latest": pain(r.latest_score),
                "latest_on": day(r.latest_on),
                "change": signed(r.change),
                "threshold": f"{function_threshold(r.instrument).kind} {r.threshold:g}",
                "status": r.status,
                "status_words": FUNCTION_STATUS_WORDS.get(r.status, r.status),
            }
            for r in function.itertuples(index=False)
        ],
        # rule 1 holds for the client, not an exercise: one block, as on the page (docs/recommendations.md)
        "referred": _referred(recommendations),
        "recommendations": [
            {
                "family": either(rec["family_label"], rec["exercise"]),
                "exercise": rec["exercise"],
                "dose": rec["dose"],
                "decision": rec["decision"],
                "why": rec["why"],
                "next_exercise": rec["next_exercise"],
                "next_dose": rec["next_dose"],
                "evidence": list(rec["evidence"]),
            }
            for rec in recommendations.to_dict("records")
            if rec["decision"] != "refer"
        ],
        "red_flags": red_flag_notes(red_flags, reviews, period),
        "reviews": red_flag_reviews(reviews, period),
        "decisions": decisions_in(analytics.decisions(client_id), period),
        "charts": {"pain": Chart(pain_chart), "adherence": Chart(figures.adherence_bars(weekly), height=280)},
        "no_measures": measures.empty,
    }


def flags_with_evidence(client: dict) -> list[dict]:
    """The client's flags in priority order, each with its evidence in words (docs/metrics.md)."""
    lines = (client["flag_evidence"] or "").splitlines()
    evidence = dict(line.split(": ", 1) for line in lines if ": " in line)
    return [
        {"flag": flag, "name": flag.replace("_", " "), "evidence": evidence.get(flag, "")}
        for flag in (client["flags"] or "").split(";")
        if flag
    ]


def red_flag_notes(notes: pd.DataFrame, reviews: list[dict], period: Period) -> list[dict]:
    """The red-flag notes of the period, and any note before it that no review covers yet (an open red
    flag is never left out of a report), newest first, each with the review that covers it."""
    first, last = pd.Timestamp(period.start), pd.Timestamp(period.end)
    shown = notes[(notes["session_date"] <= last) & ((notes["session_date"] >= first) | ~notes["reviewed"])]
    rows = []
    for note in shown.itertuples(index=False):
        # A review covers the notes dated on or before its day: the first review on or after the note's.
        covering = next((r for r in reversed(reviews) if r["reviewed_on"] >= note.session_date), None)
        status = "open: not reviewed"
        if note.reviewed and covering is not None:
            status = f"reviewed {day(covering['reviewed_on'])} ({covering['outcome']})"
        rows.append(
            {"day": day(note.session_date), "signs": note.signs, "note": note.note, "open": not note.reviewed,
             "status": status}
        )  # fmt: skip
    return rows


def red_flag_reviews(reviews: list[dict], period: Period) -> list[dict]:
    """The red-flag reviews made in the period, newest first: when, who, the outcome (and to whom), the note."""
    first, last = pd.Timestamp(period.start), pd.Timestamp(period.end)
    return [
        {
            "day": day(r["reviewed_on"]),
            "by": either(r["reviewer"], r["reviewed_by"]),
            "outcome": f"referred to {r['referred_to']}" if r["outcome"] == "referred"
            else REVIEW_OUTCOME_WORDS[r["outcome"]],
            "note": r["note"],
        }
        for r in reviews
        if first <= r["reviewed_on"] <= last
    ]  # fmt: skip


def decisions_in(decisions: pd.DataFrame, period: Period) -> list[dict]:
    """The clinicians' decisions on recommendations made in the period, oldest first: when, who, the
    recommendation shown, accepted or overridden (and what instead), what the client goes on with, why."""
    days = decisions["decided_on"].astype(str)
    in_period = decisions[(days >= period.start.isoformat()) & (days <= period.end.isoformat())]
    rows = []
    for d in in_period.to_dict("records"):
        accepted = d["action"] == "accept"
        rows.append(
            {
                "day": day(d["decided_on"]),
                "by": either(d["decider"], d["decided_by"]),
                "exercise": f"{d['shown_exercise']}, {d['shown_dose']}",
                "recommended": d["shown_decision"],
                "action": "accepted" if accepted else "overridden",
                "decision": d["decision"],
                "goes_on_with": _goes_on_with(d),
                "reason": either(d["reason"], "as recommended" if accepted else "–"),
            }
        )
    return rows


def _goes_on_with(decision: dict) -> str:
    """The exercise and dose the client goes on with: as recommended, as before, or as the override set."""
    if decision["action"] == "accept":
        return f"{decision['shown_next_exercise']}, {decision['shown_next_dose']}"
    if not int(decision["changes"]):
        return f"{decision['shown_exercise']}, {decision['shown_dose']}"
    return _prescribed(decision)


def _prescribed(decision: dict) -> str:
    """The exercise and dose an override sets, in words: `bridge, 3 × 10 s hold, tempo 3-1-3`."""
    sets, reps, hold_s = (None if missing(decision[k]) else int(decision[k]) for k in ("sets", "reps", "hold_s"))
    amount = f"{reps}" if reps is not None else f"{hold_s} s hold" if hold_s is not None else "?"
    tempo = "" if missing(decision["tempo"]) else f", tempo {decision['tempo']}"
    return f"{decision['exercise']}, {'?' if sets is None else sets} × {amount}{tempo}"


def client_report_pdf(
    analytics: Analytics, client_id: str, start: date | None = None, end: date | None = None, paper: str = "a4"
) -> tuple[bytes, dict]:
    """The client's progress report as PDF bytes, and what it shows."""
    context = client_context(analytics, client_id, start, end)
    return client_report_from_context(context, paper), context


def client_report_from_context(context: dict, paper: str = "a4") -> bytes:
    """The PDF of a context made by `client_context`: needs no warehouse (the pages make the context
    while they hold the analytics, and lay out the PDF after letting go)."""
    return render.pdf("client.html", context, context["charts"], paper)


def write_client_report(
    analytics: Analytics,
    client_id: str,
    out: Path,
    start: date | None = None,
    end: date | None = None,
    paper: str = "a4",
) -> dict:
    """Write the client's progress report as PDF to `out`; returns what it shows."""
    document, context = client_report_pdf(analytics, client_id, start, end, paper)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(document)
    return context


def _referred(recommendations) -> dict | None:
    """Why every exercise is held at refer (the red-flag note or the review behind it), and which."""
    referred = recommendations[recommendations["decision"] == "refer"]
    if referred.empty:
        return None
    return {"why": referred.iloc[0]["why"], "exercises": ", ".join(sorted(referred["exercise"].astype(str)))}
