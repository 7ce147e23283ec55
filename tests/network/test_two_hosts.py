"""A clinic network served by two web hosts (docs/deployment.md): PostgreSQL and Redis started by the
fixtures, the demo loaded through PostgreSQL with the command line, two `hipline serve` processes with
local copies of their own. What one host does, the other sees; losing one host, or PostgreSQL for a
moment, loses nothing.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hipline import services
from tests.conftest import few_clients_day
from tests.http_client import Client, callback_for

pytestmark = pytest.mark.slow

PASSWORDS = {"physio": "demo-physio-pass", "admin": "demo-admin-pass"}


@dataclass
class Host:
    name: str
    db: Path
    log: Path
    port: int = field(default_factory=services.free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Network:
    folder: Path
    env: dict[str, str]
    hosts: dict[str, Host]
    demo_files: Path


def hipline(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "hipline.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def start(host: Host, env: dict[str, str]) -> None:
    with open(host.log, "ab") as out:
        host.process = subprocess.Popen(
            [sys.executable, "-m", "hipline.cli", "serve", "--db", str(host.db), "--port", str(host.port),
             "--workers", "2"],
            stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{host.url}/login", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if host.process.poll() is not None:
                break
            time.sleep(0.2)
    raise RuntimeError(f"host {host.name} did not start:\n" + host.log.read_text(errors="replace")[-3000:])


def stop(host: Host, sig: int = signal.SIGTERM) -> None:
    if host.process is not None and host.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(host.process.pid, sig)
        host.process.wait(20)


@pytest.fixture(scope="module")
def network(postgres_server, redis_server, demo_files, tmp_path_factory) -> Iterator[Network]:
    folder = tmp_path_factory.mktemp("network")
    url = postgres_server.create_database("network_" + secrets.token_hex(4))
    env = {
        **os.environ,
        "HIPLINE_DATABASE_URL": url,
        "HIPLINE_REDIS_URL": redis_server.url,
        "HIPLINE_SECRET_KEY": secrets.token_hex(32),
        "HIPLINE_TODAY": "newest",
    }
    # The demo's files, less its newest day: a test loads that day later, through the command line.
    files = folder / "demo"
    shutil.copytree(demo_files, files)
    hipline(env, "db", "upgrade")
    hipline(env, "demo", "--no-serve", "--db", str(folder / "loader.duckdb"), "--data-dir", str(files))
    hosts = {name: Host(name, folder / f"host-{name}.duckdb", folder / f"host-{name}.log") for name in "ab"}
    for host in hosts.values():
        start(host, env)
    yield Network(folder, env, hosts, files)
    for host in hosts.values():
        stop(host)


def signed_in(host: Host, username: str, password: str | None = None) -> Client:
    client = Client(host.url)
    answer = client.sign_in(username, password or PASSWORDS[username])
    assert answer.status == 302, answer.body[:500]
    return client


def call(client: Client, output_part: str, values: dict, changed: str | None = None):
    """The callback whose output names `output_part`, its inputs and state from `values`."""
    dependencies = client.request("/_dash-dependencies", headers={"Accept": "application/json"}).json()
    return client.callback(callback_for(dependencies, output_part, values, changed))


def caseload_rows(client: Client) -> list[dict]:
    answer = call(client, "caseload-grid.rowData", {})
    assert answer.status == 200, answer.body[:500]
    return answer.json()["response"]["caseload-grid"]["rowData"]


def test_a_user_added_through_host_a_signs_in_on_host_b(network):
    admin = signed_in(network.hosts["a"], "admin")
    staff = call(admin, "user-add-staff.options", {"users-changed.data": 1}).json()
    choices = staff["response"]["user-add-staff"]["options"]
    assert choices, "the roster has staff without a user"
    staff_id = choices[0]["value"]
    password = "a-long-password-for-b"
    values = {"user-add-submit.n_clicks": 1, "user-add-staff.value": staff_id, "user-add-username.value": "newcomer",
              "user-add-role.value": "instructor", "user-add-password.value": password,
              "user-add-again.value": password}  # fmt: skip
    added = call(admin, "user-add-message.children", values, changed="user-add-submit.n_clicks")
    assert added.status == 200 and "newcomer" in added.body, added.body[:500]
    assert Client(network.hosts["b"].url).sign_in("newcomer", password).status == 302
    assert Client(network.hosts["b"].url).sign_in("newcomer", "wrong-password").status != 302


def test_a_decision_through_host_a_shows_on_host_b_at_its_next_request(network):
    physio_a, physio_b = signed_in(network.hosts["a"], "physio"), signed_in(network.hosts["b"], "physio")
    for row in caseload_rows(physio_a):  # the first of the physio's clients with a recommendation to accept
        view = {"client-id.data": row["client_id"]}
        cards = call(physio_b, "client-recs.children", view)
        assert cards.status == 200
        if "rec-accept" in cards.body and "Accepted by" not in cards.body:
            break
    else:
        pytest.fail("no client of the physio has a recommendation to accept")
    client_id, ladder = row["client_id"], _first_ladder(cards.body)
    values = {"decision-confirm.n_clicks": 1, "client-id.data": client_id,
              "decision-pending.data": {"ladder": ladder, "action": "accept"}}  # fmt: skip
    decided = call(physio_a, "decision-modal.is_open@", values, changed="decision-confirm.n_clicks")
    assert decided.status == 200, decided.body[:500]
    assert "Accepted by" in call(physio_b, "client-recs.children", view).body


def _first_ladder(body: str) -> str:
    import re

    match = re.search(
        r'"type":\s*"rec-accept",\s*"ladder":\s*"([^"]+)"|"ladder":\s*"([^"]+)",\s*"type":\s*"rec-accept"', body
    )
    assert match, body[:1000]
    return match.group(1) or match.group(2)


def test_a_zip_started_through_host_a_is_followed_and_downloaded_through_host_b(network):
    """As a browser behind a load balancer: the caseload zip's requests go to A, then to B (the zip's job is
    in Redis; tests/network/test_shared_zip_job.py has the rest of its rules)."""
    from access import users
    from etl import records
    from tests.network.test_shared_zip_job import Browser

    a, b = network.hosts["a"], network.hosts["b"]
    records.attach(a.db, network.env["HIPLINE_DATABASE_URL"])  # this test reads A's copy and the records
    try:
        staff_id = users.find(a.db, "physio").staff_id
        day, caseload = few_clients_day(a.db, staff_id)
    finally:
        records.forget_readers()
    tab = Browser(a.url, "physio")
    handles = tab.start_zip(a.url, day, staff_id)
    seen, response = tab.follow(b.url, handles)
    assert seen and seen[-1].startswith(f"{len(caseload)} of {len(caseload)}")
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(response["caseload-zip-download"]["data"]["content"])))
    pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert len(pdfs) == len(caseload) and all(archive.read(name).startswith(b"%PDF") for name in pdfs)


def test_a_load_published_through_the_command_line_shows_on_both_hosts_never_mixed(network):
    """A reader on each host reads the caseload's last sessions in a loop while a load adds a day: every
    answer is the old state or the new one, and both hosts end on the new one."""
    clients = {name: signed_in(host, "admin") for name, host in network.hosts.items()}
    before = {name: _last_sessions(c) for name, c in clients.items()}
    assert before["a"] == before["b"]
    day = network.folder / "extra_day.csv"
    day.write_text(_a_new_day(network.demo_files))
    seen: dict[str, set[frozenset]] = {name: set() for name in clients}
    errors: list[str] = []
    stop_reading = threading.Event()

    def read(name: str) -> None:
        while not stop_reading.is_set():
            try:
                seen[name].add(_last_sessions(clients[name]))
            except Exception as error:
                errors.append(f"{name}: {error}")
            time.sleep(0.05)

    readers = [threading.Thread(target=read, args=(name,)) for name in clients]
    for reader in readers:
        reader.start()
    try:
        hipline(network.env, "load", "--db", str(network.folder / "loader.duckdb"), str(day))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(len(s) > 1 for s in seen.values()):
            time.sleep(0.2)
    finally:
        stop_reading.set()
        for reader in readers:
            reader.join()
    assert not errors
    after = {name: _last_sessions(c) for name, c in clients.items()}
    assert after["a"] == after["b"] != before["a"]
    for name in clients:  # each reader saw the switch from the old data to the new, and nothing between
        assert seen[name] == {before[name], after[name]}, seen
    for host in network.hosts.values():  # and each host said so in its log, for the clinic's monitoring
        assert "now holds data version 2" in host.log.read_text(errors="replace"), host.name


def _last_sessions(client: Client) -> frozenset:
    """Each client's last session, as the caseload shows it: the new day changes some of them."""
    return frozenset((r["client_id"], r["last_session"]) for r in caseload_rows(client))


