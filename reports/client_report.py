"""A client's progress report (SPEC §4): for the client, a referring doctor or an insurer.

Client and period, clinician, adherence, pain baseline -> current with its MCID status in words,
function scores with change and MCID status, the pain and adherence charts, current exercises and
the recommended progressions with their reasons, red-flag notes, the day it was made, page x of y.
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
from dashboard import figures
from dashboard.formats import day, pain, percent, signed
from etl.instruments import INSTRUMENT_LABELS
from reports import render
from reports.charts import Chart

# SPEC §2 in words, for a reader who is not a physiotherapist.
PAIN_STATUS_WORDS = {
    "improved": "clinically important improvement (pain down by 2 points or 30 % or more)",
    "worse": "clinically important worsening (pain up by 2 points or more)",
    "no important change": "no clinically important change",
    "not enough data": "not enough data (no pain rating in the first two weeks or in the last two)",
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
    scope (the two read the same, SPEC §5)."""


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
    first, last = pd.Timestamp(period.start), pd.Timestamp(period.end)
    weekly = analytics.client_weekly(client_id)
    sessions = analytics.sessions(client_id)
    red_flags = analytics.red_flag_notes(client_id)
    function = analytics.function_change(client_id)
    measures = analytics.measures(client_id)
    recommendations = analytics.recommendations(client_id)
    pain_chart = figures.pain_chart(
        analytics.pain_points(client_id), weekly, sessions, red_flags, client,
        (first - pd.Timedelta(days=1), max(last, first + pd.Timedelta(days=14)) + pd.Timedelta(days=1)),
    )  # fmt: skip
    in_period = red_flags[(red_flags["session_date"] >= first) & (red_flags["session_date"] <= last)]
    return {
        "client": client,
        "period": period,
        "today": analytics.today,
        "made_on": date.today(),
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
        "recommendations": [
            {
                "family": rec["family_label"] if isinstance(rec["family_label"], str) else rec["exercise"],
                "exercise": rec["exercise"],
                "dose": rec["dose"],
                "decision": rec["decision"],
                "next_exercise": rec["next_exercise"],
                "next_dose": rec["next_dose"],
                "evidence": list(rec["evidence"]),
            }
            for rec in recommendations.to_dict("records")
        ],
        "red_flags": [
            {"day": day(r.session_date), "signs": r.signs, "note": r.note} for r in in_period.itertuples(index=False)
        ],
        "charts": {"pain": Chart(pain_chart), "adherence": Chart(figures.adherence_bars(weekly), height=280)},
        "no_measures": measures.empty,
    }


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
