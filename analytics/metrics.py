"""Every number of docs/metrics.md for the clients of one scope, on one day, computed in DuckDB SQL.

`Analytics.open(db, scope, today)` opens the warehouse read-only and builds a few temporary tables
in the connection, each from one file of `analytics/sql/`. The scope is applied once, in
temporary views (`scoped_clients`, `scoped_session_log`, `scoped_session_summary`,
`scoped_exposure_summary`, `scoped_measures`),
and the SQL files read only those:

    episodes -> sessions, red_flag_notes, nprs_scores -> pain_points (a view) -> weekly -> function_change
             -> exposure_runs -> recommendations (docs/recommendations.md, analytics/progressions.py) -> client_metrics

The read methods then shape those tables into pandas frames for the pages, the reports and
`hipline metrics`. Nothing here reads the warehouse outside the scope.

A server builds the analytics of every client once per day and hands each request a view of them
narrowed to its viewer's scope (`within`): the same tables, every read filtered to the clients the
viewer may see, and the cohort roll-ups computed over those clients only.
"""

from __future__ import annotations

import contextlib
import copy
import re
import time
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd
from scipy.stats import t as student_t

from analytics import definitions as d
from analytics.decisions import COLUMNS as DECISION_COLUMNS
from analytics.decisions import read_decisions
from analytics.progressions import MACROS, register_decisions, register_library
from analytics.red_flags import RedFlagWords, load_red_flag_words
from analytics.reviews import read_reviews, register_reviews
from analytics.scope import Scope
from analytics.today import Today, resolve_today
from etl.exposures import numbered_exposures_select
from etl.sessions import SESSION_SUMMARY_SELECT
from etl.warehouse import connect_read_only, scalar

SQL = Path(__file__).parent / "sql"
BUILD_ORDER = (
    "episodes",
    "sessions",
    "red_flag_notes",
    "nprs_scores",
    "pain_points",
    "weekly",
    "function_change",
    "client_exposures",
    "pain_sparklines",
    "exposure_runs",
    "red_flag_status",
    "recommendations",
    "client_metrics",
)
# The per-client tables a page reads one client from (Analytics.prepare_for_pages indexes them).
INDEXED_BY_CLIENT = (
    "episodes", "sessions", "red_flag_notes", "nprs_scores", "weekly", "function_change", "client_metrics",
    "recommendation_text",
)  # fmt: skip
# Views over the build that a server keeps as tables (prepare_for_pages): one client's rows come several
# times faster from an indexed table than from a view over every exposure of the warehouse.
KEPT_FOR_PAGES = ("client_exposures", "pain_sparklines")
SCOPED_VIEWS = {
    "scoped_clients": "clients",
    "scoped_session_log": "session_log",
    "scoped_session_summary": "session_summary",
    "scoped_exposure_summary": "exposure_summary",
    "scoped_measures": "measures",
}

MEMO_LIMIT = 256  # frames kept per build: a few per viewer
NO_CLIENT = "\x00 no client"  # an id no client has (a client_id is text read from a file: never NUL)

CLIENT_METRICS_COLUMNS = [
    "client_id",
    "program_week",
    "adherence_overall",
    "adherence_last_4_weeks",
    "pain_baseline",
    "pain_current",
    "pain_trend_per_week",
    "pain_status",
    "flags",
    "flag_evidence",
]
CLIENT_WEEKLY_COLUMNS = ["client_id", "program_week", "attended", "target", "adherence", "mean_pain"]
FUNCTION_CHANGE_COLUMNS = ["client_id", "instrument", "first_score", "latest_score", "change", "threshold", "status"]
COHORT_WEEKLY_COLUMNS = ["cohort_id", "program_week", "n", "mean_pain", "ci_low", "ci_high"]


@cache
def _sql(name: str) -> str:
    return (SQL / f"{name}.sql").read_text(encoding="utf-8")


def _used(sql: str, params: dict[str, object]) -> dict[str, object]:
    """The `$name` parameters `sql` uses (DuckDB rejects parameters a statement does not use)."""
    return {name: params[name] for name in set(re.findall(r"\$([a-z_]+)", re.sub(r"--[^\n]*", "", sql)))}


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> duckdb.DuckDBPyConnection:
    return con.execute(sql, _used(sql, params))


