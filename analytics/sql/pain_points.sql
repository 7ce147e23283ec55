-- Pain points (SPEC §2): every session pain, and every NPRS score of the measures, on its date, up to
-- today. `day` counts from the episode's start_date (day 0); an NPRS score may come before it.
CREATE OR REPLACE TEMP TABLE pain_points AS
WITH points AS (
    SELECT client_id, session_date AS pain_on, session_pain AS pain, 'session' AS source
    FROM sessions
    WHERE session_pain IS NOT NULL
    UNION ALL
    SELECT client_id, measured_on, score, 'NPRS'
    FROM scoped_measures
    WHERE instrument = 'NPRS' AND measured_on <= $today
)
SELECT p.client_id, p.pain_on, p.pain_on - e.start_date AS day, p.pain, p.source
FROM points AS p
JOIN episodes AS e USING (client_id);
