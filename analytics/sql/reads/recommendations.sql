-- The recommendations in words (recommendation_text.sql, docs/recommendations.md): of one client ($client)
-- or, when $client is NULL, of every client in the viewer's scope ({in_scope}: on client_id).
SELECT *
FROM recommendation_text
WHERE ($client IS NULL OR client_id = $client) AND {in_scope}
ORDER BY client_id, family NULLS LAST, ladder;
