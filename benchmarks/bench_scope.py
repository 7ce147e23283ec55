"""What reading within a viewer's scope costs the pages (docs/security.md#roles-and-what-each-may-do), in-process,
without HTTP.

    .venv/bin/python benchmarks/bench_scope.py                # the 10 000-client warehouse of bench_metrics.py
    .venv/bin/python benchmarks/bench_scope.py --db some.duckdb --staff S-001

The pages read the analytics of every client, built once a day (dashboard.clinic_data), through a view
narrowed to the signed-in user's scope (`Analytics.within`). This times the reads a caseload and a
client page make, in three ways, interleaved round by round so that a busy machine slows all three
alike:
  - the floor: the build itself, no view (what the pages read before there were viewers);
  - an admin's view (every client: no filter, only the view's bookkeeping);
  - a physio's view (the clinician's own clients: reads of many clients semi-join with the scope's ids,
    a single client's are checked in Python first).
It prints the median of each read and its ratio to the floor; opening a view is timed alone.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from access.roles import Viewer
from analytics.today import NEWEST
from dashboard.clinic_data import ClinicData

ROUNDS = 60
READS = {
    "caseload (the clinician's)": lambda a, staff, client: a.caseload(staff),
    "clinician picker (staff)": lambda a, staff, client: a.staff(),
    "client header": lambda a, staff, client: a.client(client),
    "pain points": lambda a, staff, client: a.pain_points(client),
    "weekly": lambda a, staff, client: a.client_weekly(client),
    "sessions": lambda a, staff, client: a.sessions(client),
    "session log": lambda a, staff, client: a.session_log(client),
    "recommendations": lambda a, staff, client: a.recommendations(client),
}


def _busiest(clinic: ClinicData) -> str:
    with clinic._everyone() as analytics:
        staff = analytics.staff()
    return str(staff.sort_values("active_clients", ascending=False)["staff_id"].iloc[0])


def run(db: Path, staff_id: str | None, rounds: int = ROUNDS) -> dict:
    clinic = ClinicData(db, NEWEST)  # the generated data end on a fixed day
    staff_id = staff_id or _busiest(clinic)
    with clinic._everyone() as analytics:
        clients = list(analytics.caseload(staff_id)["client_id"][:20])
    ways = {
        "no view (floor)": clinic._everyone,
        "admin's view": lambda: clinic.analytics(Viewer("bench", "bench-admin", "Bench", "admin")),
        "physio's view": lambda: clinic.analytics(Viewer("bench", staff_id, "Bench", "physio")),
    }
    times: dict[tuple[str, str], list[float]] = {}
    for r in range(-2, rounds):  # two rounds to warm up
        client = clients[r % len(clients)]
        for way, opened in ways.items():
            for read, call in READS.items():
                with opened() as analytics:
                    started = time.perf_counter()
                    call(analytics, staff_id, client)
                    spent = time.perf_counter() - started
                if r >= 0:
                    times.setdefault((way, read), []).append(spent)
    opening = []
    for _ in range(200):
        started = time.perf_counter()
        with ways["physio's view"]():
            pass
        opening.append(time.perf_counter() - started)
    medians = {key: 1000 * statistics.median(spent) for key, spent in times.items()}
    return {"staff_id": staff_id, "clients": len(clients), "medians_ms": medians,
            "open_view_ms": 1000 * statistics.median(opening)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="the warehouse (default: bench_metrics.py's of 10 000 clients)")
    parser.add_argument("--staff", help="the physio whose view is timed (default: the one with most active clients)")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    if args.db is None:
        from bench_metrics import _warehouse  # the same cached warehouse

        args.db = _warehouse(10_000, 7)
    result = run(args.db, args.staff, args.rounds)

    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Reads of the pages (ms, median of {args.rounds}), {result['staff_id']}'s clients",
                  title_justify="left")  # fmt: skip
    ways = ("no view (floor)", "admin's view", "physio's view")
    for column in ("read", *ways, "admin ×floor", "physio ×floor"):
        table.add_column(column, justify="left" if column == "read" else "right")
    m = result["medians_ms"]
    for read in READS:
        floor = m[(ways[0], read)]
        table.add_row(read, *(f"{m[(w, read)]:.2f}" for w in ways), f"{m[(ways[1], read)] / floor:.2f}",
                      f"{m[(ways[2], read)] / floor:.2f}")  # fmt: skip
    console = Console()
    console.print(table)
    console.print(f"opening a physio's view (scope and its table already made): {result['open_view_ms']:.3f} ms")


if __name__ == "__main__":
    main()
