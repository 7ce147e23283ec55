"""Every setting of hipline in one place, with defaults that work on a laptop, each written once.

Plain values, no I/O: only the edge reads the environment (hipline.cli's `main`, once, with
`Settings.from_env`), and the settings are handed down from there: to the loader, to the pages
through `dashboard.app.create_app`, to the reports. Command-line options override them. The README's
"Settings" table lists each of them; a test fails when one is missing there.

In etl, the bottom layer, so that every layer handed them may import them (the pages, the reports and
the command), while this module imports nothing of hipline's above etl.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

from etl.sniff import MAX_UPLOAD_MB
from etl.values import DateOrder

# "today" pinned to the newest session's date (analytics.today applies it).
NEWEST = "newest"
DATE_ORDER: DateOrder = "dmy"  # how slashed dates are read, unless a load is told otherwise
MEMORY_LIMIT = "1500MB"  # DuckDB's memory limit while loading
MAX_CELL_CHARS = 10_000  # the longest cell a row may have (a note of a few pages); a longer one quarantines its row
# How long a sign-in lasts (docs/security.md): a working day, unless the clinic says otherwise; signing out, a
# new password or being disabled ends it sooner.
SESSION_HOURS = 10.0


@dataclass(frozen=True)
class Settings:
    db: Path = field(default=Path("data/hipline.duckdb"), metadata={"env": "HIPLINE_DB", "doc": "the warehouse file"})
    date_order: str = field(
        default=DATE_ORDER,
        metadata={
            "env": "HIPLINE_DATE_ORDER",
            "doc": "how slashed dates are read: dmy (03/04 = 3 April) or mdy",
        },
    )
    memory_limit: str = field(
        default=MEMORY_LIMIT, metadata={"env": "HIPLINE_MEMORY_LIMIT", "doc": "DuckDB memory limit while loading"}
    )
    max_cell_chars: int = field(
        default=MAX_CELL_CHARS,
        metadata={
            "env": "HIPLINE_MAX_CELL_CHARS",
            "doc": "the most characters a cell of a loaded file may hold; a row with a longer cell is quarantined",
        },
    )
    today: date | str | None = field(
        default=None,
        metadata={
            "env": "HIPLINE_TODAY",
            "doc": "the day the numbers are for: empty = the current date; newest = the newest session's date "
            "(the demo's, so it never goes stale); or a fixed date, YYYY-MM-DD. Each command's --today overrides it",
        },
    )
    demo_dir: Path = field(
        default=Path("data/demo"),
        metadata={"env": "HIPLINE_DEMO_DIR", "doc": "where `hipline demo` keeps its files"},
    )
    red_flags: Path | None = field(
        default=None,
        metadata={
            "env": "HIPLINE_RED_FLAGS",
            "doc": "a YAML word list of red-flag signs for session notes (default: data/red_flags.yaml)",
        },
    )
    secret_key: str | None = field(
        default=None,
        metadata={
            "env": "HIPLINE_SECRET_KEY",
            "doc": "signs the session cookies; by default a random key kept in the records beside the warehouse "
            "(set the same one on every web host of a clinic network)",
        },
    )
    https: bool = field(
        default=False,
        metadata={
            "env": "HIPLINE_HTTPS",
            "doc": "1 when a reverse proxy serves the pages over HTTPS: Secure cookies, HSTS, and the browser's "
            "address from the proxy's X-Forwarded-For",
        },
    )
    session_hours: float = field(
        default=SESSION_HOURS,
        metadata={"env": "HIPLINE_SESSION_HOURS", "doc": "hours a sign-in lasts (a working day)"},
    )
    max_upload_mb: int = field(
        default=MAX_UPLOAD_MB,
        metadata={"env": "HIPLINE_MAX_UPLOAD_MB", "doc": "the most one upload on the import page may hold, in MB"},
    )

    database_url: str | None = field(
        default=None,
        metadata={
            "env": "HIPLINE_DATABASE_URL",
            "doc": "empty: one machine (the warehouse file and the records beside it); "
            "postgresql://user:password@host/db: a clinic network's system of record (docs/deployment.md)",
        },
    )
    redis_url: str | None = field(
        default=None,
        metadata={
            "env": "HIPLINE_REDIS_URL",
            "doc": "redis://...: what the web hosts of a clinic network share (sign-in limits, the caseload zip); "
            "empty: kept by each process (one machine)",
        },
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """The settings `env` (the process's environment, read by the edge alone) gives, else the defaults;
        a ValueError that says what is expected when a value cannot be read."""
        values = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw:
                values[f.name] = _typed(f.metadata["env"], str(f.type), raw)
        settings = cls(**values)
        if settings.date_order not in ("dmy", "mdy"):
            raise ValueError(f"HIPLINE_DATE_ORDER must be dmy or mdy, not {settings.date_order!r}")
        return settings


def _typed(name: str, kind: str, raw: str):
    """An environment variable's text as its setting's type, or a ValueError that says what is expected."""
    if "Path" in kind:
        return Path(raw)
    if "date" in kind:
        return parse_today(raw, name)
    if kind == "bool":
        if raw.strip().lower() not in ("1", "true", "yes", "0", "false", "no"):
            raise ValueError(f"{name}={raw!r}: expected 1 (yes) or 0 (no)")
        return raw.strip().lower() in ("1", "true", "yes")
    if kind in ("int", "float"):
        try:
            value = int(raw) if kind == "int" else float(raw)
        except ValueError:
            value = 0
        if value <= 0:
            raise ValueError(f"{name}={raw!r}: expected a positive {'whole ' if kind == 'int' else ''}number")
        return value
    return raw


def parse_today(text: str, name: str = "HIPLINE_TODAY") -> date | str | None:
    """What a "today" setting or `--today` says (analytics.today applies it): None (empty: the current
    date), "newest" (the newest session's date) or a date."""
    text = text.strip()
    if not text:
        return None
    if text.lower() == NEWEST:
        return NEWEST
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{name}={text!r}: expected newest (the newest session's date), a date as YYYY-MM-DD, "
            "or nothing (the current date)"
        ) from None


def documented_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, meaning) of every setting."""
    return [(f.metadata["env"], str(f.default), f.metadata["doc"]) for f in fields(Settings)]
