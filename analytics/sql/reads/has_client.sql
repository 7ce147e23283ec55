-- Whether the build holds the client $client: 1 or 0.
SELECT count(*) AS clients FROM episodes WHERE client_id = $client;
