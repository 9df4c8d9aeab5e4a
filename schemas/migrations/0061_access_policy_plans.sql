-- Row-level security that costs a page what a public page costs (issue 16, speed).
-- The policies of 0060 called access.in_scope() per row: current_setting() and string_to_array() evaluated for
-- every row scanned. Here the identity is read once per statement: each setting is wrapped in a scalar
-- sub-select (an InitPlan, evaluated once), the role test becomes a one-time comparison, and the province /
-- commune tests are `column = ANY ($initplan)`, which index scans on (province_code …) / (commune_code …) use.
-- Same rule as access.in_scope(): admin everything; officer its provinces or communes; anyone else nothing.

CREATE FUNCTION access.is_admin() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT current_setting('landgeo.role', true) IS NOT DISTINCT FROM 'admin'
$$;

-- The officer's codes of one kind ('landgeo.provinces' or 'landgeo.communes'); NULL for any other role.
CREATE FUNCTION access.officer_scope(p_name text) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN current_setting('landgeo.role', true) = 'officer'
                THEN string_to_array(NULLIF(current_setting(p_name, true), ''), ',') END
$$;
GRANT EXECUTE ON FUNCTION access.is_admin(), access.officer_scope(text) TO landgeo_register;

DROP POLICY land_right_read ON landdb_restricted.land_right;
DROP POLICY certificate_read ON landdb_restricted.certificate;
DROP POLICY party_read ON landdb_restricted.party;

CREATE POLICY land_right_read ON landdb_restricted.land_right FOR SELECT TO landgeo_register
    USING ((SELECT access.is_admin())
           OR province_code = ANY ((SELECT access.officer_scope('landgeo.provinces'))::text[])
           OR commune_code = ANY ((SELECT access.officer_scope('landgeo.communes'))::text[]));
CREATE POLICY certificate_read ON landdb_restricted.certificate FOR SELECT TO landgeo_register
    USING ((SELECT access.is_admin())
           OR province_code = ANY ((SELECT access.officer_scope('landgeo.provinces'))::text[])
           OR commune_code = ANY ((SELECT access.officer_scope('landgeo.communes'))::text[]));
CREATE POLICY party_read ON landdb_restricted.party FOR SELECT TO landgeo_register
    USING ((SELECT access.is_admin())
           OR province_code = ANY ((SELECT access.officer_scope('landgeo.provinces'))::text[])
           OR EXISTS (SELECT 1 FROM landdb_restricted.land_right r
                      WHERE r.party_id = party.id
                        AND r.commune_code = ANY ((SELECT access.officer_scope('landgeo.communes'))::text[])));

CREATE INDEX IF NOT EXISTS land_right_commune ON landdb_restricted.land_right (commune_code, party_id);
CREATE INDEX IF NOT EXISTS certificate_commune ON landdb_restricted.certificate (commune_code, id);
