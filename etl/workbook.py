"""Read the rows of an .xlsx workbook one at a time, in bounded memory.

An .xlsx file is a zip of XML parts. A sheet's XML is unpacked and parsed (by expat) a megabyte at a
time, and each row is handed on as soon as its closing tag is read: neither a sheet nor a long cell is
ever whole in memory. A cell longer than the limit it is read with is cut just past that limit (the
loader then quarantines its row, see etl.read), the shared strings are kept packed, and a sheet that
says (in its `<dimension>`) or turns out to have more rows than etl.sniff.MAX_XLSX_ROWS, or a value
beyond etl.sniff.MAX_COLUMNS columns, is refused. The sizes of the parts were checked before
(etl.sniff.check_workbook_size).

Cells read as the text a person sees in them, as python-calamine gave them before: dates as ISO dates
(a date and time as `YYYY-MM-DD HH:MM:SS`, a time of day as `HH:MM:SS`), whole numbers without `.0`,
booleans as true/false, the value Excel computed for a formula, an error (`#DIV/0!`) as empty, and
text as typed (`=walk` stays text).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.parsers import expat

from etl.sniff import MAX_COLUMNS, MAX_XLSX_ROWS, UnreadableFile

CHUNK = 1 << 20  # bytes of XML parsed at a time
DIGITS = "0123456789"
NS = "}"  # what expat puts between an element's namespace and its name
DAY_MS = 86_400_000
EPOCH_1900 = datetime(1899, 12, 31)  # serial 1 is 1 January 1900 ...
EPOCH_1904 = datetime(1904, 1, 1)
# ... and Excel counts a 29 February 1900 that never was: from serial 60 on, a day less.
LEAP_BUG = 60
# Built-in number formats (ECMA-376 18.8.30) that show a date or a time; 46 ([h]:mm:ss) is a duration.
DATE_FORMATS = {14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 47}
DURATION_FORMATS = {46}
ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")  # OOXML's escape of a character XML cannot hold (_x000D_)
STRINGS_BLOCK = 4096  # shared strings are packed this many to a block


class TooBig(UnreadableFile):
    """A sheet over one of the bounds."""


@dataclass(frozen=True)
class Sheet:
    name: str
    part: str  # its XML's path inside the zip


def _local(name: str) -> str:
    """An XML name without its namespace prefix (`x:row` is `row`)."""
    return name.rpartition(":")[2]


def _events(book: zipfile.ZipFile, part: str) -> Iterator[tuple[str, str, dict[str, str]]]:
    """('start' | 'end', local name, attributes) of a small part (workbook, relationships, styles), streamed."""
    parser = expat.ParserCreate()
    pending: list[tuple[str, str, dict[str, str]]] = []
    parser.StartElementHandler = lambda name, attrs: pending.append(("start", _local(name), attrs))
    parser.EndElementHandler = lambda name: pending.append(("end", _local(name), {}))
    with book.open(part) as stream:
        while chunk := stream.read(CHUNK):
            parser.Parse(chunk, False)
            yield from pending
            pending.clear()
    parser.Parse(b"", True)
    yield from pending


def _attribute(attrs: dict[str, str], name: str) -> str | None:
    """An attribute by its local name, whatever its prefix (`r:id`)."""
    return next((value for key, value in attrs.items() if _local(key) == name), None)


class Workbook:
    """An open .xlsx file: its sheets in order, and their rows one at a time. Use as a context manager."""

    def __init__(self, path, name: str) -> None:
        self.name = name
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as e:
            raise UnreadableFile(f"{name} is not a valid .xlsx workbook ({e})") from e
        self._parts = {info.filename.lower(): info.filename for info in self._zip.infolist()}
        try:
            self._read_structure()
        except (expat.ExpatError, zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
            self._zip.close()
            raise UnreadableFile(f"{name} is not a valid .xlsx workbook ({e})") from e

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *_) -> None:
        self._zip.close()

    def _part(self, path: str) -> str:
        found = self._parts.get(path.lstrip("/").lower())
        if found is None:
            raise KeyError(f"it has no part {path}")
        return found

    def _relationships(self, part: str) -> dict[str, tuple[str, str]]:
        """Relationship id -> (type, the target's path in the zip) of a part."""
        folder, file = posixpath.split(part)
        rels = posixpath.join(folder, "_rels", file + ".rels")
        if rels.lower() not in self._parts:
            return {}
        found = {}
        for event, name, attrs in _events(self._zip, self._part(rels)):
            if event == "start" and name == "Relationship" and attrs.get("Id") and attrs.get("Target"):
                target = attrs["Target"]
                path = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
                found[attrs["Id"]] = (attrs.get("Type", ""), path)
        return found

    def _read_structure(self) -> None:
        main = next(
            (path for kind, path in self._relationships("").values() if kind.endswith("/officeDocument")),
            "xl/workbook.xml",
        )
        main = self._part(main)
        rels = self._relationships(main)
        self.date1904 = False
        self.sheets: list[Sheet] = []
        for event, name, attrs in _events(self._zip, main):
            if event != "start":
                continue
            if name == "workbookPr":
                self.date1904 = attrs.get("date1904", "").lower() in ("1", "true")
            elif name == "sheet":
                kind, path = rels.get(_attribute(attrs, "id") or "", ("", ""))
                if kind.endswith("/worksheet") and path.lower() in self._parts:
                    self.sheets.append(Sheet(attrs.get("name", ""), self._part(path)))
        by_type = {kind.rpartition("/")[2]: path for kind, path in rels.values()}
        self._styles_part = by_type.get("styles")
        self._strings_part = by_type.get("sharedStrings")
        self._formats: dict[str, str] | None = None
        self._strings: _Strings | None = None
        self._strings_limit = -1

    def _cell_formats(self) -> dict[str, str]:
        """Style index (as a cell's `s` gives it) -> 'date' or 'duration', for the styles that show one."""
        if self._formats is not None:
            return self._formats
        custom: dict[int, str] = {}
        kinds: dict[str, str] = {}
        if self._styles_part and self._styles_part.lower() in self._parts:
            in_cell_formats, index = False, 0
            for event, name, attrs in _events(self._zip, self._part(self._styles_part)):
                if name == "cellXfs":
                    in_cell_formats = event == "start"
                elif event == "start" and name == "numFmt" and attrs.get("numFmtId", "").isdigit():
                    custom[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
                elif event == "start" and name == "xf" and in_cell_formats:
                    number_format = int(attrs.get("numFmtId", "0") or 0)
                    kind = _format_kind(custom[number_format]) if number_format in custom else None
                    if number_format not in custom:
                        kind = (
                            "date"
                            if number_format in DATE_FORMATS
                            else "duration"
                            if number_format in DURATION_FORMATS
                            else None
                        )
                    if kind:
                        kinds[str(index)] = kind
                    index += 1
        self._formats = kinds
        return kinds

    def _shared_strings(self, limit: int) -> _Strings:
        if self._strings is None or self._strings_limit != limit:
            self._strings = _Strings()
            if self._strings_part and self._strings_part.lower() in self._parts:
                with self._zip.open(self._part(self._strings_part)) as stream:
                    _read_strings(stream, self._strings, limit)
            self._strings_limit = limit
        return self._strings

    def rows(self, sheet: Sheet, limit: int) -> Iterator[tuple[int, list[str | None]]]:
        """(row number as Excel shows it, the row's cells from column A) of every row that holds a value;
        a cell's text is cut just past `limit` characters."""
        try:
            formats = self._cell_formats()
            with self._zip.open(sheet.part) as stream:
                where = f"{self.name} (sheet '{sheet.name}')"
                # The shared strings are read when a cell first needs one: after the sheet's <dimension>.
                yield from _sheet_rows(
                    stream, where, lambda: self._shared_strings(limit), formats, self.date1904, limit
                )
        except (expat.ExpatError, zipfile.BadZipFile, KeyError, IndexError, ValueError, OSError, EOFError) as e:
            raise UnreadableFile(f"{self.name} is not a valid .xlsx workbook ({e})") from e


def _format_kind(code: str) -> str | None:
    """'date' when a number format shows a date or time, 'duration' for elapsed time ([h]:mm), else None.
    Only the first section counts (before `;`); quoted text, escaped characters and [colours] do not."""
    quoted = escaped = False
    i = 0
    while i < len(code):
        char = code[i]
        if escaped:
            escaped = False
        elif quoted:
            quoted = char != '"'
        elif char in "\\_":
            escaped = True
        elif char == '"':
            quoted = True
        elif char == ";":
            return None
        elif char == "[":
            end = code.find("]", i)
            inside = code[i + 1 : end if end >= 0 else len(code)].lower()
            if inside and set(inside) <= set("hms"):
                return "duration"
            i = len(code) if end < 0 else end
        elif char in "dmyhsDMYHS":
            return "date"
        i += 1
    return None


def _unescape(text: str) -> str:
    return ESCAPE.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


class _Strings:
    """The shared strings, packed: each block of STRINGS_BLOCK strings is one str, with the strings' starts and
    ends in it in two arrays, instead of a Python object per string."""

    def __init__(self) -> None:
        self._texts: list[str] = []
        self._starts = array("q")
        self._ends = array("q")
        self._pending: list[str] = []

    def append(self, text: str) -> None:
        self._pending.append(text)
        if len(self._pending) == STRINGS_BLOCK:
            self.pack()

    def pack(self) -> None:
        """Pack the strings appended since the last block (call once more when all are appended)."""
        at = 0
        for text in self._pending:
            self._starts.append(at)
            at += len(text)
            self._ends.append(at)
        self._texts.append("".join(self._pending))
        self._pending = []

    def __getitem__(self, index: int) -> str:
        return self._texts[index // STRINGS_BLOCK][self._starts[index] : self._ends[index]]


def _read_strings(stream, strings: _Strings, limit: int) -> None:
    """The shared strings (`<si>`: plain `<t>` or rich-text runs; phonetic guides `<rPh>` left out)."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    pieces: list[str] = []
    size = 0
    collecting = phonetic = False

    def start(name: str, _attrs) -> None:
        nonlocal collecting, phonetic, size
        tag = _local(name)
        if tag == "t" and not phonetic:
            collecting = True
        elif tag == "si":
            pieces.clear()
            size = 0
        elif tag == "rPh":
            phonetic = True

    def end(name: str) -> None:
        nonlocal collecting, phonetic
        tag = _local(name)
        if tag == "t":
            collecting = False
        elif tag == "si":
            strings.append(_unescape("".join(pieces)[: limit + 1]))
        elif tag == "rPh":
            phonetic = False

    def text(data: str) -> None:
        nonlocal size
        if collecting and size <= limit:
            pieces.append(data)
            size += len(data)

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, text
    while chunk := stream.read(CHUNK):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)
    strings.pack()


def _column_index(letters: str, cache: dict[str, int]) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter.upper()) - 64
    cache[letters] = index - 1
    return index - 1


def _sheet_rows(
    stream, where: str, shared: Callable[[], _Strings], formats: dict[str, str], date1904: bool, limit: int
) -> Iterator[tuple[int, list[str | None]]]:
    """The sheet's rows that hold a value. The handlers are written for speed (a call per element): names are
    compared whole, with the namespace the root element declares (expat joins it to each name)."""
    parser = expat.ParserCreate(namespace_separator=NS)
    parser.buffer_text = True
    parser.buffer_size = 1 << 16
    done: list[tuple[int, list[str | None]]] = []
    columns: dict[str, int] = {}
    row: list[str | None] = []
    pieces: list[str] = []
    number = column = size = rows_read = 0
    kind = style = None
    collecting = phonetic = False
    strings: _Strings | None = None
    convert = _converter(formats, date1904, limit)
    C = V = T = ROW = PHONETIC = DIMENSION = ""

    def root(name: str, attrs: dict[str, str]) -> None:
        nonlocal C, V, T, ROW, PHONETIC, DIMENSION
        namespace = name[: name.rfind(NS) + 1]
        C, V, T, ROW = namespace + "c", namespace + "v", namespace + "t", namespace + "row"
        PHONETIC, DIMENSION = namespace + "rPh", namespace + "dimension"
        parser.StartElementHandler = start

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal number, column, kind, style, collecting, phonetic, size, row
        if name == C:
            ref = attrs.get("r")
            if ref:
                letters = ref.rstrip(DIGITS)
                column = columns.get(letters)
                if column is None:
                    column = _column_index(letters, columns)
            else:
                column += 1
            kind, style = attrs.get("t"), attrs.get("s", "0")
            pieces.clear()
            size = 0
        elif name == V:
            collecting = True
        elif name == ROW:
            ref = attrs.get("r")
            number = int(ref) if ref else number + 1
            row = []
            column = -1
        elif name == T:
            collecting = not phonetic
        elif name == PHONETIC:
            phonetic = True
        elif name == DIMENSION:
            _check_dimension(where, attrs.get("ref", ""))

    def end(name: str) -> None:
        nonlocal collecting, phonetic, rows_read, strings
        if name == C:
            if not pieces:
                return
            if kind is None and style not in formats:  # a plain number, the commonest cell
                number_value = float(pieces[0] if len(pieces) == 1 else "".join(pieces))
                value = str(int(number_value)) if number_value.is_integer() else repr(number_value)
            elif kind == "s":
                if strings is None:
                    strings = shared()
                value = strings[int(pieces[0] if len(pieces) == 1 else "".join(pieces))] or None
            else:
                value = convert(kind, style, pieces)
            if value is None:
                return
            if column >= MAX_COLUMNS:
                raise TooBig(
                    f"{where} has a value in column {column + 1:,} (cell {_column_name(column)}{number}); "
                    f"hipline reads at most {MAX_COLUMNS} columns"
                )
            if column >= len(row):
                row.extend([None] * (column - len(row) + 1))
            row[column] = value
        elif name in (V, T):
            collecting = False
        elif name == ROW:
            if row:
                rows_read += 1
                if rows_read > MAX_XLSX_ROWS:
                    raise TooBig(f"{where} has more than {MAX_XLSX_ROWS:,} rows: save it as CSV instead")
                done.append((number, row))
        elif name == PHONETIC:
            phonetic = False

    def text(data: str) -> None:
        nonlocal size
        if collecting and size <= limit:
            pieces.append(data)
            size += len(data)

    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = root, end, text
    while chunk := stream.read(CHUNK):
        parser.Parse(chunk, False)
        yield from done
        done.clear()
    parser.Parse(b"", True)
    yield from done


def _column_name(index: int) -> str:
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _check_dimension(where: str, ref: str) -> None:
    """The sheet's own statement of its size (`A1:S100001`): too many rows is refused before any is read."""
    last = ref.rpartition(":")[2].lstrip("$").replace("$", "")
    digits = last[len(last.rstrip(DIGITS)) :] if last else ""
    first = ref.partition(":")[0].replace("$", "")
    first_row = first[len(first.rstrip(DIGITS)) :]
    if digits and first_row:
        rows = int(digits) - int(first_row) + 1
        if rows > MAX_XLSX_ROWS:
            raise TooBig(
                f"{where} has {rows:,} rows (its dimension is {ref}); hipline reads at most {MAX_XLSX_ROWS:,} rows "
                "from a workbook: save it as CSV instead"
            )


def _converter(
    formats: dict[str, str], date1904: bool, limit: int
) -> Callable[[str | None, str | None, list[str]], str | None]:
    """A cell's text from its type (`t`), its style (`s`) and its text pieces; shared strings are looked up
    by the caller."""

    def convert(kind: str | None, style: str | None, pieces: list[str]) -> str | None:
        text = pieces[0] if len(pieces) == 1 else "".join(pieces)
        if kind is None or kind == "n":
            if not text:
                return None
            value = float(text)
            shown = formats.get(style or "0")
            if shown:
                dated = _date_text(value, shown, date1904)
                if dated is not None:
                    return dated
            return str(int(value)) if value.is_integer() else repr(value)
        if kind in ("str", "inlineStr"):
            return _unescape(text[: limit + 1]) or None
        if kind == "b":
            return "true" if text.strip() in ("1", "true") else "false"
        if kind == "d":
            return _iso_date_text(text)
        return None  # an error (#DIV/0!, #N/A): no value

    return convert


def _date_text(value: float, shown: str, date1904: bool) -> str | None:
    """A serial date as python-calamine gave it: a time of day below 1, a date when whole, else a date and
    time; a duration as Python writes a timedelta. None when it is no date (beyond year 9999)."""
    milliseconds = round(value * DAY_MS)
    if shown == "duration":
        return str(timedelta(milliseconds=milliseconds))
    epoch = EPOCH_1904 if date1904 else EPOCH_1900
    if not date1904 and value >= LEAP_BUG:
        milliseconds -= DAY_MS
    try:
        moment = epoch + timedelta(milliseconds=milliseconds)
    except OverflowError:
        return None
    if value < 1:
        return moment.time().isoformat()
    if value.is_integer():
        return moment.date().isoformat()
    return moment.date().isoformat() if moment.time() == datetime.min.time() else moment.isoformat(sep=" ")


def _iso_date_text(text: str) -> str | None:
    """A cell stored as an ISO 8601 date (`t="d"`, rare)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return text or None
    return moment.date().isoformat() if moment.time() == datetime.min.time() else moment.isoformat(sep=" ")
