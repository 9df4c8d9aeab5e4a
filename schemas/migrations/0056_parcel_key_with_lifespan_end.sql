-- The parcel primary key carries valid_to (INCLUDE): the ids of current versions, in id order, are read from the
-- key alone (an index-only scan), without visiting the table. The API's `offset` pages use it: the rows skipped
-- before the page cost an index entry each, not a heap visit (issue 14, "a page 500 000 deep by offset").
-- No index is added (loads maintain the same number of indexes); valid_to is already in parcel_commune, so
-- closing a version was never a HOT update. The loader rebuilds partitions from pg_get_constraintdef, so the
-- swapped partitions keep this definition.
ALTER TABLE landdb.parcel
    DROP CONSTRAINT parcel_pkey,
    ADD CONSTRAINT parcel_pkey PRIMARY KEY (id, province_code) INCLUDE (valid_to);
