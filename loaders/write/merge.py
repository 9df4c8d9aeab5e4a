"""Merge stage (hợp nhất): set-based checks on the staging table, then append / replace / upsert into the
target, with the lineage row, all inside the load's one transaction.

* ``append``: insert every staged row. For a target with a natural key, a row whose key is already a current
  version in the database is rejected (it would be a second current version): use upsert or replace.
* ``replace``: close (``valid_to = now()``) every current version in the scope of the file — the communes
  it contains (parcels, map sheets), the codes (admin units), the provinces (base-geography themes) — then
  insert the file. Nothing is deleted.
* ``upsert`` by natural key (parcels: commune + sheet + parcel number): an unchanged row is left alone; a
  changed geometry or attribute closes the old version and opens a new one, linked in
  ``landdb.parcel_history`` with event ``update``; a new key is inserted.

Append and replace merge batch by batch while the file is still being read (the database inserts batch k
while Python checks batch k + 1: the two cores work at once); upsert merges once the whole file is staged.
Set-based checks (:func:`landgeo.validation.check_table` on the staging table) run when the whole file is
staged: natural-key duplicates within the file reject every copy (the file does not say which one is right)
— copies already merged are taken out again, inside the same transaction, before anything is committed.
"""

from __future__ import annotations

from psycopg import Connection, sql

from landgeo.errors import UserError
from landgeo.target import Target
from landgeo.validation.table import check_table
from loaders.write.stage import StagingTable

# Filled by the database (identity), or derived by the loader and copied below (parcels' WGS 84 copy and area;
# generated columns of the other tables are left out by is_generated).
_GENERATED = {"id", "geom_wgs84", "computed_area"}
ALREADY_CURRENT = "already in the database as a current version (use --mode upsert or --mode replace)"


def table_columns(conn: Connection, target: Target) -> dict[str, str]:
    """Insertable columns of the target table and their types (generated/identity columns left out)."""
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "AND is_generated = 'NEVER' AND is_identity = 'NO' ORDER BY ordinal_position",
        (target.schema, target.table),
    ).fetchall()
    return {name: typ for name, typ in rows if name not in _GENERATED}


def mark(conn: Connection, st: StagingTable, where: sql.Composable, code: str, message: sql.Composable,
         params: tuple = ()) -> int:
    """Mark staged rows matching ``where`` as rejected (first reason wins)."""
    query = sql.SQL("UPDATE {} s SET reject_code = %s, reject_message = {} "
                    "WHERE s.reject_code IS NULL AND ({})").format(st.ident, message, where)
    return conn.execute(query, (code, *params)).rowcount


def _key_cols(target: Target) -> list[str]:
    return list(target.natural_key)


def set_checks(conn: Connection, st: StagingTable, target: Target, mode: str, which: str,
               rejecting: tuple[str, ...]) -> list:
    """Checks that need the whole file and the database, on the staging table.

    :func:`landgeo.validation.check_table` runs there (``which`` = ``all``, or ``keys`` for the natural-key
    duplicates only); findings whose code is in ``rejecting`` mark their features rejected, the others are
    returned to be recorded with the batch.
    """
    if which == "all":
        conn.execute(sql.SQL("CREATE INDEX ON {} USING gist (geom)").format(st.ident))
    conn.execute(sql.SQL("ANALYZE {}").format(st.ident))
    checks = None if which == "all" else list(rejecting)
    kept = []
    for finding in check_table(conn, target, f"pg_temp.{st.name}", id_column="feature_index", checks=checks):
        if finding.code in rejecting and finding.feature_index is not None:
            # a second copy skipped at insert time was marked "already current": the duplicate is the reason
            conn.execute(sql.SQL("UPDATE {} SET reject_code = %s, reject_message = %s WHERE feature_index = %s "
                                 "AND (reject_code IS NULL OR reject_code = 'load.already_current')").format(st.ident),
                         (finding.code, finding.message_en, finding.feature_index))
        else:
            kept.append(finding)
    return kept


