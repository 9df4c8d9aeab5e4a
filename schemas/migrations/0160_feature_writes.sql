-- Writes through the API (OGC API – Features Part 4) on the map sheets and the base-geography themes
-- (issue 17), with the versioning rule of the parcels (migration 0100): the held row keeps the feature's id and
-- latest state; a write copies the current state into a new row whose lifespan ends at the change (the closed
-- version), then writes the new state into the held row; DELETE only ends the held row's lifespan.
--
-- Who writes (facts of the catalogue, `Target.write_scope`, enforced here by row-level security):
--   map sheets (tờ bản đồ địa chính)  'commune'  : officers inside their provinces/communes, admins everywhere
--                                                  (access.in_scope, as for parcels);
--   base-geography themes (nền địa lý) 'national' : admins only (access.is_admin): the national base geographic
--                                                  database is kept by the national survey agency (Cục Đo đạc,
--                                                  Bản đồ và Thông tin địa lý Việt Nam), not by land offices.
-- The tables keep their lifespan columns (valid_from/valid_to) of migrations 0003/0004.

-- ---------------------------------------------------------------- change feed and version links
-- One row per feature an API write touched (not parcels: landdb.parcel_change). It is also how a closed
-- version is linked to the feature it was a state of: (collection, feature_id) -> closed_version.
CREATE TABLE meta.feature_change (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    collection      text NOT NULL CHECK (collection ~ '^[a-z0-9-]{1,64}$'),
    feature_id      bigint NOT NULL,
    closed_version  bigint,
    op              text NOT NULL CHECK (op IN ('create', 'update', 'retire')),
    province_code   text CHECK (province_code ~ '^[0-9]{2}$'),
    commune_code    text CHECK (commune_code ~ '^[0-9]{5}$'),
    actor           text NOT NULL DEFAULT COALESCE(NULLIF(current_setting('landgeo.user', true), ''), session_user),
    document_number text CHECK (document_number IS NULL OR length(document_number) BETWEEN 1 AND 100),
    document_date   date,
    CHECK ((document_number IS NULL) = (document_date IS NULL))
);
CREATE INDEX feature_change_collection ON meta.feature_change (collection, seq);
CREATE INDEX feature_change_feature ON meta.feature_change (collection, feature_id);
CREATE INDEX feature_change_at ON meta.feature_change (at);
COMMENT ON TABLE meta.feature_change IS
    'Change feed of API writes on map sheets and base geography (feature, closed version, op, legal basis)';

ALTER TABLE meta.feature_change ENABLE ROW LEVEL SECURITY;
CREATE POLICY feature_change_read ON meta.feature_change FOR SELECT USING (true);
CREATE POLICY feature_change_insert ON meta.feature_change FOR INSERT TO landgeo_register
    WITH CHECK (actor = current_setting('landgeo.user', true)
                AND (access.is_admin() OR access.in_scope(province_code, commune_code)));
GRANT SELECT ON meta.feature_change TO landgeo_reader, landgeo_register;
GRANT INSERT ON meta.feature_change TO landgeo_register;

-- ---------------------------------------------------------------- map sheets: scoped like parcels
ALTER TABLE landdb.map_sheet ENABLE ROW LEVEL SECURITY;
CREATE POLICY map_sheet_read ON landdb.map_sheet FOR SELECT USING (true);
CREATE POLICY map_sheet_insert ON landdb.map_sheet FOR INSERT TO landgeo_register
    WITH CHECK (access.in_scope(province_code, commune_code));
CREATE POLICY map_sheet_update ON landdb.map_sheet FOR UPDATE TO landgeo_register
    USING (access.in_scope(province_code, commune_code))
    WITH CHECK (access.in_scope(province_code, commune_code));
GRANT INSERT, UPDATE ON landdb.map_sheet TO landgeo_register;

-- ---------------------------------------------------------------- base geography: national, admins only
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['control_point', 'boundary', 'hydro_line', 'hydro_area', 'road', 'bridge', 'railway',
                             'building', 'built_up_area', 'contour', 'spot_height', 'land_cover', 'place_name'] LOOP
        EXECUTE format('ALTER TABLE geobase.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY %I ON geobase.%I FOR SELECT USING (true)', t || '_read', t);
        EXECUTE format('CREATE POLICY %I ON geobase.%I FOR INSERT TO landgeo_register WITH CHECK (access.is_admin())',
                       t || '_insert', t);
        EXECUTE format('CREATE POLICY %I ON geobase.%I FOR UPDATE TO landgeo_register USING (access.is_admin()) '
                       'WITH CHECK (access.is_admin())', t || '_update', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE ON geobase.%I TO landgeo_register', t);
    END LOOP;
END $$;
-- the closed copies read meta.load_batch through batch_id; sequences of identity columns need no grant
