"""Who may read what, at the API's edge: the identity of each request, the restricted register's gate, the audit.

- :func:`admit` reads the ``Authorization`` header (:mod:`landgeo.access.http`) and resolves it (API tokens in the
  database, JWTs by signature). Bad credentials are a 401 on any path; no credentials is anonymous.
- A path under ``/collections/{id}`` of a *restricted* collection (a fact of its catalogue target) needs an
  identity that reads the register: anonymous -> 401 with ``WWW-Authenticate: Bearer``, an analyst -> 403.
- :func:`run_items` / :func:`run_item` run the query of :mod:`landgeo.api.query`; for a restricted collection
  inside a transaction under the identity (:func:`landgeo.access.session.scoped`: row-level security decides which
  rows exist), and append the ids read to the audit in the same transaction.
- Restricted collections are not listed in ``/collections`` to anonymous users and analysts
  (:class:`ScopedResources`): nothing about them, not even their existence in the listing, is shown to those who
  may not read them. They stay in the OpenAPI document (the interface is public; the data are not).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from landgeo.access import audit, revocations, session
from landgeo.access.http import challenge, credential
from landgeo.access.identity import AuthError, Identity
from landgeo.api.collections import Collection, collections, get_collection
from landgeo.api.crs import ApiCrs
from landgeo.api.pool import get_pool
from landgeo.api.query import ApiError, ItemsQuery, Page, plan_free
from landgeo.api.query import run_item as query_item
from landgeo.api.query import run_items as query_items
from landgeo.catalog import targets
from landgeo.settings import Settings, get_settings

_UNSET = object()
#: The identity of the request being served (None: anonymous; _UNSET: outside a request, e.g. at start-up).
CURRENT: ContextVar = ContextVar("landgeo_identity", default=_UNSET)

_COLLECTION_PATH = re.compile(r"^/collections/([^/]+)(?:/.*)?$")


class AuthApiError(ApiError):
    """A 401 or 403 with its ``WWW-Authenticate`` header."""

    def __init__(self, status: int, code: str, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, code, description)
        self.headers = headers or {}


def unauthorized(description: str, error: AuthError | None = None) -> AuthApiError:
    return AuthApiError(401, "Unauthorized", description, {"WWW-Authenticate": challenge(error)})


#: token hash -> (identity, remembered until (monotonic; a minute, or the token's expiry), epoch of revocations heard
#: when it was looked up). A register request trusts it to answer 401/403 before its transaction, which has the
#: database read the identity from the token again (a revoked token reads nothing, at once); a public request
#: trusts it only while this process hears revocations (landgeo.access.revocations) and none was heard since.
_RESOLVED: dict[str, tuple[Identity, float, int | None]] = {}
RESOLVED_TTL_S = 60.0


@functools.cache
def _settings() -> Settings:
    """This process's settings, read once (as the pool's): a register request would otherwise build them twice
    from the environment (≈ 40 µs each), once for its credential and once for the audit's commit mode."""
    return get_settings()


def _resolve(db_url: str | None, cred, register_path: bool) -> Identity:
    if db_url is None:
        raise AuthError("no database to resolve tokens")
    if cred.token_hash is None:  # a JWT: verified by its signature, nothing to look up
        return session.resolve(None, cred)
    heard = revocations.listener(db_url).epoch()  # before the look-up: a revocation after it makes the entry stale
    hit = _RESOLVED.get(cred.token_hash)
    if hit is not None and time.monotonic() < hit[1] and (register_path or (heard is not None and hit[2] == heard)):
        return hit[0]
    with get_pool(db_url).connection() as conn:
        identity, valid_s = session.resolve_token(conn, cred.token_hash)
    if len(_RESOLVED) > 10_000:
        _RESOLVED.clear()
    _RESOLVED[cred.token_hash] = (identity, time.monotonic() + min(RESOLVED_TTL_S, valid_s), heard)
    return identity


def admit(environ: dict, db_url: str | None, query: dict[str, str]) -> Identity | None:
    """The identity of the request (None: anonymous), or :class:`AuthApiError` (401/403)."""
    match = _COLLECTION_PATH.match(environ.get("PATH_INFO", ""))
    c = get_collection(match.group(1)) if match else None
    restricted = c is not None and c.restricted
    try:
        # no header and no query: anonymous, without reading the settings (every tile and page asks)
        anonymous = "HTTP_AUTHORIZATION" not in environ and not query
        cred = None if anonymous else credential(environ, _settings(), query)
        identity = None if cred is None else _resolve(db_url, cred, restricted)
    except AuthError as exc:
        raise unauthorized(str(exc), exc) from None
    if restricted:
        require_reader(c, identity)
    return identity


@contextmanager
def _register_transaction(url: str, identity: Identity):
    """A pooled connection in a transaction under ``identity`` (401 when its token died meanwhile)."""
    try:
        with get_pool(url).connection() as conn, session.scoped(conn, identity,
                                                                durable_audit=_settings().audit_durable):
            yield conn
    except AuthError as exc:
        if identity.token_hash is not None:
            _RESOLVED.pop(identity.token_hash, None)
        raise unauthorized(str(exc), exc) from None


