-- Exact counts of current parcel versions (thửa đất hiện hành) per province and block of 16 384 ids, so that an
-- unfiltered page by `offset` in id order skips whole blocks instead of walking millions of keys.
--
-- Ids come from one sequence, so every id of block b (id >> 14 = b) sorts before every id of block b + 1,
-- whatever its province. Row `offset` of the id order is found by summing the blocks' counts in block order up
-- to the one block that holds it, then walking at most 16 384 keys inside that block (landgeo/api/statements.py
-- `offset_position_sql`). The cost no longer grows with the depth nor with the country.
--
-- Exact under concurrent writes:
-- * every statement that inserts, updates or deletes parcels fires an AFTER … FOR EACH STATEMENT trigger with
--   transition tables, on the parent (statements through landdb.parcel, including rows that move between
--   partitions) and on each local partition (statements addressed to a partition: PostgreSQL fires only the
--   statement-level triggers of the table the statement names). It writes the statement's delta in the same
--   transaction as the rows, so a reader's snapshot sees counts and rows of the same transactions;
-- * deltas are inserted, never updated in place, so writers never wait for each other on a counter row. The
--   same statement folds the key's committed rows into one (DELETE … of the rows it could lock, FOR UPDATE SKIP
--   LOCKED, RETURNING their values, INSERT the sum): RETURNING gives exactly the rows this statement removed,
--   so two writers folding at once never count a row twice, and none ever waits;
-- * a province's partition swapped in by the bulk loader, put back by `landgeo province detach`, or truncated,
--   is recounted from its rows by landdb.parcel_partition_keys / the TRUNCATE triggers, in the same transaction.
-- A foreign partition (a federated province) is not counted here: offset pages walk while one is attached.

CREATE TABLE landdb.parcel_current_count (
    province_code text   NOT NULL,
    block         bigint NOT NULL,  -- id >> 14
    n             bigint NOT NULL
);
CREATE INDEX parcel_current_count_key ON landdb.parcel_current_count (province_code, block);
COMMENT ON TABLE landdb.parcel_current_count IS
    'Current parcel versions per province and block of 16384 ids (id >> 14), as deltas summed by readers';

-- the statement's delta (current rows added minus removed, per key), then the fold of the keys it touched
CREATE FUNCTION landdb.parcel_count_apply() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    codes  text[];
    blocks bigint[];
    counts bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(province_code), array_agg(block), array_agg(n) INTO codes, blocks, counts FROM (
            SELECT province_code, id >> 14 AS block, count(*) AS n FROM new_rows WHERE valid_to IS NULL
            GROUP BY 1, 2) s;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT array_agg(province_code), array_agg(block), array_agg(n) INTO codes, blocks, counts FROM (
            SELECT province_code, block, sum(d)::bigint AS n FROM (
                SELECT province_code, id >> 14 AS block, 1 AS d FROM new_rows WHERE valid_to IS NULL
                UNION ALL
                SELECT province_code, id >> 14, -1 FROM old_rows WHERE valid_to IS NULL) u
            GROUP BY 1, 2 HAVING sum(d) <> 0) s;
    ELSE
        SELECT array_agg(province_code), array_agg(block), array_agg(n) INTO codes, blocks, counts FROM (
            SELECT province_code, id >> 14 AS block, -count(*) AS n FROM old_rows WHERE valid_to IS NULL
            GROUP BY 1, 2) s;
    END IF;
    IF codes IS NULL THEN
        RETURN NULL;
    END IF;
    WITH delta AS (
        SELECT * FROM unnest(codes, blocks, counts) AS d (province_code, block, n)),
    gone AS (
        DELETE FROM landdb.parcel_current_count c
        WHERE c.ctid = ANY (ARRAY(
            SELECT k.ctid FROM landdb.parcel_current_count k
            WHERE (k.province_code, k.block) IN (SELECT province_code, block FROM delta)
            FOR UPDATE OF k SKIP LOCKED))
        RETURNING c.province_code, c.block, c.n)
    INSERT INTO landdb.parcel_current_count (province_code, block, n)
    SELECT province_code, block, sum(n) FROM (
        SELECT province_code, block, n FROM delta
        UNION ALL
        SELECT province_code, block, n FROM gone) s
    GROUP BY 1, 2 HAVING sum(n) <> 0;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION landdb.parcel_count_apply() IS
    'Statement trigger: writes the current-version count delta of the statement and folds the keys it touched';

