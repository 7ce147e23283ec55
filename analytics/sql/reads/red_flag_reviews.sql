-- A client's ($client) red-flag reviews made by today (the table holds only those), newest first, with
-- the reviewer's name.
SELECT r.review_id, r.reviewed_on, r.reviewed_by, s.name AS reviewer, r.outcome, r.referred_to, r.note
FROM red_flag_reviews AS r
LEFT JOIN staff AS s ON s.staff_id = r.reviewed_by
WHERE r.client_id = $client
ORDER BY r.reviewed_on DESC, r.review_id DESC;