def _parameters(today: date, words: RedFlagWords) -> dict[str, object]:
    return {
        "today": today,
        "recent_weeks": d.RECENT_WEEKS,
        "baseline_days": d.BASELINE_DAYS,
        "current_days": d.CURRENT_DAYS,
        "trend_days": d.TREND_DAYS,
        "trend_min_points": d.TREND_MIN_POINTS,
        "trend_worse_per_week": d.TREND_WORSE_PER_WEEK,
        "pain_mcid_points": d.PAIN_MCID_POINTS,
        "pain_mcid_fraction": d.PAIN_MCID_FRACTION,
        "flare_pain_during": d.FLARE_PAIN_DURING,
        "flare_next_day_rise": d.FLARE_NEXT_DAY_RISE,
        "red_flag_days": d.RED_FLAG_DAYS,
        "flare_days": d.FLARE_DAYS,
        "lapsed_days": d.LAPSED_DAYS,
        "plateau_from_week": d.PLATEAU_FROM_WEEK,
        "low_adherence": d.LOW_ADHERENCE,
        "tolerance": d.TOLERANCE,
        "exercise_days": d.EXERCISE_DAYS,
        "regress_pain_during": d.REGRESS_PAIN_DURING,
        "regress_next_day_rise": d.REGRESS_NEXT_DAY_RISE,
        "hold_min_exposures": d.HOLD_MIN_EXPOSURES,
        "hold_pain_during": d.HOLD_PAIN_DURING,
        "hold_rpe": d.HOLD_RPE,
        "adherent": d.ADHERENT,
        "progress_adherence_weeks": d.PROGRESS_ADHERENCE_WEEKS,
        "trend_weeks": d.TREND_WEEKS,
        "sets_step": d.SETS_STEP,
        "hold_step": d.HOLD_STEP_S,
        "reps_step": d.REPS_STEP,
        "holding_outcomes": list(d.HOLDING_OUTCOMES),
        "evidence_note_chars": d.EVIDENCE_NOTE_CHARS,
        "sign_pattern": words.sign_pattern,
        "negated_pattern": words.negated_pattern,
    }


