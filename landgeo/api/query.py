"""Items queries in SQL: parameters -> one SELECT that writes GeoJSON, keyset pages, counting rule.

- **GeoJSON in SQL**: each row comes back as the text of a GeoJSON Feature (``ST_AsGeoJSON`` + ``json_build_object``);
  Python only joins the rows, it never builds or re-serialises features.
- **Keyset paging** (phân trang theo khóa): pages are ordered by the sort keys then ``id``; the ``next`` link
  carries an opaque cursor holding the last row's keys, and the next page starts with ``WHERE (keys) > (cursor)``,
  an index range scan whatever the depth. ``offset`` is accepted for clients that send it.
- **numberMatched rule**: computed once, on the first page (no cursor), then carried in the cursor. The whole
  collection is not counted when pg_class says it holds more than :data:`ESTIMATE_CEILING` rows; otherwise (and
  for every filtered request) a count bounded to :data:`EXACT_COUNT_LIMIT` + 1 rows runs: exact up to the bound,
  else omitted. When omitted, ``numberMatchedEstimate`` gives the estimate. A national table is never counted in
  full.
- **Time**: versioned collections show the current versions (``valid_to IS NULL``) by default; ``datetime=T``
  shows the versions alive at T (valid_from <= T < valid_to), an interval shows those alive at some time in it,
  ``datetime=../..`` shows every version (the full history).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np
import psycopg
from psycopg import sql

from landgeo.api.by_id import fetch_item, item_queries
from landgeo.api.collections import SQL_TYPES, Collection
from landgeo.api.cql2 import Compiler, FilterError, envelope_geojson, geometry_literal, parse_filter
from landgeo.api.crs import CRS84, ApiCrs, parse_crs

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000
EXACT_COUNT_LIMIT = 100_000
ESTIMATE_CEILING = 250_000

RESERVED = frozenset({
    "f", "limit", "offset", "cursor", "crs", "bbox", "bbox-crs", "datetime", "properties", "skipGeometry",
    "sortby", "filter", "filter-lang", "filter-crs", "resulttype", "lang",
})
SORTABLE_TYPES = frozenset({"text", "integer", "number", "date", "datetime"})


class ApiError(Exception):
    """A request the API refuses: HTTP status, OGC exception code, one-line description."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description

    def body(self) -> bytes:
        return json.dumps({"code": self.code, "type": self.code, "description": self.description}).encode()


def bad(description: str) -> ApiError:
    return ApiError(400, "InvalidParameterValue", description)


