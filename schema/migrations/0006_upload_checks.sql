-- S3 mode: the server checks a bucket for an upload's bytes, backing off between tries.
ALTER TABLE uploads ADD COLUMN checked_at timestamptz;
ALTER TABLE uploads ADD COLUMN checks integer NOT NULL DEFAULT 0;
