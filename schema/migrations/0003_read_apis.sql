-- Dispatcher read APIs (PROTOCOL.md section 8): sorted, filtered job lists.

-- A job's `scheduled_date` as a sort key: microseconds since the epoch, and
-- unscheduled jobs last. Values are RFC 3339 with an offset (schema/entities.py
-- checks every write), so the cast does not depend on the session's time zone;
-- anything else sorts last rather than failing the write that stores it.
CREATE FUNCTION job_schedule_key(scheduled text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE
        WHEN scheduled ~ '^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d{1,9})?([Zz]|[+-]\d\d:\d\d)$'
        THEN (extract(epoch FROM CAST(scheduled AS timestamptz)) * 1000000)::bigint
        ELSE 9223372036854775807
    END;

-- Most urgent first.
CREATE FUNCTION job_priority_rank(priority text) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN CASE priority
        WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE 4
    END;

CREATE INDEX entities_job_schedule_idx
    ON entities (job_schedule_key(data ->> 'scheduled_date'), id)
    WHERE entity = 'job' AND NOT deleted;
CREATE INDEX entities_job_updated_idx ON entities (updated_at, id)
    WHERE entity = 'job' AND NOT deleted;
CREATE INDEX entities_job_priority_idx
    ON entities (job_priority_rank(data ->> 'priority'), id)
    WHERE entity = 'job' AND NOT deleted;

-- A technician's jobs come in schedule order straight from this index, and it finds
-- them for visibility too (schema/visibility.py): it replaces the plain one.
CREATE INDEX entities_job_technician_schedule_idx
    ON entities ((data ->> 'technician_id'), job_schedule_key(data ->> 'scheduled_date'), id)
    WHERE entity = 'job' AND NOT deleted;
DROP INDEX entities_technician_id_idx;

-- Filters without an index of their own: with statistics on the expressions, the
-- planner knows how common each value is, so it walks a sort index and filters
-- rather than reading every job.
CREATE STATISTICS entities_status_stats ON (data ->> 'status') FROM entities;
CREATE STATISTICS entities_priority_stats ON (data ->> 'priority') FROM entities;
CREATE STATISTICS entities_service_type_stats ON (data ->> 'service_type') FROM entities;

-- Customers listed by name.
CREATE INDEX entities_customer_name_idx ON entities ((data ->> 'name'), id)
    WHERE entity = 'customer' AND NOT deleted;

-- Conflict reports: either side's device or user, and time.
CREATE INDEX notices_winner_device_idx ON notices (winner_device_id, seq);
CREATE INDEX notices_winner_user_idx ON notices (winner_user_id, seq);
CREATE INDEX notices_loser_user_idx ON notices (loser_user_id, seq);
CREATE INDEX notices_detected_idx ON notices (detected_at, seq);

-- Device logs by user, for the devices list.
CREATE INDEX devices_user_idx ON devices (user_id, device_id);
