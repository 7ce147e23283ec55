"""The users who may sign in (docs/security.md#roles-and-what-each-may-do): each is one member of the roster's
staff, with one role.

Kept in the clinic's records (etl.records: beside the warehouse, or a clinic network's PostgreSQL), never in
the warehouse. Passwords
are stored only as Argon2id hashes (argon2-cffi's defaults: the current OWASP advice), never in clear,
never logged. A change that must end the user's sessions (signing out, a new password, disabled)
raises their `session_version`: a session signed with an older one is no longer valid at its next
request.
Every change is in the audit trail, with who made it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import argon2

from access import audit
from access.audit import Actor
from access.roles import ROLES, Viewer
from etl.records import connect, reading
from etl.warehouse import connect_read_only

MIN_PASSWORD = 12  # docs/security.md#who-we-defend-against (password guessing)
MAX_PASSWORD = 1024  # hashing a megabyte of "password" would be a cheap way to keep the server busy

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY COLLATE NOCASE,  -- one name in any case (queries compare lower() for PostgreSQL)
    staff_id TEXT NOT NULL UNIQUE,      -- one user per member of staff
    name TEXT NOT NULL,                 -- as on the roster when the user was added
    role TEXT NOT NULL CHECK (role IN ({", ".join(f"'{r}'" for r in ROLES)})),
    password_hash TEXT NOT NULL,        -- Argon2id
    enabled INTEGER NOT NULL DEFAULT 1,
    session_version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS session_secret (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    secret TEXT NOT NULL                -- signs the session cookies of every web worker of this warehouse
);
"""
_hasher = argon2.PasswordHasher()  # Argon2id
# Checked when nobody has the name tried, so that a wrong name takes as long as a wrong password. Written
# out rather than computed: hashing it took a sixth of a second in every process that imported this module
# (each server, each command). Its parameters are the hasher's (a test checks that they still are).
_NOBODY = "$argon2id$v=19$m=65536,t=3,p=4$hYIx7w4nPAD89hx4fKuM4g$z59O4EphBvgza+IM5hq3NjrVk6/4nhrRXBb5BetLkX4"


class UserError(ValueError):
    """A change to the users that cannot be made; the message says what to fix."""


@dataclass(frozen=True)
class User:
    username: str
    staff_id: str
    name: str
    role: str
    enabled: bool
    session_version: int
    created_at: str
    changed_at: str

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.username, self.staff_id, self.name, self.role)


_FIELDS = "username, staff_id, name, role, enabled, session_version, created_at, changed_at"
# The user named :username in any case: SQLite's NOCASE column, PostgreSQL's unique index on lower(username).
_NAMED = "lower(username) = lower(:username)"


def _user(row: tuple | None) -> User | None:
    if row is None:
        return None
    username, staff_id, name, role, enabled, version, created, changed = row
    return User(username, staff_id, name, role, bool(enabled), version, created, changed)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def check_new_password(password: str, username: str, staff_id: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"a password may have at most {MAX_PASSWORD} characters")
    if password.strip().lower() in (username.lower(), staff_id.lower()):
        raise UserError("a password must not be the username or the staff_id")


def _role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"the role is one of {', '.join(ROLES)}, not {role!r}")
    return role


def session_secret(db: Path) -> str:
    """The key that signs session cookies, made once and kept in the records (owner-only), so that every
    worker process, and a restarted server, accepts the same sessions. HIPLINE_SECRET_KEY overrides it."""
    with connect(db, SCHEMA) as con:
        con.execute(
            "INSERT INTO session_secret (one, secret) VALUES (1, :secret) ON CONFLICT DO NOTHING",
            {"secret": secrets.token_hex(32)},
        )
        return con.execute("SELECT secret FROM session_secret").fetchall()[0][0]


def find(db: Path, username: str) -> User | None:
    """The user with this name (any case), enabled or not. On the path of every request: one query on
    the process's open connection."""
    with reading(db, SCHEMA) as con:
        row = con.execute(f"SELECT {_FIELDS} FROM users WHERE {_NAMED}", {"username": username}).fetchone()
    return _user(row)


def list_users(db: Path) -> list[User]:
    with reading(db, SCHEMA) as con:
        rows = con.execute(f"SELECT {_FIELDS} FROM users ORDER BY role, name, username").fetchall()
    return [_user(row) for row in rows]


def has_admin(db: Path) -> bool:
    """Whether an enabled admin exists: without one, nobody could manage users or import files."""
    with reading(db, SCHEMA) as con:
        return bool(con.execute("SELECT count(*) FROM users WHERE role = 'admin' AND enabled").fetchall()[0][0])


def check_password(db: Path, username: str, password: str) -> User | None:
    """The enabled user whose password this is, else None (unknown name, wrong password, disabled:
    the caller cannot tell which, and neither can whoever tried, not even by the time it takes)."""
    with reading(db, SCHEMA) as con:
        row = con.execute(
            f"SELECT {_FIELDS}, password_hash FROM users WHERE {_NAMED}", {"username": username}
        ).fetchone()
    stored = row[-1] if row else _NOBODY
    try:
        _hasher.verify(stored, password[:MAX_PASSWORD])
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return None
    user = _user(row[:-1]) if row else None
    if user is None or not user.enabled:
        return None
    if _hasher.check_needs_rehash(stored):  # argon2-cffi's parameters were raised since: store it stronger
        with connect(db, SCHEMA) as con:
            con.execute(
                f"UPDATE users SET password_hash = :password_hash WHERE {_NAMED}",
                {"password_hash": _hasher.hash(password), "username": username},
            )
    return user


