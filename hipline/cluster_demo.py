"""`hipline cluster-demo`: a clinic network on one machine (docs/deployment.md does the same by hand on
several). A PostgreSQL and a Redis of its own on 127.0.0.1 in a folder of its own, the demo loaded through
PostgreSQL, and two web hosts, each with its own local copy of the clinic data, on two ports behind
nothing. Ctrl+C stops everything; the folder keeps the data for the next run.

Each step is the command a clinic's IT person would run, in a process of its own, with the network's
three settings in its environment (HIPLINE_DATABASE_URL, HIPLINE_REDIS_URL, HIPLINE_SECRET_KEY): what works
here works on several machines.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from hipline import services


def network_environment(postgres: services.LocalPostgres, redis: services.LocalRedis, folder: Path) -> dict[str, str]:
    """The settings every process of the network shares: one system of record, one Redis, one cookie key."""
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return {
        **os.environ,
        "HIPLINE_DATABASE_URL": postgres.url(),
        "HIPLINE_REDIS_URL": redis.url,
        "HIPLINE_SECRET_KEY": key_file.read_text().strip(),
    }


def _hipline(*args: str) -> list[str]:
    return [sys.executable, "-m", "hipline.cli", *args]


def run(folder: Path, data_dir: Path, clients: int, ports: tuple[int, int], workers: int, today: str | None) -> int:
    from hipline.progress import console

    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    started: list[subprocess.Popen] = []
    postgres = redis = None
    # Ctrl+C (even when started from a script, which leaves SIGINT ignored) and SIGTERM (a service manager)
    # both stop the network in order: the hosts, then Redis, then PostgreSQL.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        console.print(f"Starting PostgreSQL and Redis on 127.0.0.1 in {folder} …")
        postgres = services.start_postgres(_postgres_folder(folder))
        redis = services.start_redis(folder / "redis")
        env = network_environment(postgres, redis, folder)
        subprocess.run(_hipline("db", "upgrade"), env=env, check=True)
        demo = ["demo", "--no-serve", "--db", str(folder / "loader.duckdb"), "--data-dir", str(data_dir)]
        subprocess.run(_hipline(*demo, "--clients", str(clients)), env=env, check=True)
        today_args = ["--today", today] if today else []
        for name, port in zip(("a", "b"), ports, strict=True):
            host = ["serve", "--db", str(folder / f"host-{name}.duckdb"), "--port", str(port), *today_args]
            # A session of its own: Ctrl+C reaches this process alone, which stops the hosts in turn.
            started.append(
                subprocess.Popen(_hipline(*host, "--workers", str(workers)), env=env, start_new_session=True)
            )
        for port in ports:
            _wait_for_page(port, started)
        console.print("The clinic network is up; both hosts serve the same clinic:")
        for name, port in zip(("A", "B"), ports, strict=True):
            console.print(f"  host {name}: http://127.0.0.1:{port}")
        console.print("Ctrl+C stops the hosts, Redis and PostgreSQL (the data stays in the folder).")
        while all(p.poll() is None for p in started):
            time.sleep(0.5)
        console.print("A host stopped; stopping the network.")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if redis is not None:
            redis.stop()
        if postgres is not None:
            postgres.stop()


def _postgres_folder(folder: Path) -> Path:
    """PostgreSQL's own folder. As root it runs as `postgres`, which must be able to reach it: the demo's
    folder is then made passable (0711: others may pass through, not list it), or, when a folder above it
    is not passable, PostgreSQL's folder is one under /tmp that the demo's folder links to."""
    if os.geteuid() != 0:
        return folder / "postgres"
    if _passable(folder.resolve().parent):
        folder.chmod(0o711)
        return folder / "postgres"
    link = folder / "postgres"
    if link.is_symlink() and link.resolve().exists():
        return link.resolve()
    import tempfile

    target = Path(tempfile.mkdtemp(prefix="hipline-cluster-pg-"))
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    return target


def _passable(folder: Path) -> bool:
    """Whether another account can pass through `folder` and every folder above it."""
    return all(os.stat(p).st_mode & 0o001 for p in (folder, *folder.parents))


def _wait_for_page(port: int, processes: list[subprocess.Popen], seconds: float = 120) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a web host stopped while starting; its messages are above")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise RuntimeError(f"the web host on port {port} did not answer within {seconds:.0f} s")
