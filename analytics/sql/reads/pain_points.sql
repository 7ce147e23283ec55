-- A client's ($client) pain points (session pains and NPRS scores) in date order.
SELECT pain_on, day, pain, source FROM pain_points WHERE client_id = $client ORDER BY pain_on, source;
