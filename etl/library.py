"""The exercise library (docs/recommendations.md): families of exercises, each a ladder of levels.

`data/exercise_library.yaml` is the readable source. Every load writes it into the warehouse as two
tables, so the analytics and anyone with SQL read the same ladders the clinic edits:

    exercise_levels  one row per level: family, level, name, target dose, ceiling, aim, muscles, cues
    exercise_names   every name and alias, normalised, with the level it means

Session logs name exercises in many ways ("Single leg bridge", "single-leg  bridge"); a name is
matched after `name_key` (lower case, runs of spaces, hyphens and underscores made one space).
A name the library does not know is kept in the session log and reported by the load.

A *ladder* is what a recommendation follows: a family's levels in order. Stretches have no ladder
(they are only dosed), so each stretch is its own one-step ladder, keyed by its name.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import yaml

from etl.values import literal

if TYPE_CHECKING:
    import pandas as pd

# PyYAML's C parser when it was built with libyaml (it is here): 5x faster, and every load reads the file.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
LIBRARY_FILE = Path(__file__).resolve().parents[1] / "data" / "exercise_library.yaml"

# The same normalisation in Python and in SQL (a test checks they agree).
_SEPARATORS = r"[\s_\-]+"


def name_key(name: str) -> str:
    return re.sub(_SEPARATORS, " ", name.lower()).strip()


def name_key_sql(column: str) -> str:
    return f"trim(regexp_replace(lower({column}), {literal(_SEPARATORS)}, ' ', 'g'))"


@dataclass(frozen=True)
class Dose:
    sets: int
    reps: int | None = None
    hold_s: int | None = None
    tempo: str | None = None


@dataclass(frozen=True)
class Level:
    family: str
    level: int
    name: str
    aliases: tuple[str, ...]
    dose: Dose
    ceiling: Dose
    each_side: bool
    resistance: str
    aim: str
    muscles: tuple[str, ...]
    cues: tuple[str, ...]


@dataclass(frozen=True)
class Family:
    family: str
    label: str
    stretch: bool
    levels: tuple[Level, ...]


class LibraryError(ValueError):
    """The library file cannot be used; the message says where and why."""


def _dose(raw: dict, where: str) -> Dose:
    dose = Dose(sets=int(raw["sets"]), reps=raw.get("reps"), hold_s=raw.get("hold_s"), tempo=raw.get("tempo"))
    if (dose.reps is None) == (dose.hold_s is None):
        raise LibraryError(f"{where}: a dose has either reps or hold_s, not {raw}")
    return dose


def load_library(path: Path = LIBRARY_FILE) -> dict[str, Family]:
    """Read the library file; families keyed by their id, levels in ladder order. A file read before
    and unchanged since (same size and modification time) is not parsed again: every load reads the
    library, and parsing it took a tenth of a small load."""
    stat = path.stat()
    return dict(_parsed_library(path.resolve(), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)
def _parsed_library(path: Path, _mtime_ns: int, _size: int) -> dict[str, Family]:
    """The library as parsed (its families and levels are frozen, so a copy of the dict is all a caller may change)."""
    raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    families: dict[str, Family] = {}
    for fam in raw["families"]:
        levels = []
        for lv in fam["levels"]:
            where = f"{path.name}: {fam['family']} level {lv.get('level')} ({lv.get('name')})"
            dose, ceiling = _dose(lv["dose"], where), _dose(lv["ceiling"], where)
            if (dose.reps is None) != (ceiling.reps is None):
                raise LibraryError(f"{where}: the dose and its ceiling must both count reps or both hold seconds")
            levels.append(
                Level(
                    family=fam["family"],
                    level=int(lv["level"]),
                    name=lv["name"],
                    aliases=tuple(lv.get("aliases", ())),
                    dose=dose,
                    ceiling=ceiling,
                    each_side=lv.get("side") == "each",
                    resistance=lv.get("resistance", "none"),
                    aim=lv["aim"],
                    muscles=tuple(lv.get("muscles", ())),
                    cues=tuple(lv.get("cues", ())),
                )
            )
        family = Family(fam["family"], fam["label"], bool(fam.get("stretch")), tuple(levels))
        if not family.stretch and [lv.level for lv in levels] != list(range(1, len(levels) + 1)):
            raise LibraryError(f"{path.name}: the levels of {family.family} must be numbered 1, 2, 3 … in order")
        families[family.family] = family
    _check_names_are_unique(families, path)
    return families


def _check_names_are_unique(families: dict[str, Family], path: Path) -> None:
    seen: dict[str, str] = {}
    for family in families.values():
        for level in family.levels:
            for name in (level.name, *level.aliases):
                key, owner = name_key(name), f"{family.family} / {level.name}"
                if seen.get(key, owner) != owner:
                    raise LibraryError(f"{path.name}: the name {name!r} is used by both {seen[key]} and {owner}")
                seen[key] = owner


def ladder_of(level: Level, family: Family) -> str:
    """What a recommendation follows: the family, or for a stretch the stretch itself."""
    return level.name if family.stretch else family.family


def library_rows(families: dict[str, Family]) -> tuple[list[dict], list[dict]]:
    """The rows of `exercise_levels` and `exercise_names` (a name once: its first level)."""
    levels, names = [], []
    for family in families.values():
        top = max(lv.level for lv in family.levels)
        for lv in family.levels:
            ladder = ladder_of(lv, family)
            levels.append(
                {
                    "ladder": ladder,
                    "family": family.family,
                    "family_label": family.label,
                    "stretch": family.stretch,
                    "level": lv.level,
                    "top_level": lv.level if family.stretch else top,
                    "exercise": lv.name,
                    "dose_sets": lv.dose.sets,
                    "dose_reps": lv.dose.reps,
                    "dose_hold_s": lv.dose.hold_s,
                    "ceiling_sets": lv.ceiling.sets,
                    "ceiling_reps": lv.ceiling.reps,
                    "ceiling_hold_s": lv.ceiling.hold_s,
                    "ceiling_tempo": lv.ceiling.tempo,
                    "each_side": lv.each_side,
                    "resistance": lv.resistance,
                    "aim": lv.aim,
                    "muscles": list(lv.muscles),
                    "cues": list(lv.cues),
                }
            )
            for name in dict.fromkeys((lv.name, *lv.aliases)):
                names.append({"name_key": name_key(name), "name": name, "ladder": ladder, "level": lv.level})
    first = {}
    for row in names:
        first.setdefault(row["name_key"], row)
    return levels, list(first.values())


def library_frames(families: dict[str, Family]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same rows as data frames (what the analytics' reference reads)."""
    import pandas as pd

    levels, names = library_rows(families)
    return pd.DataFrame(levels), pd.DataFrame(names)


