"""Outcome measures every ~4 weeks, fitting the region, moving with the client's pain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Instruments by region (docs/input-formats.md): ODI for the back, LEFS or KOOS_JR for the knee, HOOS_JR or LEFS
# for the hip; PSFS, NPRS and a performance test for everyone.
REGION_INSTRUMENTS = {
    "low_back": [["ODI"]],
    "knee": [["LEFS"], ["KOOS_JR"]],
    "hip": [["HOOS_JR"], ["LEFS"]],
    "other": [[]],
}
PERFORMANCE_TESTS = {
    "knee": [["CST30"]],
    "hip": [["SLS_S_L", "SLS_S_R"], ["TUG_S"]],
    "low_back": [["TUG_S"]],
    "other": [["CST30"]],
}


@dataclass
class Measure:
    client: int
    day: int
    instrument: str
    score: float | None
    items: list[float | None] | None


def odi_items(rng: np.random.Generator, score: float) -> list[float | None]:
    """Ten sections 0-5 whose ODI is close to `score`; sometimes one section is left blank."""
    total = round(score / 2)
    items = np.zeros(10, dtype=int)
    for _ in range(min(total, 50)):
        open_sections = np.flatnonzero(items < 5)
        items[rng.choice(open_sections)] += 1
    answers: list[float | None] = [float(v) for v in items]
    if rng.random() < 0.15:
        answers[int(rng.integers(0, 10))] = None
    return answers


def lefs_items(rng: np.random.Generator, score: float) -> list[float | None]:
    total = round(score)
    items = np.zeros(20, dtype=int)
    for _ in range(min(total, 80)):
        items[rng.choice(np.flatnonzero(items < 4))] += 1
    return [float(v) for v in items]


def client_measures(
    rng: np.random.Generator,
    client: int,
    region: str,
    n_days: int,
    pain: np.ndarray,
    engaged_days: int,
) -> list[Measure]:
    """Measures at intake and about every 4 weeks while the client is engaged."""
    if rng.random() < 0.05:  # some clients never complete a measure
        return []
    instruments = REGION_INSTRUMENTS[region][int(rng.integers(len(REGION_INSTRUMENTS[region])))]
    tests = PERFORMANCE_TESTS[region][int(rng.integers(len(PERFORMANCE_TESTS[region])))]
    baseline_pain = max(pain[0], 0.5)
    base = {
        "ODI": rng.uniform(22, 50),
        "LEFS": rng.uniform(28, 52),
        "KOOS_JR": rng.uniform(45, 65),
        "HOOS_JR": rng.uniform(45, 65),
        "PSFS": rng.uniform(2.5, 5),
        "CST30": rng.uniform(7, 12),
        "TUG_S": rng.uniform(9, 14),
        "SLS_S_L": rng.uniform(4, 18),
        "SLS_S_R": rng.uniform(6, 22),
    }
    gain = {
        "ODI": -rng.uniform(10, 26),
        "LEFS": rng.uniform(8, 22),
        "KOOS_JR": rng.uniform(10, 26),
        "HOOS_JR": rng.uniform(12, 30),
        "PSFS": rng.uniform(1.5, 4),
        "CST30": rng.uniform(1, 6),
        "TUG_S": -rng.uniform(0.5, 3),
        "SLS_S_L": rng.uniform(2, 20),
        "SLS_S_R": rng.uniform(2, 20),
    }
    ranges = {
        "ODI": (0, 100),
        "LEFS": (0, 80),
        "KOOS_JR": (0, 100),
        "HOOS_JR": (0, 100),
        "PSFS": (0, 10),
        "CST30": (0, 40),
        "TUG_S": (4, 60),
        "SLS_S_L": (0, 60),
        "SLS_S_R": (0, 60),
    }
    out: list[Measure] = []
    last = min(n_days, engaged_days)
    day = int(rng.integers(0, 3))
    while day < last:
        # How far pain has come down since intake drives how far function has come up.
        recovered = float(np.clip((baseline_pain - pain[day]) / baseline_pain, -0.6, 1.0))
        out.append(Measure(client, day, "NPRS", round(float(np.clip(pain[day] + rng.normal(0, 0.5), 0, 10)), 1), None))
        for name in [*instruments, "PSFS", *tests]:
            lo, hi = ranges[name]
            value = float(np.clip(base[name] + gain[name] * recovered + rng.normal(0, abs(gain[name]) * 0.1), lo, hi))
            out.append(_scored(rng, client, day, name, value))
        day += int(rng.integers(25, 32))
    return out


def _scored(rng: np.random.Generator, client: int, day: int, name: str, value: float) -> Measure:
    """Some instruments arrive as item responses, some as a score, some as both."""
    if name == "ODI" and rng.random() < 0.7:
        items = odi_items(rng, value)
        answered = [v for v in items if v is not None]
        score = round(sum(answered) / (5 * len(answered)) * 100, 1)
        return Measure(client, day, name, score if rng.random() < 0.5 else None, items)
    if name == "LEFS" and rng.random() < 0.6:
        items = lefs_items(rng, value)
        return Measure(client, day, name, sum(items) if rng.random() < 0.5 else None, items)
    if name == "PSFS":
        ratings = [float(np.clip(round(value + rng.normal(0, 1)), 0, 10)) for _ in range(int(rng.integers(3, 6)))]
        return Measure(client, day, name, None, ratings)
    if name in ("CST30",):
        return Measure(client, day, name, float(round(value)), None)
    return Measure(client, day, name, round(value, 1), None)
