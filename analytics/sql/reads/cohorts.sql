-- Every cohort of the roster, newest first, with its instructor's name and how many of its members are in
-- the viewer's scope ({in_scope}: on e.client_id). Which cohorts the viewer may open is chosen in Python.
SELECT
    c.cohort_id, c.name, c.instructor_id, s.name AS instructor, c.start_date, c.weeks, c.schedule,
    (SELECT count(*) FROM episodes AS e WHERE e.cohort_id = c.cohort_id AND {in_scope}) AS members
FROM cohorts AS c
LEFT JOIN staff AS s ON s.staff_id = c.instructor_id
ORDER BY c.start_date DESC NULLS LAST, c.name, c.cohort_id;
