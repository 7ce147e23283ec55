-- One row per session: a client's session-log rows with the same date and session type (SPEC §1),
-- up to today.
--   session_pain: the mean of its rows' pain_during if any is present, else of pain_after, else of
--                 pain_before (SPEC §2);
--   flare:        a row with pain_during > 5, or pain_next_day >= pain_before + 2 (Silbernagel 2007).
CREATE OR REPLACE TEMP TABLE sessions AS
SELECT
    client_id,
    session_date,
    session_type,
    bool_or(attended) AS attended,
    coalesce(avg(pain_during), avg(pain_after), avg(pain_before)) AS session_pain,
    coalesce(bool_or(pain_during > $flare_pain_during OR pain_next_day >= pain_before + $flare_next_day_rise), false)
        AS flare
FROM scoped_session_log
WHERE session_date <= $today
GROUP BY ALL;
