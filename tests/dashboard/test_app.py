"""The top bar says which day the numbers are for, and plainly when that is not the current date (docs/metrics.md)."""

from __future__ import annotations

from datetime import date

import pytest

from analytics import NEWEST
from dashboard import app as shell
from dashboard.app import create_app
from tests.conftest import SESSION_HEADER, load_files, write
from tests.dashboard.conftest import ADMIN


def _find(component, component_id: str):
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str) and (found := _find(child, component_id)) is not None:
            return found
    return None


@pytest.fixture
def june(loaded_roster, tmp_path):
    """C-1 came on 2 and 5 June 2026: the newest session is 5 June."""
    rows = "".join(f"C-1,2026-06-0{d},yes,studio,bridge{',' * 14}\n" for d in (2, 5))
    assert load_files(loaded_roster, write(tmp_path, "june.csv", SESSION_HEADER + "\n" + rows)).all_readable
    return loaded_roster


def _top_bar(db, today) -> tuple[str, str]:
    """(the picker's day, the note beside it) of the top bar the pages open with."""
    app = create_app(db, today)
    with app.server.test_request_context("/"):
        bar = shell._navigation(ADMIN)
    return _find(bar, "today").date, _find(bar, "today-note").children


def test_the_pages_open_on_the_current_date_and_say_nothing_more(june):
    assert _top_bar(june, None) == (date.today().isoformat(), "")


def test_a_warehouse_pinned_to_its_newest_session_says_plainly_that_it_is_not_today(june):
    current = date.today().strftime("%-d %b %Y")
    assert _top_bar(june, NEWEST) == ("2026-06-05", f"5 Jun 2026 is not today ({current})")
    assert _top_bar(june, date(2026, 6, 3)) == ("2026-06-03", f"3 Jun 2026 is not today ({current})")


def test_a_day_picked_says_whether_it_is_today():
    current = date.today()
    assert shell._today_note("2026-11-14") == f"14 Nov 2026 is not today ({current.strftime('%-d %b %Y')})"
    assert shell._today_note(current.isoformat()) == ""
    assert shell._today_note(None) == ""
