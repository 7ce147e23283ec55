"""PostgreSQL, a clinic network's system of record (docs/deployment.md): connections and the schema's
migrations.

The schema is the numbered SQL files of etl/migrations (`0001_records.sql`, `0002_...`), applied in
order, each in one transaction with its number recorded in `schema_migrations`; `hipline db upgrade`
applies those not yet applied. A file once released is never edited: a change is a new file. Two hosts
upgrading at once take turns (an advisory lock), so each file runs exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS = Path(__file__).parent / "migrations"
UPGRADE_LOCK = 0x68697000  # "hip" 0: the advisory lock two upgrades take turns on
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    path: Path


def migrations(folder: Path = MIGRATIONS) -> list[Migration]:
    """The migration files in order; a ValueError for a misnamed file or a number used twice."""
    found: dict[int, Migration] = {}
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise ValueError(f"{path.name}: a migration is named NNNN_words.sql")
        number = int(match.group(1))
        if number in found:
            raise ValueError(f"{path.name} and {found[number].path.name} have the same number")
        found[number] = Migration(number, match.group(2), path)
    return [found[n] for n in sorted(found)]


def connect(url: str, **options):
    """A psycopg connection to `url` (postgresql://user:password@host:port/database)."""
    import psycopg

    return psycopg.connect(url, **options)


def applied(url: str) -> list[int]:
    """The numbers of the migrations applied to the database at `url`."""
    with connect(url) as con:
        exists = con.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
        if not exists:
            return []
        return [n for (n,) in con.execute("SELECT number FROM schema_migrations ORDER BY number")]


def upgrade(url: str, folder: Path = MIGRATIONS) -> list[Migration]:
    """Apply the migrations the database lacks, in order, each in one transaction; the ones applied."""
    done: list[Migration] = []
    with connect(url, autocommit=True) as con:
        con.execute("SELECT pg_advisory_lock(%s)", [UPGRADE_LOCK])
        try:
            con.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       number integer PRIMARY KEY,
                       name text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now()
                   )"""
            )
            have = {n for (n,) in con.execute("SELECT number FROM schema_migrations")}
            for migration in migrations(folder):
                if migration.number in have:
                    continue
                with con.transaction():
                    con.execute(migration.path.read_text())
                    con.execute(
                        "INSERT INTO schema_migrations (number, name) VALUES (%s, %s)",
                        [migration.number, migration.name],
                    )
                done.append(migration)
        finally:
            con.execute("SELECT pg_advisory_unlock(%s)", [UPGRADE_LOCK])
    return done


def missing(url: str, folder: Path = MIGRATIONS) -> list[Migration]:
    """The migrations not yet applied: a host refuses to serve a database that lacks some."""
    have = set(applied(url))
    return [m for m in migrations(folder) if m.number not in have]
