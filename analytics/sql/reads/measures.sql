-- A client's ($client) outcome scores up to $today, in date order by instrument.
SELECT measured_on, instrument, score
FROM scoped_measures
WHERE client_id = $client AND measured_on <= $today
ORDER BY instrument, measured_on;
