"""OGC API – Features Part 4 (create, replace, update, delete) on ``parcels``, plus its history and change feed.

Routes answered here (before pygeoapi, which would otherwise claim transactions for every provider):

- ``POST /collections/parcels/items`` (``Content-Type: application/geo+json``): 201, ``Location``, ``ETag``;
- ``PUT`` / ``PATCH`` (JSON merge patch) / ``DELETE`` on ``/collections/parcels/items/{id}``, each with
  ``If-Match`` (missing: 428, stale: 412); ``Content-Crs: <uri>`` gives the body's CRS (CRS84 when absent);
- ``OPTIONS`` on items and on one item: ``Allow`` lists what *this* identity may do there (QGIS asks before
  enabling editing); GET of an item carries its strong ``ETag`` and ``Allow`` (see :func:`item_headers`);
- ``GET /collections/parcels/items/{id}/history``: versions and the mutations linking ancestors/descendants;
- ``GET /collections/parcels/changes?since=SEQ|TIMESTAMP&limit=N``: the change feed for provincial sync.

The same routes serve every collection whose catalogue entry is writable (``Target.writable``): the parcels
through the register (``write_model = "register"``: :mod:`landgeo.register.writes`, mutations), map sheets and
base-geography themes through :mod:`landgeo.register.features` (their history and feed:
:mod:`landgeo.api.feature_history`). Other collections are read-only: a write answers 405 with ``Allow``.
The feature id is stable: it is the id of the row that always holds the feature's latest state
(:mod:`landdb.versions`, :mod:`landdb.lifespans`); closed versions have ids of their own, listed in the history
and returned by ``datetime`` queries.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re

import psycopg
from psycopg_pool import PoolTimeout

from landdb import lifespans, versions
from landgeo.api import feature_history, guard, processes
from landgeo.api.answers import Answer, error_answer, send
from landgeo.api.answers import json_answer as _json
from landgeo.api.collections import get_collection
from landgeo.api.crs import CRS84, parse_crs
from landgeo.api.feed import feed_page, parse_feed
from landgeo.api.pool import get_pool
from landgeo.catalog import targets
from landgeo.register import body, features, writes
from landgeo.register.errors import WriteError, bad
from landgeo.target import Target

WRITABLE = {t.id: t for t in targets().values() if t.writable}  # the catalogue's writable targets by id
WRITABLE_COLLECTIONS = frozenset(WRITABLE)
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]
_ITEMS = re.compile(r"^/collections/([^/]+)/items/?$")
_ITEM = re.compile(r"^/collections/([^/]+)/items/([^/]+)$")
_HISTORY = re.compile(r"^/collections/([^/]+)/items/([^/]+)/history$")
_CHANGES = re.compile(r"^/collections/([^/]+)/changes$")
_CREATE_TYPES = ("application/geo+json", "application/json+geojson")
READ = "GET, HEAD, OPTIONS"

LOGGER = logging.getLogger("landgeo.api.transactions")
__all__ = ["CONFORMANCE", "answer", "item_headers", "item_links", "send"]


def answer(environ, path: str, method: str, base_url: str, db_urls: dict[str, str]) -> Answer | None:
    """The answer of the write side (Part 4, history, changes, Processes), None for any other request."""
    try:
        return dispatch(environ, path, method, base_url, db_urls) or processes.dispatch(
            environ, path, method, base_url, db_urls)
    except WriteError as exc:
        return error_answer(exc)
    except (PoolTimeout, psycopg.OperationalError):
        LOGGER.exception("database unavailable for %s %s", method, path)
        return _json(503, {"code": "ServiceUnavailable", "description": "the database is not reachable; retry"})
    except Exception:  # a bug, not the client's doing: logged, answered in OGC form, nothing committed
        LOGGER.exception("error in %s %s", method, path)
        return _json(500, {"code": "NoApplicableCode", "description": "internal error (logged)"})


def _ctype(environ) -> str:
    return environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()


def _read_body(environ) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise bad("bad Content-Length") from None
    if length > body.MAX_BODY:
        raise WriteError(413, "PayloadTooLarge", "body too large")
    return environ["wsgi.input"].read(length) if length else b""


def body_crs(environ, cid: str) -> writes.BodyCrs:
    """The ``Content-Crs`` of a request (``<uri>`` or a bare URI), CRS84 when absent; 400 when not offered."""
    value = environ.get("HTTP_CONTENT_CRS", "").strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    c = get_collection(cid)
    try:
        crs = parse_crs(value or CRS84, c.crs_uris)
    except ValueError as exc:
        raise bad(f"Content-Crs: {exc}") from None
    return writes.BodyCrs(crs.srid, crs.lat_first, crs.uri)


def _register(target: Target) -> bool:
    """The parcel register's write model (mutations, history links) rather than generic feature writes."""
    return target.write_model == "register"


