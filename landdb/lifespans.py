"""Versions of a feature of any versioned target (map sheets, base-geography themes): the SQL of a write, in the
caller's transaction. The parcels' own SQL (history links, mutations) is :mod:`landdb.versions`.

Same rule as the parcels (``Target.versioning == "held-row"``): the row whose ``id`` a client holds always keeps
the feature's latest state. :func:`revise` copies the current row into a new one whose lifespan ends at the change
(the *closed version*), then writes the new state into the held row from that instant; :func:`retire` ends the
held row's lifespan. Nothing is deleted. ``meta.feature_change`` (migration 0160) records every write — it is the
change feed and the link from a feature to its closed versions.

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


@dataclass(frozen=True)
class Held:
    """The held row of a feature (locked by :func:`lock`)."""

    id: int
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
    """The table's stored columns a closed copy repeats (not the identity, not generated ones, not the lifespan)."""
    key = target.qualified_table
    if key not in _COPY_COLUMNS:
        rows = conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "AND attgenerated = '' AND attidentity = '' ORDER BY attnum", (key,)).fetchall()
        _COPY_COLUMNS[key] = tuple(r[0] for r in rows if r[0] not in LIFESPAN)
    return _COPY_COLUMNS[key]


def _select(target: Target) -> sql.Composable:
    cols = sql.SQL(", ").join(map(sql.Identifier, (*LIFESPAN, *writable_fields(target))))
    return sql.SQL("SELECT id, {} FROM {} WHERE id = %s").format(cols, _table(target))


def _held(target: Target, row) -> Held:
    return Held(row[0], row[1], row[2], dict(zip(writable_fields(target), row[3:], strict=True)))


def peek(conn: psycopg.Connection, target: Target, fid: int) -> Held | None:
    """The row of ``fid`` without a lock (scope messages, OPTIONS, history)."""
    row = conn.execute(_select(target), (fid,)).fetchone()
    return _held(target, row) if row else None


def lock(conn: psycopg.Connection, target: Target, fid: int) -> Held | None:
    """The row of ``fid`` locked until the end of the transaction; None when absent or outside the writer's scope
    (row-level security hides it from ``FOR UPDATE``)."""
    row = conn.execute(_select(target) + sql.SQL(" FOR UPDATE"), (fid,)).fetchone()
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
    """Copy the held row into a closed version ``[valid_from, at)`` and write ``props``/``geometry`` into the held
    row from ``at``; the closed version's id."""
    cols = sql.SQL(", ").join(map(sql.Identifier, copy_columns(conn, target)))
    closed = conn.execute(
        sql.SQL("INSERT INTO {t} ({c}, valid_from, valid_to) SELECT {c}, valid_from, %s FROM {t} "
                "WHERE id = %s AND valid_to IS NULL RETURNING id").format(t=_table(target), c=cols),
        (at, held.id)).fetchone()[0]
    names = writable_fields(target)
    sets = [sql.SQL("{} = %s").format(sql.Identifier(n)) for n in names]
    params: list[Any] = [props.get(n) for n in names]
    if geometry is not None:
        sets += [sql.SQL("geom = {}").format(_geom(target)), sql.SQL("source_srid = %s")]
        params += [geometry, srid, srid]
    sets += [sql.SQL("valid_from = %s"), sql.SQL("batch_id = NULL")]
    conn.execute(sql.SQL("UPDATE {} SET {} WHERE id = %s").format(_table(target), sql.SQL(", ").join(sets)),
                 (*params, at, held.id))
    return closed


def retire(conn: psycopg.Connection, target: Target, fid: int, at: dt.datetime) -> None:
    conn.execute(sql.SQL("UPDATE {} SET valid_to = %s WHERE id = %s AND valid_to IS NULL").format(_table(target)),
                 (at, fid))


def feed(conn: psycopg.Connection, target: Target, fid: int, op: str, closed: int | None, at: dt.datetime,
         document: dict | None) -> int:
    """One row of ``meta.feature_change`` (province/commune from the catalogue's fields when the target has them)."""
    names = writable_fields(target)
    scope = [sql.Identifier(n) if n in names else sql.NULL for n in ("province_code", "commune_code")]
    doc = document or {}
    return conn.execute(
        sql.SQL("INSERT INTO meta.feature_change (at, collection, feature_id, closed_version, op, province_code, "
                "commune_code, document_number, document_date) SELECT %s, %s, id, %s, %s, {}, {}, %s, %s FROM {} "
                "WHERE id = %s RETURNING seq").format(*scope, _table(target)),
        (at, target.id, closed, op, doc.get("number"), doc.get("date"), fid)).fetchone()[0]


def closed_versions(conn: psycopg.Connection, target: Target, fid: int) -> list[int]:
    """The closed versions of feature ``fid`` (oldest first)."""
    return [r[0] for r in conn.execute(
        "SELECT closed_version FROM meta.feature_change WHERE collection = %s AND feature_id = %s "
        "AND closed_version IS NOT NULL ORDER BY seq", (target.id, fid)).fetchall()]


def holder_of(conn: psycopg.Connection, target: Target, version: int) -> int | None:
    """The feature a closed version was a state of (None when ``version`` is no closed version)."""
    row = conn.execute("SELECT feature_id FROM meta.feature_change WHERE collection = %s AND closed_version = %s",
                       (target.id, version)).fetchone()
    return row[0] if row else None


def history(conn: psycopg.Connection, target: Target, fid: int) -> dict[str, Any]:
    """Versions of a feature (closed copies and the held row) and the writes (change-feed rows) that made them."""
    ids = [*closed_versions(conn, target, fid), fid]
    versions = conn.execute(
        sql.SQL("SELECT id, valid_from, valid_to FROM {} WHERE id = ANY(%s) ORDER BY valid_from, id").format(
            _table(target)), (ids,)).fetchall()
    writes = conn.execute(
        "SELECT seq, at, op, closed_version, actor, document_number, document_date FROM meta.feature_change "
        "WHERE collection = %s AND feature_id = %s ORDER BY seq", (target.id, fid)).fetchall()
    return {"versions": versions, "writes": writes}


def notify(conn: psycopg.Connection, target: Target, ids: list[int]) -> None:
    """``NOTIFY landgeo_features`` (at commit) with the touched features' extent (CRS84), for tile caches."""
    row = conn.execute(sql.SQL("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT "
                               "ST_Extent(geom_wgs84) AS e FROM {} WHERE id = ANY(%s)) s").format(_table(target)),
                       (ids,)).fetchone()
    payload = {"collection": target.id, "ids": ids[:100],
               "bbox": [round(v, 7) for v in row] if row and row[0] is not None else None}
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, json.dumps(payload)))
