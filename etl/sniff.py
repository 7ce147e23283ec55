"""What a file is: its content hash, its format and, for text, its encoding.

One pass over the bytes computes the sha256 (idempotent loads), checks that text is valid UTF-8
(else it is read as Latin-1: DuckDB's reader does not check this itself) and finds blank lines
inside the data (so row numbers stay those a spreadsheet shows). A UTF-16 byte-order mark, or the
zero bytes of UTF-16 text, make it UTF-16. Files that cannot be read get an `UnreadableFile` naming the file and the
problem, and nothing of them is loaded.

The bounds every file is held to are here too (docs/input-formats.md#limits), so that a file that would
take minutes or gigabytes is refused, or its row quarantined, before the expensive work: a workbook is
measured from its zip directory before anything of it is unpacked.
"""

from __future__ import annotations

import codecs
import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 1 << 22
HEAD = 1 << 16

BLANK_LINE = re.compile(rb"\n(?=\r?\n)")  # a line end followed by an empty line
# Whether a chunk has a blank line at all: one regular expression finds either line ending in a third
# of the time two `in` tests take (line ends are frequent, which slows bytes' substring search).
ANY_BLANK_LINE = re.compile(rb"\n\r?\n")

MAX_UPLOAD_MB = 50  # the most one upload through the pages may hold, by default (HIPLINE_MAX_UPLOAD_MB)

# Bounds on every file (docs/input-formats.md#limits). The longest cell is a setting (HIPLINE_MAX_CELL_CHARS).
MAX_COLUMNS = 500  # the most columns a header may have; a wider file is refused
MAX_LINE_CHARS = 4_000_000  # the longest line of a CSV or JSON Lines file; a longer one is quarantined
MAX_XLSX_MB = 200  # the most a workbook may unpack to (the sum of its zip entries' sizes)
MAX_XLSX_ROWS = 1_000_000  # the most rows a sheet may have
MAX_XLSX_RATIO = 100  # the most an entry of a workbook may be compressed (real sheets: about 10 to 1) ...
RATIO_CHECKED_MB = 10  # ... when it unpacks to more than this
EXTENSIONS = {".csv", ".tsv", ".txt", ".psv", ".tab", ".xlsx", ".jsonl", ".ndjson", ".json", ".parquet"}
STAGED_EXTENSIONS = {".xlsx", ".jsonl", ".ndjson", ".json"}  # read row by row in Python (slow to prepare)


class UnreadableFile(Exception):
    """A file that cannot be read at all; the message names the file and says what is wrong."""


@dataclass
class FileFacts:
    path: Path
    name: str  # how the warehouse knows the file (relative to the folder loaded)
    size: int
    sha256: str
    format: str  # csv | xlsx | jsonl | parquet
    encoding: str | None = None  # utf-8 | utf-16 | latin-1, for text formats
    blank_lines: list[int] = field(default_factory=list)  # 1-based line numbers of blank lines inside the data


def _format(name: str, head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(
            f"{name} is an encrypted (password-protected) workbook or an old .xls file: "
            "save it from Excel as an unprotected .xlsx or as CSV"
        )
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"%PDF"):
        raise UnreadableFile(f"{name} is a PDF document, not a data file: export the data as CSV or .xlsx")
    if head.startswith(b"\x1f\x8b"):
        raise UnreadableFile(f"{name} is gzip-compressed: decompress it first")
    return "text"


