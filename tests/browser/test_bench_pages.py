"""The page benchmark (benchmarks/bench_pages.py): its Server-Timing parser and summaries, its bench users,
and a quick run of the whole of it (sign in and capture in Chromium, sign in and replay over HTTP) on a copy
of the small demo warehouse (a copy: the benchmark adds its users to the records)."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import time
from pathlib import Path

import pytest

from access import users
from tests.conftest import copy_warehouse

BENCH = Path(__file__).parents[2] / "benchmarks" / "bench_pages.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_pages", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_pages"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load()


def test_server_timing_header_is_parsed_into_milliseconds_by_part():
    header = "query;dur=4.1, figures;dur=12.0, total;dur=19.3"
    assert bench.parse_server_timing(header) == {"query": 4.1, "figures": 12.0, "total": 19.3}


def test_server_timing_parser_takes_descriptions_repeats_and_nothing():
    header = 'query;desc="DuckDB";dur=2.5,query;dur=1.5 , cache, total;dur="9"'
    assert bench.parse_server_timing(header) == {"query": 4.0, "cache": 0.0, "total": 9.0}
    assert bench.parse_server_timing("") == {}
    assert bench.parse_server_timing(None) == {}


def test_a_summary_splits_the_server_total_into_named_parts_and_the_rest():
    responses = [
        bench.Response(wall, 200, 1000, {"query": q, "figures": 10.0, "total": total}, cpu_ms=20.0)
        for wall, q, total in [(30.0, 5.0, 20.0), (40.0, 6.0, 25.0), (50.0, 7.0, 30.0)]
    ]
    stats = bench.summarise(responses)
    assert stats["n"] == 3
    assert stats["wall_p50_ms"] == 40.0 and stats["total_p50_ms"] == 25.0
    assert stats["parts_median_ms"] == {"query": 6.0, "figures": 10.0}
    assert stats["dash_json_median_ms"] == 9.0  # 25 - 6 - 10
    assert stats["transport_median_ms"] == 15.0
    assert stats["cpu_mean_ms"] == 20.0
    assert stats["statuses"] == {"200": 3} and not stats["untimed"]
    assert bench.summarise([bench.Response(3.0, 200, 50, {"total": 0.5})])["untimed"]
    # every request's sign-in check is timed: a callback timing nothing else of its own is still untimed
    assert bench.summarise([bench.Response(3.0, 200, 50, {"session": 0.2, "total": 0.5})])["untimed"]


def test_callbacks_are_named_by_their_first_output():
    routing = {
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}]
    }
    assert bench.label(routing) == "layout (pages routing)"
    many = {"outputs": [{"id": "a", "property": "children"}, {"id": "b", "property": "figure"}]}
    assert bench.label(many) == "a.children +1"
    assert bench.label({"outputs": {"id": "nav", "property": "href@4f2a"}}) == "nav.href"
    assert bench.label({"outputs": {"id": {"type": "x", "n": 1}, "property": "value"}}) == '{"n": 1, "type": "x"}.value'


def test_the_bench_users_are_added_once_beside_the_users_a_warehouse_has(demo_warehouse, tmp_path):
    db = copy_warehouse(demo_warehouse, tmp_path / "hipline.duckdb")
    demo_users = {u.staff_id: u.username for u in users.list_users(db)}  # the demo's physio, instructor, admin
    sample = bench.choose(db, clients=2, cohorts=1)
    # one user per staff member: the caseload is of a clinician without a user of their own, and so is the admin
    assert sample.clinician not in demo_users and sample.admin not in demo_users
    assert sample.admin != sample.clinician

    accounts, added = bench.ensure_users(db, sample)
    physio, admin = accounts[bench.PHYSIO], accounts[bench.ADMIN]
    assert added == [f"bench-physio-{sample.clinician}", "bench-admin"]
    assert (physio.username, physio.staff_id) == (f"bench-physio-{sample.clinician}", sample.clinician)
    assert users.find(db, physio.username).role == "physio"
    assert (users.find(db, "bench-admin").role, admin.staff_id) == ("admin", sample.admin)
    assert users.check_password(db, physio.username, physio.password) is not None

    again = bench.choose(db, clients=2, cohorts=1)  # a second run: the same users, none added
    assert (again.clinician, again.admin) == (sample.clinician, sample.admin)
    assert bench.ensure_users(db, again) == (accounts, [])
    assert len(users.list_users(db)) == len(demo_users) + 2


@pytest.mark.browser
@pytest.mark.slow
def test_a_quick_run_times_every_page_against_the_floor(demo_warehouse, tmp_path, browser):
    db = copy_warehouse(demo_warehouse, tmp_path / "warehouse" / "hipline.duckdb")
    started = time.monotonic()
    result = bench.run(db, rounds=4, clients=2, cohorts=1, browser=browser)

    assert result["errors"] == []  # every replayed request was signed in, with its CSRF token
    physio = f"bench-physio-{result['clinician']}"
    assert result["signed_in_as"] == {
        "floor": physio, "caseload": physio, "client": physio, "cohort list": "bench-admin", "cohort": "bench-admin"
    }  # fmt: skip
    assert users.find(db, physio).staff_id == result["clinician"]
    assert set(result["sign_in_round_trips_ms"]) == {physio, "bench-admin"}

    assert set(bench.PAGES) <= set(result["pages"])
    floor = result["floor"]
    assert floor["n"] == 4 * len(result["pages"]) and floor["wall_p50_ms"] > 0 and floor["total_p50_ms"] > 0
    assert floor["parts_median_ms"]["session"] > 0  # the sign-in check, timed on every request
    assert 0 < result["session_check_ms"]["median"] <= result["session_check_ms"]["p95"]
    for page in bench.PAGES:
        callbacks = result["pages"][page]["callbacks"]
        assert "layout (pages routing)" in callbacks, page
        for name, stats in callbacks.items():
            assert stats["n"] == 4 and stats["total_p50_ms"] > 0, (page, name)
            assert set(stats["statuses"]) <= {"200", "204"}, (page, name, stats["statuses"])
            assert "session" in stats["parts_median_ms"], (page, name)
        assert result["pages"][page]["slowest_p95_ms"] >= floor["wall_p50_ms"]
    caseload = result["pages"]["caseload"]["callbacks"]["caseload-summary.children +3"]
    assert caseload["parts_median_ms"]["query"] > 0  # the Server-Timing header, read back
    assert result["first_request"]["analytics"]["server_timing_ms"]["total"] > 0

    out = tmp_path / "pages.json"
    bench.write(result, out)
    saved = json.loads(out.read_text())["sizes"][str(result["warehouse_clients"])][result["server"]]
    assert saved["floor"] == floor
    from rich.console import Console

    console = Console(file=io.StringIO(), width=200)
    for table in bench.tables(result):
        console.print(table)
    assert "caseload" in console.file.getvalue() and "session" in console.file.getvalue()
    assert "signing in as bench-admin" in bench.first_request_line(result)
    assert "signed in as floor: " + physio in bench.session_line(result)
    assert time.monotonic() - started < 60
