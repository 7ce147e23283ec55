-- A client's ($client) exposures up to $today (docs/recommendations.md), for the exercise-level timeline.
SELECT session_date, family, family_label, level, exercise, stretch
FROM client_exposures
WHERE client_id = $client AND session_date <= $today
ORDER BY session_date, family;