# ---------------------------------------------------------------- parsing

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_instant(text: str, end: bool = False) -> dt.datetime:
    """An RFC 3339 date-time (UTC if no offset) or a date (its first instant; with ``end``, the next day's)."""
    value = text.strip()
    try:
        if _DATE_RE.match(value):
            day = dt.date.fromisoformat(value)
            moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            return moment + dt.timedelta(days=1) if end else moment
        moment = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad(f"datetime {text!r} is not an RFC 3339 date or date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class TimeFilter:
    """``datetime``: an instant, or an interval with open ends (None)."""

    start: dt.datetime | None
    end: dt.datetime | None
    instant: bool


def parse_datetime(text: str) -> TimeFilter:
    if "/" in text:
        parts = text.split("/")
        if len(parts) != 2:
            raise bad(f"datetime {text!r}: an interval is start/end")
        start = None if parts[0] in ("", "..") else parse_instant(parts[0])
        end_is_day = _DATE_RE.match(parts[1].strip()) is not None
        end = None if parts[1] in ("", "..") else parse_instant(parts[1], end=end_is_day)
        if start and end and start > end:
            raise bad(f"datetime {text!r}: start is after end")
        return TimeFilter(start, end, False)
    if _DATE_RE.match(text.strip()):  # a day: the versions alive at some time that day
        return TimeFilter(parse_instant(text), parse_instant(text, end=True), False)
    return TimeFilter(parse_instant(text), None, True)


def _parse_bbox(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise bad(f"bbox {text!r}: four (or six) comma-separated numbers expected") from exc
    if len(values) == 6:
        values = (values[0], values[1], values[3], values[4])
    if len(values) != 4:
        raise bad(f"bbox {text!r}: four (or six) comma-separated numbers expected")
    if any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise bad(f"bbox {text!r}: numbers must be finite")
    if values[1] > values[3]:
        raise bad(f"bbox {text!r}: the lower bound of the second axis is above its upper bound")
    return values


def _bool(text: str, name: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise bad(f"{name} must be true or false, not {text!r}")


def _int(text: str, name: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise bad(f"{name} must be an integer, not {text!r}") from exc
    if value < minimum:
        raise bad(f"{name} must be at least {minimum}")
    return value


@dataclass
class ItemsQuery:
    """A parsed items request."""

    collection: Collection
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    crs: ApiCrs = field(default_factory=lambda: parse_crs(CRS84, [CRS84]))
    bbox: tuple[float, ...] | None = None
    bbox_crs: ApiCrs | None = None
    time: TimeFilter | None = None
    properties: list[tuple[str, str]] = field(default_factory=list)
    select: list[str] | None = None
    skip_geometry: bool = False
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (property, ascending)
    filter_ast: object | None = None
    filter_crs: ApiCrs | None = None
    cursor: dict | None = None
    hits: bool = False
    unavailable: tuple[str, ...] = ()  # provinces whose own database does not answer: left out (federation)

    @property
    def sort_signature(self) -> str:
        return ",".join(("+" if asc else "-") + name for name, asc in self.sortby)


def parse_items(collection: Collection, params: dict[str, str], body: bytes | None = None) -> ItemsQuery:
    """Validate every parameter of ``/collections/{id}/items`` (400 on the first bad one)."""
    fields = collection.field_map
    allowed = collection.crs_uris
    q = ItemsQuery(collection)
    for name in params:
        if name not in RESERVED and name not in fields:
            raise bad(f"unknown query parameter {name!r}; queryables are at /collections/{collection.id}/queryables")
    if "limit" in params:
        q.limit = min(_int(params["limit"], "limit", 1), MAX_LIMIT)
    if "offset" in params:
        q.offset = _int(params["offset"], "offset", 0)
    try:
        q.crs = parse_crs(params.get("crs") or CRS84, allowed)
        if "bbox" in params:
            q.bbox = _parse_bbox(params["bbox"])
            q.bbox_crs = parse_crs(params.get("bbox-crs") or CRS84, allowed)
        elif "bbox-crs" in params:
            raise bad("bbox-crs given without bbox")
        q.filter_crs = parse_crs(params.get("filter-crs") or CRS84, allowed)
    except ValueError as exc:
        raise bad(str(exc)) from exc
    if "datetime" in params:
        q.time = parse_datetime(params["datetime"])
    if params.get("resulttype"):
        if params["resulttype"] not in ("results", "hits"):
            raise bad("resulttype is results or hits")
        q.hits = params["resulttype"] == "hits"
    if "skipGeometry" in params:
        q.skip_geometry = _bool(params["skipGeometry"], "skipGeometry")
    if params.get("properties") is not None:
        names = [n.strip() for n in params["properties"].split(",") if n.strip()]
        unknown = [n for n in names if n not in fields]
        if unknown:
            raise bad(f"unknown properties: {', '.join(unknown)}")
        q.select = names
    if params.get("sortby"):
        for item in params["sortby"].split(","):
            item = item.strip()
            asc = not item.startswith("-")
            name = item.lstrip("+-").strip()
            if " " in name:  # "name DESC" form
                name, _, direction = name.partition(" ")
                asc = direction.strip().upper() != "DESC"
            if name == "id":
                if not asc:
                    raise bad("sortby -id is not offered: pages follow id upwards (the keyset order)")
                break  # ascending id is the order anyway, and the tie-break of every other key
            if name not in fields or fields[name].type not in SORTABLE_TYPES:
                raise bad(f"cannot sort by {name!r}")
            q.sortby.append((name, asc))
    for name, value in params.items():
        if name in fields and name not in RESERVED:
            q.properties.append((name, value))
    text = params.get("filter")
    lang = params.get("filter-lang")
    if text is None and body:
        text, lang = body.decode("utf-8", "replace"), lang or "cql2-json"
    if text is not None:
        try:
            q.filter_ast = parse_filter(text, lang)
        except FilterError as exc:
            raise bad(str(exc)) from exc
    elif lang is not None and lang.lower() not in ("cql2-text", "cql2-json"):
        raise bad(f"filter-lang {lang!r} is not supported; use cql2-text or cql2-json")
    if params.get("cursor"):
        q.cursor = decode_cursor(params["cursor"], q)
    return q


# ---------------------------------------------------------------- cursor

def encode_cursor(q: ItemsQuery, keys: list, number_matched: int | None) -> str:
    raw = json.dumps({"c": q.collection.id, "s": q.sort_signature, "k": keys, "n": number_matched},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, q: ItemsQuery) -> dict:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        keys = data["k"]
        ok = isinstance(data, dict) and isinstance(keys, list) and len(keys) == len(q.sortby) + 1
        ok = ok and isinstance(keys[-1], int) and all(k is None or isinstance(k, str) for k in keys[:-1])
    except (ValueError, KeyError, TypeError) as exc:
        raise bad("cursor is not a token this server issued (follow the next link as given)") from exc
    if not ok or data.get("c") != q.collection.id or data.get("s") != q.sort_signature:
        raise bad("cursor does not belong to this collection and sort order (follow the next link as given)")
    n = data.get("n")
    data["n"] = n if isinstance(n, int) else None
    return data


# ---------------------------------------------------------------- SQL

def geometry_sql(c: Collection, crs: ApiCrs) -> sql.Composable:
    """The geometry in the output CRS: WGS 84 family from the serving copy, VN-2000 by projection only."""
    w = sql.Identifier(c.wgs84_column)
    if crs.family == "wgs84":
        if crs.srid == 3857:
            return sql.SQL("ST_Transform({}, 3857)").format(w)
        return sql.SQL("ST_FlipCoordinates({})").format(w) if crs.lat_first else w
    if c.vn2000_column:
        v = sql.Identifier(c.vn2000_column)
        if crs.srid == 4756:
            return sql.SQL("ST_FlipCoordinates({})").format(v)
        return sql.SQL("ST_Transform({}, {})").format(v, sql.Literal(crs.srid))
    g = sql.SQL("meta.wgs84_to_vn2000({}, {})").format(w, sql.Literal(crs.srid))
    return sql.SQL("ST_FlipCoordinates({})").format(g) if crs.srid == 4756 else g


def feature_sql(c: Collection, crs: ApiCrs, select: list[str] | None, skip_geometry: bool) -> sql.Composable:
    """One row -> the text of its GeoJSON Feature."""
    names = select if select is not None else [f.name for f in c.fields]
    if names:
        pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(n), sql.Identifier(n)) for n in names)
        props = sql.SQL("json_build_object({})::text").format(pairs)
    else:
        props = sql.SQL("'{}'")
    if skip_geometry:
        geom = sql.SQL("'null'")
    else:
        geom = sql.SQL("COALESCE(ST_AsGeoJSON({}, {}, 0), 'null')").format(geometry_sql(c, crs),
                                                                          sql.Literal(crs.decimals))
    return sql.SQL(
        """'{{"type":"Feature","id":' || id || ',"geometry":' || {} || ',"properties":' || {} || '}}'"""
    ).format(geom, props)


def where_sql(q: ItemsQuery) -> tuple[list[sql.Composable], list]:
    """The conditions of the query (without the cursor) and their parameters."""
    c = q.collection
    conds: list[sql.Composable] = []
    params: list = []
    if q.unavailable:  # literals (checked two-digit codes) so that the planner prunes their partitions
        conds.append(sql.SQL("province_code NOT IN ({})").format(sql.SQL(", ").join(map(sql.Literal, q.unavailable))))
    # time
    if c.lifespan:
        begin, end = (sql.Identifier(n) for n in c.lifespan)
        if q.time is None:
            conds.append(sql.SQL("{} IS NULL").format(end))
        elif q.time.instant:
            conds.append(sql.SQL("{} <= %s AND ({} IS NULL OR {} > %s)").format(begin, end, end))
            params += [q.time.start, q.time.start]
        else:
            if q.time.end is not None:
                conds.append(sql.SQL("{} < %s").format(begin))
                params.append(q.time.end)
            if q.time.start is not None:
                conds.append(sql.SQL("({} IS NULL OR {} > %s)").format(end, end))
                params.append(q.time.start)
    elif c.instant and q.time is not None:
        col = sql.Identifier(c.instant)
        if q.time.instant:
            conds.append(sql.SQL("{} = %s").format(col))
            params.append(q.time.start)
        else:
            if q.time.start is not None:
                conds.append(sql.SQL("{} >= %s").format(col))
                params.append(q.time.start)
            if q.time.end is not None:
                conds.append(sql.SQL("{} < %s").format(col))
                params.append(q.time.end)
    # bbox
    if q.bbox is not None:
        conds.append(bbox_sql(q.bbox, q.bbox_crs, c, params))
    # property = value
    fields = c.field_map
    for name, value in q.properties:
        f = fields[name]
        ident = sql.Identifier(name)
        if f.type == "text[]":
            conds.append(sql.SQL("{} @> ARRAY[%s]::text[]").format(ident))
            params.append(value)
        elif f.type == "json":
            raise bad(f"{name} is a JSON property: filter it with CQL2")
        else:
            conds.append(sql.SQL("{} = %s::{}").format(ident, sql.SQL(SQL_TYPES[f.type])))
            params.append(value)
    # CQL2
    if q.filter_ast is not None:
        try:
            compiled = Compiler(c, q.filter_crs, lambda uri: _crs_or_400(uri, c)).compile(q.filter_ast)
        except FilterError as exc:
            raise bad(str(exc)) from exc
        conds.append(compiled.condition)
        params += compiled.params
    return conds, params


def bbox_sql(bbox: tuple[float, ...], crs: ApiCrs, c: Collection, params: list) -> sql.Composable:
    """``bbox`` (in ``crs`` axis order) intersects the feature.

    A WGS 84-family box (CRS84, 4326, 3857: an axis-aligned rectangle in longitude/latitude, or in Web Mercator) is
    tested against the WGS 84 serving copy; the spatial index is on the canonical VN-2000 ``geom``, so the box's
    cover in VN-2000 (its densified outline through the official operation, computed here once, 1 cm margin)
    selects the candidates. Both are plain envelopes: nothing is transformed per row, in custom or generic plans.
    A VN-2000 box (TM-3 metres, 4756) is densified, then projected, and compared with ``geom``.
    """
    if crs.family == "wgs84":
        x1, y1, x2, y2 = (bbox[1], bbox[0], bbox[3], bbox[2]) if crs.lat_first else bbox
        env = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {})").format(sql.Literal(crs.srid))
        if crs.srid != 4326:
            env = sql.SQL("ST_Transform({}, 4326)").format(env)
        exact = sql.SQL("ST_Intersects({}, {})").format(sql.Identifier(c.wgs84_column), env)
        if not c.vn2000_column:
            params += [x1, y1, x2, y2]
            return exact
        params += [*vn2000_cover(x1, y1, x2, y2, crs.srid), x1, y1, x2, y2]
        return sql.SQL("({} && ST_MakeEnvelope(%s, %s, %s, %s, 4756) AND {})").format(
            sql.Identifier(c.vn2000_column), exact)
    column, literal = geometry_literal(envelope_geojson(*bbox), crs, c, params)
    return sql.SQL("ST_Intersects({}, {})").format(column, literal)


def vn2000_cover(x1: float, y1: float, x2: float, y2: float, srid: int, margin: float = 1e-7) -> list[float]:
    """Envelope in VN-2000 geographic (4756) covering the box (x1, y1, x2, y2) of a WGS 84-family CRS: its
    outline densified (the box's edges bend once moved to another datum), through the official operation,
    widened by ``margin`` degrees (≈ 1 cm)."""
    from landgeo.crs import transform

    ring = np.array(envelope_geojson(x1, y1, x2, y2, densify=16)["coordinates"][0])
    x, y = transform(srid, 4756, ring[:, 0], ring[:, 1])
    return [float(np.nanmin(x)) - margin, float(np.nanmin(y)) - margin, float(np.nanmax(x)) + margin,
            float(np.nanmax(y)) + margin]


def _crs_or_400(uri: str, c: Collection) -> ApiCrs:
    try:
        return parse_crs(uri, c.crs_uris)
    except ValueError as exc:
        raise FilterError(str(exc)) from exc


def _sort_keys(q: ItemsQuery) -> list[tuple[sql.Composable, bool, str | None]]:
    keys = [(sql.Identifier(n), asc, SQL_TYPES[q.collection.field_map[n].type]) for n, asc in q.sortby]
    keys.append((sql.Identifier("id"), True, None))
    return keys


def _after_cursor(q: ItemsQuery, params: list) -> sql.Composable:
    """(keys) after the cursor's keys, with the NULL placement of ORDER BY (ASC NULLS LAST, DESC NULLS FIRST)."""
    keys = _sort_keys(q)
    values = q.cursor["k"]
    if len(keys) == 1:
        params.append(values[0])
        return sql.SQL("id > %s")
    ors = []
    for i, (col, asc, typ) in enumerate(keys):
        parts = []
        for (pcol, _pasc, ptyp), pval in zip(keys[:i], values[:i], strict=True):
            if pval is None:
                parts.append(sql.SQL("{} IS NULL").format(pcol))
            else:
                parts.append(sql.SQL("{} = %s::{}").format(pcol, sql.SQL(ptyp)))
                params.append(pval)
        val = values[i]
        if typ is None:  # id
            parts.append(sql.SQL("{} > %s").format(col))
            params.append(val)
        elif asc:
            if val is None:
                continue  # nothing sorts after NULL (NULLS LAST) on this key
            parts.append(sql.SQL("({} > %s::{} OR {} IS NULL)").format(col, sql.SQL(typ), col))
            params.append(val)
        else:
            if val is None:
                parts.append(sql.SQL("{} IS NOT NULL").format(col))
            else:
                parts.append(sql.SQL("{} < %s::{}").format(col, sql.SQL(typ)))
                params.append(val)
        ors.append(sql.SQL("(") + sql.SQL(" AND ").join(parts) + sql.SQL(")"))
    return sql.SQL("(") + sql.SQL(" OR ").join(ors) + sql.SQL(")")


def _table(c: Collection) -> sql.Composable:
    return sql.Identifier(c.schema, c.table)


def _where(conds: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" AND ").join(conds) if conds else sql.SQL("TRUE")


def page_sql(q: ItemsQuery, small_window: bool = False) -> tuple[sql.Composable, list, int]:
    """The page SELECT (limit + 1 rows, to know if there is a next page), its parameters, the key count.

    ``small_window``: the request is a bbox known to match few features; ``ORDER BY id + 0`` keeps the plan on the
    spatial index then a small sort, the right plan for it whatever the parameter values (see :func:`run_items`).
    """
    conds, params = where_sql(q)
    if q.cursor:
        conds.append(_after_cursor(q, params))
    keys = _sort_keys(q)
    if small_window:
        order = sql.SQL("id + 0 ASC")
    else:
        order = sql.SQL(", ").join(
            sql.SQL("{} {}").format(col, sql.SQL("ASC" if asc else "DESC")) for col, asc, _t in keys)
    key_cols = sql.SQL(", ").join(
        sql.SQL("{}::text").format(col) if typ else col for col, _a, typ in keys)
    query = sql.SQL("SELECT {}, {} FROM {} WHERE {} ORDER BY {} LIMIT {}{}").format(
        feature_sql(q.collection, q.crs, q.select, q.skip_geometry), key_cols, _table(q.collection),
        _where(conds), order, sql.Literal(q.limit + 1),
        sql.SQL(" OFFSET {}").format(sql.Literal(q.offset)) if q.offset else sql.SQL(""))
    return query, params, len(keys)


_TABLE_ESTIMATES: dict[tuple[str, str], tuple[float, int]] = {}
TABLE_ESTIMATE_TTL_S = 60.0


def table_estimate(conn: psycopg.Connection, c: Collection) -> int | None:
    """Rows of the table (all partitions) from pg_class, cached a minute per process."""
    key = (conn.info.dbname, f"{c.schema}.{c.table}")
    now = time.monotonic()
    hit = _TABLE_ESTIMATES.get(key)
    if hit and now - hit[0] < TABLE_ESTIMATE_TTL_S:
        return hit[1]
    rel = sql.Literal(f"{sql.Identifier(c.schema).as_string(conn)}.{sql.Identifier(c.table).as_string(conn)}")
    row = conn.execute(sql.SQL(
        "SELECT sum(GREATEST(reltuples, 0)), count(*) FROM pg_class "
        "WHERE relkind <> 'p' AND (oid = {0}::regclass "
        "OR oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = {0}::regclass))"
    ).format(rel)).fetchone()
    value = int(row[0]) if row[1] else None  # never-analysed partitions count 0: the bounded count then decides
    _TABLE_ESTIMATES[key] = (now, value)
    return value


def _unfiltered(q: ItemsQuery) -> bool:
    return q.bbox is None and not q.properties and q.filter_ast is None and q.time is None


def count_matched(conn: psycopg.Connection, q: ItemsQuery) -> tuple[int | None, int | None]:
    """(exact numberMatched or None, estimate or None) under the documented rule.

    The whole collection (current versions, no filter): the table's row count from pg_class decides; above
    :data:`ESTIMATE_CEILING` nothing is counted. Anything filtered (bbox, property, CQL2, datetime): a count
    bounded to :data:`EXACT_COUNT_LIMIT` + 1 rows runs — its cost is bounded by construction, and the statement is
    prepared, so it adds no planning to the request; only when it overflows does the planner give an estimate.
    """
    conds, params = where_sql(q)
    base = sql.SQL("SELECT 1 FROM {} WHERE {}").format(_table(q.collection), _where(conds))
    if _unfiltered(q):
        estimate = table_estimate(conn, q.collection)
        if estimate is not None and estimate > ESTIMATE_CEILING:
            return None, estimate
    bounded = sql.SQL("SELECT count(*) FROM ({} LIMIT {}) s").format(base, sql.Literal(EXACT_COUNT_LIMIT + 1))
    if _spatial_window(q):
        count = _fetch_generic(conn, bounded, params)[0][0]
    else:
        count = conn.execute(bounded, params, prepare=_plan_free(q)).fetchone()[0]
    if count <= EXACT_COUNT_LIMIT:
        return count, None
    plan = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + base, params, prepare=False).fetchone()[0]
    return None, max(int(plan[0]["Plan"]["Plan Rows"]), count)


