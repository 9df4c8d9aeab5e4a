"""Validation on parcels that share no vertex (digitised old maps): every planted error found, nothing else.

Hồ Chí Minh City (79), commune 26737 (Phường Tân Định), surveyed in VN-2000 / TM-3 105°45' (EPSG:9210): separate
18.4 m × 23.4 m rectangles in 20 m × 25 m cells, so a 1.6 m strip lies between every pair of neighbours (the shape
of ``bench/data.py``'s ``gaps``), with mixed land uses, the legacy codes LUA and BHK among them. The
strips are open to the outside of the sheet: they are no gap in the coverage and must give no finding. Planted:
an overlap across a strip, parcels with a hole (one with a loose parcel in it), a block of edge-sharing parcels
around a missing one, a sliver in a strip, a duplicated geometry, a declared area off, a parcel on the wrong sheet,
one outside the commune, legacy land uses on a new version. The findings must be exactly these — a faster
formulation of a check cannot silently drop one — and the same when the heavy statements are split over
connections.

Also: the day a version is judged at is its start's date in Vietnam (UTC+7), whatever the session's time zone.
"""

from __future__ import annotations

import psycopg
import pytest
import shapely
from psycopg import sql
from shapely.geometry import Polygon, box

from landgeo.catalog import get_target
from landgeo.validation import check_table, run_validation

SRID = 9210  # VN-2000 / TM-3 105°45' (Hồ Chí Minh City)
X0, Y0 = 602_000.0, 1_192_000.0
CW, CH, STRIP = 20.0, 25.0, 1.6
COLS, ROWS = 12, 8  # sheet 1 = columns 0-5, sheet 2 = columns 6-11
COMMUNE = "26737"  # Phường Tân Định (current since 2025-07-01)
RETIRED = "26734"  # Phường Tân Định of the former generation (until 2025-06-30)
USES = (["ODT"], ["ONT"], ["CLN", "ONT"], ["TMD"], ["DGT"], ["LUC"])


def rect(i: int, j: int, grow: float = 0.0) -> Polygon:
    x, y = X0 + i * CW, Y0 + j * CH
    return box(x - grow, y - grow, x + CW - STRIP + grow, y + CH - STRIP + grow)


def full_cell(i: int, j: int) -> Polygon:
    return box(X0 + i * CW, Y0 + j * CH, X0 + (i + 1) * CW, Y0 + (j + 1) * CH)


def build() -> tuple[list[dict], set[tuple[str, str]]]:
    """Parcels (dicts) and the expected findings as (check code, key)."""
    parcels: list[dict] = []
    expected: set[tuple[str, str]] = set()
    numbers = {1: 0, 2: 0}

    def add(geom, sheet, *, key=None, uses=None, declared="auto", commune=COMMUNE, expect=()):
        numbers[sheet] += 1
        key = key or f"{sheet}/{numbers[sheet]}"
        parcels.append({"geom": geom, "sheet": sheet, "number": numbers[sheet], "key": key,
                        "uses": uses or list(USES[len(parcels) % len(USES)]), "commune": commune,
                        "declared": round(geom.area, 1) if declared == "auto" else declared})
        expected.update((code, key) for code in expect)
        return key

    block = {(i, j) for i in range(7, 10) for j in range(4, 7)}  # edge-sharing 3 x 3 block, middle missing
    for i in range(COLS):
        for j in range(ROWS):
            sheet = 1 if i < 6 else 2
            if (i, j) in block:
                if (i, j) != (8, 5):
                    add(full_cell(i, j), sheet, key=f"c{i},{j}")
                continue
            if (i, j) == (2, 3):  # grown 2 m: across the 1.6 m strip into its 8 neighbours
                add(rect(i, j, grow=2.0), sheet, key="grown")
            elif (i, j) == (4, 5):  # a 4 m x 4 m hole that no parcel fills
                x, y = X0 + i * CW + 7, Y0 + j * CH + 9
                shell = rect(i, j).exterior.coords
                add(Polygon(shell, [[(x, y), (x, y + 4), (x + 4, y + 4), (x + 4, y), (x, y)]]), sheet, key="holed")
            elif (i, j) == (4, 1):  # a 6 m x 6 m hole with a loose 2 m x 2 m parcel in it: 32 m² uncovered
                x, y = X0 + i * CW + 6, Y0 + j * CH + 8
                shell = rect(i, j).exterior.coords
                add(Polygon(shell, [[(x, y), (x, y + 6), (x + 6, y + 6), (x + 6, y), (x, y)]]), sheet, key="holed-2")
                add(box(x + 2, y + 2, x + 4, y + 4), sheet, key="loose")
            elif (i, j) == (1, 1):
                add(rect(i, j), sheet, key="area", declared=round(rect(i, j).area * 1.1, 1),
                    expect=("attr.area_mismatch",))
            elif (i, j) == (3, 6):
                add(rect(i, j), sheet, key="lua", uses=["LUA"], expect=("attr.land_use_code_not_valid_at_time",))
            elif (i, j) == (5, 0):
                add(rect(i, j), sheet, key="bhk", uses=["BHK", "ONT"],
                    expect=("attr.land_use_code_not_valid_at_time",))
            elif (i, j) == (1, 6):
                add(rect(i, j), 2, key="wrong-sheet", expect=("topo.wrong_sheet",))
            elif (i, j) == (10, 2):
                add(rect(i, j), sheet, key="dup", expect=("topo.duplicate",))  # reported on the first of the two
                add(rect(i, j), sheet, key="dup-copy")
            else:
                add(rect(i, j), sheet, key=f"c{i},{j}")
    # the grown parcel overlaps its 8 neighbours (4 along the edges, 4 by 0.4 m x 0.4 m at the corners)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                expected.add(("topo.overlap", f"grown~c{2 + di},{3 + dj}"))
    expected.add(("topo.gap", "hole"))
    expected.add(("topo.gap", "hole around a loose parcel"))
    expected.add(("topo.gap", "block"))
    # a sliver lying in the strip between rows 0 and 1 of column 0 (touching nothing)
    y = Y0 + CH - STRIP + 0.75
    add(box(X0, y, X0 + 15, y + 0.1), 1, key="sliver", expect=("geom.sliver",))
    add(rect(COLS + 3, 0), 2, key="outside", expect=("topo.outside_commune", "topo.wrong_sheet"))  # 50 m east
    return parcels, expected


