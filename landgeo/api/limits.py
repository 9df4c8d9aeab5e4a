"""What one request may ask of the server (giới hạn của một yêu cầu): each limit refused with a 400 naming it.

- ``limit`` above :data:`MAX_LIMIT` is *clamped* to it, not refused: OGC API – Features Part 1 (7.15.3, parameter
  ``limit``) says a value above the advertised maximum shall not be an error and the server uses the maximum.
  ``limit`` below 1 or not an integer is a 400.
- ``offset`` above :data:`MAX_OFFSET` is a 400 (a deeper position is reached through the ``next`` links).
- The query string (everything after ``?``) is at most :data:`MAX_QUERY_STRING` bytes; longer filters go in the
  body of a POST (CQL2-JSON). gunicorn's request-line limit is raised to its maximum, :data:`MAX_REQUEST_LINE`, so
  the 400 is ours (in OGC form) up to there; a longer request line is gunicorn's own 414 (URI Too Long).
- A filter (``filter`` parameter or POST body) is at most :data:`MAX_FILTER_BYTES` bytes, its syntax tree at most
  :data:`MAX_FILTER_NODES` nodes, and its geometry literals at most :data:`MAX_FILTER_VERTICES` vertices in all.
- ``bbox``: finite numbers, lower bounds not above upper bounds, degrees within ±180 / ±90 in geographic CRSs,
  metres within ±:data:`MAX_PROJECTED` in projected ones.

So the largest page is :data:`MAX_LIMIT` features, built by a statement the server's ``statement_timeout`` ends.
"""

from __future__ import annotations

import math

from pygeofilter import ast, values

MAX_LIMIT = 10_000
MAX_REQUEST_LINE = 8_190  # gunicorn's largest --limit-request-line
DEFAULT_LIMIT = 10
MAX_OFFSET = 100_000_000
MAX_QUERY_STRING = 8_000
MAX_FILTER_BYTES = 65_536
MAX_FILTER_NODES = 2_000
MAX_FILTER_VERTICES = 10_000
MAX_PROJECTED = 1.0e8


class LimitError(ValueError):
    """A request beyond one of the limits above (the message names the limit)."""


def check_query_string(raw: str) -> None:
    size = len(raw.encode("utf-8", "surrogateescape"))
    if size > MAX_QUERY_STRING:
        raise LimitError(f"query string is {size} bytes; the limit is {MAX_QUERY_STRING} bytes "
                         "(POST a CQL2-JSON body for long filters)")


def check_filter_text(text: str | bytes) -> None:
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogateescape"))
    if size > MAX_FILTER_BYTES:
        raise LimitError(f"filter is {size} bytes; the limit is {MAX_FILTER_BYTES} bytes")


def _count_vertices(coordinates) -> int:
    if isinstance(coordinates, list | tuple):
        if coordinates and isinstance(coordinates[0], int | float):
            return 1
        return sum(_count_vertices(c) for c in coordinates)
    return 0


def _geometry_vertices(geometry: dict) -> int:
    if "geometries" in geometry:
        return sum(_geometry_vertices(g) for g in geometry["geometries"])
    return _count_vertices(geometry.get("coordinates", ()))


def check_filter_tree(tree) -> None:
    """Size of a parsed CQL2 filter: nodes of its tree and vertices of its geometry literals (iterative walk)."""
    nodes = vertices = 0
    stack = [tree]
    while stack:
        node = stack.pop()
        nodes += 1
        if nodes > MAX_FILTER_NODES:
            raise LimitError(f"filter has more than {MAX_FILTER_NODES} terms; the limit is {MAX_FILTER_NODES}")
        if isinstance(node, values.Geometry):
            vertices += _geometry_vertices(node.geometry)
            if vertices > MAX_FILTER_VERTICES:
                raise LimitError(f"geometry literals of the filter have {vertices} vertices or more; the limit is "
                                 f"{MAX_FILTER_VERTICES} vertices (simplify the geometry)")
        elif isinstance(node, ast.Node):
            stack.extend(node.get_sub_nodes())
        elif isinstance(node, list | tuple):
            stack.extend(node)


def check_bbox(values_: tuple[float, ...], geographic: bool, lat_first: bool) -> None:
    """``bbox`` sanity: finite, ordered, within the CRS's range (values in the CRS's axis order)."""
    if any(not math.isfinite(v) for v in values_):
        raise LimitError("bbox numbers must be finite")
    x1, y1, x2, y2 = values_
    if x1 > x2 or y1 > y2:
        raise LimitError("bbox lower bounds must not be above its upper bounds (minx,miny,maxx,maxy)")
    if geographic:
        lon1, lat1, lon2, lat2 = (y1, x1, y2, x2) if lat_first else (x1, y1, x2, y2)
        if lon1 < -180 or lon2 > 180 or lat1 < -90 or lat2 > 90:
            raise LimitError("bbox in degrees must lie within longitude -180..180 and latitude -90..90 "
                             "(axis order of bbox-crs: EPSG:4326 and EPSG:4756 are latitude first)")
    elif any(abs(v) > MAX_PROJECTED for v in values_):
        raise LimitError(f"bbox in metres must lie within ±{MAX_PROJECTED:.0e} m")
