"""CQL2 (text and JSON) to SQL with bound parameters only (biên dịch bộ lọc CQL2 sang SQL).

pygeofilter parses; this module walks its AST and writes SQL where every identifier comes from the collection's
published fields (quoted by ``psycopg.sql.Identifier``) and every value is a bound parameter. Anything else in a
filter — an unknown property, an unsupported operator, a value of the wrong type — is a :class:`FilterError`,
which the API answers with 400.

Supported (and declared in /conformance): basic CQL2, advanced comparison (LIKE, BETWEEN, IN), case-insensitive
comparison (CASEI), spatial functions (S_INTERSECTS, S_DISJOINT, S_CONTAINS, S_WITHIN, S_TOUCHES, S_CROSSES,
S_OVERLAPS, S_EQUALS) on any geometry type, BBOX, array functions (A_CONTAINS, A_CONTAINEDBY, A_OVERLAPS,
A_EQUALS), property-property comparisons and arithmetic. Geometry literals are in ``filter-crs``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from psycopg import sql
from pygeofilter import ast, values

from landgeo.api.collections import SQL_TYPES, Collection
from landgeo.api.crs import ApiCrs
from landgeo.crs.srids import VN2000_GEOGRAPHIC


class FilterError(ValueError):
    """A filter the API cannot run: the client's mistake (400)."""


GEOMETRY_NAMES = ("geometry", "geom")

_COMPARISON = {
    ast.Equal: "=", ast.NotEqual: "<>", ast.LessThan: "<", ast.LessEqual: "<=",
    ast.GreaterThan: ">", ast.GreaterEqual: ">=",
}
_SPATIAL = {
    ast.GeometryIntersects: "ST_Intersects", ast.GeometryDisjoint: "ST_Disjoint",
    ast.GeometryContains: "ST_Contains", ast.GeometryWithin: "ST_Within", ast.GeometryTouches: "ST_Touches",
    ast.GeometryCrosses: "ST_Crosses", ast.GeometryOverlaps: "ST_Overlaps", ast.GeometryEquals: "ST_Equals",
}
_ARRAY = {ast.ArrayContains: "@>", ast.ArrayContainedBy: "<@", ast.ArrayOverlaps: "&&", ast.ArrayEquals: "="}
_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mul: "*", ast.Div: "/"}
_TEMPORAL = {ast.TimeBefore: "<", ast.TimeAfter: ">", ast.TimeEquals: "="}


@dataclass
class Compiled:
    """A SQL condition and its parameters, in order."""

    condition: sql.Composable
    params: list = field(default_factory=list)


def geometry_literal(geojson: dict | str, crs: ApiCrs, collection: Collection, params: list) -> tuple[sql.Composable,
                                                                                                       sql.Composable]:
    """(geometry column, literal expression) to compare a client geometry given in ``crs`` with the collection.

    Collections with a canonical VN-2000 geometry compare there (its GiST index is the one spatial index):
    VN-2000 literals (4756, TM-3) by projection only, WGS 84-family literals (CRS84, 4326, 3857) through the
    official datum operation (``meta.wgs84_to_vn2000``), once per query. Collections stored in WGS 84 compare
    with WGS 84 literals directly and get VN-2000 literals through ``meta.vn2000_to_wgs84``.
    """
    if not collection.has_geometry:
        raise FilterError(f"{collection.id} has no geometry: spatial operations do not apply to it")
    params.append(geojson if isinstance(geojson, str) else json.dumps(geojson))
    lit = sql.SQL("ST_SetSRID(ST_GeomFromGeoJSON(%s), {})").format(sql.Literal(crs.srid))
    if crs.lat_first:
        lit = sql.SQL("ST_FlipCoordinates({})").format(lit)
    if crs.family == "wgs84":
        if crs.srid != 4326:
            lit = sql.SQL("ST_Transform({}, 4326)").format(lit)
        if collection.vn2000_column:
            return sql.Identifier(collection.vn2000_column), sql.SQL("meta.wgs84_to_vn2000({}, {})").format(
                lit, sql.Literal(VN2000_GEOGRAPHIC))
        return sql.Identifier(collection.wgs84_column), lit
    if crs.srid != VN2000_GEOGRAPHIC:
        lit = sql.SQL("ST_Transform({}, {})").format(lit, sql.Literal(VN2000_GEOGRAPHIC))
    if collection.vn2000_column:
        return sql.Identifier(collection.vn2000_column), lit
    return sql.Identifier(collection.wgs84_column), sql.SQL("meta.vn2000_to_wgs84({})").format(lit)


