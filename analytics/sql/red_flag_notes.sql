-- Session notes that are red flags (docs/metrics.md): more red-flag signs than negated ones, up to today
-- (the word list is data/red_flags.yaml; see analytics/red_flags.py).
CREATE OR REPLACE TEMP TABLE red_flag_notes AS
SELECT DISTINCT client_id, session_date, session_type, notes AS note
FROM scoped_session_log
WHERE notes IS NOT NULL
    AND session_date <= $today
    AND len(regexp_extract_all(lower(notes), $sign_pattern)) > len(regexp_extract_all(lower(notes), $negated_pattern));
