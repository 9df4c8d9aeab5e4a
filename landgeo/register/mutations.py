"""Parcel mutations (biến động) as one transaction: split (tách thửa), merge (hợp thửa), change of land use
(chuyển mục đích sử dụng đất), boundary correction (chỉnh lý ranh giới).

All-or-nothing: the parents are locked (in id order, so two mutations never deadlock), their ``If-Match`` ETags
compared, the parents retired and the children created in one transaction, with history links parent -> child
recorded with the mutation and its legal basis (``document``: number and date, required). Refused, nothing
changes. Rules, in the parcels' TM-3 plane (``area_srid``):

- **cover** — every point of the parents lies within :data:`COVER_TOLERANCE_M` of a child and every point of a
  child within it of the parents; two children may not overlap by more than that (a child shrunk by the
  tolerance must not meet another child);
- **area** — Σ declared areas of the children equals the parents' within the legal tolerance
  ``ΔP = 0.0004 · M · √P`` (:func:`landgeo.validation.area_tolerance`, M the sheet's scale denominator);
- **numbers** — children's parcel numbers are distinct and not used by another current parcel on the sheet;
- **merge** — the parents lie in one commune and form one connected piece (they touch).
"""

from __future__ import annotations

from typing import Any

import psycopg

from landdb import versions
from landgeo.access import audit
from landgeo.access.identity import Identity
from landgeo.register import body, checks, writes
from landgeo.register.errors import WriteError, bad
from landgeo.validation import area_tolerance

COVER_TOLERANCE_M = 0.05  # 5 cm: digitising precision of cadastral maps at 1:500–1:2000 is several cm
DEFAULT_SCALE = 1000
CHILD_PROPERTIES = ("parcel_number", "land_use_codes", "declared_area", "address")


def _document(inputs: dict) -> dict:
    doc = writes.document_of(inputs.get("document"))
    if doc is None:
        raise bad("document (number, date) is required: the legal basis of the mutation")
    return doc


def _parts(fc: Any, parent: dict, crs: writes.BodyCrs, what: str) -> list[tuple[dict, body.Geometry]]:
    if isinstance(fc, dict) and fc.get("type") == "Feature":
        fc = {"type": "FeatureCollection", "features": [fc]}
    if not isinstance(fc, dict) or fc.get("type") != "FeatureCollection" or not isinstance(fc.get("features"), list):
        raise bad(f"{what} must be a GeoJSON FeatureCollection")
    out = []
    for i, f in enumerate(fc["features"]):
        raw, geom_obj = body.feature(f, f"{what}[{i}]")
        for key in ("province_code", "commune_code", "sheet_number"):
            if key in raw and raw[key] != parent[key]:
                raise bad(f"{what}[{i}]: {key} {raw[key]!r} differs from the parent's {parent[key]!r}")
        props = body.properties({**{k: parent[k] for k in ("province_code", "commune_code", "sheet_number")},
                                 **{k: v for k, v in raw.items() if k not in ("province_code", "commune_code",
                                                                            "sheet_number")}})
        out.append((props, body.geometry(geom_obj, crs.srid, crs.lat_first, f"{what}[{i}].geometry")))
    numbers = [p["parcel_number"] for p, _ in out]
    if len(set(numbers)) != len(numbers):
        raise WriteError(409, "Conflict", f"{what}: parcel numbers repeat ({', '.join(map(str, sorted(numbers)))})")
    return out


def _lock_all(conn, identity: Identity, ids: list[int], tags: list[str | None]) -> list[versions.Current]:
    by_id = {}
    for fid in sorted(ids):
        by_id[fid] = writes.lock_current(conn, identity, fid, dict(zip(ids, tags, strict=True))[fid])
    return [by_id[i] for i in ids]


def _check_numbers(conn, parent: dict, numbers: list[int], parents: list[int]) -> None:
    taken = conn.execute(
        "SELECT array_agg(parcel_number ORDER BY parcel_number) FROM landdb.parcel WHERE commune_code = %s "
        "AND sheet_number = %s AND parcel_number = ANY(%s) AND valid_to IS NULL AND NOT id = ANY(%s)",
        (parent["commune_code"], parent["sheet_number"], numbers, parents)).fetchone()[0]
    if taken:
        raise WriteError(409, "Conflict", f"parcel number(s) {', '.join(map(str, taken))} already used on sheet "
                         f"{parent['sheet_number']} of commune {parent['commune_code']}")


