"""Versions of a feature of any versioned target (map sheets, base-geography themes): the SQL of a write, in the
caller's transaction. The parcels' own SQL (history links, mutations) is :mod:`landdb.versions`.

Same rule as the parcels (``Target.versioning == "version-rows"``, migration 0200): every state of a feature is a
row of its own (its version; version id = row id), and all of them carry the feature's stable id
(``coalesce(feature_id, id)``: NULL is the row's own id, as for every loaded row). :func:`revise` closes the current
row (``valid_to``, the only column a write ever sets on an existing row) and inserts the new state as a new row of
the same feature; :func:`retire` closes it. Nothing is deleted. ``meta.feature_change`` (migration 0160) records
every write — it is the change feed (``closed_version``: the row a write closed).

Identifiers come from the catalogue (:class:`landgeo.target.Target`) and the table's own columns, composed with
:mod:`psycopg.sql`; values are bound parameters. Row-level security decides who may write (migration 0160).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from landdb.versions import NOTIFY_CHANNEL, etag_of
from landgeo.target import Target

#: Columns that the register keeps itself (never set from a body).
LIFESPAN = ("valid_from", "valid_to")

_COPY_COLUMNS: dict[str, tuple[str, ...]] = {}


#: A row's feature id, and "the rows of feature %(fid)s" (the key index and the partial index on feature_id).
FEATURE_ID = sql.SQL("coalesce(feature_id, id)")
OF_FEATURE = sql.SQL("((id = %(fid)s AND feature_id IS NULL) OR feature_id = %(fid)s)")


@dataclass(frozen=True)
class Held:
    """The latest version of a feature (locked by :func:`lock`): ``id`` the feature id, ``version`` its row."""

    id: int
    version: int
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    props: dict[str, Any]

    @property
    def etag(self) -> str:
        return etag_of(self.id, self.valid_from)


def writable_fields(target: Target) -> tuple[str, ...]:
    """The catalogue fields a body sets (all but the lifespan)."""
    return tuple(f.name for f in target.fields if f.name not in LIFESPAN)


def _table(target: Target) -> sql.Composable:
    return sql.Identifier(target.schema, target.table)


def copy_columns(conn: psycopg.Connection, target: Target) -> tuple[str, ...]:
    """The table's stored columns a new version repeats or sets (not the identity, not generated ones, not the
    lifespan)."""
    key = target.qualified_table
    if key not in _COPY_COLUMNS:
        rows = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = '' AND attidentity = '' ORDER BY attnum", (key,)).fetchall()
        _COPY_COLUMNS[key] = tuple(r[0] for r in rows if r[0] not in LIFESPAN)
    return _COPY_COLUMNS[key]


def _select(target: Target) -> sql.Composable:
    cols = sql.SQL(", ").join(map(sql.Identifier, (*LIFESPAN, *writable_fields(target))))
    return sql.SQL("SELECT {}, id, {} FROM {} WHERE {}").format(FEATURE_ID, cols, _table(target), OF_FEATURE)


def _held(target: Target, row) -> Held:
    return Held(row[0], row[1], row[2], row[3], dict(zip(writable_fields(target), row[4:], strict=True)))


def peek(conn: psycopg.Connection, target: Target, fid: int) -> Held | None:
    """The latest version of feature ``fid`` (current, else its last, retired) without a lock (scope messages,
    OPTIONS, history)."""
    row = conn.execute(_select(target) + sql.SQL(" ORDER BY valid_to DESC NULLS FIRST LIMIT 1"),
                       {"fid": fid}).fetchone()
    return _held(target, row) if row else None


def lock(conn: psycopg.Connection, target: Target, fid: int) -> Held | None:
    """The current version of ``fid`` locked until the end of the transaction; None when there is none (retired,
    absent, closed by another write while this one waited) or it is outside the writer's scope (row-level
    security hides it from ``FOR UPDATE``)."""
    row = conn.execute(_select(target) + sql.SQL(" AND valid_to IS NULL LIMIT 1 FOR UPDATE"),
                       {"fid": fid}).fetchone()
    return _held(target, row) if row else None


def _geom(target: Target) -> sql.Composable:
    """GeoJSON text in SRID %s -> the table's geometry in VN-2000 geographic by the official operation."""
    inner = sql.SQL("meta.transform(ST_SetSRID(ST_GeomFromGeoJSON(%s), %s), 4756)")
    return sql.SQL("ST_Multi({})").format(inner) if target.geometry_type.startswith("Multi") else inner


