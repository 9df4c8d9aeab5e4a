-- National base geographic database (cơ sở dữ liệu nền địa lý quốc gia), QCVN 42:2020 packages.
-- Each theme: feature code (mã đối tượng), name, source scale, lifespan, lineage; canonical geometry in
-- VN-2000 (4756) with a WGS 84 serving copy computed by the official transformation.

CREATE TABLE geobase.control_point (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    point_number  text,
    grade         text,
    elevation     double precision,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(Point, 4756) NOT NULL,
    geom_wgs84    geometry(Point, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX control_point_geom ON geobase.control_point USING gist (geom);
CREATE INDEX control_point_geom_wgs84 ON geobase.control_point USING gist (geom_wgs84);
COMMENT ON TABLE geobase.control_point IS 'Điểm khống chế đo đạc (geodetic control points)';

CREATE TABLE geobase.boundary (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    level         text CHECK (level IN ('national', 'province', 'district', 'commune')),
    left_code     text,
    right_code    text,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiLineString, 4756) NOT NULL,
    geom_wgs84    geometry(MultiLineString, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX boundary_geom ON geobase.boundary USING gist (geom);
CREATE INDEX boundary_geom_wgs84 ON geobase.boundary USING gist (geom_wgs84);
COMMENT ON TABLE geobase.boundary IS 'Đường địa giới hành chính (administrative boundary lines)';

CREATE TABLE geobase.hydro_line (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    kind          text,
    width_m       double precision,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiLineString, 4756) NOT NULL,
    geom_wgs84    geometry(MultiLineString, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX hydro_line_geom ON geobase.hydro_line USING gist (geom);
CREATE INDEX hydro_line_geom_wgs84 ON geobase.hydro_line USING gist (geom_wgs84);
COMMENT ON TABLE geobase.hydro_line IS 'Thủy hệ dạng đường: sông, suối, kênh, mương (hydrography lines)';

CREATE TABLE geobase.hydro_area (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    kind          text,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiPolygon, 4756) NOT NULL,
    geom_wgs84    geometry(MultiPolygon, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX hydro_area_geom ON geobase.hydro_area USING gist (geom);
CREATE INDEX hydro_area_geom_wgs84 ON geobase.hydro_area USING gist (geom_wgs84);
COMMENT ON TABLE geobase.hydro_area IS 'Thủy hệ dạng vùng: sông, hồ, ao, kênh rộng (hydrography areas)';

CREATE TABLE geobase.road (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    road_class    text,
    surface       text,
    width_m       double precision,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiLineString, 4756) NOT NULL,
    geom_wgs84    geometry(MultiLineString, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX road_geom ON geobase.road USING gist (geom);
CREATE INDEX road_geom_wgs84 ON geobase.road USING gist (geom_wgs84);
COMMENT ON TABLE geobase.road IS 'Đường bộ (roads)';

CREATE TABLE geobase.bridge (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    load_tonnes   double precision,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiLineString, 4756) NOT NULL,
    geom_wgs84    geometry(MultiLineString, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX bridge_geom ON geobase.bridge USING gist (geom);
CREATE INDEX bridge_geom_wgs84 ON geobase.bridge USING gist (geom_wgs84);
COMMENT ON TABLE geobase.bridge IS 'Cầu (bridges)';

CREATE TABLE geobase.railway (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    gauge_mm      integer,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiLineString, 4756) NOT NULL,
    geom_wgs84    geometry(MultiLineString, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX railway_geom ON geobase.railway USING gist (geom);
CREATE INDEX railway_geom_wgs84 ON geobase.railway USING gist (geom_wgs84);
COMMENT ON TABLE geobase.railway IS 'Đường sắt (railways)';

CREATE TABLE geobase.building (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    floors        integer,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiPolygon, 4756) NOT NULL,
    geom_wgs84    geometry(MultiPolygon, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX building_geom ON geobase.building USING gist (geom);
CREATE INDEX building_geom_wgs84 ON geobase.building USING gist (geom_wgs84);
COMMENT ON TABLE geobase.building IS 'Nhà (buildings)';

CREATE TABLE geobase.built_up_area (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiPolygon, 4756) NOT NULL,
    geom_wgs84    geometry(MultiPolygon, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX built_up_area_geom ON geobase.built_up_area USING gist (geom);
CREATE INDEX built_up_area_geom_wgs84 ON geobase.built_up_area USING gist (geom_wgs84);
COMMENT ON TABLE geobase.built_up_area IS 'Khu dân cư (built-up areas)';

CREATE TABLE geobase.contour (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    elevation     double precision NOT NULL,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiLineString, 4756) NOT NULL,
    geom_wgs84    geometry(MultiLineString, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX contour_geom ON geobase.contour USING gist (geom);
CREATE INDEX contour_geom_wgs84 ON geobase.contour USING gist (geom_wgs84);
COMMENT ON TABLE geobase.contour IS 'Đường bình độ (contours)';

CREATE TABLE geobase.spot_height (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    elevation     double precision NOT NULL,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(Point, 4756) NOT NULL,
    geom_wgs84    geometry(Point, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX spot_height_geom ON geobase.spot_height USING gist (geom);
CREATE INDEX spot_height_geom_wgs84 ON geobase.spot_height USING gist (geom_wgs84);
COMMENT ON TABLE geobase.spot_height IS 'Điểm độ cao (spot heights)';

CREATE TABLE geobase.land_cover (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    cover_class   text,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiPolygon, 4756) NOT NULL,
    geom_wgs84    geometry(MultiPolygon, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX land_cover_geom ON geobase.land_cover USING gist (geom);
CREATE INDEX land_cover_geom_wgs84 ON geobase.land_cover USING gist (geom_wgs84);
COMMENT ON TABLE geobase.land_cover IS 'Phủ bề mặt (land cover)';

CREATE TABLE geobase.place_name (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    feature_code  text NOT NULL,
    name          text,
    kind          text,
    source_scale  integer CHECK (source_scale > 0),
    province_code text CHECK (province_code ~ '^[0-9]{2}$'),
    attributes    jsonb NOT NULL DEFAULT '{}'::jsonb,
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(Point, 4756) NOT NULL,
    geom_wgs84    geometry(Point, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX place_name_geom ON geobase.place_name USING gist (geom);
CREATE INDEX place_name_geom_wgs84 ON geobase.place_name USING gist (geom_wgs84);
COMMENT ON TABLE geobase.place_name IS 'Địa danh (place names)';
