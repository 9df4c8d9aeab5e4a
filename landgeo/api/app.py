"""The landgeo API application: pygeoapi's Flask app behind a thin WSGI wrapper (tested on pygeoapi 0.24.0).

pygeoapi serves the landing page, collections, queryables, OpenAPI, HTML pages and content negotiation; the
collections' data come from :class:`landgeo.api.provider.LandgeoProvider`. pygeoapi fixes three things in its API
layer that we need to do differently, so the wrapper answers these requests itself, before pygeoapi sees them:

- ``/conformance``: the exact list of what is implemented (pygeoapi declares Part 4 transactions for every
  feature provider, and neither Part 3 ``filter`` nor ``features-filter``, which QGIS needs to send CQL2);
- ``/collections/{id}/items`` as GeoJSON (GET, and POST with a CQL2-JSON body): pygeoapi parses ``filter`` only
  as CQL2 text, transforms ``bbox-crs``/``filter-crs`` with pyproj (not the official VN-2000 operation), writes
  OFFSET ``next`` links and re-serialises every feature in Python. Here the page is the provider's SQL with
  keyset ``next`` links, transformations in PostGIS and GeoJSON passed through as built by the database;
- ``/collections/{id}/items/{featureId}`` as GeoJSON, the same way.

HTML and JSON-LD items pages go to pygeoapi (which calls the same provider).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import psycopg
from psycopg_pool import PoolTimeout

from landgeo.api import guard, processes, transactions
from landgeo.api.collections import get_collection
from landgeo.api.config import default_path
from landgeo.api.crs import CRS84, parse_crs
from landgeo.api.federated import HEADER as UNAVAILABLE_HEADER
from landgeo.api.federated import run_items_federated, unavailable_error
from landgeo.api.openapi import generator_tag, self_contained
from landgeo.api.ops import database_error
from landgeo.api.parameters import body_error, query_string_error
from landgeo.api.pool import STATEMENT_TIMEOUT_MS
from landgeo.api.query import ApiError, bad, next_href, parse_items
from landgeo.api.versioned import item_instant
from landgeo.settings import get_settings
from landgeo.tiles import tileroutes
from landgeo.tiles.tiles_openapi import with_tiles
from landgeo.tiles.tilesets import TILES_CONFORMANCE

LOGGER = logging.getLogger("landgeo.api")
PYGEOAPI_VERSION_TESTED = "0.24.0"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/landing-page",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    *TILES_CONFORMANCE,
]
CONFORMANCE += transactions.CONFORMANCE + processes.CONFORMANCE  # register writes (issue 17)

_ITEMS = re.compile(r"^/collections/([^/]+)/items/?$")
_ITEM = re.compile(r"^/collections/([^/]+)/items/([^/]+)$")
_JSON_FORMATS = {"json", "geojson", "application/json", "application/geo+json"}


def _wants_json(params: dict[str, str], environ: dict) -> bool:
    f = params.get("f")
    if f is not None:
        return f.lower() in _JSON_FORMATS
    accept = environ.get("HTTP_ACCEPT", "")
    return "text/html" not in accept or "json" in accept.split("text/html")[0]


class LandgeoApp:
    """WSGI wrapper: our routes first, pygeoapi for the rest."""

    def __init__(self, pygeoapi_app, config: dict, pygeoapi_api=None) -> None:
        self.pygeoapi_app = pygeoapi_app
        self.pygeoapi_api = pygeoapi_api
        self.config = config
        self.base_url = str(config["server"]["url"]).rstrip("/")
        self.db_urls = {
            cid: res["providers"][0]["data"]["url"]
            for cid, res in config["resources"].items()
            if res.get("providers") and isinstance(res["providers"][0].get("data"), dict)
        }

    # ---- WSGI
    def __call__(self, environ, start_response):
        """Who is asking first (landgeo.api.guard: 401/403 before anything else), then the request as them."""
        try:
            query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
            identity = guard.admit(environ, next(iter(self.db_urls.values()), None), query)
        except ApiError as exc:
            return self._send(start_response, exc.status, {"Content-Type": "application/json",
                                                           **getattr(exc, "headers", {})}, exc.body())
        except (PoolTimeout, psycopg.OperationalError) as exc:  # 503 + Retry-After, or 504 on timeout
            LOGGER.warning("database unavailable while checking credentials: %s", exc)
            status, headers, body = database_error(exc, STATEMENT_TIMEOUT_MS)
            return self._send(start_response, status, headers, body)
        with guard.acting_as(identity):
            return self._dispatch(environ, start_response)

    def _dispatch(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        refused = query_string_error(environ.get("QUERY_STRING", ""))  # limits: docs/api.md
        if refused is not None:
            return self._send(start_response, 400, {"Content-Type": "application/json"}, refused.body())
        if tileroutes.handles(path):  # OGC API – Tiles, styles, glyphs, the web map (landgeo/tiles/tileroutes.py)
            return tileroutes.dispatch(self, environ, start_response)
        answer = transactions.answer(environ, path, method, self.base_url, self.db_urls)  # Part 4, Processes
        if answer is not None:
            return transactions.send(start_response, answer)
        if path == "/conformance" or path.startswith("/collections/"):
            params = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
            if path == "/conformance" and method == "GET" and params.get("f", "html") == "html" \
                    and not _wants_json(params, environ) and self.pygeoapi_api is not None:
                from pygeoapi.util import render_j2_template

                html = render_j2_template(self.pygeoapi_api.tpl_config, self.config["server"]["templates"],
                                          "conformance.html", {"conformsTo": CONFORMANCE},
                                          self.pygeoapi_api.default_locale)
                return self._send(start_response, 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode())
            if _wants_json(params, environ):
                try:
                    pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
                    if len(pairs) != len(params):
                        twice = sorted({k for k, _v in pairs if sum(1 for k2, _ in pairs if k2 == k) > 1})
                        raise bad(f"parameter(s) given more than once: {', '.join(twice)} (use CQL2 for OR/AND)")
                    if path == "/conformance" and method == "GET":
                        return self._send(start_response, 200, {"Content-Type": "application/json"},
                                          json.dumps({"conformsTo": CONFORMANCE}).encode())
                    match = _ITEMS.match(path)
                    if match and (method == "GET" or (method == "POST" and self._is_filter_post(environ))):
                        return self._items(environ, start_response, match.group(1), params, method)
                    match = _ITEM.match(path)
                    if match and method == "GET":
                        return self._item(start_response, match.group(1), match.group(2), params)
                except ApiError as exc:
                    return self._send(start_response, exc.status, {"Content-Type": "application/json"}, exc.body())
                except (PoolTimeout, psycopg.OperationalError) as exc:  # 503 + Retry-After, or 504 on timeout
                    LOGGER.warning("database error for %s %s: %s", method, path, type(exc).__name__)
                    status, headers, body = database_error(exc, STATEMENT_TIMEOUT_MS)
                    if status == 503:  # a federated province that does not answer is named
                        body = unavailable_error(exc).body()
                    return self._send(start_response, status, headers, body)
                except Exception:  # a bug, not the client's doing: log it, answer in OGC form
                    LOGGER.exception("error in %s %s", method, path)
                    err = ApiError(500, "NoApplicableCode", "internal error (logged)")
                    return self._send(start_response, 500, {"Content-Type": "application/json"}, err.body())
        return self.pygeoapi_app(environ, start_response)

    @staticmethod
    def _is_filter_post(environ) -> bool:
        ctype = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        return ctype in ("application/query-cql-json", "application/json", "application/cql2+json")

    @staticmethod
    def _send(start_response, status: int, headers: dict, body: bytes):
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                  500: "Internal Server Error", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "")
        headers = {**headers, "Content-Length": str(len(body))}
        start_response(f"{status} {reason}", list(headers.items()))
        return [body]

    def _collection(self, cid: str):
        c = get_collection(cid)
        if c is None or cid not in self.db_urls:
            raise ApiError(404, "NotFound", f"collection {cid!r} not found")
        return c

    def _items(self, environ, start_response, cid: str, params: dict[str, str], method: str):
        c = self._collection(cid)
        body = None
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if (refused := body_error(length)) is not None:
                raise refused
            body = environ["wsgi.input"].read(length) if length else b""
            if not body:
                raise bad("POST to items needs a CQL2-JSON filter body")
        q = parse_items(c, params, body)
        url = self.db_urls[cid]
        page, left_out = run_items_federated(lambda query: guard.run_items(url, query), q)
        items_url = f"{self.base_url}/collections/{cid}/items"
        links = [
            {"rel": "self", "type": "application/geo+json", "title": "This document",
             "href": f"{items_url}?{urlencode(params)}" if params else items_url},
            {"rel": "alternate", "type": "text/html", "title": "This document as HTML",
             "href": f"{items_url}?f=html"},
            {"rel": "collection", "type": "application/json", "title": c.title,
             "href": f"{self.base_url}/collections/{cid}"},
        ]
        if page.next_cursor:
            links.append({"rel": "next", "type": "application/geo+json", "title": "Next page",
                          "href": next_href(items_url, params, page.next_cursor)})
        head = {"type": "FeatureCollection"}
        if page.number_matched is not None:
            head["numberMatched"] = page.number_matched
        elif page.estimate is not None:
            head["numberMatchedEstimate"] = page.estimate
        head["numberReturned"] = len(page.features)
        head["timeStamp"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        head["links"] = links
        prefix = json.dumps(head, ensure_ascii=False)[:-1]
        body_out = (prefix + ',"features":[' + ",".join(page.features) + "]}").encode()
        headers = {"Content-Type": "application/geo+json", "Content-Crs": f"<{q.crs.uri}>"}
        if left_out:
            headers[UNAVAILABLE_HEADER] = ",".join(left_out)
        return self._send(start_response, 200, headers, body_out)

    def _item(self, start_response, cid: str, fid: str, params: dict[str, str]):
        c = self._collection(cid)
        unknown = [k for k in params if k not in ("f", "crs", "lang", "datetime")]
        if unknown:
            raise bad(f"unknown query parameter(s) for one feature: {', '.join(unknown)}")
        try:
            crs = parse_crs(params.get("crs") or CRS84, c.crs_uris)
        except ValueError as exc:
            raise bad(str(exc)) from exc
        at = item_instant(c, params.get("datetime"))  # the version alive then (issue 17: retired features)
        text = guard.run_item(self.db_urls[cid], c, fid, crs, at)
        if text is None:
            raise ApiError(404, "NotFound", f"feature {fid!r} not found in {cid}")
        links = [
            {"rel": "self", "type": "application/geo+json", "href": f"{self.base_url}/collections/{cid}/items/{fid}"},
            {"rel": "collection", "type": "application/json", "href": f"{self.base_url}/collections/{cid}"},
            *guard.related_links(self.base_url, c, text),
            *transactions.item_links(self.base_url, cid, fid),
        ]
        body = (text[:-1] + ',"links":' + json.dumps(links) + "}").encode()
        return self._send(start_response, 200, {"Content-Type": "application/geo+json",
                                                "Content-Crs": f"<{crs.uri}>",
                                                **transactions.item_headers(cid, text)}, body)


CURSOR_PARAMETER = {
    "name": "cursor", "in": "query", "required": False, "style": "form", "explode": False,
    "schema": {"type": "string"},
    "description": "Opaque keyset position issued in the `next` link of the previous page (follow the link; "
                   "do not build it). Pages cost the same at any depth.",
}


def _with_cursor(document: dict) -> dict:
    """pygeoapi's OpenAPI document plus the ``cursor`` parameter of every items operation."""
    for path, item in document.get("paths", {}).items():
        if path.endswith("/items"):
            for operation in ("get", "post"):
                op = item.get(operation)
                if op is not None and not any(p.get("name") == "cursor" for p in op.get("parameters", [])):
                    op.setdefault("parameters", []).append(dict(CURSOR_PARAMETER))
    return document


