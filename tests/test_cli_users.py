"""`hipline user ...`, `hipline audit` and `hipline serve`'s refusal without an admin
(docs/security.md#roles-and-what-each-may-do)."""

from __future__ import annotations

import csv
import io
import os
import sys
from dataclasses import dataclass

import pytest

from access import audit, users
from hipline.cli import main


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def hipline(capsys, monkeypatch):
    """Run `hipline ...` in this process (as the console script would), `stdin` as its standard input."""

    def run(*args: str, stdin: str | None = None) -> Ran:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        umask = os.umask(0o022)  # main() makes it owner-only for the process: this one's, then, for its run only
        try:
            code = main(list(args))
        finally:
            os.umask(umask)
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return run


def test_a_user_is_added_from_the_roster_with_a_password_from_stdin_and_listed(loaded_roster, hipline):
    db = str(loaded_roster)
    added = hipline("user", "add", "S-1", "--role", "physio", "--username", "ana", "--db", db,
                     "--password-stdin", stdin="a long passphrase\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "Ana Costa may now sign in as 'ana', physio." in added.stderr.replace("\n", " ")
    assert users.check_password(loaded_roster, "ana", "a long passphrase").staff_id == "S-1"
    listed = hipline("user", "list", "--db", db)
    assert "ana" in listed.stdout and "Ana Costa" in listed.stdout and "enabled" in listed.stdout
    assert "a long passphrase" not in added.stdout + added.stderr + listed.stdout + listed.stderr
    row = audit.read(loaded_roster, action="user_change").iloc[0]
    assert row["username"].startswith("os:") and row["what"] == "added user ana (S-1, Ana Costa) as physio"


def test_a_role_other_than_the_rosters_is_allowed_and_said(loaded_roster, hipline):
    added = hipline("user", "add", "S-1", "--role", "admin", "--db", str(loaded_roster), "--password-stdin",
                     stdin="a long passphrase\n")  # fmt: skip
    assert added.returncode == 0 and "the roster says physio" in added.stderr


def test_someone_not_on_the_roster_or_a_short_password_changes_nothing(loaded_roster, hipline):
    db = str(loaded_roster)
    stranger = hipline("user", "add", "S-9", "--role", "admin", "--db", db, "--password-stdin", stdin="long enough!\n")
    short = hipline("user", "add", "S-1", "--role", "admin", "--db", db, "--password-stdin", stdin="short\n")
    assert stranger.returncode == short.returncode == 1
    assert "'S-9' is not a staff_id of the roster" in stranger.stderr
    assert "at least 12 characters" in short.stderr.replace("\n", " ")
    assert users.list_users(loaded_roster) == []


def test_passwd_disable_enable_and_role(loaded_roster, hipline):
    db = str(loaded_roster)
    for staff_id, role in (("S-1", "physio"), ("S-3", "admin")):
        hipline("user", "add", staff_id, "--role", role, "--db", db, "--password-stdin", stdin="first passphrase\n")
    changed = hipline("user", "passwd", "S-1", "--db", db, "--password-stdin", stdin="second passphrase\n")
    assert changed.returncode == 0
    assert users.check_password(loaded_roster, "S-1", "second passphrase")
    assert hipline("user", "disable", "S-1", "--db", db).returncode == 0
    assert not users.find(loaded_roster, "S-1").enabled
    assert hipline("user", "enable", "S-1", "--db", db).returncode == 0
    assert hipline("user", "role", "S-1", "instructor", "--db", db).returncode == 0
    assert users.find(loaded_roster, "S-1").role == "instructor"
    last_admin = hipline("user", "disable", "S-3", "--db", db)
    assert last_admin.returncode == 1 and "only enabled admin" in last_admin.stderr


def test_serve_refuses_a_warehouse_without_an_admin_and_says_how_to_add_one(loaded_roster, hipline):
    refused = hipline("serve", "--db", str(loaded_roster), "--port", "1")
    assert refused.returncode == 1
    said = refused.stderr.replace("\n", " ")
    assert "No admin can sign in" in said and "hipline user add STAFF_ID --role admin" in said


def test_audit_exports_the_trail_as_csv_with_filters(loaded_roster, tmp_path, hipline):
    db = str(loaded_roster)
    hipline("user", "add", "S-1", "--role", "physio", "--db", db, "--password-stdin", stdin="a long passphrase\n")
    hipline("user", "add", "S-3", "--role", "admin", "--db", db, "--password-stdin", stdin="a long passphrase\n")
    out = tmp_path / "audit.csv"
    done = hipline("audit", "--db", db, "--action", "user_change", "--since", "2020-01-01", "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["what"] for r in rows] == ["added user S-3 (S-3, Cara Lee) as admin",
                                         "added user S-1 (S-1, Ana Costa) as physio"]  # fmt: skip
    everything = hipline("audit", "--db", db, "--out", "-")
    assert everything.stdout.startswith(",".join(audit.COLUMNS)) and everything.stdout.count(",user_change,") == 2
    wrong = hipline("audit", "--db", db, "--action", "peek", "--out", "-")
    assert wrong.returncode == 1 and "--action is one of" in wrong.stderr
    exported = audit.read(loaded_roster, action="export").iloc[0]
    assert exported["what"].startswith("audit trail (CSV)")


def test_a_load_from_the_command_line_is_audited_as_an_import(roster, db, hipline):
    assert hipline("load", "--db", str(db), *map(str, roster)).returncode == 0
    row = audit.read(db, action="import").iloc[0]
    assert row["address"] == "command line"
    assert "staff.csv (staff): loaded, 3 read = 3 loaded + 0 quarantined" in row["what"]
