"""Which partition holds a feature id (tìm phân vùng chứa một đối tượng): one-feature look-ups touch one partition.

A partitioned table (parcels: one partition per province) has no index over all partitions, so ``WHERE id = $1``
opens and locks every partition's key index, a third or more of the cost of ``/items/{id}``. Ids are handed out in
load order, so each partition's ids cover a range: the ranges (the ends of each partition's key index, read from
the catalogue and the indexes, cached a minute per process) name the one partition an id can be in, and the
look-up adds ``AND <partition key> = <its value>`` so PostgreSQL prunes the others.

The ranges are a hint, never trusted for an answer: an id inside no range, inside several, or not found where the
range points (rows loaded or moved since the ranges were read) is looked up in every partition.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from landgeo.api.collections import Collection

TTL_S = 60.0


@dataclass(frozen=True)
class Ranges:
    """Partition key column and, per partition, (key value, lowest id, highest id)."""

    key: str
    spans: tuple[tuple[str, int, int], ...]

    def partition_of(self, fid: int) -> str | None:
        hits = [value for value, lo, hi in self.spans if lo <= fid <= hi]
        return hits[0] if len(hits) == 1 else None


_CACHE: dict[tuple[str, str, str], tuple[float, Ranges | None]] = {}


def _read(conn: psycopg.Connection, c: Collection) -> Ranges | None:
    rel = f"{sql.Identifier(c.schema).as_string(conn)}.{sql.Identifier(c.table).as_string(conn)}"
    key = conn.execute(
        "SELECT a.attname FROM pg_partitioned_table p JOIN pg_attribute a ON a.attrelid = p.partrelid "
        "AND a.attnum = p.partattrs[0] WHERE p.partrelid = %s::regclass AND p.partnatts = 1 AND p.partstrat = 'l'",
        (rel,)).fetchone()
    if key is None or key[0] not in {f.name for f in c.fields}:
        return None
    parts = conn.execute(
        "SELECT n.nspname, k.relname FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid "
        "JOIN pg_namespace n ON n.oid = k.relnamespace WHERE i.inhparent = %s::regclass AND k.relkind = 'r'",
        (rel,)).fetchall()
    if not parts:
        return None
    col = sql.Identifier(key[0])
    union = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT (SELECT {k}::text FROM {t} LIMIT 1), (SELECT min(id) FROM {t}), (SELECT max(id) FROM {t})")
        .format(k=col, t=sql.Identifier(schema, name)) for schema, name in parts)
    spans = tuple((v, lo, hi) for v, lo, hi in conn.execute(union).fetchall() if v is not None)
    return Ranges(key[0], spans)


def id_ranges(conn: psycopg.Connection, c: Collection) -> Ranges | None:
    """The id ranges of ``c``'s partitions (None: not list-partitioned on a published column), cached a minute."""
    cache_key = (conn.info.dbname, c.schema, c.table)
    now = time.monotonic()
    hit = _CACHE.get(cache_key)
    if hit and now - hit[0] < TTL_S:
        return hit[1]
    ranges = _read(conn, c)
    _CACHE[cache_key] = (now, ranges)
    return ranges
