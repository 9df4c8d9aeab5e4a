-- Row-level security the indexes can serve (issue 16, speed: an officer's page within 1.2x of a public one).
--
-- Measured on 0061's policies (200 000 parties / rights, EXPLAIN ANALYZE as landgeo_register with an identity):
-- every read of the register was a sequential scan (or a walk of the primary key) filtering each row with
--   ($admin OR province_code = ANY ($provinces) OR commune_code = ANY ($communes))
-- The "$admin" arm is a boolean, not a column test: an OR with it can never be an index condition, so the
-- province / commune arms were never used to find rows — counting a province officer's 100 000 rows read all
-- 200 000, and a commune officer's page of parties walked 100 000 ids (checking a hashed sub-plan per row) to
-- find its 100.
--
-- Here:
-- - the admin's "everything" is a policy of its own database role, landgeo_register_admin (a member of
--   landgeo_register: same grants, same write policies), taken by the API for an admin identity only; it still
--   requires landgeo.role = 'admin' (a Python bug that takes the admin role for an officer reads its scope only,
--   and an admin identity under landgeo_register reads nothing: both fail closed);
-- - the officer's policy is two column tests only, `province_code = ANY (scope)` OR `commune_code = ANY (scope)`,
--   with access.officer_scope() an inlined SQL expression evaluated once per scan: a BitmapOr of the
--   (province_code …) and (commune_code …) indexes, or a filter on the primary-key walk of a page;
-- - a party's commune arm becomes `id = ANY (ARRAY(ids of the rights in the communes))` (the rights read under
--   their own policy): an index condition on the party's key instead of a sub-plan per row.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'landgeo_register_admin') THEN
        CREATE ROLE landgeo_register_admin NOLOGIN;
    END IF;
END $$;
COMMENT ON ROLE landgeo_register_admin IS
    'The API reading the register for an admin identity (landgeo.role = admin): every row; landgeo_register''s '
    'grants and write policies by membership';
GRANT landgeo_register TO landgeo_register_admin;
DO $$
DECLARE m record;
BEGIN
    FOR m IN SELECT r.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member
             JOIN pg_roles g ON g.oid = a.roleid WHERE g.rolname = 'landgeo_reader' LOOP
        EXECUTE format('GRANT landgeo_register_admin TO %I', m.rolname);
    END LOOP;
END $$;

DROP POLICY land_right_read ON landdb_restricted.land_right;
DROP POLICY certificate_read ON landdb_restricted.certificate;
DROP POLICY party_read ON landdb_restricted.party;

CREATE POLICY land_right_read ON landdb_restricted.land_right FOR SELECT TO landgeo_register
    USING (province_code = ANY (access.officer_scope('landgeo.provinces'))
           OR commune_code = ANY (access.officer_scope('landgeo.communes')));
CREATE POLICY certificate_read ON landdb_restricted.certificate FOR SELECT TO landgeo_register
    USING (province_code = ANY (access.officer_scope('landgeo.provinces'))
           OR commune_code = ANY (access.officer_scope('landgeo.communes')));
-- a party is seen by its province's officers, and by the officers of a commune where it holds a right
CREATE POLICY party_read ON landdb_restricted.party FOR SELECT TO landgeo_register
    USING (province_code = ANY (access.officer_scope('landgeo.provinces'))
           OR id = ANY (ARRAY(SELECT r.party_id FROM landdb_restricted.land_right r
                              WHERE r.commune_code = ANY (access.officer_scope('landgeo.communes')))));

CREATE POLICY land_right_read_admin ON landdb_restricted.land_right FOR SELECT TO landgeo_register_admin
    USING (access.is_admin());
CREATE POLICY certificate_read_admin ON landdb_restricted.certificate FOR SELECT TO landgeo_register_admin
    USING (access.is_admin());
CREATE POLICY party_read_admin ON landdb_restricted.party FOR SELECT TO landgeo_register_admin
    USING (access.is_admin());
