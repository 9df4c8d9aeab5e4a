"""One row per version, one feature id across versions (DESIGN.md "Access and writes"; migration 0200).

Every register write — PUT, PATCH, change of use, boundary correction, split, merge, DELETE — leaves the row it
closes exactly as it was except ``valid_to``; the new state is a new row carrying the same feature id; the feature
id keeps answering GET, ``datetime`` reads, history, the change feed, and the register's rights that point at it.
Through a real `landgeo serve` on a database of tests/register_data.py's parcels.
"""

from __future__ import annotations

import datetime as dt
import math

import mapbox_vector_tile
import psycopg
import pytest
import requests
from register_data import write_files
from register_env import TM3, Y0, _cell, _cli, _feature, _get, _h, _id_of, _rect, _write, env

__all__ = ["env"]

DOC = {"number": "45/QĐ-UBND", "date": "2026-11-30"}

# the whole stored row, geometries as exact EWKB, without valid_to (the one column a write may set, once)
ROW_SQL = ("SELECT to_jsonb(p) - 'geom' - 'geom_wgs84' - 'valid_to' || jsonb_build_object("
           "'geom', encode(ST_AsEWKB(p.geom), 'hex'), 'geom_wgs84', encode(ST_AsEWKB(p.geom_wgs84), 'hex')), "
           "p.valid_to, p.xmin::text FROM landdb.parcel p WHERE p.id = %s")


def _row(env, version: int) -> tuple:
    with psycopg.connect(env["db"]) as conn:
        return conn.execute(ROW_SQL, (version,)).fetchone()


def _current_version(env, fid: int) -> int:
    with psycopg.connect(env["db"]) as conn:
        return conn.execute("SELECT id FROM landdb.parcel WHERE coalesce(feature_id, id) = %s AND valid_to IS NULL",
                            (fid,)).fetchone()[0]


def _run(env, pid: str, inputs: dict) -> requests.Response:
    return requests.post(f"{env['base']}/processes/{pid}/execution", json={"inputs": inputs, "response": "document"},
                         headers=_h(env, "off79"), timeout=60)


def _etag(env, fid: int) -> str:
    return _get(env, fid).headers["ETag"]


def _put(env, n: int, fid: int, **props) -> requests.Response:
    x1, x2 = _cell(n)
    return _write(env, "PUT", fid, _feature(_rect(x1, Y0, x2, Y0 + 30), n, declared_area=600, **props),
                  etag=_etag(env, fid))


def _patch(env, n: int, fid: int, address: str) -> requests.Response:
    return _write(env, "PATCH", fid, {"properties": {"address": address}}, etag=_etag(env, fid),
                  ctype="application/merge-patch+json")


def _land_use(env, n: int, fid: int) -> requests.Response:
    return _run(env, "parcel-land-use-change", {"parcel": fid, "if_match": _etag(env, fid),
                                                "land_use_codes": ["TMD"], "document": DOC})


def _boundary(env, n: int, fid: int) -> requests.Response:
    x1, x2 = _cell(n)
    return _run(env, "parcel-boundary-correction", {
        "parcel": fid, "if_match": _etag(env, fid), "geometry": _rect(x1, Y0, x2 - 0.05, Y0 + 30), "crs": TM3,
        "declared_area": 598.5, "document": DOC})


def _delete(env, n: int, fid: int) -> requests.Response:
    return _write(env, "DELETE", fid, b"", etag=_etag(env, fid), crs=None)


WRITES = {"put": (_put, 21), "patch": (_patch, 22), "land_use_change": (_land_use, 23),
          "boundary_correction": (_boundary, 24), "delete": (_delete, 25)}


