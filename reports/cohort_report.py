"""A cohort's report (docs/reports.md) for its instructor: who is in the class, how regularly they come, and
how their pain moves — the roll-ups of docs/metrics.md with the cohort page's charts.

Numbers come from the analytics layer (the same as `hipline metrics` and the cohort page), charts from
the pages' figure builders.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from analytics import Analytics
from presentation import figures
from presentation.formats import either, missing, pain, percent, signed
from presentation.in_words import PAIN_STATUS_WORDS, TEMPLATE_RULES
from reports import render
from reports.charts import Chart
from reports.client_report import NotFound


def cohort_context(analytics: Analytics, cohort_id: str) -> dict:
    """Everything the cohort report shows, as plain values (also what the tests check)."""
    roster = analytics.cohorts()
    found = roster[roster["cohort_id"] == cohort_id]
    if found.empty:
        raise NotFound(f"there is no cohort {cohort_id!r} in the warehouse")
    cohort = found.iloc[0].to_dict()
    summary = analytics.cohort_summary()
    rolled = summary[summary["cohort_id"] == cohort_id].to_dict("records")
    members = analytics.cohort_members(cohort_id).sort_values(["display_name", "client_id"], kind="stable")
    weekly = analytics.cohort_weekly(cohort_id)
    grid = analytics.attendance_grid(cohort_id)
    return {
        "cohort": cohort,
        "start_date": None if missing(cohort["start_date"]) else pd.Timestamp(cohort["start_date"]).date(),
        "today": analytics.today,
        "made_on": date.today(),
        "roll_up": _roll_up(rolled[0]) if rolled else None,
        "members": [
            {
                "name": either(m.display_name, m.client_id),
                "client_id": m.client_id,
                "week": m.program_week,
                "adherence_overall": percent(m.adherence_overall),
                "adherence_last_4_weeks": percent(m.adherence_last_4_weeks),
                "pain": f"{pain(m.pain_baseline)} → {pain(m.pain_current)}",
                "pain_status": m.pain_status,
                "pain_change": signed(m.pain_current - m.pain_baseline),
                "flag_names": (m.flags or "").replace(";", ", ").replace("_", " "),
                # each flag with its evidence in words, in a row of its own under the member's (docs/metrics.md)
                "flags": [line for line in (m.flag_evidence or "").split("\n") if line],
            }
            for m in members.itertuples(index=False)
        ],
        # the weeks the analytics give no interval: one member with pain ratings (analytics.metrics.t_interval)
        "weeks_without_interval": [int(w) for w in weekly.loc[weekly["ci_low"].isna(), "program_week"]],
        "pain_status_words": PAIN_STATUS_WORDS,
        "rules": TEMPLATE_RULES,
        "charts": {
            "adherence": Chart(figures.adherence_distribution(members), height=280),
            "pain": Chart(figures.cohort_pain_by_week([(str(cohort["name"]), weekly)]), height=300),
            "attendance": Chart(figures.attendance_heatmap(grid), height=max(220, 60 + 22 * len(members))),
        },
    }


def _roll_up(row: dict) -> dict:
    members = int(row["members"])
    with_pain = int(row["members_with_pain_data"])
    return {
        "members": members,
        "adherence_median": percent(row["adherence_median"]),
        "quartiles": f"{percent(row['adherence_q1'])} – {percent(row['adherence_q3'])}",
        "share_adherent": percent(row["share_adherent"]),
        "adherent": int(row["members_adherent"]),
        "improved": int(row["members_improved"]),
        "share_improved": percent(row["share_improved"]),
        "with_pain_data": with_pain,
    }


def cohort_report_from_context(context: dict, paper: str = "a4") -> bytes:
    """The PDF of a context made by `cohort_context` (needs no warehouse)."""
    return render.pdf("cohort.html", context, context["charts"], paper)


def cohort_report_pdf(analytics: Analytics, cohort_id: str, paper: str = "a4") -> tuple[bytes, dict]:
    context = cohort_context(analytics, cohort_id)
    return cohort_report_from_context(context, paper), context
