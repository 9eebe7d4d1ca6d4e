-- Thumbnails: a 320-px JPEG per verified photo upload, stored beside the original.
ALTER TABLE uploads ADD COLUMN thumbnail_at timestamptz;
ALTER TABLE uploads ADD COLUMN thumbnail_failures integer NOT NULL DEFAULT 0;
