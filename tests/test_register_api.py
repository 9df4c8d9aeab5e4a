"""Register transactions over HTTP against a real `landgeo serve`: OGC API – Features Part 4 on parcels,
optimistic locking, Content-Crs, versions and history, scope, validation before commit, bad input, the change
feed, the audit, and 20 concurrent writers.

Data: tests/register_data.py — province 79, communes 26737 (parcels 1–30) and 26740 (31–40): 20 m × 30 m
rectangles side by side on sheet 1 in VN-2000 / TM-3 105°45' (EPSG:9210), declared 600 m²; province 01,
commune 00004 (sheet 3).
"""

from __future__ import annotations

import json
import threading

import psycopg
import pytest
import requests
from register_env import TM3, X0, Y0, _cell, _count, _feature, _get, _h, _id_of, _rect, _snapshot, _write, env

__all__ = ["env"]


# ---------------------------------------------------------------- Part 4: the basics

def test_conformance_declares_part4_and_processes(env):
    conf = requests.get(f"{env['base']}/conformance", params={"f": "json"}, timeout=30).json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags" in conf
    assert "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core" in conf


def test_options_tell_each_user_what_it_may_do(env):
    items = f"{env['base']}/collections/parcels/items"
    assert "POST" not in requests.options(items, timeout=30).headers["Allow"]
    assert "POST" not in requests.options(items, headers=_h(env, "analyst"), timeout=30).headers["Allow"]
    assert "POST" in requests.options(items, headers=_h(env, "off79"), timeout=30).headers["Allow"]
    fid79, fid01 = _id_of(env, "26737", 2), _id_of(env, "00004", 2, sheet=3)
    assert "PUT" in requests.options(f"{items}/{fid79}", headers=_h(env, "off79"), timeout=30).headers["Allow"]
    assert "DELETE" not in requests.options(f"{items}/{fid01}", headers=_h(env, "off79"), timeout=30).headers["Allow"]
    assert "PATCH" not in requests.options(f"{items}/{fid79}", headers=_h(env, "off26740"), timeout=30).headers["Allow"]
    r = _get(env, fid79)
    assert r.headers["ETag"].startswith('"') and "PUT" in r.headers["Allow"]
    assert "PUT" not in _get(env, fid79, user=None).headers["Allow"]
    assert any(link["rel"] == "version-history" for link in r.json()["links"])
    au = requests.put(f"{env['base']}/collections/admin-units/items/1", data="{}", headers=_h(env, "admin"),
                      timeout=30)
    assert au.status_code == 405 and "PUT" not in au.headers["Allow"]


def test_put_keeps_the_id_versions_and_crs_round_trip(env):
    fid = _id_of(env, "26737", 3)
    before = _get(env, fid)
    etag = before.headers["ETag"]
    x1, x2 = _cell(3)
    # a corrected survey: the east side moves 0.4 mm-precise coordinates (TM-3 metres, 4 decimals)
    geom = _rect(x1, Y0, x2 - 0.1234, Y0 + 30)
    r = _write(env, "PUT", fid, _feature(geom, 3, declared_area=597.5, address="Số 2 (đo lại)"), etag=etag)
    assert r.status_code == 200, r.text
    new_etag = r.headers["ETag"]
    assert new_etag != etag
    after = _get(env, fid, crs=TM3)
    assert after.status_code == 200 and after.headers["ETag"] == new_etag
    ring = after.json()["geometry"]["coordinates"][0][0]
    xs = sorted({round(c[0], 4) for c in ring})
    assert abs(xs[-1] - (x2 - 0.1234)) <= 0.001 and abs(xs[0] - x1) <= 0.001
    assert after.json()["properties"]["address"] == "Số 2 (đo lại)"
    # the old state is still there, by datetime
    then = before.json()["properties"]["valid_from"]
    old = requests.get(f"{env['base']}/collections/parcels/items", timeout=30,
                       params={"f": "json", "datetime": then, "parcel_number": 3, "commune_code": "26737"}).json()
    assert [f["properties"]["address"] for f in old["features"]] == ["Số 2"]
    # one feature id across versions: the closed version is listed under the same id
    assert old["features"][0]["id"] == fid and old["features"][0]["properties"]["valid_to"] is not None
    # and in the history: two versions (rows), the first one's row id is the feature id, linked by the update
    h = requests.get(f"{env['base']}/collections/parcels/items/{fid}/history", timeout=30).json()
    ids = [v["versionId"] for v in h["versions"]]
    assert len(ids) == 2 and ids[0] == fid and ids[1] != fid
    assert r.json()["closedVersions"] == [fid]
    m = h["mutations"][0]
    assert m["event"] == "update" and m["parent"] == m["child"] == fid and m["relation"] == "ancestor"
    assert (m["parentVersion"], m["childVersion"]) == (ids[0], ids[1])


