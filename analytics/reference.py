"""A plain pandas/Python reference of SPEC §2: slow on purpose, written to be checked line by line.

It reads the three public views into pandas and walks each client's rows in Python loops, sharing
no SQL with `analytics.metrics`: only the thresholds of `analytics.definitions` and the red-flag word
list; the ready_to_progress flag asks the plain reference of SPEC §3 (`analytics.reference_progressions`).
Tests use it as an independent oracle (the fast path must agree with it on random warehouses), and
the benchmark uses it as the peer a clinic analyst would write.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from scipy.stats import t as student_t

from analytics import definitions as d
from analytics.red_flags import RedFlagWords, load_red_flag_words
from analytics.reference_progressions import reference_recommendations
from analytics.scope import Scope
from etl.instruments import INSTRUMENTS
from etl.warehouse import connect_read_only

HIGHER_IS_BETTER = {i.code: i.higher_is_better for i in INSTRUMENTS}


@dataclass
class ReferenceMetrics:
    client_metrics: pd.DataFrame
    client_weekly: pd.DataFrame
    function_change: pd.DataFrame
    cohort_weekly: pd.DataFrame


def read_views(db: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    con = connect_read_only(db)
    try:
        return tuple(con.execute(f"SELECT * FROM {view}").df() for view in ("clients", "session_log", "measures"))
    finally:
        con.close()


def _value(x):
    """None for a missing value (pandas gives NaN, NaT or None), the value otherwise."""
    return None if x is None or (not isinstance(x, str) and pd.isna(x)) else x


def _day(x) -> date | None:
    x = _value(x)
    return None if x is None else pd.Timestamp(x).date()


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _week(day: date, start: date) -> int:
    return (day - start).days // 7 + 1


def reference_metrics(
    clients: pd.DataFrame,
    session_log: pd.DataFrame,
    measures: pd.DataFrame,
    scope: Scope,
    today: date,
    words: RedFlagWords | None = None,
    decisions: pd.DataFrame | None = None,
) -> ReferenceMetrics:
    """`decisions`: the clinicians' decisions (`analytics.decisions.read_decisions`), for the
    recommendations behind the ready_to_progress flag; none when not given."""
    words = words or load_red_flag_words()
    recommendations = reference_recommendations(clients, session_log, scope, today, words, decisions)
    ready = set(recommendations.loc[recommendations["decision"] == "progress", "client_id"])
    rows_of = defaultdict(list)
    for row in session_log.to_dict("records"):
        rows_of[row["client_id"]].append(row)
    measures_of = defaultdict(list)
    for row in measures.to_dict("records"):
        measures_of[row["client_id"]].append(row)

    metrics, weekly, functions, cohort_of = [], [], [], {}
    for client in clients.to_dict("records"):
        if scope.client_ids is not None and client["client_id"] not in scope.client_ids:
            continue
        start = _day(client["start_date"])
        if start > today:
            continue
        client_id = client["client_id"]
        result = _one_client(
            client, start, rows_of[client_id], measures_of[client_id], today, words, client_id in ready
        )
        metrics.append(result["metrics"])
        weekly.extend(result["weekly"])
        functions.extend(result["functions"])
        if _value(client["cohort_id"]) is not None:
            cohort_of[client["client_id"]] = client["cohort_id"]

    client_weekly = pd.DataFrame(
        weekly, columns=["client_id", "program_week", "attended", "target", "adherence", "mean_pain"]
    )
    return ReferenceMetrics(
        client_metrics=pd.DataFrame(
            metrics,
            columns=[
                *("client_id", "program_week", "adherence_overall", "adherence_last_4_weeks", "pain_baseline"),
                *("pain_current", "pain_trend_per_week", "pain_status", "flags"),
            ],
        ),
        client_weekly=client_weekly,
        function_change=pd.DataFrame(
            functions,
            columns=["client_id", "instrument", "first_score", "latest_score", "change", "threshold", "status"],
        ),
        cohort_weekly=_cohort_weekly(client_weekly, cohort_of),
    )


def _one_client(
    client: dict, start: date, rows: list[dict], measures: list[dict], today: date, words, ready: bool = False
) -> dict:
    client_id = client["client_id"]
    spw = int(client["sessions_per_week"])
    end = _day(client["end_date"])
    active = end is None or end >= today
    current_week = _week(today, start)
    last_week = _week(min(today, end) if end else today, start)

    # Sessions: rows with the same date and session type, up to today.
    sessions = defaultdict(list)
    for row in rows:
        if _day(row["session_date"]) <= today:
            sessions[(_day(row["session_date"]), _value(row["session_type"]))].append(row)

    points = []  # (date, pain)
    attended_days, flare_days, red_flag_sessions = [], [], set()
    for (day, session_type), session_rows in sessions.items():
        if any(bool(r["attended"]) for r in session_rows):
            attended_days.append(day)
        pain = None
        for column in ("pain_during", "pain_after", "pain_before"):
            values = [r[column] for r in session_rows if _value(r[column]) is not None]
            if values:
                pain = _mean(values)
                break
        if pain is not None:
            points.append((day, pain))
        for r in session_rows:
            during, before, next_day = _value(r["pain_during"]), _value(r["pain_before"]), _value(r["pain_next_day"])
            flare = (during is not None and during > d.FLARE_PAIN_DURING) or (
                next_day is not None and before is not None and next_day >= before + d.FLARE_NEXT_DAY_RISE
            )
            if flare:
                flare_days.append(day)
                break
        if any(words.is_red_flag(_value(r["notes"])) for r in session_rows):
            red_flag_sessions.add((day, session_type))
    for m in measures:
        if m["instrument"] == "NPRS" and _day(m["measured_on"]) <= today:
            points.append((_day(m["measured_on"]), m["score"]))

    # Weekly attendance against target, and the week's mean pain.
    weeks = []
    for week in range(1, last_week + 1):
        attended = sum(1 for day in attended_days if day >= start and _week(day, start) == week)
        target = spw
        elapsed = (today - start).days % 7 + 1
        if week == current_week and elapsed < 7:
            target = max(1, math.floor(spw * elapsed / 7))
        week_pains = [p for day, p in points if day >= start and _week(day, start) == week]
        weeks.append(
            {
                "client_id": client_id,
                "program_week": week,
                "attended": attended,
                "target": target,
                "adherence": min(attended, target) / target,
                "mean_pain": _mean(week_pains),
            }
        )
    recent = [w for w in weeks if w["program_week"] > last_week - d.RECENT_WEEKS]
    adherence_overall = sum(min(w["attended"], w["target"]) for w in weeks) / sum(w["target"] for w in weeks)
    adherence_recent = sum(min(w["attended"], w["target"]) for w in recent) / sum(w["target"] for w in recent)

    # Pain: baseline (days 0-13), current (the 14 days ending today), trend (the 42 days ending today).
    baseline = _mean([p for day, p in points if 0 <= (day - start).days <= d.BASELINE_DAYS - 1])
    current = _mean([p for day, p in points if day > today - timedelta(days=d.CURRENT_DAYS)])
    trend_points = [((day - start).days, p) for day, p in points if day > today - timedelta(days=d.TREND_DAYS)]
    trend = None
    if len(trend_points) >= d.TREND_MIN_POINTS and len({x for x, _ in trend_points}) >= d.TREND_MIN_DAYS:
        mean_x = _mean([x for x, _ in trend_points])
        mean_y = _mean([y for _, y in trend_points])
        covariance = sum((x - mean_x) * (y - mean_y) for x, y in trend_points)
        variance = sum((x - mean_x) ** 2 for x, _ in trend_points)
        trend = covariance / variance * 7
    pain_status = _pain_status(baseline, current)

    functions = _function_changes(client_id, measures, today)
    function_improved = any(f["status"] == "improved" for f in functions)

    recent_day = today - timedelta(days=d.RED_FLAG_DAYS)
    flags = []
    if any(day > recent_day for day, _ in red_flag_sessions):
        flags.append("refer")
    recent_flare = any(day > today - timedelta(days=d.FLARE_DAYS) for day in flare_days)
    if pain_status == "worse" or recent_flare or (trend is not None and trend >= d.TREND_WORSE_PER_WEEK - d.TOLERANCE):
        flags.append("pain_worse")
    if adherence_recent < d.LOW_ADHERENCE:
        flags.append("low_adherence")
    if active and not any(day > today - timedelta(days=d.LAPSED_DAYS) for day in attended_days):
        flags.append("lapsed")
    if last_week >= d.PLATEAU_FROM_WEEK and pain_status != "improved" and not function_improved:
        flags.append("plateau")
    if ready:  # at least one exercise whose recommendation (SPEC §3) is progress
        flags.append("ready_to_progress")

    return {
        "metrics": {
            "client_id": client_id,
            "program_week": last_week,
            "adherence_overall": adherence_overall,
            "adherence_last_4_weeks": adherence_recent,
            "pain_baseline": baseline,
            "pain_current": current,
            "pain_trend_per_week": trend,
            "pain_status": pain_status,
            "flags": ";".join(flags),
        },
        "weekly": weeks,
        "functions": functions,
    }


def _pain_status(baseline: float | None, current: float | None) -> str:
    if baseline is None or current is None:
        return "not enough data"
    fall = baseline - current
    if fall >= d.PAIN_MCID_POINTS - d.TOLERANCE or (
        baseline > 0 and fall >= d.PAIN_MCID_FRACTION * baseline - d.TOLERANCE
    ):
        return "improved"
    if current - baseline >= d.PAIN_MCID_POINTS - d.TOLERANCE:
        return "worse"
    return "no important change"


def _function_changes(client_id: str, measures: list[dict], today: date) -> list[dict]:
    by_instrument = defaultdict(lambda: defaultdict(list))
    for m in measures:
        if m["instrument"] != "NPRS" and _day(m["measured_on"]) <= today:
            by_instrument[m["instrument"]][_day(m["measured_on"])].append(m["score"])
    changes = []
    for instrument in sorted(by_instrument):
        days = sorted(by_instrument[instrument])
        first = _mean(by_instrument[instrument][days[0]])
        latest = _mean(by_instrument[instrument][days[-1]])
        threshold = d.function_threshold(instrument).points
        change, status = None, "not enough data"
        if len(days) >= 2:
            change = (latest - first) * (1 if HIGHER_IS_BETTER[instrument] else -1)
            status = "no important change"
            if change >= threshold - d.TOLERANCE:
                status = "improved"
            elif change <= -threshold + d.TOLERANCE:
                status = "worse"
        changes.append(
            {
                "client_id": client_id,
                "instrument": instrument,
                "first_score": first,
                "latest_score": latest,
                "change": change,
                "threshold": threshold,
                "status": status,
            }
        )
    return changes


def _cohort_weekly(client_weekly: pd.DataFrame, cohort_of: dict[str, str]) -> pd.DataFrame:
    values = defaultdict(list)
    for row in client_weekly.to_dict("records"):
        if row["client_id"] in cohort_of and _value(row["mean_pain"]) is not None:
            values[(cohort_of[row["client_id"]], row["program_week"])].append(row["mean_pain"])
    rows = []
    for (cohort_id, week), pains in sorted(values.items()):
        n, mean = len(pains), _mean(pains)
        low = high = None
        if n >= 2:
            half = student_t.ppf(0.975, n - 1) * statistics.stdev(pains) / math.sqrt(n)
            low, high = mean - half, mean + half
        rows.append(
            {"cohort_id": cohort_id, "program_week": week, "n": n, "mean_pain": mean, "ci_low": low, "ci_high": high}
        )
    return pd.DataFrame(rows, columns=["cohort_id", "program_week", "n", "mean_pain", "ci_low", "ci_high"])
