-- Thửa đất at bulk speed: what a load of a million parcels costs the database, cut to what it needs.
--
-- 1. The WGS 84 serving copy and the computed area stay stored, but are no longer generated columns: the
--    loader computes them vectorised with the same official EPSG:6960 operation (≈0.5 µs a vertex in numpy;
--    PostgreSQL spent ≈5 µs a parcel in PROJ on one core). Every other writer gets them from the trigger below,
--    which derives both whenever a row arrives without them or its geometry (or area CRS) changes — so ad-hoc
--    SQL, the API and the history tools can never store a parcel whose copies disagree with its geometry.
ALTER TABLE landdb.parcel ALTER COLUMN geom_wgs84 DROP EXPRESSION;
ALTER TABLE landdb.parcel ALTER COLUMN computed_area DROP EXPRESSION;
ALTER TABLE landdb.parcel ALTER COLUMN geom_wgs84 SET NOT NULL;
ALTER TABLE landdb.parcel ALTER COLUMN computed_area SET NOT NULL;
COMMENT ON COLUMN landdb.parcel.geom_wgs84 IS
    'WGS 84 serving copy of geom by the official EPSG:6960 operation (meta.vn2000_to_wgs84); set by the loader or by trigger parcel_derive';
COMMENT ON COLUMN landdb.parcel.computed_area IS
    'Area of geom in the TM-3 plane area_srid, m², 2 decimals; set by the loader or by trigger parcel_derive';

CREATE FUNCTION landdb.parcel_derive() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.geom_wgs84 := meta.vn2000_to_wgs84(NEW.geom);
    NEW.computed_area := round(ST_Area(ST_Transform(NEW.geom, NEW.area_srid))::numeric, 2);
    RETURN NEW;
END $$;
COMMENT ON FUNCTION landdb.parcel_derive() IS 'Derives parcel.geom_wgs84 and parcel.computed_area from geom and area_srid';

-- WHEN is evaluated without calling the function: a loader row that carries both costs nothing here.
CREATE TRIGGER parcel_derive_insert BEFORE INSERT ON landdb.parcel FOR EACH ROW
    WHEN (NEW.geom_wgs84 IS NULL OR NEW.computed_area IS NULL)
    EXECUTE FUNCTION landdb.parcel_derive();
CREATE TRIGGER parcel_derive_update BEFORE UPDATE OF geom, area_srid, geom_wgs84, computed_area ON landdb.parcel
    FOR EACH ROW
    WHEN (NEW.geom IS DISTINCT FROM OLD.geom OR NEW.area_srid IS DISTINCT FROM OLD.area_srid
          OR NEW.geom_wgs84 IS DISTINCT FROM OLD.geom_wgs84 OR NEW.computed_area IS DISTINCT FROM OLD.computed_area)
    EXECUTE FUNCTION landdb.parcel_derive();

-- 2. Six indexes instead of nine: every one costs each load its build (a first load of a province builds them
--    all over a million parcels; measured on 1 M: unique key 0.8 s, GiST 1.1 s, commune 0.5 s, GIN 0.3 s).
--  * One spatial index, on the canonical geometry. The API compares spatial filters given in WGS 84 with geom
--    (the literal transformed once by the official operation) instead of geom_wgs84.
DROP INDEX landdb.parcel_geom_wgs84;
--  * Current-version key led by the commune: the key of a land office's look-up (xã, tờ, thửa) without the
--    province, and the arbiter of loads (province last: a partitioned unique index must hold the partition key).
DROP INDEX landdb.parcel_current_key;
CREATE UNIQUE INDEX parcel_current_key ON landdb.parcel (commune_code, sheet_number, parcel_number, province_code)
    WHERE valid_to IS NULL;
--  * A commune's parcels in id order, every version, with valid_to at hand: keyset pages of current parcels
--    and their count are index-only (the filter valid_to IS NULL reads the included column), history by
--    commune uses it too. It replaces parcel_lookup (commune, sheet, parcel, every version) and
--    parcel_current_commune_id (current only).
DROP INDEX landdb.parcel_lookup;
DROP INDEX landdb.parcel_current_commune_id;
CREATE INDEX parcel_commune ON landdb.parcel (commune_code, id) INCLUDE (valid_to);
--  * Keyset paging of the whole table runs on the primary key (id, province_code): the partial index on id of
--    current versions repeated it.
DROP INDEX landdb.parcel_current_id;
--  * Rows of one load batch are written together: a block-range index finds them (take-back of rejected rows,
--    lineage queries) for a few pages instead of a B-tree entry per parcel.
DROP INDEX landdb.parcel_batch;
CREATE INDEX parcel_batch ON landdb.parcel USING brin (batch_id);
