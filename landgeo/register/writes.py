"""One parcel written through the register (OGC API – Features Part 4): create, replace, patch, retire.

Each write is one transaction on a pooled connection under the request's identity
(:func:`landgeo.access.session.scoped`: role ``landgeo_register``, ``landgeo.user/role/provinces/communes``), so
row-level security on ``landdb.parcel`` (migration 0100) is the last word on scope. In that transaction:
lock the parcel's current version (``FOR UPDATE``), compare ``If-Match`` with its ETag, close that row and insert
the new version with the same feature id (:mod:`landdb.versions`), record the mutation and its legal basis, run
the loaders' checks on the result (:mod:`landgeo.register.checks`), append the audit row (before/after version
ids) and notify tile caches.
Any refusal rolls everything back. Two writers on one parcel: the second waits for the first's lock, then
finds another ETag and gets 412 — exactly one wins.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors

from landdb import versions
from landgeo.access import audit, session
from landgeo.access.identity import Identity
from landgeo.register import body, checks
from landgeo.register.errors import WriteError, bad, retired

COLLECTION = "parcels"
WRITERS = frozenset({"officer", "admin"})
RETRIES = 3


@dataclass(frozen=True)
class BodyCrs:
    """The CRS of a body's coordinates (from ``Content-Crs``): EPSG SRID (4326 for CRS84), axis order, URI."""

    srid: int
    lat_first: bool
    uri: str


@dataclass
class Outcome:
    """What a write did: the feature id(s), the ETag of the new version, the closed versions (row ids), warnings."""

    ids: list[int]
    etag: str | None = None
    closed: list[int] = field(default_factory=list)
    mutation: int | None = None
    warnings: list[dict] = field(default_factory=list)
    etags: dict[int, str] = field(default_factory=dict)
    change: int | None = None  # map sheets, base geography: the write's sequence number in meta.feature_change
    retired: list[int] = field(default_factory=list)  # feature ids retired (the parents of a split or merge)


def may_write(identity: Identity | None) -> bool:
    return identity is not None and identity.role in WRITERS


def require_writer(identity: Identity | None) -> Identity:
    if identity is None:
        raise WriteError(401, "Unauthorized", "writing to the register needs Authorization: Bearer TOKEN",
                         headers={"WWW-Authenticate": 'Bearer realm="landgeo"'})
    if identity.role not in WRITERS:
        raise WriteError(403, "Forbidden", f"the {identity.role} role does not write to the register")
    return identity


def require_scope(identity: Identity, province: str | None, commune: str | None, what: str) -> None:
    if not identity.covers(province, commune):
        raise WriteError(403, "Forbidden", f"{what} (province {province}, commune {commune}) is outside the scope "
                         f"of {identity.name}")


def document_of(doc: Any) -> dict | None:
    """The legal basis (căn cứ pháp lý) ``{"number", "date"}`` of a write, or None; 400 when malformed."""
    if doc is None:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("number"), str) or not doc["number"].strip():
        raise bad("document must be an object with number (text) and date (YYYY-MM-DD)")
    try:
        date = dt.date.fromisoformat(str(doc.get("date")))
    except ValueError:
        raise bad(f"document date must be YYYY-MM-DD, got {doc.get('date')!r}") from None
    if date > dt.date.today() + dt.timedelta(days=1):
        raise bad(f"document date {date} is in the future")
    return {"number": doc["number"].strip()[:100], "date": date.isoformat()}


def check_if_match(if_match: str | None, cur: versions.Current) -> None:
    if if_match is None or not if_match.strip():
        raise WriteError(428, "PreconditionRequired",
                         f"If-Match is required: GET the feature and send its ETag (now {cur.etag})")
    tags = [t.strip() for t in if_match.split(",")]
    if cur.etag not in tags:
        raise WriteError(412, "PreconditionFailed", f"If-Match {if_match.strip()[:60]} is not the current version "
                         f"of feature {cur.id} (its ETag is {cur.etag}): reload and retry")


