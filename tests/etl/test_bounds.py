"""Bounds on every format (docs/input-formats.md#limits): a file that would take minutes or gigabytes is
refused before the expensive work, or the row that is too big is quarantined while the rest loads.

The big inputs are loaded in a subprocess of their own, which reports each load's time and its peak
memory: the high-water mark of its resident memory (VmHWM), reset before each load. (The parent's
`getrusage(RUSAGE_CHILDREN)` would not do: it is the largest of every child this test process ever had,
and a child started by fork counts its parent's pages until it execs.)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import etl.workbook
from etl.settings import MAX_CELL_CHARS
from etl.sniff import MAX_COLUMNS, MAX_LINE_CHARS, MAX_XLSX_MB
from tests.conftest import TODAY, load_files, only, query

PEAK_MB = 1024  # a load's peak memory, whatever the file
CLIENTS = ["client_id", "start_date", "region", "sessions_per_week", "goals"]
ROWS = [
    ["C-1", "2026-03-02", "hip", "3", "walk 5 km"],
    ["C-2", "2026-04-06", "knee", "2", None],  # goals: the big cell
    ["C-3", "2026-05-04", "low back", "4", "lift the grandchildren"],
]

CHILD = """
import json, sys, tempfile, time
from dataclasses import asdict
from datetime import date
from pathlib import Path

from etl import read
from etl.load import load
from etl.sniff import UnreadableFile, inspect_file


def peak_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024


def refusal_seconds(path):
    \"\"\"How long reading the file takes to refuse it (the load around it opens the warehouse to record it).\"\"\"
    started = time.perf_counter()
    try:
        read.prepare(inspect_file(path), None, Path(tempfile.mkdtemp()))
    except UnreadableFile:
        return time.perf_counter() - started
    return None


results = []
for job in json.loads(sys.argv[1]):
    paths = [Path(p) for p in job["paths"]]
    refusal = refusal_seconds(paths[0]) if job["refused"] else None
    Path("/proc/self/clear_refs").write_text("5")  # this load's peak, not an earlier one's
    started = time.perf_counter()
    report = load(Path(job["db"]), paths, today=date.fromisoformat(job["today"]))
    seconds = time.perf_counter() - started
    results.append({"seconds": seconds, "refusal_seconds": refusal, "peak_mb": peak_mb(),
                    "files": [asdict(f) for f in report.files]})
