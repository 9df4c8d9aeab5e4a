"""The write side of the API in the OpenAPI document: OGC API – Features Part 4, history, change feed, Processes.

pygeoapi's document describes reads only (and a CQL2-JSON ``POST`` on items). :func:`with_register` adds what
:mod:`landgeo.api.transactions` and :mod:`landgeo.api.processes` answer, so that Swagger UI, a code generator or
schemathesis see the real interface:

- on every collection the register writes (``transactions.WRITABLE_COLLECTIONS``, so a collection made writable
  there appears here by itself): ``POST`` of a GeoJSON Feature on items (201 + ``Location`` + ``ETag``), ``PUT``
  (Feature) / ``PATCH`` (JSON merge patch) / ``DELETE`` on one item with ``If-Match`` and ``Content-Crs``, the
  ``ETag``/``Allow`` headers of a GET, the version history of an item and the collection's change feed;
- every error answer those routes give (400, 401, 403, 404, 409, 412, 413, 415, 422, 428) as an OGC exception,
  with the validation findings of a 422;
- ``Authorization: Bearer`` as the ``bearerAuth`` security scheme (required to write and for the restricted
  register collections; optional elsewhere);
- ``/processes``, ``/processes/{processId}`` and one ``/processes/<id>/execution`` per process with its own
  inputs and outputs schemas (the same schemas as the process description) and the three answers of a
  synchronous execution (results document, one raw value, ``multipart/related``).

Everything is local (``#/components/…``): the document stays self-contained.
"""

from __future__ import annotations

import copy

from landgeo.api import processes, transactions
from landgeo.catalog import targets

BEARER = {"bearerAuth": []}
_R = "#/components/responses/"
_S = "#/components/schemas/"
_P = "#/components/parameters/"


def _ref(kind: str, name: str) -> dict:
    return {"$ref": f"#/components/{kind}/{name}"}


def _exc(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"{_S}exception"}}}}


_FINDING = {"type": "object", "required": ["code", "message"], "properties": {
    "code": {"type": "string"}, "severity": {"type": "string", "enum": ["error", "warning"]},
    "message": {"type": "string"}, "location": {"type": "object"}}}
