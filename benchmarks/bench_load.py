"""Loader benchmark on demo folders of 2 000 and 10 000 clients (not a test: run `make bench`).

For each folder, in one run, on the same files, each step a process of its own (imports included),
timed from its start to its exit, its peak memory (max RSS) its own:
  floor       a bare DuckDB `CREATE TABLE AS SELECT * FROM read_csv / read_json / read_parquet` of every
              file of the folder, and the workbook through pandas (what reading the bytes costs at least)
  hipline     `hipline load` of the folder into a new warehouse (every rule of docs/input-formats.md,
              quarantine, duplicates, row numbers, session and exposure tables, history, atomic publish)
  pandas      the peer a clinic analyst would write: pandas reads every file, two row rules on the
              session logs (a real date, pain within 0-10), `to_sql` into SQLite
  one day     `hipline load` of one new day of sessions into the full warehouse

The fast steps run three times, interleaved, and the best run of each counts (this machine is shared
and its timings drift); the pandas peer, the slowest by far, runs once. Results go to
benchmarks/results/load.json and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"
REPEATS = 3
TARGETS = (
    "targets: throughput >= 0.5x the bare read, >= 5x the pandas peer, one day <= 10 % of a full load, peak <= 1.5 GB"
)

# The floor: every file read by DuckDB as it is (types detected), the workbook through pandas.
FLOOR = r"""
import sys
from pathlib import Path
import duckdb
import pandas as pd
folder, db = Path(sys.argv[1]), sys.argv[2]
con = duckdb.connect(db, config={"autoinstall_known_extensions": False})
for i, path in enumerate(sorted(folder.iterdir())):
    table, suffix = f"t{i}", path.suffix.lower()
    if suffix == ".xlsx":
        frame = pd.read_excel(path, engine="calamine")
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
        con.unregister("frame")
    elif suffix in (".jsonl", ".json"):
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_json(?)", [str(path)])
    elif suffix == ".parquet":
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet(?)", [str(path)])
    else:
        for options in ("", ", encoding = 'utf-16'", ", encoding = 'latin-1'"):
            try:
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_csv(?{options})", [str(path)])
                break
            except duckdb.Error:
                continue
