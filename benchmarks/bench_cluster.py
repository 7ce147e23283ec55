"""Clinic network benchmark (issue 17) on the 10 000-client demo (not a test: run `make bench-cluster`).

It starts a clinic network of its own, as `hipline cluster-demo` does: a PostgreSQL and a Redis on
127.0.0.1 (hipline.services) in a temporary folder under /tmp, stopped and removed at the end on every
exit path (Ctrl+C and SIGTERM included). The demo folder is split as bench_load.py splits it: every file
but the newest day's session rows, then that day in a file of its own. Three parts, in one run:

1. Loads and a host's refresh, each step a process of its own (imports included), timed from its start
   to its exit, with its own peak memory (max RSS):
     network   `hipline db upgrade`; the first `hipline load` of the folder through PostgreSQL
               (HIPLINE_DATABASE_URL in its environment: validated in the loader's local DuckDB, then
               published); a host's first copy (`etl.replica.refresh`, what a web host runs before it
               serves: every table fetched); the load of the newest day; the host's refresh after it
               (only the day's rows fetched).
     embedded  the same first load and day on one machine (a DuckDB file and its SQLite records).
   Reported: the refresh's seconds and its ratio to the day's load through PostgreSQL (and, for
   reference, the first copy against the first load), and PostgreSQL / embedded for both loads.
   --repeats runs the whole sequence again in a new database and new files, interleaved network,
   embedded, network, ...; the best run of each step counts and every run is recorded.
2. Pages: bench_pages.py's machinery on two servers at once, each `hipline serve --workers N` (gunicorn)
   on the same 10 000-client data, fresh: the embedded warehouse of part 1 (its first load and day),
   and the PostgreSQL-backed host's local copy (HIPLINE_DATABASE_URL and HIPLINE_REDIS_URL in its
   environment; its records, sign-ins and bench users in PostgreSQL). The callback requests are captured
   once with Chromium on the embedded server (bench_pages.capture) and the same requests replayed, signed
   in, on both, in blocks of rounds that alternate between the two servers (the machine's speed drifts);
   per page the p95 of its slowest callback, the floor (the empty `ping` callback) measured alike on each.
   Target (the issue): every page's p95 on the network host <= 1.2x the embedded one's.
3. 50 concurrent users: two network hosts, each `hipline serve --workers 2`, each with its local copy
   (host B's file made by copying host A's, which is what its own refresh would make). USERS threads on
   loopback, each signed in on its host with a session of its own (four in five as the bench physio,
   one in five as the bench admin), each sending page visits drawn from the captured requests (a physio:
   the caseload or one of its clients, 1 to 3; an admin: the cohort list or a cohort, 1 to 2; every
   callback of the page and the navigation's, one after the other) for at most VISITS visits and at most
   SECONDS seconds, with THINK seconds between visits. After an untimed warm-up (the same users, a few
   visits each, over both hosts), spread over the two hosts (users alternate), then the same users all on
   host A while B idles, in the same run. Reported: errors (status >= 400 or no
   answer; 0 expected), p50/p95/max of a request's round trip, per page, and throughput.

Results go to benchmarks/results/cluster.json (one entry per warehouse size, replaced when run again)
and are printed as tables. The bench users and their public passwords are bench_pages.py's: generated
demo data only.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import bench_load
import bench_pages

HERE = Path(__file__).parent
RESULTS = HERE / "results"
OUT = RESULTS / "cluster.json"
NETWORK_SETTINGS = ("HIPLINE_DATABASE_URL", "HIPLINE_REDIS_URL", "HIPLINE_SECRET_KEY")
PAGES_TARGET = 1.2  # the issue's: a network host's page p95 at most this times the embedded one's
# What a user opens, with weights: a physio mostly moves between clients of the caseload, an admin between cohorts.
MIX = {bench_pages.PHYSIO: {"caseload": 1, "client": 3}, bench_pages.ADMIN: {"cohort list": 1, "cohort": 2}}
ADMIN_EVERY = 5  # one user in five is an admin
WARM_UP_VISITS = 3
SIGN_IN_SECONDS = 300  # every user of a crowd signed in within this, or the crowd fails

# What a web host runs before it serves (dashboard.clinic_data -> etl.replica.follow), with the settings read
# as hipline reads them. Exit 3: nothing was refreshed (the copy was current already), which the benchmark
# does not expect.
REFRESH = r"""
import os, sys
from pathlib import Path
from etl.replica import refresh
from etl.settings import Settings
settings = Settings.from_env(os.environ)
sys.exit(0 if refresh(Path(sys.argv[1]), settings.database_url, memory_limit=settings.memory_limit) else 3)
"""


def _hipline(*args: str) -> list[str]:
    return [sys.executable, "-m", "hipline.cli", *args]


def _timed(command: list[str], env: dict[str, str]) -> dict:
    """Run a process to its end with `env`: its wall-clock seconds and its own peak memory (os.wait4's
    rusage). Its output goes to a temporary file (a pipe nobody reads could fill and block it)."""
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            log.seek(0)
            raise RuntimeError(f"{command[2:5]} failed: {log.read().decode(errors='replace')[-3000:]}")
    return {"seconds": round(seconds, 3), "peak_mb": round(usage.ru_maxrss / 1024)}


# --- the clinic network ----------------------------------------------------------------------------------


@dataclasses.dataclass
class Network:
    folder: Path
    postgres: object
    redis: object
    env: dict[str, str]  # a network process's environment: its PostgreSQL database, Redis, cookie key


@contextlib.contextmanager
def clinic_network(folder: Path):
    """PostgreSQL and Redis of the benchmark's own in `folder`, stopped on every way out of the block."""
    from hipline import cluster_demo, services

    if not (services.postgres_installed() and services.redis_installed()):
        raise SystemExit("the clinic network benchmark needs PostgreSQL (postgresql) and Redis (redis-server)")
    postgres = redis = None
    try:
        # As root PostgreSQL runs as `postgres`, which must be able to reach its folder: cluster-demo's rule.
        postgres = services.start_postgres(cluster_demo._postgres_folder(folder))
        redis = services.start_redis(folder / "redis")
        yield Network(folder, postgres, redis, cluster_demo.network_environment(postgres, redis, folder))
    finally:
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()


