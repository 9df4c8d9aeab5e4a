-- Foundation: PostGIS, the schemas, and the platform metadata (load lineage, validation findings).
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE SCHEMA IF NOT EXISTS meta;
COMMENT ON SCHEMA meta IS 'Platform metadata: schema version, load lineage, validation findings';
CREATE SCHEMA IF NOT EXISTS landdb;
COMMENT ON SCHEMA landdb IS 'Cơ sở dữ liệu địa chính: land parcels, map sheets, land use, admin units, history';
CREATE SCHEMA IF NOT EXISTS landdb_restricted;
COMMENT ON SCHEMA landdb_restricted IS 'Personal data of land users (người sử dụng đất), rights, certificates: never published';
CREATE SCHEMA IF NOT EXISTS geobase;
COMMENT ON SCHEMA geobase IS 'Cơ sở dữ liệu nền địa lý quốc gia (QCVN 42:2020 packages)';
CREATE SCHEMA IF NOT EXISTS staging;
COMMENT ON SCHEMA staging IS 'Loaders'' per-load staging tables (dropped after each load)';

-- The API's database role reads published schemas only; it never gets landdb_restricted.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'landgeo_reader') THEN
        CREATE ROLE landgeo_reader NOLOGIN;
    END IF;
END $$;
REVOKE ALL ON SCHEMA landdb_restricted FROM PUBLIC;

-- One row per load (lô nạp dữ liệu): the lineage every loaded row points to.
CREATE TABLE meta.load_batch (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target        text        NOT NULL,
    source_path   text        NOT NULL,
    source_sha256 text        NOT NULL CHECK (source_sha256 ~ '^[0-9a-f]{64}$'),
    source_format text,
    source_layer  text,
    crs_in        text,
    crs_out       text,
    mode          text        NOT NULL CHECK (mode IN ('append', 'replace', 'upsert')),
    options       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    counts        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    status        text        NOT NULL CHECK (status IN ('committed', 'noop')),
    loaded_by     text        NOT NULL DEFAULT current_user,
    started_at    timestamptz NOT NULL,
    finished_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX load_batch_target_sha ON meta.load_batch (target, source_sha256);
COMMENT ON TABLE meta.load_batch IS 'Lineage of every committed load: source, checksum, counts, CRS, options, who and when';

-- Validation runs and their findings (kết quả kiểm tra), published as a collection.
CREATE TABLE meta.validation_run (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target      text,
    scope       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    counts      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE TABLE meta.validation_finding (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id        bigint      REFERENCES meta.validation_run (id) ON DELETE CASCADE,
    batch_id      bigint      REFERENCES meta.load_batch (id) ON DELETE SET NULL,
    check_code    text        NOT NULL,
    severity      text        NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    target        text        NOT NULL,
    feature_id    text,
    province_code text,
    commune_code  text,
    message_vi    text        NOT NULL,
    message_en    text        NOT NULL,
    details       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    found_at      timestamptz NOT NULL DEFAULT now(),
    geom          geometry(Geometry, 4326)
);
CREATE INDEX validation_finding_geom ON meta.validation_finding USING gist (geom);
CREATE INDEX validation_finding_run ON meta.validation_finding (run_id);
CREATE INDEX validation_finding_check ON meta.validation_finding (check_code, severity);
COMMENT ON TABLE meta.validation_finding IS 'One finding of a validation check, located by a WGS 84 geometry for the map';
