"""OGC API – Processes – Part 1: Core 1.0 (synchronous) for parcel mutations: ``/processes``, ``/processes/{id}``,
``POST /processes/{id}/execution``.

Processes: ``parcel-split``, ``parcel-merge``, ``parcel-land-use-change``, ``parcel-boundary-correction``
(:mod:`landgeo.register.mutations`). Each description lists its inputs and outputs with JSON schemas (the OGC
process description, OpenAPI 3.0 compatible so the same schemas describe the execute request in ``/openapi``),
``jobControlOptions: ["sync-execute"]`` and ``outputTransmission: ["value"]``. The execute request is
``{"inputs": {...}, "outputs": {...}?, "response": "raw" | "document"?}``; its answer follows the standard's
rules (:mod:`landgeo.api.process_results`): ``response: "document"`` gives the results document
``{"ids": [...], "retired": [...], ...}``; the default ``raw`` gives one output's value alone, or several as
``multipart/related``. Writers only (officer in scope, admin): anonymous 401, analyst 403. Errors are 4xx OGC
exceptions with one line (and the findings for 422). No job outlives its request, so ``/jobs/{jobId}`` is always
404 ``no-such-job``.
"""

from __future__ import annotations

import re

from landgeo.api import guard
from landgeo.api.answers import Answer, json_answer
from landgeo.api.collections import get_collection
from landgeo.api.crs import CRS84, parse_crs
from landgeo.api.pool import get_pool
from landgeo.api.process_results import results_answer, selected_outputs
from landgeo.register import body, mutations, writes
from landgeo.register.errors import bad

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/oas30",
]
NO_SUCH_PROCESS = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process"
NO_SUCH_JOB = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-job"

# input and output schemas: JSON Schema that is also an OpenAPI 3.0 schema object (no type lists, no $ref)
FEATURE_ID = {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": "^[0-9]{1,18}$"}],
              "description": "feature id of a current parcel"}
ETAG = {"type": "string", "description": "the strong ETag of the parcel's current version (GET of the item)"}
DOCUMENT = {"type": "object", "required": ["number", "date"],
            "description": "legal basis (quyết định / hồ sơ biến động): its number and date",
            "properties": {"number": {"type": "string", "minLength": 1}, "date": {"type": "string", "format": "date"}}}
CRS = {"type": "string", "format": "uri", "default": CRS84,
       "description": "CRS of the coordinates (one of the collection's crs), e.g. "
                      "http://www.opengis.net/def/crs/EPSG/0/9210; CRS84 when absent"}
POLYGON = {"type": "object", "required": ["type", "coordinates"], "description": "GeoJSON Polygon or MultiPolygon",
           "properties": {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
                          "coordinates": {"type": "array", "items": {"type": "array"}}}}
LAND_USES = {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[A-Z]{2,4}$"},
             "description": "land-use codes (mã loại đất) valid at the date, e.g. [\"ONT\", \"CLN\"]"}
NEW_PARCEL = {
    "type": "object", "required": ["type", "geometry", "properties"],
    "description": "a new parcel (GeoJSON Feature); province, commune and sheet are the parent's",
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]}, "geometry": POLYGON,
        "properties": {"type": "object", "required": ["parcel_number", "land_use_codes"], "properties": {
            "parcel_number": {"type": "integer", "minimum": 1, "description": "unused on the sheet"},
            "land_use_codes": LAND_USES, "declared_area": {"type": "number", "minimum": 0, "description": "m²"},
            "address": {"type": "string"}}},
    },
}
PARTS = {"type": "object", "required": ["type", "features"], "description": "GeoJSON FeatureCollection of the "
         "children, covering the parent exactly", "properties": {
             "type": {"type": "string", "enum": ["FeatureCollection"]},
             "features": {"type": "array", "minItems": 2, "items": NEW_PARCEL}}}


def _in(title: str, schema: dict, optional: bool = False) -> dict:
    return {"title": title, "schema": schema, "minOccurs": 0 if optional else 1, "maxOccurs": 1}


