-- The API reads through landgeo_reader: published schemas only, never landdb_restricted.
GRANT USAGE ON SCHEMA landdb, geobase, meta TO landgeo_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA landdb, geobase, meta TO landgeo_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA landdb, geobase, meta GRANT SELECT ON TABLES TO landgeo_reader;
