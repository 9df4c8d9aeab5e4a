"""Set-based checks of admin units, networks and boundary lines (ranh giới, mạng lưới), in SQL.

Run by :func:`landgeo.validation.table.check_table` with its context (``ctx``: the table, scope, tolerances and
helpers of that module); kept apart so each module holds one family of checks.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from landgeo.crs.srids import VN2000_GEOGRAPHIC
from landgeo.validation.check_codes import Finding

# -- admin units, networks, boundary lines ----------------------------------------------------------------


def admin_overlaps(ctx: Any) -> list[Finding]:
    q = sql.SQL("""
        WITH pairs AS (
            SELECT a.{id} AS a_id, a.code, a.level, b.code AS other_code, b.{id} AS b_id,
                   ST_Intersection(a.geom, b.geom) AS inter
            FROM {rows} a
            JOIN {all} b ON a.geom && b.geom AND (a.{id} < b.{id} OR NOT b.in_scope)
                 AND a.level IS NOT DISTINCT FROM b.level
                 AND daterange(a.valid_from, a.valid_to, '[]') && daterange(b.valid_from, b.valid_to, '[]')
            WHERE a.geom IS NOT NULL AND b.geom IS NOT NULL
              AND {ok_a} AND {ok_b} AND ST_Relate(a.geom, b.geom, '2********'))
        SELECT a_id, code, level, other_code, b_id, ST_Area(ST_Transform(inter, meta.vn2000_metric_srid(inter))),
               ST_AsBinary(inter)
        FROM pairs ORDER BY a_id, b_id""").format(id=ctx.id, rows=ctx.rows, all=ctx.all_rows, ok_a=ctx.ok("a"),
                                                  ok_b=ctx.ok("b"))
    out = []
    for a_id, code, level, other, b_id, area, wkb in ctx.fetch(q):
        if area > ctx.tol.admin_overlap_min_m2:
            out.append(ctx.finding("topo.admin_overlap", a_id, {"code": code, "level": level, "other_code": other,
                                                                 "other_id": str(b_id), "area_m2": round(area, 1)},
                                   wkb, code[:2] if code else None, code if level == "commune" else None))
    return out


def dangles(ctx: Any) -> list[Finding]:
    """Line ends not connected to any other line of the network but within the search distance of one.

    An end that meets another part of its own (multi-part) feature is connected."""
    deg = ctx.tol.dangle_search_m / 100_000.0  # generous box in degrees (a degree is > 100 km here)
    q = sql.SQL("""
        WITH ends AS (
            SELECT r.{id} AS fid, {prov} AS province_code, e.pt
            FROM {rows} r
            CROSS JOIN LATERAL ST_Dump(r.geom) part
            CROSS JOIN LATERAL (VALUES (ST_StartPoint(part.geom)), (ST_EndPoint(part.geom))) AS e(pt)
            WHERE {cur_r} AND {ok}
              AND NOT EXISTS (SELECT 1 FROM ST_Dump(r.geom) own WHERE own.path <> part.path
                              AND ST_DWithin(e.pt::geography, own.geom::geography, %(snap)s))),
        near AS (
            SELECT e.fid, e.province_code, e.pt, n.other, n.dist
            FROM ends e
            CROSS JOIN LATERAL (
                SELECT o.{id} AS other, ST_Distance(e.pt::geography, o.geom::geography) AS dist
                FROM {all} o
                WHERE {cur_o} AND o.{id} <> e.fid AND o.geom && ST_Expand(e.pt, %(deg)s)
                ORDER BY ST_Distance(e.pt::geography, o.geom::geography) LIMIT 1) n)
        SELECT fid, province_code, other, dist, ST_AsBinary(pt) FROM near
        WHERE dist > %(snap)s AND dist <= %(search)s
        ORDER BY fid, ST_X(pt), ST_Y(pt)""").format(
        id=ctx.id, rows=ctx.rows, all=ctx.all_rows, cur_r=ctx.cur("r"), cur_o=ctx.cur("o"), ok=ctx.ok("r"),
        prov=ctx.col("province_code", "r"))
    out = []
    for fid, prov, other, dist, wkb in ctx.fetch(q, {"deg": deg, "snap": ctx.tol.snap_m,
                                                     "search": ctx.tol.dangle_search_m}):
        out.append(ctx.finding("net.dangle", fid, {"distance_m": round(dist, 2), "nearest_id": str(other)}, wkb,
                               prov))
    return out


def boundary_mismatch(ctx: Any) -> list[Finding]:
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
        SELECT fid, province_code, codes, ST_Length(part), ST_AsBinary(ST_Transform(part, {vn2000}))
        FROM off WHERE NOT ST_IsEmpty(part) AND ST_Length(part) > %(tol)s
        ORDER BY fid""").format(id=ctx.id, rows=ctx.rows, cur=ctx.cur("r"), prov=ctx.col("province_code", "r"),
                                vn2000=sql.Literal(VN2000_GEOGRAPHIC))
    return [ctx.finding("net.boundary_mismatch", fid, {"codes": list(codes), "length_m": round(length, 1),
                                                        "tolerance_m": ctx.tol.boundary_m}, wkb, prov)
            for fid, prov, codes, length, wkb in ctx.fetch(q, {"tol": ctx.tol.boundary_m})]
