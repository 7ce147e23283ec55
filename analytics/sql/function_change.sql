-- Function change per client and instrument (docs/metrics.md): first against latest score, signed so that
-- positive is better, against the instrument's MCID (or MDC). Scores of the same day are averaged
-- (a repeated test is one measurement), so "fewer than 2 scores" means fewer than 2 days.
CREATE OR REPLACE TEMP TABLE function_change AS
WITH daily AS (
    SELECT m.client_id, m.instrument, m.measured_on, avg(m.score) AS score
    FROM scoped_measures AS m
    JOIN episodes USING (client_id)
    WHERE m.instrument <> 'NPRS' AND m.measured_on <= $today
    GROUP BY ALL
),
per_instrument AS (
    SELECT
        client_id,
        instrument,
        count(*) AS scores,
        min(measured_on) AS first_on,
        max(measured_on) AS latest_on,
        arg_min(score, measured_on) AS first_score,
        arg_max(score, measured_on) AS latest_score
    FROM daily
    GROUP BY ALL
),
signed AS (
    SELECT
        p.*,
        t.threshold,
        CASE WHEN p.scores >= 2
            THEN (p.latest_score - p.first_score) * CASE WHEN t.higher_is_better THEN 1 ELSE -1 END
        END AS change
    FROM per_instrument AS p
    JOIN function_thresholds AS t USING (instrument)
)
SELECT
    *,
    CASE
        WHEN change IS NULL THEN 'not enough data'
        WHEN change >= threshold - $tolerance THEN 'improved'
        WHEN change <= -threshold + $tolerance THEN 'worse'
        ELSE 'no important change'
    END AS status
FROM signed;
