"""`hipline generate`: write a demo clinic's files in the formats clinics really send.

The same seed always gives the same files. The files mix formats on purpose, so that a demo load
exercises the whole loader:

| file | format | what |
|---|---|---|
| `staff.txt` | UTF-16 tab-separated ("Unicode text" saved from Excel) | staff list |
| `cohorts.csv` | UTF-8 with BOM, comma | classes |
| `clients.xlsx` | Excel roster with friendly headers | clients |
| `sessions_YYYY-MM.csv` | `;`-delimited, day-first dates, decimal commas | session log, one file a month |
| `clinic_legacy_sessions.csv` | Latin-1, `\\|`-delimited, other column names | one clinic's old system |
| `measures.jsonl` | JSON Lines, some scored from item responses | outcome measures |
| `performance_tests.parquet` | Parquet | chair stands, timed up and go, single-leg stance |
| `needs_review_sessions.csv` | comma | a small file with mistakes, to show the quarantine |
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl.library import load_library
from hipline.demo_data.measures import Measure, client_measures
from hipline.demo_data.roster import Roster, make_roster
from hipline.demo_data.sessions import (
    FORMS,
    NOTES,
    SESSION_TYPES,
    SIDES,
    SessionRows,
    exercise_codes,
    simulate_client,
)

# A fixed anchor keeps the output identical for a seed whatever day it is generated;
# the dashboard's "today" defaults to the newest session, so the demo never looks stale.
DEFAULT_END = date(2026, 10, 30)


@dataclass
class DemoSummary:
    out_dir: Path
    staff: int
    cohorts: int
    clients: int
    session_rows: int
    measures: int
    files: list[Path]
    seconds: float


def generate_demo(
    out_dir: Path,
    clients: int = 200,
    seed: int = 7,
    end: date = DEFAULT_END,
    progress=None,
) -> DemoSummary:
    """Write the demo files into `out_dir`; `progress(done, total)` is called as clients are simulated."""
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    library = load_library()
    codes = exercise_codes(library)
    roster = make_roster(rng, clients, end)

    rows = SessionRows()
    measures: list[Measure] = []
    for i, record in enumerate(roster.clients.to_dict("records")):
        record["cohort_id"] = record["cohort_id"] if isinstance(record["cohort_id"], str) else None
        _, pain, engaged_days = simulate_client(rng, record, i, end, library, codes, rows)
        n_days = max(1, (min(end, record["end_date"] or end) - record["start_date"]).days + 1)
        measures += client_measures(rng, i, record["region"], n_days, pain, engaged_days)
        if progress and (i % 200 == 0 or i == clients - 1):
            progress(i + 1, clients)

    session_frame = rows.frame()
    files = _write_files(out_dir, roster, session_frame, measures, library, codes, end)
    return DemoSummary(
        out_dir,
        len(roster.staff),
        len(roster.cohorts),
        clients,
        len(session_frame),
        len(measures),
        files,
        time.perf_counter() - started,
    )


def _write_files(out_dir, roster: Roster, sessions: pd.DataFrame, measures, library, codes, end) -> list[Path]:
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    files = [
        _write_staff(out_dir, roster.staff),
        _write_cohorts(out_dir, roster.cohorts),
        _write_clients(out_dir, roster.clients, end),
    ]
    _register_lookups(con, roster, library, codes)
    con.register("raw_sessions", sessions)
    files += _write_sessions(con, out_dir)
    files += _write_measures(out_dir, roster.clients, measures)
    files.append(_write_needs_review(out_dir, roster.clients, end))
    con.close()
    return files


def _write_staff(out_dir: Path, staff: pd.DataFrame) -> Path:
    path = out_dir / "staff.txt"
    friendly = staff.rename(columns={"staff_id": "Staff ID", "name": "Name", "role": "Role", "email": "Email"})
    path.write_text(friendly.to_csv(sep="\t", index=False), encoding="utf-16")
    return path


def _write_cohorts(out_dir: Path, cohorts: pd.DataFrame) -> Path:
    path = out_dir / "cohorts.csv"
    path.write_text(cohorts.to_csv(index=False, date_format="%Y-%m-%d"), encoding="utf-8-sig")
    return path


def _write_clients(out_dir: Path, clients: pd.DataFrame, end: date) -> Path:
    path = out_dir / "clients.xlsx"
    friendly = pd.DataFrame(
        {
            "Client ID": clients["client_id"],
            "Name": clients["display_name"],
            "Birth year": clients["birth_year"],
            "Region": clients["region"].map({"hip": "Hip", "knee": "Knee", "low_back": "Low back", "other": "Other"}),
            "Sessions per week": clients["sessions_per_week"],
            "Start date": pd.to_datetime(clients["start_date"]),
            "End date": pd.to_datetime(clients["end_date"]),
            "Clinician": clients["clinician_id"],
            "Cohort": clients["cohort_id"],
            "Goals": clients["goals"],
        }
    )
    with pd.ExcelWriter(path, engine="xlsxwriter", datetime_format="dd/mm/yyyy", date_format="dd/mm/yyyy") as xl:
        xl.book.set_properties({"created": datetime.combine(end, datetime.min.time())})  # same seed, same bytes
        friendly.to_excel(xl, sheet_name="Clients", index=False)
        xl.sheets["Clients"].set_column(0, 9, 16)
    return path


def _register_lookups(con, roster: Roster, library, codes) -> None:
    levels = {(lv.family, lv.name): lv for f in library.values() for lv in f.levels}
    exercise_rows = []
    for (family, name), code in codes.items():
        level = levels.get((family, name))
        exercise_rows.append(
            (
                code,
                name,
                level.aliases[0] if level and level.aliases else name,
                level.level if level and not library[family].stretch else None,
                level.resistance if level else "none",
            )
        )
    con.register("exercises", pd.DataFrame(exercise_rows, columns=["code", "name", "alias", "level", "resistance"]))
    con.register("notes", pd.DataFrame({"code": range(len(NOTES)), "text": NOTES}))
    con.register("kinds", pd.DataFrame({"code": range(3), "text": SESSION_TYPES}))
    con.register("sides", pd.DataFrame({"code": range(3), "text": SIDES}))
    con.register("forms", pd.DataFrame({"code": range(3), "text": FORMS}))
    clients = roster.clients[["client_id", "start_date", "clinician_id", "cohort_id"]].assign(
        client=np.arange(len(roster.clients))
    )
    con.register("client_index", clients)
    con.register("cohorts", roster.cohorts)


# How each clinic writes resistance in free text; the loader normalises all of them.
RESISTANCE_WORDS = """
    CASE r.resistance
        WHEN 'none' THEN [NULL, 'none', 'bodyweight'][c.client % 3 + 1]
        WHEN 'band_light' THEN ['light band', 'Band - light', 'yellow theraband'][c.client % 3 + 1]
        WHEN 'band_medium' THEN ['medium band', 'Band - medium', 'red theraband'][c.client % 3 + 1]
        WHEN 'weight_2' THEN ['2kg', '2 kg', 'weight 2 kg'][c.client % 3 + 1]
        ELSE r.resistance
    END