con.execute("CHECKPOINT")
con.close()
"""


def peak_mb() -> float:
    """This process's own high-water mark (ru_maxrss would include what a parent had when it forked us)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(command: list[str]) -> dict:
    """Run a process to its end: its wall-clock seconds and its own peak memory (os.wait4's rusage)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0,):
        raise RuntimeError(f"{command[:4]} failed: {process.stderr.read().decode(errors='replace')[-2000:]}")
    process.stderr.close()
    return {"seconds": seconds, "peak_mb": round(usage.ru_maxrss / 1024)}


def _hipline(*args: str) -> list[str]:
    return [sys.executable, "-m", "hipline.cli", *args]


def pandas_peer(folder: Path, db: Path) -> None:
    """What a clinic analyst would write: read each file with pandas, two rules, to_sql into SQLite."""
    import sqlite3

    import pandas as pd

    con = sqlite3.connect(db)
    for i, path in enumerate(sorted(folder.iterdir())):
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            frame = pd.read_excel(path, engine="calamine")
        elif suffix in (".jsonl", ".json"):
            frame = pd.read_json(path, lines=True)
            frame = frame.map(lambda v: json.dumps(v) if isinstance(v, list) else v)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            raw = path.read_bytes()
            encoding = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
            head = raw.decode(encoding, errors="replace").splitlines()[0]
            sep = max([",", ";", "\t", "|"], key=head.count)
            frame = pd.read_csv(path, sep=sep, decimal="," if sep == ";" else ".", encoding=encoding,
                                encoding_errors="replace", dtype=str, on_bad_lines="skip")  # fmt: skip
            if "session_date" in frame.columns:
                day = pd.to_datetime(frame["session_date"], errors="coerce", dayfirst=True, format="mixed")
                pain = pd.to_numeric(frame["pain_during"].str.replace(",", "."), errors="coerce")
                ok = day.notna() & (pain.isna() | pain.between(0, 10))
                frame[~ok].to_sql("rejected", con, if_exists="append", index=False)
                frame = frame[ok]
        frame.to_sql(f"file_{i}", con, if_exists="replace", index=False)
    con.commit()
    con.close()


def _split_off_newest_day(source: Path, data: Path, day_folder: Path) -> str:
    """Copy the demo files, moving the newest day's session rows into a file of their own. Line by line:
    this process stays small (its peak would count towards the steps' it starts)."""
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(source, data)
    newest = sorted(data.glob("sessions_*.csv"))[-1]
    with open(newest, encoding="utf-8") as rows:
        next(rows)
        last = max({line.split(";", 2)[1] for line in rows}, key=lambda d: (d[6:], d[3:5], d[:2]))
    shutil.rmtree(day_folder, ignore_errors=True)
    day_folder.mkdir()
    kept = newest.with_suffix(".kept")
    day_file = day_folder / f"sessions_{last[6:]}-{last[3:5]}-{last[:2]}.csv"
    with (
        open(newest, encoding="utf-8") as rows,
        open(kept, "w", encoding="utf-8") as older,
        open(day_file, "w", encoding="utf-8") as day,
    ):
        header = next(rows)
        older.write(header)
        day.write(header)
        for line in rows:
            (day if line.split(";", 2)[1] == last else older).write(line)
    kept.replace(newest)
    return last


def _clean(*paths: Path) -> None:
    for path in paths:
        for stale in path.parent.glob(path.name + "*"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()


def bench_folder(clients: int, seed: int) -> dict:
    source = RESULTS / f"demo-{clients}-{seed}"
    work = RESULTS / f"work-{clients}"
    work.mkdir(parents=True, exist_ok=True)
    if not (source / "clients.xlsx").exists():
        # In a process of its own: Linux counts the peak memory a process had before it started another as
        # that one's too, so this one stays small and the steps' peaks are their own.
        generate = _hipline("generate", "--clients", str(clients), "--seed", str(seed), "--out", str(source))
        print(subprocess.run(generate, check=True, capture_output=True, text=True).stdout.strip())
    data, day_folder = work / "data", work / "new_day"
    day = _split_off_newest_day(source, data, day_folder)
    megabytes = sum(p.stat().st_size for p in data.iterdir()) / 1e6
    floor_db, ours_db, day_db, peer_db = (
        work / n for n in ("floor.duckdb", "hipline.duckdb", "day.duckdb", "peer.sqlite")
    )

    runs: dict[str, list[dict]] = {}
    for _ in range(REPEATS):
        _clean(floor_db, ours_db)
        runs.setdefault("floor", []).append(_timed([sys.executable, "-c", FLOOR, str(data), str(floor_db)]))
        runs.setdefault("hipline", []).append(_timed(_hipline("load", "--db", str(ours_db), str(data))))
        _clean(day_db)
        shutil.copyfile(ours_db, day_db)
        runs.setdefault("one_day", []).append(_timed(_hipline("load", "--db", str(day_db), str(day_folder))))
    best = {name: min(r, key=lambda x: x["seconds"]) | {"all_seconds": [round(x["seconds"], 2) for x in r]}
            for name, r in runs.items()}  # fmt: skip
    _clean(peer_db)
    best["pandas"] = _timed([sys.executable, __file__, "--peer", str(data), str(peer_db)])
    floor, ours, peer = best["floor"], best["hipline"], best["pandas"]
    return {
        "clients": clients,
        "folder_mb": round(megabytes, 1),
        "new_day": day,
        "throughput_vs_floor": round(floor["seconds"] / ours["seconds"], 2),
        "speed_vs_pandas_sqlite": round(peer["seconds"] / ours["seconds"], 2),
        "one_day_vs_full_load": round(best["one_day"]["seconds"] / ours["seconds"], 3),
        "peak_mb": max(r["peak_mb"] for name, r in best.items() if name != "pandas"),
        "steps": best,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[2_000, 10_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--peer", nargs=2, type=Path, help=argparse.SUPPRESS)  # the pandas peer's own process
    args = parser.parse_args()
    if args.peer:
        pandas_peer(*args.peer)
        return
    summaries = [bench_folder(clients, args.seed) for clients in args.clients]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "load.json").write_text(json.dumps(summaries, indent=2))
    for s in summaries:
        print(f"\n{s['clients']:,} clients: {s['folder_mb']} MB of files; new day {s['new_day']}")
        print(f"{'step':<10}{'seconds':>9}{'peak MB':>9}")
        for name, r in s["steps"].items():
            print(f"{name:<10}{r['seconds']:>9.2f}{r['peak_mb']:>9}")
        print(f"throughput vs bare read {s['throughput_vs_floor']}x, vs pandas+SQLite {s['speed_vs_pandas_sqlite']}x, "
              f"one day {s['one_day_vs_full_load']:.1%} of a full load, peak {s['peak_mb']} MB")  # fmt: skip
    print(f"\n{TARGETS}")


if __name__ == "__main__":
    main()
