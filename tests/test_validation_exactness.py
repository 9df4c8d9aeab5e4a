"""Exactness: on generated data with planted errors of every kind, the checks find every planted error and
nothing else.

The data are built with shapely in VN-2000 / TM-3 105° (EPSG:5897, Hà Nội) and stored through the official
projection-only path (same datum) into a fresh database: a commune of 20 m parcels on two map sheets, its
neighbours, a road and river network and boundary lines. Each planted error names the findings it must
produce as (check code, feature); the test compares the whole set of findings with the whole set planted.
"""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
import shapely
from psycopg import sql
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from landgeo.catalog import get_target
from landgeo.validation import CHECKS, check_features, check_table, run_validation

SRID = 5897  # VN-2000 / TM-3 105°
X0, Y0 = 585_000.0, 2_325_000.0
CELL = 20.0
COLS, ROWS = 20, 20  # sheet 1 = columns 0-9, sheet 2 = columns 10-19
COMMUNE, NEIGHBOUR, TOUCHING, RETIRED = "00004", "00005", "00006", "00009"


def cell(i: int, j: int) -> Polygon:
    return box(X0 + i * CELL, Y0 + j * CELL, X0 + (i + 1) * CELL, Y0 + (j + 1) * CELL)


class Plan:
    """Parcels to store, and the findings each must (and alone may) produce."""

    def __init__(self) -> None:
        self.parcels: list[dict] = []
        self.expected: set[tuple[str, str]] = set()  # (code, parcel key) ; key = f"{sheet}/{number}" or "gap:i,j"

    def add(self, geom, sheet: int, number: int, *, declared: float | None | str = "auto", codes=("ONT",),
            commune: str = COMMUNE, valid_from: str | None = None, expect: tuple[str, ...] = ()) -> str:
        if declared == "auto":
            declared = round(geom.area, 2)
        key = f"{commune}/{sheet}/{number}"
        self.parcels.append({"geom": geom, "sheet": sheet, "number": number, "declared": declared,
                             "codes": list(codes), "commune": commune, "valid_from": valid_from, "key": key})
        for code in expect:
            self.expected.add((code, key))
        return key


