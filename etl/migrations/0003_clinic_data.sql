-- The clinic data (docs/warehouse.md): every base table of the DuckDB warehouse, the same columns in the
-- same order, so that a host's local copy (etl/replica.py) is these tables fetched as they are. A load
-- validates in a local DuckDB copy and publishes only what changed (etl/publish.py), in one transaction
-- that also raises data_version by one.
--
-- Types as DuckDB has them: VARCHAR text, INTEGER integer, BIGINT bigint, DOUBLE double precision,
-- DATE date, TIMESTAMP timestamp (no time zone, as DuckDB's), BOOLEAN boolean, lists arrays; UBIGINT
-- (row_hash, 0 .. 2^64-1) has no PostgreSQL twin and is numeric(20, 0), which holds each value exactly.
--
-- Keys: the history's own (loads, load_runs, load_changes), a session and an exposure (session_type may
-- be NULL: NULLS NOT DISTINCT), and the library's. The rows of the files (<kind>_rows, malformed_rows and
-- their archive) have no key of their own; they change a version of a file (load_id) at a time, which is
-- how a load replaces them here, hence the index on load_id.
CREATE TABLE loads (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    path text,
    content_hash text,
    kind text,
    status text NOT NULL,
    rows_read bigint NOT NULL,
    rows_loaded bigint NOT NULL,
    rows_quarantined bigint NOT NULL,
    error text,
    note text,
    started timestamp NOT NULL,
    finished timestamp,
    roster_version integer,
    run_id integer,
    replaces integer,
    PRIMARY KEY (load_id)
);
CREATE TABLE load_runs (
    run_id integer NOT NULL,
    action text NOT NULL,
    loaded_by text,
    started timestamp NOT NULL,
    finished timestamp,
    undoes integer,
    undone_by integer,
    PRIMARY KEY (run_id)
);
CREATE TABLE load_changes (
    run_id integer NOT NULL,
    load_id integer NOT NULL,
    change text NOT NULL,
    PRIMARY KEY (run_id, load_id)
);
CREATE TABLE staff_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    staff_id text,
    name text,
    role text,
    email text,
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX staff_rows_load_id ON staff_rows (load_id);
CREATE TABLE cohorts_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    cohort_id text,
    name text,
    instructor_id text,
    start_date date,
    weeks integer,
    schedule text,
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX cohorts_rows_load_id ON cohorts_rows (load_id);
CREATE TABLE clients_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    client_id text,
    start_date date,
    region text,
    sessions_per_week integer,
    display_name text,
    birth_year integer,
    clinician_id text,
    cohort_id text,
    end_date date,
    goals text,
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX clients_rows_load_id ON clients_rows (load_id);
CREATE TABLE session_log_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    client_id text,
    session_date date,
    attended boolean,
    session_type text,
    exercise text,
    level integer,
    sets integer,
    reps integer,
    hold_s double precision,
    resistance text,
    side text,
    pain_before double precision,
    pain_during double precision,
    pain_after double precision,
    pain_next_day double precision,
    rpe double precision,
    form text,
    notes text,
    staff_id text,
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX session_log_rows_load_id ON session_log_rows (load_id);
CREATE TABLE measures_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    client_id text,
    measured_on date,
    instrument text,
    score double precision,
    items double precision[],
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX measures_rows_load_id ON measures_rows (load_id);
CREATE TABLE malformed_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    kind text,
    reason text NOT NULL,
    raw text
);
CREATE INDEX malformed_rows_load_id ON malformed_rows (load_id);
CREATE TABLE archived_staff_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    staff_id text,
    name text,
    role text,
    email text,
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX archived_staff_rows_load_id ON archived_staff_rows (load_id);
CREATE TABLE archived_cohorts_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    cohort_id text,
    name text,
    instructor_id text,
    start_date date,
    weeks integer,
    schedule text,
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX archived_cohorts_rows_load_id ON archived_cohorts_rows (load_id);
CREATE TABLE archived_clients_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    client_id text,
    start_date date,
    region text,
    sessions_per_week integer,
    display_name text,
    birth_year integer,
    clinician_id text,
    cohort_id text,
    end_date date,
    goals text,
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX archived_clients_rows_load_id ON archived_clients_rows (load_id);
CREATE TABLE archived_session_log_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    client_id text,
    session_date date,
    attended boolean,
    session_type text,
    exercise text,
    level integer,
    sets integer,
    reps integer,
    hold_s double precision,
    resistance text,
    side text,
    pain_before double precision,
    pain_during double precision,
    pain_after double precision,
    pain_next_day double precision,
    rpe double precision,
    form text,
    notes text,
    staff_id text,
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX archived_session_log_rows_load_id ON archived_session_log_rows (load_id);
CREATE TABLE archived_measures_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    client_id text,
    measured_on date,
    instrument text,
    score double precision,
    items double precision[],
    row_hash numeric(20, 0),
    reason text,
    raw text
);
CREATE INDEX archived_measures_rows_load_id ON archived_measures_rows (load_id);
CREATE TABLE archived_malformed_rows (
    load_id integer NOT NULL,
    source_file text NOT NULL,
    source_row bigint,
    kind text,
    reason text NOT NULL,
    raw text
);
CREATE INDEX archived_malformed_rows_load_id ON archived_malformed_rows (load_id);
CREATE TABLE session_summary (
    client_id text NOT NULL,
    session_date date NOT NULL,
    session_type text,
    attended boolean NOT NULL,
    exercise_rows integer NOT NULL,
    pain_during_mean double precision,
    pain_after_mean double precision,
    pain_before_mean double precision,
    pain_during_max double precision,
    next_day_rise_max double precision,
    UNIQUE NULLS NOT DISTINCT (client_id, session_date, session_type)
);
CREATE TABLE exposure_summary (
    client_id text NOT NULL,
    session_date date NOT NULL,
    session_type text,
    ladder text NOT NULL,
    family text,
    level integer,
    logged_as text NOT NULL,
    rows integer NOT NULL,
    pain_during_max double precision,
    pain_during_missing boolean NOT NULL,
    next_day_rise_max double precision,
    rpe_max double precision,
    form_worst text,
    sets_min integer,
    reps_min integer,
    hold_s_min double precision,
    sets_recorded boolean NOT NULL,
    reps_recorded boolean NOT NULL,
    hold_s_recorded boolean NOT NULL,
    day_order bigint NOT NULL,
    sequence integer,
    run_start integer,
    UNIQUE NULLS NOT DISTINCT (client_id, session_date, session_type, ladder)
);
CREATE TABLE instruments (
    code text,
    label text,
    low double precision,
    high double precision,
    higher_is_better boolean,
    PRIMARY KEY (code)
);
CREATE TABLE exercise_levels (
    ladder text NOT NULL,
    family text NOT NULL,
    family_label text NOT NULL,
    stretch boolean NOT NULL,
    level integer NOT NULL,
    top_level integer NOT NULL,
    exercise text NOT NULL,
    dose_sets integer NOT NULL,
    dose_reps integer,
    dose_hold_s integer,
    ceiling_sets integer NOT NULL,
    ceiling_reps integer,
    ceiling_hold_s integer,
    ceiling_tempo text,
    each_side boolean NOT NULL,
    resistance text NOT NULL,
    aim text,
    muscles text[],
    cues text[],
    PRIMARY KEY (ladder, level)
);
CREATE TABLE exercise_names (
    name_key text NOT NULL,
    name text NOT NULL,
    ladder text NOT NULL,
    level integer NOT NULL,
    PRIMARY KEY (name_key)
);
CREATE TABLE exercise_library_version (
    fingerprint text
);

-- What each published version changed, for a host to bring its copy from the version it holds to the newest
-- by fetching only those rows (etl/replica.py): per version and table, the keys whose rows were replaced
-- (a JSON array of objects of the table's key columns, as etl/replica.CLINIC_TABLES names them), or NULL
-- when the table was replaced whole.
CREATE TABLE published_changes (
    version bigint NOT NULL,
    table_name text NOT NULL,
    keys jsonb,
    PRIMARY KEY (version, table_name)
);