def in_transaction[T](conn: psycopg.Connection, identity: Identity, work: Callable[[psycopg.Connection], T],
                      conflict: str = "a current parcel already has this commune, sheet and parcel number") -> T:
    """``work`` in one scoped transaction; retried on deadlock/serialization failure; DB refusals -> 4xx
    (``conflict``: the message of a unique-key violation)."""
    for attempt in range(RETRIES):
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION READ WRITE")
                session.apply_identity(conn, identity)
                return work(conn)
        except (errors.DeadlockDetected, errors.SerializationFailure):
            if attempt == RETRIES - 1:
                raise WriteError(503, "ServiceUnavailable", "the register is busy (lock conflict); retry") from None
        except errors.InsufficientPrivilege:
            raise WriteError(403, "Forbidden", "the database refused the write: outside the scope of "
                             f"{identity.name}") from None
        except errors.UniqueViolation as exc:
            raise WriteError(409, "Conflict", f"{conflict} ({exc.diag.constraint_name})") from None
        except (errors.CheckViolation, errors.NotNullViolation, errors.NumericValueOutOfRange) as exc:
            raise bad(f"value refused by the register: {str(exc).splitlines()[0][:160]}") from None
        except (errors.InternalError, errors.DataException) as exc:  # PostGIS: bad coordinates for the CRS
            raise WriteError(400, "InvalidParameterValue",
                             f"geometry cannot be stored: {str(exc).splitlines()[0][:160]}") from None
    raise AssertionError("unreachable")


def _finish(conn, identity: Identity, action: str, out: Outcome, document: dict | None, at: dt.datetime,
            written: list[int]) -> None:
    """Audit (feature ids; ``before``/``after``: the versions closed and written) and notify tile caches."""
    audit.record(conn, identity, action, COLLECTION, out.ids,
                 {"after": written, "before": out.closed, "mutation": out.mutation, "document": document,
                  "at": at.isoformat(), "warnings": len(out.warnings)})
    versions.notify(conn, COLLECTION, written + out.closed)


def _merged_check(conn, props: dict, geom: body.Geometry | None, label: Any, crs_uri: str | None) -> list[dict]:
    if geom is None:
        return []
    return checks.features_pass([geom.shape], [props], geom.srid, [label], crs_uri)


def create(conn: psycopg.Connection, identity: Identity | None, doc: Any, crs: BodyCrs) -> Outcome:
    """POST: a new parcel from a GeoJSON Feature."""
    identity = require_writer(identity)
    raw_props, raw_geom = body.feature(doc)
    props = body.properties(raw_props)
    document = document_of(doc.get("document"))
    geom = body.geometry(raw_geom, crs.srid, crs.lat_first)
    require_scope(identity, props["province_code"], props["commune_code"], "the new parcel")
    found = checks.refuse_on_errors(_merged_check(conn, props, geom, "body", crs.uri), "the new parcel")

    def work(conn):
        at = versions.change_time(conn)
        fid = versions.create(conn, props, geom.text, geom.srid, at)
        mid = versions.record_mutation(conn, "create", props["province_code"], props["commune_code"], document, at)
        versions.feed(conn, mid, fid, "create", None, at)
        out = Outcome([fid], versions.etag_of(fid, at), [], mid)
        found_here = checks.table_pass(conn, [fid], True, props["province_code"])
        out.warnings = checks.refuse_on_errors(found + found_here, "the new parcel")
        _finish(conn, identity, "create", out, document, at, [fid])
        return out

    return in_transaction(conn, identity, work)


def lock_current(conn, identity: Identity, fid: int, if_match: str | None) -> versions.Current:
    """The current version of parcel ``fid``, locked; 404 once retired, 403 outside the scope, 412 on a stale
    ``If-Match`` (also when another write closed the version this one waited for)."""
    cur = versions.lock(conn, fid)
    if cur is None:  # retired meanwhile, closed by a write this one waited for, or outside the scope
        now = versions.peek(conn, fid)
        if now is not None and now.valid_to is not None:
            raise retired(COLLECTION, fid, now.valid_to)
        cur = versions.lock(conn, fid)  # the version that write opened (its ETag is another: 412)
        if cur is None:
            raise WriteError(403, "Forbidden", f"feature {fid} is outside the scope of {identity.name}")
    check_if_match(if_match, cur)
    return cur


