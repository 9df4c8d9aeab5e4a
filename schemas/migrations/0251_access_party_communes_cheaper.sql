-- What 0250 costs writers, made smaller (issue 16).
--
-- 0250 keeps a party's communes on its row; loading rights that each give a party its first commune rewrites each
-- of those parties. 0250 built the new array by a sub-select per row (unnest, DISTINCT, sort), twice (SET and
-- WHERE): 100 000 rights of 100 000 new parties took 4.5-5.3 s where 0240 took 2.4-2.6 s (one statement, shared
-- machine). A party without communes now simply takes the statement's sorted communes, and a party whose communes
-- already hold them (or, when removing, share none of them) is not rewritten at all (a containment test): 3.6-4.1 s.
-- What is left is the rewrite itself (a new version of the party and its index entries; a lower fillfactor was
-- tried: 14 % of the rewrites stayed on their page, not worth 15 % more pages), paid once per party and commune,
-- not by later rights of the party there.

CREATE OR REPLACE FUNCTION access.party_communes_change(p_parties bigint[], p_communes text[], p_add boolean)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF p_parties IS NULL THEN
        RETURN;
    END IF;
    -- the row locks in id order: two writers touching the same parties never wait on each other in a cycle
    PERFORM 1 FROM landdb_restricted.party WHERE id = ANY (p_parties) ORDER BY id FOR NO KEY UPDATE;
    -- evaluated on the row as locked (read committed re-reads a row updated meanwhile): incremental, not recomputed
    -- from the links (a concurrent writer's links are not visible to this statement's snapshot)
    IF p_add THEN
        UPDATE landdb_restricted.party p
        SET commune_codes = CASE WHEN p.commune_codes = '{}' THEN c.codes
                                 ELSE ARRAY(SELECT DISTINCT x FROM unnest(p.commune_codes || c.codes) AS x ORDER BY 1)
                            END
        FROM (SELECT party_id, array_agg(DISTINCT commune_code ORDER BY commune_code) AS codes
              FROM unnest(p_parties, p_communes) AS d (party_id, commune_code) GROUP BY 1) c
        WHERE p.id = c.party_id AND NOT p.commune_codes @> c.codes;
    ELSE
        UPDATE landdb_restricted.party p
        SET commune_codes = ARRAY(SELECT x FROM unnest(p.commune_codes) AS x WHERE x <> ALL (c.codes) ORDER BY 1)
        FROM (SELECT party_id, array_agg(commune_code) AS codes
              FROM unnest(p_parties, p_communes) AS d (party_id, commune_code) GROUP BY 1) c
        WHERE p.id = c.party_id AND p.commune_codes && c.codes;
    END IF;
END $$;
REVOKE ALL ON FUNCTION access.party_communes_change(bigint[], text[], boolean) FROM PUBLIC;
