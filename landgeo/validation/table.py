"""Set-based checks (kiểm tra tập hợp) in SQL, on a stored table or a loader's staging table.

Each check is one statement over the whole scope: PostGIS does the work next to the data, with the GiST
index doing the pairing (``&&``) and GEOS only on candidate pairs. Geometries with invalid rings are left
out of the topology checks (they are reported by ``geom.invalid``; overlay on them is meaningless).

The table must be shaped like the target's table (same column names); an identifier column ``id`` (stored
tables) or ``feature_index`` (a staging table: the row in the loader's input arrays) names the feature.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import shapely
from psycopg import sql
from psycopg.pq import TransactionStatus

from landgeo.catalog import Target
from landgeo.errors import UserError
from landgeo.validation.config import DEFAULT, Tolerances
from landgeo.validation.registry import CHECKS, Finding

ID_COLUMNS = ("id", "feature_index", "row_index", "fid", "ogc_fid")
NETWORK_TARGETS = ("roads", "hydro-lines", "railways")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_table(
    conn,
    target: Target,
    table: str,
    where: sql.Composable | None = None,
    *,
    id_column: str | None = None,
    tolerances: Tolerances = DEFAULT,
    checks: Iterable[str] | None = None,
    skipped: list[str] | None = None,
) -> list[Finding]:
    """Every set-based finding for the rows of ``table`` (``schema.table``) selected by ``where``.

    ``where`` is a condition on the table's own columns (e.g. ``sql.SQL("province_code = {}").format('01')``).
    ``checks`` limits the run to these codes. Checks that cannot run (a reference table is empty, a column
    is missing) are named in ``skipped`` when a list is given. Geometries of findings are VN-2000 (4756).
    """
    ctx = _Context(conn, target, table, where, id_column, tolerances, skipped if skipped is not None else [])
    wanted = set(checks) if checks is not None else None
    out: list[Finding] = []
    try:
        for codes, fn in _SET_CHECKS.get(_kind(target), ()):
            if wanted is not None and not (set(codes) & wanted):
                continue
            out += fn(ctx)
    finally:
        ctx.close()
    if wanted is not None:
        out = [f for f in out if f.code in wanted]
    for f in out:
        f.target = target.id
    return out


def _kind(target: Target) -> str:
    if target.id == "parcels":
        return "parcels"
    if target.id == "admin-units":
        return "admin-units"
    if target.id in NETWORK_TARGETS:
        return "network"
    if target.id == "boundaries":
        return "boundaries"
    return "other"


class _Context:
    def __init__(self, conn, target, table, where, id_column, tolerances, skipped):
        self.conn, self.target, self.tol, self.skipped = conn, target, tolerances, skipped
        parts = table.split(".")
        if len(parts) not in (1, 2) or not all(_NAME.match(p) for p in parts):
            raise UserError(f"not a table name: {table!r}")
        self.rel = sql.Identifier(*parts)
        row = conn.execute("SELECT to_regclass(%s)::oid", (table,)).fetchone()
        if row is None or row[0] is None:
            raise UserError(f"table {table} does not exist")
        self.columns = {r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped", (row[0],))}
        if "geom" not in self.columns:
            raise UserError(f"table {table} has no geom column")
        if id_column is None:
            id_column = next((c for c in ID_COLUMNS if c in self.columns), None)
            if id_column is None:
                raise UserError(f"table {table} has no identifier column (one of {', '.join(ID_COLUMNS)})")
        elif id_column not in self.columns:
            raise UserError(f"table {table} has no column {id_column}")
        self.id_column = id_column
        self.id = sql.Identifier(id_column)
        self.scope = where if where is not None else sql.SQL("TRUE")
        self.rows = sql.SQL("(SELECT * FROM {} WHERE {})").format(self.rel, self.scope)
        self.bad_table: sql.Identifier | None = None

    def cur(self, alias: str) -> sql.Composable:
        """``alias`` is a current version (valid_to IS NULL), or TRUE for tables without lifespans."""
        if "valid_to" in self.columns:
            return sql.SQL("{}.valid_to IS NULL").format(sql.Identifier(alias))
        return sql.SQL("TRUE")

    def has(self, *names: str) -> bool:
        return all(n in self.columns for n in names)

    def col(self, name: str, alias: str = "", cast: str = "text") -> sql.Composable:
        """``alias.name`` if the table has that column, else NULL of the given type."""
        if name in self.columns:
            return sql.SQL("{}{}").format(sql.SQL(alias + ".") if alias else sql.SQL(""), sql.Identifier(name))
        return sql.SQL("NULL::" + cast)

    def at(self, alias: str) -> sql.Composable:
        """The moment a row is judged at: the start of its version, or now."""
        return sql.SQL("coalesce({}, now())").format(self.col("valid_from", alias, "timestamptz"))

    def metric_srid(self, alias: str) -> sql.Composable:
        if "area_srid" in self.columns:
            return sql.SQL("{}.area_srid").format(sql.Identifier(alias))
        return sql.SQL("meta.vn2000_metric_srid({}.geom)").format(sql.Identifier(alias))

    def fetch(self, query: sql.Composable, params: dict | None = None, *, gist_pairs: bool = False) -> list[tuple]:
        """Run a check's query. ``gist_pairs``: a self-join that must pair rows through the GiST index (``&&``)
        in a nested loop; hash/merge joins on the equality keys (commune, sheet) would compare every parcel
        of a sheet with every other, so they are switched off for this statement only."""
        if not gist_pairs:
            return self.conn.execute(query, params or {}).fetchall()
        names = ("enable_hashjoin", "enable_mergejoin")
        old = [self.conn.execute("SELECT current_setting(%s)", (n,)).fetchone()[0] for n in names]
        try:
            for n in names:
                self.conn.execute("SELECT set_config(%s, 'off', false)", (n,))
            return self.conn.execute(query, params or {}).fetchall()
        finally:
            if not self.conn.broken and self.conn.info.transaction_status != TransactionStatus.INERROR:
                for n, v in zip(names, old, strict=True):
                    self.conn.execute("SELECT set_config(%s, %s, false)", (n, v))

    def invalid_ids(self) -> sql.Composable:
        """A subquery of the ids of rows whose geometry cannot take part in overlay (invalid or empty).

        Computed once per :func:`check_table` call into a temporary table (one validity pass over the scope)."""
        if self.bad_table is None:
            name = f"_validation_bad_{uuid.uuid4().hex[:12]}"
            self.conn.execute(sql.SQL("CREATE TEMP TABLE {} AS SELECT {id} FROM {rows} r "
                                      "WHERE NOT ST_IsValid(r.geom) OR ST_IsEmpty(r.geom)").format(
                sql.Identifier(name), id=self.id, rows=self.rows))
            self.bad_table = sql.Identifier(name)
        return sql.SQL("(SELECT {} FROM {})").format(self.id, self.bad_table)

    def close(self) -> None:
        if self.bad_table is not None and not self.conn.broken \
                and self.conn.info.transaction_status != TransactionStatus.INERROR:
            self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self.bad_table))
        self.bad_table = None

    def finding(self, code: str, fid: Any, details: dict, wkb: Any = None, province: Any = None,
                commune: Any = None) -> Finding:
        where: dict[str, Any] = {"geometry": shapely.from_wkb(bytes(wkb)) if wkb is not None else None,
                                 "province_code": province, "commune_code": commune}
        if fid is not None:
            if self.id_column == "feature_index":
                where["feature_index"] = int(fid)
            else:
                where["feature_id"] = str(fid)
        return CHECKS[code].finding(details, **where)


# -- parcels (thửa đất) ------------------------------------------------------------------------------------


def _parcel_number_duplicates(ctx: _Context) -> list[Finding]:
    if not ctx.has("commune_code", "sheet_number", "parcel_number"):
        ctx.skipped.append("attr.parcel_number_duplicate")
        return []
    q = sql.SQL("""
        SELECT r.{id}, r.province_code, r.commune_code, r.sheet_number, r.parcel_number, d.n, d.ids,
               ST_AsBinary(ST_PointOnSurface(r.geom))
        FROM {rows} r
        JOIN (SELECT commune_code, sheet_number, parcel_number, count(*) AS n, array_agg({id} ORDER BY {id}) AS ids
              FROM {rows} g WHERE {cur_g}
              GROUP BY 1, 2, 3 HAVING count(*) > 1) d USING (commune_code, sheet_number, parcel_number)
        WHERE {cur_r}
        ORDER BY r.{id}""").format(id=ctx.id, rows=ctx.rows, cur_g=ctx.cur("g"), cur_r=ctx.cur("r"))
    out = []
    for fid, prov, commune, sheet, number, n, ids, wkb in ctx.fetch(q):
        out.append(ctx.finding("attr.parcel_number_duplicate", fid, {
            "commune_code": commune, "sheet_number": sheet, "parcel_number": number, "count": n,
            "other_ids": [str(i) for i in ids if i != fid]}, wkb, prov, commune))
    return out


def _parcel_overlaps(ctx: _Context) -> list[Finding]:
    """Pairs of current parcels of one commune + sheet whose interiors intersect (GiST && then DE-9IM)."""
    q = sql.SQL("""
        WITH bad AS MATERIALIZED {invalid},
        pairs AS (
            SELECT a.{id} AS a_id, b.{id} AS b_id, a.province_code, a.commune_code, a.sheet_number,
                   {srid} AS srid, ST_Equals(a.geom, b.geom) AS same, ST_Intersection(a.geom, b.geom) AS inter
            FROM {rows} a
            JOIN {rows} b ON a.geom && b.geom AND a.{id} < b.{id}
                 AND a.commune_code = b.commune_code AND a.sheet_number = b.sheet_number
            WHERE {cur_a} AND {cur_b}
              AND a.{id} NOT IN (SELECT {id} FROM bad) AND b.{id} NOT IN (SELECT {id} FROM bad)
              AND ST_Relate(a.geom, b.geom, '2********'))
        SELECT a_id, b_id, province_code, commune_code, sheet_number, same,
               ST_Area(ST_Transform(inter, srid)) AS area, ST_AsBinary(inter)
        FROM pairs ORDER BY a_id, b_id""").format(
        invalid=ctx.invalid_ids(), id=ctx.id, rows=ctx.rows, cur_a=ctx.cur("a"), cur_b=ctx.cur("b"),
        srid=ctx.metric_srid("a"))
    out = []
    for a_id, b_id, prov, commune, sheet, same, area, wkb in ctx.fetch(q, gist_pairs=True):
        if same:
            out.append(ctx.finding("topo.duplicate", a_id, {"other_id": str(b_id), "area_m2": round(area, 2)},
                                   wkb, prov, commune))
        elif area > ctx.tol.overlap_min_m2:
            out.append(ctx.finding("topo.overlap", a_id, {"other_id": str(b_id), "area_m2": round(area, 2),
                                                          "sheet_number": sheet}, wkb, prov, commune))
    return out


def _parcel_gaps(ctx: _Context) -> list[Finding]:
    """Holes in the union of a sheet's current parcels (the covered area), minus any parcel inside them."""
    q = sql.SQL("""
        WITH bad AS MATERIALIZED {invalid},
        sheets AS (
            SELECT province_code, commune_code, sheet_number, min({srid}) AS srid, ST_Union(geom) AS u
            FROM {rows} p
            WHERE {cur} AND p.{id} NOT IN (SELECT {id} FROM bad)
            GROUP BY province_code, commune_code, sheet_number),
        holes AS (
            SELECT s.province_code, s.commune_code, s.sheet_number, s.srid, s.u,
                   ST_MakePolygon(ST_InteriorRingN(d.geom, n)) AS hole
            FROM sheets s
            CROSS JOIN LATERAL ST_Dump(s.u) d
            CROSS JOIN LATERAL generate_series(1, ST_NumInteriorRings(d.geom)) n
            WHERE ST_NumInteriorRings(d.geom) > 0),
        gaps AS (
            SELECT province_code, commune_code, sheet_number, srid,
                   CASE WHEN ST_Intersects(hole, u) AND NOT ST_Touches(hole, u) THEN ST_Difference(hole, u)
                        ELSE hole END AS gap
            FROM holes)
        SELECT province_code, commune_code, sheet_number, ST_Area(ST_Transform(gap, srid)) AS area,
               ST_AsBinary(gap)
        FROM gaps WHERE NOT ST_IsEmpty(gap)
        ORDER BY commune_code, sheet_number, ST_XMin(gap), ST_YMin(gap)""").format(
        invalid=ctx.invalid_ids(), id=ctx.id, rows=ctx.rows, cur=ctx.cur("p"),
        srid=sql.SQL("area_srid") if ctx.has("area_srid") else sql.SQL("meta.vn2000_metric_srid(geom)"))
    out = []
    for prov, commune, sheet, area, wkb in ctx.fetch(q):
        if area > ctx.tol.gap_min_m2:
            out.append(ctx.finding("topo.gap", None, {"area_m2": round(area, 2), "sheet_number": sheet,
                                                      "commune_code": commune}, wkb, prov, commune))
    return out


