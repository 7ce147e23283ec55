"""Read a file's header, tell which kind of record it holds, and stage its rows for validation.

CSV and Parquet are read by DuckDB itself, in parallel: Parquet straight into the validation query, CSV
first into a temporary table whose rowids number its rows in the order of the lines (csv_scan). Excel
workbooks (etl.workbook: DuckDB cannot fetch its excel extension offline) and JSON Lines are read a
piece at a time and staged in Parquet files in the load's work folder, which DuckDB then scans. Every
cell is staged as text, so that validation sees exactly what the file says and formula-like text stays
text.

Memory stays bounded whatever the file (docs/input-formats.md#limits): a header of more than
MAX_COLUMNS columns is refused from its first line, before any row is read; lines and cells are read
up to a limit; and a row with a cell longer than the load's `max_cell_chars` is quarantined with that
reason alone, keeping only the start of the cell (`_checked`).
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.columns import KINDS, RECORD_KINDS, normalise_header
from etl.rules import Source
from etl.settings import MAX_CELL_CHARS
from etl.sniff import HEAD, MAX_COLUMNS, MAX_LINE_CHARS, FileFacts, UnreadableFile, inspect_file
from etl.values import literal
from etl.warehouse import run
from etl.workbook import Workbook

DELIMITERS = [",", ";", "\t", "|"]
NAME_CHARS = 100  # longer than any column name hipline knows
KEPT_CHARS = 1_000  # how much of a cell or line over the limit the quarantine keeps
STAGED_ROWS = 10_000  # rows staged in one Parquet file, at most ...
STAGED_CHARS = 8_000_000  # ... and characters
STAGING_MEMORY = "256MB"  # DuckDB's memory while JSON Lines are staged (it spills to the work folder beyond)
KIND_WORDS = {
    "staff": "a staff list",
    "cohorts": "a cohort list",
    "clients": "a client roster",
    "session_log": "a session log",
    "measures": "a measures file",
}


@dataclass(frozen=True)
class Staged:
    """xlsx and JSON Lines rows, staged in Parquet files in the load's work folder: source_row, c0 ... c{width - 1}
    and, for JSON Lines, line_problem and line_raw (why a line is no row, and what of it is kept). A file lacks
    the columns none of its rows reached; no file has those from `present` on (the header was wider)."""

    files: list[Path]
    width: int
    present: int
    line_problems: bool = False

    def relation(self) -> str:
        """The rows as DuckDB reads them, every column there."""
        files = "[" + ", ".join(literal(str(f)) for f in self.files) + "]"
        lines = "line_problem, line_raw, " if self.line_problems else ""
        cells = [f"c{i}" if i < self.present else f"NULL::VARCHAR AS c{i}" for i in range(self.width)]
        return f"(SELECT source_row, {lines}{', '.join(cells)} FROM read_parquet({files}, union_by_name = true))"


@dataclass
class Prepared:
    """A file whose kind and columns are known, ready to be loaded."""

    facts: FileFacts
    kind: str
    headers: list[str]
    columns: dict[str, int]
    ignored: list[str]
    delimiter: str | None = None
    skip: int = 0  # lines before the header (CSV)
    read_path: Path | None = None  # the file DuckDB reads (a UTF-8 copy of a UTF-16 file)
    staged: Staged | None = None  # xlsx and JSON Lines rows
    malformed: list[tuple[int, str, str]] = field(default_factory=list)  # (row, reason, raw) found while reading
    max_cell_chars: int = MAX_CELL_CHARS  # a row with a longer cell is quarantined


def detect_kind(name: str, headers: list[str], forced: str | None = None) -> tuple[str, dict[str, int], list[str]]:
    """The kind of record a header describes, which file column holds each canonical column, and the
    columns nobody asked for."""
    results = []
    for kind in [forced] if forced else KINDS:
        record = RECORD_KINDS[kind]
        columns: dict[str, int] = {}
        for i, header in enumerate(headers):
            canonical = record.resolve(header)
            if canonical and (canonical not in columns or normalise_header(header) == canonical):
                columns[canonical] = i
        missing = [c for c in record.required if c not in columns]
        results.append((kind, columns, missing))
    complete = sorted((r for r in results if not r[2]), key=lambda r: -len(r[1]))
    if complete:
        if len(complete) > 1 and len(complete[0][1]) == len(complete[1][1]):
            raise UnreadableFile(
                f"{name} has the columns of both {KIND_WORDS[complete[0][0]]} and {KIND_WORDS[complete[1][0]]}: "
                "split it into one file per kind, or say which it is with --kind"
            )
        kind, columns, _ = complete[0]
        used = set(columns.values())
        return kind, columns, [h for i, h in enumerate(headers) if i not in used]
    found = ", ".join(headers) if headers else "none"
    nearest = max(results, key=lambda r: (len(RECORD_KINDS[r[0]].required) - len(r[2]), len(r[1])))
    kind, _, missing = nearest
    if forced or len(RECORD_KINDS[kind].required) - len(missing) >= 2:
        raise UnreadableFile(
            f"{name} looks like {KIND_WORDS[kind]} but has no {', '.join(missing)} column (columns found: {found})"
        )
    raise UnreadableFile(
        f"cannot tell what {name} holds: its columns are {found}. hipline reads staff lists, cohort lists, "
        "client rosters, session logs and measures (see docs/input-formats.md)"
    )


def _unique(headers: list[str]) -> list[str]:
    """Blank headers get a name; repeated ones a suffix, so every column can be addressed."""
    seen: dict[str, int] = {}
    out = []
    for i, header in enumerate(headers):
        header = (header or "").strip().lstrip("\ufeff") or f"column_{i + 1}"
        seen[header] = seen.get(header, 0) + 1
        out.append(header if seen[header] == 1 else f"{header}_{seen[header]}")
    return out


def prepare(facts: FileFacts, forced_kind: str | None, workdir: Path, max_cell_chars: int = MAX_CELL_CHARS) -> Prepared:
    if facts.format == "csv":
        prepared = _prepare_csv(facts, forced_kind, workdir)
    elif facts.format == "xlsx":
        prepared = _prepare_xlsx(facts, forced_kind, workdir, max_cell_chars)
    elif facts.format == "jsonl":
        prepared = _prepare_jsonl(facts, forced_kind, workdir, max_cell_chars)
    else:
        prepared = _prepare_parquet(facts, forced_kind)
    prepared.max_cell_chars = max_cell_chars
    return prepared


def _too_wide(name: str, columns: int) -> UnreadableFile:
    return UnreadableFile(
        f"{name} has {columns:,} columns; hipline reads files of at most {MAX_COLUMNS} columns "
        "(is the delimiter inside a value, or the file turned on its side?)"
    )


def _cut(text: str, limit: int) -> str:
    """SQL: a text as the quarantine keeps it: whole up to `limit` characters, else its start and a marker."""
    return (
        f"CASE WHEN length({text}) > {limit} THEN left({text}, {KEPT_CHARS}) || "
        f"{literal(f' … [cut: only the first {KEPT_CHARS:,} of more than {limit:,} characters are kept]')} "
        f"ELSE {text} END"
    )


def too_long(column: str, limit: int) -> str:
    """The reason a row with a cell longer than the limit is quarantined."""
    return f"{column} is longer than {limit:,} characters, the most a cell may hold"


def _checked(relation: str, headers: list[str], limit: int, line_problems: bool = False) -> str:
    """`relation` with `row_problem`, a reason that quarantines a row before any rule looks at it (a cell longer
    than `limit` characters; for JSON Lines also a line that is no object), and `row_problem_raw`, the row as
    the quarantine keeps it (each long cell cut to its start). Clean rows pay one comparison: the longest
    cell's bytes (never fewer than its characters) against the limit."""
    cells = [f"c{i}" for i in range(len(headers))]
    longest = f"greatest({', '.join(f'strlen({c})' for c in cells)})"
    reasons = ", ".join(
        f"CASE WHEN length({c}) > {limit} THEN {literal(too_long(h, limit))} END"
        for c, h in zip(cells, headers, strict=True)
    )
    problem = f"CASE WHEN {longest} > {limit} THEN NULLIF(concat_ws('; ', {reasons}), '') END"
    kept = (
        "CAST(json_object("
        + ", ".join(f"{literal(h)}, {_cut(f'c{i}', limit)}" for i, h in enumerate(headers))
        + ") AS VARCHAR)"
    )
    if line_problems:
        problem, kept = f"coalesce(line_problem, {problem})", f"coalesce(line_raw, {kept})"
    return (
        f"(SELECT *, CASE WHEN row_problem IS NOT NULL THEN {kept} END AS row_problem_raw "
        f"FROM (SELECT *, {problem} AS row_problem FROM {relation}))"
    )