OUTPUTS = {
    "ids": {"title": "Feature ids of the parcels created (split, merge) or changed (the id stays)",
            "schema": {"type": "array", "items": {"type": "integer"}}},
    "retired": {"title": "Feature ids of the parcels retired (split, merge parents)",
                "schema": {"type": "array", "items": {"type": "integer"}}},
    "closedVersions": {"title": "Ids of the versions closed (their lifespan ends; readable with datetime)",
                       "schema": {"type": "array", "items": {"type": "integer"}}},
    "mutation": {"title": "Id of the mutation (biến động) recorded with its legal basis",
                 "schema": {"type": "integer"}},
    "etags": {"title": "ETag of each parcel of ids, in the same order (for the next If-Match)",
              "schema": {"type": "array", "items": {"type": "string"}}},
    "warnings": {"title": "Validation warnings (errors refuse the mutation with 422)", "schema": {
        "type": "array", "items": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "severity": {"type": "string"}, "message": {"type": "string"},
            "location": {"type": "object"}}}}},
}
PROCESSES = {
    "parcel-split": ("Tách thửa — split one parcel into several", mutations.split, {
        "parcel": _in("The parcel to split", FEATURE_ID), "if_match": _in("Its ETag", ETAG),
        "parts": _in("The new parcels", PARTS), "crs": _in("CRS of the parts", CRS, True),
        "document": _in("Legal basis", DOCUMENT)}),
    "parcel-merge": ("Hợp thửa — merge adjacent parcels of one commune", mutations.merge, {
        "parcels": _in("The parcels to merge", {"type": "array", "minItems": 2, "items": FEATURE_ID}),
        "if_match": _in("Their ETags, in the same order", {"type": "array", "minItems": 2, "items": ETAG}),
        "result": _in("The merged parcel, covering the parcels exactly", NEW_PARCEL),
        "crs": _in("CRS of the result", CRS, True), "document": _in("Legal basis", DOCUMENT)}),
    "parcel-land-use-change": ("Chuyển mục đích sử dụng đất — change of land use", mutations.change_land_use, {
        "parcel": _in("The parcel", FEATURE_ID), "if_match": _in("Its ETag", ETAG),
        "land_use_codes": _in("The new land uses", LAND_USES), "document": _in("Legal basis", DOCUMENT)}),
    "parcel-boundary-correction": ("Chỉnh lý ranh giới — boundary correction after a survey",
                                   mutations.correct_boundary, {
        "parcel": _in("The parcel", FEATURE_ID), "if_match": _in("Its ETag", ETAG),
        "geometry": _in("The corrected boundary", POLYGON),
        "declared_area": _in("The new declared area, m²", {"type": "number", "minimum": 0}, True),
        "crs": _in("CRS of the geometry", CRS, True), "document": _in("Legal basis", DOCUMENT)}),
}
_PROCESS = re.compile(r"^/processes/([^/]+)$")
_EXECUTE = re.compile(r"^/processes/([^/]+)/execution$")
_JOB = re.compile(r"^/jobs/([^/]+)(/results)?$")


def summary(pid: str, base_url: str) -> dict:
    """The process summary (``/processes`` lists them; the description adds inputs and outputs)."""
    return {"id": pid, "title": PROCESSES[pid][0], "version": "1.0.0", "jobControlOptions": ["sync-execute"],
            "outputTransmission": ["value"],
            "links": [{"rel": "self", "type": "application/json", "title": "Process description",
                       "href": f"{base_url}/processes/{pid}"},
                      {"rel": "http://www.opengis.net/def/rel/ogc/1.0/execute", "type": "application/json",
                       "title": "Execute (POST)", "href": f"{base_url}/processes/{pid}/execution"}]}


def description(pid: str, base_url: str) -> dict:
    return {**summary(pid, base_url), "inputs": PROCESSES[pid][2], "outputs": OUTPUTS}


def _no_such_process(pid: str) -> Answer:
    return json_answer(404, {"type": NO_SUCH_PROCESS, "code": "NoSuchProcess", "title": "No such process",
                             "description": f"no process {pid[:60]!r}; processes: {', '.join(PROCESSES)}"})


def dispatch(environ, path: str, method: str, base_url: str, db_urls: dict[str, str]) -> Answer | None:
    if path in ("/processes", "/processes/") and method == "GET":
        self_link = {"rel": "self", "type": "application/json", "href": f"{base_url}/processes"}
        return json_answer(200, {"processes": [summary(p, base_url) for p in PROCESSES], "links": [self_link]})
    m = _PROCESS.match(path)
    if m and method == "GET":
        pid = m.group(1)
        return json_answer(200, description(pid, base_url)) if pid in PROCESSES else _no_such_process(pid)
    m = _EXECUTE.match(path)
    if m:
        if method != "POST":
            return json_answer(405, {"code": "MethodNotAllowed", "description": "POST the execute request"},
                               {"Allow": "POST"})
        return _execute(environ, m.group(1), db_urls)
    m = _JOB.match(path)
    if m and method == "GET":  # synchronous only: no job is kept once its request is answered
        return json_answer(404, {"type": NO_SUCH_JOB, "code": "NoSuchJob", "title": "No such job",
                                 "description": "processes here run synchronously: no job is kept"})
    return None


def _execute(environ, pid: str, db_urls: dict[str, str]) -> Answer:
    if pid not in PROCESSES:
        return _no_such_process(pid)
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
    selected, response = selected_outputs(doc, OUTPUTS)
    c = get_collection(writes.COLLECTION)
    try:
        crs = parse_crs(str(inputs.get("crs") or CRS84), c.crs_uris)
    except ValueError as exc:
        raise bad(f"crs: {exc}") from None
    url = db_urls[writes.COLLECTION]
    with get_pool(url).connection() as conn:
        out = PROCESSES[pid][1](conn, identity, inputs, writes.BodyCrs(crs.srid, crs.lat_first, crs.uri))
    etags = out.etags or ({out.ids[0]: out.etag} if out.etag else {})
    values = {"ids": out.ids, "retired": out.retired,
              "closedVersions": out.closed, "mutation": out.mutation, "etags": [etags.get(i) for i in out.ids],
              "warnings": out.warnings}
    return results_answer(values, selected, response)
