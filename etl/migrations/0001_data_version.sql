-- The version of the clinic data: a load that publishes raises it by one, in the same transaction as
-- its rows; a web host compares it with its local copy's to know when to refresh (docs/deployment.md).
CREATE TABLE data_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version bigint NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO data_version (version) VALUES (0);