def held_feature(conn, identity: Identity, fid_text: str) -> versions.Current:
    """The latest version of parcel ``fid_text`` (no lock): 404 when absent or retired, 403 outside the scope."""
    if not fid_text.isdigit() or len(fid_text) > 18:
        raise WriteError(404, "NotFound", f"feature {fid_text[:40]!r} not found in {COLLECTION}")
    cur = versions.peek(conn, int(fid_text))
    if cur is None:
        raise WriteError(404, "NotFound", f"feature {fid_text!r} not found in {COLLECTION}")
    if cur.valid_to is not None:
        raise retired(COLLECTION, cur.id, cur.valid_to)
    require_scope(identity, cur.props["province_code"], cur.props["commune_code"], f"feature {cur.id}")
    return cur


def update(conn: psycopg.Connection, identity: Identity | None, fid_text: str, if_match: str | None, doc: Any,
           crs: BodyCrs, *, partial: bool, kind: str = "update") -> Outcome:
    """PUT (``partial`` False: the Feature replaces the parcel) or PATCH (JSON merge patch of the Feature)."""
    identity = require_writer(identity)
    raw_props = body.update_properties(doc, partial=partial)
    new = body.properties(raw_props, partial=partial)
    document = document_of(doc.get("document"))
    geom = None
    if not partial or "geometry" in doc:
        geom = body.geometry(doc.get("geometry"), crs.srid, crs.lat_first)
    held = held_feature(conn, identity, fid_text)
    merged = {**held.props, **new} if partial else {**{k: None for k in versions.WRITABLE}, **new}
    require_scope(identity, merged["province_code"], merged["commune_code"], f"feature {held.id} after the change")
    found = checks.refuse_on_errors(_merged_check(conn, merged, geom, held.id, crs.uri), f"feature {held.id}")

    def work(conn):
        cur = lock_current(conn, identity, held.id, if_match)
        at = versions.change_time(conn)
        new = versions.revise(conn, cur, merged, geom.text if geom else None, geom.srid if geom else None, at)
        event = {"boundary_correction": "correction", "land_use_change": "land_use_change"}.get(kind, "update")
        mid = versions.record_mutation(conn, kind, merged["province_code"], merged["commune_code"], document, at)
        versions.link(conn, cur.version, new, event, mid, at)
        versions.feed(conn, mid, new, "update", cur.version, at)
        out = Outcome([cur.id], versions.etag_of(cur.id, at), [cur.version], mid)
        out.warnings = checks.refuse_on_errors(found + checks.table_pass(conn, [new], geom is not None,
                                                                         merged["province_code"]),
                                               f"feature {cur.id}")
        _finish(conn, identity, kind, out, document, at, [new])
        return out

    return in_transaction(conn, identity, work)


def retire(conn: psycopg.Connection, identity: Identity | None, fid_text: str, if_match: str | None,
           doc: Any = None) -> Outcome:
    """DELETE: the parcel's lifespan ends now; its row stays (the last version), readable with ``datetime``."""
    identity = require_writer(identity)
    document = document_of(doc.get("document")) if isinstance(doc, dict) else None
    held = held_feature(conn, identity, fid_text)

    def work(conn):
        cur = lock_current(conn, identity, held.id, if_match)
        at = versions.change_time(conn)
        versions.retire(conn, cur, at)
        mid = versions.record_mutation(conn, "retire", cur.props["province_code"], cur.props["commune_code"],
                                       document, at)
        versions.feed(conn, mid, cur.version, "retire", None, at)
        out = Outcome([cur.id], None, [], mid)
        _finish(conn, identity, "retire", out, document, at, [cur.version])
        return out

    return in_transaction(conn, identity, work)
