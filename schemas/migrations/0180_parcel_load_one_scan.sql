-- A province's first load (the partition swap of loaders/write/bulk.py): the tile products without scanning the
-- new partition again (issue 14, speed on data not seen before).
--
-- Until now the swap scanned the new partition three times after its ATTACH for the tile cache — the event trigger
-- of 0080: count and communes; the changed 0.01° cells for meta.tile_change; meta.tile_refresh_communes (0120) for
-- the commune summaries — about 2 s of server time a million parcels, alone on one core while the loader waited.
--
-- landdb.parcel_load_summarise(part), called by the loader before the ATTACH, makes the same products from
-- pg_temp.parcel_load_group: the new table's rows grouped by commune, land-use group, current or not and 0.01°
-- cell, with count, area sum and ST_Extent. The loader accumulates those groups while it streams the batches (it
-- sees every row: loaders/write/summary.py) and COPies them in (a few thousand rows a million parcels); when it
-- cannot (rows taken out by a set-based check after the COPY), the function makes them with one scan of the table.
-- Each product is exactly what the per-row statements give:
-- * counts are sums of counts, areas sums of numeric sums (exact);
-- * extents: ST_Extent works on the float boxes stored with each geometry (rounded outward to float4), and the
--   float box of a union of boxes is the union of their float boxes (0120's argument; a box cast to a geometry
--   and back keeps its float coordinates); the loader rounds its double boxes outward to float4 as PostGIS does;
-- * the cells are keyed as meta.tile_record_sql keys them (floor(ST_XMin(geom) * 100), … on the exact box), so
--   the same cell boxes are recorded; up to 2 000 rows, one box per row, as tile_record_sql does;
-- * the commune summaries are replaced as meta.tile_refresh_communes does (same locks, the same old and new
--   extents recorded), the communes' current parcels in other partitions (a commune loaded under another
--   --province) included from landdb.parcel itself.
-- The new table's oid is then marked as seen by the event trigger (meta.tile_partition_seen), which therefore does
-- not scan it again when it is attached. All of it happens in the load's transaction, before its COMMIT: a failed
-- load leaves nothing, and the summaries are exact when the load returns.

CREATE FUNCTION landdb.parcel_load_summarise(part regclass) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp SET enable_sort = off AS $$
DECLARE
    n bigint;
    codes text[];
