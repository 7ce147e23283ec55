"""Failed sign-ins counted in a clinic network's Redis: the sixth within a minute is refused whichever web
host (here two apps on the same warehouse, in this process) it reaches; a Redis out of reach refuses
sign-ins in a sentence, at once."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import redis

from dashboard.app import create_app
from etl.settings import Settings
from hipline.demo_data.accounts import DEMO_USERS
from hipline.services import free_port
from tests.conftest import staff_only_warehouse

PASSWORD = DEMO_USERS["admin"][1]


@pytest.fixture
def counted_in(redis_url: str):
    """The test's Redis, emptied afterwards too: the failures counted here would otherwise keep this
    address and the account 'admin' from signing in to the next test's hosts for a minute."""
    yield redis_url
    redis.Redis.from_url(redis_url).flushall()


def _host(db: Path, redis_url: str):
    return create_app(db, settings=Settings(redis_url=redis_url)).server.test_client()


def _sign_in(host, password: str):
    token = re.search(r'name="csrf_token" value="([^"]+)"', host.get("/login").text).group(1)
    return host.post("/login", data={"username": "admin", "password": password, "csrf_token": token})


def test_a_sixth_failed_sign_in_is_refused_whichever_host_it_reaches(db, tmp_path, counted_in):
    staff_only_warehouse(db, tmp_path)
    a, b = _host(db, counted_in), _host(db, counted_in)
    assert _sign_in(b.application.test_client(), PASSWORD).status_code == 302, "a right password lets one in"
    # Three failures through A and two through B: neither host alone has seen five.
    for host in (a, b, a, b, a):
        assert _sign_in(host, "not-the-password").status_code == 401
    for host in (a, b):
        refused = _sign_in(host, PASSWORD)
        assert refused.status_code == 429 and "Too many failed sign-ins" in refused.text


def test_a_redis_out_of_reach_refuses_sign_ins_in_a_sentence_at_once(db, tmp_path, redis_server):
    staff_only_warehouse(db, tmp_path)
    nowhere = redis_server.url.replace(f":{redis_server.port}/", f":{free_port()}/")
    host = _host(db, nowhere)
    started = time.monotonic()
    answer = _sign_in(host, PASSWORD)
    assert answer.status_code == 503
    assert "the server that counts failed sign-ins cannot be reached" in answer.text
    assert time.monotonic() - started < 10
    assert host.get("/", headers={"Accept": "text/html"}).status_code == 302, "not signed in"
