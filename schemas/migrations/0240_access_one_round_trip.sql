-- An officer's page in one round trip, and a commune officer's parties at O(page) (issue 16, speed: an officer's
-- page of restricted rows within 1.2x of a public page, at every step).
--
-- 1. access.assume_token(hash): the identity of an API token, set by the database for the current transaction
--    (the four settings of 0060, for the live tokens of unrevoked users, as 0060's resolve_token), or an error
--    (SQLSTATE 28000) when the token is unknown, expired or revoked. PL/pgSQL, SECURITY DEFINER (the API's role
--    cannot read the token tables): its plan is kept for the session, where resolve_token, an SQL function behind
--    SECURITY DEFINER, was planned at every call (0.2 ms per request; resolve_token itself is now PL/pgSQL too).
--    Before, the API read the identity with a SELECT whose answer it had to see before it could commit; with an
--    error the transaction aborts by itself, so the API sends BEGIN, the identity, the page (with its audit row,
--    in the page's own statement) and COMMIT at once and reads the answers after: a token revoked a moment ago
--    still reads nothing and leaves no audit row.
--
-- 2. Every change of a user or a token (revoke, role, scope, delete) notifies `landgeo_access` at its commit: each
--    API process listens (landgeo.access.revocations) and forgets the tokens it remembered, so a public request
--    need not look its token up every time and a revocation still takes effect on the next request.
--
-- 3. The officers' read policies take their scope once per statement: `code = ANY ((SELECT
--    access.officer_scope(…))::text[])`, an InitPlan whose value is a parameter of the scan. 0150 inlined the
--    expression itself; where a policy is an index condition that is the same thing, but where it is a filter —
--    every page walked by a scope hint (landgeo.api.guard.scope_hint) — each row re-read both settings and split
--    them into an array, and the planner, which can evaluate the inlined expression for its estimates, counted
--    the scope twice (the hint's `commune_code = '26050'` and the policy's, as if independent): it expected one
--    row of a commune's 1 000 and sorted them all instead of walking the hint's index — a commune officer's first
--    page of rights cost 8x a province officer's (EXPLAIN ANALYZE, 1 M rights: 2.7 ms vs 0.35 ms; now 0.33 ms
--    for both).
--
-- 4. The parties' policy: its commune arm was `id = ANY (ARRAY(party ids of the officer's communes))`, tested on
--    every row of a page by a linear search of that array (PostgreSQL 15 hashes `= ANY` of constant arrays only):
--    a page deep in a commune of n parties cost O(n) per row. It is now an EXISTS on the party-commune links'
--    primary key (party_id, commune_code): one index probe per row (or, for a scan of many rows, the planner's
--    hashed form of the same test), whatever the commune's size. The price: the policy is no longer an index
--    condition (0150's BitmapOr on the party's key), so a read without the API's scope hint scans the parties
--    with that test; the API states every officer's scope in its SQL (its hints are index conditions: the
--    (province_code, id) index, the links' (commune_code, party_id) index, or for a province and communes a
--    BitmapOr of the two). The links' own policy (0190) applies inside the EXISTS.

CREATE FUNCTION access.assume_token(p_hash text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    who record;
BEGIN
    SELECT u.name, u.role, u.provinces, u.communes INTO who
    FROM access.api_token t JOIN access.app_user u ON u.id = t.user_id
    WHERE t.token_hash = p_hash AND t.revoked_at IS NULL AND u.revoked_at IS NULL AND t.expires_at > now();
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown, expired or revoked token' USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    PERFORM set_config('landgeo.user', who.name, true), set_config('landgeo.role', who.role, true),
            set_config('landgeo.provinces', array_to_string(who.provinces, ','), true),
            set_config('landgeo.communes', array_to_string(who.communes, ','), true);
END $$;
COMMENT ON FUNCTION access.assume_token(text) IS
    'Sets the identity of a live API token for the current transaction (landgeo.user/role/provinces/communes); '
    'SQLSTATE 28000 when the token is unknown, expired or revoked';
REVOKE ALL ON FUNCTION access.assume_token(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION access.assume_token(text) TO landgeo_register;

-- 0060's resolve_token, same answer, in PL/pgSQL: its statement's plan is kept for the session (an SQL function
-- called through SECURITY DEFINER is planned again at every call: 0.2 ms of a 1 ms page, measured with the above)
CREATE OR REPLACE FUNCTION access.resolve_token(p_hash text)
RETURNS TABLE (name text, role text, provinces text[], communes text[], expires_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
    SELECT u.name, u.role, u.provinces, u.communes, t.expires_at
    FROM access.api_token t JOIN access.app_user u ON u.id = t.user_id
    WHERE t.token_hash = p_hash AND t.revoked_at IS NULL AND u.revoked_at IS NULL AND t.expires_at > now();
END $$;

DROP POLICY land_right_read ON landdb_restricted.land_right;
CREATE POLICY land_right_read ON landdb_restricted.land_right FOR SELECT TO landgeo_register
    USING (province_code = ANY ((SELECT access.officer_scope('landgeo.provinces'))::text[])
           OR commune_code = ANY ((SELECT access.officer_scope('landgeo.communes'))::text[]));
DROP POLICY certificate_read ON landdb_restricted.certificate;
CREATE POLICY certificate_read ON landdb_restricted.certificate FOR SELECT TO landgeo_register
    USING (province_code = ANY ((SELECT access.officer_scope('landgeo.provinces'))::text[])
           OR commune_code = ANY ((SELECT access.officer_scope('landgeo.communes'))::text[]));
DROP POLICY register_count_read ON access.register_count;
CREATE POLICY register_count_read ON access.register_count FOR SELECT TO landgeo_register
    USING (province_code = ANY ((SELECT access.officer_scope('landgeo.provinces'))::text[])
           OR commune_code = ANY ((SELECT access.officer_scope('landgeo.communes'))::text[]));
DROP POLICY party_commune_read ON landdb_restricted.party_commune;
CREATE POLICY party_commune_read ON landdb_restricted.party_commune FOR SELECT TO landgeo_register
    USING (commune_code = ANY ((SELECT access.officer_scope('landgeo.communes'))::text[]));
-- a party is seen by its province's officers, and by the officers of a commune where it holds a right
DROP POLICY party_read ON landdb_restricted.party;
CREATE POLICY party_read ON landdb_restricted.party FOR SELECT TO landgeo_register
    USING (province_code = ANY ((SELECT access.officer_scope('landgeo.provinces'))::text[])
           OR EXISTS (SELECT 1 FROM landdb_restricted.party_commune l
                      WHERE l.party_id = party.id
                        AND l.commune_code = ANY ((SELECT access.officer_scope('landgeo.communes'))::text[])));

CREATE FUNCTION access.notify_identity_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('landgeo_access', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER app_user_changed AFTER UPDATE OR DELETE OR TRUNCATE ON access.app_user
    FOR EACH STATEMENT EXECUTE FUNCTION access.notify_identity_change();
CREATE TRIGGER api_token_changed AFTER UPDATE OR DELETE OR TRUNCATE ON access.api_token
    FOR EACH STATEMENT EXECUTE FUNCTION access.notify_identity_change();
