"""The demo data set: deterministic, and shaped like a real clinic's (not uniform noise)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from etl.library import load_library
from hipline.demo_data import generate_demo
from hipline.demo_data.generate import DEFAULT_END
from tests.conftest import query


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_the_same_seed_gives_the_same_files(tmp_path):
    generate_demo(tmp_path / "a", clients=40, seed=3)
    generate_demo(tmp_path / "b", clients=40, seed=3)
    generate_demo(tmp_path / "c", clients=40, seed=4)
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")


def test_the_files_can_go_into_a_folder_with_a_quote_in_its_name(tmp_path):
    """The folder reaches DuckDB's COPY as a bound parameter, not as text inside the SQL."""
    out = tmp_path / "o'brien's clinic"
    generate_demo(out, clients=3, seed=1)
    names = {p.name for p in out.iterdir()}
    assert "performance_tests.parquet" in names and any(n.startswith("sessions_") for n in names)


def test_the_demo_writes_several_formats_and_one_bad_file(demo_files):
    names = {p.name for p in demo_files.iterdir()}
    assert {
        "staff.txt",
        "cohorts.csv",
        "clients.xlsx",
        "measures.jsonl",
        "performance_tests.parquet",
        "clinic_legacy_sessions.csv",
        "needs_review_sessions.csv",
    } <= names
    assert any(n.startswith("sessions_") for n in names)
    assert (demo_files / "staff.txt").read_bytes()[:2] == b"\xff\xfe", "UTF-16 with a byte-order mark"
    assert b";" in (demo_files / sorted(n for n in names if n.startswith("sessions_"))[0]).read_bytes()[:200]
    (demo_files / "clinic_legacy_sessions.csv").read_bytes().decode("latin-1")


def test_the_demo_clinic_has_staff_cohorts_and_clients_across_regions(demo_warehouse):
    roles = dict(query(demo_warehouse, "SELECT role, count(*) FROM staff GROUP BY role"))
    assert roles["physio"] >= 3 and roles["instructor"] >= 3 and roles["admin"] >= 1
    assert query(demo_warehouse, "SELECT count(*) >= 6 FROM cohorts") == [(True,)]
    regions = dict(query(demo_warehouse, "SELECT region, count(*) FROM clients GROUP BY region"))
    assert {"hip", "knee", "low_back"} <= set(regions)
    first, last = query(demo_warehouse, "SELECT min(start_date), max(start_date) FROM clients")[0]
    assert last <= DEFAULT_END and first >= DEFAULT_END - timedelta(weeks=16)
    assert (last - first).days > 80, "start dates are spread over the last 16 weeks"


def test_every_quarantined_demo_row_comes_from_the_file_made_to_show_it(demo_warehouse):
    files = {f for (f,) in query(demo_warehouse, "SELECT DISTINCT source_file FROM quarantine")}
    assert files == {"needs_review_sessions.csv"}
    assert query(demo_warehouse, "SELECT count(*) FROM quarantine") == [(13,)]


def test_adherence_patterns_differ_between_clients(demo_warehouse):
    # Share of scheduled sessions attended, first half of each client's episode vs second half.
    halves = query(
        demo_warehouse,
        """
        WITH s AS (SELECT DISTINCT client_id, session_date, session_type, attended FROM session_log),
        span AS (SELECT client_id, min(session_date) AS a, max(session_date) AS b FROM s GROUP BY 1)
        SELECT avg(attended::INT) FILTER (WHERE session_date <= a + CAST((b - a) // 2 AS INTEGER)),
               avg(attended::INT) FILTER (WHERE session_date > a + CAST((b - a) // 2 AS INTEGER))
        FROM s JOIN span USING (client_id) GROUP BY client_id, a, b HAVING b - a > 40""",
    )
    declining = [1 for early, late in halves if early is not None and late is not None and early - late > 0.3]
    steady = [1 for early, late in halves if early and late and early > 0.8 and late > 0.8]
    assert declining and steady


