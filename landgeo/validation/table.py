"""Set-based checks (kiểm tra tập hợp) in SQL, on a stored table or a loader's staging table.

Each check is one statement over the whole scope: PostGIS does the work next to the data, with the GiST
index doing the pairing (``&&``) and GEOS only on candidate pairs. Geometries with invalid rings are left
out of the topology checks (they are reported by ``geom.invalid``; overlay on them is meaningless).

The table must be shaped like the target's table (same column names); an identifier column ``id`` (stored
tables) or ``feature_index`` (a staging table: the row in the loader's input arrays) names the feature.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import shapely
from psycopg import sql
from psycopg.pq import TransactionStatus

from landgeo.errors import UserError
from landgeo.target import Target
from landgeo.validation.check_codes import CHECKS, Finding
from landgeo.validation.nearby import nearby_provinces
from landgeo.validation.networks import admin_overlaps, boundary_mismatch, dangles
from landgeo.validation.sheets import sheet_overlaps
from landgeo.validation.tolerances import DEFAULT, Tolerances

LOCAL_TIME_ZONE = "Asia/Ho_Chi_Minh"  # the calendar that validity dates (valid_from/valid_to days) are written in
TOUCH_DEG = 1e-8  # ~1 mm in degrees: parcels this close are clustered together before the union (a superset is safe)
ID_COLUMNS = ("id", "feature_index", "row_index", "fid", "ogc_fid")
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
    jobs: int = 1,
    plans: list[str] | None = None,
    timings: dict[str, float] | None = None,
) -> list[Finding]:
    """Every set-based finding for the rows of ``table`` (``schema.table``) selected by ``where``.

    ``where`` is a condition on the table's own columns (e.g. ``sql.SQL("province_code = {}").format('01')``).
    ``checks`` limits the run to these codes. Checks that cannot run (a reference table is empty, a column
    is missing) are named in ``skipped`` when a list is given. Geometries of findings are VN-2000 (4756).
    ``jobs`` > 1 splits the heavy statements by commune over that many connections (same server, same
    credentials) — only for committed tables: other sessions cannot see a caller's uncommitted staging table.
    ``plans``: a list that receives the EXPLAIN of every statement run (for benchmarks and tuning).
    ``timings``: a dict that receives the seconds of each check family (keyed ``"code + code"``).
    """
    ctx = _Context(conn, target, table, where, id_column, tolerances, skipped if skipped is not None else [])
    ctx.jobs = max(1, int(jobs)) if "commune_code" in ctx.columns else 1
    ctx.plans = plans
    wanted = set(checks) if checks is not None else None
    out: list[Finding] = []
    try:
        for codes, fn in _SET_CHECKS.get(target.topology or "", ()):
            if wanted is not None and not (set(codes) & wanted):
                continue
            started = time.monotonic()
            out += fn(ctx)
            if timings is not None:
                timings[" + ".join(codes)] = time.monotonic() - started
    finally:
        ctx.close()
    if wanted is not None:
        out = [f for f in out if f.code in wanted]
    for f in out:
        f.target = target.id
    return out


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
        self.scoped = where is not None
        self.rows = sql.SQL("(SELECT * FROM {} WHERE {})").format(self.rel, self.scope)
        # every row, flagged: partners of pairs (overlaps, dangles) may lie outside the scope. The scope is a
        # computed column, not a filter, so the planner cannot turn it into an index condition on the inner side
        # of a GiST nested loop.
        self.all_rows = sql.SQL("(SELECT *, coalesce(({}), false) AS in_scope FROM {})").format(self.scope, self.rel)
        near = nearby_provinces(conn, self.rel, table, self.scope) if self.scoped else None
        nearby = sql.SQL("TRUE")  # rows outside the scope worth pairing with it: in the provinces that reach it
        if near is not None:  # partners only in provinces that reach the scope's extent (landgeo.validation.nearby)
            nearby = sql.SQL("province_code IN ({})").format(sql.SQL(", ").join(map(sql.Literal, near or [""])))
            self.all_rows = sql.SQL("(SELECT *, coalesce(({}), false) AS in_scope FROM {} WHERE {})").format(
                self.scope, self.rel, nearby)
        self.nearby = nearby
        if not self.scoped:
            self.neighbourhood = self.rows
        elif "commune_code" in self.columns:
            # the scope, plus the rows of its communes outside it (a cheap filter first: for a province or commune
            # scope the second part is empty after one scan, no per-row look-ups)
            self.neighbourhood = sql.SQL(
                "(SELECT * FROM {rows} i UNION ALL SELECT * FROM {rel} m WHERE NOT coalesce(({scope}), false) "
                "AND {nearby} AND m.commune_code IN (SELECT commune_code FROM {rows} s))").format(
                rel=self.rel, rows=self.rows, scope=self.scope, nearby=nearby)
        else:
            self.neighbourhood = sql.SQL("(SELECT * FROM {})").format(self.rel)
        self.bad: list[int] | None = None
        self.jobs = 1
        self.extra_conns: list = []
        self.plans: list[str] | None = None

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
        """The day a row is judged at: the date, in Vietnam (giờ Việt Nam, UTC+7), of the start of its version, or
        today there. Validity dates of codes and administrative units are Vietnamese calendar days: a version
        starting at local midnight on 2025-07-01 (17:00 UTC the day before) is judged on 2025-07-01."""
        return sql.SQL("(coalesce(({})::timestamptz, now()) AT TIME ZONE {})::date").format(
            self.col("valid_from", alias, "timestamptz"), sql.Literal(LOCAL_TIME_ZONE))

    def metric_srid(self, alias: str) -> sql.Composable:
        if "area_srid" in self.columns:
            return sql.SQL("{}.area_srid").format(sql.Identifier(alias))
        return sql.SQL("meta.vn2000_metric_srid({}.geom)").format(sql.Identifier(alias))

    def fetch(self, query: sql.Composable, params: dict | None = None) -> list[tuple]:
        full = {"bad": self.bad_ids(), **(params or {})}
        self.explain(query, full)
        return self.conn.execute(query, full).fetchall()

    def explain(self, query: sql.Composable, params: dict) -> None:
        if self.plans is not None:
            plan = "\n".join(r[0] for r in self.conn.execute(sql.SQL("EXPLAIN ") + query, params))
            self.plans.append(plan)

    def bad_ids(self) -> list[int]:
        """Ids of rows whose geometry cannot take part in overlay (invalid or empty): one validity pass over the
        scope's neighbourhood per :func:`check_table` call; the topology checks leave them out."""
        if self.bad is None:
            self.bad = [r[0] for r in self.conn.execute(sql.SQL(
                "SELECT r.{id}::bigint FROM {rows} r WHERE NOT ST_IsValid(r.geom) OR ST_IsEmpty(r.geom)").format(
                id=self.id, rows=self.neighbourhood))]
        return self.bad

    def ok(self, alias: str) -> sql.Composable:
        """``alias`` is not one of :meth:`bad_ids` (needs the ``bad`` parameter that :meth:`fetch` adds)."""
        return sql.SQL("NOT ({}.{}::bigint = ANY(%(bad)s::bigint[]))").format(sql.Identifier(alias), self.id)

    def close(self) -> None:
        for extra in self.extra_conns:
            extra.close()
        self.extra_conns = []

    def part(self, alias: str, k: int) -> sql.Composable:
        """The k-th of ``jobs`` disjoint slices of the rows, by commune (a sheet never spans two slices)."""
        if self.jobs <= 1:
            return sql.SQL("TRUE")
        return sql.SQL("abs(hashtext({}.commune_code)) %% {} = {}").format(
            sql.Identifier(alias), sql.Literal(self.jobs), sql.Literal(k))

    def fetch_split(self, make: Callable[[Callable[[str], sql.Composable]], sql.Composable],
                    params: dict | None = None) -> list[tuple]:
        """Run ``make(part)`` once per slice, slices in parallel on their own connections; rows concatenated."""
        if self.jobs <= 1:
            return self.fetch(make(lambda alias: self.part(alias, 0)), params)
        import psycopg

        while len(self.extra_conns) < self.jobs - 1:
            self.extra_conns.append(psycopg.connect(self.conn.info.dsn, password=self.conn.info.password,
                                                    autocommit=True))
        conns = [self.conn, *self.extra_conns]
        full = {"bad": self.bad_ids(), **(params or {})}

        def run(k: int) -> list[tuple]:
            # one backend per slice and core: no parallel workers on top of the slices
            conn = conns[k]
            before = conn.execute("SELECT current_setting('max_parallel_workers_per_gather')").fetchone()[0]
            conn.execute("SELECT set_config('max_parallel_workers_per_gather', '0', false)")
            try:
                if k == 0:
                    self.explain(make(lambda alias: self.part(alias, 0)), full)
                return conn.execute(make(lambda alias: self.part(alias, k)), full).fetchall()
            finally:
                if not conn.broken and conn.info.transaction_status != TransactionStatus.INERROR:
                    conn.execute("SELECT set_config('max_parallel_workers_per_gather', %s, false)", (before,))

        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.jobs) as pool:
            results = list(pool.map(run, range(self.jobs)))
        return [row for rows in results for row in rows]

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


