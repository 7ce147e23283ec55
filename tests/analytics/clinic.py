"""A tiny clinic for hand-worked tests: write a few clients, sessions and measures, load them, read the metrics.

    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=3)
    clinic.session("C-1", "2026-06-02", pain_during=4)
    with clinic.analytics(today="2026-06-24") as a:
        a.client_metrics()

Files go through the real loader, which must load every row (a test that needs a quarantine says so).
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from analytics import NEWEST, Analytics, Scope
from tests.conftest import STAFF_CSV, load_files, write

SESSION_COLUMNS = [
    "client_id",
    "session_date",
    "attended",
    "session_type",
    "exercise",
    "pain_before",
    "pain_during",
    "pain_after",
    "pain_next_day",
    "notes",
    "sets",
    "reps",
    "hold_s",
    "side",
    "rpe",
    "form",
]


def _csv(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({c: "" if row.get(c) is None else row[c] for c in columns} for row in rows)
    return out.getvalue()


class Clinic:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.extra_staff: list[str] = []  # lines added to the roster's staff (S-1 physio, S-2 instructor, S-3 admin)
        self.clients: list[dict] = []
        self.cohorts: list[dict] = []
        self.sessions: list[dict] = []
        self.measures: list[dict] = []

    def client(
        self,
        client_id: str,
        start: str,
        sessions_per_week: int = 3,
        end: str | None = None,
        cohort: str | None = None,
        clinician: str = "S-1",
        name: str | None = None,
        region: str = "hip",
    ) -> None:
        self.clients.append(
            {
                "client_id": client_id,
                "display_name": name or f"Client {client_id}",
                "start_date": start,
                "region": region,
                "sessions_per_week": sessions_per_week,
                "clinician_id": clinician,
                "cohort_id": cohort,
                "end_date": end,
            }
        )

    def staff(self, staff_id: str, name: str, role: str) -> None:
        self.extra_staff.append(f"{staff_id},{name},{role},\n")

    def cohort(self, cohort_id: str, start: str) -> None:
        self.cohorts.append(
            {"cohort_id": cohort_id, "name": f"Class {cohort_id}", "instructor_id": "S-2", "start_date": start}
        )

    def session(
        self,
        client_id: str,
        day: str,
        attended: bool = True,
        session_type: str | None = "studio",
        exercise: str = "bridge",
        pain_before: float | None = None,
        pain_during: float | None = None,
        pain_after: float | None = None,
        pain_next_day: float | None = None,
        notes: str | None = None,
        sets: int | None = None,
        reps: int | None = None,
        hold_s: float | None = None,
        side: str | None = None,
        rpe: float | None = None,
        form: str | None = None,
    ) -> None:
        self.sessions.append(
            {
                "client_id": client_id,
                "session_date": day,
                "attended": "yes" if attended else "no",
                "session_type": session_type,
                "exercise": exercise if attended else None,
                "pain_before": pain_before,
                "pain_during": pain_during,
                "pain_after": pain_after,
                "pain_next_day": pain_next_day,
                "notes": notes,
                "sets": sets,
                "reps": reps,
                "hold_s": hold_s,
                "side": side,
                "rpe": rpe,
                "form": form,
            }
        )

    def measure(self, client_id: str, day: str, instrument: str, score: float) -> None:
        self.measures.append({"client_id": client_id, "measured_on": day, "instrument": instrument, "score": score})

    def load(self) -> Path:
        db = self.folder / "hipline.duckdb"
        files = [write(self.folder, "staff.csv", STAFF_CSV + "".join(self.extra_staff))]
        if self.cohorts:
            files.append(write(self.folder, "cohorts.csv", _csv(list(self.cohorts[0]), self.cohorts)))
        files.append(write(self.folder, "clients.csv", _csv(list(self.clients[0]), self.clients)))
        if self.sessions:
            files.append(write(self.folder, "sessions.csv", _csv(SESSION_COLUMNS, self.sessions)))
        if self.measures:
            files.append(write(self.folder, "measures.csv", _csv(list(self.measures[0]), self.measures)))
        dates = [r["session_date"] for r in self.sessions] + [r["measured_on"] for r in self.measures]
        dates += [r["start_date"] for r in self.clients]
        _all_loaded(load_files(db, *files, today=date.fromisoformat(max(dates))))
        return db

    def load_sessions_into(self, db: Path) -> None:
        """Load only the session log into `db`, a warehouse that holds the roster already."""
        path = write(self.folder, "sessions.csv", _csv(SESSION_COLUMNS, self.sessions))
        _all_loaded(load_files(db, path, today=date.fromisoformat(max(r["session_date"] for r in self.sessions))))

    @contextlib.contextmanager
    def analytics(self, today: str | None = None, scope: Scope | None = None) -> Iterator[Analytics]:
        """As of `today`: YYYY-MM-DD, NEWEST, or None (the current date)."""
        day = today if today in (None, NEWEST) else date.fromisoformat(today)
        with Analytics.open(self.load(), scope or Scope.everyone(), day) as analytics:
            yield analytics

    def recommendations(self, today: str | None = None, client_id: str | None = None):
        """`Analytics.recommendations()` after loading (the frame, one row per client and ladder)."""
        with self.analytics(today) as a:
            return a.recommendations(client_id)

    def metrics_of(self, client_id: str, today: str | None = None) -> dict:
        """The client_metrics row of one client, as a dict."""
        with self.analytics(today) as a:
            rows = a.client_metrics()
        return rows[rows["client_id"] == client_id].iloc[0].to_dict()


def _all_loaded(report) -> None:
    """Every row of every file loaded: a test that needs a quarantine says so."""
    problems = [(f.file, f.error, f.rows_quarantined) for f in report.files if f.error or f.rows_quarantined]
    assert not problems, problems