def test_pain_improves_for_some_clients_and_worsens_for_others(demo_warehouse):
    changes = [
        c
        for (c,) in query(
            demo_warehouse,
            """
        WITH p AS (SELECT s.client_id, s.session_date - c.start_date AS day, s.pain_during
                   FROM session_log s JOIN clients c USING (client_id) WHERE s.pain_during IS NOT NULL)
        SELECT avg(pain_during) FILTER (WHERE day >= max_day - 13) - avg(pain_during) FILTER (WHERE day <= 13)
        FROM (SELECT *, max(day) OVER (PARTITION BY client_id) AS max_day FROM p)
        GROUP BY client_id HAVING max(day) >= 42""",
        )
        if c is not None
    ]
    assert any(c <= -2 for c in changes), "some clients improve by a clinically important amount"
    assert any(c >= 1.5 for c in changes), "some clients get worse"


def test_exercises_follow_the_library_ladders_and_doses_progress(demo_warehouse):
    library = load_library()
    names = {lv.name for family in library.values() for lv in family.levels}
    aliases = {a for family in library.values() for lv in family.levels for a in lv.aliases}
    done = {e for (e,) in query(demo_warehouse, "SELECT DISTINCT exercise FROM session_log WHERE exercise IS NOT NULL")}
    assert done & names and done & aliases, "exercises are logged by name and by alias"
    assert done - names - aliases == {"foam roller release"}, "one warm-up is not in the library"
    progressed = query(
        demo_warehouse,
        """
        SELECT count(*) FROM (SELECT client_id, min(level) AS low, max(level) AS high, min(sets) AS s0, max(sets) AS s1
                              FROM session_log WHERE exercise = 'clamshell' OR exercise LIKE 'bridge%'
                              GROUP BY client_id) WHERE high > low AND s1 > s0""",
    )[0][0]
    assert progressed > 0, "some clients moved up a dose and a level"


def test_measures_fit_the_region_every_four_weeks(demo_warehouse):
    by_region = dict(
        query(
            demo_warehouse,
            """
        SELECT c.region, list(DISTINCT m.instrument ORDER BY m.instrument)
        FROM measures m JOIN clients c USING (client_id) GROUP BY c.region""",
        )
    )
    assert "ODI" in by_region["low_back"] and "ODI" not in by_region["knee"]
    assert {"LEFS", "KOOS_JR"} & set(by_region["knee"]) and {"HOOS_JR", "LEFS"} & set(by_region["hip"])
    assert all("PSFS" in v and "NPRS" in v for v in by_region.values())
    gaps = [
        g
        for (g,) in query(
            demo_warehouse,
            """
        SELECT measured_on - lag(measured_on) OVER (PARTITION BY client_id ORDER BY measured_on)
        FROM (SELECT DISTINCT client_id, measured_on FROM measures WHERE instrument = 'NPRS')""",
        )
        if g is not None
    ]
    assert gaps and 25 <= sorted(gaps)[len(gaps) // 2] <= 32
    assert query(
        demo_warehouse,
        "SELECT count(*) > 0 FROM clients WHERE client_id NOT IN (SELECT client_id FROM measures)",
    ) == [(True,)]


def test_some_notes_carry_red_flags(demo_warehouse):
    flagged = query(
        demo_warehouse,
        """SELECT count(*) FROM session_log
        WHERE regexp_matches(lower(notes), 'swelling|gave way|unstable|numbness|tingling|night pain|fall')""",
    )[0][0]
    assert flagged > 0


def test_the_demo_puts_one_client_of_the_demo_physio_on_hold(demo_warehouse, tmp_path):
    from access import users
    from analytics import NEWEST, Analytics, Scope
    from hipline.demo_data.reviews import add_demo_review
    from tests.conftest import copy_warehouse

    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    physio = users.find(db, "physio")
    client_id = add_demo_review(db, physio.staff_id)
    assert client_id is not None
    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        client = analytics.client(client_id)
        day = analytics.today
    assert client["clinician_id"] == physio.staff_id
    assert client["flags"].split(";")[0] == "on_hold" and "refer" not in client["flags"]
    assert client["flag_evidence"].startswith(f"on_hold: referred to GP on {day.day} ")
    assert add_demo_review(db, physio.staff_id) is None, "once"
