"""Tile groups of a first load (nhóm thửa cho bản đồ tổng quan): what the tile cache needs from a province's new
partition, accumulated while the batches stream, so that the swap does not scan a million parcels again.

The groups are the new table's rows by commune, land-use group (nhóm đất of the first code), current or not and
0.01° cell (the cell key of ``meta.tile_record_sql``), each with its count, its area sum and its extent — exactly
what ``landdb.parcel_load_summarise`` (migration 0180) would read from the table:

* the area: the same int64 hundredths the binary COPY sends for ``numeric(14,2)`` (:func:`copybin.numeric_unscaled`);
* the extent: PostGIS keeps with each geometry its box rounded outward to float4, and ``ST_Extent`` unions those;
  the box of each row is computed here from the very doubles the COPY sends and rounded the same way;
* the cell: ``floor(xmin * 100)`` on the exact double box, as ``ST_XMin(geom)`` gives it.

Whatever the accumulator cannot vouch for (a batch without coordinates, an empty geometry, NaN, rows taken back out
of the table by a set-based check) makes it give up, and the database function then scans the table itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import Connection

from landgeo.db import copybin
from landgeo.db.ewkb import Parts

GROUP_COLUMNS = ("province_code", "commune_code", "grp", "current", "cx", "cy", "n", "area", "ext")
UNKNOWN_GROUP = "?"  # land-use codes not in landdb.land_use_code (as meta.tile_refresh_communes names them)


class TileGroups:
    """Thread-safe accumulator of the groups of one first load (see the module docstring)."""

    def __init__(self, province: str, groups_of: dict[str, str], boxes: str | None) -> None:
        self.province = province
        self.groups_of = groups_of  # land-use code -> its group (the smallest group_code of the code)
        self.boxes = boxes  # how the server's ST_Extent rounds a geometry's box: "exact" or "float4"
        self.groups: dict[tuple, list] = {}
        self.usable = boxes is not None
        self._lock = threading.Lock()

    @classmethod
    def for_database(cls, conn: Connection, province: str) -> TileGroups:
        rows = conn.execute("SELECT code, min(group_code) FROM landdb.land_use_code GROUP BY code").fetchall()
        return cls(province, dict(rows), extent_rounding(conn))

    def give_up(self) -> None:
        """The table no longer holds exactly the rows seen (or a batch could not be summarised)."""
        self.usable = False

    def add(self, kept: dict[str, pa.Array], parts: Parts, wgs84: np.ndarray | None) -> None:
        """Fold one batch of accepted rows (runs on the worker threads)."""
        if not self.usable:
            return
        try:
            groups = self._batch(kept, parts, wgs84)
        except Exception:  # noqa: BLE001 - an optimisation: what it cannot fold, the database scans (exactly)
            groups = None
        with self._lock:
            if groups is None:
                self.usable = False
                return
            for key, (n, cents, n_area, x0, y0, x1, y1) in groups.items():
                acc = self.groups.get(key)
                if acc is None:
                    self.groups[key] = [n, cents, n_area, x0, y0, x1, y1]
                else:
                    acc[0] += n
                    acc[1] += cents
                    acc[2] += n_area
                    acc[3], acc[4] = min(acc[3], x0), min(acc[4], y0)
                    acc[5], acc[6] = max(acc[5], x1), max(acc[6], y1)

    def _batch(self, kept: dict[str, pa.Array], parts: Parts, wgs84: np.ndarray | None) -> dict[tuple, list] | None:
        n = len(parts.valid)
        if (wgs84 is None or not parts.offsets or not n or not parts.valid.all() or "commune_code" not in kept
                or "valid_to" in kept):  # a dated file: its rows' valid_to as the server parsed them: let it scan
            return None
        bounds = _row_bounds(parts, wgs84, self.boxes == "float4")
        if bounds is None:
            return None
        xmin, ymin, xmax, ymax = bounds
        cx, cy = np.floor(xmin * 100), np.floor(ymin * 100)
        communes = pc.cast(kept["commune_code"], pa.string()).dictionary_encode()
        commune_names = communes.dictionary.to_pylist() + [None]
        commune_ix = pc.fill_null(communes.indices, len(commune_names) - 1).to_numpy(zero_copy_only=False)
        group_names, group_ix = self._land_use_groups(kept.get("land_use_codes"), n)
        current = np.ones(n, dtype=bool)
        if kept.get("computed_area") is not None:
            cents, special = copybin.numeric_unscaled(kept["computed_area"], 2)
            has_area = np.asarray(kept["computed_area"].is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            if special[has_area].any():
                return None
            cents = np.where(has_area, cents, 0)
        else:
            cents, has_area = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
        index = _group_index(commune_ix, group_ix, current, cx, cy)
        if index is None:
            return None
        inverse, decode = index
        order = np.argsort(inverse, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(inverse[order]) != 0])
        counts = np.diff(np.r_[starts, n])
        sums = np.add.reduceat(cents[order], starts)
        with_area = np.add.reduceat(has_area[order].astype(np.int64), starts)
        boxes = [np.minimum.reduceat(xmin[order], starts).tolist(), np.minimum.reduceat(ymin[order], starts).tolist(),
                 np.maximum.reduceat(xmax[order], starts).tolist(), np.maximum.reduceat(ymax[order], starts).tolist()]
        out: dict[tuple, list] = {}
        firsts = order[starts]  # a row of each group, for its key
        for k, (row, count, total, areas) in enumerate(zip(firsts.tolist(), counts.tolist(), sums.tolist(),
                                                           with_area.tolist(), strict=True)):
            c, g, cur, x, y = decode(row)
            out[(commune_names[c], group_names[g], cur, x, y)] = [count, total, areas, boxes[0][k], boxes[1][k],
                                                                  boxes[2][k], boxes[3][k]]
        return out

    def _land_use_groups(self, codes: pa.Array | None, n: int) -> tuple[list[str], np.ndarray]:
        """The group of each row's first land-use code (``land_use_codes[1]``), '?' when unknown or missing."""
        if codes is None:
            return [UNKNOWN_GROUP], np.zeros(n, dtype=np.int64)
        lengths = pc.fill_null(pc.list_value_length(codes), 0).to_numpy(zero_copy_only=False)
        offsets = codes.offsets.to_numpy()[:n]
        first = pc.cast(codes.values.take(pa.array(np.where(lengths > 0, offsets, 0))), pa.string())
        first = pc.if_else(pa.array(lengths > 0), first, pa.nulls(n, pa.string()))
        encoded = first.dictionary_encode()
        position = {UNKNOWN_GROUP: 0}  # each group once: several codes share one
        of_code = np.array([position.setdefault(self.groups_of.get(code, UNKNOWN_GROUP), len(position))
                            for code in encoded.dictionary.to_pylist()] + [0], dtype=np.int64)
        names = sorted(position, key=position.get)
        codes_ix = pc.fill_null(encoded.indices, len(of_code) - 1).to_numpy(zero_copy_only=False).astype(np.int64)
        return names, of_code[codes_ix]

    def copy_to(self, conn: Connection) -> bool:
        """The groups as ``pg_temp.parcel_load_group`` (dropped at COMMIT), for ``landdb.parcel_load_summarise``;
        False (nothing made: the function will scan) when the accumulator gave up."""
        if not self.usable:
            return False
        conn.execute("DROP TABLE IF EXISTS pg_temp.parcel_load_group")
        conn.execute("CREATE TEMP TABLE parcel_load_group (province_code text, commune_code text, grp text, "
                     "current boolean, cx float8, cy float8, n bigint, area numeric, x0 float8, y0 float8, "
                     "x1 float8, y1 float8) ON COMMIT DROP")
        with conn.cursor().copy("COPY pg_temp.parcel_load_group (province_code, commune_code, grp, current, cx, cy, "
                                "n, area, x0, y0, x1, y1) FROM STDIN") as copy:
            for (commune, grp, cur, cx, cy), (n, cents, n_area, x0, y0, x1, y1) in self.groups.items():
                area = Decimal(cents).scaleb(-2) if n_area else None
                copy.write_row((self.province, commune, grp, cur, cx, cy, n, area, x0, y0, x1, y1))
        conn.execute("ALTER TABLE pg_temp.parcel_load_group ADD COLUMN ext box2d")
        conn.execute("UPDATE pg_temp.parcel_load_group SET ext = ST_MakeBox2D(ST_Point(x0, y0), "
                     "ST_Point(x1, y1))")
        return True