def build_plan() -> Plan:
    plan = Plan()
    special: dict[tuple[int, int], str] = {}
    # -- planted errors on grid cells (interior cells unless the error would otherwise leave a hole) ---------------
    special[(3, 5)] = "overlap"          # grows 1 m east into (4, 5)
    special[(6, 12)] = "gap"             # shrinks 1 m on its east side: a 1 x 20 m hole inside the sheet
    special[(0, 2)] = "invalid"          # bow-tie (border cell: excluded from topology, leaves a notch)
    special[(5, 8)] = "repeated"
    special[(0, 14)] = "spike"           # spike pointing out of the grid (west)
    special[(0, 6)] = "wrong_sheet"      # lies in sheet 1, labelled sheet 2
    special[(0, 9)] = "missing_sheet"    # labelled sheet 7, which does not exist
    special[(7, 3)] = "area"             # declared 430 m² for 400 m² (tolerance at 1:1000 is 8 m²)
    special[(8, 3)] = "area_ok"          # declared 405 m²: within tolerance, no finding
    special[(2, 16)] = "code_time"       # LUA (TT 27/2018 only) on a version starting now
    special[(3, 16)] = "code_time_ok"    # LUA on a version that started in 2020: valid then
    special[(4, 16)] = "code_unknown"    # XYZ in no list
    special[(13, 7)] = "duplicate"       # an identical copy with another number
    numbers = {1: 0, 2: 0}
    for i in range(COLS):
        for j in range(ROWS):
            sheet = 1 if i < 10 else 2
            numbers[sheet] += 1
            n = numbers[sheet]
            kind = special.get((i, j))
            g = cell(i, j)
            if kind is None:
                plan.add(g, sheet, n)
            elif kind == "overlap":
                plan.add(box(X0 + i * CELL, Y0 + j * CELL, X0 + (i + 1) * CELL + 1, Y0 + (j + 1) * CELL), sheet, n,
                         expect=("topo.overlap",))
            elif kind == "gap":
                plan.add(box(X0 + i * CELL, Y0 + j * CELL, X0 + (i + 1) * CELL - 1, Y0 + (j + 1) * CELL), sheet, n)
                plan.expected.add(("topo.gap", f"gap:{COMMUNE}/{sheet}"))
            elif kind == "invalid":
                x, y = X0 + i * CELL, Y0 + j * CELL
                bow = Polygon([(x, y), (x + CELL, y + CELL), (x + CELL, y), (x, y + CELL)])
                plan.add(bow, sheet, n, declared=None, expect=("geom.invalid",))
            elif kind == "repeated":
                x, y = X0 + i * CELL, Y0 + j * CELL
                plan.add(Polygon([(x, y), (x + CELL, y), (x + CELL, y), (x + CELL, y + CELL), (x, y + CELL)]),
                         sheet, n, expect=("geom.repeated_vertex",))
            elif kind == "spike":
                x, y = X0 + i * CELL, Y0 + j * CELL
                plan.add(Polygon([(x, y), (x + CELL, y), (x + CELL, y + CELL), (x, y + CELL), (x, y + 10.01),
                                  (x - 5, y + 10.005), (x, y + 10)]), sheet, n, expect=("geom.spike",))
            elif kind == "wrong_sheet":
                plan.add(g, 2, 500, expect=("topo.wrong_sheet",))
            elif kind == "missing_sheet":
                plan.add(g, 7, 1, expect=("attr.map_sheet_missing",))
            elif kind == "area":
                plan.add(g, sheet, n, declared=430.0, expect=("attr.area_mismatch",))
            elif kind == "area_ok":
                plan.add(g, sheet, n, declared=405.0)
            elif kind == "code_time":
                plan.add(g, sheet, n, codes=("LUA",), expect=("attr.land_use_code_not_valid_at_time",))
            elif kind == "code_time_ok":
                plan.add(g, sheet, n, codes=("LUA",), valid_from="2020-01-01")
            elif kind == "code_unknown":
                plan.add(g, sheet, n, codes=("ONT", "XYZ"), expect=("attr.land_use_code_unknown",))
            elif kind == "duplicate":
                first = plan.add(g, sheet, n, expect=("topo.duplicate",))
                plan.add(g, sheet, 900)
                assert first
    # -- planted errors off the grid ----------------------------------------------------------------------------
    top = Y0 + ROWS * CELL
    plan.add(box(X0, top, X0 + CELL, top + 0.1), 1, 901, expect=("geom.sliver",))
    plan.add(box(X0 + COLS * CELL, Y0, X0 + COLS * CELL + CELL, Y0 + CELL), 2, 902,
             expect=("topo.across_commune",))  # half of it beyond the commune's east edge (+10 m)
    plan.add(box(X0 + 500, Y0, X0 + 520, Y0 + 20), 2, 903, expect=("topo.outside_commune",))
    plan.add(box(X0 + 5000, Y0, X0 + 5020, Y0 + 20), 2, 904,
             expect=("crs.outlier", "topo.outside_commune", "topo.wrong_sheet"))
    plan.add(box(X0 - 60, Y0, X0 - 40, Y0 + 20), 1, 1, commune=RETIRED, expect=("attr.commune_not_valid_at_time",))
    return plan


def _wkb(g, srid=SRID):
    return sql.SQL("ST_Transform(ST_GeomFromWKB({}, {}), 4756)").format(
        sql.Literal(shapely.to_wkb(g)), sql.Literal(srid))


