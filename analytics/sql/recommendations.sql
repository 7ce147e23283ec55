-- One recommendation per client and ladder done in the 21 days ending today (SPEC §3):
-- refer, regress, hold or progress, the first rule that applies, with the numbers behind each rule
-- and the next exercise and dose. The rules, their order and every choice the SPEC leaves open are
-- in docs/recommendations.md. Inputs: exposures, clinician_decisions (newest changing decision per
-- client and ladder), weekly, episodes, red_flag_notes, library_levels.
CREATE OR REPLACE TEMP TABLE recommendations AS
WITH ordered AS (
    SELECT *, row_number() OVER (
        PARTITION BY client_id, ladder ORDER BY session_date DESC, session_type DESC NULLS LAST
    ) AS newest_rank
    FROM exposures
),
newest AS (
    SELECT o.*, d.decided_on, d.level AS decided_level, d.sets AS decided_sets, d.reps AS decided_reps,
           d.hold_s AS decided_hold_s, d.tempo AS decided_tempo,
           -- a decision made on or after the newest exposure's day sets the level and dose
           coalesce(d.decided_on >= o.session_date, false) AS decision_rules
    FROM ordered AS o
    LEFT JOIN clinician_decisions AS d USING (client_id, ladder)
    WHERE o.newest_rank = 1
),
state AS (
    SELECT
        client_id, ladder, family, decided_on,
        CASE WHEN decision_rules THEN decided_level ELSE level END AS level,
        logged_as,
        CASE WHEN decision_rules THEN decided_sets ELSE sets END AS sets,
        CASE WHEN decision_rules THEN decided_reps ELSE reps END AS reps,
        CASE WHEN decision_rules THEN decided_hold_s ELSE hold_s END AS hold_s,
        -- a tempo set by a decision stays with its level
        CASE WHEN decision_rules OR decided_level IS NOT DISTINCT FROM level THEN decided_tempo END AS tempo,
        session_date AS last_done
    FROM newest
),
cut AS (
    -- the exposures at the current level: the newest ones, back to the first at another level
    -- (or on or before the day of a decision that changed the level or dose)
    SELECT s.client_id, s.ladder,
           min(o.newest_rank) FILTER (
               WHERE o.level IS DISTINCT FROM s.level OR o.session_date <= s.decided_on
           ) AS first_outside
    FROM state AS s JOIN ordered AS o USING (client_id, ladder)
    GROUP BY ALL
),
run AS (
    SELECT o.*
    FROM ordered AS o JOIN cut AS c USING (client_id, ladder)
    WHERE o.newest_rank < coalesce(c.first_outside, 2147483647)
),
checked AS (
    SELECT
        r.client_id, r.ladder,
        count(*) AS exposures_at_level,
        -- the last 2 exposures (regress) and the last 3 (hold), newest first
        list(r.pain_during ORDER BY r.newest_rank) FILTER (WHERE r.newest_rank <= 3) AS pain_during_last,
        list(r.pain_during_missing ORDER BY r.newest_rank) FILTER (WHERE r.newest_rank <= 3) AS pain_missing_last,
        list(r.next_day_rise ORDER BY r.newest_rank) FILTER (WHERE r.newest_rank <= 3) AS rise_last,
        list(r.form ORDER BY r.newest_rank) FILTER (WHERE r.newest_rank <= 3) AS form_last,
        list(r.rpe ORDER BY r.newest_rank) FILTER (WHERE r.newest_rank <= 3) AS rpe_last,
        list(r.sets ORDER BY r.newest_rank) FILTER (WHERE r.newest_rank <= 3) AS sets_last,
        list(CASE WHEN l.dose_hold_s IS NOT NULL OR (l.ladder IS NULL AND r.reps IS NULL) THEN r.hold_s ELSE r.reps END
             ORDER BY r.newest_rank) FILTER (WHERE r.newest_rank <= 3) AS amount_last,
        coalesce(max(r.pain_during) FILTER (WHERE r.newest_rank <= 2) > $regress_pain_during, false)
            OR coalesce(max(r.next_day_rise) FILTER (WHERE r.newest_rank <= 2) >= $regress_next_day_rise, false)
            AS regress_due,
        bool_or(r.pain_during_missing) AS pain_not_recorded,
        coalesce(max(r.pain_during) > $hold_pain_during, false) AS pain_above_hold,
        coalesce(max(r.next_day_rise) > 0, false) AS not_settled,
        coalesce(bool_or(r.form = 'poor'), false) AS form_poor,
        coalesce(max(r.rpe) >= $hold_rpe, false) AS rpe_high,
        -- the level's unit (reps or hold seconds) must be recorded in every row of the exposure
        bool_or(NOT r.sets_recorded OR NOT CASE
            WHEN l.dose_hold_s IS NOT NULL THEN r.hold_s_recorded
            WHEN l.dose_reps IS NOT NULL THEN r.reps_recorded
            ELSE r.reps_recorded OR r.hold_s_recorded
        END) AS dose_not_recorded,
        coalesce(bool_or(r.sets < l.dose_sets OR r.reps < l.dose_reps OR r.hold_s < l.dose_hold_s), false)
            AS below_target
    FROM run AS r
    LEFT JOIN library_levels AS l ON l.ladder = r.ladder AND l.level = r.level
    WHERE r.newest_rank <= 3
    GROUP BY r.client_id, r.ladder
),
adherence AS (
    -- the current and the previous program week (the episode's last two weeks)
    SELECT w.client_id, sum(least(w.attended, w.target)) / sum(w.target) AS adherence_2_weeks
    FROM weekly AS w JOIN episodes AS e USING (client_id)
    WHERE w.program_week >= e.last_week - 1
    GROUP BY w.client_id
),
red_flags AS (
    SELECT client_id, count(DISTINCT (session_date, session_type)) AS red_flag_notes,
           max(session_date) AS newest_red_flag
    FROM red_flag_notes
    WHERE session_date > $today - $red_flag_days
    GROUP BY client_id
),
judged AS (
    SELECT
        s.*,
        l.family_label, l.stretch, l.top_level, l.exercise AS level_name, l.each_side,
        l.dose_sets, l.dose_reps, l.dose_hold_s,
        l.ceiling_sets, l.ceiling_reps, l.ceiling_hold_s, l.ceiling_tempo,
        l.ladder IS NOT NULL AS in_library,
        -- the level's unit: hold seconds or reps (an unknown exercise: reps when logged, else holds)
        CASE
            WHEN l.ladder IS NOT NULL THEN l.dose_hold_s IS NOT NULL
            ELSE s.reps IS NULL AND s.hold_s IS NOT NULL
        END AS counts_holds,
        coalesce(c.exposures_at_level, 0) AS exposures_at_level,
        coalesce(c.pain_during_last, []) AS pain_during_last,
        coalesce(c.pain_missing_last, []) AS pain_missing_last,
        coalesce(c.rise_last, []) AS rise_last,
        coalesce(c.form_last, []) AS form_last,
        coalesce(c.rpe_last, []) AS rpe_last,
        coalesce(c.sets_last, []) AS sets_last,
        coalesce(c.amount_last, []) AS amount_last,
        coalesce(c.regress_due, false) AS regress_due,
        coalesce(c.pain_not_recorded, false) AS pain_not_recorded,
        coalesce(c.pain_above_hold, false) AS pain_above_hold,
        coalesce(c.not_settled, false) AS not_settled,
        coalesce(c.form_poor, false) AS form_poor,
        coalesce(c.rpe_high, false) AS rpe_high,
        coalesce(c.dose_not_recorded, false) AS dose_not_recorded,
        coalesce(c.below_target, false) AS below_target,
        a.adherence_2_weeks,
        coalesce(f.red_flag_notes, 0) AS red_flag_notes,
        f.newest_red_flag
    FROM state AS s
    LEFT JOIN checked AS c USING (client_id, ladder)
    LEFT JOIN adherence AS a USING (client_id)
    LEFT JOIN red_flags AS f USING (client_id)
    LEFT JOIN library_levels AS l ON l.ladder = s.ladder AND l.level = s.level
),
decided AS (
    SELECT
        *,
        CASE WHEN counts_holds THEN hold_s ELSE reps END AS amount,
        CASE WHEN counts_holds THEN ceiling_hold_s ELSE ceiling_reps END AS ceiling_amount,
        CASE WHEN counts_holds THEN $hold_step ELSE $reps_step END AS amount_step,
        exposures_at_level < $hold_min_exposures
            OR coalesce(adherence_2_weeks < $adherent - $tolerance, true)
            OR pain_not_recorded OR pain_above_hold OR not_settled OR form_poor OR rpe_high
            OR dose_not_recorded OR below_target AS hold_due,
        CASE
            WHEN red_flag_notes > 0 THEN 'refer'
            WHEN regress_due THEN 'regress'
            WHEN exposures_at_level < $hold_min_exposures
                OR coalesce(adherence_2_weeks < $adherent - $tolerance, true)
                OR pain_not_recorded OR pain_above_hold OR not_settled OR form_poor OR rpe_high
                OR dose_not_recorded OR below_target
                -- stretches are only dosed, and an unknown exercise has no ladder to climb
                OR stretch OR NOT in_library
                THEN 'hold'
            ELSE 'progress'
        END AS decision
    FROM judged
),
stepped AS (
    -- the next dose step (SPEC §3): sets, then reps or holds, then tempo, then the next level;
    -- at the top of a ladder the dose keeps stepping past the ceiling. A stretch stops at its ceiling.
    SELECT
        d.*,
        CASE
            WHEN d.sets < d.ceiling_sets THEN 'sets'
            WHEN d.amount < d.ceiling_amount THEN 'amount'
            WHEN d.stretch THEN 'none'
            WHEN d.ceiling_tempo IS NOT NULL AND d.tempo IS DISTINCT FROM d.ceiling_tempo THEN 'tempo'
            WHEN d.level < d.top_level THEN 'level'
            ELSE 'top'
        END AS step,
        -- the levels either side, for a step back or up the ladder
        p.exercise AS previous_exercise, p.dose_sets AS previous_sets,
        coalesce(p.dose_reps, p.dose_hold_s) AS previous_amount, p.dose_hold_s IS NOT NULL AS previous_holds,
        p.each_side AS previous_each_side,
        n.exercise AS following_exercise, n.dose_sets AS following_sets,
        coalesce(n.dose_reps, n.dose_hold_s) AS following_amount, n.dose_hold_s IS NOT NULL AS following_holds,
        n.each_side AS following_each_side
    FROM decided AS d
    LEFT JOIN library_levels AS p ON p.ladder = d.ladder AND p.level = d.level - 1 AND NOT d.stretch
    LEFT JOIN library_levels AS n ON n.ladder = d.ladder AND n.level = d.level + 1 AND NOT d.stretch
),
changed AS (
    SELECT
        *,
        CASE
            WHEN decision = 'regress' AND in_library AND NOT stretch AND level > 1 THEN 'previous level'
            WHEN decision = 'regress' THEN 'a third less'
            WHEN decision = 'progress' OR (decision = 'hold' AND stretch AND NOT hold_due) THEN step
            ELSE 'none'
        END AS change
    FROM stepped
)
SELECT
    *,
    CASE change WHEN 'previous level' THEN level - 1 WHEN 'level' THEN level + 1 ELSE level END AS next_level,
    CASE change
        WHEN 'previous level' THEN previous_sets
        WHEN 'level' THEN following_sets
        WHEN 'sets' THEN sets + $sets_step
        ELSE sets
    END AS next_sets,
    CASE change
        WHEN 'previous level' THEN previous_amount
        WHEN 'level' THEN following_amount
        -- cut the dose by a third, never below 1
        WHEN 'a third less' THEN greatest(1, round(amount * 2 / 3))
        WHEN 'amount' THEN least(ceiling_amount, amount + amount_step)
        WHEN 'top' THEN amount + amount_step
        ELSE amount
    END AS next_amount,
    CASE change WHEN 'previous level' THEN previous_holds WHEN 'level' THEN following_holds ELSE counts_holds END
        AS next_counts_holds,
    CASE change WHEN 'previous level' THEN NULL WHEN 'level' THEN NULL WHEN 'tempo' THEN ceiling_tempo ELSE tempo END
        AS next_tempo,
    CASE change
        WHEN 'previous level' THEN previous_exercise
        WHEN 'level' THEN following_exercise
        ELSE coalesce(level_name, logged_as)
    END AS next_exercise,
    CASE change WHEN 'previous level' THEN previous_each_side WHEN 'level' THEN following_each_side ELSE each_side END
        AS next_each_side
FROM changed;