def one_machine_env() -> dict[str, str]:
    """This process's environment without a network's settings: hipline on one machine."""
    return {k: v for k, v in os.environ.items() if k not in NETWORK_SETTINGS}


# --- 1. loads and refreshes ------------------------------------------------------------------------------


def loads(network: Network, data: Path, day: Path, repeats: int, say) -> tuple[dict, dict]:
    """Part 1; also the files parts 2 and 3 serve (the last run's): the network's environment with its
    database, the embedded warehouse and host A's copy."""
    runs: dict[str, list[dict]] = {}
    files: dict = {}
    for r in range(repeats):
        work = network.folder / f"run-{r}"
        work.mkdir()
        url = network.postgres.create_database(f"bench_{r}")
        env = network.env | {"HIPLINE_DATABASE_URL": url}
        loader, host, one = work / "loader.duckdb", work / "host-a.duckdb", work / "one-machine.duckdb"
        steps = {
            "network: db upgrade": _hipline("db", "upgrade"),
            "network: first load": _hipline("load", "--db", str(loader), str(data)),
            "network: host's first copy": [sys.executable, "-c", REFRESH, str(host)],
            "network: day's load": _hipline("load", "--db", str(loader), str(day)),
            "network: host's refresh after the day": [sys.executable, "-c", REFRESH, str(host)],
        }
        for name, command in steps.items():
            runs.setdefault(name, []).append(_timed(command, env))
            say(f"run {r + 1}: {name} {runs[name][-1]['seconds']:.2f} s")
        for name, command in {
            "embedded: first load": _hipline("load", "--db", str(one), str(data)),
            "embedded: day's load": _hipline("load", "--db", str(one), str(day)),
        }.items():
            runs.setdefault(name, []).append(_timed(command, one_machine_env()))
            say(f"run {r + 1}: {name} {runs[name][-1]['seconds']:.2f} s")
        files = {"env": env, "url": url, "embedded": one, "host": host, "loader": loader}
    best = {name: min(r, key=lambda x: x["seconds"]) | {"all_seconds": [x["seconds"] for x in r]}
            for name, r in runs.items()}  # fmt: skip

    def s(name: str) -> float:
        return best[name]["seconds"]

    result = {
        "repeats": repeats,
        "steps": best,
        "refresh_after_day_seconds": s("network: host's refresh after the day"),
        "refresh_vs_day_load": round(s("network: host's refresh after the day") / s("network: day's load"), 3),
        "first_copy_vs_first_load": round(s("network: host's first copy") / s("network: first load"), 3),
        "first_load_network_vs_embedded": round(s("network: first load") / s("embedded: first load"), 2),
        "day_load_network_vs_embedded": round(s("network: day's load") / s("embedded: day's load"), 2),
        "same_data": same_data(files["embedded"], files["host"], files["url"]),
    }
    return result, files


