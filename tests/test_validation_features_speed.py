"""The fast paths of the per-feature checks give what the simple per-value / per-feature definitions give.

``check_features`` judges each attribute value once per distinct value (a column is dictionary-encoded first)
and finds repeated vertices and spikes on all coordinates at once, with cheap candidate filters. These tests
compare both against plain definitions: each rule called on every value, and a per-feature walk over the
rings and lines of each geometry, on tricky values and random geometries.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon

from landgeo.catalog import get_target
from landgeo.validation import DEFAULT, check_features, split_land_use_codes
from landgeo.validation import attributes as F

TRICKY = [None, "", "  ", "\t", np.nan, float("nan"), 0, 0.0, -0.0, 1, 1.0, True, False, np.int64(5), np.float64(2.5),
          np.float32(3.0), "12345", 12345, 12345.0, " 12345 ", "4", "01", "99", -3, 2.5, "2.5", "abc", b"12345",
          np.str_("12345"), np.str_(" "), 10**20, float("inf"), "ONT+CLN", "ont, zzz", "+", "province", " commune ",
          [], ["ONT"], ["ONT", "CLN"], ("ONT", "cln"), ["1"], [1], ["ONT", None], np.array(["ONT"]), np.array([]),
          np.bool_(True), 1e3, "1e3"]

X0, Y0 = 560_000.0, 2_300_000.0


def _rules() -> dict:
    known = {"ONT", "CLN", "LUC"}
    rules = {name: (lambda v, ok=ok: F._is_blank(v) or ok(v)) for name, (ok, _, _) in F._RULES.items()}
    rules["blank"] = F._is_blank
    rules["province"] = F._province_ok({"01", "79"})
    rules["land_use"] = lambda v: any(c not in known for c in split_land_use_codes(v))
    return rules


def _columns(rng: np.random.Generator):
    """Columns of tricky values in the shapes callers pass: lists, object arrays, string arrays."""
    for _ in range(60):
        picks = rng.integers(0, len(TRICKY), int(rng.integers(1, 40)))
        values = [TRICKY[i] for i in picks]
        yield values
        arr = np.empty(len(values), dtype=object)
        arr[:] = [None] * len(values)
        for i, v in enumerate(values):
            arr[i] = v
        yield arr
    yield np.array(["01", "79", " ", ""])
    yield [["ONT"], None, ["CLN", "ZZZ"], ["ONT"], []]
    yield [("ONT",), ("ONT",), None]
    yield [["ONT"], ("ONT",)]
    yield [["ONT"], "ONT"]
    yield ["A", np.str_("A"), None, "A"]
    yield [1, 1.0, True, np.int64(1), "1", None]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_each_rule_judged_per_distinct_value_equals_judged_per_value():
    rng = np.random.default_rng(7)
    rules = _rules()
    for values in _columns(rng):
        columns = F.Columns({"c": values})
        for name, fn in rules.items():
            expected = np.array([bool(fn(v)) for v in values], dtype=bool)
            np.testing.assert_array_equal(columns.flags("c", fn), expected, err_msg=f"{name} on {values!r}")
        labels, group_of = columns.groups("c")
        assert [labels[g] for g in group_of] == ["" if v is None else str(v) for v in values]


@pytest.mark.parametrize("values", [
    np.array([1.0, np.nan, 0.0, -0.0]), np.array([1, 0, -3], dtype=np.int32), [1, 2, 3], [1.5, float("nan")],
    np.array([True, False]), [None, 1, "", "  ", np.nan, [], ["ONT"], np.array([]), 0, np.float64("nan")],
    np.array(["", " ", "x"]), np.array([None, "", " x "], dtype=object),
])
def test_blank_is_nan_in_numeric_columns_and_is_blank_per_value_otherwise(values):
    arr = np.asarray(values) if not isinstance(values, list) or not any(isinstance(v, list | np.ndarray)
                                                                         for v in values) else None
    if arr is not None and arr.dtype.kind in "iuf":
        expected = np.isnan(arr.astype(float))
    else:
        expected = np.array([F._is_blank(v) for v in values], dtype=bool)
    np.testing.assert_array_equal(F.Columns({"c": values}).blank("c"), expected)


def test_equal_values_of_different_types_are_judged_apart():
    values = [12345, 12345.0, "12345", np.str_("12345"), True, 1]
    ok = F._RULES["commune_code"][0]
    flags = F.Columns({"c": values}).flags("c", ok)
    assert flags.tolist() == [True, False, True, True, False, False]


# -- vertices -------------------------------------------------------------------------------------------------


def _reference_vertex_findings(geom, tol=DEFAULT) -> dict[str, tuple]:
    """Too few / repeated vertices and spikes of one projected geometry, walking its rings and lines."""
    paths = []
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            for ring in [part.exterior, *part.interiors]:
                c = shapely.get_coordinates(ring)
                paths.append((c[:-1] if len(c) else c, True))
        else:
            paths.append((shapely.get_coordinates(part), False))
    out: dict[str, tuple] = {}
    repeated_at, rep_count, few_path = [], 0, None
    sequences = []
    for xy, ring in paths:
        k = len(xy)
        rep = [i for i in range(k) if (ring or i < k - 1) and k > 1
               and np.hypot(*(xy[(i + 1) % k] - xy[i])) < tol.repeated_vertex_m]
        rep_count += len(rep)
        repeated_at += [xy[i] for i in rep]
        distinct, minimum = k - len(rep), 3 if ring else 2
        if distinct < minimum:
            few_path = few_path or (distinct, minimum)
        else:
            sequences.append((np.delete(xy, rep, axis=0), ring))
    if few_path:
        return {"geom.too_few_vertices": few_path}
    if repeated_at:
        out["geom.repeated_vertex"] = (tuple(repeated_at[0]), rep_count)
    for xy, ring in sequences:
        k = len(xy)
        for i in range(k) if ring else range(1, k - 1):
            a, b = xy[(i - 1) % k] - xy[i], xy[(i + 1) % k] - xy[i]
            na, nb = np.hypot(*a), np.hypot(*b)
            with np.errstate(invalid="ignore", divide="ignore"):
                angle = np.degrees(np.arccos(np.clip((a * b).sum() / (na * nb), -1.0, 1.0)))
            if na > 0 and nb > 0 and angle < tol.spike_angle_deg:
                out["geom.spike"] = (tuple(xy[i]), round(float(angle), 3))
                break
        if "geom.spike" in out:
            break
    return out


def _ring(rng, cx, cy, r, n):
    t = np.sort(rng.random(n)) * 2 * np.pi
    pts = [(cx + r * (0.6 + 0.4 * rng.random()) * math.cos(a), cy + r * (0.6 + 0.4 * rng.random()) * math.sin(a))
           for a in t]
    for _ in range(rng.integers(0, 4)):
        i = int(rng.integers(0, len(pts)))
        x, y = pts[i]
        kind = rng.integers(0, 4)
        if kind == 0:
            pts.insert(i, (x, y))
        elif kind == 1:
            pts.insert(i + 1, (x + float(rng.choice([0.0005, 0.000999, 0.001, 0.0011])), y))
        elif kind == 2:  # a spike of about one degree, out of the middle of edge i
            j = (i + 1) % len(pts)
            mx, my = (x + pts[j][0]) / 2, (y + pts[j][1]) / 2
            ux, uy = mx - cx, my - cy
            norm = math.hypot(ux, uy) or 1.0
            ux, uy = ux / norm, uy / norm
            w = 2 * r * math.tan(math.radians(float(rng.choice([0.5, 0.999999, 1.0, 1.000001, 2.0]))) / 2)
            tip = (mx + ux * 2 * r, my + uy * 2 * r)
            pts[i + 1:i + 1] = [(mx - uy * w, my + ux * w), tip, (mx + uy * w, my - ux * w)]
        elif len(pts) > 3:
            del pts[i]
    return pts


def _random_geometry(rng, i):
    cx, cy = X0 + (i % 50) * 80, Y0 + (i // 50) * 80
    if rng.random() < 0.3:
        lines = [LineString(_ring(rng, cx + 20 * k, cy, 10, int(rng.integers(2, 6))))
                 for k in range(rng.integers(1, 3))]
        return lines[0] if len(lines) == 1 and rng.random() < 0.5 else MultiLineString(lines)
    shell = _ring(rng, cx, cy, 20, int(rng.integers(3, 9)))
    holes = [_ring(rng, cx, cy, 3, 4)] if rng.random() < 0.2 else []
    polygon = Polygon(shell, holes)
    if rng.random() < 0.3:
        return MultiPolygon([polygon, Polygon(_ring(rng, cx + 45, cy, 5, 5))])
    return polygon


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("seed", range(6))
def test_vertex_checks_on_all_coordinates_equal_a_walk_over_each_ring_and_line(seed):
    rng = np.random.default_rng(seed)
    x, y = X0 - 1000, Y0
    few = [Polygon([(x, y), (x + 5, y), (x + 5, y), (x, y)]), LineString([(x, y), (x, y + 0.0001)]),
           MultiPolygon([Polygon([(x, y), (x + 5, y), (x + 5, y + 5)]), Polygon([(x, y), (x + 1, y), (x + 1, y)])]),
           MultiLineString([[(x, y), (x + 3, y), (x, y + 0.01)], [(x, y), (x, y)]])]
    geoms = np.array([_random_geometry(rng, i) for i in range(400)] + few, dtype=object)
    codes = ("geom.too_few_vertices", "geom.repeated_vertex", "geom.spike")
    expected = {(i, code): value for i, g in enumerate(geoms) for code, value in _reference_vertex_findings(g).items()}
    got = {}
    for target in ("parcels", "roads"):
        t = get_target(target)
        kinds = ("Polygon", "MultiPolygon") if t.geometry_type == "MultiPolygon" else ("LineString", "MultiLineString")
        for f in check_features(t, geoms, {}, crs=5897, detect=False):
            if f.code in codes and geoms[f.feature_index].geom_type in kinds:
                if f.code == "geom.too_few_vertices":
                    value = (f.details["distinct"], f.details["minimum"])
                elif f.code == "geom.repeated_vertex":
                    value = ((f.geometry.x, f.geometry.y), f.details["count"])
                else:
                    value = ((f.geometry.x, f.geometry.y), f.details["angle_deg"])
                got[(f.feature_index, f.code)] = value
    assert {k[1] for k in expected} == set(codes), "the random geometries plant every kind"
    assert got == expected