def _communes_known(ctx: _Context) -> bool:
    return ctx.conn.execute("SELECT EXISTS (SELECT 1 FROM landdb.admin_unit WHERE level = 'commune')").fetchone()[0]


def _parcel_commune(ctx: _Context) -> list[Finding]:
    """Outside / across the commune boundary valid at the parcel's time (communes with a geometry only)."""
    if not ctx.conn.execute("SELECT EXISTS (SELECT 1 FROM landdb.admin_unit WHERE level = 'commune' "
                            "AND geom IS NOT NULL)").fetchone()[0]:
        ctx.skipped += ["topo.outside_commune", "topo.across_commune"]
        return []
    q = sql.SQL("""
        WITH bad AS MATERIALIZED {invalid}
        SELECT r.{id}, r.province_code, r.commune_code,
               ST_Area(ST_Transform(ST_Intersection(r.geom, c.geom), {srid})) AS inside,
               ST_Area(ST_Transform(ST_Difference(r.geom, c.geom), {srid})) AS outside,
               ST_AsBinary(ST_Difference(r.geom, c.geom))
        FROM {rows} r
        JOIN landdb.admin_unit c ON c.level = 'commune' AND c.code = r.commune_code AND c.geom IS NOT NULL
             AND c.valid_from <= {at}::date AND (c.valid_to IS NULL OR c.valid_to >= {at}::date)
        WHERE {cur} AND r.{id} NOT IN (SELECT {id} FROM bad) AND NOT ST_Covers(c.geom, r.geom)
        ORDER BY r.{id}""").format(invalid=ctx.invalid_ids(), id=ctx.id, rows=ctx.rows, cur=ctx.cur("r"),
                                   srid=ctx.metric_srid("r"), at=ctx.at("r"))
    out = []
    for fid, prov, commune, inside, outside, wkb in ctx.fetch(q):
        if inside <= ctx.tol.across_commune_min_m2:
            out.append(ctx.finding("topo.outside_commune", fid, {"commune_code": commune,
                                                                  "outside_m2": round(outside, 2)}, wkb, prov, commune))
        elif outside > ctx.tol.across_commune_min_m2:
            out.append(ctx.finding("topo.across_commune", fid, {"commune_code": commune,
                                                                 "outside_m2": round(outside, 2)}, wkb, prov, commune))
    return out