def same_data(embedded: Path, host: Path, url: str) -> dict:
    """What says the two servers of part 2 serve the same clinic data: the rows of a few tables in the
    embedded warehouse and in the host's copy, and the copy's version against PostgreSQL's."""
    from etl import replica
    from etl.warehouse import connect_read_only, scalar

    counts = {}
    for name, db in (("embedded", embedded), ("host copy", host)):
        con = connect_read_only(db)
        try:
            counts[name] = {t: int(scalar(con, f"SELECT count(*) FROM {t}"))
                            for t in ("clients", "staff", "session_summary", "exposure_summary")}  # fmt: skip
        finally:
            con.close()
    version, network = replica.local_version(host), replica.network_version(url)
    return {"rows": counts, "equal": counts["embedded"] == counts["host copy"], "copy_version": version,
            "network_version": network}  # fmt: skip


# --- 2. pages: a network host against the embedded one ----------------------------------------------------


def _merge(blocks: list[dict]) -> dict:
    """Several bench_pages.replay results on one server as one: the samples of every block, in order."""
    merged = dict(blocks[0])
    merged["samples"] = {}
    for block in blocks:
        for key, responses in block["samples"].items():
            merged["samples"].setdefault(key, []).extend(responses)
    merged["connects"] = sum(b["connects"] for b in blocks)
    merged["errors"] = [e for b in blocks for e in b["errors"]]
    merged["server_log"] = next((b["server_log"] for b in blocks if b["server_log"]), None)
    return merged