LEVELS_TABLE = """CREATE OR REPLACE TABLE exercise_levels (
    ladder VARCHAR NOT NULL,        -- the family, or the stretch's own name (stretches have no ladder)
    family VARCHAR NOT NULL,
    family_label VARCHAR NOT NULL,
    stretch BOOLEAN NOT NULL,
    level INTEGER NOT NULL,
    top_level INTEGER NOT NULL,     -- the ladder's hardest level
    exercise VARCHAR NOT NULL,      -- the level's name
    dose_sets INTEGER NOT NULL,     -- the target dose: sets x reps, or sets x hold_s seconds
    dose_reps INTEGER,
    dose_hold_s INTEGER,
    ceiling_sets INTEGER NOT NULL,  -- the dose at which the level is complete
    ceiling_reps INTEGER,
    ceiling_hold_s INTEGER,
    ceiling_tempo VARCHAR,          -- the slower tempo that is the last dose step, when the level has one
    each_side BOOLEAN NOT NULL,
    resistance VARCHAR NOT NULL,
    aim VARCHAR,
    muscles VARCHAR[],
    cues VARCHAR[]
)"""
NAMES_TABLE = """CREATE OR REPLACE TABLE exercise_names (
    name_key VARCHAR NOT NULL,      -- the name as name_key() normalises it
    name VARCHAR NOT NULL,
    ladder VARCHAR NOT NULL,
    level INTEGER NOT NULL
)"""


# The fingerprint of the library the exposures were matched with (write_library).
LIBRARY_VERSION_TABLE = "CREATE TABLE IF NOT EXISTS exercise_library_version (fingerprint VARCHAR)"


def write_library(con: duckdb.DuckDBPyConnection, families: dict[str, Family]) -> None:
    """Replace the warehouse's copy of the library (inside the load's staging copy, before the swap).

    When the library changed since the last load (a new alias, another ladder), the exposures were
    matched with the old one: `exposure_summary` is emptied, and this load aggregates it whole again."""
    levels, names = library_rows(families)
    fingerprint = hashlib.sha256(json.dumps([levels, names], ensure_ascii=False).encode("utf-8")).hexdigest()
    con.execute(LIBRARY_VERSION_TABLE)
    held = con.execute(
        """SELECT (SELECT list(fingerprint) FROM exercise_library_version),
                  (SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()
                   AND schema_name = 'main' AND table_name IN ('exercise_levels', 'exercise_names'))"""
    ).fetchall()[0]
    if held == ([fingerprint], 2):
        return  # the warehouse holds this library already
    con.execute("DELETE FROM exposure_summary")
    con.execute("DELETE FROM exercise_library_version")
    con.execute("INSERT INTO exercise_library_version VALUES (?)", [fingerprint])
    con.execute(LEVELS_TABLE)
    con.execute(NAMES_TABLE)
    # One statement per table, its values bound as parameters: executemany would run one statement per row
    # (0.1 s a load), and registering a data frame or an Arrow table makes DuckDB import pandas, a third of
    # a small load's process.
    for table, rows in (("exercise_levels", levels), ("exercise_names", names)):
        columns = list(rows[0])
        one = "(" + ", ".join("?" * len(columns)) + ")"
        con.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))}",
            [row[c] for row in rows for c in columns],
        )


def unknown_exercise_names(con: duckdb.DuckDBPyConnection, where: str = "TRUE", params=None) -> list[tuple[str, int]]:
    """Exercise names of loaded session-log rows the library does not know, with their row counts."""
    return con.execute(
        f"""WITH used AS (
                SELECT exercise, count(*) AS rows FROM session_log_rows
                WHERE reason IS NULL AND exercise IS NOT NULL AND ({where})
                GROUP BY exercise
            )
            SELECT exercise, rows FROM used
            WHERE {name_key_sql("exercise")} NOT IN (SELECT name_key FROM exercise_names)
            ORDER BY rows DESC, exercise""",
        params or [],
    ).fetchall()
