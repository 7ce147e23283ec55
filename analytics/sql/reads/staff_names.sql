-- The name of every member of staff of the roster (a name is not a client's data: no scope).
SELECT staff_id, name FROM staff;
