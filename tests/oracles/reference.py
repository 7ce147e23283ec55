"""A plain pandas/Python reference of docs/metrics.md: slow on purpose, written to be checked line by line.

It reads the three public views into pandas and walks each client's rows in Python loops, sharing
no SQL with `analytics.metrics`: only the thresholds of `analytics.definitions` and the red-flag word
list; the ready_to_progress flag asks the plain reference of docs/recommendations.md
(`tests.oracles.reference_progressions`).
Tests use it as an independent oracle (the fast path must agree with it on random warehouses), and
the benchmark uses it as the peer a clinic analyst would write.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from scipy.stats import t as student_t

from analytics import definitions as d
from analytics.red_flags import RedFlagWords, load_red_flag_words
from analytics.scope import Scope
from etl.instruments import INSTRUMENTS
from etl.warehouse import connect_read_only
from tests.oracles.reference_progressions import reference_recommendations

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
    reviews: pd.DataFrame | None = None,
) -> ReferenceMetrics:
    """`decisions`: the clinicians' decisions (`analytics.decisions.read_decisions`), for the
    recommendations behind the ready_to_progress flag; `reviews`: the red-flag reviews
    (`analytics.reviews.read_reviews`); none when not given."""
    words = words or load_red_flag_words()
    recommendations = reference_recommendations(clients, session_log, scope, today, words, decisions, reviews)
    ready = defaultdict(list)  # client -> the exercises recommended to progress
    for rec in recommendations.to_dict("records"):
        if rec["decision"] == "progress":
            ready[rec["client_id"]].append(rec["exercise"])
    reviews_of = defaultdict(list)
    for review in [] if reviews is None else reviews.to_dict("records"):
        if _day(review["reviewed_on"]) <= today:
            reviews_of[review["client_id"]].append(review)
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
            client,
            start,
            rows_of[client_id],
            measures_of[client_id],
            today,
            words,
            sorted(ready[client_id]),
            reviews_of[client_id],
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
                *("pain_current", "pain_trend_per_week", "pain_status", "flags", "flag_evidence"),
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
    client: dict,
    start: date,
    rows: list[dict],
    measures: list[dict],
    today: date,
    words,
    ready: list[str] | None = None,
    reviews: list[dict] | None = None,
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
    attended_days, flare_days, red_flag_sessions, red_flag_notes = [], [], set(), set()
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
        for r in session_rows:
            if words.is_red_flag(_value(r["notes"])):
                red_flag_sessions.add((day, session_type))
                red_flag_notes.add((day, session_type, r["notes"]))
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

    evidence = _flag_evidence(
        today, rows, red_flag_notes, reviews or [], flare_days, attended_days, active, last_week,
        adherence_recent, baseline, current, trend, pain_status, function_improved, ready or [],
    )  # fmt: skip

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
            "flags": ";".join(line.split(":")[0] for line in evidence),
            "flag_evidence": "\n".join(evidence),
        },
        "weekly": weeks,
        "functions": functions,
    }


def _flag_evidence(
    today: date,
    rows: list[dict],
    red_flag_notes: set[tuple],
    reviews: list[dict],
    flare_days: list[date],
    attended_days: list[date],
    active: bool,
    last_week: int,
    adherence_recent: float,
    baseline: float | None,
    current: float | None,
    trend: float | None,
    pain_status: str,
    function_improved: bool,
    ready: list[str],
) -> list[str]:
    """The caseload flags that apply (docs/metrics.md), in priority order, each as "flag: its evidence"."""
    evidence = []
    newest_review = max(reviews, key=lambda r: (_day(r["reviewed_on"]), r["review_id"]), default=None)
    reviewed_until = None if newest_review is None else _day(newest_review["reviewed_on"])
    open_notes = [
        (day, note)
        for day, _, note in red_flag_notes
        if day > today - timedelta(days=d.RED_FLAG_DAYS) and (reviewed_until is None or day > reviewed_until)
    ]
    if open_notes:
        day, note = max(open_notes)
        earlier = len(open_notes) - 1
        more = "" if not earlier else " and 1 earlier note" if earlier == 1 else f" and {earlier} earlier notes"
        evidence.append(f'refer: "{_note_words(note)}" on {_day_words(day, today)}{more}, not reviewed')
    if newest_review is not None and newest_review["outcome"] in d.HOLDING_OUTCOMES:
        to = f" to {newest_review['referred_to']}" if _value(newest_review["referred_to"]) is not None else ""
        day = _day_words(_day(newest_review["reviewed_on"]), today)
        evidence.append(f"on_hold: {newest_review['outcome']}{to} on {day}")
    rising = trend is not None and trend >= d.TREND_WORSE_PER_WEEK - d.TOLERANCE
    if pain_status == "worse" or rising:
        parts = []
        if pain_status == "worse":
            change = _half_up(current, 1) - _half_up(baseline, 1)
            parts.append(f"pain {_one_decimal(baseline)} → {_one_decimal(current)} ({_one_decimal(change, '+')}) "
                         "against baseline")  # fmt: skip
        if rising:
            parts.append(f"trend {_one_decimal(trend, '+')}/week over the last {d.TREND_DAYS // 7} weeks")
        evidence.append("pain_worse: " + " and ".join(parts))
    recent_flares = [day for day in flare_days if today - timedelta(days=d.FLARE_DAYS) < day]
    if recent_flares:
        more = f" ({len(recent_flares)} flares in the last {d.FLARE_DAYS} days)" if len(recent_flares) > 1 else ""
        evidence.append(f"flare: {_newest_flare(rows, today)}{more}")
    if adherence_recent < d.LOW_ADHERENCE:
        evidence.append(
            f"low_adherence: {_percent(adherence_recent)} over the last {d.RECENT_WEEKS} weeks "
            f"({_percent(d.LOW_ADHERENCE)} expected)"
        )
    if active and not any(day > today - timedelta(days=d.LAPSED_DAYS) for day in attended_days):
        since = f"since {_day_words(max(attended_days), today)}" if attended_days else "yet"
        evidence.append(f"lapsed: no attended session {since}")
    if last_week >= d.PLATEAU_FROM_WEEK and pain_status != "improved" and not function_improved:
        pain = "not enough data"
        if pain_status != "not enough data":
            pain = f"{_one_decimal(baseline)} → {_one_decimal(current)} ({pain_status})"
        evidence.append(f"plateau: week {last_week}, pain {pain}, no function score improved")
    if ready:  # exercises whose recommendation (docs/recommendations.md) is progress
        evidence.append("ready_to_progress: " + ", ".join(sorted(ready)))
    return evidence


def _newest_flare(rows: list[dict], today: date) -> str:
    """The newest flare of the last 14 days in words; of one day, the highest pain during, then the
    biggest rise by the next day."""

    def descending(x):  # highest first, unknown last
        return (x is None, -(x or 0))

    flares = []
    for r in rows:
        day = _day(r["session_date"])
        during, before, next_day = _value(r["pain_during"]), _value(r["pain_before"]), _value(r["pain_next_day"])
        rise = None if next_day is None or before is None else next_day - before
        if not today - timedelta(days=d.FLARE_DAYS) < day <= today:
            continue
        if (during is not None and during > d.FLARE_PAIN_DURING) or (
            rise is not None and rise >= d.FLARE_NEXT_DAY_RISE
        ):
            exercise = _value(r["exercise"])
            key = (-day.toordinal(), descending(during), descending(rise), descending(next_day),
                   (exercise is None, exercise or ""))  # fmt: skip
            flares.append((key, day, during, before, next_day, exercise))
    _, day, during, before, next_day, exercise = min(flares, key=lambda f: f[0])
    if during is not None and during > d.FLARE_PAIN_DURING:
        words = f"pain during {_num(during)}"
    else:
        words = f"pain next day {_num(next_day)} after {_num(before)} before"
    return words + (f" in {exercise}" if exercise is not None else "") + f" on {_day_words(day, today)}"


def _half_up(x: float, places: int) -> float:
    return math.floor(x * 10**places + 0.5 + d.TOLERANCE) / 10**places


def _one_decimal(x: float, sign: str = "") -> str:
    return f"{_half_up(x, 1):{sign}.1f}"


def _percent(x: float) -> str:
    return f"{_half_up(x * 100, 0):.0f} %"


def _num(x: float) -> str:
    return str(int(x)) if x == round(x) else str(round(x, 1))


def _day_words(day: date, today: date) -> str:
    return f"{day.day} {day.strftime('%b')}" + ("" if day.year == today.year else f" {day.year}")


def _note_words(note: str) -> str:
    note = re.sub(r"[ \t\r\n]+", " ", note)
    return note if len(note) <= d.EVIDENCE_NOTE_CHARS else note[: d.EVIDENCE_NOTE_CHARS - 1] + "…"


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
