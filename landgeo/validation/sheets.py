"""Set-based checks of cadastral map sheets (tờ bản đồ địa chính): current sheets of one commune and one scale do not
overlap.

A commune's cadastral map is cut into sheets of a scale series; two current sheets of the same scale in the same
commune cover disjoint ground (their frames may share edges). Sheets of different scales may cover the same ground
(a 1:500 sheet of a town centre inside a 1:2000 sheet's area): not reported. Measured in the sheets' TM-3 plane;
an overlap under ``sheet_overlap_min_m2`` (the frames' digitising noise) is not a finding.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from landgeo.validation.check_codes import Finding


def sheet_overlaps(ctx: Any) -> list[Finding]:
    q = sql.SQL("""
        WITH pairs AS (
            SELECT a.{id} AS a_id, a.province_code, a.commune_code, a.sheet_number, a.scale,
                   b.sheet_number AS other_sheet, b.{id} AS b_id, ST_Intersection(a.geom, b.geom) AS inter
            FROM {rows} a
            JOIN {all} b ON a.geom && b.geom AND a.{id} <> b.{id} AND (a.{id} < b.{id} OR NOT b.in_scope)
                 AND b.commune_code = a.commune_code AND b.scale = a.scale
            WHERE {cur_a} AND {cur_b} AND {ok_a} AND {ok_b} AND ST_Relate(a.geom, b.geom, '2********'))
        SELECT a_id, province_code, commune_code, sheet_number, scale, other_sheet, b_id,
               ST_Area(ST_Transform(inter, meta.vn2000_metric_srid(inter))), ST_AsBinary(inter)
        FROM pairs ORDER BY a_id, b_id""").format(id=ctx.id, rows=ctx.rows, all=ctx.all_rows, cur_a=ctx.cur("a"),
                                                  cur_b=ctx.cur("b"), ok_a=ctx.ok("a"), ok_b=ctx.ok("b"))
    out = []
    for a_id, prov, commune, sheet, scale, other, b_id, area, wkb in ctx.fetch(q):
        if area > ctx.tol.sheet_overlap_min_m2:
            out.append(ctx.finding("topo.sheet_overlap", a_id, {
                "sheet_number": sheet, "other_sheet": other, "other_id": str(b_id), "scale": scale,
                "area_m2": round(area, 1)}, wkb, prov, commune))
    return out
