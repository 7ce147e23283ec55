"""A red-flag review in the demo clinic, so that `make demo` shows a client on hold (docs/metrics.md): the
demo physio has referred one of their clients with a red-flag note to the GP, on the demo's day.
Added once (a warehouse that has reviews already is left as it is). FOR THE DEMO ONLY.
"""

from __future__ import annotations

from pathlib import Path

from access.audit import Actor, record
from analytics import NEWEST, Analytics, Scope
from analytics.reviews import read_reviews, record_review


def add_demo_review(db: Path, physio_staff_id: str) -> str | None:
    """Refer the physio's first client (by id) whose red-flag note waits for a review; that client's id."""
    if not read_reviews(db).empty:
        return None
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        caseload = analytics.caseload(physio_staff_id)
        day = analytics.today
    waiting = caseload[caseload["flags"].str.startswith("refer")].sort_values("client_id")
    if waiting.empty:
        return None
    client_id = waiting.iloc[0]["client_id"]
    note = "Demo: the note reads like instability; referred to the GP for an assessment before going on."
    review_id = record_review(db, client_id, outcome="referred", referred_to="GP", note=note,
                              reviewed_by=physio_staff_id, reviewed_on=day)  # fmt: skip
    record(db, Actor.command_line(), "review", f"review {review_id}: referred to GP as of {day} (demo)",
           client_id=client_id)  # fmt: skip
    return client_id