def test_if_match_missing_stale_or_of_another_version(env):
    fid, other = _id_of(env, "26737", 4), _id_of(env, "26737", 5)
    x1, x2 = _cell(4)
    doc = _feature(_rect(x1, Y0, x2, Y0 + 30), 4, declared_area=600)
    snap = _snapshot(env)
    assert _write(env, "PUT", fid, doc).status_code == 428
    assert _write(env, "PUT", fid, doc, etag='"1-1"').status_code == 412
    assert _write(env, "PUT", fid, doc, etag=_get(env, other).headers["ETag"]).status_code == 412
    assert _write(env, "DELETE", fid, b"").status_code == 428
    assert _snapshot(env) == snap


def test_two_officers_one_parcel_exactly_one_wins(env):
    fid = _id_of(env, "26737", 6)
    etag = _get(env, fid).headers["ETag"]
    results = []

    def edit(user, address):
        patch = {"properties": {"address": address}}
        results.append(_write(env, "PATCH", fid, patch, user=user, etag=etag,
                              ctype="application/merge-patch+json").status_code)

    threads = [threading.Thread(target=edit, args=(u, f"by {u}")) for u in ("off79", "admin")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 412]


def test_patch_merge_and_delete_retires(env):
    fid = _id_of(env, "26740", 33)
    r = _write(env, "PATCH", fid, {"properties": {"land_use_codes": ["CLN"], "address": None}}, user="off26740",
               etag=_get(env, fid, user="off26740").headers["ETag"], ctype="application/merge-patch+json")
    assert r.status_code == 200, r.text
    props = _get(env, fid).json()["properties"]
    assert props["land_use_codes"] == ["CLN"] and props["address"] is None and props["declared_area"] == 600
    r = _write(env, "DELETE", fid, b"", user="off26740", etag=r.headers["ETag"], crs=None)
    assert r.status_code == 204, r.text
    assert _get(env, fid).status_code == 404  # retired: not found without datetime (OGC Part 4 after DELETE)
    was = _get(env, fid, datetime=props["valid_from"]).json()  # the state before the retirement
    assert was["id"] == fid and was["properties"]["land_use_codes"] == ["CLN"] and was["properties"]["valid_to"]
    assert _get(env, fid, datetime="2020-06-01T00:00:00Z").json()["properties"]["land_use_codes"] == ["ONT"]
    assert _get(env, fid, datetime="2019-01-01T00:00:00Z").status_code == 404  # before the parcel existed
    h = requests.get(f"{env['base']}/collections/parcels/items/{fid}/history", timeout=30).json()
    assert len(h["versions"]) == 2 and h["versions"][-1]["validTo"] is not None
    current = requests.get(f"{env['base']}/collections/parcels/items", timeout=30,
                           params={"f": "json", "parcel_number": 33, "commune_code": "26740"}).json()
    assert current["features"] == []
    assert _count(env, "SELECT count(*) FROM landdb.parcel WHERE commune_code = '26740' AND parcel_number = 33") == 2


def test_post_creates_with_location(env):
    x1, _ = _cell(41)
    doc = _feature(_rect(x1, Y0, x1 + 20, Y0 + 30), 41, commune="26740", declared_area=600)
    headers = {**_h(env, "off26740"), "Content-Type": "application/geo+json", "Content-Crs": f"<{TM3}>"}
    r = requests.post(f"{env['base']}/collections/parcels/items", data=json.dumps(doc), headers=headers, timeout=60)
    assert r.status_code == 201, r.text
    loc = r.headers["Location"]
    got = requests.get(loc, params={"f": "json", "crs": TM3}, timeout=30)
    assert got.status_code == 200 and got.headers["ETag"] == r.headers["ETag"]
    assert got.json()["properties"]["computed_area"] == pytest.approx(600, abs=0.01)
    again = requests.post(f"{env['base']}/collections/parcels/items", data=json.dumps(doc), headers=headers,
                          timeout=60)
    assert again.status_code in (409, 422), again.text  # same number on the sheet / overlapping itself
    x1, _ = _cell(42)
    doc = _feature(_rect(x1, Y0, x1 + 20, Y0 + 30), 42, commune="26740", declared_area=600)
    plain = requests.post(f"{env['base']}/collections/parcels/items", data=json.dumps(doc), timeout=60,
                          headers={**headers, "Content-Type": "application/json"})
    assert plain.status_code == 201, plain.text  # a Feature as application/json is a create, not a filter
    cql = requests.post(f"{env['base']}/collections/parcels/items", timeout=60, headers={
        "Content-Type": "application/json"}, data=json.dumps({"op": "=", "args": [{"property": "parcel_number"}, 42]}))
    assert cql.status_code == 200 and len(cql.json()["features"]) == 1, cql.text


# ---------------------------------------------------------------- who may write (API side)

