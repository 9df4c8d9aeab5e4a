"""OGC API – Processes (synchronous) for parcel mutations: ``/processes``, ``/processes/{id}``,
``POST /processes/{id}/execution``.

Processes: ``parcel-split``, ``parcel-merge``, ``parcel-land-use-change``, ``parcel-boundary-correction``
(:mod:`landgeo.register.mutations`). The execute request is ``{"inputs": {...}}``; the answer (200) lists the
new feature ids, the retired ones, the mutation id, their ETags and the validation warnings. Writers only
(officer in scope, admin): anonymous 401, analyst 403. Errors are 4xx with one line (and findings for 422).
"""

from __future__ import annotations

import re

from landgeo.api import guard
from landgeo.api.answers import Answer, json_answer
from landgeo.api.collections import get_collection
from landgeo.api.crs import CRS84, parse_crs
from landgeo.api.pool import get_pool
from landgeo.register import body, mutations, writes
from landgeo.register.errors import WriteError, bad

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
]
_ID = {"type": ["integer", "string"], "description": "feature id of a current parcel"}
_ETAG = {"type": "string", "description": "the ETag of the parcel's current version (from GET of the item)"}
_DOC = {"type": "object", "required": ["number", "date"], "description": "legal basis (quyết định / hồ sơ biến động)",
        "properties": {"number": {"type": "string"}, "date": {"type": "string", "format": "date"}}}
_CRS = {"type": "string", "format": "uri", "default": CRS84, "description": "CRS of the coordinates"}
_OUT = {"result": {"title": "new feature ids, retired ids, mutation, ETags, warnings",
                   "schema": {"type": "object"}}}


def _inputs(**spec: dict) -> dict:
    return {k: {"title": k, "schema": v, **({"minOccurs": 0} if v.get("optional") else {})} for k, v in spec.items()}


PROCESSES = {
    "parcel-split": ("Tách thửa — split one parcel into several", mutations.split, _inputs(
        parcel=_ID, if_match=_ETAG, parts={"type": "object", "description": "GeoJSON FeatureCollection of the "
                                           "children: geometry, parcel_number, land_use_codes, declared_area"},
        crs={**_CRS, "optional": True}, document=_DOC)),
    "parcel-merge": ("Hợp thửa — merge adjacent parcels of one commune", mutations.merge, _inputs(
        parcels={"type": "array", "items": _ID}, if_match={"type": "array", "items": _ETAG},
        result={"type": "object", "description": "GeoJSON Feature of the merged parcel"},
        crs={**_CRS, "optional": True}, document=_DOC)),
    "parcel-land-use-change": ("Chuyển mục đích sử dụng đất — change of land use", mutations.change_land_use,
                               _inputs(parcel=_ID, if_match=_ETAG,
                                       land_use_codes={"type": "array", "items": {"type": "string"}},
                                       document=_DOC)),
    "parcel-boundary-correction": ("Chỉnh lý ranh giới — boundary correction after a survey",
                                   mutations.correct_boundary, _inputs(
                                       parcel=_ID, if_match=_ETAG, geometry={"type": "object"},
                                       declared_area={"type": "number", "optional": True},
                                       crs={**_CRS, "optional": True}, document=_DOC)),
}
_PROCESS = re.compile(r"^/processes/([^/]+)$")
_EXECUTE = re.compile(r"^/processes/([^/]+)/execution$")


def _summary(pid: str, base_url: str) -> dict:
    return {"id": pid, "title": PROCESSES[pid][0], "version": "1.0.0", "jobControlOptions": ["sync-execute"],
            "outputTransmission": ["value"],
            "links": [{"rel": "self", "type": "application/json", "href": f"{base_url}/processes/{pid}"},
                      {"rel": "http://www.opengis.net/def/rel/ogc/1.0/execute", "type": "application/json",
                       "href": f"{base_url}/processes/{pid}/execution"}]}


def dispatch(environ, path: str, method: str, base_url: str, db_urls: dict[str, str]) -> Answer | None:
    if path in ("/processes", "/processes/") and method == "GET":
        self_link = {"rel": "self", "type": "application/json", "href": f"{base_url}/processes"}
        return json_answer(200, {"processes": [_summary(p, base_url) for p in PROCESSES], "links": [self_link]})
    m = _PROCESS.match(path)
    if m and method == "GET":
        pid = m.group(1)
        if pid not in PROCESSES:
            raise WriteError(404, "NoSuchProcess", f"no process {pid!r}; processes: {', '.join(PROCESSES)}")
        return json_answer(200, {**_summary(pid, base_url), "inputs": PROCESSES[pid][2], "outputs": _OUT})
    m = _EXECUTE.match(path)
    if m:
        if method != "POST":
            return json_answer(405, {"code": "MethodNotAllowed", "description": "POST the execute request"},
                               {"Allow": "POST"})
        return _execute(environ, m.group(1), db_urls)
    return None


def _execute(environ, pid: str, db_urls: dict[str, str]) -> Answer:
    if pid not in PROCESSES:
        raise WriteError(404, "NoSuchProcess", f"no process {pid!r}; processes: {', '.join(PROCESSES)}")
    identity = writes.require_writer(guard.current())
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise bad("bad Content-Length") from None
    doc = body.parse_json(environ["wsgi.input"].read(min(length, body.MAX_BODY + 1)) if length else b"")
    if not isinstance(doc, dict) or not isinstance(doc.get("inputs"), dict):
        raise bad('the execute request must be {"inputs": {...}}')
    inputs = doc["inputs"]
    allowed = set(PROCESSES[pid][2])
    unknown = sorted(set(inputs) - allowed)
    if unknown:
        raise bad(f"unknown input {unknown[0]!r} for {pid}; inputs: {', '.join(sorted(allowed))}")
    c = get_collection(writes.COLLECTION)
    try:
        crs = parse_crs(str(inputs.get("crs") or CRS84), c.crs_uris)
    except ValueError as exc:
        raise bad(f"crs: {exc}") from None
    url = db_urls[writes.COLLECTION]
    with get_pool(url).connection() as conn:
        out = PROCESSES[pid][1](conn, identity, inputs, writes.BodyCrs(crs.srid, crs.lat_first, crs.uri))
    etags = out.etags or ({out.ids[0]: out.etag} if out.etag else {})
    return json_answer(200, {"process": pid, "ids": out.ids, "retired": out.closed if pid in (
        "parcel-split", "parcel-merge") else [], "closedVersions": out.closed, "mutation": out.mutation,
        "etags": {str(k): v for k, v in etags.items()}, "warnings": out.warnings})
