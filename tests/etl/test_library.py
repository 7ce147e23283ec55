"""The exercise library (docs/recommendations.md): the file, its copy in the warehouse, and how log names find a
level."""

from __future__ import annotations

import duckdb
import pytest

from etl.library import LIBRARY_FILE, LibraryError, load_library, name_key, name_key_sql
from tests.conftest import SESSION_HEADER, load_files, query, write

# docs/recommendations.md's table, easiest to hardest, in the library's own words.
DOCUMENTED_LADDERS = {
    "bridge": ["supine pelvic tilt", "bridge", "bridge with slow tempo", "bridge march", "single-leg bridge",
               "bridge with band around knees"],
    "clamshell": ["clamshell", "clamshell with isometric hold", "clamshell with band", "side-lying leg lift with pause",
                  "side-lying leg lift with band"],
    "single_leg_stance": ["single-leg stance two hands on a chair", "single-leg stance one hand on a chair",
                          "single-leg stance no support", "single-leg stance eyes closed or soft surface",
                          "standing spiral"],
    "trunk_control": ["dead bug arms only", "dead bug legs only", "dead bug opposite arm and leg", "plank on knees",
                      "plank with leg extension"],
    "hip_mobility": ["leg slides", "hip circles", "90/90 hip rotations", "single-leg circles", "figure-of-8s",
                     "leg sweeps"],
    "hinge_lift": ["hip hinge with dowel", "hinge to controlled squat", "hinge squat and rotate",
                   "hinge squat and rotate with light load"],
    "gait": ["heel-to-toe rock", "weight shift with single-leg lift", "marching with level pelvis",
             "step-ups onto a curb"],
    "rotation": ["half-kneeling rotation", "half-kneeling anti-rotation with light band", "standing spiral with band"],
    "stretches": ["hip-flexor stretch", "hamstring stretch", "glute release"],
}  # fmt: skip


def test_the_library_holds_every_ladder_of_the_spec_in_order():
    library = load_library()
    assert {family: [lv.name for lv in f.levels] for family, f in library.items()} == DOCUMENTED_LADDERS
    assert library["stretches"].stretch and not any(f.stretch for k, f in library.items() if k != "stretches")


def test_every_level_has_a_dose_a_ceiling_above_it_cues_an_aim_and_muscles():
    for family in load_library().values():
        for lv in family.levels:
            assert lv.cues and lv.aim and lv.muscles, lv.name
            assert lv.ceiling.sets >= lv.dose.sets
            assert (lv.ceiling.reps or lv.ceiling.hold_s) > (lv.dose.reps or lv.dose.hold_s), lv.name


def test_the_seed_guidance_is_in_the_cues():
    cues = " ".join(c.lower() for f in load_library().values() for lv in f.levels for c in lv.cues)
    for guidance in ("pelvis level", "minimal lumbar movement", "second toe", "exhale"):
        assert guidance in cues, guidance


@pytest.mark.parametrize(
    "name", ["Single-Leg  Bridge", "single_leg_bridge", " single leg bridge ", "SINGLE-LEG-BRIDGE", "Glute bridge"]
)
def test_a_name_is_matched_whatever_its_case_spaces_and_hyphens(name):
    con = duckdb.connect()
    assert con.execute(f"SELECT {name_key_sql('?')}", [name]).fetchall()[0][0] == name_key(name)


def test_a_name_used_twice_is_refused_with_both_owners(tmp_path):
    broken = tmp_path / "library.yaml"
    broken.write_text(
        LIBRARY_FILE.read_text(encoding="utf-8").replace(
            "aliases: [clam shell, clams,", "aliases: [glute bridge, clams,"
        )
    )
    with pytest.raises(LibraryError, match="'glute bridge' is used by both bridge / bridge and clamshell / clamshell"):
        load_library(broken)


def test_every_load_copies_the_library_into_the_warehouse(loaded_roster):
    levels = query(loaded_roster, "SELECT ladder, level, exercise, dose_sets, ceiling_tempo FROM exercise_levels")
    assert len(levels) == sum(len(f.levels) for f in load_library().values())
    assert ("bridge", 6, "bridge with band around knees", 2, "3-2-3") in levels
    assert ("hamstring stretch", 1, "hamstring stretch", 2, None) in levels  # each stretch is its own ladder
    assert query(loaded_roster, "SELECT ladder, level FROM exercise_names WHERE name_key = 'pallof press'") == [
        ("rotation", 2)
    ]


def test_an_unknown_exercise_is_kept_and_the_load_reports_it(loaded_roster, tmp_path):
    rows = [
        "C-1,2026-06-01,yes,studio,Foam roller release,,1,,60,,,2,2,,,,,,",
        "C-1,2026-06-01,yes,studio,Foam roller release,,1,,60,,,2,2,,,,,,",  # an exact duplicate: quarantined
        "C-1,2026-06-02,yes,studio,foam roller release,,1,,60,,,2,2,,,,,,",
        "C-1,2026-06-02,yes,studio,bridge,,2,,10,,,2,2,,,,,,",
        "C-1,2026-06-02,yes,studio,wall sit,,2,,30,,,2,2,,,,,,",
    ]
    report = load_files(loaded_roster, write(tmp_path, "june.csv", SESSION_HEADER + "\n" + "\n".join(rows) + "\n"))
    (file,) = report.files
    assert (file.rows_read, file.rows_loaded, file.rows_quarantined) == (5, 4, 1)
    assert file.unknown_exercises == {"Foam roller release": 1, "foam roller release": 1, "wall sit": 1}
    assert "kept exercise names the library does not know: 'Foam roller release' (1 row)" in file.note
    assert query(loaded_roster, "SELECT count(*) FROM session_log WHERE exercise ILIKE 'foam roller release'") == [(2,)]
