"""The exercise library (SPEC §3): families of exercises, each a ladder of levels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

LIBRARY_FILE = Path(__file__).resolve().parents[1] / "data" / "exercise_library.yaml"


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


def _dose(raw: dict) -> Dose:
    return Dose(sets=int(raw["sets"]), reps=raw.get("reps"), hold_s=raw.get("hold_s"), tempo=raw.get("tempo"))


def load_library(path: Path = LIBRARY_FILE) -> dict[str, Family]:
    """Read the library file; families keyed by their id, levels in ladder order."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    families: dict[str, Family] = {}
    for fam in raw["families"]:
        levels = tuple(
            Level(
                family=fam["family"],
                level=int(lv["level"]),
                name=lv["name"],
                aliases=tuple(lv.get("aliases", ())),
                dose=_dose(lv["dose"]),
                ceiling=_dose(lv["ceiling"]),
                each_side=lv.get("side") == "each",
                resistance=lv.get("resistance", "none"),
                aim=lv["aim"],
                muscles=tuple(lv.get("muscles", ())),
                cues=tuple(lv.get("cues", ())),
            )
            for lv in fam["levels"]
        )
        families[fam["family"]] = Family(fam["family"], fam["label"], bool(fam.get("stretch")), levels)
    return families
