-- Attended sessions against target per program week, with the week's adherence and mean pain
-- (docs/metrics.md#per-client): of one client ($client) or, when $client is NULL, of every client in
-- the viewer's scope ({in_scope}: on client_id).
SELECT
    client_id, program_week, attended, target, least(attended, target) / target AS adherence, mean_pain
FROM weekly
WHERE ($client IS NULL OR client_id = $client) AND {in_scope}
ORDER BY client_id, program_week;
