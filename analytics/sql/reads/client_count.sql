-- How many clients (episodes) are in the viewer's scope ({in_scope}: on client_id).
SELECT count(*) AS clients FROM episodes WHERE {in_scope};