SCHEMAS = {
    "finding": _FINDING,
    "legalBasis": copy.deepcopy(processes.DOCUMENT),
    "featureWrite": {
        "type": "object", "required": ["type", "geometry", "properties"],
        "description": "A GeoJSON Feature to store; coordinates in the Content-Crs (CRS84 when absent). Unknown "
                       "properties are refused (400); derived ones (computed_area, valid_from …) are ignored.",
        "properties": {"type": {"type": "string", "enum": ["Feature"]}, "id": {},
                       "geometry": {"$ref": f"{_S}geometryGeoJSON"}, "properties": {"type": "object"},
                       "document": {"$ref": f"{_S}legalBasis"}, "links": {"type": "array", "items": {}}},
    },
    "featureMergePatch": {
        "type": "object", "description": "JSON merge patch (RFC 7396) of a Feature: the members given replace "
                                         "the stored ones, null removes an optional property",
        "properties": {"type": {"type": "string", "enum": ["Feature"]},
                       "geometry": {"$ref": f"{_S}geometryGeoJSON"}, "properties": {"type": "object"},
                       "document": {"$ref": f"{_S}legalBasis"}},
    },
    "retireRequest": {"type": "object", "description": "optional legal basis of a DELETE (retirement)",
                      "properties": {"document": {"$ref": f"{_S}legalBasis"}}},
    "writeResult": {
        "type": "object", "required": ["id", "links"],
        "properties": {"id": {"type": "integer"}, "closedVersions": {"type": "array", "items": {"type": "integer"}},
                       "mutation": {"type": "integer", "nullable": True},
                       "warnings": {"type": "array", "items": {"$ref": f"{_S}finding"}},
                       "links": {"type": "array", "items": {"$ref": f"{_S}link"}}},
    },
    "history": {
        "type": "object", "required": ["id", "versions", "mutations", "links"],
        "properties": {
            "id": {"type": "integer"},
            "versions": {"type": "array", "items": {"type": "object", "properties": {
                "versionId": {"type": "integer"}, "validFrom": {"type": "string"},
                "validTo": {"type": "string", "nullable": True}, "href": {"type": "string"}}}},
            "mutations": {"type": "array", "items": {"type": "object", "properties": {
                "parent": {"type": "integer", "description": "feature id"},
                "child": {"type": "integer", "description": "feature id"}, "event": {"type": "string"},
                "parentVersion": {"type": "integer"}, "childVersion": {"type": "integer"},
                "at": {"type": "string"}, "mutation": {"type": "integer"}, "kind": {"type": "string"},
                "document": {"type": "object", "nullable": True},
                "actor": {"type": "string", "nullable": True, "description": "land-office identities only"},
                "relation": {"type": "string", "enum": ["ancestor", "descendant"]}}}},
            "links": {"type": "array", "items": {"$ref": f"{_S}link"}},
        },
    },
    "featureHistory": {
        "type": "object", "required": ["id", "versions", "changes", "links"],
        "description": "versions of a map sheet or base-geography feature and the writes that closed them",
        "properties": {
            "id": {"type": "integer"},
            "versions": {"type": "array", "items": {"type": "object", "properties": {
                "versionId": {"type": "integer"}, "validFrom": {"type": "string"},
                "validTo": {"type": "string", "nullable": True}, "href": {"type": "string"}}}},
            "changes": {"type": "array", "items": {"type": "object", "properties": {
                "seq": {"type": "integer"}, "at": {"type": "string"}, "op": {"type": "string"},
                "closedVersion": {"type": "integer", "nullable": True},
                "actor": {"type": "string", "nullable": True, "description": "land-office identities only"},
                "document": {"type": "object", "nullable": True}}}},
            "links": {"type": "array", "items": {"$ref": f"{_S}link"}},
        },
    },
    "changes": {
        "type": "object", "required": ["changes", "links"],
        "properties": {
            "changes": {"type": "array", "items": {"type": "object", "properties": {
                "seq": {"type": "integer"}, "at": {"type": "string"}, "id": {"type": "integer"},
                "closedVersion": {"type": "integer", "nullable": True},
                "op": {"type": "string", "description": "create, update or retire"},
                "province_code": {"type": "string"}, "commune_code": {"type": "string"},
                "mutation": {"type": "object"}, "href": {"type": "string"}}}},
            "last": {"type": "integer", "nullable": True, "description": "the seq to send as since next time"},
            "links": {"type": "array", "items": {"$ref": f"{_S}link"}},
        },
    },
    "processSummary": {
        "type": "object", "required": ["id", "version", "links"],
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "version": {"type": "string"},
                       "jobControlOptions": {"type": "array", "items": {"type": "string", "enum": [
                           "sync-execute", "async-execute", "dismiss"]}},
                       "outputTransmission": {"type": "array", "items": {"type": "string",
                                                                         "enum": ["value", "reference"]}},
                       "links": {"type": "array", "items": {"$ref": f"{_S}link"}}},
    },
    "processList": {"type": "object", "required": ["processes", "links"], "properties": {
        "processes": {"type": "array", "items": {"$ref": f"{_S}processSummary"}},
        "links": {"type": "array", "items": {"$ref": f"{_S}link"}}}},
    "process": {"allOf": [{"$ref": f"{_S}processSummary"}, {"type": "object", "properties": {
        "inputs": {"type": "object", "additionalProperties": {"type": "object", "required": ["schema"], "properties": {
            "title": {"type": "string"}, "schema": {"type": "object"}, "minOccurs": {"type": "integer"},
            "maxOccurs": {"type": "integer"}}}},
        "outputs": {"type": "object", "additionalProperties": {"type": "object", "required": ["schema"],
                                                               "properties": {"title": {"type": "string"},
                                                                              "schema": {"type": "object"}}}}}}]},
}
SCHEMAS["exception"] = {  # the OGC exception of every error answer, with the findings of a refused write
    "type": "object", "description": "OGC exception (code and description; RFC 7807 members allowed)",
    "properties": {"code": {"type": "string"}, "type": {"type": "string"}, "description": {"type": "string"},
                   "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
                   "instance": {"type": "string"}, "findings": {"type": "array", "items": {"$ref": f"{_S}finding"}}},
}
HEADERS = {
    "ETag": {"description": "Strong entity tag of the feature's current version (send it back in If-Match)",
             "schema": {"type": "string"}},
    "Location": {"description": "URL of the new feature", "schema": {"type": "string", "format": "uri"}},
    "Allow": {"description": "The methods this identity may use here (QGIS asks before it enables editing)",
              "schema": {"type": "string"}},
    "ContentCrs": {"description": "CRS of the coordinates, <URI>", "schema": {"type": "string"}},
}
PARAMETERS = {
    "IfMatch": {"name": "If-Match", "in": "header", "required": True, "schema": {"type": "string"},
                "description": "The ETag of the version the change is based on: missing 428, another version 412"},
    "ContentCrsHeader": {"name": "Content-Crs", "in": "header", "required": False, "schema": {"type": "string"},
                         "description": "CRS of the body's coordinates, <http://www.opengis.net/def/crs/EPSG/0/9210>"
                                        " for VN-2000 TM-3; CRS84 when absent"},
    "since": {"name": "since", "in": "query", "required": False, "schema": {"type": "string"},
              "description": "Changes after this sequence number (the previous answer's last) or RFC 3339 time"},
    "changesLimit": {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000}},
    "changesProvince": {"name": "province", "in": "query", "required": False,
                        "schema": {"type": "string", "pattern": "^[0-9]{2}$"},
                        "description": "Only the changes of this province (2-digit code)"},
    "Prefer": {"name": "Prefer", "in": "header", "required": False, "schema": {"type": "string"},
               "description": "respond-async is not honoured (RFC 7240 allows it): the processes run synchronously"},
    "processId": {"name": "processId", "in": "path", "required": True,
                  "schema": {"type": "string", "enum": list(processes.PROCESSES)}},
}
RESPONSES = {
    "Created": {"description": "Created: the new feature is at Location",
                "headers": {"Location": _ref("headers", "Location"), "ETag": _ref("headers", "ETag")},
                "content": {"application/json": {"schema": {"$ref": f"{_S}writeResult"}}}},
    "Written": {"description": "Replaced / updated (or retired with warnings): the new version's ETag",
                "headers": {"ETag": _ref("headers", "ETag")},
                "content": {"application/json": {"schema": {"$ref": f"{_S}writeResult"}}}},
    "Retired": {"description": "Retired: the feature's lifespan ended (its versions stay readable by datetime)"},
    "VersionedFeature": {"description": "One feature (GeoJSON Feature) with the ETag of its version and what this "
                                        "identity may do on it",
                         "headers": {"ETag": _ref("headers", "ETag"), "Allow": _ref("headers", "Allow")},
                         "content": {"application/geo+json": {"schema": {"$ref": f"{_S}featureGeoJSON"}},
                                     "application/json": {"schema": {"$ref": f"{_S}featureGeoJSON"}},
                                     "application/ld+json": {"schema": {"type": "object"}},
                                     "text/html": {"schema": {"type": "string"}}}},
    "Allowed": {"description": "What this identity may do here", "headers": {"Allow": _ref("headers", "Allow")}},
    "BadRequest": _exc("The body or a parameter is invalid (one line saying what)"),
    "Unauthorized": _exc("No identity: send Authorization: Bearer TOKEN"),
    "Forbidden": _exc("This identity may not do this (role, or outside its provinces/communes)"),
    "NotFound": _exc("The requested resource does not exist"),
    "MethodNotAllowed": _exc("Not on this resource (see Allow)"),
    "Conflict": _exc("Conflicts with the register (a parcel number already used on the sheet …)"),
    "PreconditionFailed": _exc("If-Match names another version: someone changed it first (GET it again)"),
    "PayloadTooLarge": _exc("The body is too large"),
    "UnsupportedMediaType": _exc("The body is not of a media type this operation takes"),
    "Unprocessable": _exc("Refused by validation: the findings say what and where; nothing is stored"),
    "PreconditionRequired": _exc("If-Match is required (the ETag from GET of the item)"),
    "ServiceUnavailable": _exc("The database is not reachable; retry"),
}
_WRITE_ERRORS = {"400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound",
                 "409": "Conflict", "412": "PreconditionFailed", "413": "PayloadTooLarge",
                 "415": "UnsupportedMediaType", "422": "Unprocessable", "428": "PreconditionRequired",
                 "503": "ServiceUnavailable"}


