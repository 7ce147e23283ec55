-- One recommendation per client and ladder done in the $exercise_days days ending today (docs/recommendations.md):
-- refer, regress, hold or progress, the first rule that applies, with the numbers behind each rule
-- and the next exercise and dose. The rules, their order and every choice the sources leave open are
-- in docs/recommendations.md. Inputs: exposure_runs (current level and dose, the newest 3
-- exposures), weekly, episodes, red_flag_status, library_levels.
CREATE OR REPLACE TEMP TABLE recommendations AS
WITH measured AS (
    SELECT
        r.*,
        -- how many of the newest 3 exposures are at the current level ("last 3"; "last 2" is the first 2)
        least(r.exposures_at_level, 3) AS n3,
        least(r.exposures_at_level, 2) AS n2,
        l.family_label, l.stretch, l.top_level, l.exercise AS level_name, l.each_side,
        l.dose_sets, l.dose_reps, l.dose_hold_s,
        l.ceiling_sets, l.ceiling_reps, l.ceiling_hold_s, l.ceiling_tempo,
        l.ladder IS NOT NULL AS in_library,
        -- the level's unit: hold seconds or reps (an unknown exercise: reps when logged, else holds)
        CASE
            WHEN l.ladder IS NOT NULL THEN l.dose_hold_s IS NOT NULL
            ELSE r.reps IS NULL AND r.hold_s IS NOT NULL
        END AS counts_holds
    FROM exposure_runs AS r
    LEFT JOIN library_levels AS l ON l.ladder = r.ladder AND l.level = r.level
),
checked AS (
    SELECT
        *,
        any_of(pain_1 > $regress_pain_during, pain_2 > $regress_pain_during, NULL, n2)
            OR any_of(rise_1 >= $regress_next_day_rise, rise_2 >= $regress_next_day_rise, NULL, n2) AS regress_due,
        any_of(missing_1, missing_2, missing_3, n3) AS pain_not_recorded,
        any_of(pain_1 > $hold_pain_during, pain_2 > $hold_pain_during, pain_3 > $hold_pain_during, n3)
            AS pain_above_hold,
        any_of(rise_1 > 0, rise_2 > 0, rise_3 > 0, n3) AS not_settled,
        any_of(form_1 = 'poor', form_2 = 'poor', form_3 = 'poor', n3) AS form_poor,
        any_of(rpe_1 >= $hold_rpe, rpe_2 >= $hold_rpe, rpe_3 >= $hold_rpe, n3) AS rpe_high,
        -- the level's unit (reps or hold seconds) must be recorded in every row of the exposure
        any_of(
            NOT dose_recorded(sets_recorded_1, reps_recorded_1, hold_s_recorded_1, dose_reps, dose_hold_s),
            NOT dose_recorded(sets_recorded_2, reps_recorded_2, hold_s_recorded_2, dose_reps, dose_hold_s),
            NOT dose_recorded(sets_recorded_3, reps_recorded_3, hold_s_recorded_3, dose_reps, dose_hold_s),
            n3
        ) AS dose_not_recorded,
        any_of(
            sets_1 < dose_sets OR reps_1 < dose_reps OR hold_s_1 < dose_hold_s,
            sets_2 < dose_sets OR reps_2 < dose_reps OR hold_s_2 < dose_hold_s,
            sets_3 < dose_sets OR reps_3 < dose_reps OR hold_s_3 < dose_hold_s,
            n3
        ) AS below_target
    FROM measured
),
adherence AS (
    -- the episode's last $progress_adherence_weeks program weeks: the current and the previous one
    SELECT w.client_id, sum(least(w.attended, w.target)) / sum(w.target) AS adherence_2_weeks
    FROM weekly AS w JOIN episodes AS e USING (client_id)
    WHERE w.program_week > e.last_week - $progress_adherence_weeks
    GROUP BY w.client_id
),
judged AS (
    SELECT c.*, a.adherence_2_weeks, coalesce(f.open_red_flags, 0) AS open_red_flags, f.newest_open_note,
           f.newest_open_note_on, coalesce(f.on_hold, false) AS on_hold, f.review_outcome, f.reviewed_on,
           f.referred_to
    FROM checked AS c
    LEFT JOIN adherence AS a USING (client_id)
    LEFT JOIN red_flag_status AS f USING (client_id)
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
            -- rule 1: a red-flag note no review covers, or on hold after a review
            WHEN open_red_flags > 0 OR on_hold THEN 'refer'
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
    -- the next dose step (docs/recommendations.md): sets, then reps or holds, then tempo, then the next level;
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
            WHEN decision = 'regress' THEN regress_change
            WHEN decision = 'progress' OR (decision = 'hold' AND stretch AND NOT hold_due) THEN step
            WHEN decision = 'hold' THEN hold_change
            ELSE 'none'
        END AS change
    FROM (
        SELECT
            *,
            -- regress: step back one level, or cut the dose by a third at level 1 (and for a stretch)
            CASE WHEN in_library AND NOT stretch AND level > 1 THEN 'previous level' ELSE 'a third less' END
                AS regress_change,
            -- hold keeps the level, at the dose done or, when less was done, the level's target dose
            CASE
                WHEN in_library
                    AND (sets < dose_sets OR amount < CASE WHEN counts_holds THEN dose_hold_s ELSE dose_reps END)
                    THEN 'target dose'
                ELSE 'none'
            END AS hold_change
        FROM stepped
    )
),
prescribed AS (
    -- the next exercise and dose of the decision, and of the others a clinician may choose instead
    -- (the decision dialog fills in the one chosen; analytics.decisions checks an override against them)
    SELECT
        *,
        prescription(change, r) AS next,
        prescription(regress_change, r) AS if_regress,
        prescription(hold_change, r) AS if_hold,
        prescription(step, r) AS if_progress
    FROM (
        SELECT
            *,
            -- only what a step needs: packing the whole row made planning twice as slow
            {
                'level': level, 'sets': sets, 'amount': amount, 'tempo': tempo, 'each_side': each_side,
                'counts_holds': counts_holds, 'sets_step': $sets_step, 'amount_step': amount_step,
                'ceiling_amount': ceiling_amount, 'ceiling_tempo': ceiling_tempo, 'dose_sets': dose_sets,
                'target_amount': CASE WHEN counts_holds THEN dose_hold_s ELSE dose_reps END,
                'current_exercise': coalesce(level_name, logged_as),
                'previous_exercise': previous_exercise, 'previous_sets': previous_sets,
                'previous_amount': previous_amount, 'previous_holds': previous_holds,
                'previous_each_side': previous_each_side,
                'following_exercise': following_exercise, 'following_sets': following_sets,
                'following_amount': following_amount, 'following_holds': following_holds,
                'following_each_side': following_each_side
            } AS r
        FROM changed
    )
)
SELECT
    * EXCLUDE (next, r),
    next.level AS next_level,
    next.sets AS next_sets,
    next.amount AS next_amount,
    next.holds AS next_counts_holds,
    next.tempo AS next_tempo,
    next.exercise AS next_exercise,
    next.each_side AS next_each_side
FROM prescribed;
