"""The clinic's records beside the warehouse (etl.records): owner-only, one transaction per write, and a
file kept under its earlier name is taken over."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from etl.records import connect, reading, records_path

SCHEMA = "CREATE TABLE IF NOT EXISTS notes (note TEXT NOT NULL)"


def test_the_records_are_created_readable_by_their_owner_only(db):
    with connect(db, SCHEMA) as con:
        con.execute("INSERT INTO notes VALUES ('x')")
    path = records_path(db)
    assert path.name == "hipline.records.sqlite"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with reading(db, SCHEMA) as con:
        con.execute("SELECT * FROM notes").fetchall()
    for wal in path.parent.glob("*.sqlite-*"):
        assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0, wal.name


def test_a_file_left_readable_by_others_is_made_owner_only_when_opened(db):
    path = records_path(db)
    path.parent.mkdir(parents=True)
    sqlite3.connect(path).close()
    path.chmod(0o644)
    with connect(db, SCHEMA):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_write_that_fails_stores_nothing(db):
    with pytest.raises(ZeroDivisionError), connect(db, SCHEMA) as con:
        con.execute("INSERT INTO notes VALUES ('half')")
        1 / 0  # noqa: B018
    with reading(db, SCHEMA) as con:
        assert con.execute("SELECT count(*) FROM notes").fetchall() == [(0,)]


def test_the_reading_connection_sees_each_new_commit(db):
    with reading(db, SCHEMA) as con:
        assert con.execute("SELECT count(*) FROM notes").fetchall() == [(0,)]
    with connect(db, SCHEMA) as con:
        con.execute("INSERT INTO notes VALUES ('new')")
    with reading(db, SCHEMA) as con:
        assert con.execute("SELECT note FROM notes").fetchall() == [("new",)]


def test_the_file_of_decisions_kept_before_users_existed_is_taken_over(db):
    earlier = db.with_name("hipline.decisions.sqlite")
    earlier.parent.mkdir(parents=True)
    with sqlite3.connect(earlier) as con:
        con.execute(SCHEMA)
        con.execute("INSERT INTO notes VALUES ('a decision from before')")
    con.close()
    with reading(db, SCHEMA) as con:
        assert con.execute("SELECT note FROM notes").fetchall() == [("a decision from before",)]
    assert not earlier.exists() and records_path(db).exists()
