-- Realtime pokes (PROTOCOL.md section 7): which devices hold an entity, so that a
-- change that takes it out of a user's view still pokes that user.
CREATE INDEX pull_sets_ids_idx ON pull_sets USING gin (ids);