def store(conn, plan: Plan) -> dict[str, str]:
    """Insert the plan and its reference data; returns stored id -> parcel key."""
    commune_geom = box(X0 - 10, Y0 - 10, X0 + COLS * CELL + 10, Y0 + ROWS * CELL + 10)
    admin = [
        (COMMUNE, "Xã Kiểm Tra", "2019-01-01", None, commune_geom),
        (NEIGHBOUR, "Xã Chồng Lấn", "2025-07-01", None,
         box(X0 + COLS * CELL + 5, Y0 + 100, X0 + COLS * CELL + 400, Y0 + 300)),  # overlaps the commune by 5 m
        (TOUCHING, "Xã Liền Kề", "2025-07-01", None,
         box(X0 - 10, Y0 + ROWS * CELL + 10, X0 + COLS * CELL + 10, Y0 + ROWS * CELL + 300)),
        (RETIRED, "Xã Cũ", "2019-01-01", "2025-06-30", box(X0 - 100, Y0 - 10, X0 - 10, Y0 + 200)),  # retired
    ]
    for code, name, since, until, g in admin:
        conn.execute(sql.SQL("INSERT INTO landdb.admin_unit (code, name, level, parent_code, valid_from, valid_to, "
                             "geom) VALUES ({}, {}, 'commune', '01', {}, {}, ST_Multi({}))").format(
            code, name, since, until, _wkb(g)))
    for number, (x_from, x_to) in ((1, (X0, X0 + 200)), (2, (X0 + 200, X0 + 800))):
        conn.execute(sql.SQL("INSERT INTO landdb.map_sheet (province_code, commune_code, sheet_number, scale, "
                             "source_srid, geom) VALUES ('01', {}, {}, 1000, {}, ST_Multi({}))").format(
            COMMUNE, number, SRID, _wkb(box(x_from, Y0 - 10, x_to, Y0 + ROWS * CELL + 10))))
    ids = {}
    for p in plan.parcels:
        row = conn.execute(sql.SQL(
            "INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, "
            "declared_area, source_srid, area_srid, valid_from, geom) VALUES ('01', {}, {}, {}, {}, {}, {}, {}, "
            "coalesce({}::timestamptz, now()), ST_Multi({})) RETURNING id").format(
            p["commune"], p["sheet"], p["number"], p["codes"], p["declared"], SRID, SRID, p["valid_from"],
            _wkb(p["geom"]))).fetchone()
        ids[str(row[0])] = p["key"]
    return ids


def store_geobase(conn) -> dict[str, set[tuple[str, str]]]:
    """Roads, rivers and boundary lines with planted dangles and a misplaced boundary; expected findings."""
    expected: set[tuple[str, str]] = set()

    def line(table, name, coords, **extra):
        cols = ["feature_code", "name", "source_srid", "province_code", "geom", *extra]
        vals = [sql.Literal("X"), sql.Literal(name), sql.Literal(SRID), sql.Literal("01"),
                sql.SQL("ST_Multi({})").format(_wkb(LineString(coords))), *(sql.Literal(v) for v in extra.values())]
        return str(conn.execute(sql.SQL("INSERT INTO geobase.{} ({}) VALUES ({}) RETURNING id").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, cols)), sql.SQL(", ").join(vals)))
            .fetchone()[0])

    bx, by = X0 + 2000, Y0
    line("road", "A", [(bx, by), (bx + 100, by)])
    line("road", "B", [(bx + 100, by), (bx + 100, by + 100)])  # connected end to end
    line("road", "C", [(bx + 50, by), (bx + 50, by - 50)])  # T-junction, dead end 50 m south (legitimate)
    d = line("road", "D", [(bx + 30, by + 50), (bx + 30, by + 3)])  # stops 3 m short of A: a dangle
    expected.add(("net.dangle", f"roads:{d}"))
    # a two-part road whose parts meet near road B: those ends are connected (to each other), no dangle
    two_parts = shapely.MultiLineString([[(bx + 156, by + 50), (bx + 106, by + 50)],
                                         [(bx + 106, by + 50), (bx + 156, by + 20)]])  # they meet 6 m from B
    conn.execute(sql.SQL("INSERT INTO geobase.road (feature_code, name, source_srid, province_code, geom) "
                         "VALUES ('X', 'E', {}, '01', {})").format(SRID, _wkb(two_parts)))
    line("hydro_line", "Sông", [(bx, by + 500), (bx + 300, by + 500)])
    t = line("hydro_line", "Suối", [(bx + 150, by + 700), (bx + 150, by + 501.5)])  # 1.5 m short of the river
    expected.add(("net.dangle", f"hydro-lines:{t}"))
    top = Y0 + ROWS * CELL + 10
    line("boundary", "ok", [(X0 - 10, top), (X0 + COLS * CELL + 10, top)], level="commune", left_code=COMMUNE,
         right_code=TOUCHING)
    off = line("boundary", "off", [(X0 - 10, top + 20), (X0 + COLS * CELL + 10, top + 20)], level="commune",
               left_code=COMMUNE, right_code=TOUCHING)  # drawn 20 m north of the real edge
    expected.add(("net.boundary_mismatch", f"boundaries:{off}"))
    # map sheets south of the parcels, near sheets 1 and 2: two 1:1000 sheets overlapping (one finding, on the first
    # of the pair), a 1:2000 sheet over both (another scale: not an overlap of this rule)
    sheets = {}
    for number, scale, frame in ((8, 1000, box(X0, Y0 - 400, X0 + 200, Y0 - 200)),
                                 (9, 1000, box(X0 + 100, Y0 - 400, X0 + 300, Y0 - 200)),
                                 (10, 2000, box(X0 - 50, Y0 - 450, X0 + 350, Y0 - 150))):
        sheets[number] = conn.execute(sql.SQL(
            "INSERT INTO landdb.map_sheet (province_code, commune_code, sheet_number, scale, source_srid, geom) "
            "VALUES ('01', {}, {}, {}, {}, ST_Multi({})) RETURNING id").format(
            COMMUNE, number, scale, SRID, _wkb(frame))).fetchone()[0]
    expected.add(("topo.sheet_overlap", f"map-sheets:{sheets[8]}"))
    return expected