def _errors(*codes: str) -> dict:
    return {c: {"$ref": f"{_R}{_WRITE_ERRORS[c]}"} for c in codes}


def _json_ok(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"{_S}{schema}"}}}}


def _write_ops(cid: str, title: str) -> dict:
    feature = {"application/geo+json": {"schema": {"$ref": f"{_S}featureWrite"}},
               "application/json": {"schema": {"$ref": f"{_S}featureWrite"}}}
    item = [{"$ref": f"{_P}featureId"}, {"$ref": f"{_P}IfMatch"}]
    common = {"tags": [cid], "security": [BEARER]}
    return {
        "put": {**common, "operationId": f"replace{_camel(cid)}Feature", "summary": f"Replace a {title} item",
                "description": "A new version replaces the current one (the feature id stays; the old version "
                               "stays readable with datetime).",
                "parameters": [*item, {"$ref": f"{_P}ContentCrsHeader"}],
                "requestBody": {"required": True, "content": feature},
                "responses": {"200": {"$ref": f"{_R}Written"}, **_errors(
                    "400", "401", "403", "404", "409", "412", "413", "415", "422", "428", "503")}},
        "patch": {**common, "operationId": f"update{_camel(cid)}Feature", "summary": f"Update a {title} item",
                  "parameters": [*item, {"$ref": f"{_P}ContentCrsHeader"}],
                  "requestBody": {"required": True, "content": {
                      "application/merge-patch+json": {"schema": {"$ref": f"{_S}featureMergePatch"}}}},
                  "responses": {"200": {"$ref": f"{_R}Written"}, **_errors(
                      "400", "401", "403", "404", "409", "412", "413", "415", "422", "428", "503")}},
        "delete": {**common, "operationId": f"delete{_camel(cid)}Feature", "summary": f"Retire a {title} item",
                   "description": "The lifespan ends; no row is removed.", "parameters": item,
                   "requestBody": {"required": False, "content": {
                       "application/json": {"schema": {"$ref": f"{_S}retireRequest"}}}},
                   "responses": {"204": {"$ref": f"{_R}Retired"}, "200": {"$ref": f"{_R}Written"}, **_errors(
                       "400", "401", "403", "404", "412", "413", "422", "428", "503")}},
    }


