-- Every dated point of a client's episode, up to today: each session (attended, flare, its pain) and
-- each NPRS score of the measures (docs/metrics.md). Views over sessions and nprs_scores, which hold them
-- already (copying the session pains into a table of their own took a tenth of the metrics' build at
-- 10 000 clients).
--   session_points: one row per session and per NPRS score; `pain` is the session pain or the score
--                   (a session without a pain keeps its row: it counts for attendance);
--   pain_points:    the pain points: those with a pain.
CREATE OR REPLACE TEMP VIEW session_points AS
SELECT client_id, session_date AS point_on, day, attended, flare, session_pain AS pain, 'session' AS source
FROM sessions
UNION ALL
SELECT client_id, pain_on, day, false, false, pain, 'NPRS'
FROM nprs_scores;

CREATE OR REPLACE TEMP VIEW pain_points AS
SELECT client_id, point_on AS pain_on, day, pain, source
FROM session_points
WHERE pain IS NOT NULL;
