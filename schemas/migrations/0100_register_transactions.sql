-- Register transactions (issue 17): writes to the parcel register through the API (OGC API – Features Part 4)
-- and parcel mutations (biến động: tách thửa, hợp thửa, chuyển mục đích, chỉnh lý ranh giới), each recorded
-- with its legal basis, scoped in PostgreSQL by the identity of the request's transaction (migration 0060).
--
-- Versioning rule (stable feature id): the row whose id a client holds is always the parcel's latest version.
-- A write first copies the current state into a NEW row whose lifespan ends now (the closed version, with its
-- own version id), then writes the new state into the held row with valid_from = now. A retirement (DELETE,
-- a split's or merge's parents) only ends the held row's lifespan. No row is ever removed; `datetime` before a
-- change selects the closed version; parcel_history links every closed version to its successor.

-- ---------------------------------------------------------------- mutations (biến động)
CREATE TABLE landdb.parcel_mutation (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('create', 'update', 'retire', 'split', 'merge',
                                                  'land_use_change', 'boundary_correction')),
    document_number text CHECK (document_number IS NULL OR length(document_number) BETWEEN 1 AND 100),
    document_date   date,
    actor           text NOT NULL DEFAULT COALESCE(NULLIF(current_setting('landgeo.user', true), ''), session_user),
    at              timestamptz NOT NULL DEFAULT now(),
    province_code   text NOT NULL CHECK (province_code ~ '^[0-9]{2}$'),
    commune_code    text NOT NULL CHECK (commune_code ~ '^[0-9]{5}$'),
    detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
    CHECK ((document_number IS NULL) = (document_date IS NULL))
);
CREATE INDEX parcel_mutation_at ON landdb.parcel_mutation (at);
COMMENT ON TABLE landdb.parcel_mutation IS
    'Biến động đất đai: one register change (who, when, which kind) with its legal basis (quyết định / hồ sơ)';

ALTER TABLE landdb.parcel_history ADD COLUMN mutation_id bigint REFERENCES landdb.parcel_mutation (id);
ALTER TABLE landdb.parcel_history DROP CONSTRAINT parcel_history_event_check;
ALTER TABLE landdb.parcel_history ADD CONSTRAINT parcel_history_event_check
    CHECK (event IN ('split', 'merge', 'update', 'correction', 'land_use_change'));
CREATE INDEX parcel_history_mutation ON landdb.parcel_history (mutation_id);
COMMENT ON COLUMN landdb.parcel_history.mutation_id IS 'The mutation (and its document) that made this link';

-- ---------------------------------------------------------------- change feed (đồng bộ tỉnh)
-- One row per feature touched by an API write, in commit order of the sequence: a provincial system pulls
-- GET /collections/parcels/changes?since=<seq> and applies them in order.
CREATE TABLE landdb.parcel_change (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    mutation_id     bigint NOT NULL REFERENCES landdb.parcel_mutation (id),
    feature_id      bigint NOT NULL,
    closed_version  bigint,
    op              text NOT NULL CHECK (op IN ('create', 'update', 'retire')),
    province_code   text NOT NULL,
    commune_code    text NOT NULL
);
CREATE INDEX parcel_change_province ON landdb.parcel_change (province_code, seq);
CREATE INDEX parcel_change_at ON landdb.parcel_change (at);
COMMENT ON TABLE landdb.parcel_change IS
    'Change feed of API writes: feature (stable id), closed version, operation, in sequence order';

-- ---------------------------------------------------------------- scope of writes, in the database
-- Public reads are unchanged (a permissive SELECT policy for everyone); writes by the API's register role
-- must be in the identity's scope (access.in_scope, the read policies' key) before AND after the change.
ALTER TABLE landdb.parcel ENABLE ROW LEVEL SECURITY;
CREATE POLICY parcel_read ON landdb.parcel FOR SELECT USING (true);
CREATE POLICY parcel_insert ON landdb.parcel FOR INSERT TO landgeo_register
    WITH CHECK (access.in_scope(province_code, commune_code));
CREATE POLICY parcel_update ON landdb.parcel FOR UPDATE TO landgeo_register
    USING (access.in_scope(province_code, commune_code))
    WITH CHECK (access.in_scope(province_code, commune_code));
GRANT INSERT, UPDATE ON landdb.parcel TO landgeo_register;

ALTER TABLE landdb.parcel_mutation ENABLE ROW LEVEL SECURITY;
CREATE POLICY parcel_mutation_read ON landdb.parcel_mutation FOR SELECT USING (true);
CREATE POLICY parcel_mutation_insert ON landdb.parcel_mutation FOR INSERT TO landgeo_register
    WITH CHECK (access.in_scope(province_code, commune_code)
                AND actor = current_setting('landgeo.user', true));
ALTER TABLE landdb.parcel_change ENABLE ROW LEVEL SECURITY;
CREATE POLICY parcel_change_read ON landdb.parcel_change FOR SELECT USING (true);
CREATE POLICY parcel_change_insert ON landdb.parcel_change FOR INSERT TO landgeo_register
    WITH CHECK (access.in_scope(province_code, commune_code));
-- a history link may only be written for a parcel version the identity may write
ALTER TABLE landdb.parcel_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY parcel_history_read ON landdb.parcel_history FOR SELECT USING (true);
CREATE POLICY parcel_history_insert ON landdb.parcel_history FOR INSERT TO landgeo_register
    WITH CHECK (EXISTS (SELECT 1 FROM landdb.parcel p WHERE p.id = child_id
                        AND access.in_scope(p.province_code, p.commune_code)));

GRANT SELECT ON ALL TABLES IN SCHEMA landdb, meta TO landgeo_register;
GRANT SELECT ON landdb.parcel_mutation, landdb.parcel_change TO landgeo_reader;
GRANT INSERT ON landdb.parcel_mutation, landdb.parcel_change, landdb.parcel_history TO landgeo_register;
-- the trigger landdb.parcel_derive and the checks write nothing else; validation's temporary tables need TEMP

-- ---------------------------------------------------------------- tile caches and other listeners
-- Every committed write notifies channel 'landgeo_features' with {"collection", "ids", "bbox"} (CRS84):
-- tile caches drop the tiles under bbox (LISTEN landgeo_features). Sent by landgeo.register.store.
COMMENT ON TABLE landdb.parcel_change IS
    'Change feed of API writes (one row per touched feature); NOTIFY landgeo_features at commit for caches';
