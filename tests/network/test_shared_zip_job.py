"""The caseload's zip of progress reports on a clinic network (dashboard.shared_jobs): two served web hosts
on the demo warehouse share one Redis; the zip started through host A is followed and taken through host
B, as a browser behind a load balancer would, sending Dash's renderer's own requests. Only its owner may
follow it; a host or a Redis that stops mid-job is said in a sentence, not waited for."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import time
import urllib.parse
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import psutil
import pytest
import redis

from access import audit, users
from dashboard.shared_jobs import ALIVE_SECONDS, HEARTBEAT_SECONDS, PREFIX
from reports.caseload import entry_name
from tests.browser.conftest import serve
from tests.conftest import few_clients_day
from tests.http_client import UPDATE, Client

pytestmark = pytest.mark.slow

SECRET = "a-secret-every-host-of-this-network-shares-" + "x" * 20
PASSWORDS = {"physio": "demo-physio-pass", "admin": "demo-admin-pass"}
ZIP_OUTPUT = "..caseload-zip-download.data...caseload-zip-status.children.."


@dataclass
class Network:
    a: str
    b: str
    env: dict[str, str]
    db: object
    redis: redis.Redis


@pytest.fixture(scope="module")
def network(demo_warehouse, redis_server) -> Iterator[Network]:
    env = {"HIPLINE_REDIS_URL": redis_server.url, "HIPLINE_SECRET_KEY": SECRET}
    redis.Redis.from_url(redis_server.url).flushall()  # no sign-in counted by an earlier test holds these back
    with serve(demo_warehouse, env=env) as a, serve(demo_warehouse, env=env) as b:
        yield Network(a, b, env, demo_warehouse, redis.Redis.from_url(redis_server.url))


class Browser:
    """One signed-in browser tab on the caseload page, whose requests a load balancer sends to either host."""

    def __init__(self, url: str, username: str) -> None:
        self.client = Client(url)
        assert self.client.sign_in(username, PASSWORDS[username]).status == 302
        page = self.client.get("/").body
        config = re.search(r'<script id="_dash-config" type="application/json">(.*?)</script>', page, re.S)
        self.end_id = json.loads(config.group(1))["end_id"]  # the page's token, which Dash binds its handles to

    def start_zip(self, host: str, day, clinician: str) -> dict:
        """Click the zip's button for `clinician`'s caseload as of `day` (None: today)."""
        inputs = {"caseload-zip-start.n_clicks": 1, "today.date": day and day.isoformat(),
                  "caseload-clinician.value": clinician, "export-paper.value": "a4"}  # fmt: skip
        answer = self._send(host, {}, inputs)
        assert answer.status == 200, answer.body
        return answer.json()

    def poll(self, host: str, handles: dict):
        """What the renderer sends every half second: the handles, the inputs emptied."""
        return self._send(host, {"cacheKey": handles["cacheKey"], "job": handles["job"]}, {})

    def follow(self, host: str, handles: dict, seconds: float = 60) -> tuple[list, dict]:
        """Poll until the job answers; the progress seen on the way, and the answer."""
        seen, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            answer = self.poll(host, handles)
            assert answer.status == 200, answer.body
            data = answer.json()
            if "progress" in data:
                seen.append(data["progress"]["caseload-zip-progress.children"])
            if "response" in data:
                return seen, data["response"]
            time.sleep(0.2)
        raise AssertionError(f"no answer within {seconds} s")

    def first_progress(self, host: str, handles: dict, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            data = self.poll(host, handles).json()
            assert "response" not in data, data
            if "progress" in data:
                return data["progress"]["caseload-zip-progress.children"]
            time.sleep(0.2)
        raise AssertionError(f"no progress within {seconds} s")

    def cancel(self, host: str, handles: dict):
        """What Cancel sends: Dash's own cancel callback, given the job's handle."""
        self.client.url = host
        body = {"output": "caseload-zip-cancel.id", "outputs": {"id": "caseload-zip-cancel", "property": "id"},
                "inputs": [{"id": "caseload-zip-cancel", "property": "n_clicks", "value": 1}],
                "changedPropIds": ["caseload-zip-cancel.n_clicks"], "state": []}  # fmt: skip
        query = urllib.parse.urlencode({"endId": self.end_id, "cancelJob": handles["job"]})
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.client.cookie("_csrf_token")}
        return self.client.request(f"{UPDATE}?{query}", json.dumps(body).encode(), headers)

    def _send(self, host: str, handles: dict, values: dict):
        def entry(component_property: str) -> dict:
            component, prop = component_property.rsplit(".", 1)
            return {"id": component, "property": prop, "value": values.get(component_property)}

        body = {
            "output": ZIP_OUTPUT,
            "outputs": [{"id": "caseload-zip-download", "property": "data"},
                        {"id": "caseload-zip-status", "property": "children"}],
            "inputs": [entry("caseload-zip-start.n_clicks")],
            "changedPropIds": ["caseload-zip-start.n_clicks"],
            "state": [entry("today.date"), entry("caseload-clinician.value"), entry("export-paper.value")],
        }  # fmt: skip
        query = urllib.parse.urlencode({"endId": self.end_id, **handles})
        self.client.url = host
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.client.cookie("_csrf_token")}
        return self.client.request(f"{UPDATE}?{query}", json.dumps(body).encode(), headers)


def _sign(value: str, scope: str) -> str:
    """A handle as Dash signs it (dash._callback_signing): what someone holding the network's secret, or a
    handle copied from another page, could send."""
    from dash import _callback_signing

    return _callback_signing.sign(SECRET.encode(), scope, value)


def _token(handles: dict) -> str:
    return handles["cacheKey"].partition("~")[0]


def _alert(response: dict) -> str:
    return response["caseload-zip-status"]["children"]["props"]["children"]


def _physio_day(db):
    physio = users.find(db, "physio")
    day, caseload = few_clients_day(db, physio.staff_id)
    return physio.staff_id, day, caseload


def test_a_zip_started_through_one_host_is_followed_and_taken_through_another(network):
    staff_id, day, caseload = _physio_day(network.db)
    tab = Browser(network.a, "physio")
    handles = tab.start_zip(network.a, day, staff_id)
    seen, response = tab.follow(network.b, handles)
    total, last = len(caseload), caseload["display_name"].iloc[-1]
    assert all(re.fullmatch(rf"\d of {total} · .+", text) for text in seen), seen
    assert seen[-1] == f"{total} of {total} · {last}", "the last client done is seen through B"
    download = response["caseload-zip-download"]["data"]
    assert download["filename"] == f"progress-reports_{staff_id}_{day.isoformat()}.zip"
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(download["content"])))
    pdfs = [name for name in archive.namelist() if name.endswith(".pdf")]
    assert pdfs == [entry_name(i, c) for i, c in enumerate(caseload.to_dict("records"), start=1)]
    assert all(archive.read(name).startswith(b"%PDF") for name in pdfs)
    # Taken once: nothing of it is left in Redis, and asking again finds nothing.
    assert network.redis.keys(f"{PREFIX}{_token(handles)}:*") == []
    _, again = tab.follow(network.b, handles)
    assert "no longer kept" in _alert(again)
    exported = audit.read(network.db, user="physio", action="export")["what"]
    said = f"progress reports (zip) of the caseload of {staff_id} as of {day}: {total} clients"
    assert said in set(exported)


def test_only_its_owner_may_follow_or_cancel_a_zip_whatever_handles_another_user_holds(network):
    """Even with handles validly signed for their own page (copied from the owner's, or made with the
    network's secret), another user gets what a job that never existed gets, and their Cancel does nothing;
    the owner's Cancel, through another host, ends the job on its own host."""
    owner, admin = Browser(network.a, "physio"), Browser(network.b, "admin")
    handles = owner.start_zip(network.a, None, "__all__")  # the whole caseload as of today: long enough
    token, host = _token(handles), _server_on(network.a)
    assert _until(lambda: _reports_under(host), 30), "the reports are being made on A"

    def as_admin(token: str) -> dict:
        page = admin.end_id.partition("~")[0]
        return {"cacheKey": _sign(token, f"cacheKey:{page}"), "job": _sign(token, f"job:{page}")}

    theirs, unknown = admin.poll(network.b, as_admin(token)), admin.poll(network.b, as_admin("0" * 64))
    assert (theirs.status, theirs.body) == (unknown.status, unknown.body)
    assert "no longer kept" in _alert(unknown.json()["response"])
    assert admin.cancel(network.b, as_admin(token)).status in (200, 204)
    time.sleep(2 * HEARTBEAT_SECONDS + 0.5)
    assert network.redis.exists(f"{PREFIX}{token}:alive") and _reports_under(host), "still going"
    refused = audit.read(network.db, user="admin", action="refused")["what"]
    assert refused.str.contains("progress reports \\(zip\\) started by another user").any()

    assert owner.cancel(network.b, handles).status in (200, 204)
    assert _until(lambda: not _reports_under(host), 5), "the reports' process ended"
    assert _until(lambda: not network.redis.keys(f"{PREFIX}{token}:*"), 5), "nothing of it kept"


def test_a_zip_whose_host_stopped_says_so_on_the_other_host(network):
    tab = Browser(network.a, "admin")
    with serve(network.db, env=network.env) as doomed:
        handles = tab.start_zip(doomed, None, "__all__")
        host = _server_on(doomed)
        for process in [host, *host.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()  # the host is gone, its job with it
    started = time.monotonic()
    _, response = tab.follow(network.b, handles, seconds=ALIVE_SECONDS + 10)
    assert "the server making them stopped before they were done" in _alert(response)
    assert time.monotonic() - started < ALIVE_SECONDS + 3


def _server_on(url: str) -> psutil.Process:
    port = int(url.rsplit(":", 1)[1])
    return next(p for p in psutil.Process().children() if f"--port {port}" in _command(p))


def _reports_under(host: psutil.Process) -> list[psutil.Process]:
    """The processes making reports under a host: its jobs' fresh processes (dashboard.zip_job)."""
    return [p for p in host.children(recursive=True) if "spawn_main" in _command(p)]


def _command(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.NoSuchProcess:  # ended since it was listed
        return ""


def _until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


def test_a_redis_that_stops_is_said_at_once_and_the_hosts_go_on_when_it_is_back(network, redis_server):
    tab = Browser(network.a, "admin")
    handles = tab.start_zip(network.a, None, "__all__")
    redis_server.stop()
    try:
        started = time.monotonic()
        assert "cannot be reached" in _alert(tab.poll(network.b, handles).json()["response"])
        assert "cannot be reached" in _alert(tab.start_zip(network.a, None, "__all__")["response"])
        assert time.monotonic() - started < 5, "said at once, not waited for"
    finally:
        redis_server.start()
    # Back, and empty: nobody can take the job's zip any more, and it ends; a new one starts and is followed.
    host = _server_on(network.a)
    assert _until(lambda: not _reports_under(host), 10), "the job on A ended"
    assert "no longer kept" in _alert(tab.poll(network.b, handles).json()["response"])
    again = tab.start_zip(network.a, None, "__all__")
    assert tab.poll(network.b, again).json() == {"multi": True}, "under way, followed through B"
    tab.cancel(network.b, again)
    for host in (network.a, network.b):  # the sign-in limits' connections to Redis are back too
        Browser(host, "physio")
