"""History and change feed of the map sheets and base-geography themes written through the API (Part 4).

- ``GET /collections/{id}/items/{fid}/history``: the feature's versions (its rows, oldest first) and the
  writes that made them (``meta.feature_change``: op, closed version, legal basis; the actor for staff only);
- ``GET /collections/{id}/changes?since=SEQ|RFC3339[&province=NN][&limit=N]``: what changed since a provincial
  system's last sync, in sequence order, ``last`` to store and a ``next`` link while there is more.

The parcels' own history (mutations, ancestors and descendants) is in :mod:`landgeo.api.transactions`.
"""

from __future__ import annotations

from landdb import lifespans
from landgeo.api import guard
from landgeo.api.answers import Answer
from landgeo.api.answers import json_answer as _json
from landgeo.api.feed import feed_page, parse_feed
from landgeo.api.pool import get_pool
from landgeo.register.errors import WriteError
from landgeo.target import Target


def history(target: Target, fid: str, base_url: str, url: str) -> Answer:
    if not fid.isdigit() or len(fid) > 18:
        raise WriteError(404, "NotFound", f"feature {fid[:40]!r} not found in {target.id}")
    with get_pool(url).connection() as conn:
        if lifespans.peek(conn, target, int(fid)) is None:
            raise WriteError(404, "NotFound", f"feature {fid!r} not found in {target.id}")
        h = lifespans.history(conn, target, int(fid))
    items = f"{base_url}/collections/{target.id}/items"
    identity = guard.current()
    staff = identity is not None and identity.reads_register

    def at(row) -> str:  # a version is read at the start of its lifespan
        return row[1].isoformat().replace("+00:00", "Z")

    doc = {
        "id": int(fid),
        "versions": [{"versionId": r[0], "validFrom": r[1], "validTo": r[2],
                      "href": f"{items}/{fid}?datetime={at(r)}"} for r in h["versions"]],
        "changes": [{"seq": r[0], "at": r[1], "op": r[2], "closedVersion": r[3], "actor": r[4] if staff else None,
                     "document": {"number": r[5], "date": r[6]} if r[5] else None} for r in h["writes"]],
        "links": [{"rel": "self", "type": "application/json", "href": f"{items}/{fid}/history"},
                  {"rel": "item", "type": "application/geo+json", "href": f"{items}/{fid}"}],
    }
    return _json(200, doc)


def changes(environ, target: Target, base_url: str, url: str) -> Answer:
    q = parse_feed(environ)
    cond, args = q.where()
    with get_pool(url).connection() as conn:
        rows = conn.execute(
            f"SELECT seq, at, feature_id, closed_version, op, province_code, commune_code, document_number, "
            f"document_date FROM meta.feature_change WHERE collection = %s AND {cond} ORDER BY seq LIMIT %s",
            (target.id, *args, q.limit)).fetchall()
    items = f"{base_url}/collections/{target.id}/items"
    out = [{"seq": r[0], "at": r[1], "id": r[2], "closedVersion": r[3], "op": r[4], "province_code": r[5],
            "commune_code": r[6], "document": {"number": r[7], "date": r[8]} if r[7] else None,
            "href": f"{items}/{r[2]}"} for r in rows]
    return _json(200, feed_page(q, out, rows[-1][0] if rows else None, base_url, target.id))
