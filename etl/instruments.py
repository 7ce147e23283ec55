"""Outcome instruments (docs/input-formats.md): valid range, which direction is better, and accepted names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    code: str
    name: str  # as a clinician says it
    unit: str  # what a score counts: seconds, stands, or a questionnaire's range
    low: float
    high: float
    higher_is_better: bool
    synonyms: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The name with its unit, as every chart, table and report shows it: "Timed Up and Go (s)"."""
        return f"{self.name} ({self.unit})"


# Ranges are the instruments' own; performance tests have no fixed maximum, so the upper bound
# is the most a person could plausibly record (a typing error beyond it is quarantined).
INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("NPRS", "Pain", "NPRS 0–10", 0, 10, False, ("NRS", "PAIN_NRS", "NUMERIC_PAIN_RATING_SCALE", "PAIN")),
    Instrument(
        "ODI",
        "Oswestry Disability Index",
        "0–100",
        0,
        100,
        False,
        ("OSWESTRY", "OSWESTRY_DISABILITY_INDEX", "ODI_2_1A"),
    ),
    Instrument("LEFS", "Lower Extremity Functional Scale", "0–80", 0, 80, True, ("LOWER_EXTREMITY_FUNCTIONAL_SCALE",)),
    Instrument(
        "PSFS", "Patient-Specific Functional Scale", "0–10", 0, 10, True, ("PATIENT_SPECIFIC_FUNCTIONAL_SCALE",)
    ),
    Instrument("HOOS_JR", "HOOS JR", "0–100", 0, 100, True, ("HOOSJR", "HOOS_JR_INTERVAL")),
    Instrument("KOOS_JR", "KOOS JR", "0–100", 0, 100, True, ("KOOSJR", "KOOS_JR_INTERVAL")),
    Instrument("SLS_S", "Single-leg stance", "s", 0, 300, True, ("SLS", "SINGLE_LEG_STANCE")),
    Instrument("SLS_S_L", "Single-leg stance, left", "s", 0, 300, True, ("SLS_L", "SLS_LEFT", "SLS_S_LEFT")),
    Instrument("SLS_S_R", "Single-leg stance, right", "s", 0, 300, True, ("SLS_R", "SLS_RIGHT", "SLS_S_RIGHT")),
    Instrument(
        "CST30",
        "30-second chair stand",
        "stands",
        0,
        60,
        True,
        ("30S_CST", "30CST", "CST", "CHAIR_STAND_30S", "30_SECOND_CHAIR_STAND"),
    ),
    Instrument("TUG_S", "Timed Up and Go", "s", 1, 300, False, ("TUG", "TIMED_UP_AND_GO")),
)
INSTRUMENT_LABELS: dict[str, str] = {i.code: i.label for i in INSTRUMENTS}
HIGHER_IS_BETTER: dict[str, bool] = {i.code: i.higher_is_better for i in INSTRUMENTS}
BY_CODE: dict[str, Instrument] = {i.code: i for i in INSTRUMENTS}


def instrument_name(code: str) -> str:
    """What a clinician calls the instrument ("Timed Up and Go"); an unknown code is shown as it is."""
    known = BY_CODE.get(code)
    return known.name if known else code


def instrument_label(code: str) -> str:
    """The instrument's name with its unit ("Timed Up and Go (s)"); an unknown code is shown as it is."""
    return INSTRUMENT_LABELS.get(code, code)


# Instruments scored from item responses (docs/input-formats.md).
ODI_SECTIONS, ODI_SECTION_MAX = 10, 5
LEFS_ITEMS, LEFS_ITEM_MAX = 20, 4
PSFS_MIN_ACTIVITIES, PSFS_MAX_ACTIVITIES = 3, 5