def create(conn: psycopg.Connection, target: Target, props: dict[str, Any], geometry: str, srid: int,
           at: dt.datetime) -> int:
    names = writable_fields(target)
    return conn.execute(
        sql.SQL("INSERT INTO {} ({}, source_srid, valid_from, geom) VALUES ({}, %s, %s, {}) RETURNING id").format(
            _table(target), sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(sql.Placeholder() * len(names)), _geom(target)),
        (*(props.get(n) for n in names), srid, at, geometry, srid)).fetchone()[0]


def revise(conn: psycopg.Connection, target: Target, held: Held, props: dict[str, Any], geometry: str | None,
           srid: int | None, at: dt.datetime) -> int:
    """Close the current version ``held.version`` at ``at`` (nothing else of it changes) and insert the new state
    — ``props``, ``geometry`` (else the closed version's) — as a new version of feature ``held.id`` from ``at``;
    the new version's id."""
    close(conn, target, held.version, at)
    names = set(writable_fields(target))
    cols, exprs, params = [], [], []
    for col in copy_columns(conn, target):
        cols.append(sql.Identifier(col))
        if col in names:
            exprs.append(sql.Placeholder())
            params.append(props.get(col))
        elif col == "feature_id":
            exprs.append(sql.Placeholder())
            params.append(held.id)
        elif col == "batch_id":
            exprs.append(sql.NULL)
        elif col == "geom" and geometry is not None:
            exprs.append(_geom(target))
            params += [geometry, srid]
        elif col == "source_srid" and geometry is not None:
            exprs.append(sql.Placeholder())
            params.append(srid)
        else:
            exprs.append(sql.SQL("o.{}").format(sql.Identifier(col)))
    return conn.execute(
        sql.SQL("INSERT INTO {} ({}, valid_from) SELECT {}, %s FROM {} o WHERE o.id = %s RETURNING id").format(
            _table(target), sql.SQL(", ").join(cols), sql.SQL(", ").join(exprs), _table(target)),
        (*params, at, held.version)).fetchone()[0]


def close(conn: psycopg.Connection, target: Target, version: int, at: dt.datetime) -> None:
    """End the lifespan of the current version ``version`` at ``at`` (the one change a row ever gets)."""
    conn.execute(sql.SQL("UPDATE {} SET valid_to = %s WHERE id = %s AND valid_to IS NULL").format(_table(target)),
                 (at, version))


def retire(conn: psycopg.Connection, target: Target, held: Held, at: dt.datetime) -> None:
    close(conn, target, held.version, at)


def feed(conn: psycopg.Connection, target: Target, version: int, op: str, closed: int | None, at: dt.datetime,
         document: dict | None) -> int:
    """One row of ``meta.feature_change`` for the version ``version`` a write made (or closed, for a retirement):
    its feature id, province/commune from the catalogue's fields when the target has them."""
    names = writable_fields(target)
    scope = [sql.Identifier(n) if n in names else sql.NULL for n in ("province_code", "commune_code")]
    doc = document or {}
    return conn.execute(
        sql.SQL("INSERT INTO meta.feature_change (at, collection, feature_id, closed_version, op, province_code, "
                "commune_code, document_number, document_date) SELECT %s, %s, {}, %s, %s, {}, {}, %s, %s FROM {} "
                "WHERE id = %s RETURNING seq").format(FEATURE_ID, *scope, _table(target)),
        (at, target.id, closed, op, doc.get("number"), doc.get("date"), version)).fetchone()[0]


def history(conn: psycopg.Connection, target: Target, fid: int) -> dict[str, Any]:
    """Versions of a feature (its rows, oldest first) and the writes (change-feed rows) that made them."""
    versions = conn.execute(
        sql.SQL("SELECT id, valid_from, valid_to FROM {} WHERE {} ORDER BY valid_from, id").format(
            _table(target), OF_FEATURE), {"fid": fid}).fetchall()
    writes = conn.execute(
        "SELECT seq, at, op, closed_version, actor, document_number, document_date FROM meta.feature_change "
        "WHERE collection = %s AND feature_id = %s ORDER BY seq", (target.id, fid)).fetchall()
    return {"versions": versions, "writes": writes}


def notify(conn: psycopg.Connection, target: Target, versions: list[int]) -> None:
    """``NOTIFY landgeo_features`` (at commit) with the extent (CRS84) of the versions written and closed, and
    their feature ids, for tile caches."""
    row = conn.execute(sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), f FROM (SELECT "
                               "ST_Extent(geom_wgs84) AS e, array_agg(DISTINCT {f} ORDER BY {f}) AS f FROM {t} "
                               "WHERE id = ANY(%s)) s").format(f=FEATURE_ID, t=_table(target)),
                       (versions,)).fetchone()
    payload = {"collection": target.id, "ids": (row[4] or [])[:100],
               "bbox": [round(v, 7) for v in row[:4]] if row and row[0] is not None else None}
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, json.dumps(payload)))