def _parcel_sheet(ctx: _Context) -> list[Finding]:
    """Parcel mostly outside the frame of its map sheet (wrong sheet), or its sheet unknown in a commune that has
    sheets."""
    if not ctx.conn.execute("SELECT EXISTS (SELECT 1 FROM landdb.map_sheet)").fetchone()[0]:
        ctx.skipped += ["topo.wrong_sheet", "attr.map_sheet_missing"]
        return []
    q = sql.SQL("""
        WITH bad AS MATERIALIZED {invalid}
        SELECT r.{id}, r.province_code, r.commune_code, r.sheet_number, s.id IS NULL AS missing,
               CASE WHEN s.id IS NULL THEN NULL
                    ELSE ST_Area(ST_Transform(ST_Intersection(r.geom, s.geom), {srid}))
                         / nullif(ST_Area(ST_Transform(r.geom, {srid})), 0) END AS share,
               (SELECT o.sheet_number FROM landdb.map_sheet o
                 WHERE o.commune_code = r.commune_code AND o.valid_to IS NULL
                   AND ST_Intersects(o.geom, ST_PointOnSurface(r.geom)) ORDER BY o.sheet_number LIMIT 1) AS better,
               ST_AsBinary(ST_PointOnSurface(r.geom))
        FROM {rows} r
        LEFT JOIN landdb.map_sheet s ON s.commune_code = r.commune_code AND s.sheet_number = r.sheet_number
             AND s.valid_to IS NULL
        WHERE {cur} AND r.{id} NOT IN (SELECT {id} FROM bad)
          AND (s.id IS NULL AND EXISTS (SELECT 1 FROM landdb.map_sheet e WHERE e.commune_code = r.commune_code
                                         AND e.valid_to IS NULL)
               OR s.id IS NOT NULL AND NOT ST_Covers(s.geom, r.geom))
        ORDER BY r.{id}""").format(invalid=ctx.invalid_ids(), id=ctx.id, rows=ctx.rows, cur=ctx.cur("r"),
                                   srid=ctx.metric_srid("r"))
    out = []
    for fid, prov, commune, sheet, missing, share, better, wkb in ctx.fetch(q):
        if missing:
            out.append(ctx.finding("attr.map_sheet_missing", fid, {"commune_code": commune, "sheet_number": sheet},
                                   wkb, prov, commune))
        elif share is not None and share < ctx.tol.wrong_sheet_max_inside:
            details = {"sheet_number": sheet, "inside_pct": round(100 * share, 1), "suggested_sheet": better,
                       "suggest_vi": f"; có lẽ thuộc tờ {better}" if better else "",
                       "suggest_en": f"; probably sheet {better}" if better else ""}
            out.append(ctx.finding("topo.wrong_sheet", fid, details, wkb, prov, commune))
    return out


