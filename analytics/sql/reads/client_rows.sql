-- The clients' rows of client_metrics with their episode (docs/metrics.md#per-client): those in the
-- viewer's scope ({in_scope}: on client_id) that the filters choose, each filter off when NULL:
-- one client ($client), a clinician's clients ($staff), a cohort's members ($cohort); and only the
-- active ones when $active_only. The first ten columns are what `hipline metrics` writes.
SELECT
    client_id, program_week, adherence_overall, adherence_last_4_weeks, pain_baseline, pain_current,
    pain_trend_per_week, pain_status, flags, flag_evidence,
    display_name, region, sessions_per_week, clinician_id, cohort_id, start_date, end_date, goals, active,
    last_session, recent_sessions, recent_flares, recent_red_flags, function_improved, exercises_to_progress,
    open_red_flags, on_hold, review_outcome, reviewed_on, referred_to
FROM client_metrics
WHERE ($client IS NULL OR client_id = $client)
    AND ($staff IS NULL OR clinician_id = $staff)
    AND ($cohort IS NULL OR cohort_id = $cohort)
    AND (active OR NOT $active_only)
    AND {in_scope}
ORDER BY client_id;
