"""One colour per meaning, the same on every chart, in the PDF reports and (mirrored) in the CSS.

Built on the Okabe–Ito palette (Okabe & Ito 2008), which stays distinguishable with the common
colour-vision deficiencies; meanings never rest on red against green alone: good is bluish green,
bad is vermillion or orange, and every chart also says it in words or marker shapes.
Plain constants only: the figure builders copy from them and never change them.
"""

from __future__ import annotations

# Okabe–Ito, by name.
BLUE = "#0072B2"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
YELLOW = "#F0E442"
# Neutrals and two darks the palette lacks: ink and muted match --ink and --muted in hipline.css.
INK = "#1F2933"
MUTED = "#616E7C"
GRID = "#E4E7EB"
GREY_BLUE = "#8899AA"
LIGHT_GREY = "#B8C0C8"
DARK_RED = "#A50F15"
INDIGO = "#332288"  # Paul Tol's colour-blind-safe indigo, for function scores

COLOURS: dict[str, str] = {
    "pain": BLUE,  # session pain points
    "pain_nprs": REDDISH_PURPLE,  # pain from NPRS measures
    "weekly_mean_pain": INK,
    "baseline": MUTED,
    "improvement": BLUISH_GREEN,  # the MCID line: pain at or below it is an important improvement
    "no_change_band": "rgba(136, 153, 170, 0.22)",  # grey-blue, translucent: "no important change"
    "baseline_window": "rgba(97, 110, 124, 0.07)",  # the pain baseline's days (definitions.BASELINE_DAYS)
    "flare": VERMILLION,
    "red_flag": DARK_RED,
    "function": INDIGO,
    "attended": SKY_BLUE,
    "target": INK,
    "adherent": BLUISH_GREEN,  # at least definitions.ADHERENT of target sessions
    "below_target": ORANGE,
    "cohort_a": BLUE,
    "cohort_b": ORANGE,
    "text": INK,
    "muted": MUTED,
    "grid": GRID,
    "missing": LIGHT_GREY,  # an exercise not in the library, a value not recorded
}

# The pain and function statuses of docs/metrics.md.
STATUS_COLOURS: dict[str, str] = {
    "improved": BLUISH_GREEN,
    "worse": VERMILLION,
    "no important change": GREY_BLUE,
    "not enough data": LIGHT_GREY,
}

# The caseload flags of docs/metrics.md, in priority order.
FLAG_COLOURS: dict[str, str] = {
    "refer": DARK_RED,
    "on_hold": INDIGO,
    "pain_worse": VERMILLION,
    "flare": YELLOW,
    "low_adherence": ORANGE,
    "lapsed": REDDISH_PURPLE,
    "plateau": GREY_BLUE,
    "ready_to_progress": BLUISH_GREEN,
}

COHORT_COLOURS: tuple[str, str] = (COLOURS["cohort_a"], COLOURS["cohort_b"])

# Attendance heatmap, share of the weekly target attended (0 → 1): one hue, light to dark (ColorBrewer
# Blues), starting from a grey-blue so a week with no session stands apart from a week not yet reached.
ATTENDANCE_SCALE: list[list[float | str]] = [
    [0.0, "#E3E9EF"],
    [0.25, "#C6DBEF"],
    [0.5, "#6BAED6"],
    [0.75, "#2171B5"],
    [1.0, "#08306B"],
]

# Exercise levels 1 (light) → 6 (dark), ColorBrewer BuPu: a different hue from attendance.
LEVEL_COLOURS: tuple[str, ...] = ("#BFD3E6", "#9EBCDA", "#8C96C6", "#8C6BB1", "#88419D", "#6E016B")
# Levels from this one up are dark enough to need white numbers.
LEVEL_DARK_FROM = 4
# As a colour scale over 0–6: level n sits at n / 6, so each whole level gets exactly its colour;
# 0 is an exercise not in the library.
LEVEL_SCALE: list[list[float | str]] = [
    [i / len(LEVEL_COLOURS), colour] for i, colour in enumerate((LIGHT_GREY, *LEVEL_COLOURS))
]

# The base every figure builder starts from.
LAYOUT: dict = {
    "template": "none",
    "font": {"family": "DejaVu Sans", "size": 12, "color": INK},
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "margin": {"l": 56, "r": 16, "t": 56, "b": 44},
    "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"},
    "hovermode": "x unified",
    "xaxis": {"gridcolor": GRID, "zeroline": False, "linecolor": LIGHT_GREY, "showline": True, "automargin": True},
    "yaxis": {"gridcolor": GRID, "zeroline": False, "linecolor": LIGHT_GREY, "showline": True, "automargin": True},
    "title": {"x": 0, "xanchor": "left", "y": 0.98, "yanchor": "top", "font": {"size": 15}},
}


def translucent(colour: str, alpha: float) -> str:
    """An "rgba(...)" of a "#RRGGBB" colour, for bands drawn in a line's own colour."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"