def _parcel_coverage(ctx: _Context) -> list[Finding]:
    """Gaps, overlaps and duplicates of the parcels of each commune + sheet (the sheets the scope touches).

    1. Per sheet, ``ST_Union`` of its current valid parcels (of those that meet another parcel's box or have
       holes or parts of their own: the others cannot bound a hole or overlap): the union's interior rings
       (minus any parcel inside them) are the gaps; ``Σ area − area(union)`` is the area covered more than once. A pair
       overlapping by ``x`` m² adds at least ``x`` to it, so a sheet whose excess is below the overlap
       tolerance cannot hold a reportable overlap or duplicate: the union certifies it clean.
    2. Only in the other sheets, pairs through the GiST index (``a.geom && b.geom``, nested loop), DE-9IM
       ``ST_Relate(a, b, '2********')`` (interiors intersect), then ``ST_Intersection`` for those pairs.
       The commune/sheet match is ``IS NOT DISTINCT FROM`` on purpose: as an equality the planner would pair
       rows by it (hash join, or a bitmap AND with the commune/sheet b-tree) and compare every parcel of a
       sheet with every other; as a filter it leaves the pairing to the GiST index.
    """
    # the scope's rows, plus the rows outside it that share a sheet with them (a cheap filter first: for a
    # province or commune scope the second part is empty after one scan, no per-row look-ups)
    members = ctx.rows if not ctx.scoped else sql.SQL(
        "(SELECT * FROM {rows} i UNION ALL SELECT * FROM {rel} m WHERE NOT coalesce(({scope}), false) AND {nearby} "
        "AND (m.commune_code, m.sheet_number) IN (SELECT commune_code, sheet_number FROM {rows} s))").format(
        rel=ctx.rel, rows=ctx.rows, scope=ctx.scope, nearby=ctx.nearby)
    srid = sql.SQL("p.area_srid") if ctx.has("area_srid") else sql.SQL("meta.vn2000_metric_srid(p.geom)")

    def per_sheet(part: Callable[[str], sql.Composable]) -> sql.Composable:
        # Only parcels that can bound a hole or overlap go into the union: those that meet another parcel of their
        # sheet (clustered by ST_ClusterDBSCAN with a distance of ~1 mm: the window builds one R-tree per sheet, no
        # probe per parcel), and those with holes or several parts of their own. A single-part parcel without holes
        # that meets no other is a component of the union by itself, with no hole and no excess (gapped data,
        # digitised old maps: nearly every parcel; ST_Union of disjoint parcels costs as much as of touching ones).
        # Parcels lying loose inside a hole are subtracted from it by an index look-up.
        same = sql.SQL("q.commune_code IS NOT DISTINCT FROM h.commune_code "
                       "AND q.sheet_number IS NOT DISTINCT FROM h.sheet_number AND {cur} AND {ok}")
        return sql.SQL("""
            WITH sheets AS MATERIALIZED (
                SELECT province_code, commune_code, sheet_number, min(srid) AS srid,
                       sum(ST_Area(geom)) AS total, ST_Union(geom) AS u
                FROM (SELECT p.province_code, p.commune_code, p.sheet_number, {srid} AS srid, p.geom,
                             ST_ClusterDBSCAN(p.geom, %(touch)s, 2) OVER (
                                 PARTITION BY p.province_code, p.commune_code, p.sheet_number) AS cluster
                      FROM {members} p
                      WHERE {cur} AND {ok} AND {part}) c
                WHERE cluster IS NOT NULL OR ST_NRings(geom) > 1 OR ST_NumGeometries(geom) > 1
                GROUP BY province_code, commune_code, sheet_number),
            holes AS (
                SELECT s.province_code, s.commune_code, s.sheet_number, s.srid,
                       ST_MakePolygon(ST_InteriorRingN(d.geom, n)) AS hole
                FROM sheets s
                CROSS JOIN LATERAL ST_Dump(s.u) d
                CROSS JOIN LATERAL generate_series(1, ST_NumInteriorRings(d.geom)) n
                WHERE ST_NumInteriorRings(d.geom) > 0),
            inside AS (
                SELECT h.*, (SELECT ST_Union(q.geom) FROM {members} q
                             WHERE q.geom && h.hole AND {same_h} AND ST_Intersects(q.geom, h.hole)) AS u
                FROM holes h),
            gaps AS (
                SELECT province_code, commune_code, sheet_number, srid,
                       CASE WHEN u IS NOT NULL AND NOT ST_Touches(hole, u) THEN ST_Difference(hole, u)
                            ELSE hole END AS gap
                FROM inside)
            SELECT 'gap', province_code, commune_code, sheet_number, ST_Area(ST_Transform(gap, srid)),
                   ST_AsBinary(gap)
            FROM gaps WHERE NOT ST_IsEmpty(gap)
            UNION ALL
            SELECT 'excess', province_code, commune_code, sheet_number,
                   (total - ST_Area(u)) * ST_Area(ST_Transform(u, srid)) / nullif(ST_Area(u), 0), NULL
            FROM sheets""").format(srid=srid, members=members, cur=ctx.cur("p"), ok=ctx.ok("p"), part=part("p"),
                                   same_h=same.format(cur=ctx.cur("q"), ok=ctx.ok("q")))

    out: list[Finding] = []
    suspicious: list[tuple[str, int]] = []
    for kind, prov, commune, sheet, area, wkb in sorted(ctx.fetch_split(per_sheet, {"touch": TOUCH_DEG}),
                                                         key=lambda r: (r[2], r[3], r[0], r[5] or b"")):
        if kind == "gap" and area > ctx.tol.gap_min_m2:
            out.append(ctx.finding("topo.gap", None, {"area_m2": round(area, 2), "sheet_number": sheet,
                                                      "commune_code": commune}, wkb, prov, commune))
        elif kind == "excess" and area is not None and area > ctx.tol.overlap_min_m2 / 2:
            suspicious.append((commune, sheet))
    if not suspicious:
        return out
    q = sql.SQL("""
        WITH s AS MATERIALIZED (
            SELECT * FROM unnest(%(communes)s::text[], %(sheets)s::int[]) AS s(commune_code, sheet_number)),
        pairs AS (
            SELECT a.{id} AS a_id, b.{id} AS b_id, a.province_code, a.commune_code, a.sheet_number,
                   {srid} AS srid, ST_Equals(a.geom, b.geom) AS same, ST_Intersection(a.geom, b.geom) AS inter
            FROM s
            JOIN {rows} a ON a.commune_code = s.commune_code AND a.sheet_number = s.sheet_number
            JOIN {all} b ON a.geom && b.geom AND (a.{id} < b.{id} OR NOT b.in_scope)
                 AND a.commune_code IS NOT DISTINCT FROM b.commune_code
                 AND a.sheet_number IS NOT DISTINCT FROM b.sheet_number
            WHERE {cur_a} AND {cur_b} AND {ok_a} AND {ok_b} AND ST_Relate(a.geom, b.geom, '2********'))
        SELECT a_id, b_id, province_code, commune_code, sheet_number, same,
               ST_Area(ST_Transform(inter, srid)) AS area, ST_AsBinary(inter)
        FROM pairs""").format(
        id=ctx.id, rows=ctx.rows, all=ctx.all_rows, cur_a=ctx.cur("a"), cur_b=ctx.cur("b"), ok_a=ctx.ok("a"),
        ok_b=ctx.ok("b"), srid=ctx.metric_srid("a"))
    params = {"communes": [c for c, _ in suspicious], "sheets": [n for _, n in suspicious]}
    # no ORDER BY in SQL: sorting by id would tempt the planner to walk every parcel in id order
    for a_id, b_id, prov, commune, sheet, same, area, wkb in sorted(ctx.fetch(q, params), key=lambda r: r[:2]):
        if same:
            out.append(ctx.finding("topo.duplicate", a_id, {"other_id": str(b_id), "area_m2": round(area, 2)},
                                   wkb, prov, commune))
        elif area > ctx.tol.overlap_min_m2:
            out.append(ctx.finding("topo.overlap", a_id, {"other_id": str(b_id), "area_m2": round(area, 2),
                                                          "sheet_number": sheet}, wkb, prov, commune))
    return out