def _group_index(commune: np.ndarray, group: np.ndarray, current: np.ndarray, cx: np.ndarray,
                 cy: np.ndarray) -> tuple[np.ndarray, Callable] | None:
    """Per row the index of its group (commune, land-use group, current, cell), sortable as one int64, and a
    function giving the key of the group of a row."""
    x, y = cx.astype(np.int64), cy.astype(np.int64)
    x0, y0 = int(x.min()), int(y.min())
    dx, dy = x - x0, y - y0
    nx, ny, ng = int(dx.max()) + 1, int(dy.max()) + 1, int(group.max()) + 1
    key = (((commune.astype(np.int64) * ng + group) * 2 + current.astype(np.int64)) * nx + dx) * ny + dy

    def decode(row: int) -> tuple:
        return (int(commune[row]), int(group[row]), bool(current[row]), float(cx[row]), float(cy[row]))

    if (int(commune.max()) + 1) * ng * 2 * nx * ny >= 2**62:  # not for the cells of one province
        return None
    return key, decode


def extent_rounding(conn: Connection) -> str | None:
    """How this server's ``ST_Extent`` boxes a geometry: ``exact`` (the doubles of its coordinates: PostGIS 3.3
    on the parcels' polygons), ``float4`` (the box stored with it, rounded outward to float4, as older versions
    read it), or None (neither: the accumulator is not used)."""
    x0, y0, x1, y1 = PROBE
    got = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(g) AS e FROM "
                       "(SELECT ST_Multi(ST_MakeEnvelope(%s, %s, %s, %s, 4326)) AS g) s) t",
                       (x0, y0, x1, y1)).fetchone()
    exact = np.array(PROBE)
    if tuple(got) == tuple(exact):
        return "exact"
    lo, hi = _float_down(exact[:2]), _float_up(exact[2:])
    return "float4" if tuple(got) == (*lo, *hi) else None


