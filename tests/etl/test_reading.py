"""Every encoding, delimiter and format the loader accepts, and a clear error for files it cannot read."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pandas as pd
import pytest

from tests.conftest import load_files, only, query, write

CLIENTS = (
    "client_id{d}display_name{d}start_date{d}region{d}sessions_per_week\nC-1{d}Zoë Łukasz{d}2026-03-02{d}hip{d}3\n"
    "C-2{d}José Müller{d}2026-04-06{d}knee{d}2\n"
)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"], ids=["comma", "semicolon", "tab", "pipe"])
def test_every_delimiter_is_sniffed(db, tmp_path, delimiter):
    path = write(tmp_path, "clients.csv", CLIENTS.format(d=delimiter))
    report = only(load_files(db, path))
    assert (report.kind, report.rows_loaded, report.error) == ("clients", 2, None)
    assert query(db, "SELECT display_name FROM clients ORDER BY 1") == [("José Müller",), ("Zoë Łukasz",)]


@pytest.mark.parametrize(
    "encoding",
    ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "latin-1", "cp1252"],
)
def test_every_encoding_is_detected(db, tmp_path, encoding):
    text = CLIENTS.format(d=",")
    if encoding in ("latin-1", "cp1252"):
        text = text.replace("Łukasz", "Lukas")  # Ł is not in Latin-1
    path = write(tmp_path, "clients.csv", text, encoding=encoding)
    report = only(load_files(db, path))
    assert (report.rows_loaded, report.error) == (2, None)
    names = {n for (n,) in query(db, "SELECT display_name FROM clients")}
    assert "José Müller" in names


def test_latin1_bytes_after_a_long_utf8_looking_start_are_read_as_latin1(loaded_roster, tmp_path):
    header = "client_id,session_date,attended,notes\n"
    plain = "".join(f"C-1,2026-06-{1 + i % 28:02d},yes,plain note {i}\n" for i in range(3000))
    body = (header + plain).encode("latin-1") + "C-1,2026-06-29,yes,séance très courte\n".encode("latin-1")
    path = tmp_path / "late_latin1.csv"
    path.write_bytes(body)
    report = only(load_files(loaded_roster, path))
    assert (report.rows_read, report.rows_loaded, report.error) == (3001, 3001, None)
    assert query(loaded_roster, "SELECT notes FROM session_log WHERE session_date = '2026-06-29'") == [
        ("séance très courte",)
    ]


def test_xlsx_roster_with_real_dates_and_numbers(db, tmp_path):
    path = tmp_path / "roster.xlsx"
    frame = pd.DataFrame(
        {
            "Client ID": ["C-1", "C-2"],
            "Name": ["Zoë", "Tomás"],
            "Start date": pd.to_datetime(["2026-03-02", "2026-04-06"]),
            "Region": ["Hip", "Low back"],
            "Sessions per week": [3, 2],
            "Goals": ["=walk 5 km", "+ tennis"],
        }
    )
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": {"strings_to_formulas": False}}) as xl:
        pd.DataFrame({"note": ["a cover sheet"]}).to_excel(xl, sheet_name="Read me", index=False)
        frame.to_excel(xl, sheet_name="Clients", index=False)
    report = only(load_files(db, path))
    assert (report.kind, report.rows_loaded) == ("clients", 2)
    assert query(
        db,
        "SELECT client_id, start_date, region, sessions_per_week, goals, source_row FROM clients ORDER BY 1",
    ) == [
        ("C-1", date(2026, 3, 2), "hip", 3, "=walk 5 km", 2),
        ("C-2", date(2026, 4, 6), "low_back", 2, "+ tennis", 3),
    ]


def test_xlsx_formula_like_text_stays_text(db, tmp_path):
    import xlsxwriter

    path = tmp_path / "staff.xlsx"
    book = xlsxwriter.Workbook(path, {"strings_to_formulas": False})
    sheet = book.add_worksheet()
    for row, values in enumerate(
        [["staff_id", "name", "role"], ["S-1", '=HYPERLINK("x")', "physio"], ["S-2", "@Ben", "admin"]]
    ):
        sheet.write_row(row, 0, values)
    book.close()
    only(load_files(db, path))
    assert query(db, "SELECT name FROM staff ORDER BY staff_id") == [('=HYPERLINK("x")',), ("@Ben",)]


def test_json_lines_and_parquet(loaded_roster, tmp_path):
    jsonl = write(
        tmp_path,
        "m.jsonl",
        json.dumps({"Client ID": "C-1", "date": "2026-05-01", "measure": "NPRS", "value": 5}) + "\n",
    )
    parquet = tmp_path / "tests.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 'C-1' AS client_id, DATE '2026-05-02' AS measured_on, 'TUG_S' AS instrument, "
        f"9.5 AS score) TO '{parquet}' (FORMAT parquet)"
    )
    con.close()
    report = load_files(loaded_roster, jsonl, parquet)
    assert [(f.kind, f.rows_loaded, f.error) for f in report.files] == [
        ("measures", 1, None),
        ("measures", 1, None),
    ]
    assert query(loaded_roster, "SELECT instrument, score, measured_on, source_row FROM measures ORDER BY 1") == [
        ("NPRS", 5.0, date(2026, 5, 1), 1),
        ("TUG_S", 9.5, date(2026, 5, 2), 1),
    ]


def test_a_nan_of_a_parquet_number_column_is_not_recorded(loaded_roster, tmp_path):
    """docs: `nan` means "not recorded". A Parquet float column's NaN is read as the text `nan` (or
    `-nan`, with its sign bit set): stored as NULL, the row loaded."""
    parquet = tmp_path / "sessions.parquet"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT * FROM (VALUES ('C-1', DATE '2026-05-01', true, 'NaN'::DOUBLE, -('NaN'::DOUBLE), 5.0), "
        "('C-1', DATE '2026-05-02', true, 4.5, 3.0, 'NaN'::DOUBLE)) "
        "AS t(client_id, session_date, attended, pain_during, pain_after, rpe)) "
        f"TO '{parquet}' (FORMAT parquet)"
    )
    con.close()
    report = only(load_files(loaded_roster, parquet))
    assert (report.rows_loaded, report.rows_quarantined) == (2, 0)
    assert query(loaded_roster, "SELECT pain_during, pain_after, rpe FROM session_log ORDER BY session_date") == [
        (None, None, 5.0),
        (4.5, 3.0, None),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty.csv is empty (0 bytes)"),
        ("blank.csv", b"\n\n  \n", "blank.csv has no data: it holds only blank lines"),
        ("header_only.csv", b"client_id,session_date,attended\n", "header_only.csv has a header but no rows"),
        (
            "picture.csv",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
            "picture.csv is not a text file (it contains binary data): export the data as CSV or .xlsx",
        ),
        (
            "locked.xlsx",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,
            "locked.xlsx is an encrypted (password-protected) workbook or an old .xls file: "
            "save it from Excel as an unprotected .xlsx or as CSV",
        ),
        (
            "broken.xlsx",
            b"PK\x03\x04garbage",
            "broken.xlsx looks like an .xlsx workbook but is damaged (not a complete zip file)",
        ),
        (
            "report.pdf",
            b"%PDF-1.7\n...",
            "report.pdf is a PDF document, not a data file: export the data as CSV or .xlsx",
        ),
        (
            "array.json",
            b'[{"client_id": "C-1"}]',
            "array.json holds a JSON array: hipline reads JSON Lines (one JSON object per line)",
        ),
        (
            "shopping.csv",
            b"item,price\napples,2\n",
            "cannot tell what shopping.csv holds: its columns are item, price. "
            "hipline reads staff lists, cohort lists, "
            "client rosters, session logs and measures (see docs/input-formats.md)",
        ),
        (
            "partial.csv",
            b"client_id,session_date,pain_during\nC-1,2026-06-01,3\n",
            "partial.csv looks like a session log but has no attended column "
            "(columns found: client_id, session_date, pain_during)",
        ),
        ("bad.parquet", b"PAR1 not really parquet", None),
    ],
)
def test_unreadable_files_get_one_clear_error_and_load_nothing(loaded_roster, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    before = query(loaded_roster, "SELECT count(*) FROM session_log_rows")
    report = only(load_files(loaded_roster, path))
    assert report.status == "error"
    assert report.error is not None and name in report.error
    if message:
        assert report.error == message
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (0, 0, 0)
    assert query(loaded_roster, "SELECT count(*) FROM session_log_rows") == before
    assert query(loaded_roster, "SELECT file, status, error FROM load_history WHERE file = ?", [name]) == [
        (name, "error", report.error)
    ]


def test_one_unreadable_file_does_not_stop_the_others(loaded_roster, tmp_path):
    good = write(tmp_path, "good.csv", "client_id,session_date,attended\nC-1,2026-06-01,yes\n")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"")
    report = load_files(loaded_roster, good, bad)
    assert not report.all_readable
    assert {f.file: f.status for f in report.files} == {"good.csv": "loaded", "bad.csv": "error"}
    assert query(loaded_roster, "SELECT count(*) FROM session_log") == [(1,)]


def test_a_file_with_the_columns_of_two_kinds_asks_which_it_is(db, tmp_path):
    path = write(
        tmp_path,
        "mixed.csv",
        "client_id,start_date,region,sessions_per_week,measured_on,instrument,score\n"
        "C-1,2026-03-02,hip,2,2026-03-02,NPRS,5\n",
    )
    report = only(load_files(db, path))
    assert report.error == (
        "mixed.csv has the columns of both a client roster and a measures file: split it into one "
        "file per kind, or say which it is with --kind"
    )


def test_kind_can_be_given_when_columns_are_ambiguous(loaded_roster, tmp_path):
    path = write(
        tmp_path,
        "mixed.csv",
        "client_id,start_date,region,sessions_per_week,measured_on,instrument,score\n"
        "C-1,2026-03-02,hip,2,2026-05-01,NPRS,5\n",
    )
    report = only(load_files(loaded_roster, path, kind="measures"))
    assert (report.kind, report.rows_loaded) == ("measures", 1)
    assert report.ignored_columns == ["start_date", "region", "sessions_per_week"]


def test_unknown_extra_columns_are_reported_and_kept_in_quarantined_raw(loaded_roster, tmp_path):
    path = write(
        tmp_path,
        "s.csv",
        "client_id,session_date,attended,pain_during,weather\nC-1,2026-06-01,yes,12,rainy\n",
    )
    report = only(load_files(loaded_roster, path))
    assert report.ignored_columns == ["weather"]
    [(raw,)] = query(loaded_roster, "SELECT raw FROM quarantine")
    assert json.loads(raw) == {
        "client_id": "C-1",
        "session_date": "2026-06-01",
        "attended": "yes",
        "pain_during": "12",
        "weather": "rainy",
    }