def _communes_known(ctx: _Context) -> bool:
    return ctx.conn.execute("SELECT EXISTS (SELECT 1 FROM landdb.admin_unit WHERE level = 'commune')").fetchone()[0]


def _parcel_commune(ctx: _Context) -> list[Finding]:
    """Outside / across the commune boundary valid at the parcel's time (communes with a geometry only)."""
    if not ctx.conn.execute("SELECT EXISTS (SELECT 1 FROM landdb.admin_unit WHERE level = 'commune' "
                            "AND geom IS NOT NULL)").fetchone()[0]:
        ctx.skipped += ["topo.outside_commune", "topo.across_commune"]
        return []
    def q(part):
        return sql.SQL("""
            SELECT r.{id}, r.province_code, r.commune_code,
                   ST_Area(ST_Transform(ST_Intersection(r.geom, c.geom), {srid})) AS inside,
                   ST_Area(ST_Transform(ST_Difference(r.geom, c.geom), {srid})) AS outside,
                   ST_AsBinary(ST_Difference(r.geom, c.geom))
            FROM {rows} r
            JOIN landdb.admin_unit c ON c.level = 'commune' AND c.code = r.commune_code AND c.geom IS NOT NULL
                 AND c.valid_from <= {at} AND (c.valid_to IS NULL OR c.valid_to >= {at})
            WHERE {cur} AND {ok} AND {part} AND NOT ST_Covers(c.geom, r.geom)""").format(
            id=ctx.id, rows=ctx.rows, cur=ctx.cur("r"), ok=ctx.ok("r"), part=part("r"), srid=ctx.metric_srid("r"),
            at=ctx.at("r"))
    out = []
    for fid, prov, commune, inside, outside, wkb in sorted(ctx.fetch_split(q), key=lambda r: r[0]):
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
    def q(part):
        return sql.SQL("""
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
            WHERE {cur} AND {ok} AND {part}
              AND (s.id IS NULL AND EXISTS (SELECT 1 FROM landdb.map_sheet e WHERE e.commune_code = r.commune_code
                                             AND e.valid_to IS NULL)
                   OR s.id IS NOT NULL AND NOT ST_Covers(s.geom, r.geom))""").format(
            id=ctx.id, rows=ctx.rows, cur=ctx.cur("r"), ok=ctx.ok("r"), part=part("r"), srid=ctx.metric_srid("r"))
    out = []
    for fid, prov, commune, sheet, missing, share, better, wkb in sorted(ctx.fetch_split(q), key=lambda r: r[0]):
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
        SELECT r.{id}, r.province_code, r.commune_code, {at} AS day,
               array_agg(DISTINCT c ORDER BY c) AS codes, ST_AsBinary(ST_PointOnSurface(r.geom))
        FROM {rows} r CROSS JOIN lists CROSS JOIN LATERAL unnest(r.land_use_codes) AS c
        WHERE {at} >= lists.since
          AND EXISTS (SELECT 1 FROM landdb.land_use_code k WHERE k.code = c)
          AND NOT EXISTS (SELECT 1 FROM landdb.land_use_code k WHERE k.code = c AND k.valid_from <= {at}
                          AND (k.valid_to IS NULL OR k.valid_to >= {at}))
        GROUP BY r.{id}, r.province_code, r.commune_code, r.geom, 4
        ORDER BY r.{id}""").format(id=ctx.id, rows=ctx.rows, at=ctx.at("r"))
    return [ctx.finding("attr.land_use_code_not_valid_at_time", fid, {"codes": list(codes), "date": str(day)}, wkb,
                        prov, commune)
            for fid, prov, commune, day, codes, wkb in ctx.fetch(q)]


def _parcel_commune_code_at_time(ctx: _Context) -> list[Finding]:
    if not ctx.has("commune_code") or not _communes_known(ctx):
        ctx.skipped.append("attr.commune_not_valid_at_time")
        return []
    # Before the oldest list held (the official lists start 2025-01-01), a code is judged only on being in a list.
    q = sql.SQL("""
        WITH lists AS (SELECT min(valid_from) AS since FROM landdb.admin_unit WHERE level = 'commune')
        SELECT r.{id}, r.province_code, r.commune_code, {at}, ST_AsBinary(ST_PointOnSurface(r.geom))
        FROM {rows} r CROSS JOIN lists
        WHERE NOT EXISTS (SELECT 1 FROM landdb.admin_unit c WHERE c.level = 'commune' AND c.code = r.commune_code
                          AND ({at} < lists.since OR (c.valid_from <= {at}
                               AND (c.valid_to IS NULL OR c.valid_to >= {at}))))
        ORDER BY r.{id}""").format(id=ctx.id, rows=ctx.rows, at=ctx.at("r"))
    return [ctx.finding("attr.commune_not_valid_at_time", fid, {"commune_code": commune, "date": str(day)}, wkb,
                        prov, commune)
            for fid, prov, commune, day, wkb in ctx.fetch(q)]


_SET_CHECKS: dict[str, tuple[tuple[tuple[str, ...], Callable[[_Context], list[Finding]]], ...]] = {
    "parcel-cover": (
        (("attr.parcel_number_duplicate",), _parcel_number_duplicates),
        (("topo.overlap", "topo.duplicate", "topo.gap"), _parcel_coverage),
        (("topo.outside_commune", "topo.across_commune"), _parcel_commune),
        (("topo.wrong_sheet", "attr.map_sheet_missing"), _parcel_sheet),
        (("attr.area_mismatch",), _parcel_area),
        (("attr.land_use_code_not_valid_at_time",), _parcel_codes_at_time),
        (("attr.commune_not_valid_at_time",), _parcel_commune_code_at_time),
    ),
    "admin-cover": ((("topo.admin_overlap",), admin_overlaps),),
    "sheet-cover": ((("topo.sheet_overlap",), sheet_overlaps),),
    "network": ((("net.dangle",), dangles),),
    "boundary-lines": ((("net.boundary_mismatch",), boundary_mismatch),),
}

TOPOLOGY_CHECKS = ("topo.overlap", "topo.duplicate", "topo.gap", "topo.outside_commune", "topo.across_commune",
                   "topo.wrong_sheet", "attr.map_sheet_missing", "attr.parcel_number_duplicate", "attr.area_mismatch")
