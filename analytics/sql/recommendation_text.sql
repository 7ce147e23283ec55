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
        'pain during last 2: ' || values_of(pain_during_last[1:2]) || CASE
            WHEN len(pain_during_last) = 0 THEN ''
            ELSE ' (≤ ' || num($regress_pain_during) || ' '
                || mark(NOT coalesce(list_max(pain_during_last[1:2]) > $regress_pain_during, false)) || ')'
        END,
        'next-day rise last 2: ' || CASE
            WHEN len(rise_last) = 0 THEN 'no exposures yet'
            WHEN list_max(rise_last[1:2]) IS NULL THEN 'not recorded (skipped)'
            ELSE signed_values(rise_last[1:2]) || ' (< +' || num($regress_next_day_rise) || ' '
                || mark(list_max(rise_last[1:2]) < $regress_next_day_rise) || ')'
        END,
        'exposures at current level: ' || exposures_at_level || ' (≥ ' || $hold_min_exposures || ' '
            || mark(exposures_at_level >= $hold_min_exposures) || ')',
        'adherence last 2 weeks: ' || CASE
            WHEN adherence_2_weeks IS NULL THEN 'unknown ✗'
            ELSE num(round(adherence_2_weeks * 100, 1)) || ' % (≥ ' || num($adherent * 100) || ' % '
                || mark(adherence_2_weeks >= $adherent - $tolerance) || ')'
        END,
        'pain during last 3: ' || values_of(pain_during_last) || CASE
            WHEN len(pain_during_last) = 0 THEN ''
            WHEN pain_not_recorded THEN ' (pain during not recorded ✗)'
            ELSE ' (≤ ' || num($hold_pain_during) || ' ' || mark(NOT pain_above_hold) || ')'
        END,
        'next-day rise last 3: ' || CASE
            WHEN len(rise_last) = 0 THEN 'no exposures yet'
            WHEN list_max(rise_last) IS NULL THEN 'not recorded (skipped)'
            ELSE signed_values(rise_last) || ' (≤ 0 ' || mark(NOT not_settled) || ')'
        END,
        'form last 3: ' || CASE
            WHEN len(form_last) = 0 THEN 'no exposures yet'
            WHEN len(list_filter(form_last, lambda f: f IS NOT NULL)) = 0 THEN 'not recorded (skipped)'
            ELSE array_to_string(list_transform(form_last, lambda f: coalesce(f, 'not recorded')), ', ')
                || ' (not poor ' || mark(NOT form_poor) || ')'
        END,
        'RPE last 3: ' || CASE
            WHEN len(rpe_last) = 0 THEN 'no exposures yet'
            WHEN list_max(rpe_last) IS NULL THEN 'not recorded (skipped)'
            ELSE values_of(rpe_last) || ' (≤ ' || num($hold_rpe - 1) || ' ' || mark(NOT rpe_high) || ')'
        END,
        'dose last 3: ' || CASE
            WHEN len(sets_last) = 0 THEN 'no exposures yet'
            ELSE array_to_string(
                list_transform(list_zip(sets_last, amount_last), lambda d: dose_words(d[1], d[2], counts_holds, NULL, false)),
                ', '
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
