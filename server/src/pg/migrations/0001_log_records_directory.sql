-- shaozi on PostgreSQL, schema 1. Plain SQL that KingbaseES and openGauss also take: no
-- ON CONFLICT, no LISTEN/NOTIFY dependency, no identity columns.

-- The log's head: one row, locked first by every write transaction, so sequence numbers are
-- handed out in commit order with no gap, and every check a batch makes (versions, names,
-- idempotency keys, deadlines) happens in that same order across servers.
CREATE TABLE log_head (
    one smallint PRIMARY KEY CHECK (one = 1),
    seq bigint NOT NULL
);
INSERT INTO log_head (one, seq) VALUES (1, 0);

CREATE TABLE events (
    seq bigint PRIMARY KEY,
    kind text NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    subject text NOT NULL,
    -- The record whose timeline it is on: 'W' whistle, 'M' wish, null otherwise.
    record_kind char(1),
    record_id bigint,
    about_whistle boolean NOT NULL,
    json text NOT NULL
);
CREATE INDEX events_by_actor ON events (actor, seq);
CREATE INDEX events_by_time ON events (at, seq);
CREATE INDEX events_by_record ON events (record_kind, record_id, seq);

CREATE TABLE series (
    name text PRIMARY KEY,
    next_id bigint NOT NULL
);

CREATE TABLE directory (
    kind char(1) NOT NULL,
    id bigint NOT NULL,
    json text NOT NULL,
    PRIMARY KEY (kind, id)
);

-- Unique names of directory records and tokens.
CREATE TABLE names (
    kind char(1) NOT NULL,
    name text NOT NULL,
    holder_id bigint,
    holder_hash bytea,
    PRIMARY KEY (kind, name)
);

CREATE TABLE whistles (
    id bigint PRIMARY KEY,
    status smallint NOT NULL,
    department_id bigint,
    community_id bigint NOT NULL,
    street_id bigint NOT NULL,
    category text NOT NULL,
    urgent boolean NOT NULL,
    overdue boolean NOT NULL,
    -- The unanswered queue's order (overdue, escalated, urgent, deadline, id) as the bytes
    -- the sled engine sorts by, so cursors are the same on both; null when answered.
    queue_key bytea,
    -- The pending deadline, if any.
    due_at timestamptz,
    created_at timestamptz NOT NULL,
    dispatched_at timestamptz,
    closed_at timestamptz,
    json text NOT NULL
);
CREATE INDEX whistles_by_status ON whistles (status, id);
CREATE INDEX whistles_by_department ON whistles (department_id, status, id);
CREATE INDEX whistles_by_community ON whistles (community_id, status, id);
CREATE INDEX whistles_by_street ON whistles (street_id, status, id);
CREATE INDEX whistles_by_category ON whistles (category, id);
CREATE INDEX whistles_queue ON whistles (queue_key);
CREATE INDEX whistles_department_queue ON whistles (department_id, queue_key);
CREATE INDEX whistles_community_queue ON whistles (community_id, queue_key);
CREATE INDEX whistles_street_queue ON whistles (street_id, queue_key);
CREATE INDEX whistles_due ON whistles (due_at);
CREATE INDEX whistles_filed ON whistles (created_at, id);
CREATE INDEX whistles_dispatched ON whistles (dispatched_at);
CREATE INDEX whistles_closed ON whistles (closed_at);

CREATE TABLE wishes (
    id bigint PRIMARY KEY,
    status smallint NOT NULL,
    community_id bigint NOT NULL,
    street_id bigint NOT NULL,
    department_id bigint,
    created_at timestamptz NOT NULL,
    claimed_at timestamptz,
    json text NOT NULL
);
CREATE INDEX wishes_by_status ON wishes (status, id);
CREATE INDEX wishes_by_community ON wishes (community_id, status, id);
CREATE INDEX wishes_filed ON wishes (created_at);
CREATE INDEX wishes_claimed ON wishes (claimed_at);

CREATE TABLE activities (
    id bigint PRIMARY KEY,
    department_id bigint NOT NULL,
    community_id bigint NOT NULL,
    street_id bigint NOT NULL,
    -- Noon of its date in the city's time: what the assessment counts it by.
    day timestamptz NOT NULL,
    json text NOT NULL
);
CREATE INDEX activities_by_day ON activities (day);

CREATE TABLE counters (
    name text PRIMARY KEY,
    value bigint NOT NULL
);

CREATE TABLE tokens (
    hash bytea PRIMARY KEY,
    json text NOT NULL
);

CREATE TABLE idempotency (
    key bytea PRIMARY KEY,
    body text NOT NULL,
    answer text NOT NULL
);
