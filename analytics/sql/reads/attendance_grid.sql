-- A cohort's ($cohort) attendance grid (docs/metrics.md#per-cohort): attended sessions and target per member
-- in the viewer's scope ({in_scope}: on w.client_id) and program week.
SELECT w.client_id, e.display_name, w.program_week, w.attended, w.target
FROM weekly AS w
JOIN episodes AS e USING (client_id)
WHERE e.cohort_id = $cohort AND {in_scope}
ORDER BY e.display_name, w.client_id, w.program_week;
