-- Per client and ladder done in the $exercise_days days ending today (docs/recommendations.md): the current level and dose, how
-- many exposures are at the current level, and the newest 3 exposures side by side (_1 newest).
-- Exposures come from the loader's exposure_summary: one row per session and ladder, numbered in
-- time order (`sequence`), with the number at which the run of its level began (`run_start`).
--   current level: the newest exposure's, or that of a decision (changing the level or dose) made
--                  on or after its day; a tempo set by a decision stays until the level changes
--   at the current level: the newest exposures back to the first at another level, and after the
--                  day of such a decision
CREATE OR REPLACE TEMP TABLE exposure_runs AS
WITH newest AS (
    SELECT client_id, ladder, max(sequence) AS newest_sequence
    FROM scoped_exposure_summary
    WHERE session_date > $today - $exercise_days AND session_date <= $today
    GROUP BY client_id, ladder
),
last_3 AS (
    -- only the columns the rules read: wide rows of text cost more to carry than to compute
    SELECT
        x.client_id, x.ladder, n.newest_sequence - x.sequence + 1 AS newest_rank,
        x.sequence, x.run_start, x.session_date, x.level, x.family, x.logged_as,
        x.pain_during_max, x.pain_during_missing, x.next_day_rise_max, x.rpe_max, x.form_worst,
        x.sets_min, x.reps_min, x.hold_s_min, x.sets_recorded, x.reps_recorded, x.hold_s_recorded
    FROM scoped_exposure_summary AS x
    JOIN newest AS n USING (client_id, ladder)
    WHERE x.sequence BETWEEN n.newest_sequence - 2 AND n.newest_sequence
),
after_decision AS (
    -- the first exposure after the day of a decision in force (decisions are few)
    SELECT x.client_id, x.ladder, min(x.sequence) AS first_after
    FROM scoped_exposure_summary AS x
    JOIN clinician_decisions AS d USING (client_id, ladder)
    WHERE x.session_date > d.decided_on AND x.session_date <= $today
    GROUP BY x.client_id, x.ladder
),
side_by_side AS (
    -- the newest 3 exposures in one row (three joins: cheaper than a pivot of filtered aggregates)
    SELECT
        n1.client_id,
        n1.ladder,
        n1.family,
        n1.logged_as,
        n1.session_date AS last_done,
        n1.level AS newest_level,
        n1.sequence AS newest_sequence,
        n1.run_start,
        n1.pain_during_max AS pain_1, n2.pain_during_max AS pain_2, n3.pain_during_max AS pain_3,
        n1.pain_during_missing AS missing_1, n2.pain_during_missing AS missing_2, n3.pain_during_missing AS missing_3,
        n1.next_day_rise_max AS rise_1, n2.next_day_rise_max AS rise_2, n3.next_day_rise_max AS rise_3,
        n1.rpe_max AS rpe_1, n2.rpe_max AS rpe_2, n3.rpe_max AS rpe_3,
        n1.form_worst AS form_1, n2.form_worst AS form_2, n3.form_worst AS form_3,
        n1.sets_min AS sets_1, n2.sets_min AS sets_2, n3.sets_min AS sets_3,
        n1.reps_min AS reps_1, n2.reps_min AS reps_2, n3.reps_min AS reps_3,
        n1.hold_s_min AS hold_s_1, n2.hold_s_min AS hold_s_2, n3.hold_s_min AS hold_s_3,
        n1.sets_recorded AS sets_recorded_1, n2.sets_recorded AS sets_recorded_2, n3.sets_recorded AS sets_recorded_3,
        n1.reps_recorded AS reps_recorded_1, n2.reps_recorded AS reps_recorded_2, n3.reps_recorded AS reps_recorded_3,
        n1.hold_s_recorded AS hold_s_recorded_1, n2.hold_s_recorded AS hold_s_recorded_2, n3.hold_s_recorded AS hold_s_recorded_3
    FROM last_3 AS n1
    LEFT JOIN last_3 AS n2 ON n2.client_id = n1.client_id AND n2.ladder = n1.ladder AND n2.newest_rank = 2
    LEFT JOIN last_3 AS n3 ON n3.client_id = n1.client_id AND n3.ladder = n1.ladder AND n3.newest_rank = 3
    WHERE n1.newest_rank = 1
)
SELECT
    b.* EXCLUDE (newest_level, newest_sequence, run_start),
    d.decided_on,
    coalesce(d.decided_on >= b.last_done, false) AS decision_rules,
    -- a decision on a stretch or an unknown exercise has no level: it keeps the exposure's
    CASE WHEN decision_rules THEN coalesce(d.level, b.newest_level) ELSE b.newest_level END AS level,
    CASE WHEN decision_rules THEN d.sets ELSE b.sets_1 END AS sets,
    CASE WHEN decision_rules THEN d.reps ELSE b.reps_1 END AS reps,
    CASE WHEN decision_rules THEN d.hold_s ELSE b.hold_s_1 END AS hold_s,
    -- a tempo set by a decision stays while every exposure since it is at the decision's level
    CASE
        WHEN decision_rules
            OR (coalesce(d.level, b.newest_level) IS NOT DISTINCT FROM b.newest_level AND b.run_start <= a.first_after)
            THEN d.tempo
    END AS tempo,
    CASE
        WHEN decision_rules THEN 0
        ELSE b.newest_sequence - greatest(b.run_start, coalesce(a.first_after, 0)) + 1
    END AS exposures_at_level
FROM side_by_side AS b
LEFT JOIN clinician_decisions AS d USING (client_id, ladder)
LEFT JOIN after_decision AS a USING (client_id, ladder);
