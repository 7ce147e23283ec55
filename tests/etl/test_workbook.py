"""etl.workbook reads a sheet's cells as python-calamine read them (dates, times, durations, numbers,
booleans, formulas, errors, rich text), one row at a time, with long cells cut just past the limit."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
import xlsxwriter

from etl.sniff import UnreadableFile
from etl.workbook import Workbook


def _as_calamine_gave_it(value: object) -> str | None:
    """A cell from python-calamine as etl.read made it text before etl.workbook (the oracle)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _rows(path: Path, limit: int = 10_000) -> dict[str, dict[int, list[str | None]]]:
    with Workbook(path, path.name) as book:
        return {sheet.name: {n: _trimmed(cells) for n, cells in book.rows(sheet, limit)} for sheet in book.sheets}


def _trimmed(cells: list[str | None]) -> list[str | None]:
    while cells and cells[-1] is None:
        cells = cells[:-1]
    return cells


def test_every_kind_of_cell_reads_as_calamine_read_it(tmp_path):
    calamine = pytest.importorskip("python_calamine")
    path = tmp_path / "types.xlsx"
    book = xlsxwriter.Workbook(path, {"strings_to_formulas": False})
    sheet = book.add_worksheet("Types")
    formats = {
        key: book.add_format({"num_format": code})
        for key, code in {
            "date": "dd/mm/yyyy", "datetime": "yyyy-mm-dd hh:mm", "time": "hh:mm:ss", "duration": "[h]:mm:ss",
            "percent": "0.0%", "text": "@", "14": 14, "22": 22, "46": 46, "45": 45, "money": '"$"#,##0.00',
            "quoted": '"d"0', "month": "mmm-yy", "scientific": "0.00E+00", "red": "[Red]0.00",
            "locale": "[$-409]d/m/yyyy",
        }.items()
    }  # fmt: skip
    rows = [
        ["a", "b", "c", "d"],
        [1, 2.5, -3.25, 1e20],
        [0.1 + 0.2, 12345678901234567890, True, False],
        [(date(2026, 3, 2), "date"), (datetime(2026, 3, 2, 8, 30), "datetime"), (time(8, 30, 15), "time"),
         (timedelta(hours=26), "duration")],
        [(0.5, "percent"), (3, "text"), (datetime(2026, 3, 2), "14"), (45000.25, "22")],
        [(1.5, "46"), (0.01, "45"), (12.5, "money"), (5, "quoted")],
        [(46000, "month"), (12345.678, "scientific"), "text with _x000D_ in it", "  spaced  "],
        [(date(1900, 1, 1), "date"), (date(1900, 3, 1), "date"), (59, "date"), (61, "date")],
        [(-5, "date"), (2958466, "date"), (-1.5, "red"), (46000.5, "locale")],
        ["", "=not a formula", "café ✓ 𝄞", 'quote " and <tag> & amp'],
    ]  # fmt: skip
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if isinstance(cell, tuple):
                value, key = cell
                write = sheet.write_number if isinstance(value, (int, float)) else sheet.write_datetime
                write(r, c, value, formats[key])
            else:
                sheet.write(r, c, cell)
    r = len(rows)
    sheet.write_formula(r, 0, "=1/0", None, "#DIV/0!")
    sheet.write_formula(r, 1, '=A1&"x"', None, "ax")
    sheet.write_formula(r, 2, "=2*3", None, 6)
    sheet.write_formula(r, 3, "=TRUE", None, True)
    sheet.write_rich_string(r + 1, 0, "plain ", book.add_format({"bold": True}), "bold", " tail")
    sheet.write(r + 1, 5, "far")
    sheet.write(r + 4, 1, "after a gap")
    book.add_worksheet("Empty")
    book.close()

    expected = {}
    reader = calamine.CalamineWorkbook.from_path(str(path))
    for name in reader.sheet_names:
        grid = reader.get_sheet_by_name(name).to_python(skip_empty_area=False)
        texts = {n: _trimmed([_as_calamine_gave_it(v) for v in row]) for n, row in enumerate(grid, 1)}
        expected[name] = {n: cells for n, cells in texts.items() if cells}
    assert _rows(path) == expected
    assert expected["Types"][4] == ["2026-03-02", "2026-03-02 08:30:00", "08:30:15", "1 day, 2:00:00"]


