-- A one-province or one-commune officer's register rows in page order, and counted from the index alone
-- (issue 16, speed).
-- The policies of 0150 find a scope's rows through the indexes, but `code = ANY (array)` gives them unordered:
-- a page (ORDER BY id LIMIT n) then walks the primary key testing every row, and in a register loaded province
-- by province (ids grouped by province) an officer of a late province walks every earlier province's rows first.
-- The API repeats a one-code scope as `province_code = '79'` / `commune_code = '26734'`
-- (landgeo.api.guard.scope_hint; row-level security still decides every row) and these (code, id) indexes walk
-- the scope in id order. They include what the policy and the default filter of rights (current ones:
-- valid_to IS NULL) read, so that numberMatched's bounded count is an index-only scan.
-- party (province_code, id) and certificate (commune_code, id) exist (0060, 0061).
CREATE INDEX land_right_province_id ON landdb_restricted.land_right (province_code, id)
    INCLUDE (commune_code, valid_to);
CREATE INDEX land_right_commune_id ON landdb_restricted.land_right (commune_code, id)
    INCLUDE (province_code, valid_to);
CREATE INDEX certificate_province_id ON landdb_restricted.certificate (province_code, id) INCLUDE (commune_code);
