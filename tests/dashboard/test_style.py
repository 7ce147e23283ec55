"""One colour per meaning: the stylesheet and the grid's sparkline use the charts' palette."""

from __future__ import annotations

import re
from pathlib import Path

from presentation.palette import COLOURS, FLAG_COLOURS

ASSETS = Path(__file__).parents[2] / "dashboard" / "assets"


def test_the_flag_badges_have_the_flag_colours_of_the_charts():
    css = (ASSETS / "hipline.css").read_text()
    declared = dict(re.findall(r"--flag-([a-z_]+):\s*(#[0-9a-fA-F]{6})", css))
    assert {flag: colour.lower() for flag, colour in declared.items()} == {
        flag: colour.lower() for flag, colour in FLAG_COLOURS.items()
    }


def test_the_pain_sparkline_is_drawn_in_the_pain_colour():
    script = (ASSETS / "dashAgGridComponentFunctions.js").read_text()
    assert COLOURS["pain"] in script


def test_nothing_is_fetched_from_another_site():
    for path in ASSETS.iterdir():
        if path.suffix in (".css", ".js"):
            assert not re.search(r"https?://", path.read_text()), path.name
