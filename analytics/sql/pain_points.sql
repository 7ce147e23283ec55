-- Pain points (SPEC §2): every session pain, and every NPRS score of the measures, on its date, up to
-- today. `day` counts from the episode's start_date (day 0); an NPRS score may come before it.
CREATE OR REPLACE TEMP TABLE pain_points AS
SELECT client_id, session_date AS pain_on, day, session_pain AS pain, 'session' AS source
FROM sessions
WHERE session_pain IS NOT NULL
UNION ALL
SELECT m.client_id, m.measured_on, m.measured_on - e.start_date, m.score, 'NPRS'
FROM scoped_measures AS m
JOIN episodes AS e USING (client_id)
WHERE m.instrument = 'NPRS' AND m.measured_on <= $today;
