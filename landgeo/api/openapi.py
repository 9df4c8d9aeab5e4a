"""A self-contained OpenAPI document: no ``$ref`` to another host.

pygeoapi's document refers to schemas on schemas.opengis.net and raw.githubusercontent.com (OGC API – Features
Part 1 responses and parameters, CQL2-JSON, the Records ``sortby`` parameter, the Tiles ``link`` and the Processes
``exception`` schemas). Offline — a closed government network — a conformance suite, Swagger UI, schemathesis or
a code generator cannot resolve them. :func:`self_contained` replaces each by a local ``#/components/…`` reference
to a definition written here from the standards (OGC 17-069r4 Part 1, OGC 21-065 CQL2, RFC 7946 GeoJSON),
describing what landgeo's API actually returns.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path

from landgeo.api.openapi_register import with_register
from landgeo.catalog import targets

_LINK = {"$ref": "#/components/schemas/link"}
_EXCEPTION_CONTENT = {
    "application/json": {"schema": {"$ref": "#/components/schemas/exception"}},
    "application/ld+json": {"schema": {"$ref": "#/components/schemas/exception"}},
    "text/html": {"schema": {"type": "string"}},
}

SCHEMAS = {
    "link": {
        "type": "object", "required": ["href"],
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
                       "hreflang": {"type": "string"}, "title": {"type": "string"}, "length": {"type": "integer"},
                       "templated": {"type": "boolean"}},
    },
    "exception": {
        "type": "object", "description": "OGC exception (code and description; RFC 7807 members allowed)",
        "properties": {"code": {"type": "string"}, "type": {"type": "string"}, "description": {"type": "string"},
                       "title": {"type": "string"}, "status": {"type": "integer"}, "detail": {"type": "string"},
                       "instance": {"type": "string"}},
    },
    "cql2": {
        "type": "object", "description": "A CQL2-JSON boolean expression (OGC 21-065, cql2-json)",
        "required": ["op"], "properties": {"op": {"type": "string"}, "args": {"type": "array"}},
    },
    "geometryGeoJSON": {
        "type": "object", "required": ["type"],
        "properties": {"type": {"type": "string", "enum": [
            "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
            "GeometryCollection"]}},
    },
    "featureGeoJSON": {
        "type": "object", "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": {"nullable": True, "allOf": [{"$ref": "#/components/schemas/geometryGeoJSON"}]},
            "properties": {"type": "object", "nullable": True},
            "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "links": {"type": "array", "items": _LINK},
        },
    },
    "featureCollectionGeoJSON": {
        "type": "object", "required": ["type", "features"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
            "links": {"type": "array", "items": _LINK},
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
    "collectionInfo": {
        "type": "object", "required": ["id", "links"],
        "properties": {
            "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
            "links": {"type": "array", "items": _LINK}, "extent": {"type": "object"},
            "itemType": {"type": "string"}, "crs": {"type": "array", "items": {"type": "string"}},
            "storageCrs": {"type": "string"},
        },
    },
    "confClasses": {
        "type": "object", "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "landingPage": {
        "type": "object", "required": ["links"],
        "properties": {"title": {"type": "string"}, "description": {"type": "string"},
                       "links": {"type": "array", "items": _LINK}},
    },
}


def _ok(description: str, media: str, schema: str) -> dict:
    return {"description": description, "content": {
        media: {"schema": {"$ref": f"#/components/schemas/{schema}"}},
        "text/html": {"schema": {"type": "string"}},
    }}


RESPONSES = {
    "ConformanceDeclaration": _ok("The conformance classes the server implements", "application/json",
                                  "confClasses"),
    "LandingPage": _ok("The landing page: links to the API definition, conformance and collections",
                       "application/json", "landingPage"),
    "Collection": _ok("Information about the feature collection", "application/json", "collectionInfo"),
    "Features": _ok("A page of features (GeoJSON FeatureCollection)", "application/geo+json",
                    "featureCollectionGeoJSON"),
    "Feature": _ok("One feature (GeoJSON Feature)", "application/geo+json", "featureGeoJSON"),
    "InvalidParameter": {"description": "A query parameter has an invalid value", "content": _EXCEPTION_CONTENT},
    "NotFound": {"description": "The requested resource does not exist", "content": _EXCEPTION_CONTENT},
    "ServerError": {"description": "A server error occurred", "content": _EXCEPTION_CONTENT},
    "UnsupportedMediaType": {"description": "The request body is not of a supported media type",
                             "content": _EXCEPTION_CONTENT},
    "Unauthorized": {"description": "The land register needs an identity: send Authorization: Bearer TOKEN",
                     "content": _EXCEPTION_CONTENT},
    "Forbidden": {"description": "This identity may not read the land register (analysts)",
                  "content": _EXCEPTION_CONTENT},
    "Allowed": {"description": "What this user may do here (the Allow header)"},
    "UriTooLong": {"description": "The request line is longer than the server accepts (use POST for long filters)",
                   "content": {"text/html": {"schema": {"type": "string"}},
                               "text/plain": {"schema": {"type": "string"}}}},
}
# pygeoapi documents queryables and schemas as {"queryables": [...]}, but serves JSON Schema documents
QUERYABLES_SCHEMA = {
    "type": "object", "required": ["type", "properties"], "description": "A JSON Schema of the collection's properties",
    "properties": {"$schema": {"type": "string"}, "$id": {"type": "string"}, "type": {"type": "string"},
                   "title": {"type": "string"}, "properties": {"type": "object"}},
}

PARAMETERS = {
    "featureId": {"name": "featureId", "in": "path", "required": True, "description": "Local identifier of a feature",
                  "schema": {"type": "string"}},
    "datetime": {"name": "datetime", "in": "query", "required": False, "style": "form", "explode": False,
                 "description": "An instant or interval (RFC 3339, `..` for open ends); features valid then",
                 "schema": {"type": "string"}},
    "sortby": {"name": "sortby", "in": "query", "required": False, "style": "form", "explode": False,
               "description": "Comma-separated properties to sort by, `-` for descending",
               "schema": {"type": "array", "minItems": 1,
                          "items": {"type": "string", "pattern": "^[+-]?[A-Za-z_][A-Za-z0-9_.-]*$"}}},
}

# remote reference (as pygeoapi 0.24 writes it, without the host part) -> local reference
_FEATURES_1 = "ogcapi/features/part1/1.0/openapi/ogcapi-features-1.yaml#/components/"
_LOCAL = {
    "cql2/1.0/cql2.json": "#/components/schemas/cql2",
    "opengeospatial/ogcapi-records/master/core/openapi/parameters/sortby.yaml": "#/components/parameters/sortby",
    "ogcapi/tiles/part1/1.0/openapi/ogcapi-tiles-1.yaml#/components/schemas/link": "#/components/schemas/link",
    "ogcapi/processes/part1/1.0/openapi/schemas/exception.yaml": "#/components/schemas/exception",
}


def local_ref(ref: str) -> str:
    """The local reference standing for the remote ``ref``; ValueError for one this module does not know."""
    tail = ref.split("://", 1)[1].split("/", 1)[1]
    if tail.startswith(_FEATURES_1):
        kind, name = tail[len(_FEATURES_1):].split("/", 1)
        table = {"responses": RESPONSES, "parameters": PARAMETERS}.get(kind, {})
        if name in table:
            return f"#/components/{kind}/{name}"
    if tail in _LOCAL:
        return _LOCAL[tail]
    raise ValueError(f"the OpenAPI document refers to {ref}, which landgeo cannot serve offline")


def _walk(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(("http://", "https://")):
                out[key] = local_ref(value)
            else:
                out[key] = _walk(value)
        return out
    if isinstance(node, list):
        return [_walk(v) for v in node]
    return node


def self_contained(document: dict) -> dict:
    """``document`` with every remote ``$ref`` replaced by a local one, the local definitions added, the
    answers the server really gives documented (see :func:`_document_answers`) and the write side described."""
    doc = _walk(document)
    components = doc.setdefault("components", {})
    for section, entries in (("schemas", SCHEMAS), ("responses", RESPONSES), ("parameters", PARAMETERS)):
        target = components.setdefault(section, {})
        for name, value in entries.items():
            target.setdefault(name, copy.deepcopy(value))
    components["schemas"]["queryables"] = copy.deepcopy(QUERYABLES_SCHEMA)
    _document_answers(doc)
    return with_register(doc)  # Part 4, history, changes, Processes (landgeo.api.openapi_register)


_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch")


def _document_answers(doc: dict) -> None:
    """Document what the server answers and pygeoapi's document omits: JSON-LD (``f=jsonld``) beside JSON,
    ``application/schema+json`` for queryables and schemas, GeoJSON for items, 404 for unknown feature ids, 415
    for a POST filter of another media type, and the conformance declaration's own schema."""
    components = doc["components"]["responses"]
    restricted = [t.id for t in targets().values() if t.restricted]
    conformance = doc.get("paths", {}).get("/conformance", {}).get("get")
    if conformance is not None:
        conformance.setdefault("responses", {})["200"] = {"$ref": "#/components/responses/ConformanceDeclaration"}
    for path, item in doc.get("paths", {}).items():
        for method in _OPERATIONS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            responses = op.setdefault("responses", {})
            responses.setdefault("414", {"$ref": "#/components/responses/UriTooLong"})
            if method == "options":  # landgeo.api.transactions: 204 with Allow (what this user may do)
                responses.setdefault("204", {"$ref": "#/components/responses/Allowed"})
            if any(path.startswith(f"/collections/{cid}") for cid in restricted):  # the register (landgeo.access)
                responses.setdefault("401", {"$ref": "#/components/responses/Unauthorized"})
                responses.setdefault("403", {"$ref": "#/components/responses/Forbidden"})
            if "{featureId}" in path and "404" not in responses:
                responses["404"] = {"$ref": "#/components/responses/NotFound"}
            if method == "post" and path.endswith("/items"):
                responses.setdefault("415", {"$ref": "#/components/responses/UnsupportedMediaType"})
            for code, response in responses.items():
                if not str(code).startswith("2"):
                    continue
                ref = response.get("$ref", "")
                target = components.get(ref.rsplit("/", 1)[-1]) if ref.startswith("#/components/responses/") \
                    else response
                content = (target or {}).get("content")
                if not content:
                    continue
                json_like = content.get("application/json") or content.get("application/geo+json")
                if json_like is None:
                    continue
                content.setdefault("application/ld+json", {"schema": {"type": "object"}})
                content.setdefault("text/html", {"schema": {"type": "string"}})
                if path.endswith(("/queryables", "/schema")):
                    content.setdefault("application/schema+json", json_like)
                if "/items" in path:
                    content.setdefault("application/geo+json", json_like)


def remote_refs(node) -> list[str]:
    """Every ``$ref`` in ``node`` that points to another host (empty for a self-contained document)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and "://" in value:
                found.append(value)
            else:
                found.extend(remote_refs(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(remote_refs(value))
    return found


def generator_tag() -> str:
    """A short hash of the code that writes the document (pygeoapi's, then landgeo's changes), so a cached
    document is rebuilt when that code changes (a new writable collection, process or schema)."""
    here = Path(__file__).parent
    digest = hashlib.sha1()
    for source in (here / "openapi.py", here / "openapi_register.py", here / "app.py", here / "processes.py",
                   here / "transactions.py", here.parent / "tiles" / "tiles_openapi.py", here.parent / "catalog.py"):
        digest.update(source.read_bytes() if source.is_file() else source.name.encode())
    return digest.hexdigest()[:12]