def _may_write(target: Target, identity) -> bool:
    return writes.may_write(identity) if _register(target) else features.may_write(target, identity)


def allow_items(cid: str) -> str:
    target = WRITABLE.get(cid)
    return READ + (", POST" if target is not None and _may_write(target, guard.current()) else "")


def allow_item(cid: str, props: dict | None) -> str:
    """What the identity may do on one feature: PUT/PATCH/DELETE when it is current and inside its scope."""
    identity = guard.current()
    target = WRITABLE.get(cid)
    if target is None or props is None or props.get("valid_to") is not None or not _may_write(target, identity):
        return READ
    if _register(target):
        allowed = identity.covers(props.get("province_code"), props.get("commune_code"))
    else:
        allowed = features.covers(target, identity, props)
    return READ + ", PUT, PATCH, DELETE" if allowed else READ


def item_headers(cid: str, feature_text: str) -> dict[str, str]:
    """``ETag`` and ``Allow`` of a GET item answer (versioned collections with a lifespan)."""
    if cid not in WRITABLE_COLLECTIONS:
        return {}
    feature = json.loads(feature_text)
    props = feature.get("properties") or {}
    headers = {"Allow": allow_item(cid, props)}
    if props.get("valid_from"):
        headers["ETag"] = versions.etag_of(int(feature["id"]), dt.datetime.fromisoformat(props["valid_from"]))
    return headers


def item_links(base_url: str, cid: str, fid: str) -> list[dict]:
    if cid not in WRITABLE_COLLECTIONS:
        return []
    return [{"rel": "version-history", "type": "application/json", "title": "Versions and mutations (biến động)",
             "href": f"{base_url}/collections/{cid}/items/{fid}/history"}]


def dispatch(environ, path: str, method: str, base_url: str, db_urls: dict[str, str]) -> Answer | None:
    """The answer to a Part 4 / history / change-feed request, or None when the request is not one of them."""
    route = _route(path, method, environ)
    if route is None:
        return None
    kind, cid, fid = route
    c = get_collection(cid)
    if c is None or cid not in db_urls:
        return _json(404, {"code": "NotFound", "description": f"collection {cid!r} not found"})
    try:
        return _serve(environ, kind, cid, fid, base_url, db_urls[cid])
    except WriteError as exc:
        return error_answer(exc)


def _route(path: str, method: str, environ) -> tuple[str, str, str | None] | None:
    m = _ITEMS.match(path)
    if m:
        if method == "OPTIONS":
            return "options-items", m.group(1), None
        if method == "POST" and (_ctype(environ) in _CREATE_TYPES or _is_feature_json(environ)):
            return "create", m.group(1), None
        if method in ("PUT", "PATCH", "DELETE"):
            return "not-allowed-items", m.group(1), None
        return None
    m = _HISTORY.match(path)
    if m and method == "GET":
        return "history", m.group(1), m.group(2)
    m = _ITEM.match(path)
    if m:
        if method == "OPTIONS":
            return "options-item", m.group(1), m.group(2)
        if method in ("PUT", "PATCH", "DELETE", "POST"):
            return method.lower(), m.group(1), m.group(2)
        return None
    m = _CHANGES.match(path)
    if m and method == "GET":
        return "changes", m.group(1), None
    return None


