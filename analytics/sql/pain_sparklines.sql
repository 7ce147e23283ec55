-- Each client's weekly mean pains, oldest week first: the caseload's sparkline. A view; a server keeps
-- it as a table (prepare_for_pages).
CREATE OR REPLACE TEMP VIEW pain_sparklines AS
SELECT client_id, list(round(mean_pain, 2) ORDER BY program_week) AS weekly_pain
FROM weekly
GROUP BY client_id;
