-- The NPRS scores of the measures (docs/metrics.md pain points), up to today. `day` counts from the
-- episode's start_date (day 0); a score may come before it.
CREATE OR REPLACE TEMP TABLE nprs_scores AS
SELECT m.client_id, m.measured_on AS pain_on, m.measured_on - e.start_date AS day, m.score AS pain
FROM scoped_measures AS m
JOIN episodes AS e USING (client_id)
WHERE m.instrument = 'NPRS' AND m.measured_on <= $today;