print(json.dumps(results))
"""


def _load_in_child(tmp_path: Path, paths: list[Path], refused: bool = False) -> dict[str, dict]:
    """Each file loaded into a warehouse of its own, in one subprocess: file name -> its report, the load's
    seconds, its peak memory in MB and, for files to be refused, the seconds reading took to refuse it."""
    jobs = [{"db": str(tmp_path / f"db{i}" / "hipline.duckdb"), "paths": [str(p)], "today": TODAY.isoformat(),
             "refused": refused} for i, p in enumerate(paths)]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(jobs)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results = {}
    for job, result in zip(jobs, json.loads(done.stdout), strict=True):
        (report,) = result["files"]
        results[report["file"]] = report | {key: result[key] for key in ("seconds", "refusal_seconds", "peak_mb")}
        results[report["file"]]["db"] = job["db"]
        refusal = f" (refused in {result['refusal_seconds']:.2f} s)" if refused else ""
        print(f"{report['file']}: loaded in {result['seconds']:.2f} s{refusal}, peak {result['peak_mb']:.0f} MB")
    return results


def _counts_add_up(report: dict) -> None:
    assert report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"], report


# ---------------------------------------------------------------------------------- file builders


def _csv(path: Path, rows: list[list[str | None]], header: list[str] = CLIENTS) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for row in [header, *rows]:
            f.write(",".join("" if c is None else c for c in row) + "\n")
    return path


def _jsonl(path: Path, rows: list[list[str | None]], header: list[str] = CLIENTS) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps({h: c for h, c in zip(header, row, strict=True) if c is not None}) + "\n")
    return path


def _parquet(path: Path, rows: list[list[str | None]], header: list[str] = CLIENTS) -> Path:
    pq.write_table(pa.table({h: [row[i] for row in rows] for i, h in enumerate(header)}), path)
    return path


WORKBOOK_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Clients" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>'
    '<Relationship Id="rId2" Target="sharedStrings.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
}
SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dimension}<sheetData>'
)
SHEET_END = "</sheetData></worksheet>"


def _column(index: int) -> str:
    """0 is A, 25 is Z, 26 is AA."""
    return (_column(index // 26 - 1) if index >= 26 else "") + chr(65 + index % 26)


def _xlsx_row(number: int, cells: list[str | None], strings: list[str]) -> str:
    """A row whose text cells point into the shared strings (as Excel writes them)."""
    xml = []
    for i, cell in enumerate(cells):
        if cell is not None:
            strings.append(cell)
            xml.append(f'<c r="{_column(i)}{number}" t="s"><v>{len(strings) - 1}</v></c>')
    return f'<row r="{number}">{"".join(xml)}</row>'


def _xlsx(path: Path, rows: list[list[str | None]], header: list[str] = CLIENTS, dimension: str = "") -> Path:
    strings: list[str] = []
    sheet = "".join(_xlsx_row(n, cells, strings) for n, cells in enumerate([header, *rows], 1))
    shared = (
        '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
        + "</sst>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in WORKBOOK_PARTS.items():
            book.writestr(name, text)
        book.writestr("xl/sharedStrings.xml", shared)
        book.writestr("xl/worksheets/sheet1.xml", SHEET_START.format(dimension=dimension) + sheet + SHEET_END)
    return path


def _bomb(path: Path, megabytes: int) -> Path:
    """A workbook of a few hundred kilobytes whose sheet unpacks to `megabytes` MB: the same row, again and again."""
    row = '<row><c t="inlineStr"><is><t>C-1</t></is></c><c><v>3</v></c></row>'
    block = (row * (1_000_000 // len(row) + 1))[:1_000_000].rpartition("</row>")[0] + "</row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, text in WORKBOOK_PARTS.items():
            book.writestr(name, text)
        book.writestr("xl/sharedStrings.xml", "<sst/>")
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_START.format(dimension="").encode())
            encoded = block.encode()
            for _ in range(megabytes):
                sheet.write(encoded)
            sheet.write(SHEET_END.encode())
    return path


# ----------------------------------------------------------------------------------------- tests


def test_a_zip_bomb_workbook_is_refused_from_its_zip_directory_before_it_is_unpacked(tmp_path):
    too_big = _bomb(tmp_path / "bomb.xlsx", MAX_XLSX_MB + 50)  # under 2 MB on disk
    squeezed = _bomb(tmp_path / "squeezed.xlsx", 50)  # within the size, compressed far beyond any real sheet
    assert too_big.stat().st_size < 2_000_000 and squeezed.stat().st_size < 1_000_000
    results = _load_in_child(tmp_path, [too_big, squeezed], refused=True)
    for name, words in (
        ("bomb.xlsx", f"bomb.xlsx would unpack to 250 MB; hipline opens workbooks that unpack to at most "
                      f"{MAX_XLSX_MB} MB"),
        ("squeezed.xlsx", "squeezed.xlsx is not a workbook hipline will open: its part xl/worksheets/sheet1.xml is "
                          "compressed"),
    ):  # fmt: skip
        report = results[name]
        assert report["status"] == "error" and report["error"].startswith(words), report["error"]
        _counts_add_up(report)
        assert report["refusal_seconds"] < 1 and report["seconds"] < 10, report
        assert report["peak_mb"] < PEAK_MB, report


def test_a_sheet_that_says_or_turns_out_to_have_too_many_rows_is_refused(db, tmp_path, monkeypatch):
    says = _xlsx(tmp_path / "says.xlsx", ROWS, dimension='<dimension ref="A1:E2000000"/>')
    report = only(load_files(db, says))
    assert report.error == (
        "says.xlsx (sheet 'Clients') has 2,000,000 rows (its dimension is A1:E2000000); hipline reads at most "
        "1,000,000 rows from a workbook: save it as CSV instead"
    )
    monkeypatch.setattr(etl.workbook, "MAX_XLSX_ROWS", 50)  # no dimension: the rows are counted as they are read
    many = [[f"C-{i}", "2026-03-02", "hip", "3", None] for i in range(60)]
    report = only(load_files(db, _xlsx(tmp_path / "many.xlsx", many)))
    assert report.error == "many.xlsx (sheet 'Clients') has more than 50 rows: save it as CSV instead"
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (0, 0, 0)


def test_a_header_of_100_000_columns_is_refused_in_under_a_second(tmp_path):
    path = tmp_path / "wide.csv"
    header = CLIENTS + [f"extra_{i}" for i in range(100_000 - len(CLIENTS))]
    with path.open("w") as f:
        f.write(",".join(header) + "\n")
        for row in ROWS:
            f.write(",".join(c or "" for c in row) + "," * (len(header) - len(row)) + "\n")
    assert path.stat().st_size > 1_000_000
    report = _load_in_child(tmp_path, [path], refused=True)["wide.csv"]
    assert report["error"] == (
        f"wide.csv has 100,000 columns; hipline reads files of at most {MAX_COLUMNS} columns "
        "(is the delimiter inside a value, or the file turned on its side?)"
    )
    _counts_add_up(report)
    assert report["refusal_seconds"] < 1 and report["seconds"] < 10, report
    assert report["peak_mb"] < PEAK_MB, report


@pytest.mark.parametrize("suffix", ["xlsx", "jsonl", "parquet"])
def test_too_many_columns_are_refused_in_every_format(db, tmp_path, suffix):
    header = CLIENTS + [f"extra_{i}" for i in range(MAX_COLUMNS + 1 - len(CLIENTS))]
    rows = [row + ["x"] * (len(header) - len(row)) for row in ROWS]
    path = {"xlsx": _xlsx, "jsonl": _jsonl, "parquet": _parquet}[suffix](tmp_path / f"wide.{suffix}", rows, header)
    started = time.perf_counter()
    report = only(load_files(db, path))
    assert time.perf_counter() - started < 5
    expected = {
        "xlsx": "wide.xlsx (sheet 'Clients') has a value in column 501 (cell SG1); "
        f"hipline reads at most {MAX_COLUMNS} columns",
        "jsonl": f"wide.jsonl has 501 columns; hipline reads files of at most {MAX_COLUMNS} columns",
        "parquet": f"wide.parquet has 501 columns; hipline reads files of at most {MAX_COLUMNS} columns",
    }[suffix]
    assert report.error.startswith(expected), report.error


def test_a_cell_over_the_limit_quarantines_its_row_in_every_format_and_the_rest_loads(tmp_path):
    big = ("a note that goes on and on " * 40_000)[:1_000_000]  # 1 MB
    rows = [row if row[0] != "C-2" else [*row[:-1], big] for row in ROWS]
    files = [_csv(tmp_path / "clients.csv", rows), _xlsx(tmp_path / "clients.xlsx", rows),
             _jsonl(tmp_path / "clients.jsonl", rows), _parquet(tmp_path / "clients.parquet", rows)]  # fmt: skip
    results = _load_in_child(tmp_path, files)
    for path in files:
        report = results[path.name]
        assert (report["error"], report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (
            None, 3, 2, 1
        ), report  # fmt: skip
        assert report["peak_mb"] < PEAK_MB, report
        db = Path(report["db"])
        assert query(db, "SELECT client_id FROM clients ORDER BY 1") == [("C-1",), ("C-3",)]
        ((row, reason, raw),) = query(db, "SELECT source_row, reason, raw FROM quarantine")
        assert row == (3 if path.suffix in (".csv", ".xlsx") else 2)  # as a spreadsheet (or a line count) shows it
        assert reason == f"goals is longer than {MAX_CELL_CHARS:,} characters, the most a cell may hold"
        kept = json.loads(raw)
        assert kept["client_id"] == "C-2" and kept["region"] == "knee", "the other cells are kept whole"
        assert kept["goals"] == (
            big[:1000] + f" … [cut: only the first 1,000 of more than {MAX_CELL_CHARS:,} characters are kept]"
        ), path.name
        stored = query(db, "SELECT max(length(goals)) FROM clients_rows")
        assert stored[0][0] < MAX_CELL_CHARS, "the long cell is stored nowhere"


def test_the_cell_limit_is_a_setting(db, tmp_path, monkeypatch):
    from hipline.cli import main

    rows = [row if row[0] != "C-3" else [*row[:-1], "x" * 30] for row in ROWS]
    report = only(load_files(db, _csv(tmp_path / "clients.csv", rows), max_cell_chars=25))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 2, 1)
    assert query(db, "SELECT reason FROM quarantine") == [
        ("goals is longer than 25 characters, the most a cell may hold",)
    ]
    # hipline load reads it from the environment and hands it down
    monkeypatch.setenv("HIPLINE_MAX_CELL_CHARS", "23")
    other = tmp_path / "cli" / "hipline.duckdb"
    rows = [row if row[0] != "C-1" else [*row[:-1], "y" * 24] for row in ROWS]
    assert main(["load", "--db", str(other), str(_csv(tmp_path / "clients_2.csv", rows))]) == 0
    assert query(other, "SELECT source_row, reason FROM quarantine") == [
        (2, "goals is longer than 23 characters, the most a cell may hold")
    ]


def test_a_50_mb_line_is_quarantined_in_csv_and_json_lines_and_the_rest_loads(tmp_path):
    paths = []
    for suffix, writer in (("csv", _csv), ("jsonl", _jsonl)):
        path = writer(tmp_path / f"clients.{suffix}", [ROWS[0], ["C-2", "2026-04-06", "knee", "2", "LONG"], ROWS[2]])
        head, tail = path.read_text().split("LONG")  # the long value written a piece at a time
        with path.open("w") as f:
            f.write(head)
            for _ in range(50):
                f.write("n" * 1_000_000)
            f.write(tail)
        assert path.stat().st_size > 50_000_000
        paths.append(path)
    results = _load_in_child(tmp_path, paths)
    reasons = {
        "clients.csv": "the row is longer than 4 million characters",
        "clients.jsonl": f"the line is longer than {MAX_LINE_CHARS:,} characters",
    }
    for path in paths:
        report = results[path.name]
        assert (report["error"], report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (
            None, 3, 2, 1
        ), report  # fmt: skip
        assert report["peak_mb"] < PEAK_MB, report
        db = Path(report["db"])
        assert query(db, "SELECT client_id FROM clients ORDER BY 1") == [("C-1",), ("C-3",)]
        ((row, reason, kept),) = query(db, "SELECT source_row, reason, length(raw) FROM quarantine")
        assert (row, reason) == (3 if path.suffix == ".csv" else 2, reasons[path.name])
        assert kept <= 20_000, "the quarantine keeps only the start of the line"


def test_a_long_json_line_is_read_past_in_pieces(tmp_path):
    """The line after a long one is read whole and keeps its number."""
    path = tmp_path / "clients.jsonl"
    lines = [json.dumps(dict(zip(CLIENTS, row, strict=True))) for row in ROWS]
    path.write_text(lines[0] + "\n" + '{"goals": "' + "z" * (MAX_LINE_CHARS + 5) + '"}\n' + "\n".join(lines[1:]) + "\n")
    db = tmp_path / "db" / "hipline.duckdb"
    report = only(load_files(db, path))
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (4, 3, 1)
    assert query(db, "SELECT source_row, reason, raw FROM quarantine") == [
        (2, f"the line is longer than {MAX_LINE_CHARS:,} characters",
         '{"goals": "' + "z" * 989 + " … [cut: only the first 1,000 characters are kept]"),
    ]  # fmt: skip
