-- One row per episode of care in the viewer's scope that has started by today (docs/metrics.md).
-- Program week: days 0-6 after start_date are week 1, 7-13 week 2. An episode's weeks run from 1 to
-- the week holding today, or to the week of end_date if that is earlier.
CREATE OR REPLACE TEMP TABLE episodes AS
SELECT
    c.client_id,
    c.display_name,
    c.region,
    c.sessions_per_week,
    c.clinician_id,
    c.cohort_id,
    c.start_date,
    c.end_date,
    c.goals,
    c.end_date IS NULL OR c.end_date >= $today AS active,
    ($today - c.start_date) // 7 + 1 AS current_week,
    (least($today, coalesce(c.end_date, $today)) - c.start_date) // 7 + 1 AS last_week,
    -- days of the current week up to and including today (1-7), for its partial target
    ($today - c.start_date) % 7 + 1 AS current_week_days
FROM scoped_clients AS c
WHERE c.start_date <= $today;
