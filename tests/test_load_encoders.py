"""Vectorised encoders of the loader: EWKB (``landgeo.db.ewkb``) and binary COPY tuples (``landgeo.db.copybin``).

EWKB is checked byte for byte against shapely; COPY data against psycopg's own ``write_row`` and by a round
trip through a real PostgreSQL/PostGIS table (no mocks).
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pytest
import shapely
from psycopg.adapt import Dumper
from psycopg.copy import Copy, FileWriter
from psycopg.pq import Format

from landgeo.db.copybin import HEADER, TRAILER, encode_rows
from landgeo.db.ewkb import decompose, encode, ewkb

UTC = dt.UTC
ROOT = Path(__file__).resolve().parent.parent
W = shapely.from_wkt
PROMOTE = {"MultiPolygon": shapely.multipolygons, "MultiLineString": shapely.multilinestrings,
           "MultiPoint": shapely.multipoints}


def shapely_ewkb(geoms, srid: int, geometry_type: str) -> list[bytes | None]:
    """Reference: each geometry made 2D, promoted to the multi type, SRID set, written by shapely."""
    out = []
    for g in geoms:
        if g is None:
            out.append(None)
            continue
        g = shapely.force_2d(g)
        if geometry_type != "Point" and not g.geom_type.startswith("Multi"):
            g = PROMOTE[geometry_type]([g])
        out.append(shapely.to_wkb(shapely.set_srid(g, srid), include_srid=True, byte_order=1))
    return out


GEOMETRIES = {
    "MultiPolygon": [
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (1 1, 2 1, 2 2, 1 1), (3 3, 4 3, 4 4, 3 3))",
        None,
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5), (5.1 5.1, 5.2 5.1, 5.2 5.2, 5.1 5.1)), "
        "((9 9, 8 9, 8 8, 9 9)))",
        "POLYGON ((560000.125 2300000.5, 560020 2300000, 560020 2300025, 560000 2300025, 560000.125 2300000.5))",
        "MULTIPOLYGON (((-1 -1, -2 -1, -2 -2, -1 -1)))",
        None,
    ],
    "MultiLineString": [
        "LINESTRING (0 0, 1 1, 2 3)", None, "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3, 4 5))",
        "LINESTRING (105.1 21.2, 105.3 21.4)",
    ],
    "MultiPoint": ["POINT (1 2)", None, "MULTIPOINT ((1 2), (3 4), (5 6))", "POINT (105.85 21.03)"],
    "Point": ["POINT (1 2)", None, "POINT (105.85 21.03)", "POINT (-0.5 1e10)"],
}


def _geoms(wkts) -> np.ndarray:
    return np.array([None if w is None else W(w) for w in wkts], dtype=object)


# ---------------------------------------------------------------------------------------------------------
# EWKB


@pytest.mark.parametrize("geometry_type", list(GEOMETRIES))
def test_ewkb_matches_shapely_byte_for_byte(geometry_type):
    geoms = _geoms(GEOMETRIES[geometry_type])
    out = ewkb(geoms, 4756, geometry_type)
    assert out.type == pa.binary()
    assert out.null_count == sum(g is None for g in geoms)
    assert out.to_pylist() == shapely_ewkb(geoms, 4756, geometry_type)


def test_ewkb_of_generated_parcels_matches_shapely():
    sys.path.insert(0, str(ROOT))
    from bench.data import parcels

    wkb, _ = parcels(5000)
    geoms = shapely.from_wkb(wkb)
    geoms[[3, 17, 4999]] = None
    assert ewkb(geoms, 5897, "MultiPolygon").to_pylist() == shapely_ewkb(geoms, 5897, "MultiPolygon")


@pytest.mark.parametrize("shape", ["grid", "gaps"])
def test_ewkb_of_one_ring_parcels_matches_shapely(shape):
    """Rows of one polygon of one ring (most parcels: the encoder's one-record header) are byte for byte shapely's,
    with any number of vertices, single Polygons promoted; a NULL, a hole or a second part in the batch sends it
    the general way, with the same bytes."""
    sys.path.insert(0, str(ROOT))
    from bench.data import parcels

    wkb, _ = parcels(3000, shape=shape)
    geoms = shapely.from_wkb(wkb)
    geoms[::7] = shapely.segmentize(geoms[::7], np.linspace(0.7, 9.0, len(geoms[::7])))  # rings of many vertices
    geoms[1::5] = shapely.get_geometry(geoms[1::5], 0)  # single Polygons among MultiPolygons
    parts = decompose(geoms, "MultiPolygon")
    assert (np.diff(parts.offsets[0]) == 1).all() and (np.diff(parts.offsets[1]) == 1).all()
    assert len(set(np.diff(parts.offsets[2]))) > 3
    assert encode(parts, 4756).to_pylist() == shapely_ewkb(geoms, 4756, "MultiPolygon")
    for odd in (None, W("POLYGON ((0 0, 9 0, 9 9, 0 0), (1 1, 2 1, 2 2, 1 1))"),
                W("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))")):
        mixed = geoms.copy()
        mixed[1234] = odd
        assert ewkb(mixed, 4756, "MultiPolygon").to_pylist() == shapely_ewkb(mixed, 4756, "MultiPolygon")


@pytest.mark.parametrize("geometry_type", list(GEOMETRIES))
def test_decompose_once_encode_with_other_coordinates(geometry_type):
    geoms = _geoms(GEOMETRIES[geometry_type])
    parts = decompose(geoms, geometry_type)
    moved = shapely.get_coordinates(geoms) * [2.0, 0.5] + [1000.0, -3.0]
    expected = shapely_ewkb(shapely.transform(geoms, lambda c: c * [2.0, 0.5] + [1000.0, -3.0]), 4326,
                            geometry_type)
    assert encode(parts, 4326, moved).to_pylist() == expected
    assert encode(parts, 4756).to_pylist() == shapely_ewkb(geoms, 4756, geometry_type)  # parts unchanged


def test_points_take_ragged_array_coordinates_too():
    geoms = _geoms([*GEOMETRIES["Point"], "POINT EMPTY"])
    _, ragged, _ = shapely.to_ragged_array(geoms)  # a NaN row per missing/empty point
    assert len(ragged) == len(geoms) > len(shapely.get_coordinates(geoms))
    expected = shapely_ewkb(shapely.transform(geoms, lambda c: c + 1), 4326, "Point")
    assert encode(decompose(geoms, "Point"), 4326, ragged + 1).to_pylist() == expected


def test_z_is_dropped():
    geoms = _geoms(["POLYGON Z ((0 0 1, 1 0 2, 1 1 3, 0 0 1))", "POLYGON ((0 0, 1 0, 1 1, 0 0))"])
    assert decompose(geoms, "MultiPolygon").coords.shape == (8, 2)
    assert ewkb(geoms, 4756, "MultiPolygon").to_pylist() == shapely_ewkb(geoms, 4756, "MultiPolygon")
    points = _geoms(["POINT Z (1 2 3)"])
    assert ewkb(points, 4326, "Point").to_pylist() == shapely_ewkb(points, 4326, "Point")


@pytest.mark.parametrize("geometry_type, wkts", [
    ("MultiPolygon", ["POLYGON EMPTY", "MULTIPOLYGON EMPTY", "POLYGON ((0 0, 1 0, 1 1, 0 0))"]),
    ("MultiLineString", ["LINESTRING EMPTY", "MULTILINESTRING EMPTY"]),
    ("MultiPoint", ["POINT EMPTY", "MULTIPOINT EMPTY", "POINT (1 2)"]),
    ("Point", ["POINT EMPTY", "POINT (1 2)"]),
])
def test_empty_geometries_match_shapely(geometry_type, wkts):
    geoms = _geoms(wkts)
    assert ewkb(geoms, 4756, geometry_type).to_pylist() == shapely_ewkb(geoms, 4756, geometry_type)


def test_all_none_and_no_rows():
    assert ewkb(np.array([None, None], dtype=object), 4756, "MultiPolygon").to_pylist() == [None, None]
    assert len(ewkb(np.array([], dtype=object), 4756, "MultiPolygon")) == 0


@pytest.mark.parametrize("geometry_type, wkt", [
    ("MultiPolygon", "LINESTRING (0 0, 1 1)"),
    ("MultiPolygon", "GEOMETRYCOLLECTION (POINT (1 2))"),
    ("MultiLineString", "POLYGON ((0 0, 1 0, 1 1, 0 0))"),
    ("MultiPoint", "LINESTRING (0 0, 1 1)"),
    ("Point", "MULTIPOINT ((1 2))"),
])
def test_geometry_that_does_not_fit_is_refused(geometry_type, wkt):
    with pytest.raises(ValueError, match=f"do not fit a {geometry_type} column"):
        ewkb(_geoms(["POINT (0 0)" if geometry_type.endswith("Point") else None, wkt]), 4756, geometry_type)


def test_bad_arguments():
    geoms = _geoms(GEOMETRIES["MultiPolygon"])
    with pytest.raises(ValueError, match="not supported"):
        decompose(geoms, "GeometryCollection")
    with pytest.raises(ValueError, match="shape"):
        encode(decompose(geoms, "MultiPolygon"), 4326, np.zeros((3, 2)))


# ---------------------------------------------------------------------------------------------------------
# Binary COPY

COLUMNS = [  # (column, PostgreSQL type for the table, encode_rows type name)
    ("a_int2", "int2", "int2"), ("b_int4", "int4", "int4"), ("c_int8", "int8", "int8"),
    ("d_float8", "float8", "float8"), ("e_bool", "bool", "bool"), ("f_text", "text", "text"),
    ("g_bytea", "bytea", "bytea"), ("h_geom", "geometry(MultiPolygon, 4756)", "geometry"),
    ("i_date", "date", "date"), ("j_ts", "timestamptz", "timestamptz"),
    ("k_area", "numeric(14,2)", "numeric(14,2)"), ("l_num", "numeric", "numeric"), ("m_codes", "text[]", "text[]"),
]
GEOM_WKT = ["POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (1 1, 2 1, 2 2, 1 1))",
            "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))"]

ROWS = [
    (1, 7, 2**40, 1.5, True, "Thôn Đông", b"\x00\x01\xff", GEOM_WKT[0], dt.date(1999, 12, 31),
     dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), 1234.56, Decimal("-99999999.99"), ["ONT", "CLN"]),
    (None, None, None, None, None, None, None, None, None, None, None, None, None),
    (-32768, -(2**31), -(2**63), -0.25, False, "", b"", GEOM_WKT[1], dt.date(1900, 1, 1),
     dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), -0.01, Decimal("0.00"), []),
    (32767, 2**31 - 1, 2**63 - 1, 1e300, True, "Xóm Chùa", b"z", GEOM_WKT[0], dt.date(2000, 1, 1),
     dt.datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC), 123456789012.34, Decimal("10000.50"),
     ["Đường Nguyễn Trãi", None, ""]),
    (0, 0, 0, 0.0, False, "x", b"\x00", GEOM_WKT[1], dt.date(2030, 6, 1),
     dt.datetime(2000, 1, 1, tzinfo=UTC), 0.0, Decimal("0.01"), ["LUC"]),
    (5, 5, 5, -1e-300, True, "Phố Hàng Bạc", b"\xde\xad", GEOM_WKT[0], dt.date(1, 1, 1),
     dt.datetime(1900, 3, 1, 12, 0, tzinfo=UTC), -100000000.1, Decimal("-12345678.90"), ["ONT", "ONT"]),
]


def arrays_of(rows) -> list[pa.Array]:
    """The rows as pyarrow arrays of the COPY's types (geometry as EWKB from landgeo.db.ewkb)."""
    cols = list(zip(*rows, strict=True))
    geoms = np.array([None if w is None else W(w) for w in cols[7]], dtype=object)
    return [
        pa.array(cols[0], pa.int16()), pa.array(cols[1], pa.int32()), pa.array(cols[2], pa.int64()),
        pa.array(cols[3], pa.float64()), pa.array(cols[4], pa.bool_()), pa.array(cols[5], pa.string()),
        pa.array(cols[6], pa.binary()), ewkb(geoms, 4756, "MultiPolygon"), pa.array(cols[8], pa.date32()),
        pa.array(cols[9], pa.timestamp("us", tz="UTC")), pa.array(cols[10], pa.float64()),
        pa.array(cols[11], pa.decimal128(12, 2)), pa.array(cols[12], pa.list_(pa.string())),
    ]


def columns_of(rows) -> list[tuple[str, pa.Array]]:
    return [(c[2], a) for c, a in zip(COLUMNS, arrays_of(rows), strict=True)]


def create_table(conn, name: str) -> None:
    conn.execute(f"CREATE TEMP TABLE {name} ({', '.join(f'{c} {t}' for c, t, _ in COLUMNS)})")


def copy_binary(conn, table: str, *chunks) -> None:
    """Binary COPY of raw chunks with ``Copy.write`` (psycopg adds no framing in that mode)."""
    with conn.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN WITH (FORMAT binary)") as copy:
        for chunk in chunks:
            copy.write(chunk)


def copy_binary_into(conn, target: str, columns) -> None:
    """One batch, framed by HEADER and TRAILER."""
    copy_binary(conn, target, HEADER, encode_rows(columns), TRAILER)


def read_back(conn, table: str) -> list[tuple]:
    cols = ", ".join("ST_AsEWKB(h_geom, 'NDR')" if c == "h_geom" else c for c, _, _ in COLUMNS)
    return conn.execute(f"SELECT {cols} FROM {table} ORDER BY c_int8 NULLS FIRST, a_int2").fetchall()


def expected_back(rows) -> list[tuple]:
    """What PostgreSQL gives back for ROWS: numeric(14,2) as Decimal, geometry as shapely's EWKB."""
    out = []
    geoms = shapely_ewkb([None if r[7] is None else W(r[7]) for r in rows], 4756, "MultiPolygon")
    for r, geom in zip(rows, geoms, strict=True):
        area = None if r[10] is None else Decimal(f"{r[10]:.2f}")
        out.append((*r[:7], geom, *r[8:10], area, *r[11:]))
    return sorted(out, key=lambda t: (t[2] is not None, t[2] or 0, t[0] or 0))


def test_header_and_trailer_are_the_binary_copy_framing():
    assert HEADER == b"PGCOPY\n\xff\r\n\x00" + bytes(8) and len(HEADER) == 19
    assert TRAILER == b"\xff\xff"


def test_round_trip_every_type(db):
    create_table(db, "enc_test_all")
    no_nulls = [r for r in ROWS if r[0] is not None]
    # two batches in one COPY: one with NULLs, one without (fixed-width values inline in the row record)
    copy_binary(db, "enc_test_all", HEADER, encode_rows(columns_of(ROWS[:3])), encode_rows(columns_of(no_nulls[2:])),
                TRAILER)
    assert read_back(db, "enc_test_all") == expected_back(ROWS[:3] + no_nulls[2:])
    nfc = db.execute("SELECT count(*) FROM enc_test_all WHERE f_text IS NORMALIZED AND f_text LIKE 'Thôn Đông'")
    assert nfc.fetchone()[0] == 1
    srid = db.execute("SELECT DISTINCT ST_SRID(h_geom) FROM enc_test_all WHERE h_geom IS NOT NULL").fetchall()
    assert srid == [(4756,)]


def psycopg_write_rows(conn, rows, types) -> bytes:
    """What psycopg's write_row produces for ``rows`` (header and trailer stripped)."""
    geometry_oid = conn.execute("SELECT 'geometry'::regtype::oid").fetchone()[0]

    class EwkbDumper(Dumper):
        format = Format.BINARY
        oid = geometry_oid

        def dump(self, obj):
            return obj

    cur = conn.cursor()
    cur.adapters.register_dumper(bytes, EwkbDumper)  # geometry; bytea values are passed as bytearray
    buf = io.BytesIO()
    with Copy(cur, binary=True, writer=FileWriter(buf)) as copy:
        copy.set_types([geometry_oid if t == "geometry" else t for t in types])
        for row in rows:
            copy.write_row(row)
    data = buf.getvalue()
    assert data.startswith(HEADER) and data.endswith(TRAILER)
    return data[len(HEADER):-len(TRAILER)]


def test_bytes_equal_psycopg_write_row(db):
    types = ["int2", "int4", "int8", "float8", "bool", "text", "bytea", "geometry", "date", "timestamptz",
             "numeric", "numeric", "text[]"]
    columns = [(t, a) for t, a in zip(types, arrays_of(ROWS), strict=True)]
    geoms = columns[7][1].to_pylist()
    py_rows = [(*r[:6], None if r[6] is None else bytearray(r[6]), g, *r[8:10],
                None if r[10] is None else Decimal(f"{r[10]:.2f}"), *r[11:])
               for r, g in zip(ROWS, geoms, strict=True)]
    columns[10] = ("numeric", pa.array([r[10] for r in py_rows], pa.decimal128(14, 2)))
    assert bytes(encode_rows(columns)) == psycopg_write_rows(db, py_rows, types)


@pytest.mark.parametrize("values, type_name, scale", [
    (["0", "1", "-1", "0.5", "-0.5", "9999", "10000", "10000.0001", "-0.0001", "99999999.99", "100000000000000"],
     "numeric", 4),
    (["123456789012345678", "-900000000000000000", "0", "10000000000000000"], "numeric", 0),
    (["0.00000001", "-0.12345678", "1.00000000"], "numeric", 8),
    (["0.00", "1234.56", "-1234.56", "100.00", "0.01", "1000000.00", "-999999999999.99"], "numeric(14,2)", 2),
    (["1.5", "-7.0", "0.1", "20000.0"], "numeric", 1),
])
def test_numeric_values_round_trip(db, values, type_name, scale):
    decimals = pa.array([Decimal(v) for v in values], pa.decimal128(38, scale))
    db.execute(f"CREATE TEMP TABLE enc_test_num (i serial, v {type_name})")
    copy_binary_into(db, "enc_test_num (v)", [(type_name, decimals)])
    got = [r[0] for r in db.execute("SELECT v FROM enc_test_num ORDER BY i").fetchall()]
    assert got == decimals.to_pylist()
    assert all(-g.as_tuple().exponent == scale for g in got)  # display scale = the array's scale
    # encode_rows writes the canonical form: what numeric_send gives for the stored values
    sent = [r[0] for r in db.execute("SELECT numeric_send(v) FROM enc_test_num ORDER BY i").fetchall()]
    assert bytes(encode_rows([(type_name, decimals)])) == b"".join(
        b"\x00\x01" + len(s).to_bytes(4, "big") + s for s in sent)


def test_numeric_from_floats_integers_and_special_values(db):
    db.execute("CREATE TEMP TABLE enc_test_num (i int, a numeric, b numeric, c numeric)")
    floats = [512.3, -0.05, 1e12, float("nan"), float("inf"), -float("inf"), None, 2.665]
    copy_binary_into(db, "enc_test_num", [
        ("int4", np.arange(len(floats), dtype=np.int32)), ("numeric(14,1)", pa.array(floats)),
        ("numeric(14,2)", pa.array(floats)), ("numeric", pa.array([1, -20000, None, 0, 7, 2**62, 3, 10]))])
    got = db.execute("SELECT a::text, b::text, c::text FROM enc_test_num ORDER BY i").fetchall()
    # floats are scaled then rounded half to even: -0.05 → -0.5 → 0; 2.665 → 26.65 → 27 and 266.5 → 266
    assert [r[0] for r in got] == ["512.3", "0.0", "1000000000000.0", "NaN", "Infinity", "-Infinity", None, "2.7"]
    assert [r[1] for r in got] == ["512.30", "-0.05", "1000000000000.00", "NaN", "Infinity", "-Infinity", None,
                                   "2.66"]
    assert [r[2] for r in got] == ["1", "-20000", None, "0", "7", str(2**62), "3", "10"]


def test_numeric_column_typmod_is_applied_by_the_server(db):
    db.execute("CREATE TEMP TABLE enc_test_num (a numeric(14,1))")
    copy_binary_into(db, "enc_test_num", [("numeric(14,2)", pa.array([512.34, -0.05, 0.25]))])
    assert [r[0] for r in db.execute("SELECT a::text FROM enc_test_num")] == ["512.3", "-0.1", "0.3"]


def test_numeric_recv_accepts_leading_and_trailing_zero_digits(db):
    """Non-canonical digit groups are accepted and normalised (numeric_recv strips zero groups)."""
    db.execute("CREATE TEMP TABLE enc_test_num (v numeric)")
    # 12 as digits [0, 12, 0] with weight 1, dscale 2: ndigits, weight, sign, dscale, digits (int16 each)
    value = b"".join(x.to_bytes(2, "big") for x in (3, 1, 0, 2, 0, 12, 0))
    copy_binary(db, "enc_test_num", HEADER + b"\x00\x01" + len(value).to_bytes(4, "big") + value + TRAILER)
    assert db.execute("SELECT v::text, numeric_send(v) FROM enc_test_num").fetchone() == (
        "12.00", b"".join(x.to_bytes(2, "big") for x in (1, 0, 0, 2, 12)))


def test_text_array_matches_array_send(db):
    values = [["ONT", "CLN"], [], None, ["Thôn Đông", None, ""], [None]]
    payload = bytes(encode_rows([("text[]", pa.array(values, pa.list_(pa.string())))]))
    expected = b""
    for v in values:
        if v is None:
            expected += b"\x00\x01\xff\xff\xff\xff"
            continue
        s = db.execute("SELECT array_send(%s::text[])", [v]).fetchone()[0]
        expected += b"\x00\x01" + len(s).to_bytes(4, "big") + s
    assert payload == expected
    assert len(db.execute("SELECT array_send('{}'::text[])").fetchone()[0]) == 12  # ndim 0: no dimensions


def test_binary_write_gets_no_header_from_psycopg(db):
    """``Copy.write`` passes bytes through: without HEADER the server rejects the data."""
    db.execute("CREATE TEMP TABLE enc_test_raw (a int8)")
    with pytest.raises(psycopg.errors.BadCopyFileFormat):
        copy_binary(db, "enc_test_raw", encode_rows([("int8", np.arange(3))]), TRAILER)


def test_numpy_sliced_and_chunked_inputs_encode_like_arrow(db):
    days = np.array(["1999-12-31", "2000-01-01", "NaT", "1066-10-14"], dtype="datetime64[D]")
    stamps = np.array(["2024-01-02T03:04:05.123456", "NaT", "1970-01-01", "1999-12-31T23:59:59.999999"],
                      dtype="datetime64[us]")
    text = np.array(["Thôn Đoài", None, "", "ODT"], dtype=object)
    blobs = np.array([b"\x01", None, b"", b"\x02\x03"], dtype=object)
    lists = np.array([["a"], None, [], ["b", "c"]], dtype=object)
    numpy_cols = [("date", days), ("timestamptz", stamps), ("text", text), ("bytea", blobs), ("text[]", lists),
                  ("int8", np.array([1, 2, 3, 4])), ("float8", np.array([0.5, np.nan, 2.0, -1.0]))]
    arrow_cols = [
        ("date", pa.array([dt.date(1999, 12, 31), dt.date(2000, 1, 1), None, dt.date(1066, 10, 14)])),
        ("timestamptz", pa.array([dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), None,
                                  dt.datetime(1970, 1, 1, tzinfo=UTC),
                                  dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)])),
        ("text", pa.array(list(text))), ("bytea", pa.array(list(blobs))),
        ("text[]", pa.array(list(lists), pa.list_(pa.string()))),
        ("int8", pa.array([1, 2, 3, 4])), ("float8", pa.array([0.5, float("nan"), 2.0, -1.0]))]
    expected = bytes(encode_rows(arrow_cols))
    assert bytes(encode_rows(numpy_cols)) == expected
    # the same values at a non-zero offset of longer arrays, and split into chunks
    padded = [(t, pa.concat_arrays([a.slice(0, 2), a, a.slice(1, 1)]).slice(2, 4)) for t, a in arrow_cols]
    assert bytes(encode_rows(padded)) == expected
    chunked = [(t, pa.chunked_array([a.slice(0, 1), a.slice(1)])) for t, a in arrow_cols]
    assert bytes(encode_rows(chunked)) == expected
    large = {pa.string(): pa.large_string(), pa.binary(): pa.large_binary(),
             pa.list_(pa.string()): pa.large_list(pa.large_string())}
    assert bytes(encode_rows([(t, a.cast(large.get(a.type, a.type))) for t, a in arrow_cols])) == expected
    # and what the server reads
    db.execute("CREATE TEMP TABLE enc_test_np (d date, t timestamptz, x text, b bytea, l text[], i int8, f float8)")
    copy_binary_into(db, "enc_test_np", numpy_cols)
    got = db.execute("SELECT d, t, x, b, l FROM enc_test_np ORDER BY i").fetchall()
    assert got == [(dt.date(1999, 12, 31), dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "Thôn Đoài", b"\x01",
                    ["a"]),
                   (dt.date(2000, 1, 1), None, None, None, None),
                   (None, dt.datetime(1970, 1, 1, tzinfo=UTC), "", b"", []),
                   (dt.date(1066, 10, 14), dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "ODT",
                    b"\x02\x03", ["b", "c"])]