@dataclass
class Page:
    features: list[str]
    next_cursor: str | None
    number_matched: int | None
    estimate: int | None


SMALL_WINDOW = 5_000


def _plan_free(q: ItemsQuery) -> bool:
    """True when the best plan does not depend much on the values (whole collection, keyset position, time,
    equality on scalar properties such as commune + sheet + parcel number): such statements are prepared and
    PostgreSQL may reuse a plan. Others (bbox, CQL2, land-use codes) are planned with their values every time —
    a generic plan chosen for a small bbox would sort a whole country for a large one."""
    if q.bbox is not None or q.filter_ast is not None:
        return False
    fields = q.collection.field_map
    return all(fields[name].type != "text[]" for name, _v in q.properties)


def _spatial_window(q: ItemsQuery) -> bool:
    """A map window: bbox (plus property equalities), default order — what QGIS asks for at every pan."""
    return q.bbox is not None and q.filter_ast is None and not q.sortby and not q.offset


def _fetch_generic(conn: psycopg.Connection, query: sql.Composable, params: list) -> list:
    """Run a prepared statement with its generic plan (no planning per request), the GUC local to a transaction.

    A partitioned national table costs milliseconds to plan per request; for a small map window the generic plan
    (spatial index, then sort) is the plan a custom one would choose, so it is reused.
    """
    with conn.pipeline(), conn.transaction():
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cur = conn.execute(query, params, prepare=True)
    return cur.fetchall()