def _source(prepared: Prepared, relation: str, has_source_row: bool, load_id: str, name: str) -> Source:
    line_problems = prepared.staged is not None and prepared.staged.line_problems
    checked = _checked(relation, prepared.headers, prepared.max_cell_chars, line_problems)
    return Source(
        checked, prepared.headers, prepared.columns, has_source_row, load_id, name, "row_problem", "row_problem_raw"
    )


# ---------------------------------------------------------------------------------------- CSV


def _prepare_csv(facts: FileFacts, forced_kind: str | None, workdir: Path) -> Prepared:
    read_path = facts.path
    if facts.encoding and facts.encoding.startswith("utf-16"):
        # DuckDB reads UTF-16 only with a byte-order mark; a UTF-8 copy reads every UTF-16 file the same way.
        read_path = Path(tempfile.mkdtemp(dir=workdir)) / "recoded.csv"  # files are prepared in parallel
        _recode(facts, read_path)
        recoded = inspect_file(read_path, facts.name)
        facts = FileFacts(facts.path, facts.name, facts.size, facts.sha256, "csv", "utf-8", recoded.blank_lines)
    head, complete = _head(read_path, facts)
    lines = head.splitlines()
    skip = next((i for i, line in enumerate(lines) if line.strip()), None)
    if skip is None:
        if not complete:  # blank for a whole window: an absurd file, not worth reading on
            raise UnreadableFile(f"{facts.name} starts with more than {HEAD:,} bytes of blank lines")
        raise UnreadableFile(f"{facts.name} has no data: it holds only blank lines")
    if skip == len(lines) - 1 and not complete:
        head, complete = _head(read_path, facts, MAX_LINE_CHARS + HEAD)  # a header longer than the first window
        lines = head.splitlines()
        if skip == len(lines) - 1 and not complete:
            raise UnreadableFile(
                f"{facts.name}'s header line is longer than {MAX_LINE_CHARS:,} characters; "
                f"hipline reads files of at most {MAX_COLUMNS} columns"
            )
    header_line = lines[skip]
    delimiter, names = _best_delimiter(header_line)
    if len(names) > MAX_COLUMNS:
        raise _too_wide(facts.name, len(names))
    headers = _unique(names)
    has_rows = any(line.strip() for line in lines[skip + 1 :]) or not complete
    if not has_rows:
        raise UnreadableFile(f"{facts.name} has a header but no rows")
    kind, columns, ignored = detect_kind(facts.name, headers, forced_kind)
    return Prepared(facts, kind, headers, columns, ignored, delimiter=delimiter, skip=skip, read_path=read_path)


