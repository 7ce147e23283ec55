-- One row per client: program week, adherence, pain, and the caseload flags in priority order (docs/metrics.md),
-- each with its evidence in words (numbers and dates); ready_to_progress reads the recommendations
-- (docs/recommendations.md), refer and on_hold the red-flag notes and reviews (red_flag_status).
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
per_client AS (
    -- one pass over the sessions and the NPRS scores (session_points): pain, attendance and flares
    SELECT
        client_id,
        avg(pain) FILTER (WHERE day BETWEEN 0 AND $baseline_days - 1) AS pain_baseline,
        avg(pain) FILTER (WHERE point_on > $today - $current_days) AS pain_current,
        CASE
            WHEN count(pain) FILTER (WHERE point_on > $today - $trend_days) >= $trend_min_points
                -- on 2 days or more (definitions.TREND_MIN_DAYS)
                AND min(point_on) FILTER (WHERE pain IS NOT NULL AND point_on > $today - $trend_days)
                    < max(point_on) FILTER (WHERE pain IS NOT NULL AND point_on > $today - $trend_days)
                -- OLS slope per day, times 7: points per week
                THEN regr_slope(pain, day) FILTER (WHERE point_on > $today - $trend_days) * 7
        END AS pain_trend_per_week,
        max(point_on) FILTER (WHERE attended) AS last_session,
        count(*) FILTER (WHERE attended AND point_on > $today - $lapsed_days) AS recent_sessions,
        count(*) FILTER (WHERE flare AND point_on > $today - $flare_days) AS recent_flares,
        max(point_on) FILTER (WHERE flare AND point_on > $today - $flare_days) AS newest_flare_on
    FROM session_points
    GROUP BY client_id
),
red_flags AS (
    SELECT client_id, count(DISTINCT (session_date, session_type)) AS recent_red_flags
    FROM red_flag_notes
    WHERE session_date > $today - $red_flag_days
    GROUP BY client_id
),
newest_flare AS (
    -- the evidence of the flare flag: the newest flare of the last $flare_days days; of one day, the highest
    -- pain during, then the biggest rise by the next day (the order is stated so the choice is stable)
    SELECT
        client_id,
        CASE
            WHEN f.pain_during > $flare_pain_during THEN 'pain during ' || num(f.pain_during)
            ELSE 'pain next day ' || num(f.pain_next_day) || ' after ' || num(f.pain_before) || ' before'
        END || coalesce(' in ' || f.exercise, '') || ' on ' || evidence_day(f.session_date, $today) AS flare_words
    FROM (
        SELECT
            l.client_id,
            first(
                {'pain_during': pain_during, 'pain_next_day': pain_next_day, 'pain_before': pain_before,
                 'exercise': exercise, 'session_date': l.session_date}
                ORDER BY pain_during DESC NULLS LAST, pain_next_day - pain_before DESC NULLS LAST,
                    pain_next_day DESC NULLS LAST, exercise NULLS LAST
            ) AS f
        -- the rows of the day of the newest flare only (sessions knows the day: a few rows per client
        -- are ordered, not every flare row of $flare_days days)
        FROM scoped_session_log AS l
        JOIN per_client AS s ON l.client_id = s.client_id AND l.session_date = s.newest_flare_on
        WHERE l.session_date > $today - $flare_days AND l.session_date <= $today
            AND (pain_during > $flare_pain_during OR pain_next_day >= pain_before + $flare_next_day_rise)
        GROUP BY l.client_id
    )
),
ready AS (
    SELECT
        client_id,
        count(*) FILTER (WHERE decision = 'progress') AS exercises_to_progress,
        list_sort(list(coalesce(level_name, logged_as)) FILTER (WHERE decision = 'progress')) AS ready_exercises
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
        -- the episode, so that a read of the clients needs no join
        e.display_name, e.region, e.sessions_per_week, e.clinician_id, e.cohort_id, e.start_date, e.end_date,
        e.goals,
        a.adherence_overall,
        a.adherence_last_4_weeks,
        p.pain_baseline,
        p.pain_current,
        p.pain_trend_per_week,
        CASE
            WHEN p.pain_baseline IS NULL OR p.pain_current IS NULL THEN 'not enough data'
            -- improvement: $pain_mcid_points, or $pain_mcid_fraction of a baseline above 0; worse: up by
            -- $pain_mcid_points (definitions.pain_improvement_threshold draws the same rule on the charts)
            WHEN p.pain_baseline - p.pain_current >= $pain_mcid_points - $tolerance
                OR (p.pain_baseline > 0
                    AND p.pain_baseline - p.pain_current >= $pain_mcid_fraction * p.pain_baseline - $tolerance)
                THEN 'improved'
            WHEN p.pain_current - p.pain_baseline >= $pain_mcid_points - $tolerance THEN 'worse'
            ELSE 'no important change'
        END AS pain_status,
        p.last_session,
        coalesce(p.recent_sessions, 0) AS recent_sessions,
        coalesce(p.recent_flares, 0) AS recent_flares,
        coalesce(r.recent_red_flags, 0) AS recent_red_flags,
        coalesce(f.improved, false) AS function_improved,
        coalesce(g.exercises_to_progress, 0) AS exercises_to_progress,
        g.ready_exercises,
        h.open_red_flags, h.newest_open_note, h.newest_open_note_on, h.on_hold, h.review_outcome, h.reviewed_on,
        h.referred_to,
        x.flare_words
    FROM episodes AS e
    LEFT JOIN adherence AS a USING (client_id)
    LEFT JOIN per_client AS p USING (client_id)
    LEFT JOIN red_flags AS r USING (client_id)
    LEFT JOIN function_improved AS f USING (client_id)
    LEFT JOIN ready AS g USING (client_id)
    LEFT JOIN red_flag_status AS h USING (client_id)
    LEFT JOIN newest_flare AS x USING (client_id)
),
evidence AS (
    -- every flag that applies, in priority order, as "flag: the rule that fired, with its numbers"
    SELECT
        *,
        -- one line per flag (concat_ws leaves out the flags that do not apply; no line holds a
        -- line break: a note is put on one line)
        concat_ws(
            chr(10),
                CASE WHEN open_red_flags > 0 THEN
                    'refer: "' || evidence_note(newest_open_note, $evidence_note_chars) || '" on '
                    || evidence_day(newest_open_note_on, $today)
                    || CASE open_red_flags
                        WHEN 1 THEN ''
                        WHEN 2 THEN ' and 1 earlier note'
                        ELSE ' and ' || (open_red_flags - 1) || ' earlier notes'
                    END || ', not reviewed'
                END,
                CASE WHEN on_hold THEN
                    'on_hold: ' || review_outcome || coalesce(' to ' || referred_to, '') || ' on '
                    || evidence_day(reviewed_on, $today)
                END,
                CASE
                    WHEN pain_status = 'worse' OR pain_trend_per_week >= $trend_worse_per_week - $tolerance THEN
                        'pain_worse: ' || array_to_string(list_filter([
                            CASE WHEN pain_status = 'worse' THEN
                                'pain ' || one_decimal(pain_baseline) || ' → ' || one_decimal(pain_current) || ' ('
                                -- the change between the rounded values, so the words add up
                                || signed_one_decimal(half_up(pain_current, 1) - half_up(pain_baseline, 1))
                                || ') against baseline'
                            END,
                            CASE WHEN pain_trend_per_week >= $trend_worse_per_week - $tolerance THEN
                                'trend ' || signed_one_decimal(pain_trend_per_week) || '/week over the last '
                                || $trend_weeks || ' weeks'
                            END
                        ], lambda part: part IS NOT NULL), ' and ')
                END,
                CASE WHEN recent_flares > 0 THEN
                    'flare: ' || flare_words
                    || CASE WHEN recent_flares > 1 THEN
                        ' (' || recent_flares || ' flares in the last ' || $flare_days || ' days)' ELSE '' END
                END,
                CASE WHEN adherence_last_4_weeks < $low_adherence THEN
                    'low_adherence: ' || percent(adherence_last_4_weeks) || ' over the last ' || $recent_weeks
                    || ' weeks (' || percent($low_adherence) || ' expected)'
                END,
                CASE WHEN active AND recent_sessions = 0 THEN
                    'lapsed: no attended session '
                    || coalesce('since ' || evidence_day(last_session, $today), 'yet')
                END,
                CASE
                    WHEN program_week >= $plateau_from_week AND pain_status <> 'improved' AND NOT function_improved
                        THEN 'plateau: week ' || program_week || ', pain '
                            || CASE WHEN pain_status = 'not enough data' THEN 'not enough data'
                                ELSE one_decimal(pain_baseline) || ' → ' || one_decimal(pain_current)
                                    || ' (' || pain_status || ')'
                            END || ', no function score improved'
                END,
                CASE WHEN exercises_to_progress > 0 THEN
                    'ready_to_progress: ' || array_to_string(ready_exercises, ', ')
                END
        ) AS flag_evidence
    FROM status
)
SELECT
    * EXCLUDE (ready_exercises, newest_open_note, flare_words),
    -- the flags, in the same order: the word before the colon of each line
    array_to_string(regexp_extract_all(flag_evidence, '(?:^|\n)([a-z_]+):', 1), ';') AS flags
FROM evidence;
