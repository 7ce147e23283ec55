"""The clinic's records (etl.records), on one machine's SQLite file and on a clinic network's PostgreSQL:
one transaction per write, each read sees the newest commit; the file is owner-only and a file kept
under its earlier name is taken over; PostgreSQL's schema is its migrations, a database without them is
refused in words, and a restarted PostgreSQL costs nobody a restart."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from access import audit, users
from access.audit import ACTIONS, OUTCOMES, Actor
from access.roles import ROLES
from analytics.definitions import DECISIONS, REVIEW_OUTCOMES
from analytics.reviews import read_reviews, record_review
from etl import postgres, records
from etl.records import ConstraintError, MigrationsMissing, connect, reading, records_path
from tests.conftest import load_files

SCHEMA = "CREATE TABLE IF NOT EXISTS notes (note TEXT NOT NULL)"
BY = Actor("an-admin", "10.0.0.7", "S-3", "admin")


@pytest.fixture
def notes(records_backend, request) -> str:
    """A table of notes: the SQLite file makes it when `connect` or `reading` is handed its schema;
    PostgreSQL only ever has the tables of its migrations, so the test makes it there itself."""
    if records_backend == "postgresql":
        with postgres.connect(request.getfixturevalue("records_url")) as con:
            con.execute(SCHEMA)
    return SCHEMA


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


def test_a_write_that_fails_stores_nothing(notes, db):
    with pytest.raises(ZeroDivisionError), connect(db, notes) as con:
        con.execute("INSERT INTO notes VALUES (:note)", {"note": "half"})
        1 / 0  # noqa: B018
    with reading(db, notes) as con:
        assert con.execute("SELECT count(*) FROM notes").fetchall() == [(0,)]


def test_the_reading_connection_sees_each_new_commit(notes, db):
    with reading(db, notes) as con:
        assert con.execute("SELECT count(*) FROM notes").fetchall() == [(0,)]
    with connect(db, notes) as con:
        con.execute("INSERT INTO notes VALUES (:note)", {"note": "new"})
    with reading(db, notes) as con:
        assert con.execute("SELECT note FROM notes").fetchall() == [("new",)]


def test_a_process_forked_while_another_thread_holds_the_records_lock_reads_them(notes, db):
    """The caseload zip forks a request's process: a lock another thread held at that moment must not
    stay held in the child (its first read of the records would hang)."""
    import threading

    with connect(db, notes) as con:
        con.execute("INSERT INTO notes VALUES (:note)", {"note": "before the fork"})
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with records._readers_lock, records._engines_lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        child = os.fork()
        if child == 0:  # the child: read, then leave without running the parent's clean-up
            try:
                with reading(db, notes) as con:
                    ok = con.execute("SELECT note FROM notes").fetchall() == [("before the fork",)]
            finally:
                os._exit(0 if ok else 1)
        deadline = time.monotonic() + 20
        while (done := os.waitpid(child, os.WNOHANG)) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        if done == (0, 0):
            os.kill(child, 9)
            os.waitpid(child, 0)
            pytest.fail("the forked process hung on a lock its parent's thread held")
        assert os.waitstatus_to_exitcode(done[1]) == 0
    finally:
        release.set()
        holder.join()


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


def test_without_a_database_url_the_records_stay_in_the_file(tmp_path):
    db = tmp_path / "hipline.duckdb"
    records.attach(db, "postgresql://nobody:secret@127.0.0.1:1/none")
    assert records.backend(db) == "postgresql"
    records.attach(db, None)
    assert records.backend(db) == "sqlite"
    audit.record(db, BY, "sign_in", "signed in")  # nothing listens on port 1: this went to the file
    assert records_path(db).exists() and list(audit.read(db)["username"]) == ["an-admin"]


# A clinic network's PostgreSQL.


def test_a_database_without_the_migrations_is_refused_until_hipline_db_upgrade(postgres_url, db, monkeypatch, capsys):
    from hipline import cli

    monkeypatch.setenv("HIPLINE_DATABASE_URL", postgres_url)
    assert cli.main(["user", "list", "--db", str(db)]) == 1
    printed = "".join(capsys.readouterr())
    said, unwrapped = " ".join(printed.split()), "".join(printed.split())  # the console wraps long words too
    assert "lacks the migrations 0001_data_version.sql, 0002_records.sql" in said and "hipline db upgrade" in said
    password = postgres_url.split(":")[2].split("@")[0]
    assert postgres_url.replace(password, "***") in unwrapped and password not in unwrapped, "named, without password"
    try:
        with pytest.raises(MigrationsMissing, match="run `hipline db upgrade`"):
            users.find(db, "S-1")  # a host that was not told at its start refuses at its first request
        assert cli.main(["db", "upgrade"]) == 0
        assert users.find(db, "S-1") is None, "upgraded: the same process goes on, nothing to restart"
        assert not records_path(db).exists()
    finally:
        records.attach(db, None)
        records.forget_readers()


def test_postgresql_takes_every_value_the_code_knows(records_url, db):
    """The migration's CHECK lists are written out: they must be the code's (a new role, action or outcome
    needs a new migration)."""
    with connect(db, users.SCHEMA) as con:
        for n, role in enumerate(ROLES):
            con.execute(
                "INSERT INTO users (username, staff_id, name, role, password_hash, created_at, changed_at) "
                "VALUES (:u, :u, 'someone', :role, 'x', 'now', 'now')",
                {"u": f"u{n}", "role": role},
            )
    for action in ACTIONS:
        for outcome in OUTCOMES:
            audit.record(db, BY, action, f"{action} {outcome}", outcome=outcome)
    for outcome in REVIEW_OUTCOMES:
        record_review(db, "C-1", outcome=outcome, note="checked", reviewed_by="S-1", referred_to="GP")
    with connect(db, "") as con:
        for decision in DECISIONS:
            con.execute(
                """INSERT INTO decisions (client_id, ladder, decided_at, decided_on, decided_by, action, as_of,
                                          shown_decision, decision, changes)
                   VALUES ('C-1', 'bridge', 'now', '2026-06-26', 'S-1', 'accept', '2026-06-26', :d, :d, 0)""",
                {"d": decision},
            )
    assert len(users.list_users(db)) == len(ROLES) == 3
    assert len(audit.read(db)) == len(ACTIONS) * len(OUTCOMES) == 36
    assert list(read_reviews(db)["outcome"]) == list(REVIEW_OUTCOMES)
    # ... and refuses what the code refuses, whoever writes: an override without a reason, a referral to
    # nobody, a review without a note, a role, action or outcome it does not know.
    refused = {
        "INSERT INTO decisions (client_id, ladder, decided_at, decided_on, decided_by, action, as_of, shown_decision, "
        "decision, changes) VALUES ('C-1', 'bridge', 'now', 'x', 'S-1', 'override', 'x', 'hold', 'hold', 0)",
        "INSERT INTO red_flag_reviews (client_id, reviewed_on, reviewed_at, reviewed_by, outcome, note) "
        "VALUES ('C-1', 'x', 'x', 'S-1', 'referred', 'to someone')",
        "INSERT INTO red_flag_reviews (client_id, reviewed_on, reviewed_at, reviewed_by, outcome, note) "
        "VALUES ('C-1', 'x', 'x', 'S-1', 'cleared', '  ')",
        "INSERT INTO users (username, staff_id, name, role, password_hash, created_at, changed_at) "
        "VALUES ('boss', 'S-9', 'a boss', 'boss', 'x', 'now', 'now')",
        "INSERT INTO audit (at, username, action, outcome, what) VALUES ('now', 'x', 'peek', 'done', 'looked')",
        "INSERT INTO audit (at, username, action, outcome, what) VALUES ('now', 'x', 'sign_in', 'maybe', 'tried')",
    }
    for sql in refused:
        with pytest.raises(ConstraintError, match="violates check constraint"), connect(db, "") as con:
            con.execute(sql)


def test_a_user_added_through_one_host_signs_in_on_another(records_url, db, roster, tmp_path):
    """The roster published to PostgreSQL by a load; `hipline user add` on host A (its own copy of the
    clinic data); the sign-in check on host B (this process, its own copy at `db`)."""
    from etl import replica

    assert load_files(db, *roster, database_url=records_url).all_readable
    host_a = tmp_path / "host-a" / "hipline.duckdb"
    replica.refresh(host_a, records_url)  # as host A does before it serves
    hipline = Path(sys.executable).with_name("hipline")
    env = {**os.environ, "HIPLINE_DATABASE_URL": records_url}
    added = subprocess.run(
        [str(hipline), "user", "add", "S-1", "--role", "physio", "--password-stdin", "--db", str(host_a)],
        input="a long passphrase\n", env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert added.returncode == 0, added.stdout + added.stderr
    user = users.check_password(db, "s-1", "a long passphrase")
    assert (user.username, user.name, user.role, user.enabled) == ("S-1", "Ana Costa", "physio", True)
    assert users.check_password(db, "S-1", "a wrong passphrase") is None
    added_by = audit.read(db, action="user_change")
    assert list(added_by["what"]) == ["added user S-1 (S-1, Ana Costa) as physio"]
    assert added_by["username"].iloc[0].startswith("os:")
    assert not records_path(host_a).exists()


def test_a_restart_of_postgresql_between_two_writes_costs_nobody_a_restart(records_url, db, postgres_server):
    audit.record(db, BY, "sign_in", "before the restart")
    assert list(audit.read(db)["what"]) == ["before the restart"]  # the pool now holds a connection
    postgres_server.restart()
    audit.record(db, BY, "sign_out", "after the restart")
    assert list(audit.read(db)["what"]) == ["after the restart", "before the restart"]
