-- The roster with how many of the active clients in the viewer's scope ({in_scope}: on e.client_id) each
-- member of staff has as clinician.
SELECT
    s.staff_id, s.name, s.role,
    count(*) FILTER (WHERE m.active) AS active_clients
FROM staff AS s
LEFT JOIN episodes AS e ON e.clinician_id = s.staff_id AND {in_scope}
LEFT JOIN client_metrics AS m USING (client_id)
GROUP BY ALL
ORDER BY s.name, s.staff_id;
