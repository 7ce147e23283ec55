-- The session notes that are red flags, newest first, of one client ($client) or, when $client is NULL,
-- of every client in the viewer's scope ({in_scope}: on n.client_id); `reviewed` when a review covers the
-- note (a review covers the notes dated on or before its day).
SELECT
    n.client_id, n.session_date, n.session_type, n.note,
    coalesce(n.session_date <= r.reviewed_until, false) AS reviewed
FROM red_flag_notes AS n
LEFT JOIN (
    SELECT client_id, max(reviewed_on) AS reviewed_until FROM red_flag_reviews GROUP BY client_id
) AS r USING (client_id)
WHERE ($client IS NULL OR n.client_id = $client) AND {in_scope}
ORDER BY n.session_date DESC, n.client_id, n.session_type, n.note;
