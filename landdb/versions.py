"""Versions of a parcel (phiên bản thửa đất): the SQL of every register write, in the caller's transaction.

The rule (DESIGN.md, "Access and writes"; migration 0200): a write never updates a row's content. Every state of
a parcel is a row of its own — its *version*, whose id is the row id — and all the versions of one parcel carry
the same stable *feature id*: ``landdb.parcel.feature_id``, NULL meaning "this row's own id" (every row a file
load inserts, and a parcel's first version). :func:`revise` *closes* the current row (sets ``valid_to``: the only
column a write ever changes, once) and inserts the new state as a new row with the same feature id;
:func:`retire` only closes the current row; :func:`create` inserts a first version. Nothing is deleted.
``landdb.parcel_history`` links each closed version (or retired parent) to its successor version (row ids) with
the mutation that made the link (``landdb.parcel_mutation``: kind, legal basis, actor).

Every function runs under the caller's identity: row-level security (``access.in_scope``) refuses a row
outside the identity's scope with ``insufficient_privilege`` or by hiding it from ``FOR UPDATE``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import psycopg

#: Columns a writer sets (the rest are derived: geom_wgs84, computed_area by trigger; lifespan by this module).
WRITABLE = ("province_code", "commune_code", "sheet_number", "parcel_number", "land_use_codes", "declared_area",
            "address")
_COLUMNS = (*WRITABLE, "source_srid", "area_srid", "batch_id")

NOTIFY_CHANNEL = "landgeo_features"


#: The feature id of a row, and "the rows of feature %s" (NULL feature_id: the row's own id; the partial index
#: ``parcel_feature`` finds the later versions).
FEATURE_ID = "coalesce(feature_id, id)"
OF_FEATURE = "((id = %s AND feature_id IS NULL) OR feature_id = %s)"


@dataclass(frozen=True)
class Current:
    """The latest version of a parcel (locked for the change by :func:`lock`): ``id`` is the feature id,
    ``version`` the row holding this state."""

    id: int
    version: int
    valid_from: dt.datetime
    valid_to: dt.datetime | None
    props: dict[str, Any]
    source_srid: int
    area_srid: int

    @property
    def etag(self) -> str:
        return etag_of(self.id, self.valid_from)


def etag_of(fid: int, valid_from: dt.datetime) -> str:
    """Strong entity tag of one version: its id and the microsecond its lifespan began (both change per write)."""
    micros = (valid_from - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)
    return f'"{fid}-{micros}"'


_SELECT = (f"SELECT {FEATURE_ID}, id, valid_from, valid_to, province_code, commune_code, sheet_number, "
           "parcel_number, land_use_codes, declared_area, address, source_srid, area_srid FROM landdb.parcel "
           f"WHERE {OF_FEATURE}")


def _current(row) -> Current:
    props = dict(zip(WRITABLE, row[4:11], strict=True))
    if props["declared_area"] is not None:
        props["declared_area"] = float(props["declared_area"])
    return Current(row[0], row[1], row[2], row[3], props, row[11], row[12])


def peek(conn: psycopg.Connection, fid: int) -> Current | None:
    """The latest version of feature ``fid`` (current, else the last one, retired) without a lock (public read:
    for scope messages before the locking read)."""
    row = conn.execute(_SELECT + " ORDER BY valid_to DESC NULLS FIRST LIMIT 1", (fid, fid)).fetchone()
    return _current(row) if row else None


def lock(conn: psycopg.Connection, fid: int) -> Current | None:
    """The current version of feature ``fid``, locked until the end of the transaction; None when there is none
    (retired, absent), it is outside the writer's scope, or another write closed it while this one waited."""
    row = conn.execute(_SELECT + " AND valid_to IS NULL LIMIT 1 FOR UPDATE", (fid, fid)).fetchone()
    return _current(row) if row else None


def change_time(conn: psycopg.Connection) -> dt.datetime:
    """The instant of a change, taken after the locks (so versions of one parcel never overlap in time)."""
    return conn.execute("SELECT clock_timestamp()").fetchone()[0]


def record_mutation(conn: psycopg.Connection, kind: str, province: str, commune: str,
                    document: dict | None, at: dt.datetime, detail: dict | None = None) -> int:
    doc = document or {}
    return conn.execute(
        "INSERT INTO landdb.parcel_mutation (kind, document_number, document_date, at, province_code, "
        "commune_code, detail) VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb) RETURNING id",
        (kind, doc.get("number"), doc.get("date"), at, province, commune,
         json.dumps(detail or {}, ensure_ascii=False))).fetchone()[0]


def _geom_sql() -> str:
    """GeoJSON geometry text in SRID %s -> MultiPolygon VN-2000 geographic by the official operation."""
    return "ST_Multi(meta.transform(ST_SetSRID(ST_GeomFromGeoJSON(%s), %s), 4756))"


def create(conn: psycopg.Connection, props: dict[str, Any], geometry: str, srid: int, at: dt.datetime) -> int:
    """Insert a new parcel (its first version, current from ``at``); its id — feature id and version id."""
    cols = ", ".join(WRITABLE)
    marks = ", ".join(["%s"] * len(WRITABLE))
    return conn.execute(
        f"INSERT INTO landdb.parcel ({cols}, source_srid, area_srid, valid_from, geom) "
        f"VALUES ({marks}, %s, meta.vn2000_srid(%s), %s, {_geom_sql()}) RETURNING id",
        (*(props.get(c) for c in WRITABLE), srid, props["province_code"], at, geometry, srid)).fetchone()[0]