PROBE = (105.578262573659, 20.812345678912, 105.60000000001, 20.90000000003)  # no float4 holds any of them


def _row_bounds(parts: Parts, xy: np.ndarray, float4: bool) -> tuple[np.ndarray, ...] | None:
    """Per row the box ``ST_Extent`` takes of the geometry (``float4``: the one PostGIS stores with it, xmin, ymin
    rounded down, xmax, ymax up), from the coordinates sent; None when a row has no coordinate or a coordinate is
    not finite."""
    offsets = parts.offsets[0]
    for deeper in parts.offsets[1:]:
        offsets = deeper[offsets]
    starts, ends = offsets[:-1], offsets[1:]
    if len(xy) == 0 or (ends <= starts).any() or ends[-1] != len(xy) or not np.isfinite(xy).all():
        return None
    x, y = xy[:, 0], xy[:, 1]
    box = (np.minimum.reduceat(x, starts), np.minimum.reduceat(y, starts),
           np.maximum.reduceat(x, starts), np.maximum.reduceat(y, starts))
    if not float4:
        return box
    return _float_down(box[0]), _float_down(box[1]), _float_up(box[2]), _float_up(box[3])


def _float_down(d: np.ndarray) -> np.ndarray:
    """PostGIS ``next_float_down``: the largest float4 not above ``d``, as a double."""
    f = d.astype(np.float32)
    above = f.astype(np.float64) > d
    f[above] = np.nextafter(f[above], np.float32(-np.inf))
    return f.astype(np.float64)


def _float_up(d: np.ndarray) -> np.ndarray:
    """PostGIS ``next_float_up``: the smallest float4 not below ``d``, as a double."""
    f = d.astype(np.float32)
    below = f.astype(np.float64) < d
    f[below] = np.nextafter(f[below], np.float32(np.inf))
    return f.astype(np.float64)