def _parcel_area(ctx: _Context) -> list[Finding]:
    """|declared − computed| > k · M · √P, M = scale of the parcel's sheet (default scale if unknown)."""
    if not ctx.has("declared_area") or not (ctx.has("computed_area") or ctx.has("area_srid")):
        ctx.skipped.append("attr.area_mismatch")
        return []
    computed = (sql.SQL("r.computed_area::float8") if ctx.has("computed_area")
                else sql.SQL("ST_Area(ST_Transform(r.geom, r.area_srid))"))
    q = sql.SQL("""
        SELECT {id}, province_code, commune_code, declared, computed, scale, known_scale,
               meta.cadastral_area_tolerance(computed, scale, %(k)s) AS tol, ST_AsBinary(ST_PointOnSurface(geom))
        FROM (SELECT r.{id}, r.province_code, r.commune_code, r.declared_area::float8 AS declared,
                     {computed} AS computed,
                     coalesce(s.scale, %(default_scale)s) AS scale, s.scale IS NOT NULL AS known_scale, r.geom
              FROM {rows} r
              LEFT JOIN landdb.map_sheet s ON s.commune_code = r.commune_code AND s.sheet_number = r.sheet_number
                   AND s.valid_to IS NULL
              WHERE r.declared_area IS NOT NULL AND NOT ST_IsEmpty(r.geom)) x
        WHERE abs(declared - computed) > meta.cadastral_area_tolerance(computed, scale, %(k)s)
        ORDER BY {id}""").format(id=ctx.id, rows=ctx.rows, computed=computed)
    out = []
    for fid, prov, commune, declared, computed_m2, scale, known, tol, wkb in ctx.fetch(
            q, {"k": ctx.tol.area_coefficient, "default_scale": ctx.tol.default_scale}):
        out.append(ctx.finding("attr.area_mismatch", fid, {
            "declared_m2": round(declared, 2), "computed_m2": round(computed_m2, 2),
            "diff_m2": round(abs(declared - computed_m2), 2), "tolerance_m2": round(tol, 2), "scale": scale,
            "scale_from_sheet": bool(known)}, wkb, prov, commune))
    return out