def _cover(conn, parents: list[int], children: list[int]) -> list[dict]:
    """Findings of the cover rule (gap, outside, overlap), measured in the parents' TM-3 plane."""
    row = conn.execute("""
        WITH srid AS (SELECT min(area_srid) AS s FROM landdb.parcel WHERE id = ANY(%(p)s)),
        p AS (SELECT ST_Union(ST_Transform(geom, srid.s)) AS g FROM landdb.parcel, srid WHERE id = ANY(%(p)s)
              AND valid_to IS NOT NULL),
        c AS (SELECT id, ST_Transform(geom, srid.s) AS g FROM landdb.parcel, srid WHERE id = ANY(%(c)s)
              AND valid_to IS NULL),
        u AS (SELECT ST_Union(g) AS g FROM c)
        SELECT ST_Area(ST_Difference(p.g, ST_Buffer(u.g, %(t)s))), ST_Area(ST_Difference(u.g, ST_Buffer(p.g, %(t)s))),
               (SELECT max(ST_Area(ST_Intersection(ST_Buffer(a.g, -%(t)s), b.g)))
                  FROM c a JOIN c b ON a.id <> b.id AND a.g && b.g),
               ST_AsText(ST_PointOnSurface(ST_Difference(p.g, ST_Buffer(u.g, %(t)s))))
        FROM p, u""", {"p": parents, "c": children, "t": COVER_TOLERANCE_M}).fetchone()
    gap, outside, overlap, where = row
    out = []
    if gap and gap > 1e-6:
        out.append({"code": "mutation.gap", "severity": "error",
                    "message": f"the new parcels leave {gap:.3f} m² of the old ones uncovered "
                               f"(tolerance {COVER_TOLERANCE_M} m)", "location": {"point_wkt": where}})
    if outside and outside > 1e-6:
        out.append({"code": "mutation.outside", "severity": "error",
                    "message": f"the new parcels extend {outside:.3f} m² beyond the old ones "
                               f"(tolerance {COVER_TOLERANCE_M} m)", "location": {}})
    if overlap and overlap > 1e-6:
        out.append({"code": "mutation.overlap", "severity": "error",
                    "message": f"new parcels overlap each other by {overlap:.3f} m² (tolerance {COVER_TOLERANCE_M} m)",
                    "location": {}})
    return out


def _area(conn, parents: list[int], children: list[int], parent: dict) -> list[dict]:
    """Σ declared (else computed) areas of children vs parents, within the legal tolerance of the sheet scale."""
    row = conn.execute("""
        SELECT (SELECT sum(coalesce(declared_area, computed_area))::float8 FROM landdb.parcel WHERE id = ANY(%s)),
               (SELECT sum(coalesce(declared_area, computed_area))::float8 FROM landdb.parcel WHERE id = ANY(%s)),
               (SELECT scale FROM landdb.map_sheet WHERE commune_code = %s AND sheet_number = %s
                  AND valid_to IS NULL LIMIT 1)""",
                       (parents, children, parent["commune_code"], parent["sheet_number"])).fetchone()
    before, after, scale = row[0], row[1], row[2] or DEFAULT_SCALE
    allowed = area_tolerance(before, scale)
    if abs(after - before) > allowed:
        return [{"code": "mutation.area_not_conserved", "severity": "error",
                 "message": f"declared areas change from {before:.2f} m² to {after:.2f} m²: more than the "
                            f"{allowed:.2f} m² allowed at 1:{scale}", "location": {}}]
    return []


def _commit(conn, identity: Identity, kind: str, event: str, parents: list[versions.Current],
            children: list[tuple[dict, body.Geometry]], document: dict, pre: list[dict]) -> writes.Outcome:
    first = parents[0].props
    parent_ids = [p.id for p in parents]  # feature ids (what a client holds)
    closed = [p.version for p in parents]  # their current versions, closed here (row ids)
    _check_numbers(conn, first, [p["parcel_number"] for p, _ in children], closed)
    at = versions.change_time(conn)
    mid = versions.record_mutation(conn, kind, first["province_code"], first["commune_code"], document, at,
                                   {"parents": parent_ids})
    for p in parents:
        versions.retire(conn, p, at)
        versions.feed(conn, mid, p.version, "retire", None, at)
    kids = []  # a child's first version: its row id is its feature id
    for props, geom in children:
        kid = versions.create(conn, props, geom.text, geom.srid, at)
        kids.append(kid)
        versions.feed(conn, mid, kid, "create", None, at)
        for p in closed:
            versions.link(conn, p, kid, event, mid, at)
    found = pre + _cover(conn, closed, kids) + _area(conn, closed, kids, first)
    found += checks.table_pass(conn, kids, True, first["province_code"])
    out = writes.Outcome(kids, None, closed, mid, retired=parent_ids)
    out.warnings = checks.refuse_on_errors(found, f"the {kind}")
    audit.record(conn, identity, kind, writes.COLLECTION, kids + parent_ids,
                 {"before": closed, "after": kids, "retired": parent_ids, "mutation": mid, "document": document,
                  "at": at.isoformat(), "warnings": len(out.warnings)})
    versions.notify(conn, writes.COLLECTION, kids + closed)
    out.etags = {k: versions.etag_of(k, at) for k in kids}
    return out


