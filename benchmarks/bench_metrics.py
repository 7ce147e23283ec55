"""Metrics benchmark on demo warehouses of 1 000 to 10 000 clients (not a test: run `make bench`).

For each size, on the same warehouse, it times:
  floor     one bare DuckDB aggregate scan of the `session_log` view (rows and mean pain per
            client) on an open read-only connection, fetched fully
  hipline   every number of docs/metrics.md for everyone: `Analytics.open(db, Scope.everyone(), NEWEST)`, then
            client_metrics, client_weekly, function_change, cohort_weekly and cohort_summary, on an open
            read-only connection: build (the temporary tables) + read (the frames)
  recommend what `hipline recommend` does: the same build, then every recommendation in words
            (`Analytics.recommendations()`, the evidence included)
  scoped    what a page does: the caseload of the clinician with the most clients,
            `Analytics.open(db, Scope.only(ids), NEWEST)`, then client_metrics and client_weekly
  pandas    the plain pandas reference (the tests' oracle, tests/oracles/reference.py),
            `reference_metrics(*read_views(db), Scope.everyone(), today)`, read_views included, with
            the same "today" as Analytics (the newest session)

The build includes the recommendation engine (docs/recommendations.md: exposure_runs + recommendations), which the
ready_to_progress flag needs; its share of the build is reported apart, and "metrics" below is the
hipline time without it (what the analytics issue measured): the best run of each run's time less
its own engine steps, against the floor (issue 14: at most 10x at 10 000 clients).

The machine is shared and its timings drift, so floor, hipline and scoped run in one process per
size: one warm-up each, then REPEATS rounds interleaved (floor, hipline, scoped, floor, ...); the best
run of each counts and every run is recorded. The pandas reference, slow by far, runs once, in a
process of its own. Peak memory is each process's own high-water mark (VmHWM). Opening the
connection (the same for every step) is timed apart, as `connect_seconds`.

Demo data (benchmarks/results/demo-<clients>-<seed>) and warehouses
(benchmarks/results/work/metrics-<clients>.duckdb) are cached: made once, when absent.
Results go to benchmarks/results/metrics.json (one entry per size, replaced when that size is run
again) and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from bench_load import RESULTS, peak_mb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the pandas peer is the tests' oracle (tests/oracles), not an installed package

REPEATS = 7
SIZES = "1000,2500,5000,10000"
WORK = RESULTS / "work"
OUT = RESULTS / "metrics.json"

FLOOR_SQL = "SELECT client_id, count(*), avg(pain_during) FROM session_log GROUP BY client_id"
BIGGEST_CASELOAD_SQL = """
    SELECT clinician_id, list(client_id ORDER BY client_id)
    FROM clients WHERE clinician_id IS NOT NULL
    GROUP BY clinician_id ORDER BY count(*) DESC, clinician_id LIMIT 1"""


# --- the timed work (in the child processes) -------------------------------------------------------


def _floor(db: Path) -> dict:
    from etl.warehouse import connect_read_only

    started = time.perf_counter()
    con = connect_read_only(db)
    connected = time.perf_counter()
    try:
        rows = con.execute(FLOOR_SQL).fetchall()
    finally:
        con.close()
    return {"seconds": time.perf_counter() - connected, "connect_seconds": connected - started, "rows": len(rows)}


def _analytics(db: Path, scope, read) -> dict:
    """Time Analytics on an open connection: build (its temporary tables), then `read(analytics)`."""
    from analytics.metrics import Analytics
    from analytics.today import NEWEST
    from etl.warehouse import connect_read_only

    started = time.perf_counter()
    con = connect_read_only(db)
    connected = time.perf_counter()
    try:
        analytics = Analytics(con, scope, NEWEST)  # the generated data end on a fixed day
        built = time.perf_counter()
        frames = read(analytics)
        done = time.perf_counter()
    finally:
        con.close()
    engine = sum(analytics.build_seconds[step] for step in ENGINE_STEPS)
    return {
        "seconds": done - connected,
        "connect_seconds": connected - started,
        "build_seconds": built - connected,
        "read_seconds": done - built,
        # the same run without the recommendation engine (ready_to_progress reads it): the numbers
        "metrics_seconds": done - connected - engine,
        "rows": {name: len(frame) for name, frame in frames.items()},
        "build_steps": {name: round(seconds, 4) for name, seconds in analytics.build_seconds.items()},
    }


def _hipline(db: Path) -> dict:
    from analytics.scope import Scope

    def every_table(a) -> dict:
        return {
            "client_metrics": a.client_metrics(),
            "client_weekly": a.client_weekly(),
            "function_change": a.function_change(),
            "cohort_weekly": a.cohort_weekly(),
            "cohort_summary": a.cohort_summary(),
        }

    return _analytics(db, Scope.everyone(), every_table)


def _recommend(db: Path) -> dict:
    from analytics.scope import Scope

    return _analytics(db, Scope.everyone(), lambda a: {"recommendations": a.recommendations()})


ENGINE_STEPS = ("exposure_runs", "recommendations")


def _scoped(db: Path, client_ids: list[str]) -> dict:
    from analytics.scope import Scope

    return _analytics(
        db, Scope.only(client_ids), lambda a: {"client_metrics": a.client_metrics(), "client_weekly": a.client_weekly()}
    )


def _best(runs: list[dict]) -> dict:
    """The fastest run, with the seconds of every run (and of their parts, when they have them)."""
    best = min(runs, key=lambda r: r["seconds"])
    every = {f"all_{key}": [round(r[key], 4) for r in runs] for key in best if key.endswith("seconds")}
    return best | every


def step_measure(db: Path, repeats: int) -> dict:
    from analytics.today import newest_session_date
    from etl.warehouse import connect_read_only, scalar

    con = connect_read_only(db)
    try:
        session_rows = scalar(con, "SELECT count(*) FROM session_log")
        clients = scalar(con, "SELECT count(*) FROM clients")
        clinician, caseload = con.execute(BIGGEST_CASELOAD_SQL).fetchall()[0]
        today = newest_session_date(con)
    finally:
        con.close()

    steps = {
        "floor": lambda: _floor(db),
        "hipline": lambda: _hipline(db),
        "recommend": lambda: _recommend(db),
        "scoped": lambda: _scoped(db, caseload),
    }
    warm_up = {name: round(step()["seconds"], 4) for name, step in steps.items()}
    runs: dict[str, list[dict]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            runs[name].append(step())
    return {
        "session_rows": session_rows,
        "clients": clients,
        "today": today.isoformat(),
        "clinician_id": clinician,
        "caseload": len(caseload),
        "warm_up_seconds": warm_up,
        **{name: _best(r) for name, r in runs.items()},
    }


def step_pandas(db: Path) -> dict:
    from analytics.scope import Scope
    from analytics.today import newest_session_date
    from etl.warehouse import connect_read_only
    from tests.oracles.reference import read_views, reference_metrics

    con = connect_read_only(db)
    try:
        today = newest_session_date(con)
    finally:
        con.close()
    started = time.perf_counter()
    views = read_views(db)
    read = time.perf_counter()
    reference = reference_metrics(*views, Scope.everyone(), today)
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "read_seconds": read - started,
        "compute_seconds": done - read,
        "rows": {
            "client_metrics": len(reference.client_metrics),
            "client_weekly": len(reference.client_weekly),
            "function_change": len(reference.function_change),
            "cohort_weekly": len(reference.cohort_weekly),
        },
    }


# --- the driver --------------------------------------------------------------------------------------


def _warehouse(clients: int, seed: int) -> Path:
    """The cached warehouse of a demo size: generate the files and load them the first time only."""
    source = RESULTS / f"demo-{clients}-{seed}"
    if not (source / "needs_review_sessions.csv").exists():  # the last file generate_demo writes
        from hipline.demo_data import generate_demo

        partial = source.with_name(source.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        summary = generate_demo(partial, clients, seed)
        shutil.rmtree(source, ignore_errors=True)
        partial.rename(source)
        print(f"generated {summary.session_rows:,} session rows for {clients:,} clients in {summary.seconds:.0f} s")
    db = WORK / f"metrics-{clients}.duckdb"
    if db.exists() and not _has_summaries(db):  # made by a loader older than etl/sessions.py or etl/exposures.py
        db.unlink()
    if not db.exists():
        from etl.load import load

        WORK.mkdir(parents=True, exist_ok=True)
        loading = db.with_name(f"metrics-{clients}.loading.duckdb")
        loading.unlink(missing_ok=True)
        started = time.perf_counter()
        report = load(loading, [source])
        loading.rename(db)
        for leftover in loading.parent.glob(loading.name + ".*"):
            leftover.unlink()
        rows = sum(f.rows_read for f in report.files)
        print(f"loaded {rows:,} rows of {clients:,} clients into {db.name} in {time.perf_counter() - started:.0f} s")
    return db


def _has_summaries(db: Path) -> bool:
    from etl.warehouse import connect_read_only, scalar

    con = connect_read_only(db)
    try:
        return (
            scalar(
                con, "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('session_summary', 'exposure_summary')"
            )
            == 2
        )
    finally:
        con.close()


def _run(step: str, db: Path, *extra: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--step", step, "--db", str(db), *extra], capture_output=True, text=True
    )
    if out.returncode != 0:
        sys.exit(f"step {step} on {db} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(clients: int, measured: dict, pandas: dict | None) -> dict:
    floor, ours, recommend = measured["floor"], measured["hipline"], measured["recommend"]
    engine = sum(ours["build_steps"][step] for step in ENGINE_STEPS)
    # the best run of the numbers alone (each run's time less its own engine steps): the machine's
    # drift moves the engine and the numbers apart, so the best whole run need not hold the best numbers
    metrics_only = min(ours["all_metrics_seconds"])
    entry = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        **{k: measured[k] for k in ("session_rows", "clients", "today", "clinician_id", "caseload")},
        "hipline_vs_floor": round(ours["seconds"] / floor["seconds"], 1),
        "metrics_vs_floor": round(metrics_only / floor["seconds"], 1),
        "pandas_vs_hipline": round(pandas["seconds"] / ours["seconds"], 1) if pandas else None,
        "engine_seconds": round(engine, 4),
        "metrics_only_seconds": round(metrics_only, 4),
        "engine_vs_metrics": round(engine / metrics_only, 2),
        "recommend_vs_metrics": round(recommend["seconds"] / metrics_only, 2),
        "peak_mb": measured["peak_mb"],
        "pandas_peak_mb": pandas["peak_mb"] if pandas else None,
        "warm_up_seconds": measured["warm_up_seconds"],
        "steps": {
            "floor": floor,
            "hipline": ours,
            "recommend": recommend,
            "scoped": measured["scoped"],
            "pandas": pandas,
        },
    }
    if measured["clients"] != clients:
        print(f"warning: the {clients:,}-client warehouse has {measured['clients']:,} clients")
    if pandas:
        differ = {k: (ours["rows"][k], n) for k, n in pandas["rows"].items() if ours["rows"].get(k) != n}
        if differ:
            print(f"warning: hipline and the pandas reference give different row counts at {clients:,}: {differ}")
    return entry


def _table(entries: dict[int, dict]) -> str:
    head = (
        f"{'clients':>8}{'session rows':>14}{'connect s':>11}{'floor s':>9}{'hipline s (build + read)':>27}"
        f"{'hip/floor':>11}{'pandas s':>10}{'pandas/hip':>12}{'scoped s (clients)':>21}{'peak MB hip / pandas':>23}"
    )
    lines = [head, "-" * len(head)]
    for clients, e in entries.items():
        floor, ours, scoped, peer = (e["steps"][k] for k in ("floor", "hipline", "scoped", "pandas"))
        split = f"{ours['seconds']:.3f} ({ours['build_seconds']:.3f} + {ours['read_seconds']:.3f})"
        pandas = f"{peer['seconds']:.1f}" if peer else "-"
        speed_up = f"{e['pandas_vs_hipline']:.0f}x" if peer else "-"
        caseload = f"{scoped['seconds']:.3f} ({e['caseload']})"
        peaks = f"{e['peak_mb']} / {e['pandas_peak_mb'] if peer else '-'}"
        lines.append(
            f"{clients:>8,}{e['session_rows']:>14,}{floor['connect_seconds']:>11.3f}{floor['seconds']:>9.3f}{split:>27}{e['hipline_vs_floor']:>10.1f}x"
            f"{pandas:>10}{speed_up:>12}{caseload:>21}{peaks:>23}"
        )
    lines += [
        "",
        "recommendations (docs/recommendations.md): the engine's share of the build, and every recommendation in words",
        "",
    ]
    head = (
        f"{'clients':>8}{'metrics s':>11}{'metrics/floor':>15}{'engine s':>10}{'engine/metrics':>16}"
        f"{'recommend s':>13}{'recommend/metrics':>19}{'rows':>8}"
    )
    lines += [head, "-" * len(head)]
    for clients, e in entries.items():
        recommend = e["steps"]["recommend"]
        lines.append(
            f"{clients:>8,}{e['metrics_only_seconds']:>11.3f}{e['metrics_vs_floor']:>14.1f}x"
            f"{e['engine_seconds']:>10.3f}{e['engine_vs_metrics']:>15.2f}x"
            f"{recommend['seconds']:>13.3f}{e['recommend_vs_metrics']:>18.2f}x{recommend['rows']['recommendations']:>8,}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=SIZES, help=f"client counts, comma-separated (default {SIZES})")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=REPEATS, help="timed rounds after the warm-up")
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the (slow) pandas reference")
    parser.add_argument("--step", choices=("measure", "pandas"), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        result = step_measure(args.db, args.repeats) if args.step == "measure" else step_pandas(args.db)
        print(json.dumps({**result, "peak_mb": round(peak_mb())}))
        return

    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    warehouses = {clients: _warehouse(clients, args.seed) for clients in sizes}
    entries: dict[int, dict] = {}
    for clients, db in warehouses.items():
        measured = _run("measure", db, "--repeats", str(args.repeats))
        pandas = None if args.skip_pandas else _run("pandas", db)
        entries[clients] = _summary(clients, measured, pandas)
        e = entries[clients]
        print(
            f"{clients:>6,} clients: floor {e['steps']['floor']['seconds']:.3f} s, "
            f"hipline {e['steps']['hipline']['seconds']:.3f} s (engine {e['engine_seconds']:.3f} s), "
            f"recommend {e['steps']['recommend']['seconds']:.3f} s, scoped {e['steps']['scoped']['seconds']:.3f} s"
            + (f", pandas {pandas['seconds']:.1f} s" if pandas else ""),
            flush=True,
        )

    import duckdb

    saved = json.loads(OUT.read_text()) if OUT.exists() else {}
    kept = saved.get("sizes", {}) if saved.get("seed") == args.seed else {}
    by_size = {int(k): v for k, v in kept.items()} | entries
    OUT.write_text(
        json.dumps(
            {
                "seed": args.seed,
                "repeats": args.repeats,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "duckdb": duckdb.__version__,
                "sizes": {str(k): by_size[k] for k in sorted(by_size)},
            },
            indent=2,
        )
    )
    print(f"\nbest of {args.repeats} interleaved runs after a warm-up (pandas: one run); {os.cpu_count()} CPUs\n")
    print(_table(entries))
    print(f"\nscoped: the biggest caseload (clients in brackets), client_metrics + client_weekly; written to {OUT}")


if __name__ == "__main__":
    main()