def _geom(g) -> sql.Composable:
    return sql.SQL("ST_Transform(ST_GeomFromWKB({}, {}), 4756)").format(sql.Literal(shapely.to_wkb(g)),
                                                                        sql.Literal(SRID))


def store(conn, parcels: list[dict], valid_from: str | None = None) -> dict[str, str]:
    """The commune's boundary and sheet frames, then the parcels; stored id -> key."""
    commune = box(X0 - 10, Y0 - 10, X0 + COLS * CW + 10, Y0 + ROWS * CH + 10)
    conn.execute(sql.SQL("UPDATE landdb.admin_unit SET geom = ST_Multi({}) WHERE level = 'commune' AND code = {} "
                         "AND valid_to IS NULL").format(_geom(commune), COMMUNE))
    for number, (x_from, x_to) in ((1, (X0 - 10, X0 + 6 * CW)), (2, (X0 + 6 * CW, X0 + COLS * CW + 10))):
        conn.execute(sql.SQL("INSERT INTO landdb.map_sheet (province_code, commune_code, sheet_number, scale, "
                             "source_srid, geom) VALUES ('79', {}, {}, 1000, {}, ST_Multi({}))").format(
            COMMUNE, number, SRID, _geom(box(x_from, Y0 - 10, x_to, Y0 + ROWS * CH + 10))))
    ids = {}
    for p in parcels:
        row = conn.execute(sql.SQL(
            "INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, "
            "declared_area, source_srid, area_srid, valid_from, geom) VALUES ('79', {}, {}, {}, {}, {}, {}, {}, "
            "coalesce({}::timestamptz, now()), ST_Multi({})) RETURNING id").format(
            p["commune"], p["sheet"], p["number"], p["uses"], p["declared"], SRID, SRID, valid_from,
            _geom(p["geom"]))).fetchone()
        ids[str(row[0])] = p["key"]
    return ids


def _key(code: str, fid: str | None, details: dict, geom_wkb, ids: dict[str, str]) -> str:
    if code == "topo.gap":
        area = details["area_m2"]
        return {16.0: "hole", 32.0: "hole around a loose parcel", 500.0: "block"}.get(round(area), f"gap of {area} m²")
    if code == "topo.overlap":
        pair = {ids[fid], ids[details["other_id"]]}
        assert "grown" in pair, pair
        return f"grown~{(pair - {'grown'}).pop()}"
    return ids[fid]


@pytest.fixture
def gapped(fresh_db):
    parcels, expected = build()
    with psycopg.connect(fresh_db) as conn:
        ids = store(conn, parcels)
        conn.commit()
    return fresh_db, ids, expected


