"""The loaders' set-based checks after a write on map sheets and base geography (landgeo.register.feature_checks):
current sheets of one commune and scale do not overlap (``topo.sheet_overlap``, an error: 422, nothing written);
a road end left just short of another road is a dangle (``net.dangle``, a warning in the 2xx answer).
Through a real `landgeo serve` on tests/test_feature_writes.py's data (its own database)."""

from __future__ import annotations

from test_feature_writes import X0, Y0, _get, _rect, _sheet, _sheet_id, _snapshot, _write, env

__all__ = ["env"]


def test_a_sheet_overlapping_another_of_its_commune_and_scale_is_refused(env):
    snap = _snapshot(env)
    # sheet 2 spans X0+800 .. X0+1600; a new 1:1000 sheet over its western 100 m
    overlapping = _sheet(_rect(X0 + 1500, Y0, X0 + 2300, Y0 + 500), sheet=8)
    r = _write(env, "POST", "map-sheets", None, overlapping)
    assert r.status_code == 422, r.text
    body = r.json()
    assert "topo.sheet_overlap" in body["description"]
    (finding,) = [f for f in body["findings"] if f["code"] == "topo.sheet_overlap"]
    assert finding["details"]["other_sheet"] == 2 and abs(finding["details"]["area_m2"] - 50000) < 5
    assert _snapshot(env) == snap  # nothing written
    # the same frame at another scale, or in another commune, is no overlap of this rule
    other_scale = _write(env, "POST", "map-sheets", None, _sheet(_rect(X0 + 1500, Y0, X0 + 2300, Y0 + 500), sheet=8,
                                                                 scale=2000))
    assert other_scale.status_code == 201, other_scale.text
    other_commune = _write(env, "POST", "map-sheets", None, _sheet(_rect(X0 + 1500, Y0, X0 + 2300, Y0 + 500),
                                                                   sheet=8, commune="26740"))
    assert other_commune.status_code == 201, other_commune.text
    # frames that share an edge do not overlap
    edge = _write(env, "POST", "map-sheets", None, _sheet(_rect(X0 + 1600, Y0 + 500, X0 + 2400, Y0 + 1000),
                                                          sheet=9))
    assert edge.status_code == 201, edge.text


def test_moving_a_sheet_onto_another_is_refused_and_leaves_it_as_it_was(env):
    fid = _sheet_id(env, "26737", 1)
    before = _get(env, "map-sheets", fid)
    assert before.status_code == 200 and before.json()["properties"]["sheet_number"] == 1
    snap = _snapshot(env)
    r = _write(env, "PATCH", "map-sheets", fid, {"geometry": _rect(X0 + 400, Y0, X0 + 1200, Y0 + 500)},
               etag=before.headers["ETag"], ctype="application/merge-patch+json")
    assert r.status_code == 422 and "topo.sheet_overlap" in r.json()["description"], r.text
    assert _snapshot(env) == snap
    after = _get(env, "map-sheets", fid)
    assert after.headers["ETag"] == before.headers["ETag"] and after.json() == before.json()


def test_a_road_end_left_short_of_another_road_is_a_dangle_warning(env):
    # the road of the data runs from (X0, Y0+600) to (X0+1000, Y0+700): at X0+500 it is at Y0+650
    road = {"type": "Feature", "properties": {"feature_code": "GA01", "name": "Nhánh", "province_code": "79"},
            "geometry": {"type": "LineString", "coordinates": [[X0 + 500, Y0 + 300], [X0 + 500, Y0 + 645]]}}
    r = _write(env, "POST", "roads", None, road, user="admin")
    assert r.status_code == 201, r.text
    dangles = [w for w in r.json()["warnings"] if w["code"] == "net.dangle"]
    assert len(dangles) == 1 and dangles[0]["location"]["feature"] == r.json()["id"], r.json()
    joined = {**road, "geometry": {"type": "LineString", "coordinates": [[X0 + 700, Y0 + 300], [X0 + 700, Y0 + 670]]}}
    ok = _write(env, "POST", "roads", None, joined, user="admin")  # ends on the road (its vertex-free middle)
    assert ok.status_code == 201, ok.text
    assert not [w for w in ok.json()["warnings"] if w["code"] == "net.dangle"], ok.json()
