-- VN-2000 in PostGIS with the official VN-2000 -> WGS 84 transformation (EPSG:6960, QĐ 05/2007/QĐ-BTNMT).
-- PostGIS/PROJ would otherwise pick EPSG:5194 inside the Mekong delta and Hồ Chí Minh City (~0.8 m off).
-- SRID 904756 is VN-2000 geographic bound to WGS 84 by exactly those parameters (position-vector
-- convention), so ST_Transform between 904756 and 4326 is the official Helmert, everywhere.
INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text)
VALUES (904756, NULL, NULL, NULL,
        '+proj=longlat +ellps=WGS84 +towgs84=-191.90441429,-39.30318279,-111.45032835,0.00928836,-0.01975479,0.00427372,0.252906278 +no_defs')
ON CONFLICT (srid) DO UPDATE SET auth_name = EXCLUDED.auth_name, auth_srid = EXCLUDED.auth_srid,
    srtext = EXCLUDED.srtext, proj4text = EXCLUDED.proj4text;

-- Any VN-2000 geometry (geographic 4756 or a projected VN-2000 CRS) to WGS 84, official operation.
CREATE OR REPLACE FUNCTION meta.vn2000_to_wgs84(g geometry) RETURNS geometry
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT ST_Transform(ST_SetSRID(CASE WHEN ST_SRID(g) = 4756 THEN g ELSE ST_Transform(g, 4756) END, 904756), 4326)
$$;
COMMENT ON FUNCTION meta.vn2000_to_wgs84(geometry) IS
    'VN-2000 (any VN-2000 SRID) to WGS 84 with the official EPSG:6960 parameters, never EPSG:5194';

-- WGS 84 to a VN-2000 CRS (4756 by default, or any projected VN-2000 SRID), official operation.
CREATE OR REPLACE FUNCTION meta.wgs84_to_vn2000(g geometry, target_srid integer DEFAULT 4756) RETURNS geometry
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN target_srid = 4756 THEN v ELSE ST_Transform(v, target_srid) END
    FROM (SELECT ST_SetSRID(ST_Transform(CASE WHEN ST_SRID(g) = 4326 THEN g ELSE ST_Transform(g, 4326) END, 904756), 4756) AS v) s
$$;
COMMENT ON FUNCTION meta.wgs84_to_vn2000(geometry, integer) IS
    'WGS 84 (or any non-VN-2000 SRID) to VN-2000 with the official EPSG:6960 parameters';