def pages(files: dict, rounds: int, blocks: int, workers: int, say) -> tuple[dict, list, dict]:
    """Part 2; also the captured requests and the bench accounts, which part 3 sends."""
    from etl import records

    embedded, host, env = files["embedded"], files["host"], files["env"]
    # The network host's records are in PostgreSQL: the bench users bench_pages adds in this process go there.
    records.attach(host, files["url"])
    load_before = os.getloadavg()
    sample = bench_pages.choose(embedded, bench_pages.CLIENTS, bench_pages.COHORTS)
    accounts, _ = bench_pages.ensure_users(embedded, sample)
    network_accounts, _ = bench_pages.ensure_users(host, sample)
    assert network_accounts == accounts, (network_accounts, accounts)
    say(f"caseload of {sample.clinician} ({sample.caseload} active clients), {len(sample.clients)} clients, "
        f"{len(sample.cohorts)} cohorts; capturing the callback requests with Chromium")  # fmt: skip
    with bench_pages.serve(embedded, workers, env=one_machine_env()) as server:
        calls = bench_pages.capture(server.url, sample.visits(), accounts)
    found = {p: sum(c.page == p for c in calls) for p in bench_pages.PAGES}
    if not all(found.values()):
        raise RuntimeError(f"no callback request captured on some page: {found}")
    say(f"captured {len(calls)} callback requests: {found}")
    per_block = max(1, rounds // blocks)
    replays: dict[str, list[dict]] = {"embedded": [], "network": []}
    with (
        bench_pages.serve(embedded, workers, env=one_machine_env()) as one,
        bench_pages.serve(host, workers, env=env) as networked,
    ):
        servers = {"embedded": one, "network": networked}
        for b in range(blocks):
            for name in ("embedded", "network") if b % 2 == 0 else ("network", "embedded"):
                replays[name].append(bench_pages.replay(servers[name], calls, accounts, per_block, workers))
                say(f"block {b + 1} of {blocks}: {per_block} rounds on the {name} server")
    reports = {
        name: bench_pages.report(_merge(replays[name]), sample, db, workers, per_block * blocks, load_before, accounts)
        for name, db in (("embedded", embedded), ("network", host))
    }
    ratios = {
        page: round(reports["network"]["pages"][page]["slowest_p95_ms"] / p["slowest_p95_ms"], 2)
        for page, p in reports["embedded"]["pages"].items()
        if page in bench_pages.PAGES
    }
    server_ratios = {
        page: round(reports["network"]["pages"][page]["slowest_server_p95_ms"] / p["slowest_server_p95_ms"], 2)
        for page, p in reports["embedded"]["pages"].items()
        if page in bench_pages.PAGES
    }
    result = {
        "rounds_per_server": per_block * blocks,
        "blocks": blocks,
        "workers": workers,
        "network_vs_embedded_p95": ratios,
        "network_vs_embedded_server_p95": server_ratios,
        "floor_network_vs_embedded_p95": round(
            reports["network"]["floor"]["wall_p95_ms"] / reports["embedded"]["floor"]["wall_p95_ms"], 2
        ),
        "target": PAGES_TARGET,
        "meets_target": all(r <= PAGES_TARGET for r in ratios.values()),
        "errors": len(reports["embedded"]["errors"]) + len(reports["network"]["errors"]),
        "embedded": reports["embedded"],
        "network": reports["network"],
    }
    return result, calls, accounts


# --- 3. concurrent users over one or two hosts -------------------------------------------------------------


@dataclasses.dataclass
class Sent:
    page: str
    callback: str
    wall_ms: float
    error: str | None  # None: answered with a status below 400


def _visits(calls: list) -> dict[str, list[list]]:
    """Per page, its visits: visit v sends variant v of each of the page's callbacks (and of the shell's)."""
    kinds = bench_pages._kinds(calls)
    shell = [v for (page, _), v in kinds.items() if page == bench_pages.SHELL]
    visits: dict[str, list[list]] = {}
    for page in bench_pages.PAGES:
        theirs = [v for (p, _), v in kinds.items() if p == page] + shell
        count = max(len(v) for v in theirs)
        visits[page] = [[variants[i % len(variants)] for variants in theirs] for i in range(count)]
    return visits


def _user(url: str, role: str, account, visits: dict, bound: dict, seed: int, start: threading.Barrier,
          out: list[Sent], signed: list) -> None:  # fmt: skip
    """One user: signs in (a session of its own), waits for the others, then visits pages until the bounds."""
    rng = random.Random(seed)
    try:
        signed_in = bench_pages.sign_in(url, account)
    except Exception as e:  # counted as the user's error; the others go on
        signed.append(f"{account.username}: {e}")
        start.wait()
        return
    connection = bench_pages.Connection(url, {role: signed_in})
    pages, weights = zip(*MIX[role].items(), strict=True)
    start.wait()
    deadline = time.monotonic() + bound["seconds"]
    try:
        for n in range(bound["visits"]):
            if time.monotonic() >= deadline:
                break
            if n and bound["think"]:
                time.sleep(bound["think"])
            page = rng.choices(pages, weights)[0]
            for call in rng.choice(visits[page]):
                started = time.perf_counter()
                try:
                    response = connection.post(dataclasses.replace(call, user=role))
                    error = None if response.status < 400 else f"{response.status}: {(response.error or '')[:200]}"
                    wall = response.wall_ms
                except Exception as e:  # no answer: the connection refused, reset or timed out
                    error, wall = f"{type(e).__name__}: {e}", 1000 * (time.perf_counter() - started)
                    connection.close()
                out.append(Sent(page, call.label, wall, error))
    finally:
        connection.close()


def crowd(urls: list[str], users: int, accounts: dict, visits: dict, bound: dict, seed: int) -> dict:
    """`users` threads, user i on urls[i % len(urls)]; all start together once every one has signed in."""
    # Bounded: a user whose thread failed before the start breaks the barrier (every thread and this one
    # raise) rather than leaving the others waiting.
    start = threading.Barrier(users + 1, timeout=SIGN_IN_SECONDS)
    sent: list[list[Sent]] = [[] for _ in range(users)]
    failed_sign_ins: list[str] = []
    threads = []
    for i in range(users):
        role = bench_pages.ADMIN if i % ADMIN_EVERY == ADMIN_EVERY - 1 else bench_pages.PHYSIO
        thread = threading.Thread(
            target=_user,
            args=(urls[i % len(urls)], role, accounts[role], visits, bound, seed + i, start, sent[i], failed_sign_ins),
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    start.wait()
    started = time.perf_counter()
    deadline = time.monotonic() + bound["seconds"] + 600  # a request waits at most 300 s (bench_pages'), twice
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    seconds = time.perf_counter() - started
    everything = [s for theirs in sent for s in theirs]
    walls = [s.wall_ms for s in everything]
    errors = [s for s in everything if s.error]
    pct = bench_pages._percentile
    return {
        "hosts": len(urls),
        "users": users,
        "users_on_each_host": [sum(1 for i in range(users) if i % len(urls) == h) for h in range(len(urls))],
        "still_running": sum(t.is_alive() for t in threads),
        "seconds": round(seconds, 2),
        "requests": len(everything),
        "requests_per_second": round(len(everything) / seconds, 1),
        "errors": len(errors) + len(failed_sign_ins),
        "error_examples": [f"{s.page} {s.callback}: {s.error}" for s in errors[:10]] + failed_sign_ins[:10],
        "p50_ms": round(pct(walls, 50), 1),
        "p95_ms": round(pct(walls, 95), 1),
        "max_ms": round(max(walls, default=float("nan")), 1),
        "per_page_p95_ms": {
            page: round(pct([s.wall_ms for s in everything if s.page == page], 95), 1)
            for page in bench_pages.PAGES
            if any(s.page == page for s in everything)
        },
        "requests_per_page": {p: sum(s.page == p for s in everything) for p in bench_pages.PAGES},
    }


def concurrent(files: dict, calls: list, accounts: dict, users: int, bound: dict, workers: int, say) -> dict:
    """Part 3: host A (the copy of part 1) and host B (a copy of that file), both served throughout."""
    host_a = files["host"]
    host_b = host_a.with_name("host-b.duckdb")
    shutil.copyfile(host_a, host_b)
    visits = _visits(calls)
    load_before = os.getloadavg()
    with (
        bench_pages.serve(host_a, workers, env=files["env"]) as a,
        bench_pages.serve(host_b, workers, env=files["env"]) as b,
    ):
        # Untimed, the same crowd for a few visits: every worker of both hosts has then answered every page (a
        # worker builds some of its analytics on the first request that needs them).
        say(f"warming up both hosts: {users} users, {WARM_UP_VISITS} visits each …")
        warm_up = crowd([a.url, b.url], users, accounts, visits, bound | {"visits": WARM_UP_VISITS}, seed=0)
        say(f"{users} users over two hosts ({bound['visits']} visits or {bound['seconds']} s each) …")
        spread = crowd([a.url, b.url], users, accounts, visits, bound, seed=1)
        say(f"the same {users} users on host A alone …")
        alone = crowd([a.url], users, accounts, visits, bound, seed=1)
        failed = warm_up["errors"] or spread["errors"] or alone["errors"]
        logs = {"A": a.log_tail(), "B": b.log_tail()} if failed else None
    return {
        "workers_per_host": workers,
        "bounds": bound,
        "mix": MIX,
        "admins": f"one user in {ADMIN_EVERY}",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "warm_up": {k: warm_up[k] for k in ("requests", "seconds", "errors", "error_examples")},
        "two_hosts": spread,
        "one_host": alone,
        "p95_two_vs_one_host": round(spread["p95_ms"] / alone["p95_ms"], 2),
        "throughput_two_vs_one_host": round(spread["requests_per_second"] / alone["requests_per_second"], 2),
        "server_logs_on_error": logs,
    }


# --- the driver ---------------------------------------------------------------------------------------------


def print_tables(result: dict) -> None:
    one = result["loads"]
    print(f"\n{result['clients']:,} clients, new day {result['new_day']}; best of {one['repeats']} run(s)")
    print(f"{'step':<42}{'seconds':>9}{'peak MB':>9}")
    for name, r in one["steps"].items():
        print(f"{name:<42}{r['seconds']:>9.2f}{r['peak_mb']:>9}")
    print(f"refresh after the day {one['refresh_after_day_seconds']:.2f} s = {one['refresh_vs_day_load']:.0%} of the "
          f"day's load; first copy {one['first_copy_vs_first_load']:.0%} of the first load; PostgreSQL / embedded: "
          f"first load {one['first_load_network_vs_embedded']}x, day {one['day_load_network_vs_embedded']}x; "
          f"same data on both: {one['same_data']['equal']}")  # fmt: skip
    if "pages" in result:
        p = result["pages"]
        print(f"\nPages, p95 of the slowest callback (ms, round trip), gunicorn {p['workers']} workers, "
              f"{p['rounds_per_server']} rounds each in {p['blocks']} alternating blocks")  # fmt: skip
        print(f"{'page':<14}{'embedded':>10}{'network':>10}{'ratio':>8}{'server ratio':>14}")
        e, n = p["embedded"], p["network"]
        print(f"{'floor':<14}{e['floor']['wall_p95_ms']:>10.1f}{n['floor']['wall_p95_ms']:>10.1f}"
              f"{p['floor_network_vs_embedded_p95']:>8.2f}")  # fmt: skip
        for page, ratio in p["network_vs_embedded_p95"].items():
            print(f"{page:<14}{e['pages'][page]['slowest_p95_ms']:>10.1f}{n['pages'][page]['slowest_p95_ms']:>10.1f}"
                  f"{ratio:>8.2f}{p['network_vs_embedded_server_p95'][page]:>14.2f}")  # fmt: skip
        print(f"target <= {p['target']}x: {'met' if p['meets_target'] else 'MISSED'}; errors {p['errors']}")
    if "concurrent" in result:
        c = result["concurrent"]
        print(f"\n{c['two_hosts']['users']} concurrent users, gunicorn {c['workers_per_host']} workers a host, "
              f"bounds {c['bounds']}")  # fmt: skip
        head = ("hosts", 8), ("requests", 10), ("errors", 8), ("req/s", 8), ("p50 ms", 9), ("p95 ms", 9), ("max ms", 9)
        print("".join(f"{n:<{w}}" if n == "hosts" else f"{n:>{w}}" for n, w in head) + "  p95 per page (ms)")
        for name in ("two_hosts", "one_host"):
            r = c[name]
            per_page = ", ".join(f"{k} {v:.0f}" for k, v in r["per_page_p95_ms"].items())
            print(f"{r['hosts']:<8}{r['requests']:>10}{r['errors']:>8}{r['requests_per_second']:>8.1f}"
                  f"{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}  {per_page}")  # fmt: skip
            for example in r["error_examples"]:
                print(f"  error: {example}")


def write(result: dict, out: Path) -> None:
    """One entry per warehouse size in `out`, this one replacing its predecessor."""
    saved = json.loads(out.read_text()) if out.exists() else {}
    sizes = saved.get("sizes", {})
    sizes[str(result["clients"])] = result
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"sizes": sizes}, indent=2, default=str))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--source", type=Path, help="a demo folder (default: benchmarks/results/demo-<clients>-<seed>)")
    parser.add_argument("--repeats", type=int, default=1, help="part 1's runs (default 1)")
    parser.add_argument("--rounds", type=int, default=bench_pages.ROUNDS, help="part 2's timed rounds per server")
    parser.add_argument("--blocks", type=int, default=4, help="part 2: the rounds in this many alternating blocks")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (parts 2 and 3)")
    parser.add_argument("--users", type=int, default=50, help="part 3's concurrent users")
    parser.add_argument("--visits", type=int, default=20, help="part 3: page visits per user at most")
    parser.add_argument("--seconds", type=float, default=60, help="part 3: seconds per user at most")
    parser.add_argument("--think", type=float, default=0.0, help="part 3: seconds between a user's visits")
    parser.add_argument("--only-loads", action="store_true", help="part 1 only")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    def say(text: str) -> None:
        print(text, flush=True)

    source = args.source or RESULTS / f"demo-{args.clients}-{args.seed}"
    if not (source / "clients.xlsx").exists():
        command = _hipline("generate", "--clients", str(args.clients), "--seed", str(args.seed), "--out", str(source))
        say(subprocess.run(command, check=True, capture_output=True, text=True, env=one_machine_env()).stdout.strip())
    # SIGTERM (a CI's or a terminal's stop) leaves through the same `finally`s as Ctrl+C: servers, Redis and
    # PostgreSQL stopped, the folder removed.
    signal.signal(signal.SIGTERM, lambda signum, frame: (_ for _ in ()).throw(KeyboardInterrupt()))
    load_before = os.getloadavg()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hipline-bench-cluster-", dir="/tmp") as tmp:
        folder = Path(tmp)
        data, day_folder = folder / "data", folder / "new_day"
        day = bench_load._split_off_newest_day(source, data, day_folder)
        result: dict = {"measured_at": datetime.now().isoformat(timespec="seconds"), "new_day": day,
                        "cpus": os.cpu_count(), "python": platform.python_version(),
                        "load_average_before": [round(x, 2) for x in load_before]}  # fmt: skip
        with clinic_network(folder) as network:
            ports = network.postgres.port, network.redis.port
            say(f"PostgreSQL on 127.0.0.1:{ports[0]}, Redis on 127.0.0.1:{ports[1]}, in {folder}")
            result["loads"], files = loads(network, data, day_folder, args.repeats, say)
            result["clients"] = result["loads"]["same_data"]["rows"]["embedded"]["clients"]
            if not args.only_loads:
                result["pages"], calls, accounts = pages(files, args.rounds, args.blocks, args.workers, say)
                bound = {"visits": args.visits, "seconds": args.seconds, "think": args.think}
                result["concurrent"] = concurrent(files, calls, accounts, args.users, bound, args.workers, say)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["seconds"] = round(time.perf_counter() - started, 1)
    write(result, args.out)
    print_tables(result)
    print(f"\n{result['cpus']} CPUs, load average {result['load_average_before']} before, "
          f"{result['load_average_after']} after, {result['seconds']:.0f} s in all; written to {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
