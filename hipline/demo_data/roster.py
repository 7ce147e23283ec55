"""Staff, cohorts and clients of a demo clinic, shaped like a real multi-site Pilates rehab service."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from hipline.demo_data.vocabulary import FIRST_NAMES, GOALS, LAST_NAMES

REGIONS = np.array(["hip", "knee", "low_back", "other"])
REGION_SHARE = [0.35, 0.30, 0.30, 0.05]

# Sessions per week prescribed: one class or clinic visit plus home practice on most days.
SESSIONS_PER_WEEK = np.array([1, 2, 3, 4, 5, 6])
SESSIONS_PER_WEEK_SHARE = [0.03, 0.12, 0.30, 0.30, 0.17, 0.08]

HISTORY_DAYS = 16 * 7  # start dates spread over the last 16 weeks
COHORT_SHARE = 0.6  # clients who attend a studio class; the rest are seen one-to-one in clinic


@dataclass
class Roster:
    staff: pd.DataFrame
    cohorts: pd.DataFrame
    clients: pd.DataFrame


def _name(rng: np.random.Generator) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _staff(rng: np.random.Generator, n_physios: int, n_instructors: int) -> pd.DataFrame:
    rows = []
    for _ in range(n_physios):
        rows.append((f"S-{len(rows) + 1:03d}", _name(rng), "physio"))
    for _ in range(n_instructors):
        rows.append((f"S-{len(rows) + 1:03d}", _name(rng), "instructor"))
    rows.append((f"S-{len(rows) + 1:03d}", _name(rng), "admin"))
    staff = pd.DataFrame(rows, columns=["staff_id", "name", "role"])
    first = staff["name"].str.split(" ").str[0].str.lower()
    staff["email"] = first.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    staff["email"] = staff["email"] + "." + staff["staff_id"].str[2:] + "@clinic.example"
    return staff


def _cohorts(rng: np.random.Generator, n: int, instructors: list[str], end: date) -> pd.DataFrame:
    """Classes start on Mondays across the history window and run 8-16 weeks."""
    first_monday = end - timedelta(days=HISTORY_DAYS - 1)
    first_monday -= timedelta(days=first_monday.weekday())
    n_mondays = HISTORY_DAYS // 7
    schedules = ["Mon 18:00", "Tue 10:00", "Wed 19:00", "Thu 12:30", "Sat 09:00", "Fri 17:30"]
    kinds = [
        "Hip strong",
        "Knee confidence",
        "Back care",
        "Balance & gait",
        "Core foundations",
        "Return to run",
    ]
    rows = []
    for i in range(n):
        start = first_monday + timedelta(weeks=int(rng.integers(0, n_mondays)))
        rows.append(
            (
                f"G-{i + 1:03d}",
                f"{kinds[i % len(kinds)]} {start:%b} {schedules[i % len(schedules)].split()[0]}",
                instructors[i % len(instructors)],
                start,
                int(rng.choice([8, 10, 12, 16])),
                schedules[i % len(schedules)],
            )
        )
    return pd.DataFrame(rows, columns=["cohort_id", "name", "instructor_id", "start_date", "weeks", "schedule"])


def make_roster(rng: np.random.Generator, n_clients: int, end: date) -> Roster:
    n_physios = max(3, math.ceil(n_clients / 250))
    n_cohorts = max(6, round(n_clients * COHORT_SHARE / 12))
    n_instructors = max(3, math.ceil(n_cohorts / 4))
    staff = _staff(rng, n_physios, n_instructors)
    physios = staff.loc[staff["role"] == "physio", "staff_id"].tolist()
    instructors = staff.loc[staff["role"] == "instructor", "staff_id"].tolist()
    cohorts = _cohorts(rng, n_cohorts, instructors, end)

    region = rng.choice(REGIONS, size=n_clients, p=REGION_SHARE)
    spw = rng.choice(SESSIONS_PER_WEEK, size=n_clients, p=SESSIONS_PER_WEEK_SHARE)
    # Uneven caseloads, as in real clinics: some physios carry far more clients than others.
    caseload_weight = rng.gamma(4.0, 1.0, size=n_physios)
    clinician = rng.choice(physios, size=n_clients, p=caseload_weight / caseload_weight.sum())

    in_cohort = rng.random(n_clients) < COHORT_SHARE
    cohort_idx = rng.integers(0, n_cohorts, size=n_clients)
    cohort_start = cohorts["start_date"].to_numpy()[cohort_idx]
    own_start = [end - timedelta(days=int(d)) for d in rng.integers(0, HISTORY_DAYS, size=n_clients)]
    start = [cohort_start[i] if in_cohort[i] else own_start[i] for i in range(n_clients)]
    # Cohort members sometimes join a few days into the class.
    late = rng.integers(0, 4, size=n_clients) * (rng.random(n_clients) < 0.2)
    start = [min(end, s + timedelta(days=int(d))) for s, d in zip(start, late, strict=True)]

    planned_weeks = np.where(in_cohort, cohorts["weeks"].to_numpy()[cohort_idx], rng.choice([8, 10, 12], n_clients))
    planned_end = [s + timedelta(days=int(w) * 7 - 1) for s, w in zip(start, planned_weeks, strict=True)]
    # Most clients whose programme is over have been discharged; some are still on the books.
    discharged = [pe < end and rng.random() < 0.7 for pe in planned_end]
    end_date = [pe if d else None for pe, d in zip(planned_end, discharged, strict=True)]

    clients = pd.DataFrame(
        {
            "client_id": [f"C-{i + 1:05d}" for i in range(n_clients)],
            "display_name": [_name(rng) for _ in range(n_clients)],
            "birth_year": rng.integers(1942, 2001, size=n_clients),
            "region": region,
            "sessions_per_week": spw,
            "start_date": start,
            "end_date": end_date,
            "clinician_id": clinician,
            "cohort_id": np.where(in_cohort, cohorts["cohort_id"].to_numpy()[cohort_idx], None),
            "goals": [str(rng.choice(GOALS[r])) for r in region],
        }
    )
    return Roster(staff=staff, cohorts=cohorts, clients=clients)