@pytest.fixture
def planted(fresh_db):
    plan = build_plan()
    with psycopg.connect(fresh_db) as conn:
        ids = store(conn, plan)
        geo_expected = store_geobase(conn)
        admin_ids = dict(conn.execute("SELECT code, id::text FROM landdb.admin_unit WHERE level = 'commune'"))
        conn.commit()
    return fresh_db, plan, ids, geo_expected, admin_ids


def test_stored_data_findings_are_exactly_the_planted_errors(planted):
    url, plan, ids, geo_expected, admin_ids = planted
    with psycopg.connect(url) as conn:
        run_id = run_validation(conn)
        rows = conn.execute("SELECT check_code, target, feature_id, commune_code, details, geom IS NOT NULL, "
                            "ST_SRID(geom), message_vi, message_en FROM meta.validation_finding "
                            "WHERE run_id = %s", (run_id,)).fetchall()
        counts = conn.execute("SELECT counts FROM meta.validation_run WHERE id = %s", (run_id,)).fetchone()[0]
    found: set[tuple[str, str]] = set()
    for code, target, fid, commune, details, has_geom, srid, vi, en in rows:
        assert code in CHECKS, code
        assert vi and en and vi != en or code.startswith("crs."), (code, vi, en)
        if target == "parcels":
            key = f"gap:{commune}/{details['sheet_number']}" if code == "topo.gap" else ids[fid]
        elif target == "admin-units":
            key = f"admin:{details['code']}-{details['other_code']}"
        else:
            key = f"{target}:{fid}"
        found.add((code, key))
        if code != "crs.detection" and not code.startswith("crs.w"):
            assert has_geom and srid == 4326, (code, key)
    expected = plan.expected | geo_expected | {("topo.admin_overlap", f"admin:{COMMUNE}-{NEIGHBOUR}")}
    assert found == expected, f"missed {sorted(expected - found)}; unexpected {sorted(found - expected)}"
    assert len(rows) == len(expected)  # one finding per planted error, no repeats
    assert set(counts["by_check"]) == {code for code, _ in expected}
    assert counts["skipped"] == []
    # every kind of set-based check had something planted
    set_codes = {c.code for c in CHECKS.values() if c.scope == "set"} - {"attr.parcel_number_duplicate"}
    assert set_codes <= {code for code, _ in expected}


