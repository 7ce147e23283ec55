"""Red-flag notes (docs/metrics.md): session notes that mention swelling, instability, numbness, night pain or a fall.

The word list lives in `data/red_flags.yaml`. It becomes two regular expressions that both DuckDB
(RE2) and Python's `re` read the same way (ASCII word boundaries, no look-behind): one finds the
signs, the other finds signs right after a negation. A note is a red flag when it has more signs
than negated signs, so "no swelling" is not one and "no swelling but numb" is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

RED_FLAGS_FILE = Path(__file__).resolve().parents[1] / "data" / "red_flags.yaml"


@dataclass(frozen=True)
class RedFlagWords:
    signs: dict[str, tuple[str, ...]]  # a sign (e.g. "swelling") and the words that mention it
    negations: tuple[str, ...]

    @property
    def sign_pattern(self) -> str:
        return rf"\b(?:{_alternatives(w for words in self.signs.values() for w in words)})\b"

    @property
    def negated_pattern(self) -> str:
        if not self.negations:
            return r"[^\s\S]"  # matches nothing
        signs = _alternatives(w for words in self.signs.values() for w in words)
        return rf"\b(?:{_alternatives(self.negations)})\s+(?:any\s+|further\s+)?(?:{signs})\b"

    def is_red_flag(self, note: str | None) -> bool:
        if not note:
            return False
        text = note.lower()
        signs = re.findall(self.sign_pattern, text, flags=re.ASCII)
        negated = re.findall(self.negated_pattern, text, flags=re.ASCII)
        return len(signs) > len(negated)

    def signs_in(self, note: str | None) -> list[str]:
        """The signs a note mentions (not negated), in the word list's order, for showing next to it."""
        text = re.sub(self.negated_pattern, " ", (note or "").lower(), flags=re.ASCII)
        return [
            sign
            for sign, words in self.signs.items()
            if re.search(rf"\b(?:{_alternatives(words)})\b", text, flags=re.ASCII)
        ]


def _alternatives(words) -> str:
    # Longest first, and spaces match any run of whitespace ("giving  way").
    return "|".join(re.escape(w.lower()).replace(r"\ ", r"\s+") for w in sorted(set(words), key=lambda w: (-len(w), w)))


@cache
def load_red_flag_words(path: Path | None = None) -> RedFlagWords:
    """The word list at `path`; None (the setting HIPLINE_RED_FLAGS unset): the one hipline ships."""
    path = RED_FLAGS_FILE if path is None else path
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        signs = {str(sign): tuple(str(w) for w in words) for sign, words in raw["signs"].items()}
        negations = tuple(str(w) for w in raw.get("negations") or ())
    except (KeyError, AttributeError, TypeError) as e:
        raise ValueError(f"{path}: expected `signs:` (a sign and its words) and `negations:` (a list)") from e
    if not signs or not all(signs.values()):
        raise ValueError(f"{path}: every sign needs at least one word")
    return RedFlagWords(signs, negations)