def test_rights_keep_pointing_at_the_parcel_across_versions(env, tmp_path):
    fid = _id_of(env, "26737", 29)
    assert _patch(env, 29, fid, "trước khi nạp quyền").status_code == 200  # current version: a later row
    files = write_files(tmp_path / "register")
    for target in ("parties", "rights", "certificates"):
        done = _cli(env["db"], "load", str(files[target]), "--into", target)
        assert done.returncode == 0, done.stderr
    assert _patch(env, 29, fid, "sau khi nạp quyền").status_code == 200
    rights = requests.get(f"{env['base']}/collections/rights/items", headers=_h(env, "admin"), timeout=30,
                          params={"f": "json", "parcel_id": fid}).json()["features"]
    assert len(rights) == 1 and rights[0]["properties"]["parcel_id"] == fid  # loaded against the feature id
    parcel = requests.get(f"{env['base']}/collections/parcels/items/{rights[0]['properties']['parcel_id']}",
                          headers=_h(env, "admin"), params={"f": "json"}, timeout=30)
    assert parcel.status_code == 200 and parcel.json()["properties"]["address"] == "sau khi nạp quyền"
    related = [ln["href"] for ln in parcel.json()["links"] if ln.get("rel") == "related"]
    assert any(h.endswith(f"rights/items?parcel_id={fid}") for h in related)


@pytest.mark.parametrize("kind", list(WRITES))
def test_a_write_closes_the_row_untouched_and_opens_a_new_one_with_the_same_id(env, kind):
    write, n = WRITES[kind]
    fid = _id_of(env, "26737", n)
    version = _current_version(env, fid)
    before = _row(env, version)
    assert before[1] is None
    args = (n, fid) if kind != "patch" else (n, fid, "Số mới")
    if kind == "put":
        r = write(env, n, fid, address="Số mới")
    else:
        r = write(env, *args)
    assert r.status_code in (200, 204), r.text
    after = _row(env, version)
    assert after[0] == before[0]  # every column, geometries to the byte: the closed version's content
    assert after[1] is not None  # … only its lifespan ended
    with psycopg.connect(env["db"]) as conn:
        rows = conn.execute("SELECT id, feature_id, valid_from, valid_to FROM landdb.parcel "
                            "WHERE coalesce(feature_id, id) = %s ORDER BY valid_from, id", (fid,)).fetchall()
        feed = conn.execute("SELECT feature_id, closed_version, op FROM landdb.parcel_change "
                            "ORDER BY seq DESC LIMIT 1").fetchone()
    if kind == "delete":
        assert [r[0] for r in rows] == [version] and _get(env, fid).status_code == 404
        assert feed == (fid, None, "retire")
        return
    assert len(rows) == 2 and rows[0][0] == version and rows[1][1] == fid and rows[1][3] is None
    assert rows[1][2] == after[1]  # the new version starts where the closed one ends: no gap, no overlap
    now = _get(env, fid)
    assert now.status_code == 200 and now.json()["id"] == fid
    assert feed == (fid, version, "update")
    # the closed state under the same feature id, by datetime
    then = (after[1] - dt.timedelta(microseconds=1)).isoformat()
    old = _get(env, fid, datetime=then).json()
    assert old["id"] == fid and old["properties"]["valid_to"] is not None
    assert old["properties"]["land_use_codes"] == before[0]["land_use_codes"]
    h = requests.get(f"{env['base']}/collections/parcels/items/{fid}/history", timeout=30).json()
    assert [v["versionId"] for v in h["versions"]] == [version, rows[1][0]]
    assert [(m["parent"], m["child"], m["parentVersion"], m["childVersion"]) for m in h["mutations"]] == [
        (fid, fid, version, rows[1][0])]
    assert requests.get(h["versions"][0]["href"], timeout=30).json()["properties"]["valid_to"] is not None


