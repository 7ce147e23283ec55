"""Every setting of hipline in one place, read from the environment with defaults that work on a laptop.

Command-line options override these. The README's "Settings" table lists each of them; a test
fails when one is missing there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    db: Path = field(default=Path("data/hipline.duckdb"), metadata={"env": "HIPLINE_DB", "doc": "the warehouse file"})
    date_order: str = field(
        default="dmy",
        metadata={
            "env": "HIPLINE_DATE_ORDER",
            "doc": "how slashed dates are read: dmy (03/04 = 3 April) or mdy",
        },
    )
    memory_limit: str = field(
        default="1500MB", metadata={"env": "HIPLINE_MEMORY_LIMIT", "doc": "DuckDB memory limit while loading"}
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        values = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw:
                values[f.name] = Path(raw) if "Path" in str(f.type) else raw
        settings = cls(**values)
        if settings.date_order not in ("dmy", "mdy"):
            raise ValueError(f"HIPLINE_DATE_ORDER must be dmy or mdy, not {settings.date_order!r}")
        return settings


def documented_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, meaning) of every setting."""
    return [(f.metadata["env"], str(f.default), f.metadata["doc"]) for f in fields(Settings)]
