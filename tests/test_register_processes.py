"""Parcel mutations as OGC API – Processes against a real server: split, merge, change of land use, boundary
correction — all-or-nothing, with history links, the legal basis, the audit; and the bad cases."""

from __future__ import annotations

import psycopg
import pytest
import requests
from register_env import TM3, X0, Y0, _cell, _count, _get, _h, _id_of, _rect, _snapshot, env

from landgeo.api.process_results import parse_multipart

__all__ = ["env"]
DOC = {"number": "123/QĐ-UBND", "date": "2026-11-30"}


def _run(env, pid: str, inputs: dict, user: str | None = "off79", **request) -> requests.Response:
    """Execute ``pid``; the answer as the results document unless ``request`` says otherwise."""
    return requests.post(f"{env['base']}/processes/{pid}/execution",
                         json={"inputs": inputs, "response": "document", **request}, headers=_h(env, user), timeout=60)


def _part(geom: dict, number: int, area: float | None, codes=("ONT",)) -> dict:
    props = {"parcel_number": number, "land_use_codes": list(codes)}
    if area is not None:
        props["declared_area"] = area
    return {"type": "Feature", "geometry": geom, "properties": props}


def _fc(*features) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def test_processes_are_listed_and_described(env):
    listing = requests.get(f"{env['base']}/processes", timeout=30).json()
    ids = {p["id"] for p in listing["processes"]}
    assert {"parcel-split", "parcel-merge", "parcel-land-use-change", "parcel-boundary-correction"} <= ids
    split = requests.get(f"{env['base']}/processes/parcel-split", timeout=30).json()
    assert {"parcel", "if_match", "parts", "crs", "document"} <= set(split["inputs"])
    assert requests.get(f"{env['base']}/processes/nope", timeout=30).status_code == 404


def test_split_one_into_four_with_history_and_audit(env):
    fid = _id_of(env, "26737", 1)
    etag = _get(env, fid).headers["ETag"]
    x1, x2 = _cell(1)
    xm, ym = x1 + 10, Y0 + 15
    parts = _fc(_part(_rect(x1, Y0, xm, ym), 101, 150), _part(_rect(xm, Y0, x2, ym), 102, 150),
                _part(_rect(x1, ym, xm, Y0 + 30), 103, 150), _part(_rect(xm, ym, x2, Y0 + 30), 104, 150, ("CLN",)))
    r = _run(env, "parcel-split", {"parcel": fid, "if_match": etag, "parts": parts, "crs": TM3, "document": DOC})
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["ids"]) == 4 and out["retired"] == [fid] and len(out["etags"]) == 4
    assert _get(env, fid).status_code == 404  # the parent is retired
    before = _get(env, fid, datetime="2020-06-01T00:00:00Z")  # the parent as it was before the split
    assert before.json()["id"] == fid and before.json()["properties"]["parcel_number"] == 1
    child = _get(env, out["ids"][3], crs=TM3).json()
    assert child["properties"]["parcel_number"] == 104 and child["properties"]["land_use_codes"] == ["CLN"]
    assert child["properties"]["computed_area"] == pytest.approx(150, abs=0.01)
    assert out["etags"][3] == _get(env, out["ids"][3]).headers["ETag"]  # etags[i] is the ETag of ids[i]
    h = requests.get(f"{env['base']}/collections/parcels/items/{out['ids'][0]}/history", timeout=30).json()
    link = [m for m in h["mutations"] if m["event"] == "split"]
    assert link and link[0]["parent"] == fid and link[0]["document"]["number"] == DOC["number"]
    assert link[0]["relation"] == "ancestor"
    hp = requests.get(f"{env['base']}/collections/parcels/items/{fid}/history", timeout=30).json()
    assert sorted(m["child"] for m in hp["mutations"]) == sorted(out["ids"])
    assert {m["relation"] for m in hp["mutations"]} == {"descendant"}
    with psycopg.connect(env["db"]) as conn:
        action, ids, detail = conn.execute("SELECT action, item_ids, detail FROM access.audit_event "
                                           "WHERE action = 'split' ORDER BY id DESC LIMIT 1").fetchone()
    assert detail["before"] == [fid] and sorted(detail["after"]) == sorted(out["ids"])
    assert detail["document"]["number"] == DOC["number"]


def _split_inputs(env, n: int, *parts, doc=DOC, etag: str | None = None) -> dict:
    fid = _id_of(env, "26737", n)
    return {"parcel": fid, "if_match": etag or _get(env, fid).headers["ETag"], "parts": _fc(*parts), "crs": TM3,
            "document": doc}