def test_overlap_and_gap_are_located_and_measured(planted):
    url, *_ = planted
    with psycopg.connect(url) as conn:
        run_id = run_validation(conn, "parcels", checks=["topo.overlap", "topo.gap", "attr.area_mismatch"])
        got = {code: (details, area) for code, details, area in conn.execute(
            "SELECT check_code, details, ST_Area(ST_Transform(meta.wgs84_to_vn2000(geom), 5897)) "
            "FROM meta.validation_finding WHERE run_id = %s", (run_id,))}
    assert set(got) == {"topo.overlap", "topo.gap", "attr.area_mismatch"}
    assert got["topo.overlap"][0]["area_m2"] == pytest.approx(20.0, abs=0.01)
    assert got["topo.overlap"][1] == pytest.approx(20.0, abs=0.01)
    assert got["topo.gap"][0]["area_m2"] == pytest.approx(20.0, abs=0.01)
    assert got["topo.gap"][1] == pytest.approx(20.0, abs=0.01)
    d = got["attr.area_mismatch"][0]
    assert (d["declared_m2"], d["computed_m2"], d["scale"]) == (430.0, 400.0, 1000)
    assert d["tolerance_m2"] == pytest.approx(0.0004 * 1000 * 20, abs=0.01)


def test_parallel_jobs_find_the_same(planted):
    """Splitting the set-based statements over connections (by commune) changes nothing in what is found."""
    url, *_ = planted
    t = get_target("parcels")
    with psycopg.connect(url) as conn:
        one = check_table(conn, t, "landdb.parcel")
        three = check_table(conn, t, "landdb.parcel", jobs=3)
    key = lambda f: (f.code, f.feature_id, round(f.details.get("area_m2", 0), 2))  # noqa: E731
    assert sorted(map(key, one)) == sorted(map(key, three)) and len(one) > 10


