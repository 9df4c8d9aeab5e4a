-- Vector tiles (OGC API – Tiles): what the tile cache needs from the database.
--
-- 1. meta.tile_change: every write to a published table (layer = schema.table) records the WGS 84 boxes of the rows it touched (old and
--    new versions), one box per row for a register transaction, boxes per 0.01° cell (≈1 km) for a big load.
--    A cached tile is fresh while no change newer than the cache entry overlaps its envelope; so exactly the tiles
--    the old and new geometries touch are drawn again, the rest stay cached.
-- 2. meta.tile_commune_summary: parcel count and area by land-use group per commune (xã), for the tiles of the
--    zooms where single parcels are not drawn; kept current by the same triggers (recomputed per touched commune).
-- 3. The bulk loader swaps a whole partition of landdb.parcel in (ATTACH PARTITION): no row trigger fires, so an
--    event trigger records the attached partition's boxes and communes the same way.

CREATE TABLE meta.tile_change (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    layer       text NOT NULL,
    box         geometry(Polygon, 4326) NOT NULL,
    changed_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX tile_change_box ON meta.tile_change USING gist (box);
COMMENT ON TABLE meta.tile_change IS
    'Boxes (WGS 84) of rows written to a published table: the tile cache redraws the tiles they overlap';

CREATE TABLE meta.tile_commune_summary (
    commune_code   text PRIMARY KEY,
    province_code  text NOT NULL,
    parcels        bigint NOT NULL,
    area_m2        numeric NOT NULL,
    area_by_group  jsonb NOT NULL,   -- {"NNP": m², "PNN": m², "CSD": m², "?": m² (codes not in the list)}
    main_group     text NOT NULL,    -- the group with the largest area
    extent         geometry(Polygon, 4326) NOT NULL,
    label_point    geometry(Point, 4326) NOT NULL
);
CREATE INDEX tile_commune_summary_extent ON meta.tile_commune_summary USING gist (extent);
CREATE INDEX tile_commune_summary_point ON meta.tile_commune_summary USING gist (label_point);
COMMENT ON TABLE meta.tile_commune_summary IS
    'Current parcels per commune (xã): count, area by land-use group (nhóm đất) — the overview tiles';

GRANT SELECT ON meta.tile_change, meta.tile_commune_summary TO landgeo_reader;

-- The INSERT that records the boxes of the rows of relation `rel` (a transition table or a partition) for `layer`:
-- one box per row up to 2 000 rows (a register transaction: exactly its parcels), else one per 0.01° cell
-- (≈1 km: a load) so that a load of a million parcels writes a few thousand rows, not a million.
CREATE FUNCTION meta.tile_record_sql(layer text, rel text, col text, rows bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN rows <= 2000 THEN
        format('INSERT INTO meta.tile_change (layer, box) SELECT %L, ST_Expand(%I, 1e-9) FROM %s '
               'WHERE %I IS NOT NULL', layer, col, rel, col)
    ELSE
        format('INSERT INTO meta.tile_change (layer, box) SELECT %L, ST_Expand(ST_SetSRID(ST_Extent(%I)::geometry, 4326), 1e-9) '
               'FROM %s WHERE %I IS NOT NULL GROUP BY floor(ST_XMin(%I) * 100), floor(ST_YMin(%I) * 100)',
               layer, col, rel, col, col, col)
    END;
$$;

-- Recompute the summaries of the given communes from their current parcels. The overview symbols move with them
-- (a commune's point is the centre of its parcels' extent, a province's the centre of its communes'): the old and
-- new extents of the communes and of their provinces are recorded as changes of layer 'landdb.parcel#summary' (read
-- only by the overview tiles: a load in one corner of a province does not redraw the province's parcel tiles).
-- Concurrent register writes in one commune take its lock in turn (codes in order: no deadlock); each statement
-- after it sees what the writer before committed (READ COMMITTED), so the summary is rebuilt from the latest state.
CREATE FUNCTION meta.tile_refresh_communes(codes text[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT count(pg_advisory_xact_lock(hashtext('meta.tile_commune_summary'), hashtext(code)))
    FROM (SELECT DISTINCT code FROM unnest(codes) AS code ORDER BY code) c;
    INSERT INTO meta.tile_change (layer, box)
    SELECT 'landdb.parcel#summary', extent FROM meta.tile_commune_summary WHERE commune_code = ANY(codes)
    UNION ALL
    SELECT 'landdb.parcel#summary', ST_Expand(ST_SetSRID(ST_Extent(extent)::geometry, 4326), 1e-9) FROM meta.tile_commune_summary
    WHERE province_code IN (SELECT province_code FROM meta.tile_commune_summary WHERE commune_code = ANY(codes))
    GROUP BY province_code;
    DELETE FROM meta.tile_commune_summary WHERE commune_code = ANY(codes);
    WITH u AS (SELECT code, min(group_code) AS grp FROM landdb.land_use_code GROUP BY code),
    p AS (  -- the group of the first code by a hash join (not a look-up per parcel: loads bring millions)
        SELECT p.commune_code, p.province_code, p.computed_area, coalesce(u.grp, '?') AS grp, p.geom_wgs84
        FROM landdb.parcel p LEFT JOIN u ON u.code = p.land_use_codes[1]
        WHERE p.commune_code = ANY(codes) AND p.valid_to IS NULL
    ), g AS (
        SELECT commune_code, grp, sum(computed_area) AS area FROM p GROUP BY commune_code, grp
    ), c AS (
        SELECT commune_code, min(province_code) AS province_code, count(*) AS parcels,
               coalesce(sum(computed_area), 0) AS area_m2, ST_SetSRID(ST_Extent(geom_wgs84)::geometry, 4326) AS ext
        FROM p GROUP BY commune_code
    )
    INSERT INTO meta.tile_commune_summary
    SELECT c.commune_code, c.province_code, c.parcels, c.area_m2,
           (SELECT jsonb_object_agg(g.grp, round(g.area)) FROM g WHERE g.commune_code = c.commune_code),
           (SELECT g.grp FROM g WHERE g.commune_code = c.commune_code ORDER BY g.area DESC NULLS LAST, g.grp LIMIT 1),
           ST_Envelope(ST_Expand(c.ext, 1e-7)), ST_Centroid(c.ext)
    FROM c;
    INSERT INTO meta.tile_change (layer, box)
    SELECT 'landdb.parcel#summary', ST_Expand(ST_SetSRID(ST_Extent(extent)::geometry, 4326), 1e-9) FROM meta.tile_commune_summary
    WHERE province_code IN (SELECT province_code FROM meta.tile_commune_summary WHERE commune_code = ANY(codes))
    GROUP BY province_code;
$$;

-- Statement trigger of a published table: TG_ARGV = (layer, WGS 84 geometry column).
CREATE FUNCTION meta.tile_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    layer text := TG_ARGV[0];
    col text := TG_ARGV[1];
    n bigint;
    communes text[];
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT count(*) INTO n FROM new_rows;
        EXECUTE meta.tile_record_sql(layer, 'new_rows', col, n);
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        SELECT count(*) INTO n FROM old_rows;
        EXECUTE meta.tile_record_sql(layer, 'old_rows', col, n);
    END IF;
    IF layer = 'landdb.parcel' THEN
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(DISTINCT commune_code) INTO communes FROM new_rows;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT array_agg(DISTINCT commune_code) INTO communes FROM old_rows;
        ELSE
            SELECT array_agg(DISTINCT x) INTO communes
            FROM (SELECT commune_code AS x FROM new_rows UNION SELECT commune_code FROM old_rows) s;
        END IF;
        PERFORM meta.tile_refresh_communes(communes);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION meta.tile_changed() IS 'Records the boxes of written rows for the tile cache (meta.tile_change)';

-- One set of three statement triggers per published table (the catalogue's targets and the findings).
CREATE FUNCTION meta.tile_watch(tbl regclass, layer text, col text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER tile_change_ins AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION meta.tile_changed(%L, %L)', tbl, layer, col);
    EXECUTE format('CREATE TRIGGER tile_change_upd AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows '
                   'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION meta.tile_changed(%L, %L)',
                   tbl, layer, col);
    EXECUTE format('CREATE TRIGGER tile_change_del AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION meta.tile_changed(%L, %L)', tbl, layer, col);
END $$;

-- layer = the table's qualified name (the API maps its collections to tables through the catalogue).
SELECT meta.tile_watch('landdb.parcel', 'landdb.parcel', 'geom_wgs84');
SELECT meta.tile_watch('landdb.map_sheet', 'landdb.map_sheet', 'geom_wgs84');
SELECT meta.tile_watch('landdb.admin_unit', 'landdb.admin_unit', 'geom_wgs84');
SELECT meta.tile_watch('meta.validation_finding', 'meta.validation_finding', 'geom');
SELECT meta.tile_watch(format('geobase.%I', c.relname)::regclass, format('geobase.%s', c.relname), 'geom_wgs84')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'geobase' AND c.relkind = 'r' AND EXISTS (
    SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'geom_wgs84');

-- Partitions of landdb.parcel as last seen: the event trigger compares with pg_inherits after ALTER TABLE.
CREATE TABLE meta.tile_partition_seen (relid oid PRIMARY KEY);
INSERT INTO meta.tile_partition_seen SELECT inhrelid FROM pg_inherits WHERE inhparent = 'landdb.parcel'::regclass;

CREATE FUNCTION meta.tile_partitions_changed() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    part oid;
    n bigint;
    communes text[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger_ddl_commands() c WHERE c.objid = 'landdb.parcel'::regclass) THEN
        RETURN;
    END IF;
    FOR part IN
        SELECT inhrelid FROM pg_inherits WHERE inhparent = 'landdb.parcel'::regclass
        EXCEPT SELECT relid FROM meta.tile_partition_seen
        UNION ALL
        (SELECT relid FROM meta.tile_partition_seen EXCEPT
         SELECT inhrelid FROM pg_inherits WHERE inhparent = 'landdb.parcel'::regclass)
    LOOP
        IF EXISTS (SELECT 1 FROM pg_class WHERE oid = part) THEN
            EXECUTE format('SELECT count(*), array_agg(DISTINCT commune_code) FROM %s', part::regclass)
                INTO n, communes;
            EXECUTE meta.tile_record_sql('landdb.parcel', part::regclass::text, 'geom_wgs84', n);
            PERFORM meta.tile_refresh_communes(communes);
        END IF;
    END LOOP;
    DELETE FROM meta.tile_partition_seen;
    INSERT INTO meta.tile_partition_seen SELECT inhrelid FROM pg_inherits WHERE inhparent = 'landdb.parcel'::regclass;
END $$;

-- Event triggers need a superuser; without one (a managed server), loads that swap partitions cannot be seen:
-- the tile cache then has to be cleared after such a load (`landgeo tiles clear-cache`), and we say so here.
DO $$
BEGIN
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        CREATE EVENT TRIGGER tile_partitions_changed ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
            EXECUTE FUNCTION meta.tile_partitions_changed();
    ELSE
        RAISE WARNING 'not a superuser: partition swaps of landdb.parcel will not invalidate the tile cache';
    END IF;
END $$;

-- Summaries of the parcels already there.
SELECT meta.tile_refresh_communes(ARRAY(SELECT DISTINCT commune_code FROM landdb.parcel WHERE valid_to IS NULL));
