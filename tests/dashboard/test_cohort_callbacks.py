"""The cohort pages in-process (docs/metrics.md#per-cohort, docs/dashboard.md#pages): the callbacks show what the
analytics say."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics import NEWEST, Analytics, Scope
from dashboard.app import create_app
from dashboard.pages import cohorts
from tests.analytics.clinic import Clinic


def walk(component):
    """A component and everything in it; a list of components (a callback's output) counts as one."""
    if isinstance(component, list | tuple):
        for child in component:
            yield from walk(child)
        return
    yield component
    children = getattr(component, "children", None)
    if children is not None:
        yield from walk(children)


def by_id(tree, component_id: str):
    found = [c for c in walk(tree) if getattr(c, "id", None) == component_id]
    assert found, f"no component with id {component_id!r}"
    return found[0]


def text(tree) -> str:
    return " ".join(c for c in walk(tree) if isinstance(c, str))


def stat_value(stats: list, stat_id: str) -> str:
    return text(by_id(stats, stat_id).children[1])


def line_names(figure) -> list[str]:
    return [trace.name for trace in figure.data if trace.showlegend is not False and trace.fill != "toself"]


def bands(figure) -> list:
    return [trace for trace in figure.data if trace.fill == "toself"]


@pytest.fixture(scope="module")
def demo(demo_warehouse: Path) -> dict:
    create_app(demo_warehouse, NEWEST)
    with Analytics.open(demo_warehouse, Scope.everyone(), NEWEST) as analytics:
        return {
            "roster": analytics.cohorts(),
            "summary": analytics.cohort_summary().set_index("cohort_id"),
            "today": analytics.today.isoformat(),
        }


@pytest.fixture
def on_demo(demo_warehouse: Path, demo: dict) -> dict:
    """Another test may have pointed the app at its own warehouse: point it back at the demo."""
    create_app(demo_warehouse, NEWEST)
    return demo


def test_the_list_has_every_cohort_with_the_analytics_roll_ups(on_demo):
    rows, count = cohorts.show_cohorts(on_demo["today"])
    summary = on_demo["summary"]
    assert [r["cohort_id"] for r in rows] == list(on_demo["roster"]["cohort_id"])
    assert count.startswith(f"{len(rows)} cohorts")
    for row in rows:
        rolled = summary.loc[row["cohort_id"]]
        assert row["members"] == rolled["members"]
        improved = round(rolled["share_improved"] * rolled["members"])
        assert row["improved_text"] == f"{improved} of {rolled['members_with_pain_data']} with pain data"
        assert row["adherence_median"] == pytest.approx(rolled["adherence_median"])
        assert row["share_adherent"] == pytest.approx(rolled["share_adherent"])


def test_every_cohort_page_shows_the_members_and_share_improved_of_the_analytics(on_demo):
    for cohort_id, rolled in on_demo["summary"].iterrows():
        stats, empty, hidden, rows, adherence, attendance = cohorts.show_cohort(on_demo["today"], cohort_id)
        members = int(rolled["members"])
        assert stat_value(stats, "stat-members") == str(members)
        assert len(rows) == members
        improved = round(rolled["share_improved"] * members)
        assert stat_value(stats, "stat-pain-improved") == f"{improved} of {rolled['members_with_pain_data']}"
        assert f"{round(100 * rolled['share_improved'])} % of all {members}" in text(by_id(stats, "stat-pain-improved"))
        assert stat_value(stats, "stat-adherence") == f"{round(100 * rolled['adherence_median'])} %"
        assert (empty, hidden) == (None, False)
        assert adherence.data and attendance.data


def test_a_member_row_says_the_pain_change_in_words(on_demo):
    cohort_id = on_demo["summary"]["members"].idxmax()
    _, _, _, rows, _, _ = cohorts.show_cohort(on_demo["today"], cohort_id)
    for row in rows:
        if row["pain_status"] in ("improved", "worse"):
            assert row["pain_status"] in row["pain_text"] and "→" in row["pain_text"]


def test_compare_puts_both_cohorts_on_the_pain_chart(on_demo):
    roster = on_demo["roster"].set_index("cohort_id")["name"]
    first, second = on_demo["summary"].index[:2]
    options = [{"label": roster[second], "value": second}]
    alone, _ = cohorts.show_pain_by_week(on_demo["today"], first, None, roster[first], options)
    both, _ = cohorts.show_pain_by_week(on_demo["today"], first, second, roster[first], options)
    assert line_names(alone) == [roster[first]]
    assert line_names(both) == [roster[first], roster[second]]
    assert len({trace.line.color for trace in both.data if trace.fill != "toself"}) == 2


def test_the_compare_list_offers_every_other_cohort(on_demo):
    roster = on_demo["roster"]
    cohort_id = roster["cohort_id"].iloc[0]
    dropdown = by_id(cohorts.cohort_page(cohort_id), "cohort-compare")
    assert sorted(o["value"] for o in dropdown.options) == sorted(roster["cohort_id"].iloc[1:])


def test_an_unknown_cohort_is_not_found(on_demo):
    page = cohorts.cohort_page("G-404")
    assert page.id == "not-found"
    assert "No cohort G-404" in text(page)
    assert by_id(page, "not-found").children[-1].href == "/cohorts"


def test_clicks_open_the_cohort_and_the_member():
    assert cohorts.open_cohort({"rowId": "G-001", "colId": "name"}) == "/cohorts/G-001"
    assert cohorts.open_member({"rowId": "C-00026", "colId": "display_name"}) == "/clients/C-00026"


# --- small hand-built clinics ------------------------------------------------------------------------


def test_a_cohort_of_one_has_charts_and_says_there_is_no_interval(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.cohort("G-1", start="2026-06-01")
    clinic.client("C-1", start="2026-06-01", sessions_per_week=2, cohort="G-1", name="Ann")
    # Pain 6 in week 1, 3 in week 3: baseline (days 0-13) 6, current (7-20 June) 3: improved by 3 points.
    clinic.session("C-1", "2026-06-02", pain_during=6)
    clinic.session("C-1", "2026-06-04", pain_during=6)
    clinic.session("C-1", "2026-06-16", pain_during=3)
    clinic.session("C-1", "2026-06-20", pain_during=3)
    create_app(clinic.load())

    stats, empty, hidden, rows, adherence, attendance = cohorts.show_cohort("2026-06-20", "G-1")
    assert stat_value(stats, "stat-members") == "1"
    assert stat_value(stats, "stat-pain-improved") == "1 of 1"
    assert [r["display_name"] for r in rows] == ["Ann"]
    assert rows[0]["pain_text"] == "6.0 → 3.0 (−3.0, improved)"
    assert (empty, hidden) == (None, False)
    assert adherence.data and attendance.data

    figure, note = cohorts.show_pain_by_week("2026-06-20", "G-1", None, "Class G-1", [])
    assert line_names(figure) == ["Class G-1"]
    # Week 1 and week 3; week 2 had no pain ratings, so the line breaks there.
    assert list(figure.data[0].x) == [1, 2, 3]
    assert [None if y != y else y for y in figure.data[0].y] == [6.0, None, 3.0]
    assert "no 95 % interval" in figure.layout.annotations[0].text
    assert bands(figure) == []
    assert "No 95 % interval" in note


def test_a_cohort_with_no_members_says_so_instead_of_charts(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.cohort("G-1", start="2026-06-01")
    clinic.cohort("G-2", start="2026-07-06")
    clinic.client("C-1", start="2026-06-01", cohort="G-1")
    clinic.session("C-1", "2026-06-02", pain_during=4)
    create_app(clinic.load())

    rows, _ = cohorts.show_cohorts("2026-06-02")
    empty_row = next(r for r in rows if r["cohort_id"] == "G-2")
    assert (empty_row["members"], empty_row["improved_text"]) == (0, "no members yet")

    page = cohorts.cohort_page("G-2")
    assert text(by_id(page, "cohort-name")) == "Class G-2"
    stats, empty, hidden, members, _, _ = cohorts.show_cohort("2026-06-02", "G-2")
    assert stat_value(stats, "stat-members") == "0"
    assert "No members yet" in text(empty)
    assert hidden is True and members == []


def test_a_cohort_without_pain_ratings_says_none_has_pain_data(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.cohort("G-1", start="2026-06-01")
    clinic.client("C-1", start="2026-06-01", cohort="G-1")
    clinic.session("C-1", "2026-06-02")  # attended, no pain recorded
    create_app(clinic.load())
    rows, _ = cohorts.show_cohorts("2026-06-02")
    assert rows[0]["improved_text"] == "none with pain data yet"
    stats, *_ = cohorts.show_cohort("2026-06-02", "G-1")
    assert stat_value(stats, "stat-pain-improved") == "–"
    assert "none with pain data yet" in text(by_id(stats, "stat-pain-improved"))
    figure, note = cohorts.show_pain_by_week("2026-06-02", "G-1", None, "Class G-1", [])
    assert figure.data == () and note is None


def test_the_numbers_follow_the_day_picked(tmp_path):
    clinic = Clinic(tmp_path)
    clinic.cohort("G-1", start="2026-06-01")
    clinic.client("C-1", start="2026-06-01", sessions_per_week=1, cohort="G-1")
    clinic.session("C-1", "2026-06-02", pain_during=6)
    clinic.session("C-1", "2026-06-24", pain_during=2)
    create_app(clinic.load())
    # 10 June: week 2, current pain (28 May-10 June) 6 = baseline: no change. 24 June: week 4, 6 -> 2: improved.
    _, _, _, early, _, _ = cohorts.show_cohort("2026-06-10", "G-1")
    _, _, _, late, _, _ = cohorts.show_cohort("2026-06-24", "G-1")
    assert (early[0]["program_week"], early[0]["pain_status"]) == (2, "no important change")
    assert (late[0]["program_week"], late[0]["pain_status"]) == (4, "improved")


def test_before_anything_is_loaded_the_pages_say_what_to_load(tmp_path):
    create_app(tmp_path / "nothing.duckdb")
    for page in (cohorts.cohort_list(), cohorts.cohort_page("G-1")):
        assert page.id == "empty-state"
        assert "No data loaded yet" in text(page)
