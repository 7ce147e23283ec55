-- A client's ($client) sessions: date, type, program week, attended, session pain, flare, and whether a
-- red-flag note was written in it.
SELECT
    s.session_date, s.session_type, s.day // 7 + 1 AS program_week, s.attended, s.session_pain, s.flare,
    EXISTS (
        SELECT 1 FROM red_flag_notes AS r
        WHERE r.client_id = s.client_id
            AND r.session_date = s.session_date
            AND r.session_type IS NOT DISTINCT FROM s.session_type
    ) AS red_flag
FROM sessions AS s
WHERE s.client_id = $client
ORDER BY s.session_date, s.session_type;
