"""Writes on the other versioned collections (OGC API – Features Part 4): map sheets (tờ bản đồ) and the
base-geography themes (nền địa lý) — every target whose catalogue entry says ``write_model = "features"``.

Same rules as the parcels (:mod:`landgeo.register.writes`): one scoped transaction under the request's identity,
``If-Match`` against the current version's ETag (428 missing, 412 stale), ``Content-Crs`` for the body's
coordinates, nothing overwritten (:mod:`landdb.lifespans`: a write closes the current row and inserts a new one
with the same feature id, DELETE only closes it; a retired feature answers 404), the loaders'
per-feature validation (:func:`landgeo.validation.check_features` with the target's own fields and rules) before
any SQL and its set-based checks (``Target.topology``: :mod:`landgeo.register.feature_checks`) after — an error is a
422 with the findings — an audit row and a change-feed row per write, in the same
transaction, and ``NOTIFY landgeo_features`` for tile caches.

Who writes is the target's ``write_scope``: ``commune`` (map sheets: officers inside their provinces/communes,
admins) or ``national`` (base geography: admins only). Row-level security (migration 0160) enforces the same.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from landdb import lifespans
from landgeo.access import audit
from landgeo.access.identity import Identity
from landgeo.register import body, checks, feature_checks
from landgeo.register.errors import WriteError, bad, retired
from landgeo.register.writes import BodyCrs, Outcome, check_if_match, document_of, in_transaction
from landgeo.target import Field, Target
from landgeo.validation import check_features

#: Roles that may write, by ``Target.write_scope``.
WRITERS = {"commune": frozenset({"officer", "admin"}), "national": frozenset({"admin"})}
#: Members a client may send back as it read them (kept by the register, ignored in a body).
READ_ONLY = frozenset(lifespans.LIFESPAN)
#: GeoJSON types a body may carry, by the table's geometry type.
GEOMETRY_KINDS = {"MultiPolygon": ("Polygon", "MultiPolygon"), "MultiLineString": ("LineString", "MultiLineString"),
                  "Point": ("Point",), "Polygon": ("Polygon",), "LineString": ("LineString",)}


def may_write(target: Target, identity: Identity | None) -> bool:
    return target.writable and identity is not None and identity.role in WRITERS.get(target.write_scope, ())


def covers(target: Target, identity: Identity, props: dict[str, Any]) -> bool:
    """The Python twin of the table's write policy (the database decides; this is for messages and ``Allow``)."""
    if target.write_scope == "national":
        return identity.role == "admin"
    return identity.covers(props.get("province_code"), props.get("commune_code"))


def _require_writer(target: Target, identity: Identity | None) -> Identity:
    if identity is None:
        raise WriteError(401, "Unauthorized", f"writing to {target.id} needs Authorization: Bearer TOKEN",
                         headers={"WWW-Authenticate": 'Bearer realm="landgeo"'})
    if not may_write(target, identity):
        who = "admins (national base geography)" if target.write_scope == "national" else "officers and admins"
        raise WriteError(403, "Forbidden", f"the {identity.role} role does not write to {target.id}: only {who}")
    return identity


def _require_scope(target: Target, identity: Identity, props: dict[str, Any], what: str) -> None:
    if not covers(target, identity, props):
        raise WriteError(403, "Forbidden", f"{what} (province {props.get('province_code')}, commune "
                         f"{props.get('commune_code')}) is outside the scope of {identity.name}")


def _value(f: Field, value: Any) -> Any:
    """One property value checked against its catalogue type (None stays None); a 400 line otherwise."""
    if value is None:
        return None
    shown = json.dumps(value, ensure_ascii=False)[:40]
    if f.type == "integer":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad(f"property {f.name} must be an integer, got {shown}")
        return value
    if f.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise bad(f"property {f.name} must be a number, got {shown}")
        return float(value)
    if f.type in ("date", "datetime"):
        try:
            parsed = (dt.date if f.type == "date" else dt.datetime).fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise bad(f"property {f.name} must be an ISO 8601 {f.type}, got {shown}") from None
        return parsed.isoformat()
    if f.type == "text[]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad(f"property {f.name} must be a list of texts, got {shown}")
        return value
    if f.type == "json":
        return json.dumps(value, ensure_ascii=False)
    if not isinstance(value, str):
        raise bad(f"property {f.name} must be text, got {shown}")
    return value.strip()


def properties(target: Target, raw: dict, *, partial: bool = False) -> dict[str, Any]:
    """The writable properties of a body (``partial``: a merge patch, where null removes an optional value)."""
    names = lifespans.writable_fields(target)
    unknown = sorted(k for k in raw if k not in names and k not in READ_ONLY)
    if unknown:
        raise bad(f"unknown property {unknown[0]!r}; {target.id} has: {', '.join(names)}")
    out = {k: _value(target.field(k), v) for k, v in raw.items() if k in names}
    for name in target.required_fields:
        if name in READ_ONLY:
            continue
        if (not partial and out.get(name) is None) or (partial and name in out and out[name] is None):
            raise bad(f"property {name} is required")
    return out


def _geometry(target: Target, obj: Any, crs: BodyCrs) -> body.Geometry:
    kinds = GEOMETRY_KINDS.get(target.geometry_type, (target.geometry_type,))
    return body.geometry(obj, crs.srid, crs.lat_first, kinds=kinds, what=f"a feature of {target.id}")


def _validate(target: Target, props: dict[str, Any], geom: body.Geometry, crs_uri: str, what: str) -> list[dict]:
    """The loaders' per-feature checks on one body in its own CRS; 422 with the findings on an error."""
    attrs = {name: [props.get(name)] for name in lifespans.writable_fields(target)}
    found = check_features(target, [geom.shape], attrs, crs=geom.srid, declared_crs=geom.srid,
                           province=props.get("province_code"))
    return checks.refuse_on_errors([checks.as_json(f, {"crs": crs_uri}) for f in found], what)


