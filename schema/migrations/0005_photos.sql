-- Job photos (PROTOCOL.md section 10): uploads and their verification.

-- One row per upload URL handed out. `stored_at` is set once the stored bytes have
-- exactly the declared size and sha256. A photo whose key, size and sha256 match a
-- stored upload is `available`; any other is `pending`.
CREATE TABLE uploads (
    key          text PRIMARY KEY,
    job_id       text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL,
    sha256       text NOT NULL,          -- lowercase hex
    user_id      text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    stored_at    timestamptz
);

CREATE INDEX entities_photo_key_idx ON entities ((data ->> 'key'))
    WHERE entity = 'job_photo';

-- A photo's status from its served document. The merge sets it on every write of a
-- photo; an upload stored after the photo's op reaches it through an op of the
-- server's device log (syncserver/photos.py), so `rebuild` gives the same.
CREATE FUNCTION photo_status(photo jsonb) RETURNS text
    LANGUAGE sql STABLE
    RETURN CASE WHEN EXISTS (
        SELECT 1 FROM uploads u
        WHERE u.key = photo ->> 'key' AND u.stored_at IS NOT NULL
          AND u.sha256 = lower(photo ->> 'sha256')
          AND jsonb_typeof(photo -> 'size') = 'number'
          AND u.size = CAST(photo ->> 'size' AS numeric))
    THEN 'available' ELSE 'pending' END;
