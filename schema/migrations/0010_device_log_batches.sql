-- The device logs, stored one row per push: the ops the push appended, in seq order.
-- A push of 200 ops used to insert 200 rows and 600 index entries; it now inserts one
-- row and a few index entries. The view `device_log` below shows one row per op, as
-- the table of that name did.
--
-- The i-th op of a row (1-based) has seq first_seq + i - 1 and commit position
-- position + i - 1: a push's ops take consecutive seqs and consecutive positions.
CREATE TABLE device_log_batches (
    device_id   text NOT NULL,          -- a device of `devices`, claimed in the same transaction
    first_seq   bigint NOT NULL,
    last_seq    bigint NOT NULL,
    position    bigint NOT NULL,        -- the commit position of its first op
    user_id     text NOT NULL,
    received_at timestamptz NOT NULL,
    ops         text[] NOT NULL,        -- each op's JSON text, exactly as received
    entities    text[] NOT NULL,        -- each op's entity, id and action (null when the
    entity_ids  text[] NOT NULL,        -- op is too malformed to name them)
    actions     text[] NOT NULL,
    -- Each op's verdict: [applied, error, version, lost_fields]; `error` is a rejected
    -- op's {code, message}, `version` the entity version an applied op produced,
    -- `lost_fields` the fields where it lost LWW on arrival (or null).
    results     jsonb NOT NULL,
    PRIMARY KEY (device_id, last_seq),
    CHECK (cardinality(ops) = last_seq - first_seq + 1)
);
-- Kept out of line but not compressed: compressing each push's ops (pglz; lz4 is not
-- in every build) took 5% of PostgreSQL's CPU during ingest. One row per op, as
-- before, was never compressed either.
ALTER TABLE device_log_batches ALTER COLUMN ops SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX device_log_batches_position_key ON device_log_batches (position);
-- A job's history finds the pushes that name it here. Without a pending list
-- (fastupdate): every search would scan up to 4 MB of unmerged entries, which made a
-- history read under ingest take 100 ms rather than 3; ingest measured no difference.
CREATE INDEX device_log_batches_entity_ids_idx ON device_log_batches USING gin (entity_ids)
    WITH (fastupdate = off);

-- Each push was one transaction (positions xid * 1024 + k) on one device, its ops
-- consecutive in seq and in position; refuse to guess if the log says otherwise.
DO $$
BEGIN
    IF EXISTS (SELECT FROM device_log GROUP BY device_id, position / 1024
               HAVING max(seq) - min(seq) <> count(*) - 1
                   OR max(position - seq) <> min(position - seq)
                   OR count(DISTINCT user_id) <> 1
                   OR count(DISTINCT received_at) <> 1) THEN
        RAISE EXCEPTION 'device_log holds a push whose ops are not consecutive, '
                        'or not of one user at one time';
    END IF;
END $$;

INSERT INTO device_log_batches (device_id, first_seq, last_seq, position, user_id,
                                received_at, ops, entities, entity_ids, actions, results)
SELECT device_id, min(seq), max(seq), min(position), min(user_id), min(received_at),
       array_agg(op ORDER BY seq), array_agg(entity ORDER BY seq),
       array_agg(entity_id ORDER BY seq), array_agg(action ORDER BY seq),
       jsonb_agg(jsonb_build_array(status = 'applied', error, version, lost_fields)
                 ORDER BY seq)
FROM device_log
GROUP BY device_id, position / 1024;

DROP TABLE device_log;

-- Every op ever accepted, applied or rejected, one row per op: the source of truth.
CREATE VIEW device_log AS
SELECT b.device_id,
       b.first_seq + o.i - 1 AS seq,
       b.position + o.i - 1 AS position,
       b.user_id,
       o.op,
       o.entity,
       o.entity_id,
       o.action,
       CASE WHEN CAST(o.result ->> 0 AS boolean) THEN 'applied' ELSE 'rejected' END AS status,
       nullif(o.result -> 1, 'null') AS error,
       CAST(o.result ->> 2 AS bigint) AS version,
       nullif(o.result -> 3, 'null') AS lost_fields,
       b.received_at
FROM device_log_batches b
CROSS JOIN LATERAL ROWS FROM (
    unnest(b.ops), unnest(b.entities), unnest(b.entity_ids), unnest(b.actions),
    jsonb_array_elements(b.results)
) WITH ORDINALITY AS o(op, entity, entity_id, action, result, i);