def take_rejects(conn: Connection, st: StagingTable) -> list[tuple]:
    """Rejected staged rows (for the report), removed from staging."""
    fields = [f.name for f in st.fields]
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in fields)
    rows = conn.execute(sql.SQL("SELECT feature_index, reject_code, reject_message, ST_AsBinary(geom), {} FROM {} "
                                "WHERE reject_code IS NOT NULL ORDER BY feature_index").format(cols, st.ident)
                        ).fetchall()
    conn.execute(sql.SQL("DELETE FROM {} WHERE reject_code IS NOT NULL").format(st.ident))
    return [(r[0], r[1], r[2], r[3], dict(zip(fields, r[4:], strict=True))) for r in rows]


class Merger:
    """Builds and runs the statements that write staged rows into the target (one load, one transaction)."""

    def __init__(self, conn: Connection, st: StagingTable, target: Target, mode: str, batch_id: int,
                 source_srid: int) -> None:
        self.conn, self.st, self.target, self.mode, self.batch_id = conn, st, target, mode, batch_id
        self.columns = columns = table_columns(conn, target)
        self.fields = [f.name for f in target.fields if f.name in columns]
        self.tbl = sql.SQL("{}.{}").format(sql.Identifier(target.schema), sql.Identifier(target.table))
        self.key = _key_cols(target)
        # the columns a key lookup uses: for a partitioned table its partition key first, so that the partition is
        # pruned and the unique index of current versions (province, commune, sheet, parcel) answers each lookup
        self.lookup = ([target.partition_key] if target.partition_key else []) + self.key
        self.closed_scopes: set = set()
        self.counts = {"inserted": 0, "updated": 0, "unchanged": 0, "closed": 0}
        dated = columns.get("valid_to") == "date"
        self.close_to = sql.SQL("current_date") if dated else sql.SQL("now()")
        now = sql.SQL("current_date") if columns.get("valid_from") == "date" else sql.SQL("now()")
        select_items, insert_cols = [], []
        for name in self.fields:
            insert_cols.append(name)
            if name == "valid_from":
                select_items.append(sql.SQL("coalesce(s.valid_from, {})").format(now))
            elif columns[name] == "numeric":
                select_items.append(sql.SQL("s.{}::numeric").format(sql.Identifier(name)))
            else:
                select_items.append(sql.SQL("s.{}").format(sql.Identifier(name)))
        if "source_srid" in columns:
            insert_cols.append("source_srid")
            select_items.append(sql.Literal(source_srid))
        if "area_srid" in columns:
            insert_cols.append("area_srid")
            select_items.append(sql.SQL("s.area_srid"))
        if "attributes" in columns:
            insert_cols.append("attributes")
            select_items.append(sql.SQL("coalesce(s.attributes::jsonb, '{}'::jsonb)"))
        if st.derived:
            insert_cols += ["geom_wgs84", "computed_area"]
            select_items += [sql.SQL("s.geom_wgs84"), sql.SQL("round(s.computed_area::numeric, 2)")]
        insert_cols += ["batch_id", "geom"]
        select_items += [sql.Literal(batch_id), sql.SQL("ST_Multi(s.geom)")
                         if target.geometry_type.startswith("Multi") else sql.SQL("s.geom")]
        self.cols_sql = sql.SQL(", ").join(sql.Identifier(c) for c in insert_cols)
        self.sel_sql = sql.SQL(", ").join(select_items)
        # a partial unique index on current versions: second copies of a key are skipped, then rejected
        self.arbiter = target.unique_current_key

    def _range(self, lo: int, hi: int) -> sql.Composable:
        return sql.SQL("s.feature_index >= {} AND s.feature_index < {}").format(sql.Literal(lo), sql.Literal(hi))

    # -- append / replace, batch by batch ------------------------------------------------------------------
    def merge_range(self, lo: int, hi: int) -> None:
        """Merge the staged rows with ``lo <= feature_index < hi`` (append or replace)."""
        rng = self._range(lo, hi)
        ours = sql.SQL("t.batch_id IS DISTINCT FROM {}").format(sql.Literal(self.batch_id))
        if self.mode == "replace":
            scope_col = self.target.replace_scope
            scope = sql.Identifier(scope_col)
            values = {r[0] for r in self.conn.execute(sql.SQL("SELECT DISTINCT s.{} FROM {} s WHERE {}").format(
                scope, self.st.ident, rng)).fetchall() if r[0] is not None}
            if not values:
                raise UserError(f"--mode replace closes what the file covers, by {scope_col}; features "
                                f"{lo + 1}–{hi} have no {scope_col} (add it, or use --mode append)")
            fresh = sorted(values - self.closed_scopes)
            if fresh:
                self.counts["closed"] += self.conn.execute(sql.SQL(
                    "UPDATE {} t SET valid_to = {} WHERE t.valid_to IS NULL AND {} AND t.{} = ANY(%s)").format(
                    self.tbl, self.close_to, ours, scope), (fresh,)).rowcount
                self.closed_scopes.update(fresh)
        if self.arbiter and self.key:
            # The unique index of current versions arbitrates: a row whose key is already current is not inserted
            # and is marked here, from the keys the INSERT returns (no lookup of a table that grows as we load).
            keys = sql.SQL(", ").join(sql.Identifier(c) for c in self.lookup)
            same = sql.SQL(" AND ").join(sql.SQL("i.{0} = s.{0}").format(sql.Identifier(c)) for c in self.lookup)
            # the staging table has no statistics while it fills: without this the planner nests loops
            self.conn.execute("SET LOCAL enable_nestloop = off")
            inserted, _marked = self.conn.execute(sql.SQL(
                "WITH i AS (INSERT INTO {tbl} ({cols}) SELECT {sel} FROM {st} s WHERE {rng} AND s.reject_code IS NULL "
                "ON CONFLICT DO NOTHING RETURNING {keys}), "
                "m AS (UPDATE {st} s SET reject_code = 'load.already_current', reject_message = {msg} "
                "WHERE {rng} AND s.reject_code IS NULL AND NOT EXISTS (SELECT 1 FROM i WHERE {same}) RETURNING 1) "
                "SELECT (SELECT count(*) FROM i), (SELECT count(*) FROM m)").format(
                tbl=self.tbl, cols=self.cols_sql, sel=self.sel_sql, st=self.st.ident, rng=rng, keys=keys,
                msg=sql.Literal(ALREADY_CURRENT), same=same)).fetchone()
            self.conn.execute("SET LOCAL enable_nestloop = on")
            self.counts["inserted"] += inserted
            return
        self.counts["inserted"] += self.conn.execute(sql.SQL(
            "INSERT INTO {} ({}) SELECT {} FROM {} s WHERE {} AND s.reject_code IS NULL").format(
            self.tbl, self.cols_sql, self.sel_sql, self.st.ident, rng)).rowcount

    def take_back(self) -> int:
        """Remove from the target the rows of this load whose staged row was rejected by a set-based check."""
        if not self.key:
            return 0
        match = sql.SQL(" AND ").join(sql.SQL("t.{0} = s.{0}").format(sql.Identifier(c)) for c in self.lookup)
        self.conn.execute(sql.SQL("ANALYZE {}").format(self.tbl))  # it grew inside this transaction
        removed = self.conn.execute(sql.SQL(
            "DELETE FROM {} t USING {} s WHERE t.batch_id = %s AND s.reject_code IS NOT NULL AND {}").format(
            self.tbl, self.st.ident, match), (self.batch_id,)).rowcount
        self.counts["inserted"] -= removed
        return removed

    # -- upsert, once the file is staged -------------------------------------------------------------------
    def upsert(self) -> None:
        """Upsert by natural key: unchanged rows stay, changed ones get a new version linked to the old."""
        conn, st, tbl, key, columns = self.conn, self.st, self.tbl, self.key, self.columns
        counts = self.counts
        match = sql.SQL(" AND ").join(sql.SQL("t.{0} = s.{0}").format(sql.Identifier(c)) for c in self.lookup)
        compare = [c for c in self.fields if c not in key and c not in ("valid_from", "valid_to")]
        differs = sql.SQL(" OR ").join(
            [sql.SQL("t.{0} IS DISTINCT FROM s.{0}").format(sql.Identifier(c)) if columns[c] != "numeric"
             else sql.SQL("t.{0} IS DISTINCT FROM round(s.{0}::numeric, 2)").format(sql.Identifier(c))
             for c in compare]
            + [sql.SQL("NOT ST_OrderingEquals(t.geom, ST_Multi(s.geom))")
               if self.target.geometry_type.startswith("Multi") else sql.SQL("NOT ST_OrderingEquals(t.geom, s.geom)")])
        filled = self._fill_missing_geometry(match)
        part = self.target.partition_key
        pk_extra = sql.SQL(", t.{}").format(sql.Identifier(part)) if part else sql.SQL("")
        carry = "feature_id" in columns  # one row per version: the new version keeps the old one's feature id (0200)
        if carry:
            pk_extra += sql.SQL(", coalesce(t.feature_id, t.id) AS old_feature")
        conn.execute(sql.SQL(
            "CREATE TEMP TABLE _upsert ON COMMIT DROP AS SELECT s.feature_index, t.id AS old_id{}, ({}) AS changed "
            "FROM {} s JOIN {} t ON {} AND t.valid_to IS NULL").format(pk_extra, differs, st.ident, tbl, match))
        counts["unchanged"] = conn.execute("SELECT count(*) FROM _upsert WHERE NOT changed").fetchone()[0]
        same_partition = sql.SQL(" AND t.{0} = u.{0}").format(sql.Identifier(part)) if part else sql.SQL("")
        counts["updated"] = conn.execute(sql.SQL(
            "UPDATE {} t SET valid_to = {} FROM _upsert u WHERE u.changed AND t.id = u.old_id{}").format(
            tbl, self.close_to, same_partition)).rowcount
        keys_sql = sql.SQL(", ").join(sql.Identifier(c) for c in key)
        cols, sel = self.cols_sql, self.sel_sql
        if carry:
            conn.execute("CREATE INDEX ON _upsert (feature_index)")
            cols = sql.SQL("{}, feature_id").format(cols)
            sel = sql.SQL("{}, (SELECT u.old_feature FROM _upsert u WHERE u.feature_index = s.feature_index "
                          "AND u.changed)").format(sel)
        conn.execute(sql.SQL(
            "CREATE TEMP TABLE _inserted ON COMMIT DROP AS WITH i AS ("
            "INSERT INTO {} ({}) SELECT {} FROM {} s WHERE NOT EXISTS "
            "(SELECT 1 FROM _upsert u WHERE u.feature_index = s.feature_index AND NOT u.changed) "
            "RETURNING id, {}) SELECT * FROM i").format(tbl, cols, sel, st.ident, keys_sql))
        if self.target.history_table:
            conn.execute(sql.SQL(
                "INSERT INTO {} (parent_id, child_id, event, batch_id) "
                "SELECT u.old_id, n.id, 'update', %s FROM _upsert u JOIN {} s ON s.feature_index = u.feature_index "
                "JOIN _inserted n ON {} WHERE u.changed").format(
                sql.Identifier(self.target.schema, self.target.history_table), st.ident,
                sql.SQL(" AND ").join(sql.SQL("n.{0} = s.{0}").format(sql.Identifier(c)) for c in key)),
                (self.batch_id,))
        total = conn.execute("SELECT count(*) FROM _inserted").fetchone()[0]
        counts["inserted"] = total - counts["updated"]
        counts["unchanged"] -= filled  # they now equal the file: they were given their geometry, not left alone
        counts["updated"] += filled
        conn.execute("DROP TABLE _upsert, _inserted")

    def _fill_missing_geometry(self, match: sql.Composable) -> int:
        """A current row that has no geometry yet (an official administrative unit seeded from the code list) is the
        same unit as the file's row with its key: it receives the file's geometry and attributes in place, rather
        than a second version with the same key and validity."""
        return self.conn.execute(sql.SQL(
            "WITH f AS (SELECT s.feature_index, t.id FROM {st} s JOIN {tbl} t ON {match} "
            "AND t.valid_to IS NULL AND t.geom IS NULL WHERE s.reject_code IS NULL AND s.geom IS NOT NULL) "
            "UPDATE {tbl} t SET ({cols}) = (SELECT {sel} FROM {st} s WHERE s.feature_index = f.feature_index) "
            "FROM f WHERE t.id = f.id").format(
            st=self.st.ident, tbl=self.tbl, match=match, cols=self.cols_sql, sel=self.sel_sql)).rowcount