def _a_new_day(demo: Path) -> str:
    """Session rows for the day after the demo's newest, copied from its newest day's rows."""
    import csv
    import io
    from datetime import date, timedelta

    source = sorted(demo.glob("sessions_*.csv"))[-1]
    with source.open(newline="", encoding="utf-8-sig") as f:
        sample = f.read(4096)
        f.seek(0)
        rows = list(csv.reader(f, csv.Sniffer().sniff(sample, delimiters=",;\t")))
    header, body = rows[0], rows[1:]
    day_column = header.index("session_date")
    newest = max(body, key=lambda r: r[day_column])[day_column]
    same_day = [r for r in body if r[day_column] == newest]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for r in same_day:
        r = list(r)
        shown = date.fromisoformat(newest) if "-" in newest else date(*map(int, reversed(newest.split("/"))))
        r[day_column] = (shown + timedelta(days=1)).isoformat()
        writer.writerow(r)
    return out.getvalue()


def test_killing_host_a_leaves_host_b_serving_without_an_error(network):
    b = signed_in(network.hosts["b"], "physio")
    failures, answers = [], 0
    stop_at = time.monotonic() + 6
    killed = False
    while time.monotonic() < stop_at:
        answer = b.get("/", html=True)
        answers += 1
        if answer.status != 200:
            failures.append(answer.status)
        if not killed and answers == 3:
            stop(network.hosts["a"], signal.SIGKILL)
            killed = True
    assert killed and answers > 10 and failures == []
    start(network.hosts["a"], network.env)  # host A again, for the tests after this one
    assert signed_in(network.hosts["a"], "physio").get("/").status == 200


def test_both_hosts_recover_from_a_postgresql_restart_without_restarting(network, postgres_server):
    clients = {name: signed_in(host, "physio") for name, host in network.hosts.items()}
    postgres_server.restart()
    for name, client in clients.items():
        answer = client.get("/")
        assert answer.status == 200, (name, answer.body[:300])
        assert caseload_rows(client), name
    assert signed_in(network.hosts["b"], "admin").get("/").status == 200
