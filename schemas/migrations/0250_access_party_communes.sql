-- A commune officer's parties at the cost of a province officer's (issue 16, speed: an officer's page of
-- restricted rows within 1.2x of a public page).
--
-- 0240's parties policy tested a party's commune arm with an EXISTS on the party-commune links' key: one more
-- B-tree descent per row, after the descent of the party's own key the commune officer's page already makes (its
-- scope hint walks the links of the commune, then fetches each party by id). Seven buffer visits per row where a
-- province officer's page makes about one: the page's statement cost 0.77-0.82 ms against 0.51-0.58 ms (pgbench,
-- 1 M parties), and a commune officer's parties were the one page type above 1.2x a public page by throughput.
--
-- The communes where a party holds a right are now also kept on the party row itself (commune_codes, sorted,
-- distinct: the communes of its links), so the policy tests the row it has already fetched, as the rights' and
-- certificates' policies do:
--     province_code = ANY (officer's provinces) OR commune_codes && officer's communes
-- The links stay (the commune officer's page walks them in id order; the per-commune counts of 0190 are built on
-- them); the column is their copy on the party, kept by the same statement trigger on rights
-- (access.party_commune_add), in the same transaction: a link created adds its commune to the party, a link
-- removed takes it off. The changes are incremental (array union / difference evaluated on the row as it is when
-- the update takes its lock, so two writers adding different communes of one party both land), and parties are
-- locked in id order (writers of one party's rights never deadlock on its row). A TRUNCATE rebuilds the column
-- with the links (access.register_count_refresh).
--
-- What writers pay: a party row is rewritten when it gains or loses a commune (its first right there, or its last
-- one gone), not for later rights in the same commune. The column is not indexed (an update can stay HOT) and not
-- published (parties_published lists its columns).

ALTER TABLE landdb_restricted.party ADD COLUMN commune_codes text[] NOT NULL DEFAULT '{}';
COMMENT ON COLUMN landdb_restricted.party.commune_codes IS
    'Communes where the party holds a right (any version), sorted: the communes of its links in '
    'landdb_restricted.party_commune, kept by the trigger on rights; read by the commune officers'' policy';

-- the rows already registered (a sequential pass over the parties: new versions follow the table's order)
UPDATE landdb_restricted.party p
SET commune_codes = ARRAY(SELECT l.commune_code FROM landdb_restricted.party_commune l
                          WHERE l.party_id = p.id ORDER BY 1)
WHERE EXISTS (SELECT 1 FROM landdb_restricted.party_commune l WHERE l.party_id = p.id);

-- the communes of parties' links changed by a statement: added (p_add) or removed (p_add = false), per party
CREATE FUNCTION access.party_communes_change(p_parties bigint[], p_communes text[], p_add boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_parties IS NULL THEN
        RETURN;
    END IF;
    -- the row locks in id order: two writers touching the same parties never wait on each other in a cycle
    PERFORM 1 FROM landdb_restricted.party WHERE id = ANY (p_parties) ORDER BY id FOR NO KEY UPDATE;
    -- evaluated on the row as locked (read committed re-reads a row updated meanwhile): incremental, not recomputed
    -- from the links (a concurrent writer's links are not visible to this statement's snapshot)
    UPDATE landdb_restricted.party p
    SET commune_codes = CASE WHEN p_add
                             THEN ARRAY(SELECT DISTINCT x FROM unnest(p.commune_codes || c.codes) AS x ORDER BY 1)
                             ELSE ARRAY(SELECT x FROM unnest(p.commune_codes) AS x
                                        WHERE x <> ALL (c.codes) ORDER BY 1) END
    FROM (SELECT party_id, array_agg(commune_code) AS codes
          FROM unnest(p_parties, p_communes) AS d (party_id, commune_code) GROUP BY 1) c
    WHERE p.id = c.party_id
      AND p.commune_codes IS DISTINCT FROM CASE WHEN p_add
          THEN ARRAY(SELECT DISTINCT x FROM unnest(p.commune_codes || c.codes) AS x ORDER BY 1)
          ELSE ARRAY(SELECT x FROM unnest(p.commune_codes) AS x WHERE x <> ALL (c.codes) ORDER BY 1) END;
END $$;
REVOKE ALL ON FUNCTION access.party_communes_change(bigint[], text[], boolean) FROM PUBLIC;
COMMENT ON FUNCTION access.party_communes_change(bigint[], text[], boolean) IS
    'Adds (or removes) communes to (from) parties'' commune_codes: the copy of their links the parties'' policy reads';

-- 0190's links, plus their copy on the party: links created and removed by this statement change commune_codes
CREATE OR REPLACE FUNCTION access.party_commune_add(p_parties bigint[], p_communes text[], p_counts integer[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    communes text[];
    counts   bigint[];
    new_parties bigint[];
    new_communes text[];
BEGIN
    -- increments: a returned n equal to the increment is a link created by this statement (a kept link had n > 0)
    WITH delta AS (SELECT * FROM unnest(p_parties, p_communes, p_counts) AS d (party_id, commune_code, n)
                   WHERE n > 0 ORDER BY party_id, commune_code),
    up AS (
        INSERT INTO landdb_restricted.party_commune AS l (party_id, commune_code, n)
        SELECT party_id, commune_code, n FROM delta
        ON CONFLICT (party_id, commune_code) DO UPDATE SET n = l.n + excluded.n
        RETURNING l.party_id, l.commune_code, l.n),
    created AS (
        SELECT up.party_id, up.commune_code FROM up JOIN delta USING (party_id, commune_code) WHERE up.n = delta.n)
    SELECT (SELECT array_agg(commune_code ORDER BY commune_code) FROM (SELECT DISTINCT commune_code FROM created) s),
           (SELECT array_agg(k ORDER BY commune_code) FROM (SELECT commune_code, count(*) AS k FROM created
                                                            GROUP BY 1) s),
           (SELECT array_agg(party_id ORDER BY party_id, commune_code) FROM created),
           (SELECT array_agg(commune_code ORDER BY party_id, commune_code) FROM created)
    INTO communes, counts, new_parties, new_communes;
    IF communes IS NOT NULL THEN
        PERFORM access.register_count_add('party_communes', array_fill(''::text, ARRAY[cardinality(communes)]),
                                          communes, counts);
    END IF;
    PERFORM access.party_communes_change(new_parties, new_communes, true);
    -- decrements, then the links left without a right
    UPDATE landdb_restricted.party_commune l SET n = l.n + d.n
    FROM unnest(p_parties, p_communes, p_counts) AS d (party_id, commune_code, n)
    WHERE d.n < 0 AND l.party_id = d.party_id AND l.commune_code = d.commune_code;
    WITH gone AS (
        DELETE FROM landdb_restricted.party_commune l
        WHERE l.n = 0 AND (l.party_id, l.commune_code) IN (
            SELECT party_id, commune_code FROM unnest(p_parties, p_communes, p_counts) AS d (party_id, commune_code, n)
            WHERE n < 0)
        RETURNING l.party_id, l.commune_code)
    SELECT (SELECT array_agg(commune_code ORDER BY commune_code) FROM (SELECT DISTINCT commune_code FROM gone) s),
           (SELECT array_agg(-k ORDER BY commune_code) FROM (SELECT commune_code, count(*) AS k FROM gone
                                                               GROUP BY 1) s),
           (SELECT array_agg(party_id ORDER BY party_id, commune_code) FROM gone),
           (SELECT array_agg(commune_code ORDER BY party_id, commune_code) FROM gone)
    INTO communes, counts, new_parties, new_communes;
    IF communes IS NOT NULL THEN
        PERFORM access.register_count_add('party_communes', array_fill(''::text, ARRAY[cardinality(communes)]),
                                          communes, counts);
    END IF;
    PERFORM access.party_communes_change(new_parties, new_communes, false);
END $$;
REVOKE ALL ON FUNCTION access.party_commune_add(bigint[], text[], integer[]) FROM PUBLIC;

-- 0190's rebuild after a TRUNCATE, plus the parties' copy of their links
CREATE OR REPLACE FUNCTION access.register_count_refresh() RETURNS void LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    LOCK TABLE access.register_count, landdb_restricted.party_commune IN EXCLUSIVE MODE;
    DELETE FROM access.register_count;
    DELETE FROM landdb_restricted.party_commune;
    INSERT INTO landdb_restricted.party_commune (party_id, commune_code, n)
    SELECT party_id, commune_code, count(*) FROM landdb_restricted.land_right WHERE commune_code IS NOT NULL
    GROUP BY 1, 2;
    UPDATE landdb_restricted.party p
    SET commune_codes = ARRAY(SELECT l.commune_code FROM landdb_restricted.party_commune l
                              WHERE l.party_id = p.id ORDER BY 1)
    WHERE p.commune_codes IS DISTINCT FROM ARRAY(SELECT l.commune_code FROM landdb_restricted.party_commune l
                                                 WHERE l.party_id = p.id ORDER BY 1);
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

-- the parties' policy: the row's own codes, no probe of another table
DROP POLICY party_read ON landdb_restricted.party;
CREATE POLICY party_read ON landdb_restricted.party FOR SELECT TO landgeo_register
    USING (province_code = ANY ((SELECT access.officer_scope('landgeo.provinces'))::text[])
           OR commune_codes && (SELECT access.officer_scope('landgeo.communes'))::text[]);