def require_reader(c: Collection, identity: Identity | None) -> Identity:
    if identity is None:
        raise unauthorized(f"{c.id} is part of the land register: send Authorization: Bearer TOKEN")
    if not identity.reads_register:
        raise AuthApiError(403, "Forbidden", f"the {identity.role} role does not read the land register ({c.id})")
    return identity


@contextmanager
def acting_as(identity: Identity | None) -> Iterator[None]:
    token = CURRENT.set(identity)
    try:
        yield
    finally:
        CURRENT.reset(token)


def current() -> Identity | None:
    value = CURRENT.get()
    return None if value is _UNSET else value


def _audit_detail(q: ItemsQuery) -> dict:
    detail: dict = {"limit": q.limit}
    if q.properties:
        detail["properties"] = dict(q.properties)
    if q.filter_ast is not None:
        detail["filter"] = True
    if q.cursor is not None:
        detail["page"] = "next"
    if q.time is not None:
        detail["datetime"] = True
    return detail


def scope_hint(identity: Identity) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """An officer's scope ``(provinces, communes)``, repeated in the page's SQL (:func:`landgeo.api.statements.
    scope_sql`).

    The policies (migrations 0150, 0240) decide which rows exist but cannot give them in page order (``= ANY
    (array)`` is unordered) nor, for parties, through an index at all (a party's communes are an EXISTS on the
    links, tested per row): without the hint a page walks the primary key testing every row, which for a
    province whose rows come late in id order (a register loaded province by province) is the whole table before
    them. ``province_code = '79'`` lets the (province_code, id) index walk the scope in order; a collection whose
    rows have no such column reaches the code through a link (the catalogue's ``scope_via``: a commune officer's
    parties walk the party-commune links, migration 0190); several codes are ``= ANY`` index conditions. Only
    narrowing: the database's policies still decide every row."""
    if identity.role != "officer" or not (identity.provinces or identity.communes):
        return None
    return (tuple(identity.provinces), tuple(identity.communes))


def run_items(url: str, q: ItemsQuery) -> Page:
    """A page of ``q``; for the register, under the request's identity and audited."""
    c = q.collection
    if not c.restricted:
        with get_pool(url).connection() as conn:
            return query_items(conn, q)
    identity = require_reader(c, current())
    q.scope = scope_hint(identity)
    detail = _audit_detail(q)
    try:
        # one round trip: BEGIN, role, identity, the page with its audit row (one statement), COMMIT
        with get_pool(url).connection() as conn, session.read_transaction(
                conn, identity, durable_audit=_settings().audit_durable, generic_plans=plan_free(q)) as trip:
            page = query_items(conn, q, audit=audit.page_read(identity, c.id, q.limit, detail), send=trip.commit)
            if not trip.committed:  # no page statement ran (resulttype=hits, an offset past the end)
                audit.record(conn, identity, "read", c.id, audit.feature_ids(page.features), detail)
    except AuthError as exc:
        if identity.token_hash is not None:
            _RESOLVED.pop(identity.token_hash, None)
        raise unauthorized(str(exc), exc) from None
    return page


def run_item(url: str, c: Collection, fid: str, crs: ApiCrs, at: dt.datetime | None = None) -> str | None:
    """One feature (``at``: as it was then); for the register, under the identity (another scope's item does not
    exist) and audited."""
    if not c.restricted:
        with get_pool(url).connection() as conn:
            return query_item(conn, c, fid, crs, at)
    identity = require_reader(c, current())
    with _register_transaction(url, identity) as conn:
        text = query_item(conn, c, fid, crs, at)
        ids = audit.feature_ids([text]) if text else []
        audit.record(conn, identity, "read", c.id, ids, {} if text else {"missing": fid[:32]})
    return text


def _link_rules() -> list[tuple[str, str, str]]:
    """(collection, property, linked collection): the ``links`` facts of the catalogue's restricted targets."""
    return [(t.id, prop, target) for t in targets().values() if t.restricted
            for prop, target in t.extra.get("links", {}).items()]


def related_links(base_url: str, c: Collection, feature_text: str) -> list[dict]:
    """Links of one feature to the register (parcel -> rights -> parties -> certificates), for those who read it."""
    identity = current()
    if identity is None or not identity.reads_register:
        return []
    rules = _link_rules()
    feature = json.loads(feature_text)
    fid, props = feature.get("id"), feature.get("properties") or {}
    links = []
    for cid, prop, target in rules:
        if cid == c.id and props.get(prop) is not None:
            links.append({"rel": "related", "type": "application/geo+json", "title": f"{target} ({prop})",
                          "href": f"{base_url}/collections/{target}/items/{props[prop]}"})
    for cid, prop, target in rules:
        if target == c.id and fid is not None:
            links.append({"rel": "related", "type": "application/geo+json", "title": f"{cid} of this {prop[:-3]}",
                          "href": f"{base_url}/collections/{cid}/items?{prop}={fid}"})
    return links


class ScopedResources(dict):
    """pygeoapi's ``resources``: restricted collections are iterated (listed) only for those who read them."""

    def _visible(self) -> bool:
        identity = CURRENT.get()
        return identity is _UNSET or (identity is not None and identity.reads_register)

    def items(self):
        if self._visible():
            return super().items()
        restricted = {cid for cid, c in collections().items() if c.restricted}
        return [(k, v) for k, v in super().items() if k not in restricted]
