-- The device logs, stored one row per push: the ops the push appended, in seq order.
-- A push of 200 ops used to insert 200 rows and 600 index entries; it now inserts one
-- row and a few index entries. The view `device_log` below shows one row per op, as
-- the table of that name did.
CREATE TABLE device_log_batches (
    device_id   text NOT NULL,          -- a device of `devices`, claimed in the same transaction
    first_seq   bigint NOT NULL,
    last_seq    bigint NOT NULL,
    position    bigint NOT NULL,        -- the commit position of its first op
    user_id     text NOT NULL,
    received_at timestamptz NOT NULL,
    -- One array per op, in seq order:
    --   [seq, position, op, entity, entity_id, action, applied, error, version, lost_fields]
    -- `op` is the op's JSON text exactly as received, as a JSON string; `applied` a
    -- boolean; `error` ({code, message}), `version` and `lost_fields` null unless known.
    ops         json NOT NULL,
    entity_ids  text[] NOT NULL,        -- the distinct entity ids its ops name
    PRIMARY KEY (device_id, last_seq),
    CHECK (first_seq <= last_seq)
);
-- Kept out of line but not compressed: compressing each push's ops (pglz; lz4 is not
-- in every build) took 5% of PostgreSQL's CPU during ingest. One row per op, as
-- before, was never compressed either.
ALTER TABLE device_log_batches ALTER COLUMN ops SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX device_log_batches_position_key ON device_log_batches (position);
-- A job's history finds the pushes that name it here.
CREATE INDEX device_log_batches_entity_ids_idx ON device_log_batches USING gin (entity_ids);

-- Each push was one transaction (positions xid * 1024 + k) on one device.
INSERT INTO device_log_batches (device_id, first_seq, last_seq, position, user_id,
                                received_at, ops, entity_ids)
SELECT device_id, min(seq), max(seq), min(position), min(user_id), min(received_at),
       json_agg(json_build_array(seq, position, to_json(op), entity, entity_id, action,
                                 status = 'applied', error, version, lost_fields)
                ORDER BY seq),
       coalesce(array_agg(DISTINCT entity_id) FILTER (WHERE entity_id IS NOT NULL), '{}')
FROM device_log
GROUP BY device_id, position / 1024;

DROP TABLE device_log;

-- Every op ever accepted, applied or rejected, one row per op: the source of truth.
CREATE VIEW device_log AS
SELECT b.device_id,
       CAST(o ->> 0 AS bigint) AS seq,
       CAST(o ->> 1 AS bigint) AS position,
       b.user_id,
       o ->> 2 AS op,
       o ->> 3 AS entity,
       o ->> 4 AS entity_id,
       o ->> 5 AS action,
       CASE WHEN CAST(o ->> 6 AS boolean) THEN 'applied' ELSE 'rejected' END AS status,
       nullif(CAST(o -> 7 AS jsonb), 'null') AS error,
       CAST(o ->> 8 AS bigint) AS version,
       nullif(CAST(o -> 9 AS jsonb), 'null') AS lost_fields,
       b.received_at
FROM device_log_batches b CROSS JOIN LATERAL json_array_elements(b.ops) AS o;