def _text_encoding(name: str, head: bytes) -> str | None:
    """'utf-16' when the bytes say so; None when the rest of the file must decide."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 4:
        even, odd = sample[0::2].count(b"\x00"), sample[1::2].count(b"\x00")
        if max(even, odd) >= len(sample) // 4 and min(even, odd) == 0:
            return "utf-16-be" if even > odd else "utf-16-le"
    if b"\x00" in sample:
        raise UnreadableFile(f"{name} is not a text file (it contains binary data): export the data as CSV or .xlsx")
    return None


def inspect_file(path: Path, name: str | None = None) -> FileFacts:
    name = name or path.name
    try:
        size = path.stat().st_size
    except OSError as e:
        raise UnreadableFile(f"{name} cannot be opened: {e.strerror}") from e
    if size == 0:
        raise UnreadableFile(f"{name} is empty (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(HEAD)
    kind = _format(name, head)
    if kind in ("xlsx", "parquet"):
        if kind == "xlsx":
            check_workbook_size(path, name)
        return FileFacts(path, name, size, _sha256(path), kind)
    encoding = _text_encoding(name, head) or _utf8_or_latin1(name, head)
    digest, blank_offsets, utf8 = _scan_text(path, check_utf8=encoding == "utf-8")
    if encoding == "utf-8" and not utf8:
        encoding = "latin-1"
    first = head.decode(encoding if encoding != "utf-8" else "utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    text_format = "jsonl" if first.startswith("{") else "csv"
    if first.startswith("["):
        raise UnreadableFile(f"{name} holds a JSON array: hipline reads JSON Lines (one JSON object per line)")
    blank_lines = _line_numbers(path, blank_offsets) if blank_offsets and not encoding.startswith("utf-16") else []
    return FileFacts(path, name, size, digest, text_format, encoding, blank_lines)


def check_workbook_size(path: Path, name: str) -> None:
    """Refuse a workbook that would unpack to too much, or whose parts are compressed like a zip bomb's,
    from the sizes its zip directory states (nothing is unpacked; reading never yields more than they
    state: zipfile stops at an entry's stated size)."""
    damaged = f"{name} looks like an .xlsx workbook but is damaged (not a complete zip file)"
    if not zipfile.is_zipfile(path):
        raise UnreadableFile(damaged)
    try:
        with zipfile.ZipFile(path) as book:
            entries = book.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as e:
        raise UnreadableFile(damaged) from e
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_XLSX_MB * 1_000_000:
        raise UnreadableFile(
            f"{name} would unpack to {unpacked / 1_000_000:,.0f} MB; hipline opens workbooks that unpack to at most "
            f"{MAX_XLSX_MB} MB: save the sheet as CSV instead"
        )
    for entry in entries:
        ratio = entry.file_size / max(entry.compress_size, 1)
        if entry.file_size > RATIO_CHECKED_MB * 1_000_000 and ratio > MAX_XLSX_RATIO:
            raise UnreadableFile(
                f"{name} is not a workbook hipline will open: its part {entry.filename} is compressed "
                f"{ratio:,.0f} to 1 ({entry.compress_size:,} bytes unpack to {entry.file_size:,}), where real "
                f"sheets are about 10 to 1 and hipline allows {MAX_XLSX_RATIO} to 1 (a zip bomb?)"
            )


def _utf8_or_latin1(name: str, head: bytes) -> str:
    try:
        head.decode("utf-8") if len(head) < HEAD else codecs.getincrementaldecoder("utf-8")().decode(head)
        return "utf-8"
    except UnicodeDecodeError:
        if _looks_binary(head):
            raise UnreadableFile(
                f"{name} is not a text file (it contains binary data): export the data as CSV or .xlsx"
            ) from None
        return "latin-1"


def _looks_binary(head: bytes) -> bool:
    controls = sum(1 for b in head[:4096] if b < 9 or 13 < b < 32)
    return controls > len(head[:4096]) // 100


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _scan_text(path: Path, check_utf8: bool) -> tuple[str, list[int], bool]:
    """sha256, byte offsets of blank lines before the last data line, and whether the bytes are UTF-8."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = check_utf8
    blanks: list[int] = []
    offset, tail = 0, b""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            if utf8 and not chunk.isascii():  # pure ASCII is UTF-8: only other chunks need decoding
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
            window = tail + chunk
            if ANY_BLANK_LINE.search(window):
                blanks += [offset - len(tail) + hit.start() + 1 for hit in BLANK_LINE.finditer(window)]
            tail = window[-2:]
            offset += len(chunk)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    # Blank lines at the very end of a file change no row number; only those inside the data matter.
    return digest.hexdigest(), [b for b in sorted(set(blanks)) if not _only_blank_after(path, b)], utf8


def _only_blank_after(path: Path, offset: int) -> bool:
    with open(path, "rb") as f:
        f.seek(offset)
        while chunk := f.read(HEAD):
            if chunk.strip():
                return False
    return True


def _line_numbers(path: Path, offsets: list[int]) -> list[int]:
    """1-based line numbers of the lines starting at the given byte offsets."""
    numbers, line, position = [], 1, 0
    with open(path, "rb") as f:
        for offset in offsets:
            f.seek(position)
            line += f.read(offset - position).count(b"\n")
            position = offset
            numbers.append(line)
    return numbers
