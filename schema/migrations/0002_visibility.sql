-- Per-role visibility (PROTOCOL.md section 6): finding a user's jobs and what hangs off them.

CREATE INDEX entities_technician_id_idx ON entities ((data ->> 'technician_id'))
    WHERE entity = 'job';
CREATE INDEX entities_location_id_idx ON entities ((data ->> 'location_id'))
    WHERE entity = 'job';
CREATE INDEX entities_service_area_idx ON entities ((data ->> 'service_area'))
    WHERE entity = 'location';
-- A customer's contacts on their own: within entities_customer_id_idx they need a
-- second condition, and the planner then ANDs in a scan of every contact's key.
CREATE INDEX entities_contact_customer_idx ON entities ((data ->> 'customer_id'))
    WHERE entity = 'contact';

-- What a device of a technician or service provider holds: the entities its pulls
-- delivered and have not since removed. A pull cursor names one of these sets; the
-- next pull compares it with what the user may see now, so an entity that became
-- visible is sent whole and one that stopped being visible is sent as removed.
-- Presenting a cursor acknowledges its set and drops the device's older ones.
CREATE TABLE pull_sets (
    id         bigserial PRIMARY KEY,
    device_id  text NOT NULL,
    entities   text[] NOT NULL,     -- entities[i], ids[i]: one held entity
    ids        text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pull_sets_device_idx ON pull_sets (device_id, id);