def _camel(cid: str) -> str:
    return "".join(p.capitalize() for p in cid.replace("_", "-").split("-"))


def _add_collection(paths: dict, cid: str) -> None:
    target = next((t for t in targets().values() if t.id == cid), None)
    title = target.title if target else cid
    history = "history" if target is not None and target.write_model == "register" else "featureHistory"
    items = paths.setdefault(f"/collections/{cid}/items", {})
    post = items.setdefault("post", {"tags": [cid], "operationId": f"create{_camel(cid)}Feature", "responses": {}})
    content = post.setdefault("requestBody", {"required": True, "content": {}}).setdefault("content", {})
    content["application/geo+json"] = {"schema": {"$ref": f"{_S}featureWrite"}}
    if "application/json" in content:  # a CQL2-JSON filter, or a Feature to create
        content["application/json"] = {"schema": {"oneOf": [content["application/json"]["schema"],
                                                             {"$ref": f"{_S}featureWrite"}]}}
    post["summary"] = f"Search {title} items with CQL2-JSON, or create one (GeoJSON Feature)"
    post["requestBody"]["description"] = ("A CQL2-JSON filter (application/json), or a GeoJSON Feature to create "
                                          "(application/geo+json, or application/json with type Feature)")
    post.setdefault("parameters", []).append({"$ref": f"{_P}ContentCrsHeader"})
    post["security"] = [{}, BEARER]  # a filter needs no identity; a create does (401)
    for code, response in {"201": {"$ref": f"{_R}Created"}, **_errors(
            "400", "401", "403", "409", "413", "415", "422", "503")}.items():
        post["responses"].setdefault(code, response)  # the filter's own (400 with HTML, JSON-LD) stay
    one = paths.setdefault(f"/collections/{cid}/items/{{featureId}}", {})
    one.update(_write_ops(cid, title))
    if "get" in one:
        one["get"]["responses"]["200"] = {"$ref": f"{_R}VersionedFeature"}
    paths[f"/collections/{cid}/items/{{featureId}}/history"] = {"get": {
        "tags": [cid], "operationId": f"get{_camel(cid)}History", "summary": f"Versions and mutations of a {title}"
        " item", "description": "Its versions and the mutations (split, merge …) linking it to ancestors and "
                                "descendants, with their legal basis.",
        "parameters": [{"$ref": f"{_P}featureId"}],
        "responses": {"200": _json_ok("The history", history), **_errors("401", "403", "404", "503")}}}
    paths[f"/collections/{cid}/changes"] = {"get": {
        "tags": [cid], "operationId": f"get{_camel(cid)}Changes", "summary": f"Change feed of {title}",
        "description": "What changed after since, in order (a provincial system's sync); follow the next link.",
        "parameters": [{"$ref": f"{_P}since"}, {"$ref": f"{_P}changesLimit"}, {"$ref": f"{_P}changesProvince"},
                       {"name": "f", "in": "query", "required": False, "schema": {"type": "string", "enum": ["json"]}}],
        "responses": {"200": _json_ok("The changes", "changes"), **_errors("400", "401", "403", "503")}}}


