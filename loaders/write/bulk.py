"""First load of a province (nạp lần đầu một tỉnh): the parcels are built as a new table and swapped in as the
province's partition of ``landdb.parcel``.

A province's cadastral database arrives once in bulk (millions of thửa đất) and afterwards as register updates.
Inserting the bulk through the partitioned table maintains every index row by row, GiST and GIN included.
Here the rows are COPied into a new table that has only its BRIN index; the primary key and the other indexes
are built once over the whole of it (a sorted GiST build, B-trees from one sort; see below); the unique key's
index doubles as the duplicate check; and at the end the empty partition is detached and dropped and the new
table attached in its place — inside the load's transaction, so a failed or interrupted load leaves the old empty
partition as it was.

The new table is made and filled on a second connection (the *builder*) and committed once the file has streamed,
unattached and readable by nobody (its default grants are revoked until the swap): a table of an open transaction
is invisible to every other session, and the builder's session builds the GiST and GIN indexes (one process
each) while the load's own session builds the B-trees — on two cores that takes the time of the longer of the two
instead of their sum. (PostgreSQL would give each B-tree parallel workers; beside the builder's builds they only
take its core: measured, the stage takes longer with them.) A load
that fails after that commit drops the table (:meth:`FreshPartition.discard`); one whose process was killed leaves
it, and the next first load of the province drops it (it holds the target's load lock, so no other load can own
the table).

Used when the partition of ``--province`` is empty and every row of the file belongs to that province; the
result is the same table, indexes, triggers, constraints and grants as an incremental load would give.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import Connection, sql

from landgeo.catalog import Target
from landgeo.db import copybin
from landgeo.errors import UserError
from loaders.write.stage import copy_bytes, temporal
from loaders.write.summary import TileGroups

PARENT = ("landdb", "parcel")
# Columns the loader sends, with their COPY types. The others come from defaults the new table has while it is
# filled: ``id`` from the parent's identity sequence, the load's constants (province, source CRS, batch),
# ``valid_from`` = now() and ``valid_to`` NULL unless the file dates its parcels — one field less to parse per row
# for each.
COPY_COLUMNS = {"commune_code": "text", "sheet_number": "int4", "parcel_number": "int4", "land_use_codes": "text[]",
                "declared_area": "numeric(14,2)", "address": "text", "area_srid": "int4", "geom": "geometry",
                "geom_wgs84": "geometry", "computed_area": "numeric(14,2)"}
DATES = {"valid_from": "timestamptz", "valid_to": "timestamptz"}
BLOCK_BITS = 14  # landdb.parcel_current_count counts ids by block id >> 14 (migration 0140)
SWAP_LOCK_TIMEOUT = 30.0  # seconds the swap waits for readers of landdb.parcel to finish


def empty_partition(conn: Connection, province: str) -> str | None:
    """Name of the (non-default) partition of ``landdb.parcel`` holding ``province``, if it has no row."""
    row = conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'landdb.parcel'::regclass "
        "AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%%L)', %s::text)", (province,)).fetchone()
    if row is None:
        return None
    has_rows = conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(
        sql.Identifier(PARENT[0], row[0]))).fetchone()[0]
    return None if has_rows else row[0]


class FreshPartition:
    """``landdb.<partition>_load<batch>``: the province's parcels, COPied, indexed, checked, then attached."""

    def __init__(self, conn: Connection, province: str, partition: str, batch_id: int, source_srid: int,
                 dated: bool, tiles: TileGroups | None = None, *, builder: Connection, now: dt.datetime) -> None:
        if not re.fullmatch(r"[0-9]{2}", province):
            raise UserError(f"--province {province!r}: a two-digit province code expected")
        self.conn = conn  # the load's transaction: checks, swap, COMMIT
        self.builder = builder  # makes, fills and commits the table, builds the GiST and GIN indexes
        self.now = now  # the load's transaction time: valid_from of undated parcels
        self.published = False  # the table is committed (by the builder), not yet attached
        self.last_id: int | None = None
        self._builds: threading.Thread | None = None
        self._build_error: BaseException | None = None
        self.province = province
        self.constants = {"province_code": province, "source_srid": int(source_srid), "batch_id": int(batch_id)}
        self.columns = {**COPY_COLUMNS, **(DATES if dated else {})}  # name -> COPY type, in COPY order
        self.partition = partition
        self.name = f"{partition}_load{batch_id}"
        self.ident = sql.Identifier(PARENT[0], self.name)
        self.rows = 0
        self.timings: dict[str, float] = {}
        self.tiles = tiles  # the tile groups of the rows COPied, accumulated by the batches (loaders.write.summary)

    def create(self) -> None:
        """The bare table: the parent's columns, defaults and CHECKs, the partition bound as a CHECK (so that
        ATTACH need not scan), ids from the parent's identity sequence, no grant. No index yet. Made on the
        builder's connection, uncommitted until :meth:`publish`."""
        self._drop_leftovers()
        b = self.builder
        seq = b.execute("SELECT pg_get_serial_sequence('landdb.parcel', 'id')").fetchone()[0]
        b.execute(sql.SQL(
            "CREATE TABLE {t} (LIKE landdb.parcel INCLUDING DEFAULTS INCLUDING CONSTRAINTS, "
            "CONSTRAINT {bound} CHECK (province_code IS NOT NULL AND province_code = {p}))").format(
            t=self.ident, bound=sql.Identifier(f"{self.name}_bound"), p=sql.Literal(self.province)))
        for grantee, privilege in b.execute(  # default privileges: nobody reads it before it is the partition
                "SELECT grantee, privilege_type FROM information_schema.role_table_grants WHERE table_schema = %s "
                "AND table_name = %s AND grantee <> current_user", (PARENT[0], self.name)).fetchall():
            b.execute(sql.SQL("REVOKE {} ON {} FROM {}").format(sql.SQL(privilege), self.ident,
                                                                sql.Identifier(grantee)))
        b.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN id SET DEFAULT nextval({}::regclass)").format(
            self.ident, sql.Literal(seq)))
        self.sequence = seq
        last, called = b.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
            sql.Identifier(*seq.split(".", 1)))).fetchone()
        self.first_id = last + 1 if called else last  # unless another writer takes an id first (checked at the end)
        self.valid_from_default = b.execute(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid "
            "AND a.attnum = d.adnum WHERE d.adrelid = %s::regclass AND a.attname = 'valid_from'",
            (f"{PARENT[0]}.{self.name}",)).fetchone()
        constants = dict(self.constants)
        if self.valid_from_default:
            constants["valid_from"] = self.now  # the builder's now() is not the load's
        for column, value in constants.items():
            b.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}").format(
                self.ident, sql.Identifier(column), sql.Literal(value)))
        self.primary_key, self.indexes = self._index_statements()
        for _name, definition in self.indexes:
            if _kind(definition, self.columns) == "early":
                b.execute(definition)

    def _drop_leftovers(self) -> None:
        """Tables of this partition's earlier first loads whose process was killed between committing the table
        and the swap. The load holds the target's lock: no running load owns one."""
        for (name,) in self.conn.execute(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
                "AND c.relkind = 'r' AND NOT c.relispartition AND c.relname ~ %s",
                (PARENT[0], f"^{re.escape(self.partition)}_load[0-9]+$")).fetchall():
            self.conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(PARENT[0], name)))

    def encode(self, columns: dict[str, pa.Array], geometry: dict[str, pa.Array], *, now: dt.datetime) -> bytes:
        """One batch of accepted rows as binary COPY tuples of :attr:`columns` (a column the file lacks is NULL;
        a dated file's missing ``valid_from`` is the transaction's start, as the merge of an incremental load
        makes it)."""
        n = len(geometry["geom"])
        given = {**columns, **geometry}
        stamp = pa.scalar(now, pa.timestamp("us", tz="UTC"))
        for name in DATES.keys() & self.columns.keys():
            given[name] = temporal(given[name], "datetime") if name in given else pa.nulls(n, stamp.type)
        if "valid_from" in self.columns:
            given["valid_from"] = pc.fill_null(given["valid_from"], stamp)
        return copybin.encode_rows([(typ, given.get(name, pa.nulls(n))) for name, typ in self.columns.items()])

    def write(self, data: bytes, rows: int) -> None:
        """Binary COPY of one encoded batch (runs on the load's database thread)."""
        if not rows:
            return
        # FREEZE: the builder's transaction created the table, so its rows can be written frozen and all-visible
        copy_bytes(self.builder, sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary, FREEZE)").format(
            self.ident, sql.SQL(", ").join(sql.Identifier(c) for c in self.columns)), data)
        self.rows += rows

    def publish(self) -> None:
        """Commit the filled table (unattached, no grant) so that two sessions can index it."""
        if self.rows:
            self.last_id = self.builder.execute("SELECT currval(%s::regclass)", (self.sequence,)).fetchone()[0]
        self.builder.commit()
        self.published = True

    def discard(self) -> None:
        """After a failed load (its transaction rolled back first): drop the committed table, close the builder."""
        if self._builds is not None:
            self._builds.join()
        try:
            self.builder.rollback()
            if self.published:
                self.builder.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(PARENT[0], self.name)))
                self.builder.commit()
        finally:
            self.builder.close()

    def close(self) -> None:
        """After the load's COMMIT."""
        self.builder.close()

    # -- indexes -----------------------------------------------------------------------------------------
    def _index_statements(self) -> tuple[str, list[tuple[str, str]]]:
        """The primary key's CREATE UNIQUE INDEX and (name, CREATE INDEX) of every other index of the current
        partition, rewritten for the new table (catalogue text, no user input)."""
        pk_name, pk = self.conn.execute(
            "SELECT i.relname, pg_get_indexdef(c.conindid) FROM pg_constraint c JOIN pg_class i ON i.oid = c.conindid "
            "WHERE c.conrelid = %s::regclass AND c.contype = 'p'", (f"{PARENT[0]}.{self.partition}",)).fetchone()
        rows = self.conn.execute(
            "SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary ORDER BY i.relname",
            (f"{PARENT[0]}.{self.partition}",)).fetchall()
        old_on = f" ON {PARENT[0]}.{self.partition} "
        out = []
        for k, (name, definition) in enumerate(rows):
            if old_on not in definition or not definition.startswith(("CREATE INDEX ", "CREATE UNIQUE INDEX ")):
                raise UserError(f"cannot rebuild index {name} of {self.partition}: unexpected definition")
            temporary = f"{self.name}_i{k}"  # the partition's own names are taken until the swap
            definition = definition.replace(f"INDEX {name} ON", f"INDEX {temporary} ON", 1)
            out.append((name, definition.replace(old_on, f" ON {PARENT[0]}.{self.name} ", 1)))
        if old_on not in pk or not pk.startswith("CREATE UNIQUE INDEX "):
            raise UserError(f"cannot rebuild the primary key of {self.partition}: unexpected definition")
        pk = pk.replace(f"INDEX {pk_name} ON", f"INDEX {self.name}_pkey ON", 1)
        return pk.replace(old_on, f" ON {PARENT[0]}.{self.name} ", 1), out

    def start_builds(self) -> None:
        """The GiST and GIN builds on the builder's connection, in the background, once the table is committed;
        the load's session builds the B-trees meanwhile (:meth:`build_others`), without parallel workers."""
        if self._builds is not None:
            return
        serial = [(name, d) for name, d in self.indexes if _kind(d, self.columns) == "late" and not _btree(d)]
        self.conn.execute("SET LOCAL max_parallel_maintenance_workers = 0")

        def run() -> None:
            try:
                for name, definition in serial:
                    t = time.monotonic()
                    self.builder.execute(definition)
                    self.timings[f"index {name}"] = time.monotonic() - t
                self.builder.commit()
            except BaseException as exc:  # noqa: BLE001 - raised in the loading thread by join_builds
                self._build_error = exc
                self.builder.rollback()

        self._builds = threading.Thread(target=run, name="landgeo-load-index", daemon=True)
        self._builds.start()

    def join_builds(self) -> None:
        """Wait for the background builds; raise their error. Called before anything that takes a lock the builds
        conflict with (ANALYZE, DELETE, the swap): taking it first would wait for a build that waits for it."""
        if self._builds is None:
            return
        self._builds.join()
        if self._build_error is not None:
            raise self._build_error

    def build_others(self) -> None:
        """The primary key and the partition's other non-unique indexes, each built once over the whole table: the
        B-trees here, the others by the builder at the same time when the table is committed."""
        self.start_builds()
        t = time.monotonic()
        self.conn.execute(self.primary_key)
        self.timings["index primary key"] = time.monotonic() - t
        for name, definition in self.indexes:
            if _kind(definition, self.columns) == "late" and _btree(definition):
                t = time.monotonic()
                self.conn.execute(definition)
                self.timings[f"index {name}"] = time.monotonic() - t
        self.join_builds()
        self.conn.execute(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}").format(
            self.ident, sql.Identifier(f"{self.name}_pkey"), sql.Identifier(f"{self.name}_pkey")))

    def build_unique(self) -> bool:
        """The unique index of current versions (province, commune, sheet, parcel); False (and nothing built) when
        the table breaks it. It is the duplicate check of a clean file: nothing else to look at."""
        try:
            with self.conn.transaction():
                for name, definition in self.indexes:
                    if _kind(definition, self.columns) == "unique":
                        t = time.monotonic()
                        self.conn.execute(definition)
                        self.timings[f"index {name}"] = time.monotonic() - t
        except psycopg.errors.UniqueViolation:
            return False
        return True

    # -- rejects -----------------------------------------------------------------------------------------
    def take(self, ids: list[int], fields: list[str]) -> list[tuple]:
        """Rows ``ids`` as (id, WKB in 4756, attributes), deleted from the table."""
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in fields)
        rows = self.conn.execute(sql.SQL("DELETE FROM {} WHERE id = ANY(%s) RETURNING id, ST_AsBinary(geom), {}")
                                 .format(self.ident, cols), (ids,)).fetchall()
        self.rows -= len(rows)
        self.first_id = None  # the ids are no longer one unbroken run
        if rows and self.tiles is not None:
            self.tiles.give_up()  # the table is no longer the rows the batches saw: the swap scans it
        return [(r[0], r[1], dict(zip(fields, r[2:], strict=True))) for r in sorted(rows)]

    def ids(self) -> np.ndarray:
        """Every id, ascending: the order the rows were COPied in (one sequence, increasing)."""
        return np.array([r[0] for r in self.conn.execute(
            sql.SQL("SELECT id FROM {} ORDER BY id").format(self.ident)).fetchall()], dtype=np.int64)

    # -- swap --------------------------------------------------------------------------------------------
    def attach(self) -> None:
        """Detach and drop the empty partition, attach the new table under its name, with its grants."""
        self.join_builds()
        conn, old = self.conn, sql.Identifier(PARENT[0], self.partition)
        grants = conn.execute(
            "SELECT grantee, privilege_type FROM information_schema.role_table_grants WHERE table_schema = %s "
            "AND table_name = %s AND grantee <> current_user", (PARENT[0], self.partition)).fetchall()
        bound = conn.execute(
            "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE oid = %s::regclass",
            (f"{PARENT[0]}.{self.partition}",)).fetchone()[0]
        # The swap locks landdb.parcel against readers until COMMIT (a fraction of a second). Behind a long query
        # it would queue every API request after it, so it waits a bounded time, then gives up cleanly.
        conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{int(SWAP_LOCK_TIMEOUT * 1000)}ms")))
        try:
            with conn.transaction():
                conn.execute(sql.SQL("ALTER TABLE landdb.parcel DETACH PARTITION {}").format(old))
        except psycopg.errors.LockNotAvailable as exc:
            raise UserError(f"landdb.parcel stayed busy for {SWAP_LOCK_TIMEOUT:g} s (a long query or transaction "
                            "holds it); nothing loaded — load again when it has finished") from exc
        conn.execute("SET LOCAL lock_timeout = 0")
        if conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(old)).fetchone()[0]:
            raise UserError(f"landdb.{self.partition} received parcels while this load ran; nothing loaded "
                            "(load again: it will add to them)")
        conn.execute(sql.SQL("DROP TABLE {}").format(old))
        for column in ("id", *self.constants):
            conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT").format(
                self.ident, sql.Identifier(column)))
        if self.valid_from_default:  # the parent's default again (catalogue text)
            conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN valid_from SET DEFAULT {}").format(
                self.ident, sql.SQL(self.valid_from_default[0])))
        conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(self.ident, sql.Identifier(self.partition)))
        self.ident = old
        for k, (name, _definition) in enumerate(self.indexes):
            conn.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier(PARENT[0], f"{self.name}_i{k}"), sql.Identifier(name)))
        conn.execute(sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
            old, sql.Identifier(f"{self.name}_pkey"), sql.Identifier(f"{self.partition}_pkey")))
        self._tile_products()
        self._block_counts()
        conn.execute(sql.SQL("ALTER TABLE landdb.parcel ATTACH PARTITION {} {}").format(old, sql.SQL(bound)))
        # keys the parent cannot hold since partitions may be foreign (migration 0091): the lineage foreign key
        t = time.monotonic()
        conn.execute("SELECT landdb.parcel_partition_keys(%s::regclass)", (f"{PARENT[0]}.{self.partition}",))
        self.timings["partition keys and id-block counts"] = time.monotonic() - t
        conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            old, sql.Identifier(f"{self.name}_bound")))
        for grantee, privilege in grants:
            conn.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privilege), old, sql.Identifier(grantee)))

    def _tile_products(self) -> None:
        """The tile cache's changed boxes and commune summaries of the new partition, before its ATTACH (whose
        event trigger then leaves it alone): from the groups the batches accumulated, or from one scan of the
        table when they cannot be trusted (migration 0180)."""
        t = time.monotonic()
        given = self.tiles is not None and self.tiles.copy_to(self.conn)
        self.conn.execute("SELECT landdb.parcel_load_summarise(%s::regclass)", (f"{PARENT[0]}.{self.partition}",))
        self.timings["tile summaries" + (" from the batches" if given else " by a scan")] = time.monotonic() - t

    def _block_counts(self) -> None:
        """Current versions per block of 16 384 ids (migration 0140) without counting the rows: when the ids of
        the rows are exactly first … last (no other writer took one meanwhile, no row taken out, none dated), each
        block's count is the length of its part of that run. Otherwise landdb.parcel_partition_keys recounts."""
        if self.first_id is None or not self.rows or "valid_to" in self.columns:
            return
        t = time.monotonic()
        last = self.last_id  # read by the builder when it committed the table
        if last - self.first_id + 1 != self.rows:
            return
        blocks = np.arange(self.first_id >> BLOCK_BITS, (last >> BLOCK_BITS) + 1, dtype=np.int64)
        counts = (np.minimum(last, ((blocks + 1) << BLOCK_BITS) - 1) - np.maximum(self.first_id, blocks << BLOCK_BITS)
                  + 1)
        self.conn.execute("SELECT landdb.parcel_load_counts(%s::regclass, %s, %s::bigint[], %s::bigint[])",
                          (f"{PARENT[0]}.{self.partition}", self.province, blocks.tolist(), counts.tolist()))
        self.timings["id-block counts from the ids"] = time.monotonic() - t


