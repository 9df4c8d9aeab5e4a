-- One way to find a parcel id's partition: the API's (landgeo/api/locate.py: each partition's lowest and highest
-- current id, read through landdb.parcel from the ends of each partition's key index and cached a minute). It
-- works for every writer (loads, register transactions, a federated province's own database) without
-- bookkeeping, and is only a hint: a miss asks every partition. 0090's load intervals (landdb.parcel_id_range,
-- landdb.parcel_province_of) answered the same question a second way, kept up by triggers on meta.load_batch and
-- by `landgeo province attach`; they are removed.
DROP TRIGGER IF EXISTS parcel_id_range_open ON meta.load_batch;
DROP TRIGGER IF EXISTS parcel_id_range_close ON meta.load_batch;
DROP FUNCTION IF EXISTS landdb.parcel_province_of(bigint);
DROP FUNCTION IF EXISTS landdb.parcel_id_range_open();
DROP FUNCTION IF EXISTS landdb.parcel_id_range_close();
DROP FUNCTION IF EXISTS landdb.parcel_id_position();
DROP TABLE IF EXISTS landdb.parcel_id_range;