class Analytics:
    """The analytics of one viewer's scope on one day. Open it with `Analytics.open(db, scope, today)`."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        scope: Scope,
        today: Today = None,
        red_flag_words: RedFlagWords | None = None,
        decisions: pd.DataFrame | None = None,
        reviews: pd.DataFrame | None = None,
    ) -> None:
        self.con = con
        self.scope = scope
        self._scope_table: str | None = None  # a view narrowed by `within`: the table of its clients
        self._scope_tables: dict[Scope, str] = {}
        self._on_outside: Callable[[str], None] | None = None
        self._told: set[str] = set()
        self.today = resolve_today(today, con)
        self.red_flag_words = red_flag_words or load_red_flag_words()
        self._params = _parameters(self.today, self.red_flag_words)
        self._build(decisions, reviews)

    @classmethod
    @contextlib.contextmanager
    def open(
        cls, db: Path, scope: Scope, today: Today = None, red_flag_words: RedFlagWords | None = None
    ) -> Iterator[Analytics]:
        """Also reads the clinicians' decisions and red-flag reviews kept beside the warehouse
        (analytics.decisions, analytics.reviews)."""
        con = connect_read_only(db)
        try:
            yield cls(con, scope, today, red_flag_words, read_decisions(db), read_reviews(db))
        finally:
            con.close()

    def _build(self, decisions: pd.DataFrame | None, reviews: pd.DataFrame | None) -> None:
        for macro in MACROS:
            self.con.execute(macro)
        register_library(self.con)
        self._register_scope()
        register_decisions(self.con, decisions, self.today)
        register_reviews(self.con, reviews, self.today)
        thresholds = pd.DataFrame(d.function_instruments(), columns=["instrument", "threshold", "higher_is_better"])
        self.con.register("function_threshold_frame", thresholds)
        self.con.execute("CREATE OR REPLACE TEMP TABLE function_thresholds AS SELECT * FROM function_threshold_frame")
        self.con.unregister("function_threshold_frame")
        self.build_seconds: dict[str, float] = {}  # per table, for the benchmark
        self._indexed = False
        self._words = _Words(self.con, self._params)
        self._memo: dict[str, pd.DataFrame] = {}
        self._remember_decisions(decisions, reviews)
        self._run_build(BUILD_ORDER)

    def _run_build(self, steps: tuple[str, ...]) -> None:
        for name in steps:
            started = time.perf_counter()
            _run(self.con, _sql(name), self._params).fetchall()
            self.build_seconds[name] = time.perf_counter() - started

    def use_decisions(self, decisions: pd.DataFrame | None, reviews: pd.DataFrame | None) -> None:
        """Take newly recorded decisions and red-flag reviews into account: only the steps that read them
        are rebuilt (a decision can change the current level, hence the recommendations and the ready
        flag; a review the refer and on_hold flags and rule 1)."""
        register_decisions(self.con, decisions, self.today)
        register_reviews(self.con, reviews, self.today)
        rebuilt = BUILD_ORDER[BUILD_ORDER.index("exposure_runs") :]
        self._run_build(rebuilt)
        self._memo.clear()
        if self._indexed:
            self._index_by_client(tuple(t for t in INDEXED_BY_CLIENT if t in rebuilt))
        decided = set() if decisions is None else set(decisions["client_id"])
        reviewed = set() if reviews is None else set(reviews["client_id"])
        # A decision or a review changes its own client's recommendations only (reviews are few:
        # the words of every reviewed client are written again).
        changed = decided ^ self._decided_clients | self._new_decision_clients(decisions)
        self._words.forget(changed | reviewed | self._reviewed_clients)
        self._remember_decisions(decisions, reviews)

    def prepare_for_pages(self) -> None:
        """Ready the tables for a server that reads one client, clinician or cohort at a time (the reads
        are the same; only what they read is kept at hand):
        - every recommendation in words, once per build: the words query is slow to plan (many small
          macros), a read of the kept words is not;
        - the views of KEPT_FOR_PAGES kept as tables (the exposures with their library names, every
          client's weekly pains as a list for the caseload's sparklines);
        - an index on client_id of each per-client table: a lookup of one client's rows instead of a
          scan of every client's (benchmarks/bench_pages.py measures what this buys)."""
        started = time.perf_counter()
        self._words.keep(None)
        self.build_seconds["recommendation_text"] = time.perf_counter() - started
        started = time.perf_counter()
        for view in KEPT_FOR_PAGES:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {view}_kept AS SELECT * FROM {view}")
            self.con.execute(f"DROP VIEW {view}")
            self.con.execute(f"ALTER TABLE {view}_kept RENAME TO {view}")
        self._index_by_client((*INDEXED_BY_CLIENT, *KEPT_FOR_PAGES))
        self._indexed = True
        self.build_seconds["indexes"] = time.perf_counter() - started

    def _index_by_client(self, tables: tuple[str, ...]) -> None:
        for table in tables:
            self.con.execute(f"CREATE INDEX IF NOT EXISTS {table}_by_client ON {table} (client_id)")

    def _remembered(self, key: str, compute) -> pd.DataFrame:
        """A frame that is the same for every request of this build and scope (the roster, the cohorts):
        computed once, handed out as a copy (copy-on-write: a caller's change never reaches the kept one)."""
        kept = (key, self.scope)
        if kept not in self._memo:
            if len(self._memo) > MEMO_LIMIT:  # one entry per viewer and frame: forget them all now and then
                self._memo.clear()
            self._memo[kept] = compute()
        return self._memo[kept].copy(deep=False)

    # --- the viewer's scope -----------------------------------------------------------------------

    def scope_of(self, role: str, staff_id: str) -> Scope:
        """The scope of a signed-in member of staff (docs/security.md#roles-and-what-each-may-do), from the
        roster: a physio sees the clients
        whose clinician they are; an instructor the members of the cohorts they instruct; an admin every
        client. The cohorts they may open are those they instruct and those of the clients they see.
        Any other role sees nothing."""
        if role == "admin":
            return self.scope
        clients = {
            "physio": "SELECT client_id FROM scoped_clients WHERE clinician_id = $staff",
            "instructor": """SELECT client_id FROM scoped_clients
                             WHERE cohort_id IN (SELECT cohort_id FROM cohorts WHERE instructor_id = $staff)""",
        }.get(role)
        if clients is None:
            return Scope.only([], [])
        kept = ("scope", role, staff_id)
        if kept not in self._memo:
            client_ids = {c for (c,) in self.con.execute(clients, {"staff": staff_id}).fetchall()}
            cohorts = f"""SELECT cohort_id FROM cohorts WHERE instructor_id = $staff AND $instructs
                          UNION SELECT cohort_id FROM scoped_clients
                          WHERE cohort_id IS NOT NULL AND client_id IN ({clients})"""
            instructs = {"staff": staff_id, "instructs": role == "instructor"}
            cohort_ids = {c for (c,) in self.con.execute(cohorts, instructs).fetchall()}
            self._memo[kept] = Scope(frozenset(client_ids), frozenset(cohort_ids))
        return self.scope.within(self._memo[kept])

    def within(self, scope: Scope, on_outside: Callable[[str], None] | None = None) -> Analytics:
        """These analytics as a viewer with `scope` sees them: the same built tables (nothing is
        rebuilt), every read narrowed to the clients of `scope` (intersected with this one's).
        `on_outside(client_id)` is told, once per client, of a read asked for a client outside the
        scope (the pages audit it); the read itself answers as for a client that does not exist."""
        view = copy.copy(self)
        view.scope = self.scope.within(scope)
        view._scope_table = self._table_of(view.scope)
        view._on_outside, view._told = on_outside, set()
        return view

    def _table_of(self, scope: Scope) -> str | None:
        """A small table of the ids of the clients in `scope` (None: every client), made once per scope
        and build: reads semi-join with it (faster than a list parameter; benchmarks/bench_scope.py)."""
        if scope.client_ids is None:
            return None
        if scope not in self._scope_tables:
            table = f"viewer_scope_{len(self._scope_tables) + 1}"
            ids = pd.DataFrame({"client_id": sorted(scope.client_ids)}, dtype="str")
            self.con.register("viewer_scope_frame", ids)
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT client_id FROM viewer_scope_frame")
            self.con.unregister("viewer_scope_frame")
            self._scope_tables[scope] = table
        return self._scope_tables[scope]

    def _scoped(self, column: str = "client_id") -> str:
        """SQL that holds for a `column` (a client_id) of a client in this view's scope."""
        return "TRUE" if self._scope_table is None else f"{column} IN (SELECT client_id FROM {self._scope_table})"

    def _of(self, client_id: str | None, column: str = "client_id") -> tuple[str, dict]:
        """SQL and its parameters choosing one client's rows (when the scope holds the client), or the
        rows of every client in scope (`client_id` None)."""
        if client_id is not None:
            return f"{column} = $client", {"client": self._own(client_id)}
        return self._scoped(column), {}

    def _own(self, client_id: str | None) -> str | None:
        """`client_id` when the scope holds it; otherwise an id no client has, so that a client outside
        the scope reads exactly as one that does not exist (empty frames, no error)."""
        if client_id is None or self.scope.sees_client(client_id):
            return client_id
        if self._on_outside is not None and client_id not in self._told:
            self._told.add(client_id)
            self._on_outside(client_id)
        return NO_CLIENT

    def _remember_decisions(self, decisions: pd.DataFrame | None, reviews: pd.DataFrame | None) -> None:
        rows = pd.DataFrame(columns=DECISION_COLUMNS) if decisions is None else decisions
        self._decisions = rows
        self._decided_clients = set(rows["client_id"])
        self._decision_ids = set(rows["decision_id"])
        self._reviewed_clients = set() if reviews is None else set(reviews["client_id"])

    def _new_decision_clients(self, decisions: pd.DataFrame | None) -> set[str]:
        if decisions is None or decisions.empty:
            return set()
        return set(decisions.loc[~decisions["decision_id"].isin(self._decision_ids), "client_id"])

    def close(self) -> None:
        self.con.close()

    def _register_scope(self) -> None:
        sources = dict(SCOPED_VIEWS)
        for summary in ("session_summary", "exposure_summary"):
            if not scalar(self.con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [summary]):
                # A warehouse written before the loader kept this table: aggregate the rows here.
                sources[f"scoped_{summary}"] = (
                    f"({numbered_exposures_select('library_names', 'library_levels')})"
                    if summary == "exposure_summary"
                    else f"({SESSION_SUMMARY_SELECT.format(where='')})"
                )
        if self.scope.client_ids is None:
            for scoped, source in sources.items():
                self.con.execute(f"CREATE OR REPLACE TEMP VIEW {scoped} AS SELECT * FROM {source}")
            return
        ids = pd.DataFrame({"client_id": sorted(self.scope.client_ids)}, dtype="str")
        self.con.register("scope_frame", ids)
        self.con.execute("CREATE OR REPLACE TEMP TABLE viewer_scope AS SELECT DISTINCT client_id FROM scope_frame")
        self.con.unregister("scope_frame")
        for scoped, source in sources.items():
            self.con.execute(
                f"""CREATE OR REPLACE TEMP VIEW {scoped} AS
                    SELECT * FROM {source} WHERE client_id IN (SELECT client_id FROM viewer_scope)"""
            )

    def _frame(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        # Through Arrow: faster than .df() for text columns.
        return self.con.sql(sql, params=params or []).to_arrow_table().to_pandas(date_as_object=False)

    # --- per client -------------------------------------------------------------------------------

    def client_metrics(self) -> pd.DataFrame:
        """One row per client: `CLIENT_METRICS_COLUMNS` (flags joined by ";" in priority order, their
        evidence one line each: a note in the evidence is put on one line), then
        the episode (name, region, clinician, cohort, dates, active) and the counts behind the flags."""
        return self._client_rows()

    def _client_rows(
        self,
        client: str | None = None,
        staff: str | None = None,
        cohort: str | None = None,
        active_only: bool = False,
        in_scope: bool = False,
    ) -> pd.DataFrame:
        """Rows of client_metrics with their episode (reads/client_rows.sql), for the clients in scope that
        the filters choose (`in_scope`: the caller has made sure already that they are, as `_own` does for
        one client)."""
        sql = _sql("reads/client_rows").format(in_scope="TRUE" if in_scope else self._scoped("client_id"))
        chosen = {"client": client, "staff": staff, "cohort": cohort, "active_only": active_only}
        return self._frame_named(sql, chosen)

    def client_count(self) -> int:
        """How many clients (episodes) are in scope."""
        return scalar(self.con, f"SELECT count(*) FROM episodes WHERE {self._scoped()}")

    def has_client(self, client_id: str) -> bool:
        return bool(scalar(self.con, "SELECT count(*) FROM episodes WHERE client_id = ?", [self._own(client_id)]))

    def client(self, client_id: str) -> dict | None:
        """One client's row of `client_metrics()` as a dict, with the clinician's and cohort's names;
        None when the client is not in the scope (or not in the warehouse)."""
        client_id = self._own(client_id)
        rows = self._client_rows(client=client_id, in_scope=True)
        if rows.empty:
            return None
        first = rows.iloc[[0]].astype(object)
        row = first.where(first.notna(), None).iloc[0].to_dict()  # a missing value (NaN, NaT, NA) is None
        staff, cohorts = self._names()
        row["clinician_name"] = staff.get(row["clinician_id"])
        row["cohort_name"] = cohorts.get(row["cohort_id"])
        return row

    def _names(self) -> tuple[dict[str, str], dict[str, str]]:
        """Staff and cohort names by id, of the whole roster (a name is not a client's data), remembered:
        the staff and cohorts views pick each id's newest version, which costs more than a client lookup."""
        kept = ("names",)
        if kept not in self._memo:
            staff = dict(self.con.execute("SELECT staff_id, name FROM staff").fetchall())
            cohorts = dict(self.con.execute("SELECT cohort_id, name FROM cohorts").fetchall())
            self._memo[kept] = (staff, cohorts)
        return self._memo[kept]

    def measures(self, client_id: str) -> pd.DataFrame:
        """A client's outcome scores in date order: measured_on, instrument, score."""
        return self._frame(
            """SELECT measured_on, instrument, score FROM scoped_measures
               WHERE client_id = ? AND measured_on <= ? ORDER BY instrument, measured_on""",
            [self._own(client_id), self.today],
        )

    def exposures(self, client_id: str) -> pd.DataFrame:
        """A client's exposures (docs/recommendations.md) for the exercise-level timeline: session_date, family,
        family_label, level, exercise (the library's name of the level, else the name logged), stretch."""
        return self._frame(
            """SELECT session_date, family, family_label, level, exercise, stretch FROM client_exposures
                WHERE client_id = ? AND session_date <= ? ORDER BY session_date, family""",
            [self._own(client_id), self.today],
        )

    def session_log(self, client_id: str) -> pd.DataFrame:
        """A client's session-log rows up to today, newest first, as logged (for the filterable log)."""
        return self._frame(
            """SELECT session_date, session_type, attended, exercise, level, side, sets, reps, hold_s, resistance,
                      pain_before, pain_during, pain_after, pain_next_day, rpe, form, notes, staff_id
               FROM scoped_session_log WHERE client_id = ? AND session_date <= ?
               ORDER BY session_date DESC, session_type, source_file, source_row""",
            [self._own(client_id), self.today],
        )

    def exercise_levels(self, ladder: str) -> pd.DataFrame:
        """The levels of one ladder of the exercise library, easiest first, with their target dose
        (what a clinician may choose from when overriding a recommendation)."""
        return self._frame(
            """SELECT level, exercise, dose_sets, dose_reps, dose_hold_s, each_side
               FROM library_levels WHERE ladder = ? ORDER BY level""",
            [ladder],
        )

    def staff(self) -> pd.DataFrame:
        """The roster: staff_id, name, role, with how many of the active clients in scope each has as
        clinician (the caseload's clinician picker lists those with any)."""
        return self._remembered("staff", lambda: self._staff())

    def _staff(self) -> pd.DataFrame:
        return self._frame(
            f"""SELECT s.staff_id, s.name, s.role,
                       count(*) FILTER (WHERE m.active) AS active_clients
                FROM staff AS s
                LEFT JOIN episodes AS e ON e.clinician_id = s.staff_id AND {self._scoped("e.client_id")}
                LEFT JOIN client_metrics AS m USING (client_id)
                GROUP BY ALL ORDER BY s.name, s.staff_id"""
        )

    def client_weekly(self, client_id: str | None = None) -> pd.DataFrame:
        """Attended sessions against target per program week, with the week's adherence and mean pain."""
        whose, params = self._of(client_id)
        return self._frame(
            f"""SELECT client_id, program_week, attended, target, least(attended, target) / target AS adherence,
                       mean_pain
                FROM weekly WHERE {whose} ORDER BY client_id, program_week""",
            params,
        )

    def function_change(self, client_id: str | None = None) -> pd.DataFrame:
        whose, params = self._of(client_id)
        return self._frame(
            f"""SELECT {", ".join(FUNCTION_CHANGE_COLUMNS)}, scores, first_on, latest_on
                FROM function_change WHERE {whose} ORDER BY client_id, instrument""",
            params,
        )

    def sessions(self, client_id: str) -> pd.DataFrame:
        """A client's sessions: date, type, program week, attended, session pain, flare, red-flag note."""
        return self._frame(
            """SELECT s.session_date, s.session_type, s.day // 7 + 1 AS program_week, s.attended, s.session_pain,
                      s.flare,
                      EXISTS (SELECT 1 FROM red_flag_notes AS r WHERE r.client_id = s.client_id
                              AND r.session_date = s.session_date
                              AND r.session_type IS NOT DISTINCT FROM s.session_type) AS red_flag
               FROM sessions AS s
               WHERE s.client_id = ? ORDER BY s.session_date, s.session_type""",
            [self._own(client_id)],
        )

    def pain_points(self, client_id: str) -> pd.DataFrame:
        return self._frame(
            "SELECT pain_on, day, pain, source FROM pain_points WHERE client_id = ? ORDER BY pain_on, source",
            [self._own(client_id)],
        )

    def red_flag_notes(self, client_id: str | None = None) -> pd.DataFrame:
        """The session notes that are red flags, newest first, with the signs each mentions and whether
        a review covers it (a review covers the notes dated on or before its day)."""
        whose, params = self._of(client_id, "n.client_id")
        notes = self._frame(
            f"""SELECT n.client_id, n.session_date, n.session_type, n.note,
                       coalesce(n.session_date <= r.reviewed_until, false) AS reviewed
                FROM red_flag_notes AS n
                LEFT JOIN (SELECT client_id, max(reviewed_on) AS reviewed_until FROM red_flag_reviews
                           GROUP BY client_id) AS r USING (client_id)
                WHERE {whose} ORDER BY n.session_date DESC, n.client_id, n.session_type, n.note""",
            params,
        )
        return notes.assign(signs=[", ".join(self.red_flag_words.signs_in(n)) for n in notes["note"]])

    def decisions(self, client_id: str) -> pd.DataFrame:
        """A client's decisions on recommendations made by today, oldest first: the rows of
        `analytics.decisions.read_decisions` these analytics were built with, and `decider`, the name
        of who decided (the progress report lists them without opening the records again)."""
        rows = self._decisions
        by_today = rows["decided_on"].astype(str) <= self.today.isoformat()
        mine = rows[(rows["client_id"] == self._own(client_id)) & by_today]
        return mine.assign(decider=mine["decided_by"].map(self._names()[0])).reset_index(drop=True)

    def red_flag_reviews(self, client_id: str) -> pd.DataFrame:
        """A client's red-flag reviews made by today, newest first: reviewed_on, reviewed_by (and their
        name), outcome, referred_to, note."""
        return self._frame(
            """SELECT r.review_id, r.reviewed_on, r.reviewed_by, s.name AS reviewer, r.outcome, r.referred_to, r.note
               FROM red_flag_reviews AS r LEFT JOIN staff AS s ON s.staff_id = r.reviewed_by
               WHERE r.client_id = ? ORDER BY r.reviewed_on DESC, r.review_id DESC""",
            [self._own(client_id)],
        )

    def recommendations(self, client_id: str | None = None) -> pd.DataFrame:
        """One recommendation per client and exercise ladder done in the last `EXERCISE_DAYS` (docs/recommendations.md):
        the current exercise and dose, the decision, the next exercise and dose, and the evidence
        (every rule with the client's numbers and ✓ / ✗; `reasons` is the same joined by "; ")."""
        whose, params = self._of(client_id)
        self._words.keep(params.get("client"))
        frame = self._frame(
            f"SELECT * FROM recommendation_text WHERE {whose} ORDER BY client_id, family NULLS LAST, ladder", params
        )
        whole = ["level", "sets", "next_level", "next_sets", "exposures_at_level"]
        return frame.astype(dict.fromkeys(whole, "Int64"))

    def _frame_named(self, sql: str, params: dict[str, object]) -> pd.DataFrame:
        table = self.con.sql(sql, params=_used(sql, params)).to_arrow_table()
        return table.to_pandas(date_as_object=False)

    # --- caseload ---------------------------------------------------------------------------------

    def caseload(self, staff_id: str | None, active_only: bool = True) -> pd.DataFrame:
        """A clinician's clients (`None`: every clinician's), most urgent first: by their highest flag,
        then the next, then name; `weekly_pain` is the list of weekly mean pains (the sparkline)."""
        clients = self._client_rows(staff=staff_id, active_only=active_only)
        sparklines = self._frame_named(_sql("reads/sparklines"), {"staff": staff_id})
        weekly_pain = dict(zip(sparklines["client_id"], sparklines["weekly_pain"], strict=True))
        clients["weekly_pain"] = [weekly_pain.get(client_id) for client_id in clients["client_id"]]
        priority = clients["flags"].map(flag_priority)
        return (
            clients.assign(priority=priority)
            .sort_values(["priority", "display_name", "client_id"], ascending=[False, True, True])
            .drop(columns="priority")
            .reset_index(drop=True)
        )

    # --- cohorts ----------------------------------------------------------------------------------

    def cohort_summary(self) -> pd.DataFrame:
        """One row per cohort with members in scope: members, adherence median and quartiles, the share (and
        the number) of members adherent and improved in pain, and how many have pain data."""
        return self._remembered("cohort_summary", lambda: self._cohort_summary())

    def _cohort_summary(self) -> pd.DataFrame:
        return self._frame(
            f"""SELECT e.cohort_id, c.name, c.instructor_id, count(*) AS members,
                       median(m.adherence_overall) AS adherence_median,
                       quantile_cont(m.adherence_overall, 0.25) AS adherence_q1,
                       quantile_cont(m.adherence_overall, 0.75) AS adherence_q3,
                       count(*) FILTER (WHERE m.adherence_overall >= $adherent) / count(*) AS share_adherent,
                       count(*) FILTER (WHERE m.pain_status = 'improved') / count(*) AS share_improved,
                       count(*) FILTER (WHERE m.pain_status <> 'not enough data') AS members_with_pain_data,
                       count(*) FILTER (WHERE m.adherence_overall >= $adherent) AS members_adherent,
                       count(*) FILTER (WHERE m.pain_status = 'improved') AS members_improved
                FROM client_metrics AS m
                JOIN episodes AS e USING (client_id)
                LEFT JOIN cohorts AS c ON c.cohort_id = e.cohort_id
                WHERE e.cohort_id IS NOT NULL AND {self._scoped("m.client_id")}
                GROUP BY ALL ORDER BY e.cohort_id""",
            {"adherent": d.ADHERENT},
        )

    def cohorts(self) -> pd.DataFrame:
        """Every cohort of the roster that the scope may open (its members in scope may be none):
        cohort_id, name, instructor_id, instructor (name), start_date, weeks, schedule, members (in scope)."""
        return self._remembered("cohorts", lambda: self._cohorts())

    def _cohorts(self) -> pd.DataFrame:
        roster = self._frame(
            f"""SELECT c.cohort_id, c.name, c.instructor_id, s.name AS instructor, c.start_date, c.weeks, c.schedule,
                       (SELECT count(*) FROM episodes AS e
                        WHERE e.cohort_id = c.cohort_id AND {self._scoped("e.client_id")}) AS members
                FROM cohorts AS c LEFT JOIN staff AS s ON s.staff_id = c.instructor_id
                ORDER BY c.start_date DESC NULLS LAST, c.name, c.cohort_id"""
        )
        if self.scope.cohort_ids is None:
            return roster
        return roster[roster["cohort_id"].isin(self.scope.cohort_ids)].reset_index(drop=True)

    def cohort_members(self, cohort_id: str) -> pd.DataFrame:
        return self._client_rows(cohort=cohort_id)

    def cohort_weekly(self, cohort_id: str | None = None) -> pd.DataFrame:
        """Mean pain by program week with the t-based 95 % interval (none when n = 1), over the members
        in scope."""
        sql = _sql("reads/cohort_weekly").format(in_scope=self._scoped("w.client_id"))
        weekly = self._remembered("cohort_weekly", lambda: self._frame(sql))
        if cohort_id is not None:
            weekly = weekly[weekly["cohort_id"] == cohort_id].reset_index(drop=True)
        weekly["ci_low"], weekly["ci_high"] = t_interval(weekly["mean_pain"], weekly["sd"], weekly["n"])
        return weekly[COHORT_WEEKLY_COLUMNS]

    def attendance_grid(self, cohort_id: str) -> pd.DataFrame:
        """Members × program weeks: attended sessions (the cells), for a cohort's attendance grid."""
        return self._frame(
            f"""SELECT w.client_id, e.display_name, w.program_week, w.attended, w.target
               FROM weekly AS w JOIN episodes AS e USING (client_id)
               WHERE e.cohort_id = ? AND {self._scoped("w.client_id")}
               ORDER BY e.display_name, w.client_id, w.program_week""",
            [cohort_id],
        )


def flag_priority(flags: str) -> int:
    """A number that sorts clients by their highest flag, then their next highest, and so on."""
    names = set(flags.split(";")) if flags else set()
    return sum(2 ** (len(d.FLAGS) - rank) for rank, flag in enumerate(d.FLAGS) if flag in names)


def t_interval(mean: pd.Series, sd: pd.Series, n: pd.Series) -> tuple[pd.Series, pd.Series]:
    """mean ± t(0.975, n-1) · sd / √n, with the sample sd; no interval (NaN) for one value."""
    several = n >= 2
    half = pd.Series(student_t.ppf(0.975, (n - 1).where(several)), index=n.index) * sd / n.pow(0.5)
    return (mean - half).where(several), (mean + half).where(several)


class _Words:
    """The recommendations in words (recommendation_text.sql) kept in the table `recommendation_text`,
    made when first read: of every client of the build (a server, `hipline recommend`), or of the
    clients read one at a time (a report), so that one client's words never wait for everyone's.
    Shared by the views of one build (`Analytics.within`)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, params: dict[str, object]) -> None:
        self.con, self.params = con, params
        self.everyone = False
        self.clients: set[str] = set()

    def keep(self, client_id: str | None) -> None:
        """Make sure the table holds the words of `client_id` (None: of every client)."""
        if self.everyone or (client_id is not None and client_id in self.clients):
            return
        sql = _sql("recommendation_text")
        select = _used(sql, {**self.params, "client_id": client_id})
        if client_id is None or not self.clients:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE recommendation_text AS {sql}", select)
        else:
            self.con.execute(f"INSERT INTO recommendation_text {sql}", select)
        if client_id is None:
            self.everyone, self.clients = True, set()
        else:
            self.clients.add(client_id)

    def forget(self, client_ids: set[str]) -> None:
        """The words of these clients are stale (a decision or a review): write them again (when every
        client's are kept) or drop them until they are read again."""
        for client_id in sorted(client_ids):
            if self.everyone:
                self.con.execute("DELETE FROM recommendation_text WHERE client_id = ?", [client_id])
                sql = _sql("recommendation_text")
                self.con.execute(
                    f"INSERT INTO recommendation_text {sql}", _used(sql, {**self.params, "client_id": client_id})
                )
            elif client_id in self.clients:
                self.con.execute("DELETE FROM recommendation_text WHERE client_id = ?", [client_id])
                self.clients.discard(client_id)
