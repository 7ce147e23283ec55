-- One row per session of an episode, up to today, from the loader's session_summary
-- (etl/sessions.py). `day` counts from the episode's start_date (day 0).
--   session_pain: the mean of its rows' pain_during if any is present, else of pain_after, else of
--                 pain_before (docs/metrics.md);
--   flare:        a row with pain_during > $flare_pain_during, or pain_next_day >= pain_before
--                 + $flare_next_day_rise (Silbernagel 2007).
CREATE OR REPLACE TEMP TABLE sessions AS
SELECT
    s.client_id,
    s.session_date,
    s.session_type,
    s.session_date - e.start_date AS day,
    s.attended,
    coalesce(s.pain_during_mean, s.pain_after_mean, s.pain_before_mean) AS session_pain,
    coalesce(s.pain_during_max > $flare_pain_during OR s.next_day_rise_max >= $flare_next_day_rise, false) AS flare
FROM scoped_session_summary AS s
JOIN episodes AS e USING (client_id)
WHERE s.session_date <= $today;