def _parcel_codes_at_time(ctx: _Context) -> list[Finding]:
    """Land-use codes that exist in a list but in none valid at the version's start (judged only from the start
    of the oldest list held)."""
    if not ctx.has("land_use_codes"):
        ctx.skipped.append("attr.land_use_code_not_valid_at_time")
        return []
    q = sql.SQL("""
        WITH lists AS (SELECT min(valid_from) AS since FROM landdb.land_use_code)
        SELECT r.{id}, r.province_code, r.commune_code, ({at})::date AS day,
               array_agg(DISTINCT c ORDER BY c) AS codes, ST_AsBinary(ST_PointOnSurface(r.geom))
        FROM {rows} r CROSS JOIN lists CROSS JOIN LATERAL unnest(r.land_use_codes) AS c
        WHERE ({at})::date >= lists.since
          AND EXISTS (SELECT 1 FROM landdb.land_use_code k WHERE k.code = c)
          AND NOT EXISTS (SELECT 1 FROM landdb.land_use_code k WHERE k.code = c AND k.valid_from <= ({at})::date
                          AND (k.valid_to IS NULL OR k.valid_to >= ({at})::date))
        GROUP BY r.{id}, r.province_code, r.commune_code, r.geom, 4
        ORDER BY r.{id}""").format(id=ctx.id, rows=ctx.rows, at=ctx.at("r"))
    return [ctx.finding("attr.land_use_code_not_valid_at_time", fid, {"codes": list(codes), "date": str(day)}, wkb,
                        prov, commune)
            for fid, prov, commune, day, codes, wkb in ctx.fetch(q)]


