"""The pages' cache of the analytics: rebuilt when a load swaps the warehouse, refreshed when a
decision is recorded, and never serving numbers from an older file."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from analytics import NEWEST, Analytics, Scope
from analytics.decisions import read_decisions, record
from dashboard.clinic_data import DAYS_KEPT, ClinicData
from etl.load import load
from etl.summary import quarantined_rows
from tests.conftest import SESSION_HEADER, load_files, write
from tests.dashboard.conftest import ADMIN


@pytest.fixture
def warehouse(demo_warehouse, tmp_path) -> Path:
    db = tmp_path / "hipline.duckdb"
    shutil.copy(demo_warehouse, db)
    return db


def _fresh_recommendations(db: Path, today, client_id: str) -> pd.DataFrame:
    with Analytics.open(db, Scope.everyone(), today) as analytics:
        return analytics.recommendations(client_id)


def test_nothing_loaded_is_not_an_error_until_numbers_are_asked_for(tmp_path):
    clinic = ClinicData(tmp_path / "none.duckdb")
    assert not clinic.has_data()
    with pytest.raises(FileNotFoundError), clinic.analytics(ADMIN):
        pass


def test_a_load_that_swaps_the_warehouse_is_seen_by_the_next_request(warehouse, tmp_path):
    clinic = ClinicData(warehouse, NEWEST)
    with clinic.analytics(ADMIN) as analytics:
        before = len(analytics.client_metrics())
        staff_id = analytics.staff()["staff_id"].iloc[0]
        start = analytics.today - timedelta(days=3)
    write(
        tmp_path / "new",
        "clients_new.csv",
        "client_id,display_name,start_date,region,sessions_per_week,clinician_id\n"
        f"C-NEW,Una New,{start.isoformat()},hip,2,{staff_id}\n",
    )
    report = load_files(warehouse, tmp_path / "new" / "clients_new.csv", today=start + timedelta(days=30))
    assert report.all_readable
    with clinic.analytics(ADMIN) as analytics:
        assert len(analytics.client_metrics()) == before + 1
        assert analytics.client("C-NEW")["display_name"] == "Una New"


def test_a_recorded_decision_changes_that_clients_recommendations_as_a_fresh_build_would(warehouse):
    clinic = ClinicData(warehouse, NEWEST)
    with clinic.analytics(ADMIN) as analytics:
        today = analytics.today
        recs = analytics.recommendations()
        rec = recs[recs["decision"] == "progress"].iloc[0].to_dict()
        other = recs[recs["client_id"] != rec["client_id"]].iloc[0]["client_id"]
        other_before = analytics.recommendations(other)
        staff_id = analytics.client(rec["client_id"])["clinician_id"]
    record(warehouse, rec, decided_by=staff_id, action="accept", as_of=today, decided_on=today)
    with clinic.analytics(ADMIN) as analytics:
        after = analytics.recommendations(rec["client_id"])
        other_after = analytics.recommendations(other)
    pd.testing.assert_frame_equal(after, _fresh_recommendations(warehouse, today, rec["client_id"]))
    pd.testing.assert_frame_equal(other_after, other_before)
    moved = after[after["ladder"] == rec["ladder"]].iloc[0]
    assert moved["exercise"] == rec["next_exercise"]
    assert moved["exposures_at_level"] == 0
    assert len(read_decisions(warehouse, rec["client_id"])) == 1


def test_two_days_stay_warm_and_the_oldest_is_closed(warehouse):
    clinic = ClinicData(warehouse, NEWEST)
    newest = clinic.default_today()
    days = [newest - timedelta(days=7 * i) for i in range(DAYS_KEPT + 1)]
    built = []
    for day in days:
        with clinic.analytics(ADMIN, day) as analytics:
            assert analytics.today == day
            built.append(analytics)
    with pytest.raises(Exception, match="closed"):
        built[0].con.execute("SELECT 1")
    with clinic.analytics(ADMIN, days[-1]) as analytics:
        assert analytics.con is built[-1].con  # the same build, still warm


def test_a_pinned_today_is_the_default(warehouse):
    clinic = ClinicData(warehouse, NEWEST)
    newest = clinic.default_today()
    pinned = ClinicData(warehouse, today=newest - timedelta(days=10))
    assert pinned.default_today() == newest - timedelta(days=10)
    with pinned.analytics(ADMIN) as analytics:
        assert analytics.today == newest - timedelta(days=10)


def test_the_pages_open_on_the_current_date_by_default(warehouse):
    assert ClinicData(warehouse).default_today() == date.today()


def test_a_row_dated_tomorrow_is_quarantined_and_a_newer_session_moves_nobodys_today(loaded_roster, tmp_path):
    """The reported bug: one upload of a row dated after the others moved every page's "today" (and every
    client's adherence) while the quarantine said today was the current date."""
    current, tomorrow = date.today(), date.today() + timedelta(days=1)
    june = write(tmp_path, "june.csv", f"{SESSION_HEADER}\nC-1,2026-06-02,yes,studio,bridge{',' * 14}\n")
    assert load(loaded_roster, [june]).all_readable  # the load's today: the current date, its default
    clinic = ClinicData(loaded_roster)
    with clinic.analytics(ADMIN) as analytics:
        assert analytics.today == current
        weeks_before = analytics.client("C-1")["program_week"]

    later = write(
        tmp_path, "later.csv",
        f"{SESSION_HEADER}\nC-1,2026-06-03,yes,studio,bridge{',' * 14}\nC-1,{tomorrow},yes,studio,bridge{',' * 14}\n",
    )  # fmt: skip
    report = load(loaded_roster, [later])

    assert (report.files[0].rows_loaded, report.files[0].rows_quarantined) == (1, 1)
    reasons = [row[3] for row in quarantined_rows(loaded_roster, "later.csv", 10)]
    assert reasons == [f"session_date {tomorrow.isoformat()} is in the future (today is {current.isoformat()})"]
    assert clinic.default_today() == current
    with clinic.analytics(ADMIN) as analytics:
        assert analytics.today == current
        # C-1 started on 2 March 2026: its program week is counted to the current date, before and after.
        assert analytics.client("C-1")["program_week"] == weeks_before == (current - date(2026, 3, 2)).days // 7 + 1
