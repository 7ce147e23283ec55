"""Outcome instruments (SPEC §1): valid range, which direction is better, and accepted names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    code: str
    label: str
    low: float
    high: float
    higher_is_better: bool
    synonyms: tuple[str, ...] = ()


# Ranges are the instruments' own; performance tests have no fixed maximum, so the upper bound
# is the most a person could plausibly record (a typing error beyond it is quarantined).
INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("NPRS", "Pain (NPRS 0–10)", 0, 10, False, ("NRS", "PAIN_NRS", "NUMERIC_PAIN_RATING_SCALE", "PAIN")),
    Instrument(
        "ODI",
        "Oswestry Disability Index",
        0,
        100,
        False,
        ("OSWESTRY", "OSWESTRY_DISABILITY_INDEX", "ODI_2_1A"),
    ),
    Instrument("LEFS", "Lower Extremity Functional Scale", 0, 80, True, ("LOWER_EXTREMITY_FUNCTIONAL_SCALE",)),
    Instrument("PSFS", "Patient-Specific Functional Scale", 0, 10, True, ("PATIENT_SPECIFIC_FUNCTIONAL_SCALE",)),
    Instrument("HOOS_JR", "HOOS, JR.", 0, 100, True, ("HOOSJR", "HOOS_JR_INTERVAL")),
    Instrument("KOOS_JR", "KOOS, JR.", 0, 100, True, ("KOOSJR", "KOOS_JR_INTERVAL")),
    Instrument("SLS_S", "Single-leg stance (s)", 0, 300, True, ("SLS", "SINGLE_LEG_STANCE")),
    Instrument("SLS_S_L", "Single-leg stance, left (s)", 0, 300, True, ("SLS_L", "SLS_LEFT", "SLS_S_LEFT")),
    Instrument("SLS_S_R", "Single-leg stance, right (s)", 0, 300, True, ("SLS_R", "SLS_RIGHT", "SLS_S_RIGHT")),
    Instrument(
        "CST30",
        "30-second chair stand (stands)",
        0,
        60,
        True,
        ("30S_CST", "30CST", "CST", "CHAIR_STAND_30S", "30_SECOND_CHAIR_STAND"),
    ),
    Instrument("TUG_S", "Timed up and go (s)", 1, 300, False, ("TUG", "TIMED_UP_AND_GO")),
)
INSTRUMENT_LABELS: dict[str, str] = {i.code: i.label for i in INSTRUMENTS}
HIGHER_IS_BETTER: dict[str, bool] = {i.code: i.higher_is_better for i in INSTRUMENTS}

# Instruments scored from item responses (SPEC §1).
ODI_SECTIONS, ODI_SECTION_MAX = 10, 5
LEFS_ITEMS, LEFS_ITEM_MAX = 20, 4
PSFS_MIN_ACTIVITIES, PSFS_MAX_ACTIVITIES = 3, 5