def test_staging_table_duplicate_numbers_by_feature_index(planted):
    """A loader's staging table (no id, a feature_index) gets the set checks, findings by input row."""
    url, *_ = planted
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE staging.val_exact (feature_index integer, province_code text, commune_code text, "
                     "sheet_number integer, parcel_number integer, land_use_codes text[], declared_area numeric, "
                     "area_srid integer, valid_from timestamptz, valid_to timestamptz, "
                     "geom geometry(MultiPolygon, 4756))")
        rows = [(0, 0, 1), (1, 1, 2), (2, 2, 2), (3, 3, 4)]  # rows 1 and 2 share parcel number 2
        for idx, i, number in rows:
            conn.execute(sql.SQL("INSERT INTO staging.val_exact VALUES ({}, '01', {}, 1, {}, '{{ONT}}', 400, {}, NULL, "
                                 "NULL, ST_Multi({}))").format(idx, COMMUNE, number, SRID, _wkb(cell(i, 0))))
        findings = check_table(conn, get_target("parcels"), "staging.val_exact")
    got = {(f.code, f.feature_index) for f in findings}
    assert got == {("attr.parcel_number_duplicate", 1), ("attr.parcel_number_duplicate", 2)}
    assert all(f.feature_id is None and f.geometry is not None for f in findings)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_per_feature_checks_find_each_planted_error_and_nothing_else():
    """check_features on an in-memory file: every geometry and attribute error, in the file's TM-3 CRS."""
    t = get_target("parcels")
    geoms: list = [cell(i, 0) for i in range(30)]
    attrs = {"province_code": ["01"] * 30, "commune_code": [COMMUNE] * 30, "sheet_number": [1] * 30,
             "parcel_number": list(range(1, 31)), "land_use_codes": ["ONT+CLN"] * 30, "declared_area": [400.0] * 30}
    expected = set()

    def plant(i, code, geom=None, **values):
        if geom is not None:
            geoms[i] = geom
        for k, v in values.items():
            attrs[k][i] = v
        expected.add((code, i))

    x = lambda i: X0 + i * CELL  # noqa: E731
    plant(1, "geom.invalid", Polygon([(x(1), Y0), (x(2), Y0 + 20), (x(2), Y0), (x(1), Y0 + 20)]))
    plant(2, "geom.empty", Polygon())
    geoms[3] = None
    plant(3, "geom.empty")
    plant(4, "geom.wrong_type", LineString([(x(4), Y0), (x(5), Y0)]))
    plant(5, "geom.too_few_vertices", Polygon([(x(5), Y0), (x(6), Y0), (x(6), Y0), (x(5), Y0)]))
    expected.add(("geom.invalid", 5))  # a ring of two distinct points is also invalid (GEOS says why)
    plant(6, "geom.repeated_vertex", Polygon([(x(6), Y0), (x(7), Y0), (x(7), Y0 + 20), (x(7), Y0 + 20),
                                              (x(6), Y0 + 20)]))
    plant(7, "geom.spike", Polygon([(x(7), Y0), (x(8), Y0), (x(8), Y0 + 10), (x(8) + 6, Y0 + 10.02),
                                    (x(8), Y0 + 10.04), (x(8), Y0 + 20), (x(7), Y0 + 20)]))
    plant(8, "geom.sliver", box(x(8), Y0, x(9), Y0 + 0.05))
    plant(9, "geom.nonfinite", Polygon([(x(9), Y0), (np.nan, Y0), (x(10), Y0 + 20), (x(9), Y0 + 20)]))
    plant(10, "crs.outlier", cell(400, 0))
    plant(11, "geom.coordinate_range", box(-5, 100, 15, 120))
    expected.add(("crs.outlier", 11))  # and far from everything else
    plant(12, "attr.required_missing", parcel_number=None)
    plant(13, "attr.required_missing", commune_code="  ")
    plant(14, "attr.domain", commune_code="4")
    plant(15, "attr.domain", province_code="99")
    plant(16, "attr.domain", sheet_number=-3)
    plant(17, "attr.domain", declared_area=-1.0)
    plant(18, "attr.land_use_code_unknown", land_use_codes="ONT+ZZZ")
    plant(19, "attr.domain", parcel_number=2.5)
    plant(20, "geom.invalid", MultiPolygon([cell(20, 0), box(x(20) + 10, Y0, x(21) + 10, Y0 + 20)]))
    with np.errstate(invalid="ignore"):
        arr = np.array(geoms, dtype=object)
    findings = check_features(t, arr, attrs, crs=SRID, detect=False)
    got = {(f.code, f.feature_index) for f in findings}
    assert got == expected, f"missed {sorted(expected - got)}; unexpected {sorted(got - expected)}"
    invalid = next(f for f in findings if f.code == "geom.invalid" and f.feature_index == 1)
    assert "Self-intersection" in invalid.details["reason"] and invalid.geometry.geom_type == "Point"
    assert invalid.geometry.distance(geoms[1]) < 1e-6
    spike = next(f for f in findings if f.code == "geom.spike")
    assert spike.geometry.equals(shapely.Point(x(8) + 6, Y0 + 10.02))


def test_per_feature_checks_in_degrees_and_dataset_flags():
    """Geographic input: lengths judged in metres; the CRS detection flags swapped axes for the dataset."""
    t = get_target("parcels")
    lon, lat = 105.82, 21.01
    d = 20 / 111_000
    geoms = np.array([box(lon + i * d, lat, lon + (i + 1) * d, lat + d) for i in range(10)], dtype=object)
    geoms[3] = box(lon + 3 * d, lat, lon + 4 * d, lat + 0.05 / 111_000)  # 5 cm wide: sliver
    attrs = {"province_code": ["01"] * 10, "commune_code": [COMMUNE] * 10, "sheet_number": [1] * 10,
             "parcel_number": list(range(1, 11)), "land_use_codes": [["ONT"]] * 10}
    got = {(f.code, f.feature_index) for f in check_features(t, geoms, attrs, crs=4756, detect=False)}
    assert got == {("geom.sliver", 3)}
    # the same parcels written in TM-3 with northing first: the dataset is flagged, no feature is
    tm = np.array([box(X0 + i * CELL, Y0, X0 + (i + 1) * CELL, Y0 + CELL) for i in range(10)], dtype=object)
    swapped = shapely.transform(tm, lambda xy: xy[:, ::-1])
    findings = check_features(t, swapped, {k: v for k, v in attrs.items()}, declared_crs=SRID, province="01")
    dataset = {f.code for f in findings if f.feature_index is None}
    assert "crs.swapped_xy" in dataset
    assert all(f.severity in ("error", "warning", "info") for f in findings)