"""


def _pain_words(column: str) -> str:
    """NPRS as a European export writes it: whole numbers bare, halves with a decimal comma."""
    return f"""CASE WHEN s.{column} IS NULL OR isnan(s.{column}) THEN NULL
        WHEN s.{column} = trunc(s.{column}) THEN CAST(CAST(s.{column} AS INTEGER) AS VARCHAR)
        ELSE replace(CAST(s.{column} AS VARCHAR), '.', ',') END"""


SESSION_ROWS_SQL = f"""
    SELECT
        c.client_id,
        c.start_date + CAST(s.day AS INTEGER) AS session_date,
        k.text AS session_type,
        s.attended,
        CASE WHEN c.client % 4 = 3 THEN r.alias ELSE r.name END AS exercise,
        CAST(r.level AS INTEGER) AS level,
        CAST(s.sets AS INTEGER) AS sets,
        CAST(s.reps AS INTEGER) AS reps,
        CAST(s.hold_s AS INTEGER) AS hold_s,
        {RESISTANCE_WORDS} AS resistance,
        sd.text AS side,
        {_pain_words("pain_before")} AS pain_before,
        {_pain_words("pain_during")} AS pain_during,
        {_pain_words("pain_after")} AS pain_after,
        {_pain_words("pain_next_day")} AS pain_next_day,
        CAST(s.rpe AS INTEGER) AS rpe,
        f.text AS form,
        n.text AS notes,
        CASE k.text WHEN 'studio' THEN g.instructor_id WHEN 'clinic' THEN c.clinician_id END AS staff_id,
        (k.text = 'clinic' AND c.clinician_id = (SELECT min(clinician_id) FROM client_index)) AS legacy
    FROM raw_sessions s
    JOIN client_index c USING (client)
    JOIN kinds k ON k.code = s.session_type
    LEFT JOIN exercises r ON r.code = s.exercise
    LEFT JOIN sides sd ON sd.code = s.side
    LEFT JOIN forms f ON f.code = s.form
    LEFT JOIN notes n ON n.code = s.note
    LEFT JOIN cohorts g ON g.cohort_id = c.cohort_id
"""

SESSION_COLUMNS = """client_id, session_date, session_type,
    CASE WHEN attended THEN 'yes' ELSE 'no' END AS attended, exercise, level, sets, reps, hold_s, resistance,
    side, pain_before, pain_during, pain_after, pain_next_day, rpe, form, notes, staff_id"""

LEGACY_COLUMNS = """client_id AS "Patient ID", strftime(session_date, '%Y-%m-%d') AS "Date",
    session_type AS "Type", CASE WHEN attended THEN 'TRUE' ELSE 'FALSE' END AS "Attended",
    exercise AS "Exercise", level AS "Level", sets AS "Sets", reps AS "Reps", hold_s AS "Hold (s)",
    resistance AS "Resistance", side AS "Side", replace(pain_before, ',', '.') AS "Pain before",
    replace(pain_during, ',', '.') AS "Pain during", replace(pain_after, ',', '.') AS "Pain after",
    replace(pain_next_day, ',', '.') AS "Pain next day", rpe AS "RPE", form AS "Form", notes AS "Notes",
    staff_id AS "Staff\""""