def revise(conn: psycopg.Connection, cur: Current, props: dict[str, Any], geometry: str | None, srid: int | None,
           at: dt.datetime) -> int:
    """Close the current version ``cur.version`` (its lifespan ends at ``at``; nothing else of it changes) and
    insert the new state — ``props``, ``geometry`` (else the closed version's) — as a new version of the same
    feature from ``at``. Returns the new version's id."""
    close(conn, cur.version, at)
    cols = ", ".join(WRITABLE)
    params: list[Any] = [cur.id, *(props.get(c) for c in WRITABLE)]
    if geometry is None:
        shape = "o.source_srid, o.geom, o.geom_wgs84, o.computed_area"
        into = "source_srid, geom, geom_wgs84, computed_area"
    else:
        shape, into = f"%s, {_geom_sql()}", "source_srid, geom"
        params += [srid, geometry, srid]
    return conn.execute(
        f"INSERT INTO landdb.parcel (feature_id, {cols}, {into}, area_srid, valid_from) "
        f"SELECT %s, {', '.join(['%s'] * len(WRITABLE))}, {shape}, o.area_srid, %s FROM landdb.parcel o "
        "WHERE o.id = %s AND o.province_code = %s RETURNING id",
        (*params, at, cur.version, cur.props["province_code"])).fetchone()[0]


def close(conn: psycopg.Connection, version: int, at: dt.datetime) -> None:
    """End the lifespan of the current version ``version`` at ``at`` (the one change a row ever gets)."""
    conn.execute("UPDATE landdb.parcel SET valid_to = %s WHERE id = %s AND valid_to IS NULL", (at, version))


def retire(conn: psycopg.Connection, cur: Current, at: dt.datetime) -> None:
    """End the parcel's lifespan (chấm dứt): its current version becomes its last, closed one."""
    close(conn, cur.version, at)


def link(conn: psycopg.Connection, parent: int, child: int, event: str, mutation: int, at: dt.datetime) -> None:
    conn.execute("INSERT INTO landdb.parcel_history (parent_id, child_id, event, happened_at, mutation_id) "
                 "VALUES (%s, %s, %s, %s, %s)", (parent, child, event, at, mutation))


def feed(conn: psycopg.Connection, mutation: int, version: int, op: str, closed: int | None,
         at: dt.datetime) -> None:
    """One row of the change feed for the version ``version`` a write made (or closed, for a retirement): its
    feature id, province and commune read from that row; ``closed`` the version the write closed."""
    conn.execute(
        "INSERT INTO landdb.parcel_change (at, mutation_id, feature_id, closed_version, op, province_code, "
        f"commune_code) SELECT %s, %s, {FEATURE_ID}, %s, %s, province_code, commune_code FROM landdb.parcel "
        "WHERE id = %s", (at, mutation, closed, op, version))


def notify(conn: psycopg.Connection, collection: str, versions: list[int]) -> None:
    """``NOTIFY landgeo_features`` (delivered at commit): tile caches drop the tiles under ``bbox`` (CRS84, the
    extent of the versions written and closed); ``ids`` are their feature ids."""
    row = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), f FROM (SELECT ST_Extent(geom_wgs84) "
                       f"AS e, array_agg(DISTINCT {FEATURE_ID} ORDER BY {FEATURE_ID}) AS f FROM landdb.parcel "
                       "WHERE id = ANY(%s)) s", (versions,)).fetchone()
    payload = {"collection": collection, "ids": (row[4] or [])[:100],
               "bbox": [round(v, 7) for v in row[:4]] if row and row[0] is not None else None}
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, json.dumps(payload)))


def history(conn: psycopg.Connection, fid: int) -> dict[str, Any]:
    """Versions of parcel ``fid`` (its rows, oldest first) and the mutations that link it to its ancestors and
    descendants (``parent``/``child`` as feature ids; links between two versions of ``fid`` itself are its
    updates)."""
    ver_rows = conn.execute(
        "SELECT id, valid_from, valid_to, parcel_number, sheet_number, land_use_codes, declared_area, "
        f"computed_area FROM landdb.parcel WHERE {OF_FEATURE} ORDER BY valid_from, id", (fid, fid)).fetchall()
    versions = [r[0] for r in ver_rows]
    links = conn.execute(
        "SELECT coalesce(a.feature_id, h.parent_id), coalesce(b.feature_id, h.child_id), h.event, h.happened_at, "
        "m.id, m.kind, m.document_number, m.document_date, m.actor, h.parent_id, h.child_id "
        "FROM landdb.parcel_history h LEFT JOIN landdb.parcel_mutation m ON m.id = h.mutation_id "
        "LEFT JOIN landdb.parcel a ON a.id = h.parent_id LEFT JOIN landdb.parcel b ON b.id = h.child_id "
        "WHERE h.parent_id = ANY(%s) OR h.child_id = ANY(%s) ORDER BY h.happened_at, h.id",
        (versions, versions)).fetchall()
    return {"versions": ver_rows, "links": links, "version_ids": versions}