def _head(path: Path, facts: FileFacts, size: int = HEAD) -> tuple[str, bool]:
    """The first `size` bytes of a text file as text, and whether they are the whole file."""
    with open(path, "rb") as f:
        head_bytes = f.read(size)
    head = head_bytes.decode("latin-1" if facts.encoding == "latin-1" else "utf-8", errors="replace")
    return head.lstrip("\ufeff"), len(head_bytes) < size


def _recode(facts: FileFacts, target: Path) -> None:
    """A UTF-16 file copied as UTF-8, a piece at a time."""
    encoding = "utf-16" if facts.encoding == "utf-16" else facts.encoding
    with open(facts.path, encoding=encoding, newline="") as src, open(target, "w", encoding="utf-8", newline="") as out:
        first = True
        while piece := src.read(1 << 20):
            out.write(piece.lstrip("\ufeff") if first else piece)
            first = False


def _split(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])
    except csv.Error:  # a name longer than the csv module's field limit (128 KiB): no header splits so
        return [line]


def _best_delimiter(header_line: str) -> tuple[str, list[str]]:
    """The delimiter that splits the header into the most known column names (then the most columns), and
    the names it splits it into. Only the first MAX_COLUMNS + 1 names are looked up (a wider header is
    refused whatever they are), and only those of a name's length (a whole header line is none)."""
    splits = {d: _split(header_line, d) for d in DELIMITERS}

    def score(d: str) -> tuple[int, int]:
        names = splits[d]
        known = sum(
            1
            for h in names[: MAX_COLUMNS + 1]
            if len(h) <= NAME_CHARS and any(RECORD_KINDS[k].resolve(h) for k in KINDS)
        )
        return known, len(names)

    best = max(DELIMITERS, key=score)
    return best, splits[best]