-- a partition's (or the whole table's) counts from its rows: after a swap, an attach or a truncate
CREATE FUNCTION landdb.parcel_count_refresh(part regclass) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    codes text[];
BEGIN
    IF part = 'landdb.parcel'::regclass THEN
        DELETE FROM landdb.parcel_current_count;
        INSERT INTO landdb.parcel_current_count (province_code, block, n)
        SELECT province_code, id >> 14, count(*) FROM landdb.parcel WHERE valid_to IS NULL GROUP BY 1, 2;
        RETURN;
    END IF;
    -- the partition's list values (a partition of one province; the default partition holds any other code)
    SELECT array_agg(m[1]) INTO codes
    FROM pg_class k, regexp_matches(pg_get_expr(k.relpartbound, k.oid), '''([^'']*)''', 'g') AS m
    WHERE k.oid = part;
    IF codes IS NULL THEN  -- the default partition: the codes it holds now, and any count of an unlisted code
        DELETE FROM landdb.parcel_current_count c WHERE NOT EXISTS (
            SELECT 1 FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid,
                regexp_matches(pg_get_expr(k.relpartbound, k.oid), '''([^'']*)''', 'g') AS m
            WHERE i.inhparent = 'landdb.parcel'::regclass AND m[1] = c.province_code);
    ELSE
        DELETE FROM landdb.parcel_current_count WHERE province_code = ANY (codes);
    END IF;
    IF (SELECT relkind FROM pg_class WHERE oid = part) = 'r' THEN
        EXECUTE format('INSERT INTO landdb.parcel_current_count (province_code, block, n) '
                       'SELECT province_code, id >> 14, count(*) FROM %s WHERE valid_to IS NULL GROUP BY 1, 2', part);
    END IF;
END $$;
COMMENT ON FUNCTION landdb.parcel_count_refresh(regclass) IS
    'Recounts the current parcel versions of one partition of landdb.parcel (or of the whole table) per id block';

CREATE FUNCTION landdb.parcel_count_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM landdb.parcel_count_refresh(TG_RELID::regclass);
    RETURN NULL;
END $$;

-- the statement triggers of one table (the parent or a local partition)
CREATE FUNCTION landdb.parcel_count_triggers(rel regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = rel AND tgname = 'parcel_count_insert') THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TRIGGER parcel_count_insert AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION landdb.parcel_count_apply()', rel);
    EXECUTE format('CREATE TRIGGER parcel_count_update AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows '
                   'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION landdb.parcel_count_apply()', rel);
    EXECUTE format('CREATE TRIGGER parcel_count_delete AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION landdb.parcel_count_apply()', rel);
    EXECUTE format('CREATE TRIGGER parcel_count_truncate AFTER TRUNCATE ON %s '
                   'FOR EACH STATEMENT EXECUTE FUNCTION landdb.parcel_count_truncated()', rel);
END $$;
COMMENT ON FUNCTION landdb.parcel_count_triggers(regclass) IS
    'Adds the current-version count triggers to landdb.parcel or one of its local partitions';

-- a new local partition (the loader's swap, `landgeo province detach`) gets its keys, its count triggers and its
-- counts: 0091's function, extended
CREATE OR REPLACE FUNCTION landdb.parcel_partition_keys(part regclass) RETURNS void LANGUAGE plpgsql AS $$
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
    PERFORM landdb.parcel_count_triggers(part);
    PERFORM landdb.parcel_count_refresh(part);
END $$;

SELECT landdb.parcel_count_triggers('landdb.parcel');
SELECT landdb.parcel_count_triggers(c.oid::regclass)
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'landdb.parcel'::regclass AND c.relkind = 'r';
SELECT landdb.parcel_count_refresh('landdb.parcel');

GRANT SELECT ON landdb.parcel_current_count TO landgeo_reader;
