-- Land database (cơ sở dữ liệu địa chính): admin units, land-use codes, map sheets, parcels, history,
-- and the restricted tables of land users, rights and certificates.
-- Geometry: canonical in VN-2000 geographic (EPSG:4756); surveyed TM-3 coordinates survive the round trip
-- through it exactly (same datum, projection only). The WGS 84 serving copy is a stored generated column
-- computed with the official transformation (meta.vn2000_to_wgs84), so CRS84 output pays no datum shift.

-- Đơn vị hành chính: both generations live side by side (districts abolished and provinces/communes
-- merged on 2025-07-01), told apart by their validity dates.
CREATE TABLE landdb.admin_unit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text NOT NULL CHECK (code ~ '^[0-9]{2,5}$'),
    name        text NOT NULL,
    level       text NOT NULL CHECK (level IN ('province', 'district', 'commune')),
    parent_code text,
    valid_from  date NOT NULL,
    valid_to    date,
    source_srid integer,
    batch_id    bigint REFERENCES meta.load_batch (id),
    geom        geometry(MultiPolygon, 4756),
    geom_wgs84  geometry(MultiPolygon, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    UNIQUE (level, code, valid_from)
);
CREATE INDEX admin_unit_code ON landdb.admin_unit (code, level);
CREATE INDEX admin_unit_geom ON landdb.admin_unit USING gist (geom);
CREATE INDEX admin_unit_geom_wgs84 ON landdb.admin_unit USING gist (geom_wgs84);
COMMENT ON TABLE landdb.admin_unit IS 'Đơn vị hành chính (province/district/commune) with validity dates; both generations kept';

-- Mục đích sử dụng đất: the current list (TT 08/2024, from 2024-08-01) and the legacy one (TT 27/2018).
CREATE TABLE landdb.land_use_code (
    code       text NOT NULL CHECK (code ~ '^[A-Z]{2,4}$'),
    list       text NOT NULL CHECK (list IN ('2024', '2018')),
    name_vi    text NOT NULL,
    name_en    text NOT NULL,
    group_code text NOT NULL CHECK (group_code IN ('NNP', 'PNN', 'CSD', 'MVB')),
    valid_from date NOT NULL,
    valid_to   date,
    PRIMARY KEY (code, list)
);
COMMENT ON TABLE landdb.land_use_code IS 'Ký hiệu mục đích sử dụng đất: TT 08/2024/TT-BTNMT (2024) and TT 27/2018/TT-BTNMT (2018)';

