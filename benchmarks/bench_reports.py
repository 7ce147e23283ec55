"""Report benchmark: one client's progress report warm and cold, and a whole caseload as a zip of PDFs.

    .venv/bin/python benchmarks/bench_reports.py              # ~300 active clients (a 400-client demo)
    .venv/bin/python benchmarks/bench_reports.py --quick      # a 40-client demo: a smoke run

Targets (issue 6): one client report <= 1 s warm; a 300-client caseload zip <= 3 min on this machine
with memory flat across the batch.

What it measures:
  1. one report, in this process, as `hipline report --client` makes it (analytics built once):
     the first (Chromium starts, WeasyPrint loads its fonts), then `--warm` more, each a different client;
     per report the parts: the numbers (analytics -> context), the layout (WeasyPrint, while the charts
     render in Chromium), and the whole;
  2. the caseload zip (`reports.caseload.write_caseload_zip`, every active client, two layout workers),
     sampling every 0.5 s the memory of this process and all its children (Chromium and the workers):
     RSS summed (counts shared pages once per process, so it overstates) and PSS summed (shares them
     out: the honest total). "Flat" is judged by the median PSS in the first and last fifth of the batch.

Results go to benchmarks/results/reports.json (--quick: reports-quick.json) and are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results"
WORK = RESULTS / "work"


def _warehouse(clients: int, seed: int) -> Path:
    """A demo warehouse of `clients` clients, generated and loaded the first time only."""
    db = WORK / f"reports-{clients}-{seed}.duckdb"
    if db.exists():
        return db
    from etl.load import load
    from hipline.demo_data import generate_demo

    source = WORK / f"reports-{clients}-{seed}-files"
    shutil.rmtree(source, ignore_errors=True)
    generate_demo(source, clients, seed)
    loading = db.with_name(db.name + ".loading")
    report = load(loading, [source])
    assert report.all_readable, [f.error for f in report.files if f.error]
    loading.rename(db)
    for leftover in loading.parent.glob(loading.name + ".*"):
        leftover.unlink()
    shutil.rmtree(source)
    return db


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def one_report(db: Path, warm: int) -> dict:
    from analytics import NEWEST, Analytics, Scope
    from reports.client_report import client_context, client_report_from_context

    with Analytics.open(db, Scope.everyone(), NEWEST) as analytics:
        clients = analytics.caseload(None)["client_id"].tolist()[: warm + 1]
        timings = []
        for client_id in clients:
            started = time.perf_counter()
            context = client_context(analytics, client_id)
            numbers = time.perf_counter()
            document = client_report_from_context(context)
            done = time.perf_counter()
            assert document.startswith(b"%PDF")
            timings.append({"numbers": numbers - started, "layout": done - numbers, "total": done - started})
    first, rest = timings[0], timings[1:]
    return {
        "first_s": round(first["total"], 3),
        "warm": len(rest),
        "warm_median_s": round(statistics.median(t["total"] for t in rest), 3),
        "warm_p95_s": round(_percentile([t["total"] for t in rest], 0.95), 3),
        "warm_numbers_median_s": round(statistics.median(t["numbers"] for t in rest), 3),
        "warm_layout_median_s": round(statistics.median(t["layout"] for t in rest), 3),
    }


def _kind(process, me) -> str:
    if process.pid == me.pid:
        return "this process"
    command = " ".join(process.cmdline())
    if "chrom" in process.name() or "chrom" in command:
        return "chromium"
    return "layout workers" if "spawn_main" in command else "other"


class _Memory:
    """Samples the memory of this process and its children every 0.5 s, in MB."""

    def __init__(self) -> None:
        import psutil

        self.me = psutil.Process()
        self.samples: list[tuple[float, float, float]] = []  # (seconds, rss, pss)
        self.by_kind: list[dict[str, float]] = []  # PSS of this process, the layout workers, Chromium
        self.started = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            rss = pss = 0
            kinds = {"this process": 0.0, "layout workers": 0.0, "chromium": 0.0, "other": 0.0}
            for process in [self.me, *self.me.children(recursive=True)]:
                try:
                    info = process.memory_full_info()
                    kind = _kind(process, self.me)
                except psutil.Error:
                    continue
                rss, pss = rss + info.rss, pss + info.pss
                kinds[kind] += info.pss / 2**20
            self.samples.append((time.perf_counter() - self.started, rss / 2**20, pss / 2**20))
            self.by_kind.append(kinds)
            self._stop.wait(0.5)

    def __enter__(self) -> _Memory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def caseload_zip(db: Path, workers: int) -> dict:
    from reports.caseload import write_caseload_zip

    out = WORK / "caseload.zip"
    progress: list[tuple[float, int]] = []
    with _Memory() as memory:
        done = write_caseload_zip(
            db, None, out, workers=workers, progress=lambda d, t, n: progress.append((time.perf_counter(), d))
        )
    size = out.stat().st_size
    out.unlink()
    # memory while the reports were made: from the first report written to the last
    first, last = progress[0][0] - memory.started, progress[-1][0] - memory.started
    inside = [i for i, s in enumerate(memory.samples) if first <= s[0] <= last]
    during = [memory.samples[i] for i in inside]
    fifth = max(1, len(during) // 5)
    kinds = [memory.by_kind[i] for i in inside]

    def kind_mb(part: list[dict]) -> dict:
        return {k: round(statistics.median(p[k] for p in part)) for k in part[0]}

    return {
        "reports": done.clients,
        "seconds": round(done.seconds, 1),
        "per_report_s": round(done.seconds / max(done.clients, 1), 3),
        "zip_mb": round(size / 2**20, 1),
        "workers": workers,
        "pss_mb_first_fifth": round(statistics.median(s[2] for s in during[:fifth]), 0),
        "pss_mb_last_fifth": round(statistics.median(s[2] for s in during[-fifth:]), 0),
        "pss_mb_max": round(max(s[2] for s in memory.samples), 0),
        "rss_mb_first_fifth": round(statistics.median(s[1] for s in during[:fifth]), 0),
        "rss_mb_last_fifth": round(statistics.median(s[1] for s in during[-fifth:]), 0),
        "rss_mb_max": round(max(s[1] for s in memory.samples), 0),
        "pss_mb_by_process_first_fifth": kind_mb(kinds[:fifth]),
        "pss_mb_by_process_last_fifth": kind_mb(kinds[-fifth:]),
    }


def run(clients: int, seed: int, warm: int, workers: int, rounds: int) -> dict:
    db = _warehouse(clients, seed)
    return {
        "clients_in_demo": clients,
        "one_report": one_report(db, warm),
        # the same zip again in the same process: does memory settle, or keep growing with the reports?
        "caseload_zip": [caseload_zip(db, workers) for _ in range(rounds)],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "when": datetime.now().isoformat(timespec="seconds"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a 40-client demo: a smoke run")
    parser.add_argument("--clients", type=int, help="demo clients (default 400: about 300 active)")
    parser.add_argument("--warm", type=int, default=20, help="warm single reports to time (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="layout workers for the zip (default 2)")
    parser.add_argument("--rounds", type=int, default=2, help="zips made one after the other (default 2)")
    args = parser.parse_args()
    clients = args.clients or (40 if args.quick else 400)
    result = run(clients, 7, 5 if args.quick else args.warm, args.workers, 1 if args.quick else args.rounds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / ("reports-quick.json" if args.quick else "reports.json")).write_text(json.dumps(result, indent=2))
    one = result["one_report"]
    print(
        f"one report: first {one['first_s']} s; warm median {one['warm_median_s']} s, p95 {one['warm_p95_s']} s "
        f"(numbers {one['warm_numbers_median_s']} s, layout {one['warm_layout_median_s']} s; target <= 1 s)"
    )
    for batch in result["caseload_zip"]:
        _print_zip(batch)


def _print_zip(batch: dict) -> None:
    print(
        f"caseload zip: {batch['reports']} reports in {batch['seconds']} s ({batch['per_report_s']} s each, "
        f"{batch['workers']} workers; target 300 in <= 180 s), {batch['zip_mb']} MB"
    )
    print(
        f"memory (PSS, all processes): first fifth {batch['pss_mb_first_fifth']:.0f} MB, last fifth "
        f"{batch['pss_mb_last_fifth']:.0f} MB, max {batch['pss_mb_max']:.0f} MB "
        f"(RSS summed: {batch['rss_mb_first_fifth']:.0f} -> {batch['rss_mb_last_fifth']:.0f}, "
        f"max {batch['rss_mb_max']:.0f})"
    )
    print(f"  by process, first fifth: {batch['pss_mb_by_process_first_fifth']}")
    print(f"  by process, last fifth:  {batch['pss_mb_by_process_last_fifth']}")


if __name__ == "__main__":
    main()
