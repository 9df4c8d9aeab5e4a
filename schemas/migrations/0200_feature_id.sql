-- One row per version, a stable feature id across versions (DESIGN.md, "Access and writes"; issue 17).
--
-- A register write no longer rewrites a row: it closes the current row (valid_to, the only column a write ever
-- sets on an existing row) and inserts the new state as a new row carrying the same feature id. feature_id NULL
-- means "this row's own id": every row a file load inserts and every first version keeps it NULL, so the loader's
-- bulk path and its speed are untouched (no trigger, no default); only the later versions written by the register
-- carry it, and the partial indexes below find them. The published feature id is coalesce(feature_id, id).
--
-- Rows written by the earlier "held-row" rule: their closed copies become versions of the held feature (their
-- feature_id is set once, here); the held rows keep NULL (they are their own feature).

ALTER TABLE landdb.parcel ADD COLUMN feature_id bigint;
COMMENT ON COLUMN landdb.parcel.feature_id IS
    'Số hiệu đối tượng — the stable feature id shared by all versions of a parcel; NULL: the row''s own id';
CREATE INDEX parcel_feature ON landdb.parcel (feature_id) WHERE feature_id IS NOT NULL;

UPDATE landdb.parcel p SET feature_id = h.child_id
FROM landdb.parcel_history h
WHERE h.parent_id = p.id AND h.event IN ('update', 'correction', 'land_use_change') AND p.feature_id IS NULL
  AND p.valid_to IS NOT NULL;

ALTER TABLE landdb.map_sheet ADD COLUMN feature_id bigint;
COMMENT ON COLUMN landdb.map_sheet.feature_id IS
    'The stable feature id shared by all versions of a map sheet; NULL: the row''s own id';
CREATE INDEX map_sheet_feature ON landdb.map_sheet (feature_id) WHERE feature_id IS NOT NULL;
UPDATE landdb.map_sheet s SET feature_id = c.feature_id FROM meta.feature_change c
WHERE c.collection = 'map-sheets' AND c.closed_version = s.id AND s.feature_id IS NULL;

DO $$
DECLARE
    t text;
    collections CONSTANT text[][] := ARRAY[
        ['control_point', 'control-points'], ['boundary', 'boundaries'], ['hydro_line', 'hydro-lines'],
        ['hydro_area', 'hydro-areas'], ['road', 'roads'], ['bridge', 'bridges'], ['railway', 'railways'],
        ['building', 'buildings'], ['built_up_area', 'built-up-areas'], ['contour', 'contours'],
        ['spot_height', 'spot-heights'], ['land_cover', 'land-cover'], ['place_name', 'place-names']];
BEGIN
    FOR i IN 1 .. array_length(collections, 1) LOOP
        t := collections[i][1];
        EXECUTE format('ALTER TABLE geobase.%I ADD COLUMN feature_id bigint', t);
        EXECUTE format('COMMENT ON COLUMN geobase.%I.feature_id IS %L', t,
                       'The stable feature id shared by all versions of a feature; NULL: the row''s own id');
        EXECUTE format('CREATE INDEX %I ON geobase.%I (feature_id) WHERE feature_id IS NOT NULL',
                       t || '_feature', t);
        EXECUTE format('UPDATE geobase.%I x SET feature_id = c.feature_id FROM meta.feature_change c '
                       'WHERE c.collection = %L AND c.closed_version = x.id AND x.feature_id IS NULL',
                       t, collections[i][2]);
    END LOOP;
END $$;