-- Tờ bản đồ địa chính.
CREATE TABLE landdb.map_sheet (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    province_code text NOT NULL CHECK (province_code ~ '^[0-9]{2}$'),
    commune_code  text NOT NULL CHECK (commune_code ~ '^[0-9]{5}$'),
    sheet_number  integer NOT NULL CHECK (sheet_number > 0),
    scale         integer NOT NULL CHECK (scale IN (200, 500, 1000, 2000, 5000, 10000, 25000)),
    source_srid   integer NOT NULL,
    valid_from    timestamptz NOT NULL DEFAULT now(),
    valid_to      timestamptz,
    batch_id      bigint REFERENCES meta.load_batch (id),
    geom          geometry(MultiPolygon, 4756) NOT NULL,
    geom_wgs84    geometry(MultiPolygon, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX map_sheet_current_key ON landdb.map_sheet (commune_code, sheet_number) WHERE valid_to IS NULL;
CREATE INDEX map_sheet_geom ON landdb.map_sheet USING gist (geom);
CREATE INDEX map_sheet_geom_wgs84 ON landdb.map_sheet USING gist (geom_wgs84);
COMMENT ON TABLE landdb.map_sheet IS 'Tờ bản đồ địa chính: commune, sheet number, scale, the CRS it was surveyed in';

-- Thửa đất. One row per version (LADM VersionedObject): valid_from/valid_to is the version's lifespan;
-- the current version has valid_to NULL and is unique per commune + sheet + parcel number.
-- Partitioned by province code (the key a distributed PostgreSQL would distribute on).
CREATE TABLE landdb.parcel (
    id             bigint GENERATED ALWAYS AS IDENTITY,
    province_code  text NOT NULL CHECK (province_code ~ '^[0-9]{2}$'),
    commune_code   text NOT NULL CHECK (commune_code ~ '^[0-9]{5}$'),
    sheet_number   integer NOT NULL CHECK (sheet_number > 0),
    parcel_number  integer NOT NULL CHECK (parcel_number > 0),
    land_use_codes text[] NOT NULL CHECK (cardinality(land_use_codes) > 0),
    declared_area  numeric(14, 2) CHECK (declared_area >= 0),
    address        text,
    source_srid    integer NOT NULL,
    area_srid      integer NOT NULL,
    valid_from     timestamptz NOT NULL DEFAULT now(),
    valid_to       timestamptz,
    batch_id       bigint REFERENCES meta.load_batch (id),
    geom           geometry(MultiPolygon, 4756) NOT NULL,
    geom_wgs84     geometry(MultiPolygon, 4326) GENERATED ALWAYS AS (meta.vn2000_to_wgs84(geom)) STORED,
    computed_area  numeric(14, 2) GENERATED ALWAYS AS (round(ST_Area(ST_Transform(geom, area_srid))::numeric, 2)) STORED,
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    PRIMARY KEY (id, province_code)
) PARTITION BY LIST (province_code);
CREATE TABLE landdb.parcel_p01 PARTITION OF landdb.parcel FOR VALUES IN ('01');
CREATE TABLE landdb.parcel_p04 PARTITION OF landdb.parcel FOR VALUES IN ('04');
CREATE TABLE landdb.parcel_p08 PARTITION OF landdb.parcel FOR VALUES IN ('08');
CREATE TABLE landdb.parcel_p11 PARTITION OF landdb.parcel FOR VALUES IN ('11');
CREATE TABLE landdb.parcel_p12 PARTITION OF landdb.parcel FOR VALUES IN ('12');
CREATE TABLE landdb.parcel_p14 PARTITION OF landdb.parcel FOR VALUES IN ('14');
CREATE TABLE landdb.parcel_p15 PARTITION OF landdb.parcel FOR VALUES IN ('15');
CREATE TABLE landdb.parcel_p19 PARTITION OF landdb.parcel FOR VALUES IN ('19');
CREATE TABLE landdb.parcel_p20 PARTITION OF landdb.parcel FOR VALUES IN ('20');
CREATE TABLE landdb.parcel_p22 PARTITION OF landdb.parcel FOR VALUES IN ('22');
CREATE TABLE landdb.parcel_p24 PARTITION OF landdb.parcel FOR VALUES IN ('24');
CREATE TABLE landdb.parcel_p25 PARTITION OF landdb.parcel FOR VALUES IN ('25');
CREATE TABLE landdb.parcel_p31 PARTITION OF landdb.parcel FOR VALUES IN ('31');
CREATE TABLE landdb.parcel_p33 PARTITION OF landdb.parcel FOR VALUES IN ('33');
CREATE TABLE landdb.parcel_p37 PARTITION OF landdb.parcel FOR VALUES IN ('37');
CREATE TABLE landdb.parcel_p38 PARTITION OF landdb.parcel FOR VALUES IN ('38');
CREATE TABLE landdb.parcel_p40 PARTITION OF landdb.parcel FOR VALUES IN ('40');
CREATE TABLE landdb.parcel_p42 PARTITION OF landdb.parcel FOR VALUES IN ('42');
CREATE TABLE landdb.parcel_p44 PARTITION OF landdb.parcel FOR VALUES IN ('44');
CREATE TABLE landdb.parcel_p46 PARTITION OF landdb.parcel FOR VALUES IN ('46');
CREATE TABLE landdb.parcel_p48 PARTITION OF landdb.parcel FOR VALUES IN ('48');
CREATE TABLE landdb.parcel_p51 PARTITION OF landdb.parcel FOR VALUES IN ('51');
CREATE TABLE landdb.parcel_p52 PARTITION OF landdb.parcel FOR VALUES IN ('52');
CREATE TABLE landdb.parcel_p56 PARTITION OF landdb.parcel FOR VALUES IN ('56');
CREATE TABLE landdb.parcel_p66 PARTITION OF landdb.parcel FOR VALUES IN ('66');
CREATE TABLE landdb.parcel_p68 PARTITION OF landdb.parcel FOR VALUES IN ('68');
CREATE TABLE landdb.parcel_p75 PARTITION OF landdb.parcel FOR VALUES IN ('75');
CREATE TABLE landdb.parcel_p79 PARTITION OF landdb.parcel FOR VALUES IN ('79');
CREATE TABLE landdb.parcel_p80 PARTITION OF landdb.parcel FOR VALUES IN ('80');
CREATE TABLE landdb.parcel_p82 PARTITION OF landdb.parcel FOR VALUES IN ('82');
CREATE TABLE landdb.parcel_p86 PARTITION OF landdb.parcel FOR VALUES IN ('86');
CREATE TABLE landdb.parcel_p91 PARTITION OF landdb.parcel FOR VALUES IN ('91');
CREATE TABLE landdb.parcel_p92 PARTITION OF landdb.parcel FOR VALUES IN ('92');
CREATE TABLE landdb.parcel_p96 PARTITION OF landdb.parcel FOR VALUES IN ('96');
CREATE TABLE landdb.parcel_pdefault PARTITION OF landdb.parcel DEFAULT;
CREATE UNIQUE INDEX parcel_current_key ON landdb.parcel (province_code, commune_code, sheet_number, parcel_number)
    WHERE valid_to IS NULL;
CREATE INDEX parcel_lookup ON landdb.parcel (commune_code, sheet_number, parcel_number);
CREATE INDEX parcel_geom ON landdb.parcel USING gist (geom);
CREATE INDEX parcel_geom_wgs84 ON landdb.parcel USING gist (geom_wgs84);
CREATE INDEX parcel_batch ON landdb.parcel (batch_id);
COMMENT ON TABLE landdb.parcel IS 'Thửa đất: one row per version; declared (pháp lý) and computed area in the province TM-3 plane';
COMMENT ON COLUMN landdb.parcel.area_srid IS 'VN-2000 TM-3 CRS in which the legal area is measured (the province''s zone)';
COMMENT ON COLUMN landdb.parcel.land_use_codes IS 'Ký hiệu mục đích sử dụng đất, one or more (e.g. ONT+CLN)';

-- Biến động: how versions follow each other (split = tách thửa, merge = hợp thửa, update = thay đổi).
CREATE TABLE landdb.parcel_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id   bigint NOT NULL,
    child_id    bigint NOT NULL,
    event       text NOT NULL CHECK (event IN ('split', 'merge', 'update', 'correction')),
    happened_at timestamptz NOT NULL DEFAULT now(),
    batch_id    bigint REFERENCES meta.load_batch (id),
    CHECK (parent_id <> child_id)
);
CREATE INDEX parcel_history_parent ON landdb.parcel_history (parent_id);
CREATE INDEX parcel_history_child ON landdb.parcel_history (child_id);

-- Restricted: personal data of land users. Never in a public collection; no grant to landgeo_reader.
CREATE TABLE landdb_restricted.party (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('person', 'household', 'organisation', 'community', 'state')),
    full_name   text NOT NULL,
    id_number   text,
    birth_year  integer,
    address     text,
    batch_id    bigint REFERENCES meta.load_batch (id)
);
COMMENT ON TABLE landdb_restricted.party IS 'Người sử dụng đất (personal data: restricted)';

CREATE TABLE landdb_restricted.land_right (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parcel_id  bigint NOT NULL,
    party_id   bigint NOT NULL REFERENCES landdb_restricted.party (id),
    right_type text NOT NULL CHECK (right_type IN ('use', 'ownership_of_assets', 'lease', 'mortgage')),
    share      numeric(5, 4) CHECK (share > 0 AND share <= 1),
    valid_from date NOT NULL,
    valid_to   date
);
CREATE INDEX land_right_parcel ON landdb_restricted.land_right (parcel_id);
COMMENT ON TABLE landdb_restricted.land_right IS 'Quyền sử dụng đất (restricted)';

CREATE TABLE landdb_restricted.certificate (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial      text NOT NULL UNIQUE,
    book_number text,
    issued_on   date NOT NULL,
    issuer      text,
    parcel_id   bigint NOT NULL,
    party_id    bigint REFERENCES landdb_restricted.party (id),
    revoked_on  date
);
COMMENT ON TABLE landdb_restricted.certificate IS 'Giấy chứng nhận quyền sử dụng đất (restricted)';
