-- Mean pain by program week for each cohort (docs/metrics.md): for each week, the mean over members of each
-- member's mean pain in that week, weeks counted from each member's own start_date; n = members with
-- a value that week. The t-based interval is added in Python (scipy's t quantile).
-- {in_scope}: the members the viewer may see (on w.client_id): a roll-up is computed over them only.
-- The members' means are added up in client order: in whatever order the join gave them, two runs on the
-- same warehouse differed in the last digits.
SELECT
    e.cohort_id,
    w.program_week,
    count(*) AS n,
    avg(w.mean_pain ORDER BY w.client_id) AS mean_pain,
    stddev_samp(w.mean_pain ORDER BY w.client_id) AS sd
FROM weekly AS w
JOIN episodes AS e USING (client_id)
WHERE e.cohort_id IS NOT NULL AND w.mean_pain IS NOT NULL AND {in_scope}
GROUP BY ALL
ORDER BY ALL;
