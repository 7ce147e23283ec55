"""The PostgreSQL schema's numbered migrations: applied in order, once each, by `hipline db upgrade`."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from etl import postgres


def test_upgrade_applies_every_migration_once_in_order(postgres_url):
    everything = postgres.migrations()
    assert [m.number for m in everything] == sorted(m.number for m in everything)
    assert postgres.missing(postgres_url) == everything
    assert postgres.upgrade(postgres_url) == everything
    assert postgres.upgrade(postgres_url) == []  # a second upgrade finds nothing to do
    assert postgres.applied(postgres_url) == [m.number for m in everything]
    with psycopg.connect(postgres_url) as con:
        assert con.execute("SELECT version FROM data_version").fetchone() == (0,)


def test_a_new_file_is_applied_after_the_ones_before(postgres_url, tmp_path: Path):
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x int); INSERT INTO a VALUES (1);")
    assert [m.name for m in postgres.upgrade(postgres_url, tmp_path)] == ["first"]
    (tmp_path / "0002_second.sql").write_text("INSERT INTO a SELECT x + 1 FROM a;")
    assert [m.name for m in postgres.upgrade(postgres_url, tmp_path)] == ["second"]
    with psycopg.connect(postgres_url) as con:
        assert con.execute("SELECT array_agg(x ORDER BY x) FROM a").fetchone() == ([1, 2],)


def test_a_failing_migration_leaves_nothing_of_itself(postgres_url, tmp_path: Path):
    (tmp_path / "0001_good.sql").write_text("CREATE TABLE a (x int);")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE b (x int); INSERT INTO nowhere VALUES (1);")
    with pytest.raises(psycopg.errors.UndefinedTable):
        postgres.upgrade(postgres_url, tmp_path)
    assert postgres.applied(postgres_url) == [1]
    with psycopg.connect(postgres_url) as con:
        assert con.execute("SELECT to_regclass('b')").fetchone() == (None,)


def test_two_upgrades_at_once_apply_each_file_once(postgres_url, tmp_path: Path):
    (tmp_path / "0001_slow.sql").write_text("SELECT pg_sleep(0.3); CREATE TABLE a (x int);")
    results: list = []
    threads = [
        threading.Thread(target=lambda: results.append(postgres.upgrade(postgres_url, tmp_path))) for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(r) for r in results) == [0, 1]


def test_misnamed_or_doubled_files_are_refused(tmp_path: Path):
    (tmp_path / "1_a.sql").write_text("")
    with pytest.raises(ValueError, match="NNNN_words"):
        postgres.migrations(tmp_path)
    (tmp_path / "1_a.sql").unlink()
    (tmp_path / "0001_a.sql").write_text("")
    (tmp_path / "0001_b.sql").write_text("")
    with pytest.raises(ValueError, match="same number"):
        postgres.migrations(tmp_path)


def test_hipline_db_upgrade_and_status(postgres_url):
    env = {"HIPLINE_DATABASE_URL": postgres_url, "PATH": "/usr/bin:/bin"}

    def run(*a):
        return subprocess.run([sys.executable, "-m", "hipline.cli", "db", *a], env=env, capture_output=True, text=True)

    status = run("status")
    assert status.returncode == 1 and "MISSING  0001_data_version.sql" in status.stdout
    upgraded = run("upgrade")
    assert upgraded.returncode == 0 and "applied 0001_data_version.sql" in upgraded.stdout
    again = run("status")
    assert again.returncode == 0 and "MISSING" not in again.stdout
