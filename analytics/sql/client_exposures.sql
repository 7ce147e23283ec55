-- Every exposure (docs/recommendations.md) with the library's names, for the exercise-level timeline: the level's name
-- in the library, else the name logged. A view; a server keeps it as a table (prepare_for_pages).
CREATE OR REPLACE TEMP VIEW client_exposures AS
SELECT
    e.client_id,
    e.session_date,
    e.family,
    coalesce(l.family_label, e.family) AS family_label,
    e.level,
    coalesce(l.exercise, e.logged_as) AS exercise,
    coalesce(l.stretch, false) AS stretch
FROM scoped_exposure_summary AS e
LEFT JOIN library_levels AS l USING (ladder, level);