def split(conn: psycopg.Connection, identity: Identity | None, inputs: dict, crs: writes.BodyCrs) -> writes.Outcome:
    """``parcel-split``: inputs ``parcel``, ``if_match``, ``parts`` (FeatureCollection), ``document``."""
    identity = writes.require_writer(identity)
    document = _document(inputs)
    held = writes.held_feature(conn, identity, str(inputs.get("parcel", "")))
    parts = _parts(inputs.get("parts"), held.props, crs, "parts")
    if len(parts) < 2:
        raise bad("a split needs at least 2 parts")
    pre = checks.features_pass([g.shape for _, g in parts], [p for p, _ in parts], crs.srid,
                               [f"parts[{i}]" for i in range(len(parts))], crs.uri)
    checks.refuse_on_errors(pre, "the split")

    def work(conn):
        parent = _lock_all(conn, identity, [held.id], [inputs.get("if_match")])
        return _commit(conn, identity, "split", "split", parent, parts, document, pre)

    return writes.in_transaction(conn, identity, work)


def merge(conn: psycopg.Connection, identity: Identity | None, inputs: dict, crs: writes.BodyCrs) -> writes.Outcome:
    """``parcel-merge``: inputs ``parcels`` and ``if_match`` (lists), ``result`` (one Feature), ``document``."""
    identity = writes.require_writer(identity)
    document = _document(inputs)
    ids, tags = inputs.get("parcels"), inputs.get("if_match")
    if not isinstance(ids, list) or len(ids) < 2:
        raise bad("parcels must be a list of at least 2 feature ids")
    if not isinstance(tags, list) or len(tags) != len(ids):
        raise bad("if_match must be a list with one ETag per parcel")
    if len({str(i) for i in ids}) != len(ids):
        raise bad("parcels repeat")
    held = [writes.held_feature(conn, identity, str(i)) for i in ids]
    communes = sorted({h.props["commune_code"] for h in held})
    if len(communes) > 1:
        raise WriteError(422, "InvalidMutation", f"parcels lie in different communes ({', '.join(communes)}): "
                         "a merge stays inside one commune")
    parts = _parts(inputs.get("result"), held[0].props, crs, "result")
    if len(parts) != 1:
        raise bad("result must be one Feature")
    pre = checks.features_pass([parts[0][1].shape], [parts[0][0]], crs.srid, ["result"], crs.uri)
    checks.refuse_on_errors(pre, "the merge")

    def work(conn):
        parents = _lock_all(conn, identity, [h.id for h in held], tags)
        pieces = conn.execute(
            "SELECT ST_NumGeometries(ST_Union(ST_Buffer(ST_Transform(geom, area_srid), %s))) FROM landdb.parcel "
            "WHERE id = ANY(%s)", (COVER_TOLERANCE_M, [p.version for p in parents])).fetchone()[0]
        if pieces != 1:
            raise WriteError(422, "InvalidMutation", f"parcels {', '.join(str(p.id) for p in parents)} do not touch "
                             f"(they form {pieces} separate pieces): only adjacent parcels merge")
        return _commit(conn, identity, "merge", "merge", parents, parts, document, pre)

    return writes.in_transaction(conn, identity, work)


def change_land_use(conn, identity: Identity | None, inputs: dict, crs: writes.BodyCrs) -> writes.Outcome:
    """``parcel-land-use-change``: ``parcel``, ``if_match``, ``land_use_codes``, ``document``."""
    document = _document(inputs)
    patch = {"properties": {"land_use_codes": inputs.get("land_use_codes")}, "document": document}
    if inputs.get("land_use_codes") is None:
        raise bad("land_use_codes is required")
    return writes.update(conn, identity, str(inputs.get("parcel", "")), inputs.get("if_match"), patch, crs,
                         partial=True, kind="land_use_change")


def correct_boundary(conn, identity: Identity | None, inputs: dict, crs: writes.BodyCrs) -> writes.Outcome:
    """``parcel-boundary-correction``: ``parcel``, ``if_match``, ``geometry``, optional ``declared_area``,
    ``document``."""
    document = _document(inputs)
    if inputs.get("geometry") is None:
        raise bad("geometry is required: the corrected boundary")
    props = {"declared_area": inputs["declared_area"]} if "declared_area" in inputs else {}
    patch = {"properties": props, "geometry": inputs["geometry"], "document": document}
    return writes.update(conn, identity, str(inputs.get("parcel", "")), inputs.get("if_match"), patch, crs,
                         partial=True, kind="boundary_correction")
