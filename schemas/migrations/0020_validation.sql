-- Validation support (kiểm tra dữ liệu): SQL helpers used by the set-based checks, and indexes for the
-- findings collection. Idempotent (CREATE OR REPLACE / IF NOT EXISTS).

-- A metric VN-2000 CRS for any VN-2000 geometry without a recorded area SRID: UTM 48N west of 108°E,
-- UTM 49N east of it (EPSG:3405/3406). Used for lengths and distances of base-geography features.
CREATE OR REPLACE FUNCTION meta.vn2000_metric_srid(g geometry) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN (ST_XMin(g) + ST_XMax(g)) / 2 < 108 THEN 3405 ELSE 3406 END
$$;
COMMENT ON FUNCTION meta.vn2000_metric_srid(geometry) IS
    'VN-2000 / UTM 48N (3405) west of 108°E, 49N (3406) east: a metric plane for lengths of VN-2000 features';

-- Hạn sai diện tích thửa đất: ΔP = k · M · √P (m²), M = scale denominator, P = area (m²), k = 0.0004 by
-- default (cadastral mapping rules; see docs/validation.md for the source and its caveats).
CREATE OR REPLACE FUNCTION meta.cadastral_area_tolerance(area_m2 double precision, scale integer,
                                                         coefficient double precision DEFAULT 0.0004)
RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coefficient * scale * sqrt(greatest(area_m2, 0))
$$;
COMMENT ON FUNCTION meta.cadastral_area_tolerance(double precision, integer, double precision) IS
    'Allowed |declared - computed| parcel area (m²): coefficient · scale · sqrt(area)';

-- Findings: filter by target/feature and by run scope quickly (QGIS and the CLI summary ask for these).
CREATE INDEX IF NOT EXISTS validation_finding_target_feature ON meta.validation_finding (target, feature_id);
CREATE INDEX IF NOT EXISTS validation_finding_batch ON meta.validation_finding (batch_id);
CREATE INDEX IF NOT EXISTS validation_finding_commune ON meta.validation_finding (commune_code);

COMMENT ON COLUMN meta.validation_finding.check_code IS
    'Stable code of the check (geom.invalid, topo.overlap, attr.area_mismatch ...): see docs/validation.md';
COMMENT ON COLUMN meta.validation_finding.geom IS 'Where the finding is (WGS 84), for the map';
