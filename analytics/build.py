"""The build: the analytics of the clients of one scope on one day, as temporary tables of a warehouse
connection, each made by one file of `analytics/sql/`, in BUILD_ORDER.

The scope is applied once, in temporary views (`scoped_clients`, `scoped_session_log`,
`scoped_session_summary`, `scoped_exposure_summary`, `scoped_measures`: analytics.scoped), and the SQL files
read only those:

    episodes -> sessions, red_flag_notes, nprs_scores -> pain_points (a view) -> weekly -> function_change
             -> exposure_runs -> recommendations (docs/recommendations.md, analytics/progressions.py) -> client_metrics

Newly recorded decisions and red-flag reviews rebuild only the steps that read them (`Build.use_decisions`);
a server readies the tables for reads of one client at a time (`Build.prepare_for_pages`). The reads of
these tables are analytics.metrics.
"""

from __future__ import annotations

import time
from datetime import date

import duckdb
import pandas as pd

from analytics import definitions as d
from analytics.decisions import COLUMNS as DECISION_COLUMNS
from analytics.progressions import MACROS, register_decisions, register_library
from analytics.queries import run, sql_file, used
from analytics.red_flags import RedFlagWords
from analytics.reviews import register_reviews
from analytics.scope import Scope
from analytics.scoped import ScopeTables, register_scoped_views

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
# The per-client tables a page reads one client from (Build.prepare_for_pages indexes them).
INDEXED_BY_CLIENT = (
    "episodes", "sessions", "red_flag_notes", "nprs_scores", "weekly", "function_change", "client_metrics",
    "recommendation_text",
)  # fmt: skip
# Views over the build that a server keeps as tables (prepare_for_pages): one client's rows come several
# times faster from an indexed table than from a view over every exposure of the warehouse.
KEPT_FOR_PAGES = ("client_exposures", "pain_sparklines")


def parameters(today: date, words: RedFlagWords) -> dict[str, object]:
    """The `$name` parameters of the build's SQL files: the thresholds of analytics.definitions."""
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


class Build:
    """The built tables of one scope on one day, in `con`, with what the views of them share
    (Analytics.within): the tables of the viewers' scopes and the frames the reads keep (`memo`)."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        scope: Scope,
        today: date,
        red_flag_words: RedFlagWords,
        decisions: pd.DataFrame | None,
        reviews: pd.DataFrame | None,
    ) -> None:
        self.con = con
        self.today = today
        self.params = parameters(today, red_flag_words)
        for macro in MACROS:
            con.execute(macro)
        register_library(con)
        register_scoped_views(con, scope)
        register_decisions(con, decisions, today)
        register_reviews(con, reviews, today)
        thresholds = pd.DataFrame(d.function_instruments(), columns=["instrument", "threshold", "higher_is_better"])
        con.register("function_threshold_frame", thresholds)
        con.execute("CREATE OR REPLACE TEMP TABLE function_thresholds AS SELECT * FROM function_threshold_frame")
        con.unregister("function_threshold_frame")
        self.build_seconds: dict[str, float] = {}  # per table, for the benchmark
        self.indexed = False
        self.words = _Words(con, self.params)
        self.memo: dict = {}  # what the reads keep of this build (Analytics._remembered); a rebuild forgets it
        self.scope_tables = ScopeTables(con)
        self._remember_decisions(decisions, reviews)
        self._run(BUILD_ORDER)

    def _run(self, steps: tuple[str, ...]) -> None:
        for name in steps:
            started = time.perf_counter()
            run(self.con, sql_file(name), self.params).fetchall()
            self.build_seconds[name] = time.perf_counter() - started

    def use_decisions(self, decisions: pd.DataFrame | None, reviews: pd.DataFrame | None) -> None:
        """Take newly recorded decisions and red-flag reviews into account: only the steps that read them
        are rebuilt (a decision can change the current level, hence the recommendations and the ready
        flag; a review the refer and on_hold flags and rule 1)."""
        register_decisions(self.con, decisions, self.today)
        register_reviews(self.con, reviews, self.today)
        rebuilt = BUILD_ORDER[BUILD_ORDER.index("exposure_runs") :]
        self._run(rebuilt)
        self.memo.clear()
        if self.indexed:
            self._index_by_client(tuple(t for t in INDEXED_BY_CLIENT if t in rebuilt))
        decided = set() if decisions is None else set(decisions["client_id"])
        reviewed = set() if reviews is None else set(reviews["client_id"])
        # A decision or a review changes its own client's recommendations only (reviews are few:
        # the words of every reviewed client are written again).
        changed = decided ^ self._decided_clients | self._new_decision_clients(decisions)
        self.words.forget(changed | reviewed | self._reviewed_clients)
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
        self.words.keep(None)
        self.build_seconds["recommendation_text"] = time.perf_counter() - started
        started = time.perf_counter()
        for view in KEPT_FOR_PAGES:
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {view}_kept AS SELECT * FROM {view}")
            self.con.execute(f"DROP VIEW {view}")
            self.con.execute(f"ALTER TABLE {view}_kept RENAME TO {view}")
        self._index_by_client((*INDEXED_BY_CLIENT, *KEPT_FOR_PAGES))
        self.indexed = True
        self.build_seconds["indexes"] = time.perf_counter() - started

    def _index_by_client(self, tables: tuple[str, ...]) -> None:
        for table in tables:
            self.con.execute(f"CREATE INDEX IF NOT EXISTS {table}_by_client ON {table} (client_id)")

    def _remember_decisions(self, decisions: pd.DataFrame | None, reviews: pd.DataFrame | None) -> None:
        rows = pd.DataFrame(columns=DECISION_COLUMNS) if decisions is None else decisions
        self.decisions = rows  # the decisions the build took in (analytics.decisions.read_decisions)
        self._decided_clients = set(rows["client_id"])
        self._decision_ids = set(rows["decision_id"])
        self._reviewed_clients = set() if reviews is None else set(reviews["client_id"])

    def _new_decision_clients(self, decisions: pd.DataFrame | None) -> set[str]:
        if decisions is None or decisions.empty:
            return set()
        return set(decisions.loc[~decisions["decision_id"].isin(self._decision_ids), "client_id"])


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
        sql = sql_file("recommendation_text")
        select = used(sql, {**self.params, "client_id": client_id})
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
                sql = sql_file("recommendation_text")
                self.con.execute(
                    f"INSERT INTO recommendation_text {sql}", used(sql, {**self.params, "client_id": client_id})
                )
            elif client_id in self.clients:
                self.con.execute("DELETE FROM recommendation_text WHERE client_id = ?", [client_id])
                self.clients.discard(client_id)
