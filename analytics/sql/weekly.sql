-- One row per client and program week of the episode (1 .. last week): distinct attended sessions,
-- the target, and the mean of the week's pain points (docs/metrics.md#per-client).
-- The target is sessions_per_week, except for a current week that is not complete:
-- max(1, floor(sessions_per_week * elapsed / 7)), elapsed = days of that week up to today (1-7).
CREATE OR REPLACE TEMP TABLE weekly AS
WITH weeks AS (
    SELECT
        client_id,
        unnest(range(1, last_week + 1)) AS program_week,
        sessions_per_week,
        current_week,
        current_week_days
    FROM episodes
),
per_week AS (
    -- one pass over the sessions and the NPRS scores: a week's attended sessions, and the mean of its
    -- pain points
    SELECT client_id, day // 7 + 1 AS program_week, count(*) FILTER (WHERE attended) AS attended, avg(pain) AS mean_pain
    FROM session_points
    WHERE day >= 0
    GROUP BY ALL
)
SELECT
    w.client_id,
    w.program_week,
    coalesce(p.attended, 0) AS attended,
    CASE
        WHEN w.program_week = w.current_week AND w.current_week_days < 7
            THEN greatest(1, w.sessions_per_week * w.current_week_days // 7)
        ELSE w.sessions_per_week
    END AS target,
    p.mean_pain
FROM weeks AS w
LEFT JOIN per_week AS p USING (client_id, program_week);