def test_roles_and_scope(env):
    fid79, fid01 = _id_of(env, "26737", 7), _id_of(env, "00004", 7, sheet=3)
    patch = {"properties": {"address": "x"}}
    snap = _snapshot(env)
    anon = _write(env, "PATCH", fid79, patch, user=None, etag="x", ctype="application/merge-patch+json")
    assert anon.status_code == 401 and "Bearer" in anon.headers["WWW-Authenticate"]
    assert _write(env, "PATCH", fid79, patch, user="analyst", etag="x",
                  ctype="application/merge-patch+json").status_code == 403
    etag01 = _get(env, fid01).headers["ETag"]
    out = _write(env, "PATCH", fid01, patch, user="off79", etag=etag01, ctype="application/merge-patch+json")
    assert out.status_code == 403 and "scope" in out.json()["description"]
    etag = _get(env, fid79).headers["ETag"]
    moved = _write(env, "PATCH", fid79, {"properties": {"commune_code": "00004", "province_code": "01"}},
                   user="off79", etag=etag, ctype="application/merge-patch+json")
    assert moved.status_code == 403
    assert _write(env, "PATCH", fid79, patch, user="off26740", etag=etag,
                  ctype="application/merge-patch+json").status_code == 403
    assert _snapshot(env) == snap


# ---------------------------------------------------------------- validation before commit, bad input

def test_overlap_with_a_neighbour_is_422_with_findings(env):
    fid = _id_of(env, "26737", 8)
    x1, x2 = _cell(8)
    snap = _snapshot(env)
    r = _write(env, "PUT", fid, _feature(_rect(x1, Y0, x2 + 5, Y0 + 30), 8, declared_area=750),
               etag=_get(env, fid).headers["ETag"])
    assert r.status_code == 422, r.text
    codes = {f["code"] for f in r.json()["findings"]}
    assert "topo.overlap" in codes
    f = next(f for f in r.json()["findings"] if f["code"] == "topo.overlap")
    assert f["message"] and "location" in f
    assert _snapshot(env) == snap


def test_area_mismatch_and_legacy_code_refused(env):
    fid = _id_of(env, "26737", 9)
    x1, x2 = _cell(9)
    etag = _get(env, fid).headers["ETag"]
    r = _write(env, "PUT", fid, _feature(_rect(x1, Y0, x2, Y0 + 30), 9, declared_area=900), etag=etag)
    assert r.status_code == 422 and "attr.area_mismatch" in {f["code"] for f in r.json()["findings"]}
    r = _write(env, "PUT", fid, _feature(_rect(x1, Y0, x2, Y0 + 30), 9, declared_area=600,
                                         land_use_codes=["XYZ"]), etag=etag)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize("payload, status, words", [
    (b"<xml/>", 400, "not JSON"),
    (b'{"type": "FeatureCollection", "features": []}', 400, "not a GeoJSON Feature"),
    (json.dumps(_feature({"type": "Point", "coordinates": [X0, Y0]}, 10)), 400, "Point"),
    (json.dumps(_feature({"type": "Polygon", "coordinates": []}, 10)), 422, "empty"),
    (json.dumps(_feature(_rect(X0, Y0, X0 + 20, Y0 + 30) | {"coordinates": [[[X0, Y0], [X0 + 20, Y0 + 30],
                                                                               [X0 + 20, Y0], [X0, Y0 + 30],
                                                                               [X0, Y0]]]}, 10)), 422, "valid"),
    (json.dumps(_feature(_rect(5_000_000, Y0, 5_000_020, Y0 + 30), 10)), 422, "outside"),
    (json.dumps(_feature(_rect(X0, Y0, X0 + 20, Y0 + 30), 10, owner="Nguyễn Văn A")), 400, "unknown property"),
    (json.dumps(_feature(_rect(X0, Y0, X0 + 20, Y0 + 30), 10, declared_area="six hundred")), 400, "number"),
    (json.dumps(_feature(_rect(X0, Y0, X0 + 20, Y0 + 30), "ten")), 400, "integer"),
])
def test_bad_bodies_are_one_clear_4xx_and_change_nothing(env, payload, status, words):
    fid = _id_of(env, "26737", 10)
    snap = _snapshot(env)
    r = _write(env, "PUT", fid, payload, etag=_get(env, fid).headers["ETag"])
    assert r.status_code == status, r.text
    assert words.lower() in r.json()["description"].lower() and "\n" not in r.json()["description"]
    assert _snapshot(env) == snap


def test_unknown_content_crs_is_400(env):
    fid = _id_of(env, "26737", 11)
    x1, x2 = _cell(11)
    r = _write(env, "PUT", fid, _feature(_rect(x1, Y0, x2, Y0 + 30), 11), etag=_get(env, fid).headers["ETag"],
               crs="http://www.opengis.net/def/crs/EPSG/0/2154")
    assert r.status_code == 400 and "Content-Crs" in r.json()["description"]