def envelope_geojson(minx: float, miny: float, maxx: float, maxy: float, densify: int = 8) -> dict:
    """A rectangle as a GeoJSON polygon with densified edges (so it stays a faithful shape once projected)."""
    ring = []
    for i in range(densify):
        ring.append([minx + (maxx - minx) * i / densify, miny])
    for i in range(densify):
        ring.append([maxx, miny + (maxy - miny) * i / densify])
    for i in range(densify):
        ring.append([maxx - (maxx - minx) * i / densify, maxy])
    for i in range(densify):
        ring.append([minx, maxy - (maxy - miny) * i / densify])
    ring.append([minx, miny])
    return {"type": "Polygon", "coordinates": [ring]}


class Compiler:
    """Compiles one pygeofilter AST for one collection."""

    def __init__(self, collection: Collection, filter_crs: ApiCrs, parse_crs) -> None:
        self.collection = collection
        self.filter_crs = filter_crs
        self.parse_crs = parse_crs  # callable(uri) -> ApiCrs, for BBOX(..., crs)
        self.params: list = []
        self.fields = collection.field_map

    def compile(self, node) -> Compiled:
        return Compiled(self._cond(node), self.params)

    # ---- conditions
    def _cond(self, node) -> sql.Composable:
        if isinstance(node, ast.And):
            return sql.SQL("({} AND {})").format(self._cond(node.lhs), self._cond(node.rhs))
        if isinstance(node, ast.Or):
            return sql.SQL("({} OR {})").format(self._cond(node.lhs), self._cond(node.rhs))
        if isinstance(node, ast.Not):
            return sql.SQL("(NOT {})").format(self._cond(node.sub_node))
        if isinstance(node, ast.Include):
            return sql.SQL("FALSE" if node.not_ else "TRUE")
        if isinstance(node, bool):
            return sql.SQL("TRUE" if node else "FALSE")
        if isinstance(node, ast.Attribute) and self._type_of(node) is None and node.name.lower() in ("true", "false"):
            return sql.SQL(node.name.upper())
        if type(node) in _COMPARISON:
            lhs, rhs = self._typed_pair(node.lhs, node.rhs)
            return sql.SQL("({} {} {})").format(lhs, sql.SQL(_COMPARISON[type(node)]), rhs)
        if isinstance(node, ast.Between):
            hint = self._type_of(node.lhs)
            expr = sql.SQL("({} {}BETWEEN {} AND {})").format(
                self._expr(node.lhs), sql.SQL("NOT " if node.not_ else ""),
                self._expr(node.low, hint), self._expr(node.high, hint))
            return expr
        if isinstance(node, ast.Like):
            if not isinstance(node.pattern, str | ast.Function):
                raise FilterError("LIKE needs a text pattern")
            op = "ILIKE" if node.nocase else "LIKE"
            return sql.SQL("({}::text {}{} {})").format(
                self._expr(node.lhs), sql.SQL("NOT " if node.not_ else ""), sql.SQL(op),
                self._expr(node.pattern, "text"))
        if isinstance(node, ast.In):
            hint = self._type_of(node.lhs)
            items = sql.SQL(", ").join(self._expr(v, hint) for v in node.sub_nodes)
            return sql.SQL("({} {}IN ({}))").format(self._expr(node.lhs), sql.SQL("NOT " if node.not_ else ""), items)
        if isinstance(node, ast.IsNull):
            return sql.SQL("({} IS {}NULL)").format(self._expr(node.lhs), sql.SQL("NOT " if node.not_ else ""))
        if type(node) in _SPATIAL:
            column, literal = self._spatial_args(node.lhs, node.rhs)
            return sql.SQL("{}({}, {})").format(sql.SQL(_SPATIAL[type(node)]), column, literal)
        if isinstance(node, ast.BBox):
            self._geometry_attribute(node.lhs)
            crs = self.parse_crs(node.crs) if node.crs else self.filter_crs
            # values are in the CRS's axis order; geometry_literal flips lat-first CRSs back to x/y
            env = envelope_geojson(node.minx, node.miny, node.maxx, node.maxy)
            column, literal = geometry_literal(env, crs, self.collection, self.params)
            return sql.SQL("ST_Intersects({}, {})").format(column, literal)
        if type(node) in _ARRAY:
            lhs = self._array(node.lhs)
            rhs = self._array(node.rhs)
            return sql.SQL("({} {} {})").format(lhs, sql.SQL(_ARRAY[type(node)]), rhs)
        if type(node) in _TEMPORAL:
            lhs, rhs = self._typed_pair(node.lhs, node.rhs)
            return sql.SQL("({} {} {})").format(lhs, sql.SQL(_TEMPORAL[type(node)]), rhs)
        if isinstance(node, ast.TimeDisjoint):
            lhs, rhs = self._typed_pair(node.lhs, node.rhs)
            return sql.SQL("({} <> {})").format(lhs, rhs)
        raise FilterError(f"unsupported filter operation: {type(node).__name__}")

    # ---- expressions
    def _type_of(self, node) -> str | None:
        if isinstance(node, ast.Attribute):
            if node.name in self.fields:
                return self.fields[node.name].type
            if node.name == "id":
                return "integer"
        if isinstance(node, ast.Function) and node.name.lower() == "lower":
            return "text"
        return None

    def _typed_pair(self, lhs, rhs) -> tuple[sql.Composable, sql.Composable]:
        left_type, right_type = self._type_of(lhs), self._type_of(rhs)
        return self._expr(lhs, right_type), self._expr(rhs, left_type)

    def _attribute(self, name: str) -> sql.Composable:
        if name == "id":  # the feature id a listing shows (coalesce(feature_id, id) where versions are rows)
            return self.collection.feature_id()
        if name in self.fields:
            return self.collection.column(name)
        if name.lower() in GEOMETRY_NAMES:
            raise FilterError(f"the geometry can only be used in spatial operations, not as {name!r}")
        raise FilterError(f"unknown property {name!r}; see /collections/{self.collection.id}/queryables")

    def _param(self, value, type_hint: str | None) -> sql.Composable:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)
            self.params.append(value)
            return sql.SQL("%s::timestamptz")
        if isinstance(value, dt.date):
            self.params.append(value)
            return sql.SQL("%s::date")
        if isinstance(value, bool):
            self.params.append(value)
            return sql.SQL("%s::boolean")
        if isinstance(value, int | float):
            if type_hint in ("text", "text[]"):
                raise FilterError(f"a number ({value}) is compared with a text property")
            self.params.append(value)
            return sql.SQL("%s::numeric") if isinstance(value, float) else sql.SQL("%s::bigint")
        if isinstance(value, str):
            self.params.append(value)
            cast = SQL_TYPES.get(type_hint or "text", "text")
            if cast in ("text[]", "jsonb"):
                cast = "text"
            return sql.SQL("%s::{}").format(sql.SQL(cast))
        if isinstance(value, list | tuple):
            raise FilterError("a list is only allowed in IN (...) or array functions")
        raise FilterError(f"unsupported value {value!r}")

    def _expr(self, node, type_hint: str | None = None) -> sql.Composable:
        if isinstance(node, ast.Attribute):
            return self._attribute(node.name)
        if type(node) in _ARITHMETIC:
            return sql.SQL("({} {} {})").format(
                self._expr(node.lhs, "number"), sql.SQL(_ARITHMETIC[type(node)]), self._expr(node.rhs, "number"))
        if isinstance(node, ast.Function):
            name = node.name.lower()
            if name in ("lower", "casei") and len(node.arguments) == 1:
                return sql.SQL("lower(({})::text)").format(self._expr(node.arguments[0], "text"))
            raise FilterError(f"unsupported function {node.name!r}")
        if isinstance(node, values.Geometry | values.Envelope):
            raise FilterError("a geometry literal can only be used in spatial operations")
        if isinstance(node, values.Interval):
            raise FilterError("an interval can only be compared with T_ functions on lifespans")
        return self._param(node, type_hint)

    def _array(self, node) -> sql.Composable:
        if isinstance(node, ast.Attribute):
            f = self.fields.get(node.name)
            if f is None or f.type != "text[]":
                raise FilterError(f"{node.name!r} is not an array property")
            return sql.Identifier(node.name)
        if isinstance(node, list | tuple):
            if not all(isinstance(v, str | int | float) for v in node):
                raise FilterError("array literals may only hold text or numbers")
            self.params.append([str(v) for v in node])
            return sql.SQL("%s::text[]")
        if isinstance(node, str):
            self.params.append([node])
            return sql.SQL("%s::text[]")
        raise FilterError("array functions compare an array property with an array literal")

    def _geometry_attribute(self, node) -> None:
        if not (isinstance(node, ast.Attribute) and node.name.lower() in GEOMETRY_NAMES):
            raise FilterError("spatial operations compare the geometry property with a geometry literal")

    def _spatial_args(self, lhs, rhs) -> tuple[sql.Composable, sql.Composable]:
        if isinstance(rhs, ast.Attribute) and not isinstance(lhs, ast.Attribute):
            lhs, rhs = rhs, lhs
        self._geometry_attribute(lhs)
        if isinstance(rhs, values.Envelope):
            env = envelope_geojson(rhs.x1, rhs.y1, rhs.x2, rhs.y2)
            return geometry_literal(env, self.filter_crs, self.collection, self.params)
        if isinstance(rhs, ast.Function) and rhs.name.lower() == "bbox" and len(rhs.arguments) in (4, 6):
            args = rhs.arguments
            if not all(isinstance(a, int | float) and not isinstance(a, bool) for a in args):
                raise FilterError("BBOX(...) takes numbers")
            x1, y1, x2, y2 = (args[0], args[1], args[2], args[3]) if len(args) == 4 else (args[0], args[1],
                                                                                            args[3], args[4])
            return geometry_literal(envelope_geojson(x1, y1, x2, y2), self.filter_crs, self.collection, self.params)
        if isinstance(rhs, values.Geometry):
            return geometry_literal(_plain(rhs.geometry), self.filter_crs, self.collection, self.params)
        raise FilterError("spatial operations need a geometry literal (WKT or GeoJSON)")


def _plain(geometry: dict) -> dict:
    """pygeofilter gives tuples; GeoJSON wants lists (and no 'crs' member)."""

    def fix(value):
        if isinstance(value, tuple | list):
            return [fix(v) for v in value]
        return value

    out = {"type": geometry["type"]}
    if "coordinates" in geometry:
        out["coordinates"] = fix(geometry["coordinates"])
    if "geometries" in geometry:
        out["geometries"] = [_plain(g) for g in geometry["geometries"]]
    return out


def parse_filter(text: str, lang: str | None):
    """Parse a CQL2 filter (``cql2-text`` default, or ``cql2-json``) into a pygeofilter AST; FilterError if bad."""
    from pygeofilter.parsers.cql2_json import parse as parse_json
    from pygeofilter.parsers.cql2_text import parse as parse_text

    lang = (lang or "cql2-text").lower()
    if lang not in ("cql2-text", "cql2-json"):
        raise FilterError(f"filter-lang {lang!r} is not supported; use cql2-text or cql2-json")
    try:
        if lang == "cql2-json":
            return parse_json(text)
        return parse_text(text)
    except Exception as exc:  # pygeofilter raises lark / json / value errors of many kinds
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FilterError(f"bad {lang} filter: {first}") from exc
