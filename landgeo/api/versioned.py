"""One feature of a versioned collection, as it is now or as it was at an instant (OGC API – Features Part 4).

A collection whose catalogue entry keeps versions (``Target.versioning``: parcels, map sheets, base geography) has
a feature id that is stable across writes: each version is a row, and all the rows of one feature carry its id
(``coalesce(feature_id, id)``, :mod:`landdb.versions` / :mod:`landdb.lifespans`):

- ``GET …/items/{id}`` answers the feature's current version only: once retired (DELETE, a split's or merge's
  parent) it is 404, as Part 4 expects after a DELETE; a later version's own row id is no feature id (404);
- ``GET …/items/{id}?datetime=T`` answers the version of that feature alive at T (current, closed or retired),
  so the state before a change or a retirement stays addressable, and the history's links point there.

Listings (``…/items``) already show current versions only unless ``datetime`` is given
(:func:`landgeo.api.statements.where_sql`).
"""

from __future__ import annotations

import datetime as dt

import psycopg
from psycopg import sql

from landgeo.api.collections import Collection
from landgeo.api.crs import ApiCrs
from landgeo.api.parameters import bad, parse_datetime
from landgeo.api.statements import feature_sql
from landgeo.catalog import targets

VERSIONED = {t.id: t for t in targets().values() if t.versioning}


def current_only(c: Collection) -> bool:
    """GET of one item answers current versions only (retired and closed versions need ``datetime``)."""
    return c.id in VERSIONED and c.lifespan is not None


def item_at(conn: psycopg.Connection, c: Collection, fid: int, crs: ApiCrs, at: dt.datetime) -> str | None:
    """The GeoJSON text of feature ``fid`` as it was at ``at``: its version (row) alive then (None when the feature
    did not exist then)."""
    begin, end = (sql.Identifier(n) for n in c.lifespan)
    query = sql.SQL("SELECT {} FROM {} WHERE {} AND {} <= %(at)s AND ({} IS NULL OR {} > %(at)s) "
                    "ORDER BY {} DESC LIMIT 1").format(feature_sql(c, crs, None, False),
                                                       sql.Identifier(c.schema, c.table), c.of_feature(), begin,
                                                       end, end, begin)
    row = conn.execute(query, {"fid": fid, "at": at}).fetchone()
    return row[0] if row else None


def item_instant(c: Collection, text: str | None) -> dt.datetime | None:
    """The ``datetime`` of a one-feature request: an instant (RFC 3339, or a day: its first instant); None when
    absent; a 400 on a collection without lifespans, an interval or a malformed value."""
    if text is None or not text.strip():
        return None
    if not c.lifespan:
        raise bad(f"{c.id} has no versions: datetime does not apply to one of its features")
    if "/" in text:
        raise bad("datetime of one feature is an instant (the version alive then), not an interval")
    return parse_datetime(text).start
