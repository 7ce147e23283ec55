-- Per client: the red-flag notes of the last $red_flag_days days that no review covers, and whether a review put
-- the client on hold (docs/metrics.md#flags). A review covers every note dated on or before its
-- day; the newest review by today says whether the client is on hold (`referred` or `paused`) or not
-- (`cleared`). Inputs: episodes, red_flag_notes, red_flag_reviews (the reviews made by today).
CREATE OR REPLACE TEMP TABLE red_flag_status AS
WITH newest_review AS (
    SELECT client_id, reviewed_on, outcome, referred_to
    FROM red_flag_reviews
    QUALIFY row_number() OVER (PARTITION BY client_id ORDER BY reviewed_on DESC, review_id DESC) = 1
),
open_notes AS (
    -- the newest note first; notes of one day in the order of their text, so the choice is stable
    SELECT
        n.client_id,
        count(*) AS open_red_flags,
        first(n.note ORDER BY n.session_date DESC, n.note DESC) AS newest_open_note,
        max(n.session_date) AS newest_open_note_on
    FROM red_flag_notes AS n
    LEFT JOIN newest_review AS r USING (client_id)
    WHERE n.session_date > $today - $red_flag_days
        AND (r.reviewed_on IS NULL OR n.session_date > r.reviewed_on)
    GROUP BY n.client_id
)
SELECT
    e.client_id,
    coalesce(o.open_red_flags, 0) AS open_red_flags,
    o.newest_open_note,
    o.newest_open_note_on,
    coalesce(list_contains($holding_outcomes, r.outcome), false) AS on_hold,
    r.outcome AS review_outcome,
    r.reviewed_on AS reviewed_on,
    r.referred_to
FROM episodes AS e
LEFT JOIN open_notes AS o USING (client_id)
LEFT JOIN newest_review AS r USING (client_id);
