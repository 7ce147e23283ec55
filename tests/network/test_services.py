"""The PostgreSQL and Redis that `hipline cluster-demo` and these tests start: loopback only, a password
required, and a restart that keeps the data."""

from __future__ import annotations

import socket

import psycopg
import pytest
import redis


def test_postgres_keeps_data_over_a_restart_and_asks_for_a_password(postgres_server, postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("CREATE TABLE t (x int)")
        con.execute("INSERT INTO t VALUES (1), (2)")
    postgres_server.restart()
    with psycopg.connect(postgres_url) as con:
        assert con.execute("SELECT sum(x) FROM t").fetchone() == (3,)
    wrong = postgres_url.replace(postgres_server.password, "wrong")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(wrong)
    assert (postgres_server.folder / "password").stat().st_mode & 0o077 == 0


def test_services_listen_on_the_loopback_only(postgres_server, redis_server):
    for port in (postgres_server.port, redis_server.port):
        outside = _an_address_that_is_not_loopback()
        if outside is None:
            pytest.skip("this machine has no address besides the loopback")
        with socket.socket() as s:
            s.settimeout(1)
            assert s.connect_ex((outside, port)) != 0


def test_redis_asks_for_a_password(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.set("k", "v")
    assert client.get("k") == b"v"
    anonymous = redis.Redis(host="127.0.0.1", port=client.connection_pool.connection_kwargs["port"])
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.get("k")


def _an_address_that_is_not_loopback() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address