# ---------------------------------------------------------------- feed, audit, load

def test_change_feed_and_audit(env):
    # its own create, update and retire (the test does not rely on the order of the others)
    x1, x2 = _cell(43)
    headers = {**_h(env, "off26740"), "Content-Type": "application/geo+json", "Content-Crs": f"<{TM3}>"}
    made = requests.post(f"{env['base']}/collections/parcels/items", headers=headers, timeout=60,
                         data=json.dumps(_feature(_rect(x1, Y0, x2, Y0 + 30), 43, commune="26740", declared_area=600)))
    assert made.status_code == 201, made.text
    fid = made.json()["id"]
    patched = _write(env, "PATCH", fid, {"properties": {"address": "feed"}}, user="off26740", etag=made.headers["ETag"],
                     ctype="application/merge-patch+json")
    assert patched.status_code == 200, patched.text
    assert _write(env, "DELETE", fid, b"", user="off26740", etag=patched.headers["ETag"], crs=None).status_code == 204
    feed = requests.get(f"{env['base']}/collections/parcels/changes", params={"since": 0}, timeout=30).json()
    assert feed["changes"] and all(c["seq"] > 0 for c in feed["changes"])
    ops = {c["op"] for c in feed["changes"]}
    assert {"update", "retire", "create"} <= ops
    later = requests.get(f"{env['base']}/collections/parcels/changes", params={"since": feed["last"]}, timeout=30)
    assert later.json()["changes"] == []
    assert requests.get(f"{env['base']}/collections/parcels/changes", params={"since": "yesterday"},
                        timeout=30).status_code == 400
    with psycopg.connect(env["db"]) as conn:
        rows = conn.execute("SELECT action, detail FROM access.audit_event WHERE collection = 'parcels' "
                            "AND action IN ('update', 'retire', 'create')").fetchall()
        mutations = conn.execute("SELECT count(*) FROM landdb.parcel_mutation").fetchone()[0]
    assert len(rows) == mutations
    assert all(d["after"] for _a, d in rows) and any(d["before"] for _a, d in rows)


def test_twenty_writers_at_once(env):
    numbers = list(range(12, 30))  # 18 parcels of 26737 + 2 of 26740 by the commune officer
    jobs = [("off79", "26737", n) for n in numbers] + [("off26740", "26740", n) for n in (34, 35)]
    before = _count(env, "SELECT count(*) FROM access.audit_event WHERE action = 'update'")
    results: list[tuple[int, str]] = []
    barrier = threading.Barrier(len(jobs))

    def edit(user, commune, n):
        fid = _id_of(env, commune, n)
        etag = _get(env, fid, user=user).headers["ETag"]
        barrier.wait()
        r = _write(env, "PATCH", fid, {"properties": {"address": f"đợt 20 #{n}"}}, user=user, etag=etag,
                   ctype="application/merge-patch+json")
        results.append((r.status_code, r.text[:200]))

    threads = [threading.Thread(target=edit, args=j) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [s for s, _ in results] == [200] * 20, results
    assert _count(env, "SELECT count(*) FROM access.audit_event WHERE action = 'update'") == before + 20
    assert _count(env, "SELECT count(*) FROM landdb.parcel WHERE valid_to IS NULL AND address LIKE 'đợt 20 #%%'") == 20


def test_owslib_part4_client(env):
    """OWSLib's OGC API – Features client (collection_item_create/update/delete) against the server. OWSLib does
    not expose response headers, so the ETag for If-Match comes from a plain GET."""
    from owslib.ogcapi.features import Features

    auth = {"Authorization": f"Bearer {env['tokens']['off26740']}", "Content-Crs": f"<{TM3}>"}
    x1, x2 = _cell(45)
    doc = _feature(_rect(x1, Y0, x2, Y0 + 30), 45, commune="26740", declared_area=600)
    assert Features(env["base"], headers=dict(auth)).collection_item_create("parcels", doc)
    fid = _id_of(env, "26740", 45)
    doc["properties"]["address"] = "qua OWSLib"
    client = Features(env["base"], headers={**auth, "If-Match": _get(env, fid).headers["ETag"],
                                            "Content-Type": "application/geo+json"})
    assert client.collection_item_update("parcels", str(fid), json.dumps(doc))
    assert client.collection_item("parcels", str(fid))["properties"]["address"] == "qua OWSLib"
    stale = Features(env["base"], headers={**auth, "If-Match": '"0-0"'})
    with pytest.raises(Exception, match="PreconditionFailed"):
        stale.collection_item_delete("parcels", str(fid))
    fresh = Features(env["base"], headers={**auth, "If-Match": _get(env, fid).headers["ETag"]})
    assert fresh.collection_item_delete("parcels", str(fid))
    assert _get(env, fid).status_code == 404
