-- Publishing: land-office look-ups page in id order without sorting. A commune's current parcels
-- (commune_code = ..., the most common filter of a land office) are an ordered index range, so the first page and
-- every keyset page after it read only the rows they return, and numberMatched is an index-only count.
CREATE INDEX IF NOT EXISTS parcel_current_commune_id ON landdb.parcel (commune_code, id) WHERE valid_to IS NULL;
