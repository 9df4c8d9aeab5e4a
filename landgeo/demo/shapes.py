"""Geometry helpers of the demo generator: smooth random outlines, rotated cells, coverage repair (slivers,
gaps), subdivision of blocks into parcel strips, and joining road pieces into a network."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon

from landgeo.demo.dataset import GRID


def noise(rng: np.random.Generator, n_terms: int = 4):
    """A smooth random function of one variable (sum of sines), values roughly in [-1, 1]."""
    freqs = rng.uniform(0.5, 3.0, n_terms) * np.arange(1, n_terms + 1)
    phases = rng.uniform(0, 2 * math.pi, n_terms)
    amps = 1.0 / np.arange(1, n_terms + 1)
    amps = amps / amps.sum()

    def f(t):
        t = np.asarray(t, dtype=float)[..., None]
        return (amps * np.sin(freqs * t + phases)).sum(axis=-1)

    return f


def wavy_polygon(rng, center, radii, angle, wobble=0.18, n=72) -> Polygon:
    f = noise(rng)
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    r = 1 + wobble * f(t)
    x, y = radii[0] * r * np.cos(t), radii[1] * r * np.sin(t)
    ca, sa = math.cos(angle), math.sin(angle)
    return Polygon(np.column_stack([center[0] + ca * x - sa * y, center[1] + sa * x + ca * y]))


def rotated_cells(x_edges: np.ndarray, y_edges_per_col: list[np.ndarray], angle: float, origin) -> np.ndarray:
    """Cells of a local (rotated) grid: columns by ``x_edges``, each column cut by its own row edges."""
    coords = []
    for i in range(len(x_edges) - 1):
        x0, x1 = x_edges[i], x_edges[i + 1]
        ys = y_edges_per_col[i]
        for j in range(len(ys) - 1):
            y0, y1 = ys[j], ys[j + 1]
            coords.append([(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)])
    arr = np.asarray(coords, dtype=float)
    ca, sa = math.cos(angle), math.sin(angle)
    x, y = arr[..., 0], arr[..., 1]
    rot = np.stack([origin[0] + ca * x - sa * y, origin[1] + sa * x + ca * y], axis=-1)
    return shapely.polygons(rot)


def orientation(poly) -> tuple[float, float, float]:
    """Angle of the long side of the minimum rotated rectangle, and its long and short lengths."""
    rect = shapely.oriented_envelope(poly)
    c = np.asarray(rect.exterior.coords)[:4]
    e1, e2 = c[1] - c[0], c[2] - c[1]
    l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    if l1 >= l2:
        return math.atan2(e1[1], e1[0]), l1, l2
    return math.atan2(e2[1], e2[0]), l2, l1


def polygonal(geom):
    """The polygons of a geometry (overlays can return collections with stray lines or points)."""
    polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    return MultiPolygon(polys) if polys else Polygon()


def connect(roads: list[tuple], area, max_gap: float = 80.0) -> list[tuple]:
    """Split roads into single lines and extend each loose end to the nearest other road within ``max_gap``.

    Lanes clipped at a village edge and field roads clipped at the fields would otherwise stop a few metres
    short of the road they join; real dead ends (nothing within reach) stay as they are.
    """
    items = []
    for line, *rest in roads:
        items += [(part, *rest) for part in shapely.get_parts(line) if part.geom_type == "LineString"]
    lines = np.asarray([it[0] for it in items], dtype=object)
    tree = shapely.STRtree(lines)
    out = []
    for k, (line, *rest) in enumerate(items):
        coords = list(line.coords)
        for end in (0, -1):
            p = Point(coords[end])
            near = [j for j in tree.query(p.buffer(max_gap)) if j != k]
            if not near:
                continue
            d = shapely.distance(lines[near], p)
            j = near[int(np.argmin(d))]
            if 0.01 < d.min() < max_gap:
                q = shapely.shortest_line(p, lines[j]).coords[-1]
                inner = coords[1] if end == 0 else coords[-2]
                ahead = np.subtract(coords[end], inner)
                step = np.subtract(q, coords[end])
                if np.dot(ahead, step) < 0.3 * np.linalg.norm(ahead) * np.linalg.norm(step):
                    continue  # the nearest road is behind or beside this end: not a continuation
                if end == 0:
                    coords.insert(0, q)
                else:
                    coords.append(q)
        extended = LineString(coords).intersection(area)
        if not extended.is_empty:
            out.append((extended, *rest))
    return out


def merge_slivers(pieces: list, min_area: float, min_width: float) -> list:
    """Merge pieces too small or too thin into the neighbour they share the longest edge with."""
    pieces = list(pieces)
    while len(pieces) > 1:
        arr = np.asarray(pieces, dtype=object)
        area = shapely.area(arr)
        width = 2 * area / np.maximum(shapely.length(arr), 1e-9)
        bad = np.flatnonzero((area < min_area) | (width < min_width))
        if not len(bad):
            break
        i = int(bad[np.argmin(area[bad])])
        others = np.delete(np.arange(len(arr)), i)
        shared = shapely.length(shapely.intersection(arr[i].boundary, shapely.boundary(arr[others])))
        if shared.max() <= 0.01:  # isolated: keep it (it is a whole block on its own)
            if area[i] >= 1.0:
                break
            pieces.pop(i)
            continue
        j = int(others[np.argmax(shared)])
        merged = shapely.union(arr[j], arr[i], grid_size=GRID)
        if merged.geom_type != "Polygon":
            merged = max(shapely.get_parts(merged), key=lambda g: g.area)
        pieces[j] = merged
        pieces.pop(i)
    return pieces


def subdivide(rng, piece, col_width: tuple[float, float], row_depth: tuple[float, float] | None,
               rows: int | None = None) -> list:
    """Cut a block into strips: columns across the long axis, ``rows`` (or rows of ``row_depth``) along it."""
    angle, long_len, short_len = orientation(piece)
    c = piece.centroid
    ca, sa = math.cos(-angle), math.sin(-angle)
    coords = shapely.get_coordinates(piece) - (c.x, c.y)
    local = np.column_stack([ca * coords[:, 0] - sa * coords[:, 1], sa * coords[:, 0] + ca * coords[:, 1]])
    (xmin, ymin), (xmax, ymax) = local.min(axis=0) - 1, local.max(axis=0) + 1
    widths = []
    total = xmax - xmin
    while sum(widths) < total:
        widths.append(rng.uniform(*col_width))
    x_edges = xmin + np.concatenate([[0], np.cumsum(widths)])
    x_edges[-1] = max(x_edges[-1], xmax)
    depth = ymax - ymin
    if rows is None:
        rows = max(1, int(round(depth / rng.uniform(*row_depth))))
    y_cols = []
    for _ in range(len(x_edges) - 1):
        inner = ymin + depth * (np.arange(1, rows) / rows) + rng.normal(0, 1.2, rows - 1)
        y_cols.append(np.concatenate([[ymin], inner, [ymax]]))
    cells = rotated_cells(x_edges, y_cols, angle, (c.x, c.y))
    parts = shapely.get_parts(shapely.intersection(piece, cells, grid_size=GRID))
    parts = [p for p in parts if p.geom_type == "Polygon" and p.area > 0.01]
    return parts
