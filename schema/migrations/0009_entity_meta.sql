-- Who wrote each field of an entity, apart from the served document: pulls and reads
-- scan `entities`, and without this column its rows are a third of the size (a pull
-- page reads 5,000 of them). Only the merge and a job's `fields_meta` read it.
-- Its updates change no indexed column, so they are HOT updates when the page has room.
CREATE TABLE entity_meta (
    entity text NOT NULL,
    id     text NOT NULL,
    meta   jsonb NOT NULL,
    PRIMARY KEY (entity, id)
) WITH (fillfactor = 70);

INSERT INTO entity_meta (entity, id, meta) SELECT entity, id, meta FROM entities;
ALTER TABLE entities DROP COLUMN meta;