@pytest.mark.parametrize("case, status, code", [
    ("overlap", 422, "mutation.overlap"), ("gap", 422, "mutation.gap"), ("outside", 422, "mutation.outside"),
    ("area", 422, "mutation.area_not_conserved"), ("taken", 409, None), ("nodoc", 400, None),
    ("stale", 412, None), ("one", 400, None), ("wrongtype", 400, None), ("other-commune", 400, None),
])
def test_bad_splits_change_nothing(env, case, status, code):
    n = 20
    x1, x2 = _cell(n)
    xm = x1 + 10
    west, east = _rect(x1, Y0, xm, Y0 + 30), _rect(xm, Y0, x2, Y0 + 30)
    parts = [_part(west, 201, 300), _part(east, 202, 300)]
    doc, etag = DOC, None
    if case == "overlap":
        parts = [_part(_rect(x1, Y0, xm + 0.5, Y0 + 30), 201, 300), _part(east, 202, 300)]
    elif case == "gap":
        parts = [_part(_rect(x1, Y0, xm - 0.5, Y0 + 30), 201, 300), _part(east, 202, 300)]
    elif case == "outside":
        parts = [_part(_rect(x1, Y0 - 1, xm, Y0 + 30), 201, 300), _part(east, 202, 300)]
    elif case == "area":
        parts = [_part(west, 201, 400), _part(east, 202, 400)]
    elif case == "taken":
        parts = [_part(west, 5, 300), _part(east, 202, 300)]
    elif case == "nodoc":
        doc = None
    elif case == "stale":
        etag = '"1-2"'
    elif case == "one":
        parts = [_part(_rect(x1, Y0, x2, Y0 + 30), 201, 600)]
    elif case == "wrongtype":
        parts = [_part({"type": "LineString", "coordinates": [[x1, Y0], [x2, Y0]]}, 201, 300),
                 _part(east, 202, 300)]
    elif case == "other-commune":
        parts = [_part(west, 201, 300) | {"properties": {"parcel_number": 201, "land_use_codes": ["ONT"],
                                                          "commune_code": "26740"}}, _part(east, 202, 300)]
    snap = _snapshot(env)
    r = _run(env, "parcel-split", _split_inputs(env, n, *parts, doc=doc, etag=etag))
    assert r.status_code == status, r.text
    assert "\n" not in r.json()["description"]
    if code:
        assert code in {f["code"] for f in r.json()["findings"]}, r.text
    assert _snapshot(env) == snap


def test_merge_two_neighbours(env):
    a, b = _id_of(env, "26737", 2), _id_of(env, "26737", 3)
    x1, _ = _cell(2)
    _, x2 = _cell(3)
    result = _part(_rect(x1, Y0, x2, Y0 + 30), 2, 1200)
    r = _run(env, "parcel-merge", {"parcels": [a, b], "if_match": [_get(env, a).headers["ETag"],
                                                                   _get(env, b).headers["ETag"]],
                                   "result": result, "crs": TM3, "document": DOC})
    assert r.status_code == 200, r.text
    new = r.json()["ids"][0]
    assert sorted(r.json()["retired"]) == sorted([a, b])
    h = requests.get(f"{env['base']}/collections/parcels/items/{new}/history", timeout=30).json()
    assert sorted(m["parent"] for m in h["mutations"] if m["event"] == "merge") == sorted([a, b])
    assert _get(env, new).json()["properties"]["declared_area"] == 1200


@pytest.mark.parametrize("pair, words", [((6, 8), "do not touch"), ((30, 31), "different communes")])
def test_bad_merges(env, pair, words):
    ids = [_id_of(env, "26737" if n <= 30 else "26740", n) for n in pair]
    x1, _ = _cell(pair[0])
    _, x2 = _cell(pair[1])
    snap = _snapshot(env)
    r = _run(env, "parcel-merge", {"parcels": ids, "if_match": [_get(env, i, user="admin").headers["ETag"]
                                                                for i in ids],
                                   "result": _part(_rect(x1, Y0, x2, Y0 + 30), pair[0], 600 * len(pair)), "crs": TM3,
                                   "document": DOC}, user="admin")
    assert r.status_code == 422 and words in r.json()["description"], r.text
    assert _snapshot(env) == snap


def test_land_use_change_and_boundary_correction(env):
    fid = _id_of(env, "26737", 12)
    r = _run(env, "parcel-land-use-change", {"parcel": fid, "if_match": _get(env, fid).headers["ETag"],
                                             "land_use_codes": ["TMD"], "document": DOC})
    assert r.status_code == 200, r.text
    assert r.json()["ids"] == [fid] and _get(env, fid).json()["properties"]["land_use_codes"] == ["TMD"]
    x1, x2 = _cell(12)
    r = _run(env, "parcel-boundary-correction", {"parcel": fid, "if_match": r.json()["etags"][0],
                                                 "geometry": _rect(x1, Y0, x2 - 0.3, Y0 + 30), "crs": TM3,
                                                 "declared_area": 591, "document": DOC})
    assert r.status_code == 200, r.text
    h = requests.get(f"{env['base']}/collections/parcels/items/{fid}/history", timeout=30).json()
    assert [m["kind"] for m in h["mutations"]] == ["land_use_change", "boundary_correction"]
    assert len(h["versions"]) == 3


