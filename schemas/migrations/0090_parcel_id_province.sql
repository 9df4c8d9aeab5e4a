-- Which province a parcel id belongs to, so that a look-up by id touches one partition of landdb.parcel.
--
-- Ids come from the parent's one identity sequence. Loads of parcels run one at a time (the loader holds an
-- advisory lock per target), so the ids a load draws form one interval [lo, hi] of that sequence, and a load
-- given --province puts (almost always) every row in that province. Each such load records its interval here,
-- from the sequence's position when the load begins (load_batch inserted) and ends (load_batch finished):
-- no scan of the rows, nothing added to the loader's work.
--
-- landdb.parcel_province_of(id) answers the province when exactly one interval holds the id, NULL otherwise.
-- The API asks `WHERE id = $1 AND province_code = landdb.parcel_province_of($1)`: a stable function, so the
-- executor prunes every other partition at start-up ("Subplans Removed: 34"). A row whose province the table
-- gets wrong (inserted outside a load, a province changed, a province whose own database is attached with its
-- own ids: `landgeo province attach` records their interval at attach time) is still found: the API asks again without the province when the pruned look-up finds nothing.
CREATE TABLE landdb.parcel_id_range (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id      bigint UNIQUE REFERENCES meta.load_batch (id) ON DELETE CASCADE,  -- NULL: a federated province
    province_code text   NOT NULL CHECK (province_code ~ '^[0-9]{2}$'),
    lo            bigint NOT NULL,
    hi            bigint,  -- NULL while the load runs
    CHECK (hi IS NULL OR hi >= lo)
);
CREATE INDEX parcel_id_range_lo ON landdb.parcel_id_range (lo) INCLUDE (hi, province_code);
COMMENT ON TABLE landdb.parcel_id_range IS
    'Interval of parcel ids drawn by each load of one province (tỉnh): lets a look-up by id prune to one partition';

CREATE FUNCTION landdb.parcel_id_position() RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    last bigint;
    called boolean;
BEGIN
    -- the sequence's name comes from the catalogue, not from input
    EXECUTE format('SELECT last_value, is_called FROM %s', pg_get_serial_sequence('landdb.parcel', 'id'))
        INTO last, called;
    RETURN CASE WHEN called THEN last ELSE last - 1 END;
END $$;
COMMENT ON FUNCTION landdb.parcel_id_position() IS 'Last parcel id handed out by the identity sequence';

CREATE FUNCTION landdb.parcel_id_range_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.target = 'parcels' AND NEW.status = 'committed' AND NEW.options ->> 'province' ~ '^[0-9]{2}$' THEN
        INSERT INTO landdb.parcel_id_range (batch_id, province_code, lo)
        VALUES (NEW.id, NEW.options ->> 'province', landdb.parcel_id_position() + 1);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION landdb.parcel_id_range_close() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last bigint := landdb.parcel_id_position();
BEGIN
    UPDATE landdb.parcel_id_range SET hi = last WHERE batch_id = NEW.id AND lo <= last;
    DELETE FROM landdb.parcel_id_range WHERE batch_id = NEW.id AND hi IS NULL;  -- the load drew no id
    RETURN NULL;
END $$;

CREATE TRIGGER parcel_id_range_open AFTER INSERT ON meta.load_batch
    FOR EACH ROW EXECUTE FUNCTION landdb.parcel_id_range_open();
CREATE TRIGGER parcel_id_range_close AFTER UPDATE OF finished_at ON meta.load_batch
    FOR EACH ROW WHEN (NEW.finished_at IS NOT NULL AND NEW.target = 'parcels')
    EXECUTE FUNCTION landdb.parcel_id_range_close();

CREATE FUNCTION landdb.parcel_province_of(pid bigint) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN count(DISTINCT province_code) = 1 THEN min(province_code) END
    FROM landdb.parcel_id_range WHERE lo <= pid AND hi >= pid
$$;
COMMENT ON FUNCTION landdb.parcel_province_of(bigint) IS
    'Province of a parcel id by the load intervals, NULL when unknown or ambiguous (then ask every partition)';

-- Loads already done: their interval from the rows (batches of a single province only).
INSERT INTO landdb.parcel_id_range (batch_id, province_code, lo, hi)
SELECT batch_id, min(province_code), min(id), max(id)
FROM landdb.parcel WHERE batch_id IS NOT NULL
GROUP BY batch_id HAVING count(DISTINCT province_code) = 1;

GRANT SELECT ON landdb.parcel_id_range TO landgeo_reader;
