"""A PostgreSQL and a Redis of hipline's own, on 127.0.0.1, in a folder of their own: what
`hipline cluster-demo` runs a clinic network on, and what the tests of that network start
(docs/deployment.md says how a clinic runs its own instead).

Both listen on the loopback only and ask for a password made here (kept in the folder, readable by
its owner only): another account on the machine cannot read the clinic's data through them.
PostgreSQL refuses to run as root, so as root its programs run as the `postgres` account (Debian
creates it with the package) through `runuser`, and its folder is that account's.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# Debian's PostgreSQL 15 (postgresql package); another version's folder is found the same way.
POSTGRES_BIN = sorted(
    (p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()), key=lambda p: int(p.parent.name)
)
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
START_SECONDS = 30


def postgres_installed() -> bool:
    return bool(POSTGRES_BIN) and (POSTGRES_BIN[-1] / "pg_ctl").exists()


def redis_installed() -> bool:
    return Path(REDIS_SERVER).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> list[str]:
    """The prefix that runs a PostgreSQL program: as the `postgres` account when we are root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _wait_for_port(port: int, process: subprocess.Popen | None, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            break
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not start on 127.0.0.1:{port}: {tail}")


@dataclass
class LocalPostgres:
    folder: Path
    port: int
    password: str
    database: str = "hipline"
    user: str = "hipline"

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str | None = None) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database or self.database}"

    def _pg_ctl(self, *args: str) -> None:
        subprocess.run(
            [*_as_postgres(), str(POSTGRES_BIN[-1] / "pg_ctl"), "-D", str(self.data), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder}"
        self._pg_ctl("-l", str(self.folder / "postgres.log"), "-o", options, "-w", "-t", str(START_SECONDS), "start")
        _wait_for_port(self.port, None, "PostgreSQL", self.folder / "postgres.log")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("-m", mode, "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def create_database(self, name: str) -> str:
        """A new, empty database on this server; its URL."""
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_postgres(folder: Path, port: int | None = None) -> LocalPostgres:
    """Create a PostgreSQL cluster in `folder` (once) and start it on 127.0.0.1:`port`."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    secret = folder / "password"
    server = LocalPostgres(folder, port or free_port(), "")
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(folder, account.pw_uid, account.pw_gid)
    if not server.data.exists():
        password = secrets.token_urlsafe(24)
        pwfile = folder / "initdb.pw"
        pwfile.write_text(password + "\n")
        if os.geteuid() == 0:
            os.chown(pwfile, account.pw_uid, account.pw_gid)
        pwfile.chmod(0o600)
        subprocess.run(
            [
                *_as_postgres(), str(POSTGRES_BIN[-1] / "initdb"), "-D", str(server.data), "-U", server.user,
                "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C.UTF-8",
            ],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        pwfile.unlink()
        secret.write_text(password)
        secret.chmod(0o600)
    server.password = secret.read_text().strip()
    server.start()
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", [server.database]).fetchone():
            con.execute(f'CREATE DATABASE "{server.database}"')
    return server


@dataclass
class LocalRedis:
    folder: Path
    port: int
    password: str
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = self.folder / "redis.log"
        config = self.folder / "redis.conf"
        # The password goes in a file of the owner's, not on the command line (ps would show it).
        config.write_text(
            f"bind 127.0.0.1\nport {self.port}\nprotected-mode yes\nrequirepass {self.password}\n"
            f'dir {self.folder}\nsave ""\nappendonly no\nlogfile {log}\n'
        )
        config.chmod(0o600)
        # A session of its own: a Ctrl+C meant for whoever started it does not stop it behind their back.
        self.process = subprocess.Popen(
            [REDIS_SERVER, str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        _wait_for_port(self.port, self.process, "Redis", log)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis(folder: Path, port: int | None = None) -> LocalRedis:
    """Start a Redis on 127.0.0.1:`port` that keeps nothing on disk (what it holds is rebuilt: sign-in
    counts, the progress and result of a job)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    server = LocalRedis(folder, port or free_port(), secrets.token_urlsafe(24))
    server.start()
    return server
