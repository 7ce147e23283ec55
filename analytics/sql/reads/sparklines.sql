-- The caseload's sparklines: each client's weekly mean pains, oldest week first (pain_sparklines), of
-- a clinician's clients ($staff; NULL: every client's).
SELECT client_id, weekly_pain
FROM pain_sparklines
WHERE $staff IS NULL OR client_id IN (SELECT client_id FROM client_metrics WHERE clinician_id = $staff);