def test_gapped_parcels_findings_are_exactly_the_planted_errors(gapped):
    url, ids, expected = gapped
    with psycopg.connect(url) as conn:
        run_id = run_validation(conn, "parcels", jobs=2)
        rows = conn.execute("SELECT check_code, feature_id, details, ST_AsBinary(geom) FROM meta.validation_finding "
                            "WHERE run_id = %s", (run_id,)).fetchall()
    found = [(code, _key(code, fid, details, wkb, ids)) for code, fid, details, wkb in rows]
    assert set(found) == expected, (f"missed {sorted(expected - set(found))}; "
                                    f"unexpected {sorted(set(found) - expected)}")
    assert len(found) == len(expected)  # one finding per planted error: no strip reported, nothing twice


def test_gapped_parcels_gap_and_overlap_measured(gapped):
    url, ids, _ = gapped
    t = get_target("parcels")
    with psycopg.connect(url) as conn:
        one = check_table(conn, t, "landdb.parcel", checks=["topo.gap", "topo.overlap", "topo.duplicate"])
        two = check_table(conn, t, "landdb.parcel", checks=["topo.gap", "topo.overlap", "topo.duplicate"], jobs=2)
    gaps = sorted(f.details["area_m2"] for f in one if f.code == "topo.gap")
    assert gaps == [pytest.approx(16.0, abs=0.01), pytest.approx(32.0, abs=0.01), pytest.approx(500.0, abs=0.5)]
    overlaps = sorted(f.details["area_m2"] for f in one if f.code == "topo.overlap")
    # grown 2 m into a 1.6 m strip: 0.4 m deep along the edges (23.4 + 2 × 2 m and 18.4 + 2 × 2 m long, minus the
    # neighbours' own extent), 0.4 m x 0.4 m at the four corners
    assert overlaps[:4] == [pytest.approx(0.16, abs=0.005)] * 4
    assert overlaps[4:] == [pytest.approx(0.4 * 18.4, abs=0.01)] * 2 + [pytest.approx(0.4 * 23.4, abs=0.01)] * 2
    key = lambda f: (f.code, f.feature_id, f.details.get("other_id"), round(f.details.get("area_m2", 0), 2))  # noqa: E731
    assert sorted(map(key, one)) == sorted(map(key, two))


@pytest.mark.parametrize("session_zone", ["UTC", "America/Los_Angeles", "Asia/Ho_Chi_Minh"])
def test_versions_are_judged_on_their_date_in_vietnam(fresh_db, session_zone):
    """A version starting at local midnight of 2024-08-01 (17:00 UTC on 2024-07-31) is judged on 2024-08-01, when
    LUA had left the list; one starting at 23:30 local time on 2024-07-31 on that day, when it was still valid.
    Likewise the commune code of the former generation after 2025-07-01 local midnight."""
    cases = [  # (commune, uses, valid_from, expected code or None)
        (COMMUNE, ["LUA"], "2024-08-01 00:00:00+07", "attr.land_use_code_not_valid_at_time"),
        (COMMUNE, ["LUA"], "2024-07-31 23:30:00+07", None),
        (RETIRED, ["ODT"], "2025-07-01 00:00:00+07", "attr.commune_not_valid_at_time"),
        (RETIRED, ["ODT"], "2025-06-30 23:30:00+07", None),
        (COMMUNE, ["ODT"], "2025-07-01 00:00:00+07", None),
    ]
    with psycopg.connect(fresh_db) as conn:
        conn.execute(sql.SQL("SET TIME ZONE {}").format(sql.Literal(session_zone)))
        ids = {}
        for k, (commune, uses, since, _) in enumerate(cases):
            ids[conn.execute(
                "INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,"
                " source_srid, area_srid, valid_from, geom) VALUES ('79', %s, 1, %s, %s, %s, %s, %s::timestamptz,"
                " ST_Multi(ST_Transform(ST_MakeEnvelope(%s, %s, %s, %s, %s), 4756))) RETURNING id::text",
                (commune, k + 1, uses, SRID, SRID, since, X0 + 30 * k, Y0, X0 + 30 * k + 18.4, Y0 + 23.4,
                 SRID)).fetchone()[0]] = k
        found = check_table(conn, get_target("parcels"), "landdb.parcel",
                            checks=["attr.land_use_code_not_valid_at_time", "attr.commune_not_valid_at_time"])
        conn.rollback()
    got = {(ids[f.feature_id], f.code, f.details["date"]) for f in found}
    want = {(k, code, since[:10] if code else None) for k, (_c, _u, since, code) in enumerate(cases) if code}
    assert got == want
