"""Read a file's header, tell which kind of record it holds, and stage its rows for validation.

CSV and Parquet are read by DuckDB itself, in parallel, straight into the validation query. Excel
workbooks (python-calamine: DuckDB cannot fetch its excel extension offline) and JSON Lines are read
in Python into a frame that DuckDB then scans. Every cell is staged as text, so that validation sees
exactly what the file says and formula-like text stays text.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import duckdb
import pandas as pd

from etl.columns import KINDS, RECORD_KINDS, normalise_header
from etl.rules import Source, literal
from etl.sniff import HEAD, FileFacts, UnreadableFile, inspect_file

DELIMITERS = [",", ";", "\t", "|"]
KIND_WORDS = {
    "staff": "a staff list",
    "cohorts": "a cohort list",
    "clients": "a client roster",
    "session_log": "a session log",
    "measures": "a measures file",
}


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
    frame: pd.DataFrame | None = None  # xlsx and JSON Lines rows: source_row, c0, c1, ...
    malformed: list[tuple[int, str, str]] = field(default_factory=list)  # (row, reason, raw)


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


def prepare(facts: FileFacts, forced_kind: str | None, workdir: Path) -> Prepared:
    if facts.format == "csv":
        return _prepare_csv(facts, forced_kind, workdir)
    if facts.format == "xlsx":
        return _prepare_xlsx(facts, forced_kind)
    if facts.format == "jsonl":
        return _prepare_jsonl(facts, forced_kind)
    return _prepare_parquet(facts, forced_kind)


# ---------------------------------------------------------------------------------------- CSV


def _prepare_csv(facts: FileFacts, forced_kind: str | None, workdir: Path) -> Prepared:
    read_path = facts.path
    if facts.encoding and facts.encoding.startswith("utf-16"):
        # DuckDB reads UTF-16 only with a byte-order mark; a UTF-8 copy reads every UTF-16 file the same way.
        read_path = workdir / f"{facts.sha256}.csv"  # unique per content, safe when files are prepared in parallel
        with open(facts.path, encoding="utf-16" if facts.encoding == "utf-16" else facts.encoding, newline="") as src:
            read_path.write_text(src.read().lstrip("\ufeff"), encoding="utf-8", newline="")
        recoded = inspect_file(read_path, facts.name)
        facts = FileFacts(facts.path, facts.name, facts.size, facts.sha256, "csv", "utf-8", recoded.blank_lines)
    with open(read_path, "rb") as f:
        head_bytes = f.read(HEAD)
    head = head_bytes.decode("latin-1" if facts.encoding == "latin-1" else "utf-8", errors="replace").lstrip("\ufeff")
    lines = head.splitlines()
    skip = next((i for i, line in enumerate(lines) if line.strip()), None)
    if skip is None:
        raise UnreadableFile(f"{facts.name} has no data: it holds only blank lines")
    header_line = lines[skip]
    delimiter, headers = _best_delimiter(header_line)
    has_rows = any(line.strip() for line in lines[skip + 1 :]) or len(head_bytes) == HEAD
    if not has_rows:
        raise UnreadableFile(f"{facts.name} has a header but no rows")
    kind, columns, ignored = detect_kind(facts.name, headers, forced_kind)
    return Prepared(facts, kind, headers, columns, ignored, delimiter=delimiter, skip=skip, read_path=read_path)


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])


def _best_delimiter(header_line: str) -> tuple[str, list[str]]:
    """The delimiter that splits the header into the most known column names (then the most columns)."""

    def score(d: str) -> tuple[int, int]:
        names = _split(header_line, d)
        known = sum(1 for h in names if any(RECORD_KINDS[k].resolve(h) for k in KINDS))
        return known, len(names)

    best = max(DELIMITERS, key=score)
    return best, _unique(_split(header_line, best))


def csv_relation(prepared: Prepared, files: dict[str, tuple[int, str]], rejects: str) -> Source:
    """One read of CSV files that share `prepared`'s layout; `files` maps each path to (load id, name)."""
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(prepared.headers))) + "}"
    paths = "[" + ", ".join(literal(path) for path in files) + "]"
    relation = (  # file_index is a virtual column: SELECT * leaves it out, so it is named
        f"(SELECT *, file_index FROM read_csv({paths}, delim={literal(prepared.delimiter)}, header=true, "
        f"skip={prepared.skip}, auto_detect=false, columns={columns}, quote='\"', escape='\"', "
        f"encoding={literal(prepared.facts.encoding or 'utf-8')}, store_rejects=true, "
        f"rejects_table={literal(rejects)}, rejects_scan={literal(rejects + '_scan')}, max_line_size=4000000))"
    )
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
    return Source(relation, prepared.headers, prepared.columns, False, load_id, name)


# --------------------------------------------------------------------------------------- Excel