def run_items(conn: psycopg.Connection, q: ItemsQuery) -> Page:
    """Run the page (and, on the first page, the count); client mistakes in values become 400.

    Small map windows (a bbox matching at most :data:`SMALL_WINDOW` features, known from the count of the first
    page or from the cursor) run with generic plans; everything else is planned with its values.
    """
    try:
        if q.cursor is not None:
            matched, estimate = q.cursor["n"], None
        else:
            matched, estimate = count_matched(conn, q)
        if q.hits:
            return Page([], None, matched, estimate)
        small = _spatial_window(q) and matched is not None and matched <= SMALL_WINDOW
        query, params, nkeys = page_sql(q, small_window=small)
        if small:
            rows = _fetch_generic(conn, query, params)
        else:
            rows = conn.execute(query, params, prepare=_plan_free(q)).fetchall()
    except (psycopg.errors.DataError, psycopg.errors.UndefinedFunction, psycopg.errors.DatatypeMismatch,
            psycopg.errors.InvalidParameterValue, psycopg.errors.IndeterminateDatatype,
            psycopg.errors.AmbiguousFunction) as exc:
        first = (exc.diag.message_primary or str(exc)).splitlines()[0]
        raise bad(f"a value in the request does not fit the property types: {first}") from exc
    except psycopg.errors.QueryCanceled as exc:  # statement_timeout: the request asks for too much at once
        raise bad("the request took too long for the database; narrow it (bbox, filter, smaller limit)") from exc
    except psycopg.errors.InternalError_ as exc:  # PostGIS reports bad client geometries this way
        first = (exc.diag.message_primary or str(exc)).splitlines()[0]
        raise bad(f"bad geometry in the request: {first}") from exc
    next_cursor = None
    if len(rows) > q.limit:
        rows = rows[: q.limit]
        last = rows[-1]
        next_cursor = encode_cursor(q, list(last[1: 1 + nkeys]), matched)
    return Page([r[0] for r in rows], next_cursor, matched, estimate)


# SQL text of the one-feature query per (collection, CRS): composing it costs more than running it.
_ITEM_SQL: dict[tuple[str, str], tuple[str | None, str]] = {}


def run_item(conn: psycopg.Connection, c: Collection, fid: str, crs: ApiCrs) -> str | None:
    """The GeoJSON text of one feature by id (any version: ids are version ids), or None. On a table partitioned
    by province, only the id's province is asked first (landgeo.api.by_id)."""
    if not fid.isdigit() or len(fid) > 18:
        return None
    key = (c.id, crs.uri)
    queries = _ITEM_SQL.get(key)
    if queries is None:
        queries = item_queries(conn, c.schema, c.table, feature_sql(c, crs, None, False))
        _ITEM_SQL[key] = queries
    return fetch_item(conn, queries, int(fid))


def next_href(base: str, params: dict[str, str], cursor: str) -> str:
    kept = [(k, v) for k, v in params.items() if k not in ("cursor", "offset")]
    kept.append(("cursor", cursor))
    return f"{base}?{urlencode(kept)}"
