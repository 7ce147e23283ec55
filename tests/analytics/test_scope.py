"""Every read of the analytics layer stays inside the viewer's scope (the clients they may see)."""

from __future__ import annotations

import re
from pathlib import Path

from analytics import Scope
from analytics.queries import SQL
from tests.analytics.clinic import Clinic


def three_clients(tmp_path) -> Clinic:
    clinic = Clinic(tmp_path)
    clinic.cohort("G-1", start="2026-06-01")
    for client_id, pain in (("C-1", 4), ("C-2", 8), ("C-3", 6)):
        clinic.client(client_id, start="2026-06-01", cohort="G-1")
        clinic.session(client_id, "2026-06-02", pain_during=pain, notes="Some swelling" if client_id == "C-2" else None)
        clinic.measure(client_id, "2026-06-03", "ODI", 30)
    return clinic


def test_a_scope_shows_only_its_clients_everywhere(tmp_path):
    with three_clients(tmp_path).analytics("2026-06-07", Scope.only(["C-1", "C-3"])) as a:
        assert list(a.client_metrics()["client_id"]) == ["C-1", "C-3"]
        assert set(a.client_weekly()["client_id"]) == {"C-1", "C-3"}
        assert set(a.function_change()["client_id"]) == {"C-1", "C-3"}
        assert a.red_flag_notes().empty  # C-2's note is out of scope
        assert set(a.caseload("S-1")["client_id"]) == {"C-1", "C-3"}
        assert a.sessions("C-2").empty and a.pain_points("C-2").empty
        # The cohort roll-up is over the members this viewer may see: (4 + 6) / 2, not (4 + 8 + 6) / 3.
        week1 = a.cohort_weekly("G-1").iloc[0]
        assert (week1["n"], week1["mean_pain"]) == (2, 5.0)
        assert a.cohort_summary().iloc[0]["members"] == 2


def test_an_empty_scope_gives_empty_tables_not_errors(tmp_path):
    with three_clients(tmp_path).analytics("2026-06-07", Scope.only([])) as a:
        for frame in (
            a.client_metrics(),
            a.client_weekly(),
            a.function_change(),
            a.cohort_weekly(),
            a.cohort_summary(),
            a.caseload("S-1"),
            a.red_flag_notes(),
        ):
            assert frame.empty


def test_narrowing_a_scope_never_widens_it():
    assert Scope.everyone().narrowed_to(["C-1"]) == Scope.only(["C-1"])
    assert Scope.only(["C-1", "C-2"]).narrowed_to(["C-2", "C-3"]) == Scope.only(["C-2"])
    assert Scope.only([]).narrowed_to(["C-1"]).client_ids == frozenset()


def test_the_sql_reads_the_warehouse_only_through_the_scoped_views():
    public_views = ("clients", "session_log", "measures", "staff", "quarantine", "load_history")
    for path in Path(SQL).glob("*.sql"):
        sql = re.sub(r"--[^\n]*", "", path.read_text())
        read = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)", sql, flags=re.IGNORECASE))
        assert not read & set(public_views), f"{path.name} reads {read & set(public_views)} around the scope"


def test_the_reads_take_the_scope_only_through_their_in_scope_condition():
    """A read (analytics/sql/reads/) reads the clients' data through the scoped views or the built tables; the
    roster's staff is not a client's data. Its one placeholder is `{in_scope}`, which the code fills with the
    SQL naming the viewer's scope table: a value a viewer gives is a `$name` parameter."""
    public_views = ("clients", "session_log", "measures", "quarantine", "load_history")
    reads = sorted((Path(SQL) / "reads").glob("*.sql"))
    assert reads
    for path in reads:
        sql = re.sub(r"--[^\n]*", "", path.read_text())
        read = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_]+)", sql, flags=re.IGNORECASE))
        assert not read & set(public_views), f"{path.name} reads {read & set(public_views)} around the scope"
        assert set(re.findall(r"\{[^}]*\}", sql)) <= {"{in_scope}"}, path.name
