-- Thửa đất, federable: a province's partition of landdb.parcel may be a foreign table (postgres_fdw) over that
-- province's own database (`landgeo province attach`). PostgreSQL refuses a foreign partition under a parent that
-- has a unique index or a foreign key, so the primary key, the current-version key and the lineage foreign key
-- move from the parent to every local partition: the same indexes and checks as before (they were per partition
-- underneath anyway: a partitioned unique index is one unique index per partition), now owned by each partition.
-- The primary key keeps 0056's INCLUDE (valid_to): offset pages walk current ids index-only.
-- A foreign partition's keys are enforced by the province's own database, which has the same schema.
--
-- ON CONFLICT DO NOTHING (the loader's merge) still arbitrates on each partition's unique indexes. A partition
-- created later gets them from landdb.parcel_partition_keys(partition), which the loader calls after a swap and
-- `landgeo province detach` calls when it puts the local partition back.

CREATE FUNCTION landdb.parcel_partition_keys(part regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    rel  text := (SELECT relname FROM pg_class WHERE oid = part);
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = part AND contype = 'p') THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (id, province_code) INCLUDE (valid_to)', part,
                       rel || '_pkey');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE relname = rel || '_current_key'
                   AND relnamespace = 'landdb'::regnamespace) THEN
        EXECUTE format('CREATE UNIQUE INDEX %I ON %s (commune_code, sheet_number, parcel_number, province_code) '
                       'WHERE valid_to IS NULL', rel || '_current_key', part);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = part AND contype = 'f') THEN
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (batch_id) REFERENCES meta.load_batch (id)',
                       part, rel || '_batch_id_fkey');
    END IF;
END $$;
COMMENT ON FUNCTION landdb.parcel_partition_keys(regclass) IS
    'Gives a local partition of landdb.parcel its primary key, current-version key and lineage foreign key';

-- each local partition: its own keys first (built while the parent's still hold), then the parent's dropped
DO $$
DECLARE
    part regclass;
BEGIN
    FOR part IN SELECT c.oid::regclass FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'landdb.parcel'::regclass AND c.relkind = 'r' ORDER BY c.relname LOOP
        EXECUTE format('CREATE UNIQUE INDEX %I ON %s (id, province_code) INCLUDE (valid_to)',
                       (SELECT relname FROM pg_class WHERE oid = part) || '_id_key', part);
        EXECUTE format('CREATE UNIQUE INDEX %I ON %s (commune_code, sheet_number, parcel_number, province_code) '
                       'WHERE valid_to IS NULL', (SELECT relname FROM pg_class WHERE oid = part) || '_current_key',
                       part);
        EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (batch_id) REFERENCES meta.load_batch (id)',
                       part, (SELECT relname FROM pg_class WHERE oid = part) || '_batch_id_fkey');
    END LOOP;
END $$;
ALTER TABLE landdb.parcel DROP CONSTRAINT parcel_pkey;
DROP INDEX landdb.parcel_current_key;
ALTER TABLE landdb.parcel DROP CONSTRAINT parcel_batch_id_fkey;
-- the unique indexes built above become the partitions' primary keys, under the names they had
DO $$
DECLARE
    rel text;
BEGIN
    FOR rel IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
               WHERE i.inhparent = 'landdb.parcel'::regclass AND c.relkind = 'r' ORDER BY c.relname LOOP
        EXECUTE format('ALTER TABLE landdb.%I ADD CONSTRAINT %I PRIMARY KEY USING INDEX %I', rel, rel || '_pkey',
                       rel || '_id_key');
    END LOOP;
END $$;