SHEET = """<?xml version="1.0" encoding="UTF-8"?>
<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>
<x:row><x:c t="inlineStr"><x:is><x:r><x:t>rich </x:t></x:r><x:r><x:t>text</x:t></x:r><x:rPh><x:t>ruby</x:t></x:rPh>
</x:is></x:c><x:c><x:v>2</x:v></x:c><x:c t="s"><x:v>0</x:v></x:c></x:row>
<x:row r="4"><x:c r="C4" t="b"><x:v>1</x:v></x:c><x:c t="e"><x:v>#N/A</x:v></x:c>
<x:c t="d"><x:v>2026-03-02T00:00:00</x:v></x:c><x:c t="str"><x:v>line_x000D__x000A_break</x:v></x:c>
<x:c s="1"><x:v>1</x:v></x:c><x:c><x:f>A1</x:f></x:c></x:row>
</x:sheetData></x:worksheet>"""


def _hand_written(path: Path, sheet: str, strings: str, date1904: bool = False) -> Path:
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("_rels/.rels", f'<Relationships><Relationship Id="r" Type="{rels}/officeDocument" '
                                     'Target="/xl/workbook.xml"/></Relationships>')  # fmt: skip
        book.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:rr="{rels}"><workbookPr date1904="{int(date1904)}"/>'
            '<sheets><sheet name="Hand" sheetId="1" rr:id="s1"/><sheet name="Chart" sheetId="2" rr:id="c1"/></sheets>'
            "</workbook>",
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships><Relationship Id="s1" Type="{rels}/worksheet" Target="sheets/hand.xml"/>'
            f'<Relationship Id="c1" Type="{rels}/chartsheet" Target="chartsheets/sheet1.xml"/>'
            f'<Relationship Id="t" Type="{rels}/sharedStrings" Target="/xl/strings.xml"/>'
            f'<Relationship Id="y" Type="{rels}/styles" Target="styles.xml"/></Relationships>',
        )
        book.writestr("xl/sheets/hand.xml", sheet)
        book.writestr("xl/chartsheets/sheet1.xml", "<chartsheet/>")
        book.writestr("xl/strings.xml", strings)
        book.writestr(
            "xl/styles.xml",
            f'<styleSheet xmlns="{main}"><cellStyleXfs><xf numFmtId="14"/></cellStyleXfs>'
            '<cellXfs><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>',
        )
    return path


def test_prefixed_names_positions_without_references_and_every_cell_type(tmp_path):
    strings = '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>shared</t></si></sst>'
    path = _hand_written(tmp_path / "hand.xlsx", SHEET, strings)
    assert _rows(path) == {
        "Hand": {
            1: ["rich text", "2", "shared"],
            4: [None, None, "true", None, "2026-03-02", "line\r\nbreak", "1900-01-01"],
        }
    }
    path_1904 = _hand_written(tmp_path / "hand1904.xlsx", SHEET, strings, date1904=True)
    assert _rows(path_1904)["Hand"][4][6] == "1904-01-02"


def test_a_long_cell_is_cut_just_past_the_limit_as_it_is_read(tmp_path):
    long = "é" * 5000
    strings = f"<sst><si><t>{long}</t></si><si><r><t>{long}</t></r><r><t>{long}</t></r></si></sst>"
    sheet = (
        f'<worksheet><sheetData><row><c t="s"><v>0</v></c><c t="s"><v>1</v></c>'
        f'<c t="inlineStr"><is><t>{long}</t></is></c><c t="str"><v>short</v></c></row></sheetData></worksheet>'
    )
    cells = _rows(_hand_written(tmp_path / "long.xlsx", sheet, strings), limit=100)["Hand"][1]
    assert [len(c) for c in cells] == [101, 101, 101, 5]


def test_a_damaged_sheet_is_an_unreadable_file(tmp_path):
    path = _hand_written(tmp_path / "damaged.xlsx", "<worksheet><sheetData><row><c>", "<sst/>")
    with pytest.raises(UnreadableFile, match=r"^damaged.xlsx is not a valid .xlsx workbook \(no element found"):
        _rows(path)