def test_two_writes_chain_versions_and_the_row_id_of_a_later_version_is_no_feature_id(env):
    fid = _id_of(env, "26737", 26)
    assert _patch(env, 26, fid, "một").status_code == 200
    second = _current_version(env, fid)
    snapshot = _row(env, second)
    r = _patch(env, 26, fid, "hai")
    assert r.status_code == 200 and r.json()["closedVersions"] == [second] and r.json()["id"] == fid
    assert _row(env, second)[0] == snapshot[0]
    assert _get(env, second).status_code == 404  # a version's row id is not a feature id
    listing = requests.get(f"{env['base']}/collections/parcels/items", timeout=30,
                           params={"f": "json", "commune_code": "26737", "parcel_number": 26}).json()
    assert [f["id"] for f in listing["features"]] == [fid]
    assert listing["features"][0]["properties"]["address"] == "hai"
    by_id = requests.get(f"{env['base']}/collections/parcels/items", timeout=30,
                         params={"f": "json", "filter": f"id = {fid}", "filter-lang": "cql2-text"}).json()
    assert [f["id"] for f in by_id["features"]] == [fid]  # CQL2 id is the feature id too
    # the vector tiles draw the current version under the feature id
    ring = listing["features"][0]["geometry"]["coordinates"][0][0][:-1]
    lon, lat = sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    z = 18
    col = int((lon + 180) / 360 * 2 ** z)
    row = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2 ** z)
    tile = requests.get(f"{env['base']}/collections/parcels/tiles/WebMercatorQuad/{z}/{row}/{col}", timeout=60)
    assert tile.status_code == 200, tile.text
    ids = {f["id"] for f in mapbox_vector_tile.decode(tile.content)["parcels"]["features"]}
    assert fid in ids and second not in ids and _current_version(env, fid) not in ids


def test_split_and_merge_close_parents_untouched_and_link_feature_ids(env):
    a, b = _id_of(env, "26737", 27), _id_of(env, "26737", 28)
    assert _patch(env, 27, a, "trước khi hợp").status_code == 200  # parent a is now a later version
    va, vb = _current_version(env, a), _current_version(env, b)
    before = {v: _row(env, v) for v in (va, vb)}
    x1, _ = _cell(27)
    _, x2 = _cell(28)
    r = _run(env, "parcel-merge", {"parcels": [a, b], "if_match": [_etag(env, a), _etag(env, b)], "crs": TM3,
                                   "document": DOC, "result": {"type": "Feature", "geometry": _rect(
                                       x1, Y0, x2, Y0 + 30), "properties": {"parcel_number": 127,
                                                                            "land_use_codes": ["ONT"]}}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["retired"] == [a, b] and out["closedVersions"] == [va, vb]
    for v, row in before.items():
        assert _row(env, v)[0] == row[0] and _row(env, v)[1] is not None
    merged = out["ids"][0]
    h = requests.get(f"{env['base']}/collections/parcels/items/{merged}/history", timeout=30).json()
    assert sorted((m["parent"], m["parentVersion"]) for m in h["mutations"]) == sorted([(a, va), (b, vb)])
    assert {m["child"] for m in h["mutations"]} == {merged}
    for fid in (a, b):  # a retired parent: 404 for reads and for writes, its past by datetime and history
        assert _get(env, fid).status_code == 404
        again = _write(env, "PATCH", fid, {"properties": {"address": "x"}}, etag='"x"',
                       ctype="application/merge-patch+json")
        assert again.status_code == 404 and "is retired" in again.json()["description"]
    ha = requests.get(f"{env['base']}/collections/parcels/items/{a}/history", timeout=30).json()
    assert {m["child"] for m in ha["mutations"] if m["relation"] == "descendant"} == {merged}
    # split the merged parcel back into two
    vm = _current_version(env, merged)
    snap = _row(env, vm)
    xm = (x1 + x2) / 2
    parts = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": _rect(x1, Y0, xm, Y0 + 30), "properties": {"parcel_number": 227,
                                                                               "land_use_codes": ["ONT"]}},
        {"type": "Feature", "geometry": _rect(xm, Y0, x2, Y0 + 30), "properties": {"parcel_number": 228,
                                                                               "land_use_codes": ["ONT"]}}]}
    r = _run(env, "parcel-split", {"parcel": merged, "if_match": _etag(env, merged), "parts": parts, "crs": TM3,
                                   "document": DOC})
    assert r.status_code == 200, r.text
    assert _row(env, vm)[0] == snap[0] and r.json()["retired"] == [merged]
    again = _run(env, "parcel-split", {"parcel": merged, "if_match": '"x"', "parts": parts, "crs": TM3,
                                       "document": DOC})
    assert again.status_code == 404 and "is retired" in again.json()["description"]
