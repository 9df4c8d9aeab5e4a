-- One row per version, enforced by the database (DESIGN.md, "Access and writes": a write never updates a row in
-- place). Since migration 0200 a register write changes an existing row in one way only: it closes the version
-- (sets valid_to); the new state is a new row. The API's register role keeps INSERT and may UPDATE valid_to and
-- nothing else, on parcels, map sheets and the base-geography themes, so no code path (nor plain SQL through the
-- API's connection) can rewrite a version's content. Row-level security still decides which rows it may close.
-- Column privileges cost nothing per row (checked once per statement).

REVOKE UPDATE ON landdb.parcel FROM landgeo_register;
GRANT UPDATE (valid_to) ON landdb.parcel TO landgeo_register;
REVOKE UPDATE ON landdb.map_sheet FROM landgeo_register;
GRANT UPDATE (valid_to) ON landdb.map_sheet TO landgeo_register;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['control_point', 'boundary', 'hydro_line', 'hydro_area', 'road', 'bridge', 'railway',
                             'building', 'built_up_area', 'contour', 'spot_height', 'land_cover', 'place_name'] LOOP
        EXECUTE format('REVOKE UPDATE ON geobase.%I FROM landgeo_register', t);
        EXECUTE format('GRANT UPDATE (valid_to) ON geobase.%I TO landgeo_register', t);
    END LOOP;
END $$;