def _cell_text(value: object) -> str | None:
    """A cell as the text a person sees in it (dates as ISO dates, 3.0 as 3)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if value == "":
        return None
    return str(value)


def _prepare_xlsx(facts: FileFacts, forced_kind: str | None) -> Prepared:
    """The first sheet whose header names a kind of record. Formula cells give the value Excel
    computed; text typed into a cell (even "=)") stays text."""
    import python_calamine  # imported here: only workbooks need it

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(facts.path))
        sheets = [(name, book.get_sheet_by_name(name).to_python(skip_empty_area=False)) for name in book.sheet_names]
    except Exception as e:  # calamine raises its own error types for damaged workbooks
        raise UnreadableFile(f"{facts.name} is not a valid .xlsx workbook ({e})") from e
    first_error: UnreadableFile | None = None
    for sheet, grid in sheets:
        rows = [(n, [_cell_text(v) for v in row]) for n, row in enumerate(grid, 1)]
        rows = [(n, cells) for n, cells in rows if any(c not in (None, "") for c in cells)]
        if not rows:
            continue
        width = max(len(cells) for _, cells in rows)
        headers = _unique([c or "" for c in rows[0][1]] + [""] * (width - len(rows[0][1])))
        try:
            kind, columns, ignored = detect_kind(f"{facts.name} (sheet '{sheet}')", headers, forced_kind)
        except UnreadableFile as e:
            first_error = first_error or e
            continue
        data = rows[1:]
        if not data:
            raise UnreadableFile(f"{facts.name} (sheet '{sheet}') has a header but no rows")
        frame = pd.DataFrame(
            [[c if c != "" else None for c in cells] + [None] * (width - len(cells)) for _, cells in data],
            columns=[f"c{i}" for i in range(width)],
            dtype="str",
        )
        frame.insert(0, "source_row", [n for n, _ in data])
        return Prepared(facts, kind, headers, columns, [h for h in ignored if not h.startswith("column_")], frame=frame)
    raise first_error or UnreadableFile(f"{facts.name} has no rows in any sheet")


# ---------------------------------------------------------------------------------- JSON Lines


def _prepare_jsonl(facts: FileFacts, forced_kind: str | None) -> Prepared:
    try:
        text = facts.path.read_text(encoding=facts.encoding or "utf-8")
    except UnicodeDecodeError:  # UTF-8 at the start, something else further on
        text = facts.path.read_text(encoding="latin-1")
    numbered = [(n, line) for n, line in enumerate(text.lstrip("\ufeff").splitlines(), 1) if line.strip()]
    if not numbered:
        raise UnreadableFile(f"{facts.name} has no data: it holds only blank lines")
    lines = pd.DataFrame({"source_row": [n for n, _ in numbered], "line": [line for _, line in numbered]})
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.register("lines", lines)
        # CASE guards: DuckDB may evaluate json_type and json_keys before a filter removes invalid lines.
        con.execute(
            "CREATE TEMP TABLE objects AS SELECT source_row, line, "
            "CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END AS is_object FROM lines"
        )
        keys = [
            k
            for (k,) in con.execute(
                "SELECT key FROM (SELECT source_row, unnest(CASE WHEN is_object THEN json_keys(line) END) AS key "
                "FROM objects) GROUP BY key ORDER BY min(source_row)"
            ).fetchall()
        ]
        malformed = [
            (n, "line is not valid JSON" if not valid else "line is a JSON value but not an object", line)
            for n, line, valid in con.execute(
                "SELECT source_row, line, json_valid(line) FROM objects WHERE NOT is_object ORDER BY source_row"
            ).fetchall()
        ]
        headers = _unique(keys)
        kind, columns, ignored = detect_kind(facts.name, headers, forced_kind)
        extract = ", ".join(
            f"json_extract_string(line, {literal('$.' + json.dumps(k))}) AS c{i}" for i, k in enumerate(keys)
        )
        frame = con.execute(
            f"SELECT source_row, {extract} FROM (SELECT source_row, CASE WHEN is_object THEN line END AS line "
            "FROM objects) WHERE line IS NOT NULL ORDER BY source_row"
        ).df()
    finally:
        con.close()
    return Prepared(facts, kind, headers, columns, ignored, frame=frame, malformed=malformed)


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
    return Source(relation, prepared.headers, prepared.columns, True, str(identity[0]), literal(identity[1]))


def frame_relation(prepared: Prepared, view: str, identity: tuple[int, str]) -> Source:
    return Source(view, prepared.headers, prepared.columns, True, str(identity[0]), literal(identity[1]))


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def new_workdir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="hipline-load-")


__all__ = [
    "Prepared",
    "csv_relation",
    "detect_kind",
    "frame_relation",
    "new_workdir",
    "parquet_relation",
    "prepare",
]
