-- A client's ($client) session-log rows up to $today, newest first, as logged.
SELECT
    session_date, session_type, attended, exercise, level, side, sets, reps, hold_s, resistance,
    pain_before, pain_during, pain_after, pain_next_day, rpe, form, notes, staff_id
FROM scoped_session_log
WHERE client_id = $client AND session_date <= $today
ORDER BY session_date DESC, session_type, source_file, source_row;
