-- The recommendations in words: the current and next exercise and dose, and every rule checked
-- with the client's numbers and ✓ / ✗ (docs/recommendations.md). Values are newest first.
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
    CASE decision
        WHEN 'refer' THEN 'no change until a clinician has reviewed the red flag'
        ELSE dose_words(next_sets, next_amount, next_counts_holds, next_tempo, next_each_side)
    END AS next_dose,
    list_filter([
        'red-flag notes last 14 days: ' || CASE
            WHEN red_flag_notes = 0 THEN 'none ✓'
            ELSE red_flag_notes || ', newest ' || strftime(newest_red_flag, '%Y-%m-%d') || ' ✗'
        END,
        'pain during last 2: ' || listed(num(pain_1), num(pain_2), NULL, n2) || CASE
            WHEN n2 = 0 THEN ''
            ELSE ' (≤ ' || num($regress_pain_during) || ' '
                || mark(NOT any_of(pain_1 > $regress_pain_during, pain_2 > $regress_pain_during, NULL, n2)) || ')'
        END,
        'next-day rise last 2: ' || CASE
            WHEN n2 = 0 THEN 'no exposures yet'
            WHEN NOT any_of(rise_1 IS NOT NULL, rise_2 IS NOT NULL, NULL, n2) THEN 'not recorded (skipped)'
            ELSE listed(signed(rise_1), signed(rise_2), NULL, n2) || ' (< +' || num($regress_next_day_rise) || ' '
                || mark(NOT any_of(rise_1 >= $regress_next_day_rise, rise_2 >= $regress_next_day_rise, NULL, n2))
                || ')'
        END,
        'exposures at current level: ' || exposures_at_level || ' (≥ ' || $hold_min_exposures || ' '
            || mark(exposures_at_level >= $hold_min_exposures) || ')',
        'adherence last 2 weeks: ' || CASE
            WHEN adherence_2_weeks IS NULL THEN 'unknown ✗'
            ELSE num(round(adherence_2_weeks * 100, 1)) || ' % (≥ ' || num($adherent * 100) || ' % '
                || mark(adherence_2_weeks >= $adherent - $tolerance) || ')'
        END,
        'pain during last 3: ' || listed(num(pain_1), num(pain_2), num(pain_3), n3) || CASE
            WHEN n3 = 0 THEN ''
            WHEN pain_not_recorded THEN ' (pain during not recorded ✗)'
            ELSE ' (≤ ' || num($hold_pain_during) || ' ' || mark(NOT pain_above_hold) || ')'
        END,
        'next-day rise last 3: ' || CASE
            WHEN n3 = 0 THEN 'no exposures yet'
            WHEN NOT any_of(rise_1 IS NOT NULL, rise_2 IS NOT NULL, rise_3 IS NOT NULL, n3)
                THEN 'not recorded (skipped)'
            ELSE listed(signed(rise_1), signed(rise_2), signed(rise_3), n3) || ' (≤ 0 ' || mark(NOT not_settled) || ')'
        END,
        'form last 3: ' || CASE
            WHEN n3 = 0 THEN 'no exposures yet'
            WHEN NOT any_of(form_1 IS NOT NULL, form_2 IS NOT NULL, form_3 IS NOT NULL, n3) THEN 'not recorded (skipped)'
            ELSE listed(
                coalesce(form_1, 'not recorded'), coalesce(form_2, 'not recorded'), coalesce(form_3, 'not recorded'), n3
            ) || ' (not poor ' || mark(NOT form_poor) || ')'
        END,
        'RPE last 3: ' || CASE
            WHEN n3 = 0 THEN 'no exposures yet'
            WHEN NOT any_of(rpe_1 IS NOT NULL, rpe_2 IS NOT NULL, rpe_3 IS NOT NULL, n3) THEN 'not recorded (skipped)'
            ELSE listed(num(rpe_1), num(rpe_2), num(rpe_3), n3) || ' (< ' || num($hold_rpe) || ' '
                || mark(NOT rpe_high) || ')'
        END,
        'dose last 3: ' || CASE
            WHEN n3 = 0 THEN 'no exposures yet'
            ELSE listed(
                dose_words(sets_1, CASE WHEN counts_holds THEN hold_s_1 ELSE reps_1 END, counts_holds, NULL, false),
                dose_words(sets_2, CASE WHEN counts_holds THEN hold_s_2 ELSE reps_2 END, counts_holds, NULL, false),
                dose_words(sets_3, CASE WHEN counts_holds THEN hold_s_3 ELSE reps_3 END, counts_holds, NULL, false),
                n3
            ) || CASE
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
    array_to_string(evidence, '; ') AS reasons,
    exposures_at_level,
    last_done,
    in_library,
    stretch
FROM recommendations
WHERE $client_id IS NULL OR client_id = $client_id
ORDER BY client_id, family NULLS LAST, ladder
