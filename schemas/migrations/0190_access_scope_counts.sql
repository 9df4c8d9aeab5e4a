-- The register's numberMatched at the cost of a page, and a commune officer's parties in page order (issue 16,
-- speed: an officer's page of restricted rows within 1.2x of a public page, at every step of a walk).
--
-- 1. Per-scope row counts (access.register_count). Counting an officer's listing under row-level security read
--    up to 100 001 index entries with the policy tested on each (20-50x a page). Here every statement that
--    writes parties, rights or certificates adds its delta per (province, commune) in the writer's transaction,
--    so a reader's snapshot sees counts and rows of the same transactions. As in 0140 (parcel_current_count),
--    deltas are appended and the statement folds the key's committed rows it can lock (FOR UPDATE SKIP LOCKED,
--    RETURNING what it removed): writers never wait for each other on a counter row and no row is counted twice.
--    The count rows carry row-level security of their own, the same predicate as the rows they count: an
--    identity sums the counts of its own codes only, and no count of another scope is readable by the API's
--    role at all (even with plain SQL). access.register_matched(collection) is that sum, or NULL where a sum of
--    per-code counts is not the exact number of rows the identity sees (a party visible through several
--    communes, or through a province and a commune): the API then counts as before.
--      rights        current rights (valid_to IS NULL, the listing's default) per (province, commune) of parcel
--      certificates  certificates per (province, commune)
--      parties       parties per province (commune '')
--      party_communes  parties holding a right in a commune, per commune (province ''), from the links below
--    Missing codes are stored as '' (the policies' `code = ANY (scope)` never matches '' nor NULL).
-- 2. The party-commune link (landdb_restricted.party_commune): one row per party and commune where it holds a
--    right (any version: as the policy of 0150), with the number of such rights, kept by the statement trigger
--    on rights (an upsert per link: writers wait on each other only for rights of one party in one commune). A
--    party has no commune: the commune officer's policy gathered every party id of the commune's rights on every
--    page; it now reads them from the links (index-only, distinct, in id order), and the API's scope hint for a
--    one-commune officer (`id IN (SELECT party_id FROM party_commune WHERE commune_code = '26050')`) walks the
--    (commune_code, party_id) index in page order instead of looking every party up by key and sorting them.

CREATE TABLE landdb_restricted.party_commune (
    party_id     bigint NOT NULL,
    commune_code text   NOT NULL,
    n            integer NOT NULL CHECK (n >= 0),  -- rights (any version) of the party in the commune
    PRIMARY KEY (party_id, commune_code)
);
CREATE INDEX party_commune_commune ON landdb_restricted.party_commune (commune_code, party_id);
COMMENT ON TABLE landdb_restricted.party_commune IS
    'Communes where a party (người sử dụng đất) holds a right: the commune officers'' key to parties (trigger-kept)';

CREATE TABLE access.register_count (
    collection    text NOT NULL CHECK (collection IN ('parties', 'party_communes', 'rights', 'certificates')),
    province_code text NOT NULL,
    commune_code  text NOT NULL,
    n             bigint NOT NULL
);
CREATE INDEX register_count_province ON access.register_count (collection, province_code, commune_code) INCLUDE (n);
CREATE INDEX register_count_commune ON access.register_count (collection, commune_code) INCLUDE (province_code, n);
COMMENT ON TABLE access.register_count IS
    'Rows of the restricted register per (province, commune), as deltas summed by readers; row-level security: '
    'an identity reads the counts of its own codes only';

-- ---------------------------------------------------------------- writing the counts
CREATE FUNCTION access.register_count_add(p_collection text, p_provinces text[], p_communes text[],
                                          p_counts bigint[]) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH delta AS (
        SELECT * FROM unnest(p_provinces, p_communes, p_counts) AS d (province_code, commune_code, n)),
    gone AS (
        DELETE FROM access.register_count c
        WHERE c.ctid = ANY (ARRAY(
            SELECT k.ctid FROM access.register_count k
            WHERE k.collection = p_collection
              AND (k.province_code, k.commune_code) IN (SELECT province_code, commune_code FROM delta)
            FOR UPDATE OF k SKIP LOCKED))
        RETURNING c.province_code, c.commune_code, c.n)
    INSERT INTO access.register_count (collection, province_code, commune_code, n)
    SELECT p_collection, province_code, commune_code, sum(n) FROM (
        SELECT province_code, commune_code, n FROM delta
        UNION ALL
        SELECT province_code, commune_code, n FROM gone) s
    GROUP BY 2, 3 HAVING sum(n) <> 0
$$;
REVOKE ALL ON FUNCTION access.register_count_add(text, text[], text[], bigint[]) FROM PUBLIC;
COMMENT ON FUNCTION access.register_count_add(text, text[], text[], bigint[]) IS
    'Appends a statement''s count delta per (province, commune) and folds the committed rows of those keys';

-- the rows a statement added (+1) and removed (-1), for dynamic SQL in the trigger functions
CREATE FUNCTION access.transition_rows(p_op text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_op WHEN 'INSERT' THEN 'SELECT 1 AS d, t.* FROM new_rows t'
                     WHEN 'DELETE' THEN 'SELECT -1 AS d, t.* FROM old_rows t'
                     ELSE 'SELECT 1 AS d, t.* FROM new_rows t UNION ALL SELECT -1, t.* FROM old_rows t' END
$$;

-- rights and certificates: rows per (province, commune); rights: current ones only, and the party links
CREATE FUNCTION access.register_count_apply() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    rows_sql text := access.transition_rows(TG_OP);
    provinces text[];
    communes  text[];
    counts    bigint[];
    parties   bigint[];
    links     integer[];
BEGIN
    IF TG_TABLE_NAME = 'party' THEN
        EXECUTE format('SELECT array_agg(p), array_agg(c), array_agg(n) FROM ('
                       'SELECT COALESCE(province_code, '''') AS p, ''''::text AS c, sum(d)::bigint AS n FROM (%s) r '
                       'GROUP BY 1, 2 HAVING sum(d) <> 0) s', rows_sql) INTO provinces, communes, counts;
        IF provinces IS NOT NULL THEN
            PERFORM access.register_count_add('parties', provinces, communes, counts);
        END IF;
        RETURN NULL;
    END IF;
    EXECUTE format('SELECT array_agg(p), array_agg(c), array_agg(n) FROM ('
                   'SELECT COALESCE(province_code, '''') AS p, COALESCE(commune_code, '''') AS c, '
                   'sum(d)::bigint AS n FROM (%s) r %s GROUP BY 1, 2 HAVING sum(d) <> 0) s', rows_sql,
                   CASE WHEN TG_TABLE_NAME = 'land_right' THEN 'WHERE valid_to IS NULL' ELSE '' END)
        INTO provinces, communes, counts;
    IF provinces IS NOT NULL THEN
        PERFORM access.register_count_add(CASE TG_TABLE_NAME WHEN 'land_right' THEN 'rights' ELSE 'certificates' END,
                                          provinces, communes, counts);
    END IF;
    IF TG_TABLE_NAME = 'land_right' THEN
        EXECUTE format('SELECT array_agg(party_id ORDER BY party_id, commune_code), '
                       'array_agg(commune_code ORDER BY party_id, commune_code), '
                       'array_agg(n ORDER BY party_id, commune_code) FROM ('
                       'SELECT party_id, commune_code, sum(d)::integer AS n FROM (%s) r '
                       'WHERE commune_code IS NOT NULL GROUP BY 1, 2 HAVING sum(d) <> 0) s', rows_sql)
            INTO parties, communes, links;
        IF parties IS NOT NULL THEN
            PERFORM access.party_commune_add(parties, communes, links);
        END IF;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION access.register_count_apply() IS
    'Statement trigger on parties, rights and certificates: their count deltas and the party-commune links';

-- links: +n / -n rights of a party in a commune; a link created or removed counts its commune's parties
CREATE FUNCTION access.party_commune_add(p_parties bigint[], p_communes text[], p_counts integer[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    communes text[];
    counts   bigint[];
BEGIN
    -- increments: a returned n equal to the increment is a link created by this statement (a kept link had n > 0)
    WITH delta AS (SELECT * FROM unnest(p_parties, p_communes, p_counts) AS d (party_id, commune_code, n)
                   WHERE n > 0 ORDER BY party_id, commune_code),
    up AS (
        INSERT INTO landdb_restricted.party_commune AS l (party_id, commune_code, n)
        SELECT party_id, commune_code, n FROM delta
        ON CONFLICT (party_id, commune_code) DO UPDATE SET n = l.n + excluded.n
        RETURNING l.party_id, l.commune_code, l.n)
    SELECT array_agg(commune_code), array_agg(k) INTO communes, counts FROM (
        SELECT up.commune_code, count(*) AS k FROM up JOIN delta USING (party_id, commune_code)
        WHERE up.n = delta.n GROUP BY 1) s;
    IF communes IS NOT NULL THEN
        PERFORM access.register_count_add('party_communes', array_fill(''::text, ARRAY[cardinality(communes)]),
                                          communes, counts);
    END IF;
    -- decrements, then the links left without a right
    UPDATE landdb_restricted.party_commune l SET n = l.n + d.n
    FROM unnest(p_parties, p_communes, p_counts) AS d (party_id, commune_code, n)
    WHERE d.n < 0 AND l.party_id = d.party_id AND l.commune_code = d.commune_code;
    WITH gone AS (
        DELETE FROM landdb_restricted.party_commune l
        WHERE l.n = 0 AND (l.party_id, l.commune_code) IN (
            SELECT party_id, commune_code FROM unnest(p_parties, p_communes, p_counts) AS d (party_id, commune_code, n)
            WHERE n < 0)
        RETURNING l.commune_code)
    SELECT array_agg(commune_code), array_agg(-k) INTO communes, counts FROM (
        SELECT commune_code, count(*) AS k FROM gone GROUP BY 1) s;
    IF communes IS NOT NULL THEN
        PERFORM access.register_count_add('party_communes', array_fill(''::text, ARRAY[cardinality(communes)]),
                                          communes, counts);
    END IF;
END $$;
REVOKE ALL ON FUNCTION access.party_commune_add(bigint[], text[], integer[]) FROM PUBLIC;

-- everything from the rows: at migration, and after a TRUNCATE of any of the three tables
CREATE FUNCTION access.register_count_refresh() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    LOCK TABLE access.register_count, landdb_restricted.party_commune IN EXCLUSIVE MODE;
    DELETE FROM access.register_count;
    DELETE FROM landdb_restricted.party_commune;
    INSERT INTO landdb_restricted.party_commune (party_id, commune_code, n)
    SELECT party_id, commune_code, count(*) FROM landdb_restricted.land_right WHERE commune_code IS NOT NULL
    GROUP BY 1, 2;
    INSERT INTO access.register_count (collection, province_code, commune_code, n)
    SELECT 'rights', COALESCE(province_code, ''), COALESCE(commune_code, ''), count(*)
    FROM landdb_restricted.land_right WHERE valid_to IS NULL GROUP BY 2, 3
    UNION ALL
    SELECT 'certificates', COALESCE(province_code, ''), COALESCE(commune_code, ''), count(*)
    FROM landdb_restricted.certificate GROUP BY 2, 3
    UNION ALL
    SELECT 'parties', COALESCE(province_code, ''), '', count(*) FROM landdb_restricted.party GROUP BY 2
    UNION ALL
    SELECT 'party_communes', '', commune_code, count(*) FROM landdb_restricted.party_commune GROUP BY 3;
END $$;
REVOKE ALL ON FUNCTION access.register_count_refresh() FROM PUBLIC;
COMMENT ON FUNCTION access.register_count_refresh() IS
    'Recounts access.register_count and rebuilds landdb_restricted.party_commune from the register''s rows';

CREATE FUNCTION access.register_count_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM access.register_count_refresh();
    RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['party', 'land_right', 'certificate'] LOOP
        EXECUTE format('CREATE TRIGGER register_count_insert AFTER INSERT ON landdb_restricted.%I '
                       'REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT '
                       'EXECUTE FUNCTION access.register_count_apply()', t);
        EXECUTE format('CREATE TRIGGER register_count_update AFTER UPDATE ON landdb_restricted.%I '
                       'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT '
                       'EXECUTE FUNCTION access.register_count_apply()', t);
        EXECUTE format('CREATE TRIGGER register_count_delete AFTER DELETE ON landdb_restricted.%I '
                       'REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT '
                       'EXECUTE FUNCTION access.register_count_apply()', t);
        EXECUTE format('CREATE TRIGGER register_count_truncate AFTER TRUNCATE ON landdb_restricted.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION access.register_count_truncated()', t);
    END LOOP;
END $$;
SELECT access.register_count_refresh();

-- ---------------------------------------------------------------- reading them: the policies decide
ALTER TABLE access.register_count ENABLE ROW LEVEL SECURITY;
ALTER TABLE landdb_restricted.party_commune ENABLE ROW LEVEL SECURITY;
CREATE POLICY register_count_read ON access.register_count FOR SELECT TO landgeo_register
    USING (province_code = ANY (access.officer_scope('landgeo.provinces'))
           OR commune_code = ANY (access.officer_scope('landgeo.communes')));
CREATE POLICY register_count_read_admin ON access.register_count FOR SELECT TO landgeo_register_admin
    USING (access.is_admin());
CREATE POLICY party_commune_read ON landdb_restricted.party_commune FOR SELECT TO landgeo_register
    USING (commune_code = ANY (access.officer_scope('landgeo.communes')));
CREATE POLICY party_commune_read_admin ON landdb_restricted.party_commune FOR SELECT TO landgeo_register_admin
    USING (access.is_admin());
GRANT SELECT ON access.register_count, landdb_restricted.party_commune TO landgeo_register;

-- numberMatched of an unfiltered listing: the identity's visible count rows, summed (SECURITY INVOKER: the
-- count rows' policies apply). NULL where that sum would not be exact (parties of an officer with several
-- communes, or with provinces and communes: a party may be seen through more than one code) and for a
-- collection without counts: the API then counts the rows.
CREATE FUNCTION access.register_matched(p_collection text) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$  -- PL/pgSQL: its statements keep their plans for the session
DECLARE
    provinces text[] := access.officer_scope('landgeo.provinces');
    communes  text[] := access.officer_scope('landgeo.communes');
    kind      text;
BEGIN
    IF p_collection IN ('rights', 'certificates') THEN
        kind := p_collection;
    ELSIF p_collection = 'parties' AND (access.is_admin() OR communes IS NULL) THEN
        kind := 'parties';
    ELSIF p_collection = 'parties' AND provinces IS NULL AND cardinality(communes) = 1 THEN
        kind := 'party_communes';
    ELSE
        RETURN NULL;
    END IF;
    -- the policies decide; the repeated codes only let one index range serve (index-only) instead of a BitmapOr
    IF communes IS NULL AND NOT access.is_admin() THEN
        RETURN (SELECT COALESCE(sum(n), 0)::bigint FROM access.register_count
                WHERE collection = kind AND province_code = ANY (provinces));
    ELSIF provinces IS NULL AND NOT access.is_admin() THEN
        RETURN (SELECT COALESCE(sum(n), 0)::bigint FROM access.register_count
                WHERE collection = kind AND commune_code = ANY (communes));
    END IF;
    RETURN (SELECT COALESCE(sum(n), 0)::bigint FROM access.register_count WHERE collection = kind);
END $$;
COMMENT ON FUNCTION access.register_matched(text) IS
    'Rows of parties | rights (current) | certificates the request''s identity sees, from access.register_count '
    'under its policies; NULL when that sum is not exact for this identity';
GRANT EXECUTE ON FUNCTION access.register_matched(text) TO landgeo_register;

-- ---------------------------------------------------------------- the parties' policy, through the links
-- 0150's form (`id = ANY (ARRAY(…))`, an index condition on the party's key where no hint walks the links), its
-- ids now from the links: one index-only range of (commune_code, party_id), distinct and in id order, instead of
-- the commune's rights read under their policy. (An EXISTS probe per row would serve the hinted walk alike but
-- leaves an unhinted read, e.g. an officer of several communes, a scan of every party.)
DROP POLICY party_read ON landdb_restricted.party;
CREATE POLICY party_read ON landdb_restricted.party FOR SELECT TO landgeo_register
    USING (province_code = ANY (access.officer_scope('landgeo.provinces'))
           OR id = ANY (ARRAY(SELECT l.party_id FROM landdb_restricted.party_commune l
                              WHERE l.commune_code = ANY (access.officer_scope('landgeo.communes')))));
