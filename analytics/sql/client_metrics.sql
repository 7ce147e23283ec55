-- One row per client: program week, adherence, pain, and the caseload flags in priority order (SPEC §2);
-- ready_to_progress reads the recommendations (SPEC §3).
CREATE OR REPLACE TEMP TABLE client_metrics AS
WITH adherence AS (
    SELECT
        w.client_id,
        sum(least(w.attended, w.target)) / sum(w.target) AS adherence_overall,
        -- the current week and the 3 before it, fewer if the episode is younger
        sum(least(w.attended, w.target)) FILTER (WHERE w.program_week > e.last_week - $recent_weeks)
            / sum(w.target) FILTER (WHERE w.program_week > e.last_week - $recent_weeks) AS adherence_last_4_weeks
    FROM weekly AS w
    JOIN episodes AS e USING (client_id)
    GROUP BY w.client_id
),
pain AS (
    SELECT
        client_id,
        avg(pain) FILTER (WHERE day BETWEEN 0 AND $baseline_days - 1) AS pain_baseline,
        avg(pain) FILTER (WHERE pain_on > $today - $current_days) AS pain_current,
        CASE
            WHEN count(*) FILTER (WHERE pain_on > $today - $trend_days) >= $trend_min_points
                -- on 2 days or more
                AND min(pain_on) FILTER (WHERE pain_on > $today - $trend_days)
                    < max(pain_on) FILTER (WHERE pain_on > $today - $trend_days)
                -- OLS slope per day, times 7: points per week
                THEN regr_slope(pain, day) FILTER (WHERE pain_on > $today - $trend_days) * 7
        END AS pain_trend_per_week
    FROM pain_points
    GROUP BY client_id
),
attendance AS (
    SELECT
        client_id,
        max(session_date) FILTER (WHERE attended) AS last_session,
        count(*) FILTER (WHERE attended AND session_date > $today - $lapsed_days) AS recent_sessions,
        count(*) FILTER (WHERE flare AND session_date > $today - $flare_days) AS recent_flares
    FROM sessions
    GROUP BY client_id
),
red_flags AS (
    SELECT client_id, count(DISTINCT (session_date, session_type)) AS recent_red_flags
    FROM red_flag_notes
    WHERE session_date > $today - $red_flag_days
    GROUP BY client_id
),
ready AS (
    SELECT client_id, count(*) FILTER (WHERE decision = 'progress') AS exercises_to_progress
    FROM recommendations
    GROUP BY client_id
),
function_improved AS (
    SELECT client_id, bool_or(status = 'improved') AS improved
    FROM function_change
    GROUP BY client_id
),
status AS (
    SELECT
        e.client_id,
        e.last_week AS program_week,
        e.active,
        a.adherence_overall,
        a.adherence_last_4_weeks,
        p.pain_baseline,
        p.pain_current,
        p.pain_trend_per_week,
        CASE
            WHEN p.pain_baseline IS NULL OR p.pain_current IS NULL THEN 'not enough data'
            -- improvement: 2 points, or 30 % of a baseline above 0
            WHEN p.pain_baseline - p.pain_current >= $pain_mcid_points - $tolerance
                OR (p.pain_baseline > 0
                    AND p.pain_baseline - p.pain_current >= $pain_mcid_fraction * p.pain_baseline - $tolerance)
                THEN 'improved'
            WHEN p.pain_current - p.pain_baseline >= $pain_mcid_points - $tolerance THEN 'worse'
            ELSE 'no important change'
        END AS pain_status,
        s.last_session,
        coalesce(s.recent_sessions, 0) AS recent_sessions,
        coalesce(s.recent_flares, 0) AS recent_flares,
        coalesce(r.recent_red_flags, 0) AS recent_red_flags,
        coalesce(f.improved, false) AS function_improved,
        coalesce(g.exercises_to_progress, 0) AS exercises_to_progress
    FROM episodes AS e
    LEFT JOIN adherence AS a USING (client_id)
    LEFT JOIN pain AS p USING (client_id)
    LEFT JOIN attendance AS s USING (client_id)
    LEFT JOIN red_flags AS r USING (client_id)
    LEFT JOIN function_improved AS f USING (client_id)
    LEFT JOIN ready AS g USING (client_id)
)
SELECT
    *,
    list_filter(
        [
            CASE WHEN recent_red_flags > 0 THEN 'refer' END,
            CASE
                WHEN pain_status = 'worse'
                    OR recent_flares > 0
                    OR pain_trend_per_week >= $trend_worse_per_week - $tolerance
                    THEN 'pain_worse'
            END,
            CASE WHEN adherence_last_4_weeks < $low_adherence THEN 'low_adherence' END,
            CASE WHEN active AND recent_sessions = 0 THEN 'lapsed' END,
            CASE
                WHEN program_week >= $plateau_from_week AND pain_status <> 'improved' AND NOT function_improved
                    THEN 'plateau'
            END,
            CASE WHEN exercises_to_progress > 0 THEN 'ready_to_progress' END
        ],
        lambda flag: flag IS NOT NULL
    ) AS flags
FROM status;