def _write_sessions(con, out_dir: Path) -> list[Path]:
    con.execute(f"CREATE TEMP TABLE session_export AS {SESSION_ROWS_SQL} ORDER BY session_date, client_id")
    months = [
        m
        for (m,) in con.execute(
            "SELECT DISTINCT strftime(session_date, '%Y-%m') FROM session_export WHERE NOT legacy ORDER BY 1"
        ).fetchall()
    ]
    paths = []
    for month in months:
        path = out_dir / f"sessions_{month}.csv"
        con.execute(
            f"""COPY (SELECT {SESSION_COLUMNS} FROM session_export
                      WHERE NOT legacy AND strftime(session_date, '%Y-%m') = $month)
                TO $path (DELIMITER ';', HEADER, DATEFORMAT '%d/%m/%Y')""",
            {"month": month, "path": str(path)},
        )
        paths.append(path)
    legacy = con.execute(f"SELECT {LEGACY_COLUMNS} FROM session_export WHERE legacy").df()
    path = out_dir / "clinic_legacy_sessions.csv"
    path.write_bytes(legacy.to_csv(sep="|", index=False).encode("latin-1"))
    paths.append(path)
    return paths


def _write_measures(out_dir: Path, clients: pd.DataFrame, measures: list[Measure]) -> list[Path]:
    ids = clients["client_id"].to_numpy()
    starts = clients["start_date"].to_numpy()
    is_test = {"CST30", "TUG_S", "SLS_S_L", "SLS_S_R"}
    performance = [m for m in measures if m.instrument in is_test]
    questionnaires = [m for m in measures if m.instrument not in is_test]
    path = out_dir / "measures.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for m in questionnaires:
            record = {
                "client_id": ids[m.client],
                "measured_on": (starts[m.client] + timedelta(days=m.day)).isoformat(),
                "instrument": m.instrument,
                "score": m.score,
            }
            if m.items is not None:
                record["items"] = m.items
            out.write(json.dumps(record) + "\n")
    parquet = out_dir / "performance_tests.parquet"
    frame = pd.DataFrame(
        {
            "client_id": [ids[m.client] for m in performance],
            "measured_on": pd.to_datetime([starts[m.client] + timedelta(days=m.day) for m in performance]).date,
            "instrument": [m.instrument for m in performance],
            "score": [m.score for m in performance],
        }
    )
    con = duckdb.connect()
    con.register("performance", frame)
    con.execute("COPY performance TO ? (FORMAT parquet)", [str(parquet)])
    con.close()
    return [path, parquet]


def _write_needs_review(out_dir: Path, clients: pd.DataFrame, end: date) -> Path:
    """A small export with the mistakes real exports contain, one per row, to show the quarantine."""
    first = clients.iloc[0]
    cid, start = first["client_id"], first["start_date"]
    day = (start + timedelta(days=3)).isoformat()
    header = (
        "client_id,session_date,attended,session_type,exercise,level,sets,reps,hold_s,resistance,side,"
        "pain_before,pain_during,pain_after,pain_next_day,rpe,form,notes,staff_id"
    )
    rows = [
        f"{cid},{day},yes,home,clamshell,1,2,10,,,L,3,3,2,3,4,,,",
        f"{cid},{day},yes,home,clamshell,1,2,10,,,R,3,11,2,3,4,,typed 11 by mistake,",
        f"{cid},31/02/2026,yes,home,bridge,2,2,,10,,both,3,3,2,3,4,,,",
        f"C-99999,{day},yes,home,bridge,2,2,,10,,both,3,3,2,3,4,,,",
        f"{cid},{day},yes,home,clamshell,1,2,10,,,L,3,3,2,3,4,,,",
        f"{cid},{day},yes,home,dead bug arms only,1,-2,8,,,both,3,3,2,3,4,,,",
        f"{cid},{end + timedelta(days=400)},yes,home,bridge,2,2,,10,,both,3,3,2,3,4,,,",
        f"{cid},{start - timedelta(days=10)},yes,home,bridge,2,2,,10,,both,3,3,2,3,4,,,",
        f"{cid},{day},maybe,home,bridge,2,2,,10,,both,3,3,2,3,4,,,",
        f"{cid},{day},yes,home,bridge,2,2,,10,,both,3,3,2,3,4,,,extra,column",
        f"{cid},{day},yes,studio,bridge,2,2,,10,,both,3,3,2,3,4,excellent,,",
        f"{cid},{day},yes,home,hip circles,2,2,8,,,L,3,3.3,2,3,4,,,",
        f"{cid},{day},yes,home,clamshell with band,3,2,10,,purple thing,L,3,3,2,3,4,,,",
        f"{cid},{day},yes,home,leg slides,1,2,8,,,L,3,3,2,3,12,,,",
        f'{cid},{day},yes,home,leg slides,1,2,8,,,R,3,3,2,3,4,,"=HYPERLINK(""http://example.com"",""see video"")",',
    ]
    path = out_dir / "needs_review_sessions.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path