def _parcel_commune_code_at_time(ctx: _Context) -> list[Finding]:
    if not ctx.has("commune_code") or not _communes_known(ctx):
        ctx.skipped.append("attr.commune_not_valid_at_time")
        return []
    q = sql.SQL("""
        SELECT r.{id}, r.province_code, r.commune_code, ({at})::date, ST_AsBinary(ST_PointOnSurface(r.geom))
        FROM {rows} r
        WHERE NOT EXISTS (SELECT 1 FROM landdb.admin_unit c WHERE c.level = 'commune' AND c.code = r.commune_code
                          AND c.valid_from <= ({at})::date AND (c.valid_to IS NULL OR c.valid_to >= ({at})::date))
        ORDER BY r.{id}""").format(id=ctx.id, rows=ctx.rows, at=ctx.at("r"))
    return [ctx.finding("attr.commune_not_valid_at_time", fid, {"commune_code": commune, "date": str(day)}, wkb,
                        prov, commune)
            for fid, prov, commune, day, wkb in ctx.fetch(q)]


# -- admin units, networks, boundary lines ----------------------------------------------------------------


def _admin_overlaps(ctx: _Context) -> list[Finding]:
    q = sql.SQL("""
        WITH bad AS MATERIALIZED {invalid},
        pairs AS (
            SELECT a.{id} AS a_id, a.code, a.level, b.code AS other_code, b.{id} AS b_id,
                   ST_Intersection(a.geom, b.geom) AS inter
            FROM {rows} a
            JOIN {rows} b ON a.geom && b.geom AND a.{id} < b.{id} AND a.level = b.level
                 AND daterange(a.valid_from, a.valid_to, '[]') && daterange(b.valid_from, b.valid_to, '[]')
            WHERE a.geom IS NOT NULL AND b.geom IS NOT NULL
              AND a.{id} NOT IN (SELECT {id} FROM bad) AND b.{id} NOT IN (SELECT {id} FROM bad)
              AND ST_Relate(a.geom, b.geom, '2********'))
        SELECT a_id, code, level, other_code, b_id, ST_Area(ST_Transform(inter, meta.vn2000_metric_srid(inter))),
               ST_AsBinary(inter)
        FROM pairs ORDER BY a_id, b_id""").format(invalid=ctx.invalid_ids(), id=ctx.id, rows=ctx.rows)
    out = []
    for a_id, code, level, other, b_id, area, wkb in ctx.fetch(q, gist_pairs=True):
        if area > ctx.tol.admin_overlap_min_m2:
            out.append(ctx.finding("topo.admin_overlap", a_id, {"code": code, "level": level, "other_code": other,
                                                                 "other_id": str(b_id), "area_m2": round(area, 1)},
                                   wkb, code[:2] if code else None, code if level == "commune" else None))
    return out


def _dangles(ctx: _Context) -> list[Finding]:
    """Line ends not connected to any other line of the network but within the search distance of one."""
    deg = ctx.tol.dangle_search_m / 100_000.0  # generous box in degrees (a degree is > 100 km here)
    q = sql.SQL("""
        WITH bad AS MATERIALIZED {invalid},
        ends AS (
            SELECT r.{id} AS fid, {prov} AS province_code, e.pt
            FROM {rows} r
            CROSS JOIN LATERAL ST_Dump(r.geom) part
            CROSS JOIN LATERAL (VALUES (ST_StartPoint(part.geom)), (ST_EndPoint(part.geom))) AS e(pt)
            WHERE {cur_r} AND r.{id} NOT IN (SELECT {id} FROM bad)),
        near AS (
            SELECT e.fid, e.province_code, e.pt, n.other, n.dist
            FROM ends e
            CROSS JOIN LATERAL (
                SELECT o.{id} AS other, ST_Distance(e.pt::geography, o.geom::geography) AS dist
                FROM {rows} o
                WHERE {cur_o} AND o.{id} <> e.fid AND o.geom && ST_Expand(e.pt, %(deg)s)
                ORDER BY ST_Distance(e.pt::geography, o.geom::geography) LIMIT 1) n)
        SELECT fid, province_code, other, dist, ST_AsBinary(pt) FROM near
        WHERE dist > %(snap)s AND dist <= %(search)s
        ORDER BY fid, ST_X(pt), ST_Y(pt)""").format(
        invalid=ctx.invalid_ids(), id=ctx.id, rows=ctx.rows, cur_r=ctx.cur("r"), cur_o=ctx.cur("o"),
        prov=ctx.col("province_code", "r"))
    out = []
    for fid, prov, other, dist, wkb in ctx.fetch(q, {"deg": deg, "snap": ctx.tol.snap_m,
                                                     "search": ctx.tol.dangle_search_m}):
        out.append(ctx.finding("net.dangle", fid, {"distance_m": round(dist, 2), "nearest_id": str(other)}, wkb,
                               prov))
    return out


