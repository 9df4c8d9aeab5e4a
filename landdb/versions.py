"""Versions of a parcel (phiên bản thửa đất): the SQL of every register write, in the caller's transaction.

The rule (migration 0100): the row whose ``id`` a client holds is always the parcel's latest version, so a
feature id is stable across updates. :func:`revise` copies the current state into a new, closed row (its own
version id, lifespan ending at the change) and then writes the new state into the held row with
``valid_from`` = the change's time; :func:`retire` only ends the held row's lifespan; :func:`create` inserts.
Nothing is deleted. ``landdb.parcel_history`` links each closed version (or retired parent) to its successor
with the mutation that made the link (``landdb.parcel_mutation``: kind, legal basis, actor).

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


@dataclass(frozen=True)
class Current:
    """The held row of a parcel, locked for the change (``FOR UPDATE``)."""

    id: int
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


_SELECT = ("SELECT id, valid_from, valid_to, province_code, commune_code, sheet_number, parcel_number, "
           "land_use_codes, declared_area, address, source_srid, area_srid FROM landdb.parcel WHERE id = %s")


def _current(row) -> Current:
    props = dict(zip(WRITABLE, row[3:10], strict=True))
    if props["declared_area"] is not None:
        props["declared_area"] = float(props["declared_area"])
    return Current(row[0], row[1], row[2], props, row[10], row[11])


def peek(conn: psycopg.Connection, fid: int) -> Current | None:
    """The held row without a lock (public read: for scope messages before the locking read)."""
    row = conn.execute(_SELECT + " ORDER BY valid_to DESC NULLS FIRST LIMIT 1", (fid,)).fetchone()
    return _current(row) if row else None


def lock(conn: psycopg.Connection, fid: int) -> Current | None:
    """The held row, locked until the end of the transaction; None when absent or outside the writer's scope."""
    row = conn.execute(_SELECT + " LIMIT 1 FOR UPDATE", (fid,)).fetchone()
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
    """Insert a new parcel (current version from ``at``); its id."""
    cols = ", ".join(WRITABLE)
    marks = ", ".join(["%s"] * len(WRITABLE))
    return conn.execute(
        f"INSERT INTO landdb.parcel ({cols}, source_srid, area_srid, valid_from, geom) "
        f"VALUES ({marks}, %s, meta.vn2000_srid(%s), %s, {_geom_sql()}) RETURNING id",
        (*(props.get(c) for c in WRITABLE), srid, props["province_code"], at, geometry, srid)).fetchone()[0]


def revise(conn: psycopg.Connection, cur: Current, props: dict[str, Any], geometry: str | None, srid: int | None,
           at: dt.datetime) -> int:
    """Close the current version (a copy with lifespan [valid_from, at)) and write ``props``/``geometry`` into
    the held row from ``at``. Returns the closed version's id."""
    copy_cols = ", ".join((*_COLUMNS, "geom", "geom_wgs84", "computed_area"))
    closed = conn.execute(
        f"INSERT INTO landdb.parcel ({copy_cols}, valid_from, valid_to) "
        f"SELECT {copy_cols}, valid_from, %s FROM landdb.parcel WHERE id = %s AND valid_to IS NULL "
        "RETURNING id", (at, cur.id)).fetchone()[0]
    sets = ", ".join(f"{c} = %s" for c in WRITABLE)
    params: list[Any] = [props.get(c) for c in WRITABLE]
    extra = ""
    if geometry is not None:
        extra = f", geom = {_geom_sql()}, source_srid = %s"
        params += [geometry, srid, srid]
    conn.execute(f"UPDATE landdb.parcel SET {sets}{extra}, valid_from = %s, batch_id = NULL WHERE id = %s",
                 (*params, at, cur.id))
    return closed


def retire(conn: psycopg.Connection, fid: int, at: dt.datetime) -> None:
    """End the parcel's lifespan (chấm dứt): the held row becomes its last, closed version."""
    conn.execute("UPDATE landdb.parcel SET valid_to = %s WHERE id = %s AND valid_to IS NULL", (at, fid))


def link(conn: psycopg.Connection, parent: int, child: int, event: str, mutation: int, at: dt.datetime) -> None:
    conn.execute("INSERT INTO landdb.parcel_history (parent_id, child_id, event, happened_at, mutation_id) "
                 "VALUES (%s, %s, %s, %s, %s)", (parent, child, event, at, mutation))


def feed(conn: psycopg.Connection, mutation: int, fid: int, op: str, closed: int | None, at: dt.datetime) -> None:
    """One row of the change feed (province and commune read from the held row)."""
    conn.execute(
        "INSERT INTO landdb.parcel_change (at, mutation_id, feature_id, closed_version, op, province_code, "
        "commune_code) SELECT %s, %s, id, %s, %s, province_code, commune_code FROM landdb.parcel "
        "WHERE id = %s ORDER BY valid_to DESC NULLS FIRST LIMIT 1", (at, mutation, closed, op, fid))


def notify(conn: psycopg.Connection, collection: str, ids: list[int]) -> None:
    """``NOTIFY landgeo_features`` (delivered at commit): tile caches drop the tiles under ``bbox`` (CRS84)."""
    row = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom_wgs84) "
                       "AS e FROM landdb.parcel WHERE id = ANY(%s)) s", (ids,)).fetchone()
    payload = {"collection": collection, "ids": ids[:100],
               "bbox": [round(v, 7) for v in row] if row and row[0] is not None else None}
    conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, json.dumps(payload)))


def history(conn: psycopg.Connection, fid: int) -> dict[str, Any]:
    """Versions of a parcel (the held row and the closed copies before it) and the mutations that link it to
    its ancestors and descendants."""
    versions: list[int] = [fid]
    frontier = [fid]
    while frontier:  # closed versions: walk 'update'/'correction'/'land_use_change' links backwards
        rows = conn.execute("SELECT parent_id FROM landdb.parcel_history WHERE child_id = ANY(%s) AND event IN "
                            "('update', 'correction', 'land_use_change')", (frontier,)).fetchall()
        frontier = [r[0] for r in rows if r[0] not in versions]
        versions += frontier
    ver_rows = conn.execute(
        "SELECT id, valid_from, valid_to, parcel_number, sheet_number, land_use_codes, declared_area, "
        "computed_area FROM landdb.parcel WHERE id = ANY(%s) ORDER BY valid_from, id", (versions,)).fetchall()
    links = conn.execute(
        "SELECT h.parent_id, h.child_id, h.event, h.happened_at, m.id, m.kind, m.document_number, "
        "m.document_date, m.actor FROM landdb.parcel_history h LEFT JOIN landdb.parcel_mutation m "
        "ON m.id = h.mutation_id WHERE h.parent_id = ANY(%s) OR h.child_id = ANY(%s) ORDER BY h.happened_at, h.id",
        (versions, versions)).fetchall()
    return {"versions": ver_rows, "links": links, "version_ids": versions}