def ensure_openapi(config_path: Path, openapi_path: Path) -> Path:
    """Write pygeoapi's OpenAPI document for the configuration (when missing or older than the config)."""
    if openapi_path.exists() and openapi_path.stat().st_mtime >= config_path.stat().st_mtime:
        return openapi_path
    import yaml
    from pygeoapi.openapi import generate_openapi_document

    openapi_path.parent.mkdir(parents=True, exist_ok=True)
    content = generate_openapi_document(config_path, "yaml")
    document = self_contained(with_tiles(_with_cursor(yaml.safe_load(content))))  # no $ref to another host (offline)
    content = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    tmp = openapi_path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(openapi_path)
    return openapi_path


def create_app(config_path: str | os.PathLike | None = None) -> LandgeoApp:
    """The WSGI application for ``config_path`` (default ``$PYGEOAPI_CONFIG`` or the repository's file)."""
    config_path = Path(config_path or get_settings().pygeoapi_config or default_path()).resolve()
    os.environ["PYGEOAPI_CONFIG"] = str(config_path)
    if not get_settings().pygeoapi_openapi:
        state = get_settings().state_dir
        os.environ["PYGEOAPI_OPENAPI"] = str(ensure_openapi(config_path, state / "api" /
                                                            f"openapi-{generator_tag()}.yml"))
    import pygeoapi
    import pygeoapi.flask_app as flask_app

    if pygeoapi.__version__ != PYGEOAPI_VERSION_TESTED:
        LOGGER.warning("landgeo's API wrapper was tested on pygeoapi %s, running %s",
                       PYGEOAPI_VERSION_TESTED, pygeoapi.__version__)
    app = LandgeoApp(flask_app.APP, flask_app.CONFIG, flask_app.api_)
    flask_app.CONFIG["resources"] = guard.ScopedResources(flask_app.CONFIG["resources"])  # listing per identity
    return app


_APP: LandgeoApp | None = None


def application(environ, start_response):
    """WSGI entry point for gunicorn (``landgeo.api.app:application``); the app is built on first request."""
    global _APP
    if _APP is None:
        _APP = create_app()
    return _APP(environ, start_response)