def test_batch_scope_finds_overlap_with_stored_neighbour_only(planted):
    """A batch is validated against what is already stored (the partner of a pair may lie outside the batch),
    and nothing outside the batch is reported."""
    url, plan, ids, *_ = planted
    stored = {key: fid for fid, key in ids.items()}
    with psycopg.connect(url) as conn:
        batch = conn.execute("INSERT INTO meta.load_batch (target, source_path, source_sha256, mode, status, "
                             "started_at) VALUES ('parcels', 'new.gpkg', repeat('b', 64), 'append', 'committed', "
                             "now()) RETURNING id").fetchone()[0]
        x, y = X0 + 12 * CELL + 5, Y0 + 12 * CELL + 5
        new = conn.execute(sql.SQL(
            "INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, "
            "declared_area, source_srid, area_srid, batch_id, geom) VALUES ('01', {}, 2, 950, '{{ONT}}', 25, {}, {}, "
            "{}, ST_Multi({})) RETURNING id").format(COMMUNE, SRID, SRID, batch, _wkb(box(x, y, x + 5, y + 5)))
        ).fetchone()[0]
        conn.commit()
        run_id = run_validation(conn, batch=batch)
        rows = conn.execute("SELECT check_code, feature_id, details, batch_id FROM meta.validation_finding "
                            "WHERE run_id = %s", (run_id,)).fetchall()
    under = next(k for k in stored if k.startswith(f"{COMMUNE}/2/") and _cell_of(plan, k) == (12, 12))
    assert [(r[0], r[1], r[2]["other_id"], r[3]) for r in rows] == [("topo.overlap", str(new), stored[under], batch)]
    assert rows[0][2]["area_m2"] == pytest.approx(25.0, abs=0.01)


def _cell_of(plan: Plan, key: str) -> tuple[int, int] | None:
    p = next(p for p in plan.parcels if p["key"] == key)
    b = p["geom"].bounds
    return round((b[0] - X0) / CELL), round((b[1] - Y0) / CELL)


def test_stored_dataset_outside_its_province_is_flagged_with_its_extent(fresh_db):
    """Per-dataset coordinate checks on stored data: parcels of province 01 (Hà Nội) lying in Hồ Chí Minh City
    get the detector's flag once, located by the extent of the data; no per-feature finding."""
    with psycopg.connect(fresh_db) as conn:
        for k in range(6):
            x, y = 685_000.0 + 20 * k, 1_191_000.0  # VN-2000 / TM-3 105°45' (EPSG:9210) in HCMC
            conn.execute(sql.SQL(
                "INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, "
                "declared_area, source_srid, area_srid, geom) VALUES ('01', '00004', 1, {}, '{{ODT}}', 400, 9210, "
                "9210, ST_Multi({}))").format(k + 1, _wkb(box(x, y, x + 20, y + 20), 9210)))
        conn.commit()
        run_id = run_validation(conn, "parcels")
        rows = conn.execute("SELECT check_code, severity, feature_id, province_code, ST_XMin(geom), ST_YMax(geom) "
                            "FROM meta.validation_finding WHERE run_id = %s", (run_id,)).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("crs.outside_province", "error", None, "01")]
    assert 106 < rows[0][4] < 107.5 and 10 < rows[0][5] < 11.5  # the extent, in WGS 84, lies in HCMC
