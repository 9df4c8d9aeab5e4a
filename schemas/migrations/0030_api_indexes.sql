-- Publishing (OGC API – Features): what the API's queries need.
-- (The VN-2000 TM-3 CRSs the API transforms to are in spatial_ref_sys from migration 0007.)
-- 1. Keyset paging over current versions (the default view of the API): the next page of current parcels is an
--    index range scan on id, whatever its depth.
CREATE INDEX IF NOT EXISTS parcel_current_id ON landdb.parcel (id) WHERE valid_to IS NULL;
-- Land-use look-ups (land_use_codes @> ARRAY['ONT']) from property filters and CQL2 A_CONTAINS.
CREATE INDEX IF NOT EXISTS parcel_land_use ON landdb.parcel USING gin (land_use_codes);
-- Findings by target and time (the validation-findings collection's usual filters).
CREATE INDEX IF NOT EXISTS validation_finding_target ON meta.validation_finding (target, found_at);
