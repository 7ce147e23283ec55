-- The recommendations in words: the current and next exercise and dose, and every rule checked
-- with the client's numbers and ✓ / ✗ (docs/recommendations.md). Values are newest first.
-- Each value is put into words once, in `words`, and the sentences are built from those columns:
-- nesting the word macros inside one another made the expression tree so large that planning the
-- query was slow even for a single client.
WITH words AS (
    SELECT
        *,
        num(pain_1) AS pain_1_w, num(pain_2) AS pain_2_w, num(pain_3) AS pain_3_w,
        signed(rise_1) AS rise_1_w, signed(rise_2) AS rise_2_w, signed(rise_3) AS rise_3_w,
        num(rpe_1) AS rpe_1_w, num(rpe_2) AS rpe_2_w, num(rpe_3) AS rpe_3_w,
        coalesce(form_1, 'not recorded') AS form_1_w, coalesce(form_2, 'not recorded') AS form_2_w,
        coalesce(form_3, 'not recorded') AS form_3_w,
        dose_words(sets_1, CASE WHEN counts_holds THEN hold_s_1 ELSE reps_1 END, counts_holds, NULL, false) AS dose_1_w,
        dose_words(sets_2, CASE WHEN counts_holds THEN hold_s_2 ELSE reps_2 END, counts_holds, NULL, false) AS dose_2_w,
        dose_words(sets_3, CASE WHEN counts_holds THEN hold_s_3 ELSE reps_3 END, counts_holds, NULL, false) AS dose_3_w
    FROM recommendations
    WHERE $client_id IS NULL OR client_id = $client_id
), sentences AS (
SELECT
    client_id,
    family,
    family_label,
    ladder,
    coalesce(level_name, logged_as) AS exercise,
    CASE WHEN in_library AND NOT stretch THEN level END AS level,
    sets,
    CASE WHEN NOT counts_holds THEN amount END AS reps,
    CASE WHEN counts_holds THEN amount END AS hold_s,
    tempo,
    dose_words(sets, amount, counts_holds, tempo, each_side) AS dose,
    decision,
    change,
    next_exercise,
    CASE WHEN in_library AND NOT stretch THEN next_level END AS next_level,
    next_sets,
    CASE WHEN NOT next_counts_holds THEN next_amount END AS next_reps,
    CASE WHEN next_counts_holds THEN next_amount END AS next_hold_s,
    next_tempo,
    CASE
        WHEN decision = 'refer' AND open_red_flags > 0 THEN 'no change until a clinician has reviewed the red flag'
        WHEN decision = 'refer' THEN 'no change while the client is on hold'
        ELSE dose_words(next_sets, next_amount, next_counts_holds, next_tempo, next_each_side)
    END AS next_dose,
    -- what each decision would prescribe instead (the decision dialog, analytics.decisions)
    as_prescription(if_regress, in_library AND NOT stretch) AS regress_to,
    as_prescription(if_hold, in_library AND NOT stretch) AS hold_to,
    as_prescription(if_progress, in_library AND NOT stretch) AS progress_to,
    -- the one line that says why, in a clinician's words; the checks below are the detail
    CASE decision
        WHEN 'refer' THEN CASE
            WHEN open_red_flags > 0 THEN 'refer: a red-flag note of ' || evidence_day(newest_open_note_on, $today)
                || ' is not reviewed — review it before any change'
            ELSE 'on hold: ' || review_outcome || coalesce(' to ' || referred_to, '') || ' on '
                || evidence_day(reviewed_on, $today) || ' — nothing is progressed'
        END
        WHEN 'regress' THEN 'regress: ' || CASE
            WHEN coalesce(pain_1 > $regress_pain_during, false) THEN 'pain during ' || pain_1_w || ' last time'
            WHEN n2 >= 2 AND coalesce(pain_2 > $regress_pain_during, false)
                THEN 'pain during ' || pain_2_w || ' the time before'
            WHEN coalesce(rise_1 >= $regress_next_day_rise, false)
                THEN 'pain ' || rise_1_w || ' by the next day last time'
            ELSE 'pain ' || rise_2_w || ' by the next day the time before'
        END || ' — ' || CASE change WHEN 'previous level' THEN 'step back a level' ELSE 'cut the dose by a third' END
        WHEN 'hold' THEN CASE
            WHEN stretch AND change NOT IN ('none', 'target dose')
                THEN 'dose up: every check passed (a stretch is only dosed, never progressed)'
            ELSE 'hold: ' || CASE
                WHEN NOT in_library THEN 'not in the exercise library, so there is no ladder to climb'
                WHEN exposures_at_level < $hold_min_exposures THEN exposures_at_level || ' of '
                    || $hold_min_exposures || ' sessions at this level so far'
                WHEN adherence_2_weeks IS NULL OR adherence_2_weeks < $adherent - $tolerance
                    THEN 'adherence ' || coalesce(percent(adherence_2_weeks), 'unknown') || ' over the last '
                        || $progress_adherence_weeks || ' weeks (' || percent($adherent) || ' needed)'
                WHEN pain_not_recorded THEN 'pain during not recorded'
                WHEN pain_above_hold THEN 'pain during ' || CASE
                    WHEN coalesce(pain_1 > $hold_pain_during, false) THEN pain_1_w || ' last time'
                    WHEN coalesce(pain_2 > $hold_pain_during, false) THEN pain_2_w || ' the time before'
                    ELSE pain_3_w || ' three sessions ago'
                END
                WHEN not_settled THEN 'pain had not settled by the next day'
                WHEN form_poor THEN 'form was poor'
                WHEN rpe_high THEN 'RPE ' || listed(rpe_1_w, rpe_2_w, rpe_3_w, n3) || ' (' || num($hold_rpe)
                    || ' or more is too hard)'
                WHEN dose_not_recorded THEN 'the dose was not recorded'
                WHEN below_target THEN 'less than the target dose was done'
                ELSE 'a stretch is only dosed'
            -- hold says which dose it keeps (docs/recommendations.md)
            END || ' — stay at this level, ' || CASE
                WHEN change = 'target dose' THEN 'at its target dose' ELSE 'at the dose done' END
        END
        ELSE 'ready: the last ' || $hold_min_exposures || ' sessions at full dose, pain during ≤ '
            || num($hold_pain_during) || ', settled next day'
    END AS why,
    list_filter([
        'red-flag notes last ' || $red_flag_days || ' days not reviewed: ' || CASE
            WHEN open_red_flags = 0 THEN 'none ✓'
            ELSE open_red_flags || ', newest ' || strftime(newest_open_note_on, '%Y-%m-%d') || ' ✗'
        END,
        CASE WHEN on_hold THEN
            'on hold: ' || review_outcome || coalesce(' to ' || referred_to, '') || ' on '
                || strftime(reviewed_on, '%Y-%m-%d') || ' ✗'
        END,
        'pain during last 2: ' || listed(pain_1_w, pain_2_w, NULL, n2) || CASE
            WHEN n2 = 0 THEN ''
            ELSE ' (≤ ' || num($regress_pain_during) || ' '
                || mark(NOT any_of(pain_1 > $regress_pain_during, pain_2 > $regress_pain_during, NULL, n2)) || ')'
        END,
        'next-day rise last 2: ' || CASE
            WHEN n2 = 0 THEN 'no exposures yet'
            WHEN NOT any_of(rise_1 IS NOT NULL, rise_2 IS NOT NULL, NULL, n2) THEN 'not recorded (skipped)'
            ELSE listed(rise_1_w, rise_2_w, NULL, n2) || ' (< +' || num($regress_next_day_rise) || ' '
                || mark(NOT any_of(rise_1 >= $regress_next_day_rise, rise_2 >= $regress_next_day_rise, NULL, n2))
                || ')'
        END,
        'exposures at current level: ' || exposures_at_level || ' (≥ ' || $hold_min_exposures || ' '
            || mark(exposures_at_level >= $hold_min_exposures) || ')',
        'adherence last ' || $progress_adherence_weeks || ' weeks: ' || CASE
            WHEN adherence_2_weeks IS NULL THEN 'unknown ✗'
            ELSE num(round(adherence_2_weeks * 100, 1)) || ' % (≥ ' || num($adherent * 100) || ' % '
                || mark(adherence_2_weeks >= $adherent - $tolerance) || ')'
        END,
        'pain during last 3: ' || listed(pain_1_w, pain_2_w, pain_3_w, n3) || CASE
            WHEN n3 = 0 THEN ''
            WHEN pain_not_recorded THEN ' (pain during not recorded ✗)'
            ELSE ' (≤ ' || num($hold_pain_during) || ' ' || mark(NOT pain_above_hold) || ')'
        END,
        'next-day rise last 3: ' || CASE
            WHEN n3 = 0 THEN 'no exposures yet'
            WHEN NOT any_of(rise_1 IS NOT NULL, rise_2 IS NOT NULL, rise_3 IS NOT NULL, n3)
                THEN 'not recorded (skipped)'
            ELSE listed(rise_1_w, rise_2_w, rise_3_w, n3) || ' (≤ 0 ' || mark(NOT not_settled) || ')'
        END,
        'form last 3: ' || CASE
            WHEN n3 = 0 THEN 'no exposures yet'
            WHEN NOT any_of(form_1 IS NOT NULL, form_2 IS NOT NULL, form_3 IS NOT NULL, n3) THEN 'not recorded (skipped)'
            ELSE listed(form_1_w, form_2_w, form_3_w, n3) || ' (not poor ' || mark(NOT form_poor) || ')'
        END,
        'RPE last 3: ' || CASE
            WHEN n3 = 0 THEN 'no exposures yet'
            WHEN NOT any_of(rpe_1 IS NOT NULL, rpe_2 IS NOT NULL, rpe_3 IS NOT NULL, n3) THEN 'not recorded (skipped)'
            ELSE listed(rpe_1_w, rpe_2_w, rpe_3_w, n3) || ' (< ' || num($hold_rpe) || ' '
                || mark(NOT rpe_high) || ')'
        END,
        'dose last 3: ' || CASE
            WHEN n3 = 0 THEN 'no exposures yet'
            ELSE listed(dose_1_w, dose_2_w, dose_3_w, n3) || CASE
                WHEN dose_not_recorded THEN ' (dose not recorded ✗)'
                WHEN NOT in_library THEN ' (no target: not in the library)'
                ELSE ' (target ' || dose_words(dose_sets, coalesce(dose_reps, dose_hold_s), counts_holds, NULL, false)
                    || ' ' || mark(NOT below_target) || ')'
            END
        END,
        CASE WHEN stretch THEN 'stretch: only dosed, never progressed' END,
        CASE
            WHEN NOT in_library THEN '''' || logged_as || ''' is not in the exercise library: no ladder to progress'
        END
    ], lambda line: line IS NOT NULL) AS evidence,
    exposures_at_level,
    last_done,
    in_library,
    stretch
FROM words
)
SELECT * EXCLUDE (exposures_at_level, last_done, in_library, stretch), array_to_string(evidence, '; ') AS reasons, exposures_at_level, last_done, in_library, stretch
FROM sentences
ORDER BY client_id, family NULLS LAST, ladder