def _is_feature_json(environ) -> bool:
    """A POST to items as ``application/json`` holding a Feature is a create (a CQL2-JSON filter is not): the body
    is read once and put back for the filter route."""
    if _ctype(environ) != "application/json":
        return False
    raw = _read_body(environ)
    environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(raw), str(len(raw))
    try:
        doc = json.loads(raw)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("type") == "Feature"


def _serve(environ, kind: str, cid: str, fid: str | None, base_url: str, url: str) -> Answer:
    identity = guard.current()
    if kind == "options-items":
        return 204, {"Allow": allow_items(cid)}, b""
    if kind == "not-allowed-items":
        return _json(405, {"code": "MethodNotAllowed", "description": "PUT, PATCH and DELETE apply to one item"},
                     {"Allow": allow_items(cid)})
    target = WRITABLE.get(cid)
    if kind == "options-item":
        cur = None
        if target is not None and fid.isdigit() and len(fid) < 19:
            with get_pool(url).connection() as conn:
                cur = versions.peek(conn, int(fid)) if _register(target) else lifespans.peek(conn, target, int(fid))
        props = {**cur.props, "valid_to": cur.valid_to} if cur else None
        return 204, {"Allow": allow_item(cid, props)}, b""
    if target is None or kind == "post":
        return _json(405, {"code": "MethodNotAllowed",
                           "description": f"{cid} is read-only through the API" if target is None
                           else "POST a new feature to the items collection"}, {"Allow": READ})
    if kind == "history":
        if not _register(target):
            return feature_history.history(target, fid, base_url, url)
        return _history(cid, fid, base_url, url)
    if kind == "changes":
        if not _register(target):
            return feature_history.changes(environ, target, base_url, url)
        return _changes(environ, cid, base_url, url)
    if kind in ("create", "put", "patch"):
        if kind == "patch" and _ctype(environ) not in ("application/merge-patch+json", "application/json",
                                                       "application/geo+json"):
            raise WriteError(415, "UnsupportedMediaType", "PATCH needs Content-Type: application/merge-patch+json")
        if kind == "put" and _ctype(environ) not in ("application/geo+json", "application/json"):
            raise WriteError(415, "UnsupportedMediaType", "PUT needs Content-Type: application/geo+json")
        doc = body.parse_json(_read_body(environ))
        crs = body_crs(environ, cid)
    if_match = environ.get("HTTP_IF_MATCH")
    if not _register(target):
        return _feature_write(environ, kind, target, fid, identity, base_url, url,
                              *((doc, crs) if kind != "delete" else (None, None)))
    with get_pool(url).connection() as conn:
        if kind == "create":
            out = writes.create(conn, identity, doc, crs)
        elif kind in ("put", "patch"):
            out = writes.update(conn, identity, fid, if_match, doc, crs, partial=kind == "patch")
        else:  # delete
            raw = _read_body(environ)
            out = writes.retire(conn, identity, fid, if_match, body.parse_json(raw) if raw.strip() else None)
    return _written(kind, cid, out, base_url)


def _feature_write(environ, kind: str, target: Target, fid: str | None, identity, base_url: str, url: str, doc,
                   crs) -> Answer:
    """POST/PUT/PATCH/DELETE on a map sheet or a base-geography feature (:mod:`landgeo.register.features`)."""
    if_match = environ.get("HTTP_IF_MATCH")
    with get_pool(url).connection() as conn:
        if kind == "create":
            out = features.create(conn, target, identity, doc, crs)
        elif kind in ("put", "patch"):
            out = features.update(conn, target, identity, fid, if_match, doc, crs, partial=kind == "patch")
        else:  # delete
            raw = _read_body(environ)
            out = features.retire(conn, target, identity, fid, if_match, body.parse_json(raw) if raw.strip() else None)
    return _written(kind, target.id, out, base_url)


