"""`hipline cluster-demo` (make cluster-demo): PostgreSQL, Redis and two web hosts on 127.0.0.1, the demo's
users signing in on both; Ctrl+C stops every process it started, and the folder keeps the data."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest

from hipline import services
from tests.http_client import Client

pytestmark = pytest.mark.slow


def test_cluster_demo_serves_two_hosts_and_ctrl_c_stops_everything(postgres_server, redis_server, tmp_path):
    # (The fixtures only make sure both are installed: cluster-demo starts its own.)
    ports = [services.free_port(), services.free_port()]
    log = tmp_path / "cluster.log"
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "hipline.cli", "cluster-demo", "--folder", str(tmp_path / "cluster"),
             "--data-dir", str(tmp_path / "files"), "--clients", "40", "--workers", "1",
             "--ports", *map(str, ports)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while "host B: http" not in log.read_text(errors="replace"):
            assert demo.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.3)
        text = log.read_text()
        for name, port in zip("AB", ports, strict=True):
            assert f"host {name}: http://127.0.0.1:{port}" in text
            client = Client(f"http://127.0.0.1:{port}")
            assert client.sign_in("physio", "demo-physio-pass").status == 302
            assert client.get("/").status == 200
        started = psutil.Process(demo.pid).children(recursive=True)
        started_names = {p.name() for p in started}
        assert "redis-server" in started_names and any("hipline.cli" in " ".join(p.cmdline()) for p in started)
        # (As root its folder may be under /tmp, linked from the demo's: PostgreSQL runs as `postgres`.)
        folder = str((tmp_path / "cluster" / "postgres").resolve())
        postgres = [p for p in psutil.process_iter(["cmdline"]) if folder in " ".join(p.info["cmdline"] or [])]
        assert postgres, "its PostgreSQL runs from its folder"
    finally:
        demo.send_signal(signal.SIGINT)  # Ctrl+C
        assert demo.wait(60) == 0, log.read_text(errors="replace")[-3000:]
    gone = psutil.wait_procs(started + postgres, timeout=20)[1]
    assert gone == [], [" ".join(p.cmdline()) for p in gone]
    assert (tmp_path / "cluster" / "loader.duckdb").exists(), "the data stay in the folder"
    shutil.rmtree((tmp_path / "cluster" / "postgres").resolve(), ignore_errors=True)
