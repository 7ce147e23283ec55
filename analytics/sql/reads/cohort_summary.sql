-- One row per cohort with members in the viewer's scope ({in_scope}: on m.client_id; docs/metrics.md#per-cohort):
-- members, adherence median and quartiles, the share (and the number) of members adherent ($adherent or
-- more overall) and improved in pain, and how many have pain data.
SELECT
    e.cohort_id, c.name, c.instructor_id, count(*) AS members,
    median(m.adherence_overall) AS adherence_median,
    quantile_cont(m.adherence_overall, 0.25) AS adherence_q1,
    quantile_cont(m.adherence_overall, 0.75) AS adherence_q3,
    count(*) FILTER (WHERE m.adherence_overall >= $adherent) / count(*) AS share_adherent,
    count(*) FILTER (WHERE m.pain_status = 'improved') / count(*) AS share_improved,
    count(*) FILTER (WHERE m.pain_status <> 'not enough data') AS members_with_pain_data,
    count(*) FILTER (WHERE m.adherence_overall >= $adherent) AS members_adherent,
    count(*) FILTER (WHERE m.pain_status = 'improved') AS members_improved
FROM client_metrics AS m
JOIN episodes AS e USING (client_id)
LEFT JOIN cohorts AS c ON c.cohort_id = e.cohort_id
WHERE e.cohort_id IS NOT NULL AND {in_scope}
GROUP BY ALL
ORDER BY e.cohort_id;
