"""Which day "today" is (docs/metrics.md, analytics.today): the current date, unless pinned to the newest
session (`newest`) or to a fixed date, by HIPLINE_TODAY or a command's --today."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from analytics import NEWEST, Analytics, Scope, resolve_today
from etl.settings import Settings
from etl.warehouse import connect_read_only
from tests.analytics.clinic import Clinic


@pytest.fixture
def two_sessions(tmp_path) -> Path:
    """C-1 started on 1 June 2026 and came on 2 and 20 June: the newest session is 20 June."""
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01", sessions_per_week=2)
    clinic.session("C-1", "2026-06-02")
    clinic.session("C-1", "2026-06-20")
    return clinic.load()


def test_today_unset_is_the_current_date(two_sessions):
    with Analytics.open(two_sessions, Scope.everyone()) as analytics:
        assert analytics.today == date.today()
        assert resolve_today(None, analytics.con) == date.today()


def test_today_newest_is_the_date_of_the_newest_session(two_sessions):
    with Analytics.open(two_sessions, Scope.everyone(), NEWEST) as analytics:
        assert analytics.today == date(2026, 6, 20)
        # 20 June is day 19 of the episode: program week 3 (days 14-20).
        assert analytics.client_metrics()["program_week"].tolist() == [3]


def test_today_newest_of_a_warehouse_without_sessions_is_the_current_date(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.client("C-1", start="2026-06-01")
    con = connect_read_only(clinic.load())
    try:
        assert resolve_today(NEWEST, con) == date.today()
    finally:
        con.close()


def test_today_a_date_is_that_date_whatever_the_warehouse_holds(two_sessions):
    with Analytics.open(two_sessions, Scope.everyone(), date(2026, 6, 10)) as analytics:
        assert analytics.today == date(2026, 6, 10)
    assert resolve_today(date(2026, 6, 10)) == date(2026, 6, 10)  # no warehouse needed


def test_today_anything_else_is_refused_in_words():
    with pytest.raises(ValueError) as raised:
        resolve_today("yesterday")
    assert str(raised.value) == "today is 'newest', a date or None (the current date), not 'yesterday'"


def test_the_setting_hipline_today_reads_empty_newest_or_a_date():
    assert Settings.from_env({}).today is None
    assert Settings.from_env({"HIPLINE_TODAY": ""}).today is None
    assert Settings.from_env({"HIPLINE_TODAY": "newest"}).today == NEWEST
    assert Settings.from_env({"HIPLINE_TODAY": " Newest "}).today == NEWEST
    assert Settings.from_env({"HIPLINE_TODAY": "2026-11-14"}).today == date(2026, 11, 14)


@pytest.mark.parametrize("value", ["14/11/2026", "2026-11-31", "yesterday"])
def test_a_bad_hipline_today_names_the_setting_and_what_it_may_be(value):
    with pytest.raises(ValueError) as raised:
        Settings.from_env({"HIPLINE_TODAY": value})
    assert str(raised.value) == (
        f"HIPLINE_TODAY={value!r}: expected newest (the newest session's date), a date as YYYY-MM-DD, "
        "or nothing (the current date)"
    )
