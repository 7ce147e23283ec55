"""Property: whatever a session-log file holds, every row read is loaded or quarantined, once."""

from __future__ import annotations

import csv
import io
import itertools
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CLIENTS_CSV, COHORTS_CSV, SESSION_HEADER, STAFF_CSV, load_files, query, write

COLUMNS = SESSION_HEADER.split(",")
# Any text a person could type, with line breaks; not a lone carriage return, which every CSV reader
# (Excel included) takes for the end of a line unless it is quoted.
WEIRD_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=12)
CELLS = {
    "client_id": st.sampled_from(["C-1", "C-2", "C-3", "C-404", "", " C-1 ", "n/a"]),
    "session_date": st.sampled_from(["2026-06-01", "02/06/2026", "31/02/2026", "2026-07-30", "2026-01-01", "", "soon"]),
    "attended": st.sampled_from(["yes", "no", "Y", "DNA", "maybe", ""]),
    "session_type": st.sampled_from(["studio", "home", "Clinic", "class", "pool", ""]),
    "exercise": st.one_of(st.sampled_from(["bridge", "clamshell", "dead bug arms only"]), WEIRD_TEXT),
    "level": st.sampled_from(["1", "2", "L3", "0", "x", ""]),
    "sets": st.sampled_from(["2", "3", "-1", "2.5", "x", ""]),
    "reps": st.sampled_from(["10", "8", "-3", "ten", ""]),
    "hold_s": st.sampled_from(["10", "20,5", "-1", ""]),
    "resistance": st.sampled_from(["none", "red band", "2kg", "purple", ""]),
    "side": st.sampled_from(["L", "R", "both", "left", "up", ""]),
    "pain_before": st.sampled_from(["0", "3", "4,5", "11", "-1", "3.3", ""]),
    "pain_during": st.sampled_from(["0", "3", "4.5", "11", "x", ""]),
    "pain_after": st.sampled_from(["2", "10", "n/a", ""]),
    "pain_next_day": st.sampled_from(["3", "7", "12", ""]),
    "rpe": st.sampled_from(["5", "7.5", "11", ""]),
    "form": st.sampled_from(["good", "fair", "poor", "great", ""]),
    "notes": st.one_of(st.just(""), WEIRD_TEXT, st.sampled_from(["=SUM(A1)", "+1 set", "-ve", '"quoted"', "a;b,c|d"])),
    "staff_id": st.sampled_from(["S-1", "S-2", "S-9", ""]),
}
ROW = st.fixed_dictionaries(CELLS)
LINE = st.one_of(ROW.map(lambda r: ("row", r)), st.just(("blank", None)), ROW.map(lambda r: ("too_many", r)))
counter = itertools.count()
ROSTER = {"staff.csv": STAFF_CSV, "cohorts.csv": COHORTS_CSV, "clients.csv": CLIENTS_CSV}


@pytest.fixture(scope="module")
def roster_warehouse(tmp_path_factory) -> Path:
    """A warehouse holding the roster only: each example starts from a copy (the same roster every time)."""
    folder = tmp_path_factory.mktemp("roster")
    db = folder / "hipline.duckdb"
    load_files(db, *(write(folder, name, text) for name, text in ROSTER.items()))
    return db


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(LINE, min_size=1, max_size=40),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    duplicate_first=st.booleans(),
    line_end=st.sampled_from(["\n", "\r\n"]),
)
def test_rows_read_equal_rows_loaded_plus_rows_quarantined(
    tmp_path_factory, roster_warehouse, lines, delimiter, encoding, duplicate_first, line_end
):
    folder = tmp_path_factory.mktemp(f"messy{next(counter)}")
    db = folder / "hipline.duckdb"
    shutil.copyfile(roster_warehouse, db)

    if duplicate_first and lines[0][0] == "row":
        lines = [*lines, lines[0]]
    records = [line for line in lines if line[0] != "blank"]
    if not records:
        return
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(COLUMNS)
    for kind, row in lines:
        if kind == "blank":
            out.write(line_end)
        else:
            cells = [row[c] for c in COLUMNS]
            writer.writerow([*cells, "extra"] if kind == "too_many" else cells)
    path = write(folder, "messy.csv", out.getvalue(), encoding=encoding)

    report = load_files(db, path).files[0]
    if report.error:  # only a file whose every line is blank may be unreadable, and none is generated
        raise AssertionError(report.error)
    assert report.rows_read == len(records)
    assert report.rows_read == report.rows_loaded + report.rows_quarantined
    loaded = query(db, "SELECT source_row FROM session_log WHERE source_file = 'messy.csv'")
    quarantined = query(db, "SELECT source_row FROM quarantine WHERE source_file = 'messy.csv'")
    assert len(loaded) == report.rows_loaded and len(quarantined) == report.rows_quarantined
    numbers = [n for (n,) in loaded + quarantined]
    assert len(set(numbers)) == len(numbers), "each row is in exactly one place"
    assert all(2 <= n <= len(lines) + 1 for n in numbers)
    shutil.rmtree(folder, ignore_errors=True)


def test_the_demo_files_loaded_twice_keep_every_count(demo_files: Path, tmp_path):
    db = tmp_path / "twice.duckdb"
    first = load_files(db, demo_files)
    second = load_files(db, demo_files)
    assert {f.status for f in second.files} == {"unchanged"}
    assert [(f.rows_read, f.rows_loaded, f.rows_quarantined) for f in first.files] == [
        (f.rows_read, f.rows_loaded, f.rows_quarantined) for f in second.files
    ]