def test_who_may_run_mutations(env):
    fid = _id_of(env, "26737", 14)
    inputs = {"parcel": fid, "if_match": "x", "land_use_codes": ["TMD"], "document": DOC}
    assert _run(env, "parcel-land-use-change", inputs, user=None).status_code == 401
    assert _run(env, "parcel-land-use-change", inputs, user="analyst").status_code == 403
    fid01 = _id_of(env, "00004", 2, sheet=3)
    r = _run(env, "parcel-land-use-change", {**inputs, "parcel": fid01}, user="off79")
    assert r.status_code == 403
    assert _run(env, "parcel-split", {"parcel": fid, "bogus": 1}).status_code == 400
    assert _count(env, "SELECT count(*) FROM landdb.parcel_mutation WHERE kind = 'land_use_change' "
                       "AND province_code = '01'") == 0
    assert X0 and Y0  # data constants shared with the Part 4 tests


def test_process_descriptions_follow_ogc_process_description(env):
    conf = requests.get(f"{env['base']}/conformance", params={"f": "json"}, timeout=30).json()["conformsTo"]
    for cls in ("core", "ogc-process-description", "json", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/{cls}" in conf
    for summary in requests.get(f"{env['base']}/processes", timeout=30).json()["processes"]:
        d = requests.get(f"{env['base']}/processes/{summary['id']}", timeout=30).json()
        assert d["jobControlOptions"] == ["sync-execute"] and d["outputTransmission"] == ["value"]
        assert any(link["rel"].endswith("/execute") for link in d["links"])
        for name, spec in d["inputs"].items():
            assert spec["schema"].get("type") or spec["schema"].get("oneOf"), name
            assert spec["minOccurs"] in (0, 1) and spec["maxOccurs"] == 1
            assert "optional" not in spec["schema"]
        assert set(d["outputs"]) == {"ids", "retired", "closedVersions", "mutation", "etags", "warnings"}
        assert all("type" in o["schema"] for o in d["outputs"].values())
    split = requests.get(f"{env['base']}/processes/parcel-split", timeout=30).json()
    assert split["inputs"]["crs"]["minOccurs"] == 0 and split["inputs"]["document"]["minOccurs"] == 1
    nope = requests.get(f"{env['base']}/processes/nope", timeout=30)
    assert nope.status_code == 404 and nope.json()["type"].endswith("/no-such-process")
    job = requests.get(f"{env['base']}/jobs/0b9c2f", timeout=30)
    assert job.status_code == 404 and job.json()["type"].endswith("/no-such-job")


def _land_use(env, n: int, codes: list[str], **request) -> requests.Response:
    fid = _id_of(env, "26737", n)
    inputs = {"parcel": fid, "if_match": _get(env, fid).headers["ETag"], "land_use_codes": codes, "document": DOC}
    return requests.post(f"{env['base']}/processes/parcel-land-use-change/execution",
                         json={"inputs": inputs, **request}, headers=_h(env, "off79"), timeout=60)


def test_execute_answers_raw_by_default_document_on_request(env):
    """OGC API – Processes 1.0: response=raw (the default) gives several outputs as multipart/related and one
    output as its bare value; response=document gives the results document of the selected outputs."""
    fid = _id_of(env, "26737", 16)
    r = _land_use(env, 16, ["TMD"])
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("multipart/related"), r.text
    parts = parse_multipart(r.headers["Content-Type"], r.content)
    assert list(parts) == ["ids", "retired", "closedVersions", "mutation", "etags", "warnings"]
    assert parts["ids"] == [fid] and parts["retired"] == [] and len(parts["closedVersions"]) == 1
    assert parts["etags"] == [_get(env, fid).headers["ETag"]]
    r = _land_use(env, 16, ["ONT"], outputs={"etags": {"transmissionMode": "value"}})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    assert r.json() == [_get(env, fid).headers["ETag"]]  # the value itself, not wrapped
    r = _land_use(env, 16, ["CLN"], response="document", outputs={"ids": {}, "mutation": {}})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    assert set(r.json()) == {"ids", "mutation"} and r.json()["ids"] == [fid] and isinstance(r.json()["mutation"], int)
    assert _get(env, fid).json()["properties"]["land_use_codes"] == ["CLN"]


@pytest.mark.parametrize("request_extra, words", [
    ({"response": "json"}, "response must be raw or document"),
    ({"outputs": {"nope": {}}}, "unknown output 'nope'"),
    ({"outputs": {"ids": {"transmissionMode": "reference"}}}, "not offered"),
    ({"outputs": {"ids": {"format": {"mediaType": "text/csv"}}}}, "format must be"),
    ({"outputs": ["ids"]}, "outputs must be an object"),
])
def test_bad_execute_requests_change_nothing(env, request_extra, words):
    snap = _snapshot(env)
    r = _land_use(env, 17, ["TMD"], **request_extra)
    assert r.status_code == 400 and words in r.json()["description"], r.text
    assert _snapshot(env) == snap
