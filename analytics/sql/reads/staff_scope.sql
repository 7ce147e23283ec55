-- Whom a member of staff may see (docs/security.md#roles-and-what-each-may-do), from the roster: one row per
-- client (kind 'client') and per cohort (kind 'cohort'). A physio ($role 'physio') sees the clients of the
-- build whose clinician they are; an instructor ('instructor') the members of the cohorts they instruct.
-- The cohorts they may open are those they instruct and those of the clients they see.
WITH seen AS (
    SELECT client_id, cohort_id
    FROM scoped_clients
    WHERE CASE $role
        WHEN 'physio' THEN clinician_id = $staff
        WHEN 'instructor' THEN cohort_id IN (SELECT cohort_id FROM cohorts WHERE instructor_id = $staff)
    END
)
SELECT 'client' AS kind, client_id AS id FROM seen
UNION ALL
SELECT 'cohort', cohort_id FROM cohorts WHERE instructor_id = $staff AND $role = 'instructor'
UNION ALL
SELECT 'cohort', cohort_id FROM seen WHERE cohort_id IS NOT NULL;