def _execute_request(pid: str) -> dict:
    spec = processes.PROCESSES[pid][2]
    return {"type": "object", "required": ["inputs"], "properties": {
        "inputs": {"type": "object", "additionalProperties": False,
                   "required": [k for k, v in spec.items() if v["minOccurs"] > 0],
                   "properties": {k: copy.deepcopy(v["schema"]) for k, v in spec.items()}},
        "outputs": {"type": "object", "description": "the outputs wanted (all when absent)",
                    "properties": {k: {"type": "object", "properties": {
                        "transmissionMode": {"type": "string", "enum": ["value"]},
                        "format": {"type": "object", "properties": {"mediaType": {
                            "type": "string", "enum": ["application/json"]}}}}} for k in processes.OUTPUTS},
                    "additionalProperties": False},
        "response": {"type": "string", "enum": ["raw", "document"], "default": "raw"}}}


def _add_processes(paths: dict) -> None:
    results = {"type": "object", "properties": {k: copy.deepcopy(v["schema"]) for k, v in processes.OUTPUTS.items()}}
    paths["/processes"] = {"get": {
        "tags": ["processes"], "operationId": "getProcesses", "summary": "The processes (register mutations)",
        "responses": {"200": _json_ok("The process list", "processList")}}}
    paths["/processes/{processId}"] = {"get": {
        "tags": ["processes"], "operationId": "describeProcess", "summary": "A process: inputs, outputs, modes",
        "parameters": [{"$ref": f"{_P}processId"}],
        "responses": {"200": _json_ok("The process description", "process"), **_errors("404")}}}
    for pid, (title, _fn, _inputs) in processes.PROCESSES.items():
        paths[f"/processes/{pid}/execution"] = {"post": {
            "tags": ["processes"], "operationId": f"execute{_camel(pid)}", "summary": f"Execute: {title}",
            "description": "Synchronous, all-or-nothing. response=document: the results document of the "
                           "selected outputs; raw (the default): one output's value alone, several as "
                           "multipart/related (one part per output, Content-ID the output id).",
            "security": [BEARER], "parameters": [{"$ref": f"{_P}Prefer"}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _execute_request(pid)}}},
            "responses": {"200": {"description": "The outputs", "content": {
                "application/json": {"schema": {"anyOf": [results, {"type": "array", "items": {}},
                                                          {"type": "integer"}]}},
                "multipart/related": {"schema": results}}},
                **_errors("400", "401", "403", "404", "409", "412", "413", "422", "428", "503")}}}


def with_register(doc: dict) -> dict:
    """``doc`` with the write side described (in place; returned for chaining)."""
    components = doc.setdefault("components", {})
    for section, entries in (("schemas", SCHEMAS), ("headers", HEADERS), ("parameters", PARAMETERS)):
        components.setdefault(section, {}).update(copy.deepcopy(entries))
    responses = components.setdefault("responses", {})
    for name, value in RESPONSES.items():  # the read side's own (with HTML, JSON-LD) stay as they are
        responses.setdefault(name, copy.deepcopy(value))
    responses["Allowed"] = copy.deepcopy(RESPONSES["Allowed"])
    components.setdefault("securitySchemes", {})["bearerAuth"] = {
        "type": "http", "scheme": "bearer",
        "description": "A land-office token (landgeo users add NAME --role officer|analyst|admin)"}
    paths = doc.setdefault("paths", {})
    for cid in sorted(transactions.WRITABLE_COLLECTIONS):
        if f"/collections/{cid}" in paths:
            _add_collection(paths, cid)
    _add_processes(paths)
    for target in targets().values():  # the register's restricted collections need an identity
        if target.restricted:
            for path, item in paths.items():
                if path.startswith(f"/collections/{target.id}/") or path == f"/collections/{target.id}":
                    for op in item.values():
                        if isinstance(op, dict) and "responses" in op:
                            op.setdefault("security", [BEARER])
    return doc
