-- Users, tokens, device logs, projections and conflict notices.

CREATE TABLE users (
    id            text PRIMARY KEY,
    email         text NOT NULL,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'dispatcher', 'technician', 'service_provider')),
    service_areas text[] NOT NULL DEFAULT '{}',
    active        boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE tokens (
    id         text PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id),
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    revoked_at timestamptz
);

-- Job numbers, assigned at a job's first create and never recomputed (rebuild keeps them).
CREATE SEQUENCE job_number_seq;
CREATE TABLE job_numbers (
    job_id text PRIMARY KEY,
    number bigint NOT NULL UNIQUE
);

CREATE TABLE devices (
    device_id     text PRIMARY KEY,
    user_id       text NOT NULL REFERENCES users (id),
    acked_seq     bigint NOT NULL DEFAULT 0,
    notices_acked bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_push_at  timestamptz,
    last_pull_at  timestamptz
);

-- The device logs: every op ever accepted, applied or rejected. The source of truth.
-- `position` is the op's commit position: the writing transaction's id * 1024 + the
-- op's place in its batch (see docs/architecture.md, "Commit positions").
CREATE TABLE device_log (
    device_id   text NOT NULL,          -- a device of `devices`, claimed in the same transaction
    seq         bigint NOT NULL,
    position    bigint NOT NULL,
    user_id     text NOT NULL,
    op          text NOT NULL,          -- the op as JSON text, exactly as received
    entity      text,
    entity_id   text,
    action      text,
    status      text NOT NULL CHECK (status IN ('applied', 'rejected')),
    error       jsonb,
    version     bigint,
    lost_fields jsonb,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (device_id, seq)
);
CREATE UNIQUE INDEX device_log_position_key ON device_log (position);
CREATE INDEX device_log_entity_idx ON device_log (entity, entity_id, position);

-- The projection of every entity: served fields in `data`, who wrote each in `meta`.
CREATE TABLE entities (
    entity     text NOT NULL,
    id         text NOT NULL,
    version    bigint NOT NULL,
    deleted    boolean NOT NULL,
    data       jsonb NOT NULL,
    meta       jsonb NOT NULL,
    -- The pull entry for this state, rendered once per write: pages concatenate it.
    change     text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE UNIQUE INDEX entities_version_key ON entities (version);

CREATE TABLE notices (
    seq              bigint PRIMARY KEY,
    id               text NOT NULL UNIQUE,
    entity           text NOT NULL,
    entity_id        text NOT NULL,
    field            text NOT NULL,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    winner           jsonb NOT NULL,
    loser            jsonb NOT NULL,
    winner_device_id text NOT NULL,
    loser_device_id  text NOT NULL,
    winner_user_id   text NOT NULL,
    loser_user_id    text NOT NULL,
    position         bigint NOT NULL,
    detected_at      timestamptz NOT NULL,
    resolution       jsonb
);
CREATE INDEX notices_loser_device_idx ON notices (loser_device_id, seq);
CREATE INDEX notices_entity_idx ON notices (entity, entity_id, seq);
CREATE INDEX notices_status_idx ON notices (status, seq);

-- RFC 3339 in UTC with milliseconds, the one time format on the wire.
CREATE FUNCTION rfc3339(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

CREATE TABLE server_secrets (
    name  text PRIMARY KEY,
    value text NOT NULL
);

-- Children by parent, for the read APIs.
CREATE INDEX entities_job_id_idx ON entities ((data ->> 'job_id'), version)
    WHERE entity IN ('job_note', 'job_photo');
CREATE INDEX entities_customer_id_idx ON entities ((data ->> 'customer_id'), version)
    WHERE entity IN ('location', 'contact', 'job');