BEGIN
    IF to_regclass('pg_temp.parcel_load_group') IS NULL THEN  -- not given by the loader: one scan of the table
        EXECUTE format(
        'CREATE TEMP TABLE parcel_load_group ON COMMIT DROP AS '
        'WITH u AS (SELECT code, min(group_code) AS grp FROM landdb.land_use_code GROUP BY code) '
        'SELECT p.province_code, p.commune_code, coalesce(u.grp, ''?'') AS grp, p.valid_to IS NULL AS current, '
        '       floor(ST_XMin(p.geom_wgs84) * 100) AS cx, floor(ST_YMin(p.geom_wgs84) * 100) AS cy, '
        '       count(*) AS n, sum(p.computed_area) AS area, ST_Extent(p.geom_wgs84) AS ext '
        'FROM %s p LEFT JOIN u ON u.code = p.land_use_codes[1] '
        'GROUP BY 1, 2, 3, 4, 5, 6', part);
    END IF;
    SELECT coalesce(sum(g.n), 0), array_agg(DISTINCT g.commune_code)
    INTO n, codes FROM pg_temp.parcel_load_group g;

    -- 1. the changed boxes for the tile cache (meta.tile_record_sql's rows, per row or per 0.01° cell)
    IF n <= 2000 THEN
        EXECUTE meta.tile_record_sql('landdb.parcel', part::text, 'geom_wgs84', n);
    ELSE
        INSERT INTO meta.tile_change (layer, box)
        SELECT 'landdb.parcel', ST_Expand(ST_SetSRID(ST_Extent(g.ext::geometry)::geometry, 4326), 1e-9)
        FROM pg_temp.parcel_load_group g WHERE g.ext IS NOT NULL GROUP BY g.cx, g.cy;
    END IF;

    -- 2. the commune summaries (meta.tile_refresh_communes of 0120, its parcels from the groups)
    IF codes IS NOT NULL THEN
        PERFORM count(pg_advisory_xact_lock(hashtext('meta.tile_commune_summary'), hashtext(code)))
        FROM (SELECT DISTINCT code FROM unnest(codes) AS code ORDER BY code) c;
        INSERT INTO meta.tile_change (layer, box)
        SELECT 'landdb.parcel#summary', extent FROM meta.tile_commune_summary WHERE commune_code = ANY(codes)
        UNION ALL
        SELECT 'landdb.parcel#summary', ST_Expand(ST_SetSRID(ST_Extent(extent)::geometry, 4326), 1e-9)
        FROM meta.tile_commune_summary
        WHERE province_code IN (SELECT province_code FROM meta.tile_commune_summary WHERE commune_code = ANY(codes))
        GROUP BY province_code;
        DELETE FROM meta.tile_commune_summary WHERE commune_code = ANY(codes);
        WITH u AS (SELECT code, min(group_code) AS grp FROM landdb.land_use_code GROUP BY code),
        g AS (
            SELECT commune_code, grp, min(province_code) AS province_code, sum(k) AS parcels, sum(area) AS area,
                   ST_Extent(ext) AS ext
            FROM (
                SELECT g.commune_code, g.grp, g.province_code, g.n AS k, g.area,
                       ST_SetSRID(g.ext::geometry, 4326) AS ext
                FROM pg_temp.parcel_load_group g WHERE g.current
                UNION ALL  -- current parcels of these communes in the other partitions (the new one is not attached)
                SELECT p.commune_code, coalesce(u.grp, '?'), p.province_code, 1, p.computed_area, p.geom_wgs84
                FROM landdb.parcel p LEFT JOIN u ON u.code = p.land_use_codes[1]
                WHERE p.commune_code = ANY(codes) AND p.valid_to IS NULL) s
            GROUP BY commune_code, grp
        ), c AS (
            SELECT commune_code, min(province_code) AS province_code, sum(parcels)::bigint AS parcels,
                   coalesce(sum(area), 0) AS area_m2, ST_SetSRID(ST_Extent(ext::geometry)::geometry, 4326) AS ext
            FROM g GROUP BY commune_code
        )
        INSERT INTO meta.tile_commune_summary
        SELECT c.commune_code, c.province_code, c.parcels, c.area_m2,
               (SELECT jsonb_object_agg(g.grp, round(g.area)) FROM g WHERE g.commune_code = c.commune_code),
               (SELECT g.grp FROM g WHERE g.commune_code = c.commune_code ORDER BY g.area DESC NULLS LAST, g.grp
                LIMIT 1),
               ST_Envelope(ST_Expand(c.ext, 1e-7)), ST_Centroid(c.ext)
        FROM c;
        INSERT INTO meta.tile_change (layer, box)
        SELECT 'landdb.parcel#summary', ST_Expand(ST_SetSRID(ST_Extent(extent)::geometry, 4326), 1e-9)
        FROM meta.tile_commune_summary
        WHERE province_code IN (SELECT province_code FROM meta.tile_commune_summary WHERE commune_code = ANY(codes))
        GROUP BY province_code;
    END IF;

    -- 3. the event trigger of 0080 will not scan the table again when it is attached
    INSERT INTO meta.tile_partition_seen (relid) VALUES (part::oid) ON CONFLICT DO NOTHING;
    DROP TABLE pg_temp.parcel_load_group;
    RETURN n;
END $$;
COMMENT ON FUNCTION landdb.parcel_load_summarise(regclass) IS
    'A first load''s new partition, before its ATTACH: its tile changes and commune summaries, from one scan or the loader''s groups';

-- The id-block counts of a first load (0140's landdb.parcel_count_refresh recounts a swapped-in partition from its
-- rows: another scan of a million). When the loader's ids were one unbroken run of the sequence (no other writer
-- took one in between: it checks first, last and the number of rows), it knows the count of every block and gives
-- them here, before the ATTACH; the recount that landdb.parcel_partition_keys then asks for is skipped once, for
-- that partition, in this transaction (setting landgeo.counted_relid).
CREATE FUNCTION landdb.parcel_load_counts(part regclass, province text, blocks bigint[], counts bigint[])
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM landdb.parcel_current_count WHERE province_code = province;
    INSERT INTO landdb.parcel_current_count (province_code, block, n)
    SELECT province, b, n FROM unnest(blocks, counts) AS u (b, n) WHERE n <> 0;
    -- not SET LOCAL: a function's SET clause would undo it on return; a rollback undoes it, the recount clears it
    PERFORM set_config('landgeo.counted_relid', part::oid::text, false);
END $$;
COMMENT ON FUNCTION landdb.parcel_load_counts(regclass, text, bigint[], bigint[]) IS
    'A first load''s id-block counts, from its unbroken run of ids: landdb.parcel_count_refresh skips that partition once';

CREATE OR REPLACE FUNCTION landdb.parcel_count_refresh(part regclass) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    codes text[];
BEGIN
    IF part <> 'landdb.parcel'::regclass AND current_setting('landgeo.counted_relid', true) = part::oid::text THEN
        PERFORM set_config('landgeo.counted_relid', '', false);  -- counted by landdb.parcel_load_counts
        RETURN;
    END IF;
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
