"""Every number of docs/metrics.md for the clients of one scope, on one day, as pandas frames.

`Analytics.open(db, scope, today)` opens the warehouse read-only and builds the analytics in the
connection (analytics.build); the read methods then run the files of `analytics/sql/reads/`, one a read,
and shape their rows for the pages, the reports and `hipline metrics`. Nothing here reads the warehouse
outside the scope.

A server builds the analytics of every client once per day and hands each request a view of them
narrowed to its viewer's scope (`within`): the same tables, every read filtered to the clients the
viewer may see (analytics.scoped), and the cohort roll-ups computed over those clients only.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd

from analytics import definitions as d
from analytics.build import Build
from analytics.decisions import read_decisions
from analytics.queries import frame, sql_file, used
from analytics.red_flags import RedFlagWords, load_red_flag_words
from analytics.reviews import read_reviews
from analytics.scope import Scope
from analytics.scoped import Narrowing, roster_scope
from analytics.today import Today, resolve_today
from etl.warehouse import connect_read_only, scalar

MEMO_LIMIT = 256  # frames kept per build: a few per viewer

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
        self._narrowing = Narrowing(scope)  # the build holds only the clients of `scope`: nothing to narrow
        self.today = resolve_today(today, con)
        self.red_flag_words = red_flag_words or load_red_flag_words()
        self._build = Build(con, scope, self.today, self.red_flag_words, decisions, reviews)

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

    @property
    def build_seconds(self) -> dict[str, float]:
        """Seconds per step of the build (analytics.build.BUILD_ORDER), for the benchmark."""
        return self._build.build_seconds

    def use_decisions(self, decisions: pd.DataFrame | None, reviews: pd.DataFrame | None) -> None:
        """Take newly recorded decisions and red-flag reviews into account (analytics.build.Build.use_decisions:
        only the steps that read them are rebuilt)."""
        self._build.use_decisions(decisions, reviews)

    def prepare_for_pages(self) -> None:
        """Ready the tables for a server that reads one client, clinician or cohort at a time: the same reads,
        faster (analytics.build.Build.prepare_for_pages)."""
        self._build.prepare_for_pages()

    def close(self) -> None:
        self.con.close()

    # --- the viewer's scope -----------------------------------------------------------------------

    def scope_of(self, role: str, staff_id: str) -> Scope:
        """The scope of a signed-in member of staff (docs/security.md#roles-and-what-each-may-do), from the
        roster: a physio sees the clients whose clinician they are; an instructor the members of the cohorts
        they instruct; an admin every client. The cohorts they may open are those they instruct and those of
        the clients they see. Any other role sees nothing."""
        if role == "admin":
            return self.scope
        if role not in ("physio", "instructor"):
            return Scope.only([], [])
        kept = ("scope", role, staff_id)
        if kept not in self._build.memo:
            self._build.memo[kept] = roster_scope(self.con, role, staff_id)
        return self.scope.within(self._build.memo[kept])

    def within(self, scope: Scope, on_outside: Callable[[str], None] | None = None) -> Analytics:
        """These analytics as a viewer with `scope` sees them: the same built tables (nothing is
        rebuilt), every read narrowed to the clients of `scope` (intersected with this one's).
        `on_outside(client_id)` is told, once per client, of a read asked for a client outside the
        scope (the pages audit it); the read itself answers as for a client that does not exist."""
        view = copy.copy(self)
        view.scope = self.scope.within(scope)
        view._narrowing = Narrowing(view.scope, self._build.scope_tables.of(view.scope), on_outside)
        return view

    def _own(self, client_id: str | None) -> str | None:
        return self._narrowing.own(client_id)

    # --- running the reads ------------------------------------------------------------------------

    def _read(self, name: str, params: dict[str, object] | None = None, in_scope: str | None = None) -> pd.DataFrame:
        """The rows of reads/<name>.sql; `in_scope` is the SQL its `{in_scope}` stands for (Narrowing.in_scope)."""
        return frame(self.con, self._sql(name, in_scope), params or {})

    def _count(self, name: str, params: dict[str, object] | None = None, in_scope: str | None = None) -> int:
        sql = self._sql(name, in_scope)
        return scalar(self.con, sql, used(sql, params or {}))

    @staticmethod
    def _sql(name: str, in_scope: str | None) -> str:
        sql = sql_file(f"reads/{name}")
        return sql if in_scope is None else sql.format(in_scope=in_scope)

    def _of(self, name: str, client: str | None, column: str = "client_id") -> pd.DataFrame:
        """A read of one client's rows (`client`, an id `_own` has answered), or of the rows of every client
        in scope (`client` None): the read's `$client`, and its `{in_scope}` on `column` for everyone."""
        if client is not None:
            return self._read(name, {"client": client}, in_scope="TRUE")
        return self._read(name, {"client": None}, in_scope=self._narrowing.in_scope(column))

    def _remembered(self, key: str, compute) -> pd.DataFrame:
        """A frame that is the same for every request of this build and scope (the roster, the cohorts):
        computed once, handed out as a copy (copy-on-write: a caller's change never reaches the kept one)."""
        memo, kept = self._build.memo, (key, self.scope)
        if kept not in memo:
            if len(memo) > MEMO_LIMIT:  # one entry per viewer and frame: forget them all now and then
                memo.clear()
            memo[kept] = compute()
        return memo[kept].copy(deep=False)

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
        chosen = {"client": client, "staff": staff, "cohort": cohort, "active_only": active_only}
        return self._read("client_rows", chosen, "TRUE" if in_scope else self._narrowing.in_scope())

    def client_count(self) -> int:
        """How many clients (episodes) are in scope."""
        return self._count("client_count", in_scope=self._narrowing.in_scope())

    def has_client(self, client_id: str) -> bool:
        return bool(self._count("has_client", {"client": self._own(client_id)}))

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
        if kept not in self._build.memo:
            names = (self.con.execute(sql_file(f"reads/{of}_names")).fetchall() for of in ("staff", "cohort"))
            self._build.memo[kept] = tuple(dict(rows) for rows in names)
        return self._build.memo[kept]

    def measures(self, client_id: str) -> pd.DataFrame:
        """A client's outcome scores in date order: measured_on, instrument, score."""
        return self._read("measures", {"client": self._own(client_id), "today": self.today})

    def exposures(self, client_id: str) -> pd.DataFrame:
        """A client's exposures (docs/recommendations.md) for the exercise-level timeline: session_date, family,
        family_label, level, exercise (the library's name of the level, else the name logged), stretch."""
        return self._read("exposures", {"client": self._own(client_id), "today": self.today})

    def session_log(self, client_id: str) -> pd.DataFrame:
        """A client's session-log rows up to today, newest first, as logged (for the filterable log)."""
        return self._read("session_log", {"client": self._own(client_id), "today": self.today})

    def exercise_levels(self, ladder: str) -> pd.DataFrame:
        """The levels of one ladder of the exercise library, easiest first, with their target dose
        (what a clinician may choose from when overriding a recommendation)."""
        return self._read("exercise_levels", {"ladder": ladder})

    def staff(self) -> pd.DataFrame:
        """The roster: staff_id, name, role, with how many of the active clients in scope each has as
        clinician (the caseload's clinician picker lists those with any)."""
        return self._remembered("staff", self._staff)

    def _staff(self) -> pd.DataFrame:
        return self._read("staff", in_scope=self._narrowing.in_scope("e.client_id"))

    def client_weekly(self, client_id: str | None = None) -> pd.DataFrame:
        """Attended sessions against target per program week, with the week's adherence and mean pain."""
        return self._of("client_weekly", self._own(client_id))

    def function_change(self, client_id: str | None = None) -> pd.DataFrame:
        return self._of("function_change", self._own(client_id))

    def sessions(self, client_id: str) -> pd.DataFrame:
        """A client's sessions: date, type, program week, attended, session pain, flare, red-flag note."""
        return self._read("sessions", {"client": self._own(client_id)})

    def pain_points(self, client_id: str) -> pd.DataFrame:
        return self._read("pain_points", {"client": self._own(client_id)})

    def red_flag_notes(self, client_id: str | None = None) -> pd.DataFrame:
        """The session notes that are red flags, newest first, with the signs each mentions and whether
        a review covers it (a review covers the notes dated on or before its day)."""
        notes = self._of("red_flag_notes", self._own(client_id), "n.client_id")
        return notes.assign(signs=[", ".join(self.red_flag_words.signs_in(n)) for n in notes["note"]])

    def decisions(self, client_id: str) -> pd.DataFrame:
        """A client's decisions on recommendations made by today, oldest first: the rows of
        `analytics.decisions.read_decisions` these analytics were built with, and `decider`, the name
        of who decided (the progress report lists them without opening the records again)."""
        rows = self._build.decisions
        by_today = rows["decided_on"].astype(str) <= self.today.isoformat()
        mine = rows[(rows["client_id"] == self._own(client_id)) & by_today]
        return mine.assign(decider=mine["decided_by"].map(self._names()[0])).reset_index(drop=True)

    def red_flag_reviews(self, client_id: str) -> pd.DataFrame:
        """A client's red-flag reviews made by today, newest first: reviewed_on, reviewed_by (and their
        name), outcome, referred_to, note."""
        return self._read("red_flag_reviews", {"client": self._own(client_id)})

    def recommendations(self, client_id: str | None = None) -> pd.DataFrame:
        """One recommendation per client and exercise ladder done in the last `EXERCISE_DAYS` (docs/recommendations.md):
        the current exercise and dose, the decision, the next exercise and dose, and the evidence
        (every rule with the client's numbers and ✓ / ✗; `reasons` is the same joined by "; ")."""
        client = self._own(client_id)
        self._build.words.keep(client)
        frame = self._of("recommendations", client)
        whole = ["level", "sets", "next_level", "next_sets", "exposures_at_level"]
        return frame.astype(dict.fromkeys(whole, "Int64"))

    # --- caseload ---------------------------------------------------------------------------------

    def caseload(self, staff_id: str | None, active_only: bool = True) -> pd.DataFrame:
        """A clinician's clients (`None`: every clinician's), most urgent first: by their highest flag,
        then the next, then name; `weekly_pain` is the list of weekly mean pains (the sparkline)."""
        clients = self._client_rows(staff=staff_id, active_only=active_only)
        sparklines = self._read("sparklines", {"staff": staff_id})
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
        return self._remembered("cohort_summary", self._cohort_summary)

    def _cohort_summary(self) -> pd.DataFrame:
        return self._read("cohort_summary", {"adherent": d.ADHERENT}, self._narrowing.in_scope("m.client_id"))

    def cohorts(self) -> pd.DataFrame:
        """Every cohort of the roster that the scope may open (its members in scope may be none):
        cohort_id, name, instructor_id, instructor (name), start_date, weeks, schedule, members (in scope)."""
        return self._remembered("cohorts", self._cohorts)

    def _cohorts(self) -> pd.DataFrame:
        roster = self._read("cohorts", in_scope=self._narrowing.in_scope("e.client_id"))
        if self.scope.cohort_ids is None:
            return roster
        return roster[roster["cohort_id"].isin(self.scope.cohort_ids)].reset_index(drop=True)

    def cohort_members(self, cohort_id: str) -> pd.DataFrame:
        return self._client_rows(cohort=cohort_id)

    def cohort_weekly(self, cohort_id: str | None = None) -> pd.DataFrame:
        """Mean pain by program week with the t-based 95 % interval (none when n = 1), over the members
        in scope."""
        in_scope = self._narrowing.in_scope("w.client_id")
        weekly = self._remembered("cohort_weekly", lambda: self._read("cohort_weekly", in_scope=in_scope))
        if cohort_id is not None:
            weekly = weekly[weekly["cohort_id"] == cohort_id].reset_index(drop=True)
        weekly["ci_low"], weekly["ci_high"] = t_interval(weekly["mean_pain"], weekly["sd"], weekly["n"])
        return weekly[COHORT_WEEKLY_COLUMNS]

    def attendance_grid(self, cohort_id: str) -> pd.DataFrame:
        """Members × program weeks: attended sessions (the cells), for a cohort's attendance grid."""
        return self._read("attendance_grid", {"cohort": cohort_id}, self._narrowing.in_scope("w.client_id"))


def flag_priority(flags: str) -> int:
    """A number that sorts clients by their highest flag, then their next highest, and so on."""
    names = set(flags.split(";")) if flags else set()
    return sum(2 ** (len(d.FLAGS) - rank) for rank, flag in enumerate(d.FLAGS) if flag in names)


def t_interval(mean: pd.Series, sd: pd.Series, n: pd.Series) -> tuple[pd.Series, pd.Series]:
    """mean ± t(0.975, n-1) · sd / √n, with the sample sd; no interval (NaN) for one value."""
    several = n >= 2
    # Imported here: scipy.stats takes over half a second to import, and only the cohort pages need it.
    from scipy.stats import t as student_t

    half = pd.Series(student_t.ppf(0.975, (n - 1).where(several)), index=n.index) * sd / n.pow(0.5)
    return (mean - half).where(several), (mean + half).where(several)