def _conflict(target: Target) -> str:
    key = ", ".join(target.natural_key) or "its key"
    return f"a current feature of {target.id} already has this {key}"


def _finish(conn, target: Target, identity: Identity, action: str, out: Outcome, document: dict | None,
            at: dt.datetime, written: list[int]) -> None:
    """Audit (feature ids; ``before``/``after``: the versions closed and written) and notify tile caches."""
    audit.record(conn, identity, action, target.id, out.ids,
                 {"after": written, "before": out.closed, "change": out.change, "document": document,
                  "at": at.isoformat(), "warnings": len(out.warnings)})
    lifespans.notify(conn, target, written + out.closed)


def create(conn, target: Target, identity: Identity | None, doc: Any, crs: BodyCrs) -> Outcome:
    """POST: a new feature from a GeoJSON Feature."""
    identity = _require_writer(target, identity)
    raw_props, raw_geom = body.feature(doc)
    props = properties(target, raw_props)
    document = document_of(doc.get("document"))
    geom = _geometry(target, raw_geom, crs)
    _require_scope(target, identity, props, "the new feature")
    warnings = _validate(target, props, geom, crs.uri, "the new feature")

    def work(conn):
        at = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        fid = lifespans.create(conn, target, props, geom.text, geom.srid, at)
        seq = lifespans.feed(conn, target, fid, "create", None, at, document)
        found = checks.refuse_on_errors(warnings + feature_checks.set_pass(conn, target, [fid]), "the new feature")
        out = Outcome([fid], lifespans.etag_of(fid, at), [], None, found, change=seq)
        _finish(conn, target, identity, "create", out, document, at, [fid])
        return out

    return in_transaction(conn, identity, work, _conflict(target))


def _held(conn, target: Target, identity: Identity, fid_text: str) -> lifespans.Held:
    if not fid_text.isdigit() or len(fid_text) > 18:
        raise WriteError(404, "NotFound", f"feature {fid_text[:40]!r} not found in {target.id}")
    held = lifespans.peek(conn, target, int(fid_text))
    if held is None:
        raise WriteError(404, "NotFound", f"feature {fid_text!r} not found in {target.id}")
    if held.valid_to is not None:
        raise retired(target.id, held.id, held.valid_to)
    _require_scope(target, identity, held.props, f"feature {held.id}")
    return held


def _lock(conn, target: Target, identity: Identity, fid: int, if_match: str | None) -> lifespans.Held:
    cur = lifespans.lock(conn, target, fid)
    if cur is None:  # retired meanwhile, closed by a write this one waited for, or outside the scope
        now = lifespans.peek(conn, target, fid)
        if now is not None and now.valid_to is not None:
            raise retired(target.id, fid, now.valid_to)
        cur = lifespans.lock(conn, target, fid)  # the version that write opened (its ETag is another: 412)
        if cur is None:
            raise WriteError(403, "Forbidden", f"feature {fid} is outside the scope of {identity.name}")
    check_if_match(if_match, cur)  # a Held has the etag and id a parcel's Current has
    return cur


def update(conn, target: Target, identity: Identity | None, fid_text: str, if_match: str | None, doc: Any,
           crs: BodyCrs, *, partial: bool) -> Outcome:
    """PUT (the Feature replaces the feature's state) or PATCH (JSON merge patch)."""
    identity = _require_writer(target, identity)
    raw_props = body.update_properties(doc, partial=partial)
    new = properties(target, raw_props, partial=partial)
    document = document_of(doc.get("document"))
    geom = _geometry(target, doc.get("geometry"), crs) if not partial or "geometry" in doc else None
    held = _held(conn, target, identity, fid_text)
    merged = {**held.props, **new} if partial else {**{k: None for k in held.props}, **new}
    _require_scope(target, identity, merged, f"feature {held.id} after the change")
    warnings = _validate(target, merged, geom, crs.uri, f"feature {held.id}") if geom is not None else []

    def work(conn):
        cur = _lock(conn, target, identity, held.id, if_match)
        at = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        new = lifespans.revise(conn, target, cur, merged, geom.text if geom else None,
                               geom.srid if geom else None, at)
        seq = lifespans.feed(conn, target, new, "update", cur.version, at, document)
        found = checks.refuse_on_errors(warnings + feature_checks.set_pass(conn, target, [new]), f"feature {cur.id}")
        out = Outcome([cur.id], lifespans.etag_of(cur.id, at), [cur.version], None, found, change=seq)
        _finish(conn, target, identity, "update", out, document, at, [new])
        return out

    return in_transaction(conn, identity, work, _conflict(target))


def retire(conn, target: Target, identity: Identity | None, fid_text: str, if_match: str | None,
           doc: Any = None) -> Outcome:
    """DELETE: the feature's lifespan ends now; its row stays, readable with ``datetime`` and in its history."""
    identity = _require_writer(target, identity)
    document = document_of(doc.get("document")) if isinstance(doc, dict) else None
    held = _held(conn, target, identity, fid_text)

    def work(conn):
        cur = _lock(conn, target, identity, held.id, if_match)
        at = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        lifespans.retire(conn, target, cur, at)
        seq = lifespans.feed(conn, target, cur.version, "retire", None, at, document)
        out = Outcome([cur.id], None, [], None, change=seq)
        _finish(conn, target, identity, "retire", out, document, at, [cur.version])
        return out

    return in_transaction(conn, identity, work, _conflict(target))
