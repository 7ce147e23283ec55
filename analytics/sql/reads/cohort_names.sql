-- The name of every cohort of the roster (a name is not a client's data: no scope).
SELECT cohort_id, name FROM cohorts;
