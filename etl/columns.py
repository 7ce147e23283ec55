"""The input contract (docs/input-formats.md): the five kinds of record, their columns, and the names clinics use.

Headers are matched after normalising them: lower case, runs of spaces and punctuation turned into
one underscore (`"Hold (s)"` -> `hold_s`, `"Client ID"` -> `client_id`). Each kind lists the
aliases it accepts; the full table is printed by `hipline columns` and kept in docs/input-formats.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KINDS = ("staff", "cohorts", "clients", "session_log", "measures")
# Reference records are loaded before the records that point at them.
LOAD_ORDER = {kind: i for i, kind in enumerate(KINDS)}


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordKind:
    kind: str
    description: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def resolve(self, header: str) -> str | None:
        """The canonical column a header names, or None."""
        key = normalise_header(header)
        for column in self.columns:
            if key == column.name or key in column.aliases:
                return column.name
        return None


def normalise_header(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", header.strip().lower()).strip("_")


STAFF = RecordKind(
    "staff",
    "a clinician or instructor",
    (
        Column("staff_id", True, ("id", "staff", "staff_number", "staff_no", "employee_id")),
        Column("name", True, ("full_name", "staff_name")),
        Column("role", True, ("job", "job_title", "position", "profession")),
        Column("email", False, ("e_mail", "email_address")),
    ),
)

COHORTS = RecordKind(
    "cohorts",
    "a class or group",
    (
        Column("cohort_id", True, ("cohort", "class_id", "group_id", "class", "group")),
        Column("name", True, ("cohort_name", "class_name", "group_name", "title")),
        Column("instructor_id", True, ("instructor", "teacher", "instructor_staff_id", "led_by")),
        Column("start_date", True, ("start", "starts", "first_class", "start_day")),
        Column("weeks", False, ("length_weeks", "duration_weeks", "n_weeks", "number_of_weeks")),
        Column("schedule", False, ("time", "timetable", "when", "day_and_time")),
    ),
)

CLIENTS = RecordKind(
    "clients",
    "a client's episode of care",
    (
        Column(
            "client_id",
            True,
            ("patient_id", "client", "patient", "clientid", "client_no", "patient_no", "client_number"),
        ),
        Column("start_date", True, ("start", "episode_start", "referral_date", "first_session", "start_day")),
        Column("region", True, ("body_region", "area", "problem_area", "condition_region")),
        Column(
            "sessions_per_week",
            True,
            (
                "target_sessions_per_week",
                "sessions_week",
                "sessions_a_week",
                "sessions_wk",
                "sessions_per_wk",
                "frequency",
                "target_per_week",
                "weekly_target",
            ),
        ),
        Column("display_name", False, ("name", "client_name", "patient_name", "full_name")),
        Column("birth_year", False, ("year_of_birth", "yob", "born")),
        Column("clinician_id", False, ("clinician", "physio", "physio_id", "therapist", "therapist_id")),
        Column("cohort_id", False, ("cohort", "class", "class_id", "group", "group_id")),
        Column("end_date", False, ("end", "discharge_date", "discharged", "discharged_on", "end_day")),
        Column("goals", False, ("goal", "client_goals", "aims")),
    ),
)

SESSION_LOG = RecordKind(
    "session_log",
    "one exercise done, or a missed session",
    (
        Column("client_id", True, CLIENTS.columns[0].aliases),
        Column("session_date", True, ("date", "session_day", "visit_date", "day", "session")),
        Column("attended", True, ("attendance", "present", "came", "did_attend")),
        Column("session_type", False, ("type", "setting", "location", "session_kind")),
        Column("exercise", False, ("exercise_name", "activity", "movement")),
        Column("level", False, ("progression_level", "stage", "exercise_level")),
        Column("sets", False, ("no_sets", "number_of_sets", "set_count")),
        Column("reps", False, ("repetitions", "no_reps", "number_of_reps", "rep_count")),
        Column(
            "hold_s",
            False,
            ("hold", "hold_seconds", "hold_sec", "hold_secs", "hold_time", "hold_time_s", "seconds"),
        ),
        Column("resistance", False, ("load", "band", "spring", "equipment")),
        Column("side", False, ("leg", "limb")),
        Column("pain_before", False, ("pain_pre", "pre_pain", "pain_start")),
        Column("pain_during", False, ("pain", "pain_in_session", "pain_exercise")),
        Column("pain_after", False, ("pain_post", "post_pain", "pain_end")),
        Column("pain_next_day", False, ("next_day_pain", "pain_24h", "pain_24_h", "pain_next_morning")),
        Column("rpe", False, ("borg", "borg_cr10", "effort", "exertion")),
        Column("form", False, ("technique", "quality", "form_rating")),
        Column("notes", False, ("note", "comment", "comments", "remarks")),
        Column("staff_id", False, ("staff", "clinician", "instructor", "therapist", "staff_member", "seen_by")),
    ),
)

MEASURES = RecordKind(
    "measures",
    "one outcome score on a date",
    (
        Column("client_id", True, CLIENTS.columns[0].aliases),
        Column(
            "measured_on",
            True,
            ("date", "measure_date", "assessment_date", "measured", "date_measured", "taken_on"),
        ),
        Column("instrument", True, ("measure", "outcome", "outcome_measure", "test", "questionnaire", "scale")),
        # A score may be left out when item responses are given to score it from (ODI, LEFS, PSFS).
        Column("score", False, ("value", "result", "total", "total_score")),
        Column("items", False, ("item_responses", "responses", "answers", "item_scores")),
    ),
)

RECORD_KINDS: dict[str, RecordKind] = {k.kind: k for k in (STAFF, COHORTS, CLIENTS, SESSION_LOG, MEASURES)}