def csv_scan(prepared: Prepared, paths: Iterable[str], rejects: str) -> str:
    """The SELECT that reads CSV files sharing `prepared`'s layout (their `paths`, in load order), the lines
    it cannot split going to the table `rejects`. A plain read: DuckDB keeps the files' order and the
    order of their rows, reading big files in parallel, so a table made from it holds the rows in the order
    of the files' lines (csv_relation numbers them by that)."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(prepared.headers))) + "}"
    listed = "[" + ", ".join(literal(path) for path in paths) + "]"
    return (  # file_index is a virtual column: SELECT * leaves it out, so it is named
        f"SELECT *, file_index FROM read_csv({listed}, delim={literal(prepared.delimiter)}, header=true, "
        f"skip={prepared.skip}, auto_detect=false, columns={columns}, quote='\"', escape='\"', "
        f"encoding={literal(prepared.facts.encoding or 'utf-8')}, store_rejects=true, "
        f"rejects_table={literal(rejects)}, rejects_scan={literal(rejects + '_scan')}, "
        f"max_line_size={MAX_LINE_CHARS})"
    )


def first_rows(con: duckdb.DuckDBPyConnection, scanned: str) -> dict[int, int]:
    """file_index -> the rowid of the file's first row in the table `scanned` (csv_scan's read); a file whose
    every line was rejected has none."""
    return dict(con.execute(f"SELECT file_index, min(rowid) FROM {scanned} GROUP BY file_index").fetchall())


def csv_relation(prepared: Prepared, files: dict[str, tuple[int, str]], scanned: str, firsts: dict[int, int]) -> Source:
    """The rows of the table `scanned`, made from csv_scan's read of `files` (path -> (load id, name)), each
    numbered by its place in that read (the table's rowid, less its file's first: `firsts`, from first_rows).
    Its `source_row` is then the line a spreadsheet shows if the file has no blank or rejected lines before
    it (etl.load adds those). The place is taken from the table, not from the order in which the rules'
    statement inserts the rows: its joins to the roster do not keep that order (with a roster of more
    clients than DuckDB expects lines in a file, it builds the join on the file's side)."""
    first_line = prepared.skip + 2  # the line after the header
    offset = (
        f"{first_line - next(iter(firsts.values()), 0)}"
        if len(firsts) <= 1
        else "CASE file_index " + " ".join(f"WHEN {k} THEN {first_line - f}" for k, f in firsts.items()) + " END"
    )
    relation = f"(SELECT *, rowid + {offset} AS source_row FROM {scanned})"
    # file_index numbers the files in the order they are listed: no per-row comparison of file names.
    ids = [i for i, _ in files.values()]
    load_id = (
        f"{ids[0]} + file_index"
        if ids == list(range(ids[0], ids[0] + len(ids)))
        else ("CASE file_index " + " ".join(f"WHEN {k} THEN {i}" for k, i in enumerate(ids)) + " END")
    )
    name = (
        "CASE file_index " + " ".join(f"WHEN {k} THEN {literal(n)}" for k, (_, n) in enumerate(files.values())) + " END"
    )
    return _source(prepared, relation, True, load_id, name)


# ------------------------------------------------------------------------------------ staging


def _unnested(width: int, *more: str) -> str:
    """A SELECT of the columns given as lists, one parameter each: source_row, then `more`, then c0 ... c{width - 1}.
    DuckDB turns Python lists into its own; Arrow, which staged the rows before, made a load import pyarrow and
    (registering a dataset) pandas, 0.4 s of every load with a workbook or JSON Lines."""
    names = [*more, *(f"c{i}" for i in range(width))]
    text = ", ".join(f"unnest(${n}::VARCHAR[]) AS {name}" for n, name in enumerate(names, 2))
    return f"SELECT unnest($1::BIGINT[]) AS source_row{', ' if text else ''}{text}"


class _Stage:
    """Rows written to Parquet files a bounded piece at a time; read back as one relation of text columns."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: list[tuple[int, list[str | None]]] = []
        self.chars = 0
        self.files: list[Path] = []
        self.width = 0

    def add(self, number: int, cells: list[str | None]) -> None:
        self.rows.append((number, cells))
        self.chars += sum(map(len, filter(None, cells)))
        if len(self.rows) >= STAGED_ROWS or self.chars >= STAGED_CHARS:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        width = max(len(cells) for _, cells in self.rows)
        self.width = max(self.width, width)
        padded = [cells + [None] * (width - len(cells)) for _, cells in self.rows]
        columns = [[n for n, _ in self.rows], *(list(column) for column in zip(*padded, strict=True))]
        path = self.folder / f"rows_{len(self.files)}.parquet"
        con = duckdb.connect(config={"autoinstall_known_extensions": False})
        try:
            run(con, f"COPY ({_unnested(width)}) TO {literal(str(path))} (FORMAT parquet)", columns)
        finally:
            con.close()
        self.files.append(path)
        self.rows, self.chars = [], 0

    def staged(self, width: int) -> Staged:
        """The staged rows with columns c0 ... c{width - 1} (missing ones are empty)."""
        self.flush()
        return Staged(self.files, width, self.width)


# --------------------------------------------------------------------------------------- Excel


def _prepare_xlsx(facts: FileFacts, forced_kind: str | None, workdir: Path, limit: int) -> Prepared:
    """The first sheet whose header names a kind of record. Formula cells give the value Excel
    computed; text typed into a cell (even "=)") stays text. The rows are read one at a time (etl.workbook)
    and staged in Parquet."""
    first_error: UnreadableFile | None = None
    with Workbook(facts.path, facts.name) as book:
        for sheet in book.sheets:
            where = f"{facts.name} (sheet '{sheet.name}')"
            rows = book.rows(sheet, limit)
            try:
                header = next(rows, None)
                if header is None:
                    continue
                named = [c or "" for c in header[1]]
                try:
                    kind, columns, ignored = detect_kind(where, _unique(named), forced_kind)
                except UnreadableFile as e:
                    first_error = first_error or e
                    continue
                stage = _Stage(Path(tempfile.mkdtemp(dir=workdir)))
                for number, cells in rows:
                    stage.add(number, cells)
                stage.flush()
                if not stage.files:
                    raise UnreadableFile(f"{where} has a header but no rows")
            finally:
                rows.close()
            width = max(len(named), stage.width)
            headers = _unique(named + [""] * (width - len(named)))
            ignored = [h for h in ignored if not h.startswith("column_")]
            return Prepared(facts, kind, headers, columns, ignored, staged=stage.staged(width))
    raise first_error or UnreadableFile(f"{facts.name} has no rows in any sheet")


# ---------------------------------------------------------------------------------- JSON Lines


def _lines(path: Path, encoding: str) -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, line, None) of every line that is not blank, or (line number, None, its start) for one
    longer than MAX_LINE_CHARS characters, which is read past in pieces: no line is ever whole in memory."""
    with open(path, encoding=encoding, newline=None) as f:
        number = 0
        while line := f.readline(MAX_LINE_CHARS + 1):
            number += 1
            if number == 1:
                line = line.lstrip("\ufeff")
            if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                while (rest := f.readline(1 << 20)) and not rest.endswith("\n"):
                    pass
                yield number, None, line[:KEPT_CHARS]
            elif line.strip():
                yield number, line.removesuffix("\n"), None


def _stage_lines(con: duckdb.DuckDBPyConnection, facts: FileFacts, encoding: str) -> None:
    """Every line into the table `lines`, a bounded batch at a time, with why it is no row, if it is none."""
    long_line = f"the line is longer than {MAX_LINE_CHARS:,} characters"
    cut = f" … [cut: only the first {KEPT_CHARS:,} characters are kept]"
    batch: list[tuple[int, str | None, str | None]] = []
    chars = 0

    def insert() -> None:
        columns = [
            [n for n, _, _ in batch],
            [line for _, line, _ in batch],
            [None if kept is None else long_line for _, _, kept in batch],
            [None if kept is None else kept + cut for _, _, kept in batch],
        ]
        # CASE guards: DuckDB may evaluate json_type before a filter removes invalid lines.
        run(
            con,
            "INSERT INTO lines SELECT source_row, line, coalesce(line_problem, CASE "
            "WHEN line IS NULL THEN NULL WHEN NOT json_valid(line) THEN 'line is not valid JSON' "
            "WHEN json_type(line) <> 'OBJECT' THEN 'line is a JSON value but not an object' END), line_raw "
            f"FROM ({_unnested(0, 'line', 'line_problem', 'line_raw')})",
            columns,
        )
        batch.clear()

    for number, line, kept in _lines(facts.path, encoding):
        batch.append((number, line, kept))
        chars += len(line or "")
        if len(batch) >= STAGED_ROWS or chars >= STAGED_CHARS:
            insert()
            chars = 0
    if batch:
        insert()


def _prepare_jsonl(facts: FileFacts, forced_kind: str | None, workdir: Path, limit: int) -> Prepared:
    folder = Path(tempfile.mkdtemp(dir=workdir))
    con = duckdb.connect(
        str(folder / "lines.duckdb"),
        config={
            "autoinstall_known_extensions": False,
            "memory_limit": STAGING_MEMORY,
            "temp_directory": str(folder / "spill"),
        },
    )
    try:
        con.execute("CREATE TABLE lines (source_row BIGINT, line VARCHAR, line_problem VARCHAR, line_raw VARCHAR)")
        try:
            _stage_lines(con, facts, facts.encoding or "utf-8")
        except UnicodeDecodeError:  # UTF-8 at the start, something else further on
            con.execute("DELETE FROM lines")
            _stage_lines(con, facts, "latin-1")
        if not con.execute("SELECT count(*) FROM lines").fetchall()[0][0]:
            raise UnreadableFile(f"{facts.name} has no data: it holds only blank lines")
        # Keys in the order they first appear (by line, then within the line).
        keys = [
            k
            for (k,) in con.execute(
                "SELECT key FROM (SELECT source_row, unnest(keys) AS key, unnest(range(len(keys))) AS position "
                "FROM (SELECT source_row, CASE WHEN line_problem IS NULL THEN json_keys(line) END AS keys "
                "FROM lines)) GROUP BY key ORDER BY min((source_row, position))"
            ).fetchall()
        ]
        if len(keys) > MAX_COLUMNS:
            raise _too_wide(facts.name, len(keys))
        headers = _unique(keys)
        kind, columns, ignored = detect_kind(facts.name, headers, forced_kind)
        extract = "".join(
            f", CASE WHEN line_problem IS NULL THEN json_extract_string(line, {literal('$.' + json.dumps(k))}) END "
            f"AS c{i}"
            for i, k in enumerate(keys)
        )
        staged = folder / "rows.parquet"
        con.execute(
            f"COPY (SELECT source_row, line_problem, CASE WHEN line_problem IS NOT NULL THEN "
            f"coalesce(line_raw, {_cut('line', limit)}) END AS line_raw{extract} FROM lines) "
            f"TO {literal(str(staged))} (FORMAT parquet)"
        )
    finally:
        con.close()
    return Prepared(facts, kind, headers, columns, ignored, staged=Staged([staged], len(keys), len(keys), True))


# ------------------------------------------------------------------------------------- Parquet


def _prepare_parquet(facts: FileFacts, forced_kind: str | None) -> Prepared:
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(facts.path))})").fetchall()
        rows = con.execute(f"SELECT count(*) FROM read_parquet({literal(str(facts.path))})").fetchall()[0][0]
    except duckdb.Error as e:
        raise UnreadableFile(f"{facts.name} is not a valid Parquet file ({str(e).splitlines()[0]})") from e
    finally:
        con.close()
    headers = [name for name, *_ in described]
    if len(headers) > MAX_COLUMNS:
        raise _too_wide(facts.name, len(headers))
    if rows == 0:
        raise UnreadableFile(f"{facts.name} has columns but no rows")
    kind, columns, ignored = detect_kind(facts.name, headers, forced_kind)
    return Prepared(facts, kind, _unique(headers), columns, ignored, read_path=facts.path)


def parquet_relation(prepared: Prepared, identity: tuple[int, str]) -> Source:
    cast = ", ".join(f"CAST({_quote_ident(h)} AS VARCHAR) AS c{i}" for i, h in enumerate(prepared.headers))
    relation = (
        f"(SELECT file_row_number + 1 AS source_row, {cast} "
        f"FROM read_parquet({literal(str(prepared.read_path))}, file_row_number=true))"
    )
    return _source(prepared, relation, True, str(identity[0]), literal(identity[1]))


def staged_relation(prepared: Prepared, identity: tuple[int, str]) -> Source:
    return _source(prepared, prepared.staged.relation(), True, str(identity[0]), literal(identity[1]))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


__all__ = [
    "Prepared",
    "csv_relation",
    "csv_scan",
    "detect_kind",
    "first_rows",
    "parquet_relation",
    "prepare",
    "staged_relation",
]