def _written(kind: str, cid: str, out: writes.Outcome, base_url: str) -> Answer:
    """The answer to a successful write: 201 + Location (create), 204 (retire), else 200; ETag of the new version."""
    location = f"{base_url}/collections/{cid}/items/{out.ids[0]}"
    answer = {"id": out.ids[0], "closedVersions": out.closed, "mutation": out.mutation, "warnings": out.warnings,
              "links": [{"rel": "self", "type": "application/geo+json", "href": location},
                        {"rel": "version-history", "type": "application/json", "href": f"{location}/history"}]}
    if out.change is not None:  # a map sheet / base-geography write: its place in the collection's change feed
        del answer["mutation"]
        answer["change"] = out.change
    headers = {"ETag": out.etag} if out.etag else {}
    if kind == "create":
        return _json(201, answer, {**headers, "Location": location})
    if kind == "delete" and not out.warnings:
        return 204, {}, b""
    return _json(200, answer, headers)


def _instant(t) -> str:
    """A version's start as the ``datetime`` that reads it."""
    return t.isoformat().replace("+00:00", "Z")


def _history(cid: str, fid: str, base_url: str, url: str) -> Answer:
    if not fid.isdigit() or len(fid) > 18:
        raise WriteError(404, "NotFound", f"feature {fid[:40]!r} not found in {cid}")
    with get_pool(url).connection() as conn:
        if versions.peek(conn, int(fid)) is None:
            raise WriteError(404, "NotFound", f"feature {fid!r} not found in {cid}")
        h = versions.history(conn, int(fid))
    items = f"{base_url}/collections/{cid}/items"
    identity = guard.current()
    staff = identity is not None and identity.reads_register  # who made a change: shown to the land office only
    doc = {
        "id": int(fid),
        "versions": [{"versionId": r[0], "validFrom": r[1], "validTo": r[2], "parcel_number": r[3],
                      "sheet_number": r[4], "land_use_codes": r[5],
                      "declared_area": None if r[6] is None else float(r[6]),
                      "computed_area": None if r[7] is None else float(r[7]),
                      "href": f"{items}/{fid}?datetime={_instant(r[1])}"} for r in h["versions"]],
        "mutations": [{"parent": r[0], "child": r[1], "event": r[2], "at": r[3], "mutation": r[4], "kind": r[5],
                       "document": {"number": r[6], "date": r[7]} if r[6] else None,
                       "actor": r[8] if staff else None, "parentVersion": r[9], "childVersion": r[10],
                       "relation": "ancestor" if r[10] in h["version_ids"] else "descendant"} for r in h["links"]],
        "links": [{"rel": "self", "type": "application/json", "href": f"{items}/{fid}/history"},
                  {"rel": "item", "type": "application/geo+json", "href": f"{items}/{fid}"}],
    }
    return _json(200, doc)


def _changes(environ, cid: str, base_url: str, url: str) -> Answer:
    q = parse_feed(environ)
    cond, args = q.where("c.")
    with get_pool(url).connection() as conn:
        rows = conn.execute(
            f"SELECT c.seq, c.at, c.feature_id, c.closed_version, c.op, c.province_code, c.commune_code, m.kind, "
            f"m.document_number, m.document_date, m.id FROM landdb.parcel_change c JOIN landdb.parcel_mutation m "
            f"ON m.id = c.mutation_id WHERE {cond} ORDER BY c.seq LIMIT %s", (*args, q.limit)).fetchall()
    items = f"{base_url}/collections/{cid}/items"
    changes = [{"seq": r[0], "at": r[1], "id": r[2], "closedVersion": r[3], "op": r[4], "province_code": r[5],
                "commune_code": r[6], "mutation": {"id": r[10], "kind": r[7],
                                                   "document": {"number": r[8], "date": r[9]} if r[8] else None},
                "href": f"{items}/{r[2]}"} for r in rows]
    return _json(200, feed_page(q, changes, rows[-1][0] if rows else None, base_url, cid))