#: A partial index of the rows where one column is set (``… WHERE (feature_id IS NOT NULL)``, migration 0200).
_SET_COLUMN_ONLY = re.compile(r" WHERE \((\w+) IS NOT NULL\)$")


def _btree(definition: str) -> bool:
    """A B-tree index (PostgreSQL can build those with parallel workers; GiST, GIN: one process)."""
    return " USING btree " in definition


def _kind(definition: str, sent: dict[str, str]) -> str:
    """When an index of the new table is made: ``early`` (BRIN: kept up by the COPY for next to nothing; a
    partial index of rows whose column the COPY does not send: it stays empty, one predicate test per row),
    ``unique`` (after the COPY: building it is the duplicate check), ``late`` (the others, each built once over
    the whole table: a sorted GiST build, B-trees from one sort — measured about 3× cheaper than keeping them up
    row by row)."""
    if definition.startswith("CREATE UNIQUE INDEX"):
        return "unique"
    if " USING brin " in definition:
        return "early"
    only = _SET_COLUMN_ONLY.search(definition)
    if only and only.group(1) not in sent:
        return "early"
    return "late"


def fits(target: Target, mapping_sources: set[str], province: str | None) -> bool:
    """Whether the load can build the province's partition: a table partitioned by province (parcels),
    ``--province`` given, and no province_code coming from the file or a mapping constant (every row is then
    that province's)."""
    return (target.partition_key == "province_code" and province is not None
            and "province_code" not in mapping_sources)
