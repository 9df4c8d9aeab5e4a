-- Publishing (OGC API – Features): what the API's queries need.
-- 1. VN-2000 TM-3 per-meridian CRSs (EPSG 9205–9218) in spatial_ref_sys, so ST_Transform(geom, <tm3>) works for
--    every province zone (projection only: same datum as 4756, exact). Idempotent: if another migration already
--    added a row, it is kept as it is.
INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)
SELECT code, 'EPSG', code, NULL,
       format('+proj=tmerc +lat_0=0 +lon_0=%s +k=0.9999 +x_0=500000 +y_0=0 +ellps=WGS84 '
              '+towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 '
              '+units=m +no_defs', lon0)
FROM (VALUES (9205, 103.0), (9206, 104.0), (9207, 104.5), (9208, 104.75), (9209, 105.5), (9210, 105.75),
             (9211, 106.0), (9212, 106.25), (9213, 106.5), (9214, 107.0), (9215, 107.25), (9216, 107.5),
             (9217, 108.25), (9218, 108.5)) AS z (code, lon0)
ON CONFLICT (srid) DO NOTHING;

-- 2. Keyset paging over current versions (the default view of the API): the next page of current parcels is an
--    index range scan on id, whatever its depth.
CREATE INDEX IF NOT EXISTS parcel_current_id ON landdb.parcel (id) WHERE valid_to IS NULL;
-- Land-use look-ups (land_use_codes @> ARRAY['ONT']) from property filters and CQL2 A_CONTAINS.
CREATE INDEX IF NOT EXISTS parcel_land_use ON landdb.parcel USING gin (land_use_codes);
-- Findings by target and time (the validation-findings collection's usual filters).
CREATE INDEX IF NOT EXISTS validation_finding_target ON meta.validation_finding (target, found_at);