def test_naive_timestamps_are_utc(db):
    db.execute("SET LOCAL TimeZone = 'Asia/Ho_Chi_Minh'")
    db.execute("CREATE TEMP TABLE enc_test_ts (t timestamptz)")
    copy_binary_into(db, "enc_test_ts", [("timestamptz", pa.array([dt.datetime(2025, 7, 1, 12, 30)]))])
    assert db.execute("SELECT t::text FROM enc_test_ts").fetchone()[0] == "2025-07-01 19:30:00+07"


@pytest.mark.parametrize("columns, message", [
    ([("int4", np.arange(3)), ("text", pa.array(["a", "b"]))], "different lengths"),
    ([("int4", np.arange(3)), ("jsonb", pa.array(["{}"] * 3))], "unsupported column type 'jsonb'"),
    ([], "needs 1"),
    ([("numeric", pa.array([1.5]))], "need a scale"),
    ([("numeric", pa.array([Decimal("12345678901234567890")], pa.decimal128(38, 0)))], "beyond int64"),
    ([("numeric(30,20)", pa.array([1.5]))], "scale 20 not supported"),
    ([("int2", pa.array([70000]))], "cannot convert"),
    ([("date", pa.array(["2020-01-01"]))], "date needs"),
    ([("text[]", pa.array(["a"]))], "list<string>"),
])
def test_bad_input_is_a_clear_value_error(columns, message):
    with pytest.raises(ValueError, match=message):
        encode_rows(columns)


def test_no_rows_is_empty():
    assert bytes(encode_rows([("int4", np.array([], dtype=np.int32)), ("text", pa.array([], pa.string()))])) == b""
