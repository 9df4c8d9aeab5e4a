-- Land-office access (issue 16): identities, their scope, the append-only audit, and the database role through
-- which the API reads the restricted register (landdb_restricted) ONLY under row-level security.
--
-- The identity of a request lives in four transaction-local settings that the API sets with
-- set_config(name, value, true) right after BEGIN (landgeo.access.session.apply_identity):
--   landgeo.user       the user's name (audit), landgeo.role  analyst | officer | admin,
--   landgeo.provinces  comma-separated province codes,  landgeo.communes  comma-separated commune codes.
-- Outside such a transaction the settings are empty: the policies below then match no row at all.
-- Write policies (register transactions) are to be keyed on the same settings through access.in_scope().

CREATE SCHEMA IF NOT EXISTS access;
COMMENT ON SCHEMA access IS 'Identities (người dùng), API token hashes, scope functions and the append-only audit';
REVOKE ALL ON SCHEMA access FROM PUBLIC;

-- ---------------------------------------------------------------- roles
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'landgeo_register') THEN
        CREATE ROLE landgeo_register NOLOGIN;
    END IF;
END $$;
COMMENT ON ROLE landgeo_register IS
    'The API reading the restricted register for one identity: row-level security decides every row it sees';
-- whoever may become landgeo_reader (the API's login) may become landgeo_register for a transaction
DO $$
DECLARE m record;
BEGIN
    FOR m IN SELECT r.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member
             JOIN pg_roles g ON g.oid = a.roleid WHERE g.rolname = 'landgeo_reader' LOOP
        EXECUTE format('GRANT landgeo_register TO %I', m.rolname);
    END LOOP;
END $$;

-- ---------------------------------------------------------------- identities
CREATE TABLE access.app_user (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    role        text NOT NULL CHECK (role IN ('analyst', 'officer', 'admin')),
    provinces   text[] NOT NULL DEFAULT '{}',
    communes    text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL DEFAULT current_user,
    revoked_at  timestamptz,
    revoked_by  text,
    CHECK (role <> 'officer' OR cardinality(provinces) + cardinality(communes) > 0),
    CHECK (array_to_string(provinces, ',') ~ '^([0-9]{2}(,[0-9]{2})*)?$'),
    CHECK (array_to_string(communes, ',') ~ '^([0-9]{5}(,[0-9]{5})*)?$')
);
COMMENT ON TABLE access.app_user IS 'Người dùng: a land-office user, its role and scope (provinces and/or communes)';

-- Tokens are stored as SHA-256 of a 256-bit random secret: never the token itself.
CREATE TABLE access.api_token (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES access.app_user (id),
    token_hash  text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    prefix      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX api_token_user ON access.api_token (user_id);
COMMENT ON TABLE access.api_token IS 'API tokens by SHA-256 hash; prefix (first characters) only to tell them apart';

-- The API resolves a token without reading the tables: it sees one row, for a live token only.
CREATE FUNCTION access.resolve_token(p_hash text)
RETURNS TABLE (name text, role text, provinces text[], communes text[], expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT u.name, u.role, u.provinces, u.communes, t.expires_at
    FROM access.api_token t JOIN access.app_user u ON u.id = t.user_id
    WHERE t.token_hash = p_hash AND t.revoked_at IS NULL AND u.revoked_at IS NULL AND t.expires_at > now()
$$;
REVOKE ALL ON FUNCTION access.resolve_token(text) FROM PUBLIC;

-- ---------------------------------------------------------------- scope
CREATE FUNCTION access.setting_list(p_name text) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT string_to_array(NULLIF(current_setting(p_name, true), ''), ',')
$$;

-- True when the request's identity may see a row of this province / commune (NULLs match nothing).
CREATE FUNCTION access.in_scope(p_province text, p_commune text) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT COALESCE(current_setting('landgeo.role', true) = 'admin'
        OR (current_setting('landgeo.role', true) = 'officer'
            AND (p_province = ANY (access.setting_list('landgeo.provinces'))
                 OR p_commune = ANY (access.setting_list('landgeo.communes')))), false)
$$;
COMMENT ON FUNCTION access.in_scope(text, text) IS
    'Row-level security key: the identity set for this transaction (landgeo.role/provinces/communes) covers the row';

-- ---------------------------------------------------------------- the register, scoped
-- Each right and certificate carries the province and commune of its parcel (filled at load from the parcel);
-- a party carries the province whose register holds it.
ALTER TABLE landdb_restricted.party ADD COLUMN province_code text CHECK (province_code ~ '^[0-9]{2}$');
ALTER TABLE landdb_restricted.party ADD COLUMN party_code text;
COMMENT ON COLUMN landdb_restricted.party.province_code IS 'Mã tỉnh — the province whose land register holds the party';
COMMENT ON COLUMN landdb_restricted.party.party_code IS 'Mã người sử dụng đất — the party''s code in the source register';
CREATE UNIQUE INDEX party_code_key ON landdb_restricted.party (province_code, party_code);
CREATE INDEX party_province ON landdb_restricted.party (province_code, id);

ALTER TABLE landdb_restricted.land_right ADD COLUMN province_code text CHECK (province_code ~ '^[0-9]{2}$');
ALTER TABLE landdb_restricted.land_right ADD COLUMN commune_code text CHECK (commune_code ~ '^[0-9]{5}$');
ALTER TABLE landdb_restricted.land_right ADD COLUMN right_code text;
ALTER TABLE landdb_restricted.land_right ADD COLUMN batch_id bigint REFERENCES meta.load_batch (id);
ALTER TABLE landdb_restricted.land_right DROP CONSTRAINT land_right_right_type_check;
ALTER TABLE landdb_restricted.land_right ADD CONSTRAINT land_right_right_type_check
    CHECK (right_type IN ('use', 'ownership_of_assets', 'lease', 'mortgage', 'easement', 'restriction'));
UPDATE landdb_restricted.land_right r SET province_code = p.province_code, commune_code = p.commune_code
FROM landdb.parcel p WHERE p.id = r.parcel_id;
UPDATE landdb_restricted.party y SET province_code = (
    SELECT min(r.province_code) FROM landdb_restricted.land_right r WHERE r.party_id = y.id);
-- the source register's codes name every party and right (the loader requires them; nothing loaded them before)
ALTER TABLE landdb_restricted.party ALTER COLUMN party_code SET NOT NULL, ALTER COLUMN province_code SET NOT NULL;
ALTER TABLE landdb_restricted.land_right ALTER COLUMN right_code SET NOT NULL;
CREATE UNIQUE INDEX land_right_code_key ON landdb_restricted.land_right (province_code, right_code);
CREATE INDEX land_right_party ON landdb_restricted.land_right (party_id) INCLUDE (province_code, commune_code);
CREATE INDEX land_right_scope ON landdb_restricted.land_right (province_code, commune_code, id);
COMMENT ON COLUMN landdb_restricted.land_right.right_code IS 'Mã quyền — the right''s code in the source register';

ALTER TABLE landdb_restricted.certificate ADD COLUMN right_id bigint REFERENCES landdb_restricted.land_right (id);
ALTER TABLE landdb_restricted.certificate ADD COLUMN province_code text CHECK (province_code ~ '^[0-9]{2}$');
ALTER TABLE landdb_restricted.certificate ADD COLUMN commune_code text CHECK (commune_code ~ '^[0-9]{5}$');
ALTER TABLE landdb_restricted.certificate ADD COLUMN batch_id bigint REFERENCES meta.load_batch (id);
UPDATE landdb_restricted.certificate c SET province_code = p.province_code, commune_code = p.commune_code
FROM landdb.parcel p WHERE p.id = c.parcel_id;
CREATE INDEX certificate_right ON landdb_restricted.certificate (right_id);
CREATE INDEX certificate_parcel ON landdb_restricted.certificate (parcel_id);
CREATE INDEX certificate_scope ON landdb_restricted.certificate (province_code, commune_code, id);

ALTER TABLE landdb_restricted.land_right ENABLE ROW LEVEL SECURITY;
ALTER TABLE landdb_restricted.certificate ENABLE ROW LEVEL SECURITY;
ALTER TABLE landdb_restricted.party ENABLE ROW LEVEL SECURITY;

CREATE POLICY land_right_read ON landdb_restricted.land_right FOR SELECT TO landgeo_register
    USING (access.in_scope(province_code, commune_code));
CREATE POLICY certificate_read ON landdb_restricted.certificate FOR SELECT TO landgeo_register
    USING (access.in_scope(province_code, commune_code));
-- a party is seen by its province's officers, and by the officers of a commune where it holds a right
CREATE POLICY party_read ON landdb_restricted.party FOR SELECT TO landgeo_register
    USING (access.in_scope(province_code, NULL)
           OR (access.setting_list('landgeo.communes') IS NOT NULL AND EXISTS (
               SELECT 1 FROM landdb_restricted.land_right r
               WHERE r.party_id = party.id AND r.commune_code = ANY (access.setting_list('landgeo.communes')))));

GRANT USAGE ON SCHEMA landdb_restricted, access TO landgeo_register;
GRANT USAGE ON SCHEMA landdb, geobase, meta TO landgeo_register;
GRANT SELECT ON landdb_restricted.party, landdb_restricted.land_right, landdb_restricted.certificate
    TO landgeo_register;
GRANT SELECT ON landdb.parcel TO landgeo_register;
GRANT EXECUTE ON FUNCTION access.resolve_token(text) TO landgeo_register;

-- What the API publishes of the register (security_invoker: the caller's policies apply through the view).
-- Non-spatial: geom / geom_wgs84 are NULL so the features have "geometry": null.
CREATE VIEW landdb_restricted.parties_published WITH (security_invoker = true) AS
SELECT id, party_code, kind, full_name, id_number, birth_year, address, province_code,
       NULL::geometry(Point, 4756) AS geom, NULL::geometry(Point, 4326) AS geom_wgs84
FROM landdb_restricted.party;
CREATE VIEW landdb_restricted.rights_published WITH (security_invoker = true) AS
SELECT id, right_code, parcel_id, party_id, right_type, share, valid_from, valid_to, province_code, commune_code,
       NULL::geometry(Point, 4756) AS geom, NULL::geometry(Point, 4326) AS geom_wgs84
FROM landdb_restricted.land_right;
CREATE VIEW landdb_restricted.certificates_published WITH (security_invoker = true) AS
SELECT id, serial, book_number, issued_on, issuer, right_id, parcel_id, party_id, revoked_on, province_code,
       commune_code, NULL::geometry(Point, 4756) AS geom, NULL::geometry(Point, 4326) AS geom_wgs84
FROM landdb_restricted.certificate;
GRANT SELECT ON landdb_restricted.parties_published, landdb_restricted.rights_published,
    landdb_restricted.certificates_published TO landgeo_register;

-- ---------------------------------------------------------------- audit (nhật ký truy cập)
CREATE TABLE access.audit_event (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL,
    actor_role  text,
    auth        text NOT NULL CHECK (auth IN ('token', 'jwt', 'cli')),
    action      text NOT NULL,
    collection  text,
    item_ids    bigint[] NOT NULL DEFAULT '{}',
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    db_user     text NOT NULL DEFAULT session_user
);
CREATE INDEX audit_event_at ON access.audit_event (at);
CREATE INDEX audit_event_actor ON access.audit_event (actor, at);
COMMENT ON TABLE access.audit_event IS
    'Nhật ký: every read of restricted data and every change of users (who, when, what, which ids); append-only';

CREATE FUNCTION access.audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access.audit_event is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON access.audit_event
    FOR EACH ROW EXECUTE FUNCTION access.audit_is_append_only();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON access.audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION access.audit_is_append_only();

REVOKE ALL ON access.audit_event FROM PUBLIC;
GRANT INSERT ON access.audit_event TO landgeo_register;
