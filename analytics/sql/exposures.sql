-- Exposures (SPEC §3): one row per client, ladder and attended session (date, type) in which the
-- client did an exercise of the ladder, for every ladder done in the 21 days ending today.
-- A ladder is a family, a stretch (stretches have no ladder), or an exercise the library does not
-- know ('unknown: ' and its normalised name). See docs/recommendations.md.
CREATE OR REPLACE TEMP TABLE exposures AS
WITH names AS (
    -- the log's distinct spellings, matched to the library once rather than row by row
    SELECT
        u.exercise,
        coalesce(n.ladder, 'unknown: ' || name_key(u.exercise)) AS ladder,
        n.level,
        l.family
    FROM (SELECT DISTINCT exercise FROM scoped_session_log WHERE exercise IS NOT NULL) AS u
    LEFT JOIN library_names AS n ON n.name_key = name_key(u.exercise)
    LEFT JOIN library_levels AS l ON l.ladder = n.ladder AND l.level = n.level
),
done AS (
    SELECT s.client_id, s.session_date, s.session_type, n.ladder, n.family, n.level, s.exercise,
           s.sets, s.reps, s.hold_s, s.pain_before, s.pain_during, s.pain_next_day, s.rpe, s.form
    FROM scoped_session_log AS s
    JOIN names AS n USING (exercise)
    WHERE s.attended AND s.session_date <= $today
),
recent AS (
    SELECT DISTINCT client_id, ladder FROM done WHERE session_date > $today - $exercise_days
),
by_level AS (
    -- a unilateral exercise has a row per side: the exposure keeps the worst of them
    SELECT
        client_id, ladder, session_date, session_type, level,
        any_value(family) AS family,
        min(exercise) AS logged_as,
        count(*) AS rows,
        max(pain_during) AS pain_during,
        count(pain_during) < count(*) AS pain_during_missing,
        max(pain_next_day - pain_before) AS next_day_rise,
        max(rpe) AS rpe,
        -- the worst form of the rows: poor < fair < good
        CASE max(CASE form WHEN 'poor' THEN 3 WHEN 'fair' THEN 2 WHEN 'good' THEN 1 END)
            WHEN 3 THEN 'poor' WHEN 2 THEN 'fair' WHEN 1 THEN 'good'
        END AS form,
        min(sets) AS sets,
        min(reps) AS reps,
        min(hold_s) AS hold_s,
        count(sets) = count(*) AS sets_recorded,
        count(reps) = count(*) AS reps_recorded,
        count(hold_s) = count(*) AS hold_s_recorded
    FROM done
    SEMI JOIN recent USING (client_id, ladder)
    GROUP BY client_id, ladder, session_date, session_type, level
)
-- two levels of a family in one session: the exposure is at the higher one
SELECT *
FROM by_level
QUALIFY row_number() OVER (
    PARTITION BY client_id, ladder, session_date, session_type ORDER BY level DESC NULLS LAST
) = 1;
