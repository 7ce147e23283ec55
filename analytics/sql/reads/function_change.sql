-- Function change per instrument (docs/metrics.md#function-change-thresholds): of one client ($client) or,
-- when $client is NULL, of every client in the viewer's scope ({in_scope}: on client_id). The first seven
-- columns are what `hipline metrics` writes (FUNCTION_CHANGE_COLUMNS).
SELECT
    client_id, instrument, first_score, latest_score, change, threshold, status,
    scores, first_on, latest_on
FROM function_change
WHERE ($client IS NULL OR client_id = $client) AND {in_scope}
ORDER BY client_id, instrument;
