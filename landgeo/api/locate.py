"""Which partition holds a feature id (tìm phân vùng chứa một đối tượng): one-feature look-ups touch one partition.

A partitioned table (parcels: one partition per province) has no index over all partitions, so ``WHERE id = $1``
opens and locks every partition's key index, a third or more of the cost of ``/items/{id}``. Ids are handed out in
load order, so each partition's ids cover a range: the ranges (each partition's lowest and highest id, read through
the parent table from the ends of the key index, cached a minute per process) name the one partition an id can be
in, and the look-up adds ``AND <partition key> = <its value>`` so PostgreSQL prunes the others.

The ranges are a hint, never trusted for an answer: an id inside no range, inside several, or not found where the
range points (rows loaded or moved since the ranges were read) is looked up in every partition.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from landgeo.api.collections import Collection

TTL_S = 60.0
LOGGER = logging.getLogger("landgeo.api")


@dataclass(frozen=True)
class Ranges:
    """Partition key column and, per partition, (key value, lowest id, highest id)."""

    key: str
    spans: tuple[tuple[str, int, int], ...]

    def partition_of(self, fid: int) -> str | None:
        hits = [value for value, lo, hi in self.spans if lo <= fid <= hi]
        return hits[0] if len(hits) == 1 else None


_CACHE: dict[tuple[str, str, str], tuple[float, Ranges | None]] = {}


_BOUND = re.compile(r"^FOR VALUES IN \('([^']*)'\)$")


def _read(conn: psycopg.Connection, c: Collection) -> Ranges | None:
    """Read through the parent table (the reader's grant), one pruned ``min(id), max(id)`` per partition value."""
    rel = f"{sql.Identifier(c.schema).as_string(conn)}.{sql.Identifier(c.table).as_string(conn)}"
    key = conn.execute(
        "SELECT a.attname FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid "
        "AND a.attnum = p.partattrs[0] WHERE p.partrelid = %s::regclass AND p.partnatts = 1 AND p.partstrat = 'l'",
        (rel,)).fetchone()
    if key is None or key[0] not in {f.name for f in c.fields}:
        return None
    bounds = conn.execute(
        "SELECT pg_get_expr(k.relpartbound, k.oid) FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass", (rel,)).fetchall()
    values = [m.group(1) for (bound,) in bounds if (m := _BOUND.match(bound or ""))]
    if not values:
        return None
    one = sql.SQL("SELECT %s::text, min(id), max(id) FROM {} WHERE {} = %s").format(
        sql.Identifier(c.schema, c.table), sql.Identifier(key[0]))
    rows = conn.execute(sql.SQL(" UNION ALL ").join([one] * len(values)),
                        [v for value in values for v in (value, value)]).fetchall()
    return Ranges(key[0], tuple((v, lo, hi) for v, lo, hi in rows if lo is not None))


def id_ranges(conn: psycopg.Connection, c: Collection) -> Ranges | None:
    """The id ranges of ``c``'s partitions (None: not list-partitioned on a published column), cached a minute."""
    cache_key = (conn.info.dbname, c.schema, c.table)
    now = time.monotonic()
    hit = _CACHE.get(cache_key)
    if hit and now - hit[0] < TTL_S:
        return hit[1]
    try:
        ranges = _read(conn, c)
    except psycopg.Error as exc:  # a hint only: without it every partition is read
        LOGGER.warning("partition id ranges of %s.%s not read: %s", c.schema, c.table, exc)
        ranges = None
    _CACHE[cache_key] = (now, ranges)
    return ranges