def roster_member(db: Path, staff_id: str) -> tuple[str, str]:
    """(name, role) of `staff_id` on the warehouse's staff roster; a user must be one of the staff."""
    try:
        con = connect_read_only(db)
    except FileNotFoundError as e:
        raise UserError(f"{e}; a user must be on the staff roster, so load it first") from None
    try:
        row = con.execute("SELECT name, role FROM staff WHERE staff_id = ?", [staff_id]).fetchall()
    finally:
        con.close()
    if not row:
        raise UserError(f"{staff_id!r} is not a staff_id of the roster (hipline load the staff list first)")
    return row[0]


def add_user(
    db: Path, staff_id: str, name: str, role: str, password: str, *, by: Actor, username: str | None = None
) -> User:
    """Give the roster's staff member `staff_id` (named `name` there) a user. `username` defaults to
    the staff_id. The caller has checked that `staff_id` is on the roster."""
    username = (username or staff_id).strip()
    if not username or any(c.isspace() for c in username):
        raise UserError(f"a username has no spaces: {username!r}")
    check_new_password(password, username, staff_id)
    now = _now()
    password_hash = _hasher.hash(password)
    with connect(db, SCHEMA) as con:
        con.take_turns("users")  # two admins adding at once: the second sees the first's user and is told so
        if con.execute(f"SELECT 1 FROM users WHERE {_NAMED}", {"username": username}).fetchone():
            raise UserError(f"there is already a user named {username!r}")
        taken = con.execute("SELECT username FROM users WHERE staff_id = :staff_id", {"staff_id": staff_id}).fetchone()
        if taken:
            raise UserError(f"{staff_id} already has a user: {taken[0]!r}")
        con.execute(
            "INSERT INTO users (username, staff_id, name, role, password_hash, created_at, changed_at) "
            "VALUES (:username, :staff_id, :name, :role, :password_hash, :now, :now)",
            {"username": username, "staff_id": staff_id, "name": name, "role": _role(role),
             "password_hash": password_hash, "now": now},
        )  # fmt: skip
    audit.record(db, by, "user_change", f"added user {username} ({staff_id}, {name}) as {role}")
    return find(db, username)


def _change(db: Path, username: str, sets: str, params: dict, *, by: Actor, what: str) -> User:
    with connect(db, SCHEMA) as con:
        changed = con.execute(
            f"UPDATE users SET {sets}, changed_at = :changed_at WHERE {_NAMED}",
            {**params, "changed_at": _now(), "username": username},
        ).rowcount
    if not changed:
        raise UserError(f"there is no user named {username!r}")
    user = find(db, username)
    audit.record(db, by, "user_change", f"{what} of user {user.username} ({user.staff_id})")
    return user


def change_password(db: Path, username: str, password: str, *, by: Actor) -> User:
    """A new password; the user's other sessions end."""
    user = find(db, username)
    if user is None:
        raise UserError(f"there is no user named {username!r}")
    check_new_password(password, user.username, user.staff_id)
    return _change(db, username, "password_hash = :password_hash, session_version = session_version + 1",
                   {"password_hash": _hasher.hash(password)}, by=by, what="changed the password")  # fmt: skip


def end_sessions(db: Path, username: str) -> None:
    """Sign-out: every session of the user ends, a copy of the cookie kept elsewhere too (the session
    lives in a signed cookie, which only a newer session version makes void). The caller audits it."""
    with connect(db, SCHEMA) as con:
        con.execute(f"UPDATE users SET session_version = session_version + 1 WHERE {_NAMED}", {"username": username})


def set_enabled(db: Path, username: str, enabled: bool, *, by: Actor) -> User:
    """Disable (their sessions end at their next request) or enable a user again."""
    if not enabled and _is_last_admin(db, username):
        raise UserError(f"{username} is the only enabled admin: enable or add another admin first")
    bump = "" if enabled else ", session_version = session_version + 1"
    return _change(db, username, f"enabled = :enabled{bump}", {"enabled": enabled}, by=by,
                   what="enabled" if enabled else "disabled")  # fmt: skip


def change_role(db: Path, username: str, role: str, *, by: Actor) -> User:
    """A new role, in force from the user's next request."""
    if role != "admin" and _is_last_admin(db, username):
        raise UserError(f"{username} is the only enabled admin: add another admin first")
    return _change(db, username, "role = :role", {"role": _role(role)}, by=by, what=f"set the role to {role}")


def _is_last_admin(db: Path, username: str) -> bool:
    with reading(db, SCHEMA) as con:
        admins = [u for (u,) in con.execute("SELECT username FROM users WHERE role = 'admin' AND enabled")]
    return len(admins) == 1 and admins[0].lower() == username.lower()
