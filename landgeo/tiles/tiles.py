"""Mapbox Vector Tiles made by PostGIS (ô bản đồ vectơ): one layer of one published collection per query.

The envelope of a tile selects through the spatial index on the canonical VN-2000 geometry (``geom && <the tile's
cover in VN-2000 through the official EPSG:6960 operation>``), then the WGS 84 serving copy (made from ``geom`` by
the same operation, ``meta.vn2000_to_wgs84``) is clipped and quantised by ``ST_AsMVTGeom``: a parcel corner on a
tile is where the survey put it. Nothing is transformed per row but WGS 84 -> Web Mercator (same datum) below
:data:`LINEAR_ZOOM`; from it lon/lat map to tile units linearly and a polygon inside the tile skips the clipper
(:func:`_polygon_mvt_geom`).

Generalisation by zoom (:data:`LAYER_RULES`): each collection has a zoom from which its features are drawn. Below
the parcels' zoom the ``parcels`` tileset carries ``parcel-summary`` points instead: one per commune (xã) from
zoom :data:`COMMUNE_SUMMARY_ZOOM`, one per province (tỉnh) below it, with parcel counts and area by land-use group
from ``meta.tile_commune_summary`` (kept current by the write triggers of migration 0080).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

from landgeo.api.collections import FINDINGS_ID, Collection
from landgeo.api.statements import vn2000_cover
from landgeo.crs.transform import transform
from landgeo.tiles.tilematrixsets import TileMatrixSet, mercator_to_lonlat

EXTENT = 4096  # MVT coordinate units per tile side
BUFFER = 64  # units of buffer around a tile (labels and strokes across tile edges)
PARCEL_MIN_ZOOM = 15  # a 20 m parcel is ≈ 5 px wide at zoom 15 (Việt Nam's latitudes)
COMMUNE_SUMMARY_ZOOM = 8
SUMMARY_LAYER = "parcel-summary"
#: From this zoom a Web-Mercator tile's geometry is mapped to tile units linearly in longitude and latitude (no
#: per-row ``ST_Transform``): x is linear in longitude in the Mercator, and y's curvature across one tile is at most
#: 4096 · π/4 · sin φ / 2^z units — under 0.1 unit from zoom 15, a tenth of the quantisation step.
LINEAR_ZOOM = 15
#: A feature's label point is sent at a zoom where its area is at least LABEL_FIT_PX² screen pixels (MapLibre's
#: 512-px tiles): the style's ``số tờ/số thửa`` in 11 px DejaVu Sans is ≈ 42 px wide with its halo (``12/345``), so
#: a label is sent where it fits inside its parcel — as QGIS's "only draw labels which fit" in the demo project.
LABEL_FIT_PX = 42
DISPLAY_TILE_PX = 512
EARTH_RADIUS_M = 6_378_137.0
PUBLISHED_TYPES = frozenset({"text", "integer", "number", "date", "datetime", "text[]"})


@dataclass(frozen=True)
class LayerRule:
    min_zoom: int
    properties: tuple[str, ...] | None = None  # None: every published scalar field


#: From which zoom each collection's features are drawn (smaller features later); the rest from zoom 10.
LAYER_RULES: dict[str, LayerRule] = {
    "parcels": LayerRule(PARCEL_MIN_ZOOM, ("commune_code", "sheet_number", "parcel_number", "land_use_codes",
                                           "declared_area", "computed_area", "address")),
    "map-sheets": LayerRule(12, ("commune_code", "sheet_number", "scale")),
    "admin-units": LayerRule(0, ("code", "name", "level", "parent_code")),
    FINDINGS_ID: LayerRule(8, ("check_code", "severity", "target", "feature_id", "message_vi", "message_en")),
    "buildings": LayerRule(14), "contours": LayerRule(13), "spot-heights": LayerRule(13),
    "control-points": LayerRule(12), "place-names": LayerRule(11), "bridges": LayerRule(13),
}
DEFAULT_RULE = LayerRule(10)


def rule(c: Collection) -> LayerRule:
    return LAYER_RULES.get(c.id, DEFAULT_RULE)


def min_zoom(c: Collection) -> int:
    """The first zoom at which a tile of ``c`` has content (summaries for parcels: zoom 0)."""
    return 0 if c.tile_summaries else rule(c).min_zoom


def layer_key(c: Collection) -> str:
    """The name the write triggers record changes under (``schema.table``)."""
    return f"{c.schema}.{c.table}"


def change_layers(c: Collection, z: int) -> list[str]:
    """The change-log layers a tile of ``c`` at zoom ``z`` depends on: its table's, and for the parcels' overview
    tiles also the moves of the commune and province symbols (``landdb.parcel#summary``, migration 0080)."""
    key = layer_key(c)
    return [key, f"{key}#summary"] if c.tile_summaries and z < PARCEL_MIN_ZOOM else [key]


def tile_properties(c: Collection) -> list[str]:
    names = rule(c).properties
    fields = c.field_map
    chosen = names if names is not None else [f.name for f in c.fields]
    return [n for n in chosen if n in fields and fields[n].type in PUBLISHED_TYPES]


@dataclass(frozen=True)
class TileBox:
    """One tile's envelopes: in the matrix set's CRS (for ST_AsMVTGeom), CRS84 with the buffer, VN-2000 cover."""

    env: tuple[float, float, float, float]
    srid: int
    crs84: tuple[float, float, float, float]
    vn2000: tuple[float, float, float, float]
    inner84: tuple[float, float, float, float]  # CRS84 envelope without the buffer (label points)
    mvt_srid: int  # the CRS in which ST_AsMVTGeom maps to tile units: the matrix set's, or 4326 from LINEAR_ZOOM
    label_area: float  # m²: the smallest feature whose label fits at this zoom (LABEL_FIT_PX)

    @property
    def mvt_env(self) -> tuple[float, float, float, float]:
        return self.env if self.mvt_srid == self.srid else self.inner84


def tile_box(tms: TileMatrixSet, z: int, row: int, col: int) -> TileBox:
    env = tms.envelope(z, row, col)
    pad = (env[2] - env[0]) * BUFFER / EXTENT
    padded = (env[0] - pad, env[1] - pad, env[2] + pad, env[3] + pad)
    if tms.srid == 4326:
        crs84 = (max(padded[0], -180.0), max(padded[1], -90.0), min(padded[2], 180.0), min(padded[3], 90.0))
        inner = env
        width_m = math.radians(env[2] - env[0]) * EARTH_RADIUS_M
    else:
        crs84 = (*mercator_to_lonlat(padded[0], padded[1]), *mercator_to_lonlat(padded[2], padded[3]))
        inner = (*mercator_to_lonlat(env[0], env[1]), *mercator_to_lonlat(env[2], env[3]))
        width_m = env[2] - env[0]
    ground_px = width_m * math.cos(math.radians((inner[1] + inner[3]) / 2)) / DISPLAY_TILE_PX  # metres per pixel
    mvt_srid = 4326 if tms.srid == 4326 or z >= LINEAR_ZOOM else tms.srid
    return TileBox(env, tms.srid, crs84, _vn2000_cover(crs84), inner, mvt_srid, (LABEL_FIT_PX * ground_px) ** 2)


#: A small tile's VN-2000 cover: its CRS84 box moved by the datum shift (EPSG:6960) at the centre of its
#: SHIFT_CELL° cell, widened by SHIFT_MARGIN°: the shift varies by < 1e-6° (≈ 10 cm) across a cell (tested
#: against the densified exact cover). A cover only selects through the index: the WGS 84 test is exact.
SHIFT_CELL = 0.1
SHIFT_MARGIN = 3e-6
_SHIFTS: dict[tuple[int, int], tuple[float, float]] = {}


def _vn2000_cover(crs84: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = crs84
    if x2 - x1 > SHIFT_CELL / 2 or y2 - y1 > SHIFT_CELL / 2:
        return tuple(vn2000_cover(x1, y1, x2, y2, 4326, margin=1e-6))
    key = (math.floor((x1 + x2) / 2 / SHIFT_CELL), math.floor((y1 + y2) / 2 / SHIFT_CELL))
    shift = _SHIFTS.get(key)
    if shift is None:
        cx, cy = (key[0] + 0.5) * SHIFT_CELL, (key[1] + 0.5) * SHIFT_CELL
        vx, vy = transform(4326, 4756, [cx], [cy])
        shift = (float(vx[0]) - cx, float(vy[0]) - cy)
        if len(_SHIFTS) > 100_000:
            _SHIFTS.clear()
        _SHIFTS[key] = shift
    if not (math.isfinite(shift[0]) and math.isfinite(shift[1])):
        return tuple(vn2000_cover(x1, y1, x2, y2, 4326, margin=1e-6))
    dx, dy = shift
    m = SHIFT_MARGIN
    return (x1 + dx - m, y1 + dy - m, x2 + dx + m, y2 + dy + m)


def _mvt_geom(column: sql.Composable, box: TileBox) -> sql.Composable:
    """``column`` (WGS 84) in tile units, clipped to the tile and its buffer."""
    geom = column if box.mvt_srid == 4326 else sql.SQL("ST_Transform({}, {})").format(column,
                                                                                       sql.Literal(box.mvt_srid))
    return sql.SQL("ST_AsMVTGeom({}, ST_MakeEnvelope(%(ex1)s, %(ey1)s, %(ex2)s, %(ey2)s, {}), {}, {}, true)").format(
        geom, sql.Literal(box.mvt_srid), sql.Literal(EXTENT), sql.Literal(BUFFER))


#: Degrees by which the "polygon inside the tile" test box is shrunk: the ``@`` operator compares float4 boxes
#: (rounded outward by up to 7.6e-6° for |lon| < 128°), so a polygon that passes lies inside the tile itself.
FLOAT_BOX_SLACK = 2e-5


def _polygon_mvt_geom(column: sql.Composable, box: TileBox) -> sql.Composable:
    """A polygon's tile geometry from :data:`LINEAR_ZOOM` (lon/lat mapped linearly): a polygon inside the tile
    needs no clipping — scaled to tile units, snapped to the unit grid, its exterior rings made positive in tile
    coordinates (MVT 2.1, y down) — the same points, in the same orientation, as ``ST_AsMVTGeom`` gives it, without
    its polygon clipper (Wagyu), which is most of a drawn tile's time; a polygon across the tile's edge goes
    through ``ST_AsMVTGeom`` (clipped to the tile and its buffer, made valid)."""
    return sql.SQL(
        "CASE WHEN {g} @ ST_MakeEnvelope(%(sx1)s, %(sy1)s, %(sx2)s, %(sy2)s, 4326) "
        "THEN ST_ForcePolygonCCW(ST_SnapToGrid(ST_Affine({g}, %(ax)s, 0, 0, %(ay)s, %(bx)s, %(by)s), 1)) "
        "ELSE {mvt} END").format(g=column, mvt=_mvt_geom(column, box))


def fast_polygons(c: Collection, z: int, box: TileBox) -> bool:
    """Whether ``c``'s tiles at ``z`` take :func:`_polygon_mvt_geom` (polygon layers, lon/lat mapped linearly)."""
    return box.mvt_srid == 4326 and z >= LINEAR_ZOOM and "polygon" in c.geometry_type.lower()


def _params(box: TileBox) -> dict:
    env = box.mvt_env
    sx, sy = EXTENT / (env[2] - env[0]), EXTENT / (env[3] - env[1])
    inner, slack = box.inner84, FLOAT_BOX_SLACK
    return {"ex1": env[0], "ey1": env[1], "ex2": env[2], "ey2": env[3], "la": box.label_area,
            "ax": sx, "ay": -sy, "bx": -env[0] * sx, "by": env[3] * sy,
            "sx1": inner[0] + slack, "sy1": inner[1] + slack, "sx2": inner[2] - slack, "sy2": inner[3] - slack,
            "wx1": box.crs84[0], "wy1": box.crs84[1], "wx2": box.crs84[2], "wy2": box.crs84[3],
            "vx1": box.vn2000[0], "vy1": box.vn2000[1], "vx2": box.vn2000[2], "vy2": box.vn2000[3],
            "ix1": box.inner84[0], "iy1": box.inner84[1], "ix2": box.inner84[2], "iy2": box.inner84[3]}


def _select_property(c: Collection, name: str) -> tuple[sql.Composable, str]:
    field = c.field_map[name]
    col = sql.SQL("t.{}").format(sql.Identifier(name))
    if field.type == "text[]":
        return sql.SQL("array_to_string({}, '+')").format(col), name
    if field.type in ("date", "datetime"):
        return sql.SQL("{}::text").format(col), name
    if field.type == "number":
        return sql.SQL("{}::float8").format(col), name
    return col, name


#: Label points of polygons (one per feature, in the tile that holds its point on surface — polygons cut at tile
#: edges would otherwise be labelled once per tile): collection -> (first zoom, label expression on ``r`` — the
#: tile's row of the feature: its tile properties, as sent —, the column of the feature's area in m² — its label is
#: sent where it fits, :data:`LABEL_FIT_PX` — or None). The text is made only for the features whose label is sent.
LABEL_RULES: dict[str, tuple[int, str, str | None]] = {
    "parcels": (17, "r.sheet_number || '/' || r.parcel_number", "computed_area"),
    "map-sheets": (12, "'Tờ ' || r.sheet_number", None),
    "admin-units": (9, "r.name", None),
}


def label_layer(cid: str) -> str:
    return f"{cid}-labels"


#: A parcel's land-use group (nhóm đất: NNP, PNN, CSD) by its first code, in one hashed pass over the code list
#: (a code of both lists, 2018 and 2024, has one group).
_LAND_USE_GROUP = sql.SQL(" LEFT JOIN (SELECT code, min(group_code) AS grp FROM landdb.land_use_code GROUP BY code) u "
                          "ON u.code = t.land_use_codes[1]")


def features_sql(c: Collection, z: int, box: TileBox) -> sql.Composable:
    """The MVT layer ``c.id`` of one tile — current features whose envelope meets the buffered tile — followed by
    its ``{id}-labels`` point layer where the collection has labels at zoom ``z``: one index scan for both."""
    cols = [_select_property(c, n) for n in tile_properties(c)]
    if c.tile_summaries:
        cols += [(sql.SQL("t.land_use_codes[1]"), "land_use"),
                 (sql.SQL("coalesce(u.grp, '?')"), "land_use_group")]
    labelled = c.id in LABEL_RULES and z >= LABEL_RULES[c.id][0]
    extra = []  # columns of the label layer only (the label text is not repeated on the polygons)
    if labelled and LABEL_RULES[c.id][2]:
        extra.append((sql.SQL("t.{}").format(sql.Identifier(LABEL_RULES[c.id][2])), "label_area"))
    wgs84 = sql.SQL("t.{}").format(sql.Identifier(c.wgs84_column))
    if c.vn2000_column:  # the index: on the canonical geometry, through the tile's VN-2000 cover
        # No second test on the WGS 84 copy: the cover holds the buffered tile, and a row it lets through that
        # misses the buffered tile gives no feature anyway (ST_AsMVTGeom clips it to NULL, the label test is its
        # own) — the same tile, without a filter per row (nor, where the copy is indexed too, a second index scan).
        conds = [sql.SQL("t.{} && ST_MakeEnvelope(%(vx1)s, %(vy1)s, %(vx2)s, %(vy2)s, 4756)").format(
            sql.Identifier(c.vn2000_column))]
    else:
        conds = [sql.SQL("{} && ST_MakeEnvelope(%(wx1)s, %(wy1)s, %(wx2)s, %(wy2)s, 4326)").format(wgs84)]
    if c.lifespan:
        end = sql.Identifier(c.lifespan[1])
        conds.append(sql.SQL("(t.{} IS NULL OR t.{} > now())").format(end, end))
    rows = sql.SQL("SELECT {fid} AS id, {cols}{sep}{wgs84} AS g FROM {tbl} t{join} WHERE {conds}").format(
        fid=c.feature_id("t"),
        cols=sql.SQL(", ").join(sql.SQL("{} AS {}").format(e, sql.Identifier(n)) for e, n in cols + extra),
        sep=sql.SQL(", ") if cols + extra else sql.SQL(""), wgs84=wgs84, tbl=sql.Identifier(c.schema, c.table),
        join=_LAND_USE_GROUP if c.tile_summaries else sql.SQL(""), conds=sql.SQL(" AND ").join(conds))
    names = sql.SQL("").join(sql.SQL(", r.{}").format(sql.Identifier(n)) for _e, n in cols)
    feats = sql.SQL("SELECT ST_AsMVT(m, {layer}, {ext}, 'geom', 'id') FROM (SELECT r.id{names}, {geom} AS geom "
                    "FROM r OFFSET 0) m WHERE m.geom IS NOT NULL AND NOT ST_IsEmpty(m.geom)").format(
        layer=sql.Literal(c.id), ext=sql.Literal(EXTENT), names=names,
        geom=(_polygon_mvt_geom if fast_polygons(c, z, box) else _mvt_geom)(sql.SQL("r.g"), box))
    if not labelled:
        return sql.SQL("WITH r AS MATERIALIZED ({}) {}").format(rows, feats)
    labels = sql.SQL(
        "SELECT ST_AsMVT(l, {layer}, {ext}, 'geom', 'id') FROM (SELECT p.id, p.label, {geom} AS geom FROM "
        "(SELECT r.id, {label} AS label, ST_PointOnSurface(r.g) AS pt FROM r "
        " WHERE {fits}r.g && ST_MakeEnvelope(%(ix1)s, %(iy1)s, %(ix2)s, %(iy2)s, 4326)) p "
        "WHERE p.pt && ST_MakeEnvelope(%(ix1)s, %(iy1)s, %(ix2)s, %(iy2)s, 4326) OFFSET 0) l "
        "WHERE l.geom IS NOT NULL").format(
        layer=sql.Literal(label_layer(c.id)), ext=sql.Literal(EXTENT), geom=_mvt_geom(sql.SQL("p.pt"), box),
        label=sql.SQL(LABEL_RULES[c.id][1]),
        fits=sql.SQL("r.label_area >= %(la)s AND ") if LABEL_RULES[c.id][2] else sql.SQL(""))
    return sql.SQL("WITH r AS MATERIALIZED ({}) SELECT coalesce(({}), ''::bytea) || coalesce(({}), ''::bytea)").format(
        rows, feats, labels)


_GROUP_AREAS = sql.SQL(
    "round(coalesce((s.area_by_group->>'NNP')::numeric, 0) / 10000, 1)::float8 AS nnp_ha, "
    "round(coalesce((s.area_by_group->>'PNN')::numeric, 0) / 10000, 1)::float8 AS pnn_ha, "
    "round(coalesce((s.area_by_group->>'CSD')::numeric, 0) / 10000, 1)::float8 AS csd_ha")


def summary_sql(z: int, box: TileBox) -> sql.Composable:
    """The ``parcel-summary`` layer: one point per commune (zoom ≥ 8) or per province, from the summary table."""
    if z >= COMMUNE_SUMMARY_ZOOM:
        inner = sql.SQL(
            "SELECT 'commune' AS level, s.commune_code AS code, s.province_code, s.parcels, "
            "round(s.area_m2 / 10000, 1)::float8 AS area_ha, s.main_group, {areas}, {geom} AS geom "
            "FROM meta.tile_commune_summary s "
            "WHERE s.label_point && ST_MakeEnvelope(%(wx1)s, %(wy1)s, %(wx2)s, %(wy2)s, 4326)").format(
            areas=_GROUP_AREAS, geom=_mvt_geom(sql.SQL("s.label_point"), box))
    else:
        inner = sql.SQL(
            "WITH p AS (SELECT DISTINCT province_code FROM meta.tile_commune_summary "
            "           WHERE extent && ST_MakeEnvelope(%(wx1)s, %(wy1)s, %(wx2)s, %(wy2)s, 4326)), "
            "g AS (SELECT s.province_code, k AS grp, sum(v::numeric) AS area "
            "      FROM meta.tile_commune_summary s, jsonb_each_text(s.area_by_group) AS e(k, v) "
            "      WHERE s.province_code IN (SELECT province_code FROM p) GROUP BY 1, 2), "
            "a AS (SELECT s.province_code, sum(s.parcels) AS parcels, sum(s.area_m2) AS area_m2, "
            "             ST_Centroid(ST_Extent(s.extent)::geometry) AS pt "
            "      FROM meta.tile_commune_summary s WHERE s.province_code IN (SELECT province_code FROM p) GROUP BY 1) "
            "SELECT 'province' AS level, a.province_code AS code, a.province_code, a.parcels::bigint AS parcels, "
            "round(a.area_m2 / 10000, 1)::float8 AS area_ha, "
            "(SELECT g.grp FROM g WHERE g.province_code = a.province_code ORDER BY g.area DESC LIMIT 1) AS main_group, "
            "{areas}, {geom} AS geom FROM a, LATERAL (SELECT jsonb_object_agg(g.grp, g.area) AS area_by_group "
            "FROM g WHERE g.province_code = a.province_code) s").format(
            areas=_GROUP_AREAS, geom=_mvt_geom(sql.SQL("ST_SetSRID(a.pt, 4326)"), box))
    return sql.SQL("WITH m AS MATERIALIZED ({}) SELECT ST_AsMVT(m, {}, {}, 'geom') FROM m "
                   "WHERE m.geom IS NOT NULL").format(inner, sql.Literal(SUMMARY_LAYER), sql.Literal(EXTENT))


def draws_at(c: Collection, z: int) -> bool:
    """Whether tiles of ``c`` at zoom ``z`` have any content (layer rules only: no SQL)."""
    return z >= min_zoom(c)


def tile_sql(c: Collection, z: int, box: TileBox) -> sql.Composable | None:
    """The query of ``c``'s tile at zoom ``z`` (None: nothing is drawn at that zoom)."""
    if c.tile_summaries and z < PARCEL_MIN_ZOOM:
        return summary_sql(z, box)
    if not draws_at(c, z):
        return None
    return features_sql(c, z, box)


#: Server settings of the tile server's connections (their own pool, landgeo.api.pool.get_pool): each tile query
#: shape is planned once per connection and its generic plan kept — the tile's numbers are parameters, and planning
#: the scan of every partition costs more than running it (the generic plan keeps the index: bench_tiles measures it).
#: On the connection rather than ``SET LOCAL`` in a transaction: a tile is one round trip to the database.
CONNECTION_OPTIONS = "-c plan_cache_mode=force_generic_plan"


_QUERIES: dict[tuple[str, int, int, int, bool], bytes] = {}  # composed once per collection, zoom, matrix set CRS


def _query(conn: psycopg.Connection, c: Collection, z: int, box: TileBox, with_change_id: bool) -> bytes:
    """The tile query's text (b"": nothing is drawn at that zoom); it depends on the tile only through its zoom and
    the matrix set's CRS, the tile's numbers being parameters."""
    key = (c.id, z, box.srid, box.mvt_srid, with_change_id)
    text = _QUERIES.get(key)
    if text is None:
        query = tile_sql(c, z, box)
        if query is not None and with_change_id:
            query = sql.SQL("SELECT ({}), (SELECT coalesce(max(id), 0) FROM meta.tile_change)").format(query)
        text = _QUERIES[key] = b"" if query is None else query.as_bytes(conn)
    return text


def render(conn: psycopg.Connection, c: Collection, z: int, box: TileBox, with_change_id: bool = False
           ) -> tuple[bytes, int | None]:
    """The tile's bytes (empty when nothing is drawn there) and, with ``with_change_id``, the id of the newest
    ``meta.tile_change`` row read in the same statement (the same snapshot as the tile). One statement, prepared
    (a connection with :data:`CONNECTION_OPTIONS` keeps its generic plan)."""
    query = _query(conn, c, z, box, with_change_id)
    if not query:
        return b"", None
    # binary results: the tile's bytes as they are, not hex-encoded by the server and decoded here (twice the size)
    row = conn.execute(query, _params(box), prepare=True, binary=True).fetchone()
    tile = bytes(row[0]) if row and row[0] is not None else b""
    return tile, (row[1] if with_change_id else None)


def explain(conn: psycopg.Connection, c: Collection, z: int, box: TileBox) -> str:
    """EXPLAIN of a tile's query as the tile server runs it: prepared, with the generic plan its connections keep
    (planned without the tile's numbers), so tests and the bench see the plan every tile of that shape uses."""
    query = _query(conn, c, z, box, False)
    if not query:
        return ""
    params = _params(box)
    names = list(params)
    text = re.sub(rb"%\((\w+)\)s", lambda m: b"$%d" % (names.index(m.group(1).decode()) + 1), query)
    conn.execute(b"PREPARE landgeo_tile_explain (" + b", ".join([b"float8"] * len(names)) + b") AS " + text)
    try:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        rows = conn.execute(sql.SQL("EXPLAIN EXECUTE landgeo_tile_explain ({})").format(
            sql.SQL(", ").join(sql.Literal(float(v)) for v in params.values()))).fetchall()
    finally:
        conn.execute("RESET plan_cache_mode")
        conn.execute("DEALLOCATE landgeo_tile_explain")
    return "\n".join(r[0] for r in rows)
