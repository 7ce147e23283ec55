"""A viewer's scope from the roster (docs/security.md#roles-and-what-each-may-do) and the analytics narrowed to it
(Analytics.within)."""

from __future__ import annotations

from analytics import Scope
from tests.analytics.clinic import Clinic


def two_caseloads(tmp_path) -> Clinic:
    """Physios S-1 and S-4, instructor S-2 with class G-1 (C-1 of S-1, C-3 of S-4) and an empty G-2;
    C-2 of S-1 attends no class."""
    clinic = Clinic(tmp_path)
    clinic.staff("S-4", "Dee Ray", "physio")
    clinic.cohort("G-1", start="2026-06-01")
    clinic.cohort("G-2", start="2026-06-08")
    clinic.client("C-1", start="2026-06-01", cohort="G-1")
    clinic.client("C-2", start="2026-06-01")
    clinic.client("C-3", start="2026-06-01", cohort="G-1", clinician="S-4")
    for client_id, pain in (("C-1", 4), ("C-2", 8), ("C-3", 6)):
        clinic.session(client_id, "2026-06-02", pain_during=pain)
    return clinic


def test_a_physio_sees_their_caseload_an_instructor_their_classes_an_admin_everyone(tmp_path):
    with two_caseloads(tmp_path).analytics("2026-06-07") as a:
        assert a.scope_of("physio", "S-1") == Scope.only(["C-1", "C-2"], ["G-1"])
        assert a.scope_of("physio", "S-4") == Scope.only(["C-3"], ["G-1"])
        assert a.scope_of("instructor", "S-2") == Scope.only(["C-1", "C-3"], ["G-1", "G-2"])
        assert a.scope_of("admin", "S-3") == Scope.everyone()
        assert a.scope_of("receptionist", "S-3") == Scope.only([], []), "an unknown role sees nothing"
        assert a.scope_of("physio", "S-9") == Scope.only([], [])


def test_a_view_reads_only_its_clients_and_computes_roll_ups_over_them(tmp_path):
    with two_caseloads(tmp_path).analytics("2026-06-07") as a:
        mine = a.within(a.scope_of("physio", "S-1"))
        assert list(mine.client_metrics()["client_id"]) == ["C-1", "C-2"]
        assert set(mine.caseload(None)["client_id"]) == {"C-1", "C-2"}
        assert mine.client("C-3") is None and mine.sessions("C-3").empty and mine.session_log("C-3").empty
        assert not mine.has_client("C-3") and mine.recommendations("C-3").empty
        assert mine.client_count() == 2
        # G-1 as S-1 sees it: C-1 alone (pain 4), not C-1 and C-3 ((4 + 6) / 2 = 5).
        week1 = mine.cohort_weekly("G-1").iloc[0]
        assert (week1["n"], week1["mean_pain"]) == (1, 4.0)
        assert mine.cohort_summary().set_index("cohort_id").loc["G-1", "members"] == 1
        assert list(mine.cohorts()["cohort_id"]) == ["G-1"]
        assert list(mine.attendance_grid("G-1")["client_id"].unique()) == ["C-1"]
        staff = mine.staff().set_index("staff_id")["active_clients"]
        assert (staff["S-1"], staff["S-4"]) == (2, 0), "counts within the scope"
        # The whole build is unchanged for the next viewer.
        assert list(a.client_metrics()["client_id"]) == ["C-1", "C-2", "C-3"]
        assert a.cohort_weekly("G-1").iloc[0]["mean_pain"] == 5.0


def test_an_instructor_sees_an_empty_class_of_theirs(tmp_path):
    with two_caseloads(tmp_path).analytics("2026-06-07") as a:
        theirs = a.within(a.scope_of("instructor", "S-2"))
        cohorts = theirs.cohorts().set_index("cohort_id")["members"]
        assert cohorts.to_dict() == {"G-2": 0, "G-1": 2}


def test_a_read_outside_the_scope_is_told_once_per_client_and_answers_as_for_no_client(tmp_path):
    told = []
    with two_caseloads(tmp_path).analytics("2026-06-07") as a:
        mine = a.within(a.scope_of("physio", "S-4"), on_outside=told.append)
        assert mine.client("C-1") is None and mine.client("C-404") is None
        assert mine.pain_points("C-1").empty and mine.client_weekly("C-1").empty
        assert mine.client("C-3")["client_id"] == "C-3"
    assert told == ["C-1", "C-404"]


def test_narrowing_twice_keeps_what_both_may_see(tmp_path):
    with two_caseloads(tmp_path).analytics("2026-06-07") as a:
        both = a.within(Scope.only(["C-1", "C-2"])).within(Scope.only(["C-2", "C-3"]))
        assert list(both.client_metrics()["client_id"]) == ["C-2"]
