"""Deterministic generator of the demo data set: two communes of Hà Nội, parcels and base geography.

Everything is made from a seed (``numpy.random.default_rng``), never downloaded. The place is real — the
western peri-urban belt of Hà Nội (Hoài Đức, around 105.70 °E, 21.03 °N), mapped in its real CRS, VN-2000 /
TM-3 zone 105° (EPSG:5897, k0 0.9999) — the content is synthetic: two communes either side of a river, a
provincial road across them, the western ring railway, villages (thôn) with lanes (ngõ), paddy fields cut by
field roads and irrigation canals after land consolidation (dồn điền đổi thửa).

Parcels (thửa đất) tile each commune: narrow residential strips back to back along the lanes, gardens behind
them, public plots (UBND, school, pagoda, communal house), paddy strips between field roads and canals, fish
ponds near the river, and the roads, canals, railway and river themselves as DGT/DTL/SON parcels. Map sheets
(tờ bản đồ) follow the km grid: 1:1000 sheets (500 m) where there are villages, 1:2000 (1 km) in the fields;
parcels are numbered per sheet from north-west to south-east. A few errors are planted on purpose (an
overlap, a gap, a land-use code from the superseded 2018 list, a declared area far from the computed one)
so validation has something to show; :attr:`DemoData.planted` says where.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import LineString, MultiPolygon, Point, Polygon

GENERATOR_VERSION = "4"
DEFAULT_SEED = 20240801
EPSG_TM3 = 5897  # VN-2000 / TM-3 zone 105° — Hà Nội's cadastral CRS (Circular 973/2001/TT-TCĐC)
PROVINCE_CODE = "01"
COMMUNES_VALID_FROM = "2025-07-01"  # the communes of the 2025 reorganisation (no districts any more)
ORIGIN = (570000.0, 2325000.0)  # south-west corner of the demo area, on the km grid of the sheets
AREA_SIZE = (3000.0, 2000.0)
GRID = 0.001  # coordinates rounded to the millimetre, as surveyed coordinates are stored


@dataclass(frozen=True)
class Commune:
    code: str
    name: str


COMMUNES = (Commune("09877", "An Khánh"), Commune("09871", "Sơn Đồng"))  # official codes (Hà Nội, from 2025-07-01)


@dataclass
class Layer:
    """A generated layer: geometries (TM-3 metres, local origin already added) and attribute rows."""

    name: str
    geometry_type: str
    geoms: list
    rows: list[dict]

    def __len__(self) -> int:
        return len(self.geoms)


@dataclass
class DemoData:
    seed: int
    parcels: dict[str, Layer]  # commune code -> parcels of that commune
    map_sheets: Layer
    admin_units: Layer
    themes: dict[str, Layer]  # target id -> layer
    place_names: Layer
    planted: list[dict] = field(default_factory=list)
    updates: Layer | None = None  # biến động: a later file for one commune (a split and a change of use)
    events: list[dict] = field(default_factory=list)

    def checksum(self) -> str:
        """SHA-256 of every geometry (WKB) and attribute, in a fixed order: same seed, same checksum."""
        h = hashlib.sha256(f"{GENERATOR_VERSION}:{self.seed}".encode())
        layers = [*self.parcels.values(), self.map_sheets, self.admin_units, *self.themes.values(), self.place_names,
                  *([self.updates] if self.updates else [])]
        for layer in layers:
            h.update(layer.name.encode())
            wkb = shapely.to_wkb(np.asarray(layer.geoms, dtype=object), byte_order=1)
            for blob, row in zip(wkb, layer.rows, strict=True):
                h.update(blob)
                h.update(json.dumps(row, sort_keys=True, ensure_ascii=False).encode())
        h.update(json.dumps([self.planted, self.events], sort_keys=True).encode())
        return h.hexdigest()


# --------------------------------------------------------------------------------------------------- helpers

def _noise(rng: np.random.Generator, n_terms: int = 4):
    """A smooth random function of one variable (sum of sines), values roughly in [-1, 1]."""
    freqs = rng.uniform(0.5, 3.0, n_terms) * np.arange(1, n_terms + 1)
    phases = rng.uniform(0, 2 * math.pi, n_terms)
    amps = 1.0 / np.arange(1, n_terms + 1)
    amps = amps / amps.sum()

    def f(t):
        t = np.asarray(t, dtype=float)[..., None]
        return (amps * np.sin(freqs * t + phases)).sum(axis=-1)

    return f


def _wavy_polygon(rng, center, radii, angle, wobble=0.18, n=72) -> Polygon:
    f = _noise(rng)
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    r = 1 + wobble * f(t)
    x, y = radii[0] * r * np.cos(t), radii[1] * r * np.sin(t)
    ca, sa = math.cos(angle), math.sin(angle)
    return Polygon(np.column_stack([center[0] + ca * x - sa * y, center[1] + sa * x + ca * y]))


def _rotated_cells(x_edges: np.ndarray, y_edges_per_col: list[np.ndarray], angle: float, origin) -> np.ndarray:
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


def _orientation(poly) -> tuple[float, float, float]:
    """Angle of the long side of the minimum rotated rectangle, and its long and short lengths."""
    rect = shapely.oriented_envelope(poly)
    c = np.asarray(rect.exterior.coords)[:4]
    e1, e2 = c[1] - c[0], c[2] - c[1]
    l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
    if l1 >= l2:
        return math.atan2(e1[1], e1[0]), l1, l2
    return math.atan2(e2[1], e2[0]), l2, l1


def _polygonal(geom):
    """The polygons of a geometry (overlays can return collections with stray lines or points)."""
    polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    return MultiPolygon(polys) if polys else Polygon()


def _connect(roads: list[tuple], area, max_gap: float = 80.0) -> list[tuple]:
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


def _merge_slivers(pieces: list, min_area: float, min_width: float) -> list:
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


def _subdivide(rng, piece, col_width: tuple[float, float], row_depth: tuple[float, float] | None,
               rows: int | None = None) -> list:
    """Cut a block into strips: columns across the long axis, ``rows`` (or rows of ``row_depth``) along it."""
    angle, long_len, short_len = _orientation(piece)
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
    cells = _rotated_cells(x_edges, y_cols, angle, (c.x, c.y))
    parts = shapely.get_parts(shapely.intersection(piece, cells, grid_size=GRID))
    parts = [p for p in parts if p.geom_type == "Polygon" and p.area > 0.01]
    return parts


# --------------------------------------------------------------------------------------------- the generator

class _Builder:
    def __init__(self, seed: int):
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.ox, self.oy = ORIGIN
        self.planted: list[dict] = []

    # -- frame: area, river, communes -------------------------------------------------------------
    def frame(self) -> None:
        rng = self.rng
        w, h = AREA_SIZE
        f = _noise(rng, 5)
        t = np.linspace(0, 1, 121, endpoint=False)
        per = 2 * ((w - 120) + (h - 120))  # perimeter of the inner rectangle walked below
        s = t * per
        pts = []
        for si in s:  # walk the rectangle [60, w-60] x [60, h-60]
            a, b = w - 120, h - 120
            if si < a:
                p = (60 + si, 60)
            elif si < a + b:
                p = (w - 60, 60 + si - a)
            elif si < 2 * a + b:
                p = (w - 60 - (si - a - b), h - 60)
            else:
                p = (60, h - 60 - (si - 2 * a - b))
            pts.append(p)
        pts = np.asarray(pts)
        normals = pts - (w / 2, h / 2)
        normals /= np.linalg.norm(normals, axis=1)[:, None]
        offs = 45 * f(np.linspace(0, 2 * math.pi, len(pts), endpoint=False))
        outer = Polygon(pts + normals * offs[:, None]).buffer(0)
        outer = outer.buffer(25).buffer(-50).buffer(25).simplify(0.5)  # no spikes or necks at the corners
        ys = np.arange(-80, h + 81, 10.0)
        fr = _noise(rng, 3)
        xs = 1480 + 90 * fr(ys / 500.0)
        self.river_line = LineString(np.column_stack([xs, ys]))
        self.river_width = 38.0
        left = Polygon([*zip(xs, ys, strict=True), (-200, h + 80), (-200, -80)])
        a_poly = shapely.set_precision(outer.intersection(left), GRID)
        b_poly = shapely.set_precision(outer.difference(left), GRID)
        self.communes = {COMMUNES[0].code: a_poly, COMMUNES[1].code: b_poly}
        self.area = shapely.union(a_poly, b_poly, grid_size=GRID)

    # -- villages, roads, canals, railway ---------------------------------------------------------------
    def networks(self) -> None:
        rng = self.rng
        w, h = AREA_SIZE
        self.villages = [
            ("Thôn Lai Xá", COMMUNES[0].code, _wavy_polygon(rng, (880, 1120), (330, 190), 0.05)),
            ("Thôn Đông Lao", COMMUNES[0].code, _wavy_polygon(rng, (640, 420), (230, 150), -0.1)),
            ("Thôn An Hạ", COMMUNES[1].code, _wavy_polygon(rng, (2080, 1060), (360, 200), 0.08)),
            ("Thôn Thượng Hội", COMMUNES[1].code, _wavy_polygon(rng, (2520, 1600), (250, 170), 0.2)),
        ]
        fr = _noise(rng, 3)
        xs = np.arange(-80, w + 81, 20.0)
        dt422 = LineString(np.column_stack([xs, 1030 + 45 * fr(xs / 600.0)]))
        roads = [  # (line, width m, class, name, surface)
            (dt422, 14.0, "tỉnh", "Đường tỉnh 422", "nhựa"),
            (LineString([(820, 60), (790, 700), (850, 1500), (800, 1960)]), 7.0, "xã", "Đường liên thôn Lai Xá",
             "bê tông"),
            (LineString([(2230, 40), (2190, 900), (2260, 1960)]), 7.0, "xã", "Đường liên thôn An Hạ", "bê tông"),
            (LineString([(0, 1620), (700, 1600), (1500, 1640)]), 6.0, "xã", "Đường Đồng Bông", "bê tông"),
            (LineString([(1480, 470), (2230, 430), (3000, 480)]), 6.0, "xã", "Đường Bãi Sậy", "bê tông"),
        ]
        self.railway = (LineString([(330, -80), (380, 900), (470, 2080)]), 12.0)
        lanes = []
        for name, _code, vpoly in self.villages:
            ang, _, _ = _orientation(vpoly)
            c = vpoly.centroid
            ext = 900
            ca, sa = math.cos(ang), math.sin(ang)
            for off in np.arange(-400, 400, 1.0 * rng.uniform(52, 70)):
                for direction in (0, 1):
                    off_j = off + rng.normal(0, 4)
                    if direction == 0:
                        p0, p1 = (-ext, off_j), (ext, off_j)
                    else:
                        if rng.random() < 0.45:
                            continue
                        p0, p1 = (off_j * 1.6, -ext), (off_j * 1.6, ext)
                    line = LineString([(c.x + ca * x - sa * y, c.y + sa * x + ca * y) for x, y in (p0, p1)])
                    clipped = line.intersection(vpoly.buffer(6))
                    if not clipped.is_empty and clipped.length > 40:
                        lanes.append((clipped, 3.5, "ngõ", f"Ngõ {name.removeprefix('Thôn ')}", "bê tông"))
        self.roads = roads + lanes
        villages_all = shapely.union_all([v for _, _, v in self.villages])
        fields_area = self.area.difference(villages_all.buffer(8))
        field_roads, canals = [], []
        for code, cpoly in self.communes.items():
            ang = math.radians(7 if code == COMMUNES[0].code else -5)
            ca, sa = math.cos(ang), math.sin(ang)
            c = cpoly.centroid
            for k, off in enumerate(np.arange(-1100, 1100, 125.0)):
                y = off + rng.normal(0, 6)
                line = LineString([(c.x + ca * x - sa * y, c.y + sa * x + ca * y) for x in (-1600, 1600)])
                clipped = line.intersection(fields_area.intersection(cpoly))
                if clipped.is_empty:
                    continue
                if k % 2 == 0:
                    field_roads.append((clipped, 4.0, "nội đồng", "Đường nội đồng", "đất"))
                else:
                    canals.append((clipped, 3.0, "mương", "Mương tưới tiêu"))
            for x in np.arange(-1500, 1500, 310.0):
                x = x + rng.normal(0, 10)
                line = LineString([(c.x + ca * x - sa * y, c.y + sa * x + ca * y) for y in (-1200, 1200)])
                clipped = line.intersection(fields_area.intersection(cpoly))
                if not clipped.is_empty:
                    field_roads.append((clipped, 4.0, "nội đồng", "Đường nội đồng", "đất"))
        canals.append((LineString([(60, 760), (700, 700), (1300, 780), (1480, 770)]).intersection(self.area), 8.0,
                       "kênh", "Kênh tiêu Đông La"))
        canals.append((LineString([(1520, 1340), (2100, 1380), (3000, 1330)]).intersection(self.area), 8.0,
                       "kênh", "Kênh tiêu An Thượng"))
        self.roads = _connect(self.roads + field_roads, self.area)
        self.canals = canals
        self.village_union = villages_all

    # -- corridors: the land of roads, canals, railway and river -----------------------------------------
    def corridors(self) -> None:
        taken = shapely.Polygon()
        self.corridor_polys = []  # (polygon, code, name)
        river_poly = self.river_line.buffer(self.river_width / 2, cap_style="flat").intersection(self.area)
        items = [(river_poly, "SON", "Sông Nhuệ")]
        rail, rail_w = self.railway
        items.append((rail.buffer(rail_w / 2, cap_style="flat"), "DGT", "Đường sắt vành đai phía Tây"))
        for line, width, _klass, name, _surface in self.roads:
            items.append((line.buffer(width / 2, cap_style="flat", join_style="mitre"), "DGT", name))
        for line, width, _kind, name in self.canals:
            items.append((line.buffer(width / 2, cap_style="flat", join_style="mitre"), "DTL", name))
        for poly, code, name in items:
            poly = _polygonal(shapely.set_precision(poly.intersection(self.area).difference(taken), GRID))
            if poly.is_empty or poly.area < 1:
                continue
            taken = shapely.union(taken, poly, grid_size=GRID)
            self.corridor_polys.append((poly, code, name))
        self.corridor_union = taken
        self.river_poly = river_poly

    # -- parcels -------------------------------------------------------------------------------------------
    def parcels(self) -> None:
        w, h = AREA_SIZE
        records = []  # dicts with geom, commune, codes, address
        village_polys = [(n, c, shapely.set_precision(v, GRID)) for n, c, v in self.villages]
        specials = ["TSC", "DGD", "DYT", "TIN", "TON", "DVH", "DTT"]
        for code, cpoly in self.communes.items():
            commune = next(c for c in COMMUNES if c.code == code)
            land = shapely.set_precision(cpoly.difference(self.corridor_union), GRID)
            blocks = [b for b in shapely.get_parts(land) if b.area > 0.01]
            special_left = list(specials)
            for block in sorted(blocks, key=lambda b: (round(-b.centroid.y, 1), round(b.centroid.x, 1))):
                for vname, vcode, vpoly in village_polys:
                    if vcode != code:
                        continue
                    part = shapely.intersection(block, vpoly, grid_size=GRID)
                    for piece in shapely.get_parts(part):
                        if piece.geom_type == "Polygon" and piece.area > 0.01:
                            records += self._residential(piece, commune, vname, special_left)
                rest = block
                for _n, vcode, vpoly in village_polys:
                    if vcode == code:
                        rest = shapely.difference(rest, vpoly, grid_size=GRID)
                for piece in shapely.get_parts(rest):
                    if piece.geom_type == "Polygon" and piece.area > 0.01:
                        records += self._fields(piece, commune)
            for poly, luc, name in self.corridor_polys:
                part = _polygonal(shapely.intersection(poly, cpoly, grid_size=GRID))
                if part.is_empty:
                    continue
                # cut corridors at the sheet grid so each piece sits on one sheet
                for gx in np.arange(0, w, 500.0):
                    for gy in np.arange(0, h, 500.0):
                        cell = shapely.box(gx, gy, gx + 500, gy + 500)
                        piece = shapely.intersection(part, cell, grid_size=GRID)
                        for p in shapely.get_parts(piece):
                            if p.geom_type == "Polygon" and p.area > 0.01:
                                records.append({"geom": p, "commune": code, "codes": [luc],
                                                "address": f"{name}, xã {commune.name}"})
        self.parcel_records = self._clean(records)

    def _clean(self, records: list[dict]) -> list[dict]:
        """Make the parcels an exact coverage: no overlaps, no slivers, shared edges identical."""
        geoms = np.asarray([r["geom"] for r in records], dtype=object)
        # snapping at 1 cm: GEOS' automatic snapping distance leaves zero-width spikes along long cuts
        cleaned = shapely.coverage_clean(geoms, gap_width=0.5, snapping_distance=0.01)
        out = []
        for r, g in zip(records, cleaned, strict=True):
            polys = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and p.area > 0.5]
            if not polys:
                continue
            r["geom"] = max(polys, key=lambda p: p.area)
            out.append(r)
        # slivers left where a corridor runs along a sheet line: give them to the longest-border neighbour
        geoms = np.asarray([r["geom"] for r in out], dtype=object)
        area = shapely.area(geoms)
        width = 2 * area / shapely.length(geoms)
        tree = shapely.STRtree(geoms)
        dropped = set()
        for i in np.flatnonzero((area < 15) | (width < 1.2)):
            near = [j for j in tree.query(geoms[i], predicate="intersects")
                    if j != i and j not in dropped and out[j]["commune"] == out[i]["commune"]]
            if not near:
                continue
            shared = shapely.length(shapely.intersection(geoms[i].boundary, shapely.boundary(geoms[near])))
            j = near[int(np.argmax(shared))]
            if shared.max() <= 0:
                continue
            merged = shapely.coverage_union(geoms[j], geoms[i])
            if merged.geom_type != "Polygon":
                continue
            geoms[j] = merged
            out[j]["geom"] = merged
            dropped.add(int(i))
        out = [r for k, r in enumerate(out) if k not in dropped]
        # pin-holes the cleaning left between parcels go to the parcel with the longest border on them
        geoms = np.asarray([r["geom"] for r in out], dtype=object)
        tree = shapely.STRtree(geoms)
        for code in self.communes:
            members = np.asarray([r["geom"] for r in out if r["commune"] == code], dtype=object)
            for part in shapely.get_parts(shapely.coverage_union_all(members)):
                for ring in part.interiors:
                    hole = Polygon(ring)
                    near = tree.query(hole, predicate="intersects")
                    shared = shapely.length(shapely.intersection(ring, shapely.boundary(geoms[near])))
                    j = int(near[int(np.argmax(shared))])
                    merged = shapely.union(geoms[j], hole)
                    if merged.geom_type == "Polygon":
                        out[j]["geom"] = geoms[j] = merged
        # the merges above may leave nodes unshared: clean once more (no new slivers at this stage)
        for r, g in zip(out, shapely.coverage_clean(geoms, gap_width=0.5, snapping_distance=0.01), strict=True):
            r["geom"] = max(shapely.get_parts(g), key=lambda p: p.area)
        for code in self.communes:
            members = np.asarray([r["geom"] for r in out if r["commune"] == code], dtype=object)
            self.communes[code] = shapely.coverage_union_all(members)
        return out

    def _residential(self, piece, commune: Commune, village: str, special_left: list) -> list[dict]:
        rng = self.rng
        address = f"{village}, xã {commune.name}"
        if special_left and 900 < piece.area < 7000 and rng.random() < 0.35:
            luc = special_left.pop(0)
            return [{"geom": piece, "commune": commune.code, "codes": [luc], "address": address, "special": luc}]
        angle, long_len, short_len = _orientation(piece)
        if short_len < 16:
            rows = 1
        elif short_len < 70:
            rows = 2
        else:
            rows = 3
        parts = _subdivide(rng, piece, (5.0, 12.0), None, rows=rows)
        parts = _merge_slivers(parts, 35.0, 2.5)
        out = []
        edge = self.corridor_union.buffer(2.0)
        touches = shapely.intersects(np.asarray(parts, dtype=object), edge)
        for p, front in zip(parts, touches, strict=True):
            if front:
                codes = ["ONT", "CLN"] if (p.area > 320 and rng.random() < 0.4) else ["ONT"]
            else:
                codes = ["NTS"] if rng.random() < 0.12 else (["ONT"] if rng.random() < 0.35 else ["CLN"])
            out.append({"geom": p, "commune": commune.code, "codes": codes, "address": address})
        return out

    def _fields(self, piece, commune: Commune) -> list[dict]:
        rng = self.rng
        c = piece.centroid
        d_river = self.river_line.distance(c)
        d_village = self.village_union.distance(c)
        u = rng.random()
        if d_village < 60 and u < 0.6:
            base, widths, depth = "CLN" if u < 0.3 else "HNK", (12, 22), (35, 55)
        elif d_river < 260 and u < 0.45:
            base, widths, depth = "NTS", (28, 45), (40, 60)
        elif u < 0.15:
            base, widths, depth = "LUK", (15, 30), (55, 85)
        else:
            base, widths, depth = "LUC", (15, 30), (55, 85)
        if piece.area < 250:
            parts = [piece]
        else:
            parts = _merge_slivers(_subdivide(rng, piece, widths, depth), 80.0, 3.0)
        field_name = self._field_name(c)
        out = []
        for p in parts:
            codes = [base]
            if base == "LUC" and rng.random() < 0.03:
                codes = ["HNK"]
            out.append({"geom": p, "commune": commune.code, "codes": codes,
                        "address": f"Xứ đồng {field_name}, xã {commune.name}"})
        return out

    FIELD_NAMES = (("Bãi Dài", (300, 1800)), ("Cửa Đình", (1100, 1750)), ("Mả Lạng", (250, 250)),
                   ("Đồng Sau", (1150, 300)), ("Gò Găng", (1900, 300)), ("Bến Đò", (1750, 1500)),
                   ("Rộc Tre", (2750, 250)), ("Ao Sen", (2800, 1100)))

    def _field_name(self, c) -> str:
        return min(self.FIELD_NAMES, key=lambda fn: (fn[1][0] - c.x) ** 2 + (fn[1][1] - c.y) ** 2)[0]

    # -- sheets and numbering ----------------------------------------------------------------------------
    def sheets(self) -> None:
        geoms = np.asarray([r["geom"] for r in self.parcel_records], dtype=object)
        pos = shapely.point_on_surface(geoms)
        px, py = shapely.get_x(pos), shapely.get_y(pos)
        w, h = AREA_SIZE
        self.sheet_rows = []
        for code, cpoly in self.communes.items():
            frames = []  # (sort key, scale, box)
            for ix, gx in enumerate(np.arange(0, w, 1000.0)):
                for iy, gy in enumerate(np.arange(h - 1000, -1, -1000.0)):
                    cell = shapely.box(gx, gy, gx + 1000, gy + 1000)
                    if cell.intersection(cpoly).area < 1:
                        continue
                    if cell.intersection(self.village_union).area > 0.10 * 1e6:
                        for sy, sx in ((1, 0), (1, 1), (0, 0), (0, 1)):
                            sub = shapely.box(gx + 500 * sx, gy + 500 * sy, gx + 500 * sx + 500, gy + 500 * sy + 500)
                            frames.append(((iy, ix, 1 - sy, sx), 1000, sub))
                    else:
                        frames.append(((iy, ix, 0, 0), 2000, cell))
            frames.sort(key=lambda fr: fr[0])
            number = 0
            for _key, scale, box in frames:
                x0, y0, x1, y1 = box.bounds
                mine = np.flatnonzero(
                    (np.asarray([r["commune"] == code for r in self.parcel_records]))
                    & (px >= x0) & (px < x1) & (py >= y0) & (py < y1)
                )
                if not len(mine):
                    continue
                number += 1
                order = sorted(mine, key=lambda i: (-math.floor(py[i] / 40.0), px[i]))
                for k, i in enumerate(order, start=1):
                    self.parcel_records[i]["sheet"] = number
                    self.parcel_records[i]["number"] = k
                geom = shapely.coverage_union_all(np.asarray([self.parcel_records[i]["geom"] for i in mine],
                                                             dtype=object))
                self.sheet_rows.append({"commune": code, "sheet": number, "scale": scale, "geom": geom})

    # -- planted errors ----------------------------------------------------------------------------------
    def plant_errors(self) -> None:
        rng = self.rng
        recs = self.parcel_records
        self.clean_geoms = [r["geom"] for r in recs]  # the exact coverage, before the errors go in
        a_code = COMMUNES[0].code
        geoms = np.asarray([r["geom"] for r in recs], dtype=object)
        tree = shapely.STRtree(geoms)

        def neighbour_of(i, codes):
            for j in tree.query(geoms[i], predicate="intersects"):
                if (j != i and recs[j]["commune"] == recs[i]["commune"] and recs[j]["codes"] == codes
                        and recs[j]["sheet"] == recs[i]["sheet"]):  # on one sheet, where checks look
                    shared = geoms[i].boundary.intersection(geoms[j].boundary).length
                    if shared > 15:
                        return int(j)
            return None

        candidates = [i for i, r in enumerate(recs) if r["commune"] == a_code and r["codes"] == ["ONT"]
                      and 150 < r["geom"].area < 400 and "special" not in r]
        for i in rng.permutation(candidates):
            j = neighbour_of(int(i), ["ONT"])
            if j is not None:
                i = int(i)
                grab = shapely.intersection(geoms[j], geoms[i].buffer(1.5, join_style="mitre"))
                recs[i]["geom"] = max(shapely.get_parts(shapely.union(geoms[i], grab)),
                                      key=lambda g: g.area)
                overlap = shapely.intersection(recs[i]["geom"], geoms[j]).area
                self.planted.append({"kind": "overlap", "commune": a_code, "sheet": recs[i]["sheet"],
                                     "parcel": recs[i]["number"], "other_sheet": recs[j]["sheet"],
                                     "other_parcel": recs[j]["number"], "area_m2": round(overlap, 1)})
                break
        candidates = [i for i, r in enumerate(recs) if r["commune"] == a_code and r["codes"] == ["LUC"]
                      and 600 < r["geom"].area < 2000]
        sheet_geoms = {(s["commune"], s["sheet"]): s["geom"] for s in self.sheet_rows}
        for i in rng.permutation(candidates):
            i = int(i)
            frame = sheet_geoms[(a_code, recs[i]["sheet"])]
            if geoms[i].boundary.distance(frame.boundary) < 1.0:
                continue  # a gap must be enclosed by the sheet's parcels, or it is just an edge
            # the parcel was drawn 1 m short all round: a ring of no-man's-land around it
            recs[i]["geom"] = geoms[i].buffer(-1.0, join_style="mitre")
            gap = geoms[i].area - recs[i]["geom"].area
            self.planted.append({"kind": "gap", "commune": a_code, "sheet": recs[i]["sheet"],
                                 "parcel": recs[i]["number"], "area_m2": round(gap, 1)})
            break
        b_code = COMMUNES[1].code
        candidates = [i for i, r in enumerate(recs) if r["commune"] == b_code and r["codes"] == ["HNK"]]
        candidates = candidates or [i for i, r in enumerate(recs) if r["commune"] == b_code and r["codes"] == ["LUC"]]
        i = int(rng.choice(candidates))
        recs[i]["codes"] = ["BHK"]  # superseded 2018 code (Đất bằng trồng cây hằng năm khác) in a current record
        self.planted.append({"kind": "land_use_code", "commune": b_code, "sheet": recs[i]["sheet"],
                             "parcel": recs[i]["number"], "code": "BHK"})
        candidates = [i for i, r in enumerate(recs) if r["commune"] == b_code and r["codes"] == ["ONT"]
                      and 120 < r["geom"].area < 500]
        i = int(rng.choice(candidates))
        recs[i]["area_factor"] = 1.12
        self.planted.append({"kind": "declared_area", "commune": b_code, "sheet": recs[i]["sheet"],
                             "parcel": recs[i]["number"], "factor": 1.12})

    # -- output layers -------------------------------------------------------------------------------------
    def _shift(self, geoms, snap: bool = True):
        """Local metres -> TM-3 coordinates; ``snap=False`` for coverages (keeps shared edges identical)."""
        moved = shapely.transform(np.asarray(geoms, dtype=object), lambda xy: xy + (self.ox, self.oy))
        return shapely.set_precision(moved, GRID) if snap else moved

    def layers(self) -> DemoData:
        rng = self.rng
        parcels = {}
        for c in COMMUNES:
            idx = [i for i, r in enumerate(self.parcel_records) if r["commune"] == c.code]
            idx.sort(key=lambda i: (self.parcel_records[i]["sheet"], self.parcel_records[i]["number"]))
            geoms = self._shift([self.parcel_records[i]["geom"] for i in idx], snap=False)
            rows = []
            for g, i in zip(geoms, idx, strict=True):
                r = self.parcel_records[i]
                noise = 1 + rng.normal(0, 0.002)
                declared = round(g.area * noise * r.get("area_factor", 1.0), 1)
                rows.append({"MaXa": c.code, "SoHieuToBa": r["sheet"], "SoThuTuThu": r["number"],
                             "DienTich": declared, "KyHieuMucD": "+".join(r["codes"]), "DiaChi": r["address"]})
            parcels[c.code] = Layer(f"parcels_{c.code}", "Polygon", list(geoms), rows)

        sheet_geoms, sheet_rows = [], []
        for s in self.sheet_rows:
            sheet_geoms.append(MultiPolygon([Polygon(p.exterior) for p in shapely.get_parts(s["geom"]) if p.area > 1]))
            sheet_rows.append({"MaXa": s["commune"], "SoHieuToBanDo": s["sheet"], "TyLe": s["scale"]})
        map_sheets = Layer("map_sheets", "MultiPolygon", list(self._shift(sheet_geoms, snap=False)), sheet_rows)

        admin = Layer("admin_units", "MultiPolygon",
                      list(self._shift([MultiPolygon(list(shapely.get_parts(self.communes[c.code])))
                                        for c in COMMUNES], snap=False)),
                      [{"ma": c.code, "ten": f"Xã {c.name}", "cap": "commune", "macaptren": PROVINCE_CODE,
                        "valid_from": COMMUNES_VALID_FROM}
                       for c in COMMUNES])
        themes = self._themes()
        places = self._place_names()
        updates, events = self._updates(parcels[COMMUNES[1].code])
        return DemoData(self.seed, parcels, map_sheets, admin, themes, places, self.planted, updates, events)

    def _updates(self, layer: Layer) -> tuple[Layer, list[dict]]:
        """A later register update (biến động) for one commune, as the office would send it: only the rows that
        changed — one house plot split in two along its depth (tách thửa: the old number keeps one half, the
        other half gets the sheet's next number) and one garden turned into residential land (chuyển mục đích)."""
        rng = self.rng
        planted = {(p["sheet"], p["parcel"]) for p in self.planted if p["commune"] == layer.rows[0]["MaXa"]}
        area = shapely.area(np.asarray(layer.geoms, dtype=object))
        free = [k for k, r in enumerate(layer.rows) if (r["SoHieuToBa"], r["SoThuTuThu"]) not in planted]
        split = int(rng.choice([k for k in free if layer.rows[k]["KyHieuMucD"] == "ONT" and 300 < area[k] < 700]))
        change = int(rng.choice([k for k in free if layer.rows[k]["KyHieuMucD"] == "CLN" and k != split]))
        parent = layer.geoms[split]
        angle, long_len, short_len = _orientation(parent)
        c = parent.centroid
        halves = _rotated_cells(np.array([-long_len, long_len]), [np.array([-short_len, 0.0, short_len])], angle,
                                (c.x, c.y))
        parts = [max(shapely.get_parts(shapely.intersection(parent, h)), key=lambda g: g.area) for h in halves]
        row = layer.rows[split]
        sheet = row["SoHieuToBa"]
        new_number = 1 + max(r["SoThuTuThu"] for r in layer.rows if r["SoHieuToBa"] == sheet)
        geoms, rows = [], []
        for part, number in zip(parts, (row["SoThuTuThu"], new_number), strict=True):
            geoms.append(part)
            rows.append({**row, "SoThuTuThu": number, "DienTich": round(part.area, 1)})
        geoms.append(layer.geoms[change])
        rows.append({**layer.rows[change], "KyHieuMucD": "ONT"})
        events = [
            {"kind": "split", "commune": row["MaXa"], "sheet": sheet, "parcel": row["SoThuTuThu"],
             "new_parcel": new_number},
            {"kind": "change_of_use", "commune": row["MaXa"], "sheet": layer.rows[change]["SoHieuToBa"],
             "parcel": layer.rows[change]["SoThuTuThu"], "from": "CLN", "to": "ONT"},
        ]
        return Layer(f"parcel_updates_{row['MaXa']}", "Polygon", geoms, rows), events

    def _themes(self) -> dict[str, Layer]:
        rng = self.rng
        themes: dict[str, Layer] = {}
        a, b = COMMUNES
        pa, pb = self.communes[a.code], self.communes[b.code]
        shared = shapely.line_merge(shapely.intersection(pa.boundary, pb.boundary, grid_size=GRID))
        lines, rows = [shared], [{"madoituong": "AA03", "ten": f"Địa giới xã {a.name} - xã {b.name}",
                                  "cap": "commune", "left_code": a.code, "right_code": b.code}]
        for c, poly in ((a, pa), (b, pb)):
            outer = shapely.difference(poly.boundary, shared.buffer(0.01))
            lines.append(shapely.line_merge(outer))
            rows.append({"madoituong": "AA03", "ten": f"Địa giới xã {c.name}", "cap": "commune",
                         "left_code": c.code, "right_code": None})
        themes["boundaries"] = Layer("DiaGioiHanhChinh", "MultiLineString", self._lines(lines), rows)

        rlines, rrows = [], []
        for line, width, klass, name, surface in self.roads:
            rlines.append(line)
            rrows.append({"madoituong": {"tỉnh": "GA02", "xã": "GA04", "ngõ": "GA05"}.get(klass, "GA06"),
                          "ten": name, "loaiduong": klass, "matduong": surface, "chieurong": width})
        themes["roads"] = Layer("DuongBo", "MultiLineString", self._lines(rlines), rrows)

        road0 = self.roads[0][0]
        crossing = road0.intersection(self.river_line)
        crossing = shapely.get_parts(crossing)[0]  # where the provincial road crosses the river
        bridge = road0.intersection(crossing.buffer(30))
        themes["bridges"] = Layer("Cau", "MultiLineString", self._lines([bridge]),
                                  [{"madoituong": "GC01", "ten": "Cầu Lai Xá", "taitrong": 30.0}])
        rail = self.railway[0].intersection(self.area)
        themes["railways"] = Layer("DuongSat", "MultiLineString", self._lines([rail]),
                                   [{"madoituong": "GB01", "ten": "Đường sắt vành đai phía Tây", "khoduong": 1435}])

        hl = [self.river_line.intersection(self.area)] + [c[0] for c in self.canals]
        hr = [{"madoituong": "LA01", "ten": "Sông Nhuệ", "loai": "sông", "chieurong": self.river_width}]
        hr += [{"madoituong": "LB02" if kind == "mương" else "LB01", "ten": name, "loai": kind, "chieurong": width}
               for _line, width, kind, name in self.canals]
        themes["hydro-lines"] = Layer("ThuyHeDuong", "MultiLineString", self._lines(hl), hr)

        ponds = [r["geom"] for r in self.parcel_records if r["codes"] == ["NTS"] and r["geom"].area > 400]
        ha = [self.river_poly] + ponds
        har = [{"madoituong": "LA02", "ten": "Sông Nhuệ", "loai": "sông"}]
        har += [{"madoituong": "LD01", "ten": None, "loai": "ao"} for _ in ponds]
        themes["hydro-areas"] = Layer("ThuyHeVung", "MultiPolygon", self._polys(ha), har)

        themes["buildings"] = self._buildings()
        themes["built-up-areas"] = Layer(
            "KhuDanCu", "MultiPolygon", self._polys([v for _n, _c, v in self.villages]),
            [{"madoituong": "DA01", "ten": n} for n, _c, _v in self.villages])

        levels = np.arange(6.5, 9.0, 0.5)
        clines, crows = [], []
        land = self.area.difference(self.river_poly)
        for e in levels:
            d = -250.0 * math.log((e - 6.0) / 3.0)
            ring = self.river_line.buffer(d, quad_segs=16).boundary.intersection(land)
            if not ring.is_empty:
                clines.append(ring)
                crows.append({"madoituong": "CA01" if e % 1 else "CA02", "docao": float(e)})
        themes["contours"] = Layer("DuongBinhDo", "MultiLineString", self._lines(clines), crows)

        gx, gy = np.meshgrid(np.arange(50, AREA_SIZE[0], 140.0), np.arange(50, AREA_SIZE[1], 140.0))
        pts = shapely.points(gx.ravel() + rng.normal(0, 25, gx.size), gy.ravel() + rng.normal(0, 25, gx.size))
        keep = shapely.contains(land, pts)
        pts = pts[keep]
        d = shapely.distance(self.river_line, pts)
        elev = np.round(6.0 + 3.0 * np.exp(-d / 250.0) + rng.normal(0, 0.12, len(pts)), 2)
        themes["spot-heights"] = Layer("DiemDoCao", "Point", list(self._shift(pts)),
                                       [{"madoituong": "CB01", "docao": float(z)} for z in elev])

        cps = [(420, 300), (1300, 1800), (2600, 600), (2000, 1750)]
        cp_geoms = [Point(x + rng.normal(0, 3), y + rng.normal(0, 3)) for x, y in cps]
        cp_rows = []
        for k, p in enumerate(cp_geoms):
            z = 6.0 + 3.0 * math.exp(-self.river_line.distance(p) / 250.0)
            cp_rows.append({"madoituong": "AB04", "ten": f"Điểm địa chính cơ sở {k + 1}",
                            "sohieudiem": f"10{4420 + 7 * k}", "caphang": "địa chính cơ sở", "docao": round(z, 3)})
        themes["control-points"] = Layer("DiemKhongChe", "Point", list(self._shift(cp_geoms)), cp_rows)

        themes["land-cover"] = self._land_cover()
        for layer in themes.values():
            for row in layer.rows:
                row.setdefault("tyle", 2000)
                row.setdefault("matinh", PROVINCE_CODE)
        return themes

    def _lines(self, geoms) -> list:
        out = []
        for g in self._shift(geoms):
            parts = [p for p in shapely.get_parts(shapely.line_merge(g) if g.geom_type != "LineString" else g)
                     if p.geom_type == "LineString" and p.length > 0]
            out.append(shapely.MultiLineString(parts))
        return out

    def _polys(self, geoms) -> list:
        return [MultiPolygon([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"])
                for g in self._shift(geoms)]

    def _buildings(self) -> Layer:
        rng = self.rng
        recs = [r for r in self.parcel_records if "ONT" in r["codes"] or "special" in r]
        geoms = np.asarray([r["geom"] for r in recs], dtype=object)
        roads = shapely.union_all(np.asarray([p for p, code, _ in self.corridor_polys if code == "DGT"],
                                             dtype=object), grid_size=0.01)
        front = roads.buffer(13.0)
        shapely.prepare(front)
        inner = shapely.buffer(geoms, -0.8, join_style="mitre")
        houses = shapely.intersection(inner, front)
        out, rows = [], []
        names = {"TSC": "Trụ sở UBND xã", "DGD": "Trường tiểu học", "DYT": "Trạm y tế xã", "TIN": "Đình làng",
                 "TON": "Chùa", "DVH": "Nhà văn hóa thôn", "DTT": "Nhà thi đấu"}
        for r, house in zip(recs, houses, strict=True):
            if "special" in r:
                c = r["geom"].point_on_surface()
                house = shapely.intersection(r["geom"].buffer(-3), c.buffer(14, cap_style="square"))
            if house.is_empty:
                continue
            part = max(shapely.get_parts(house), key=lambda g: g.area)
            if part.geom_type != "Polygon" or not (20 < part.area < 700):
                continue
            part = shapely.set_precision(part.simplify(0.3), GRID)
            if part.is_empty or not part.is_valid:
                continue
            out.append(part)
            floors = 2 if "special" in r else int(rng.choice([1, 2, 2, 3, 3, 4]))
            rows.append({"madoituong": "DB01" if "special" not in r else "DB02",
                         "ten": names.get(r.get("special")), "sotang": floors})
        return Layer("Nha", "MultiPolygon", self._polys(out), rows)

    def _land_cover(self) -> Layer:
        classes = {"lúa": {"LUC", "LUK", "BHK"}, "cây hằng năm": {"HNK"}, "cây lâu năm": {"CLN"},
                   "mặt nước": {"NTS", "SON", "DTL"},
                   "dân cư": {"ONT", "TSC", "DGD", "DYT", "TIN", "TON", "DVH", "DTT"}, "giao thông": {"DGT"}}
        geoms, rows = [], []
        for klass, codes in classes.items():
            members = [g for r, g in zip(self.parcel_records, self.clean_geoms, strict=True)
                       if r["codes"][0] in codes]
            if not members:
                continue
            u = shapely.coverage_union_all(np.asarray(members, dtype=object))
            for p in shapely.get_parts(u):
                if p.geom_type == "Polygon" and p.area > 50:
                    geoms.append(p)
                    rows.append({"madoituong": "PA01", "loaiphu": klass})
        return Layer("PhuBeMat", "MultiPolygon", self._polys(geoms), rows)

    def _place_names(self) -> Layer:
        pts, rows = [], []
        for c in COMMUNES:
            p = self.communes[c.code].point_on_surface()
            pts.append(p)
            rows.append({"madoituong": "HA01", "ten": f"Xã {c.name}", "loai": "xã"})
        for name, _code, v in self.villages:
            pts.append(v.centroid)
            rows.append({"madoituong": "HA02", "ten": name, "loai": "thôn"})
        for name, xy in self.FIELD_NAMES:
            pts.append(Point(xy))
            rows.append({"madoituong": "HA03", "ten": f"Xứ đồng {name}", "loai": "xứ đồng"})
        pts.append(self.river_line.interpolate(0.3, normalized=True))
        rows.append({"madoituong": "HA04", "ten": "Sông Nhuệ", "loai": "sông"})
        return Layer("place_names", "Point", list(self._shift(pts)), rows)


def generate(seed: int = DEFAULT_SEED) -> DemoData:
    """Build the whole demo data set in memory (TM-3 coordinates, EPSG:5897)."""
    b = _Builder(seed)
    b.frame()
    b.networks()
    b.corridors()
    b.parcels()
    b.sheets()
    b.plant_errors()
    return b.layers()