def _boundary_mismatch(ctx: _Context) -> list[Finding]:
    """Parts of a boundary line farther than the tolerance from the edges of the admin areas it separates."""
    if not ctx.has("level", "left_code", "right_code"):
        ctx.skipped.append("net.boundary_mismatch")
        return []
    if not ctx.conn.execute("SELECT EXISTS (SELECT 1 FROM landdb.admin_unit WHERE geom IS NOT NULL)").fetchone()[0]:
        ctx.skipped.append("net.boundary_mismatch")
        return []
    q = sql.SQL("""
        WITH lines AS (
            SELECT r.{id} AS fid, {prov} AS province_code, r.level, r.left_code, r.right_code, r.geom,
                   meta.vn2000_metric_srid(r.geom) AS srid
            FROM {rows} r WHERE {cur} AND r.level IN ('province', 'district', 'commune') AND ST_IsValid(r.geom)),
        edges AS (
            SELECT l.fid, l.province_code, l.srid, l.geom,
                   array_agg(DISTINCT a.code ORDER BY a.code) AS codes,
                   ST_Union(ST_Boundary(ST_Transform(a.geom, l.srid))) AS edge
            FROM lines l
            JOIN landdb.admin_unit a ON a.level = l.level AND a.geom IS NOT NULL AND a.valid_to IS NULL
                 AND (a.code IN (l.left_code, l.right_code)
                      OR (l.left_code IS NULL AND l.right_code IS NULL AND a.geom && l.geom))
            GROUP BY l.fid, l.province_code, l.srid, l.geom),
        off AS (
            SELECT fid, province_code, codes,
                   ST_Difference(ST_Transform(geom, srid), ST_Buffer(edge, %(tol)s)) AS part, srid
            FROM edges)
        SELECT fid, province_code, codes, ST_Length(part), ST_AsBinary(ST_Transform(part, 4756))
        FROM off WHERE NOT ST_IsEmpty(part) AND ST_Length(part) > %(tol)s
        ORDER BY fid""").format(id=ctx.id, rows=ctx.rows, cur=ctx.cur("r"), prov=ctx.col("province_code", "r"))
    return [ctx.finding("net.boundary_mismatch", fid, {"codes": list(codes), "length_m": round(length, 1),
                                                        "tolerance_m": ctx.tol.boundary_m}, wkb, prov)
            for fid, prov, codes, length, wkb in ctx.fetch(q, {"tol": ctx.tol.boundary_m})]


_SET_CHECKS: dict[str, tuple[tuple[tuple[str, ...], Callable[[_Context], list[Finding]]], ...]] = {
    "parcels": (
        (("attr.parcel_number_duplicate",), _parcel_number_duplicates),
        (("topo.overlap", "topo.duplicate"), _parcel_overlaps),
        (("topo.gap",), _parcel_gaps),
        (("topo.outside_commune", "topo.across_commune"), _parcel_commune),
        (("topo.wrong_sheet", "attr.map_sheet_missing"), _parcel_sheet),
        (("attr.area_mismatch",), _parcel_area),
        (("attr.land_use_code_not_valid_at_time",), _parcel_codes_at_time),
        (("attr.commune_not_valid_at_time",), _parcel_commune_code_at_time),
    ),
    "admin-units": ((("topo.admin_overlap",), _admin_overlaps),),
    "network": ((("net.dangle",), _dangles),),
    "boundaries": ((("net.boundary_mismatch",), _boundary_mismatch),),
}

TOPOLOGY_CHECKS = ("topo.overlap", "topo.duplicate", "topo.gap", "topo.outside_commune", "topo.across_commune",
                   "topo.wrong_sheet", "attr.map_sheet_missing", "attr.parcel_number_duplicate", "attr.area_mismatch")
