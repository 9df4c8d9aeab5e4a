"""Which provinces' rows can pair with a scope's rows (cross-border overlaps, dangles): the others are left out.

A table partitioned by province pairs the scope's rows with "every row" through the GiST index; PostgreSQL then
probes the spatial index of every partition for each row of the scope, so validating one province cost more the
more provinces were loaded (measured in docs/scale.md). Rows that can touch the scope lie within its extent
(plus a margin wider than any tolerance): the provinces having such rows are found with one index probe per
partition, and the partner side is restricted to them by literal codes, which the planner prunes.
"""

from __future__ import annotations

import re

from psycopg import sql

MARGIN_DEG = 0.01  # ≈ 1 km: wider than every distance tolerance of the checks


def nearby_provinces(conn, rel: sql.Composable, table: str, scope: sql.Composable) -> list[str] | None:
    """Province codes whose rows meet the scope's extent (None: no restriction applies, keep every row)."""
    parts = conn.execute(
        "SELECT c.oid::regclass::text, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_partitioned_table pt ON pt.partrelid = i.inhparent "
        "JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0] "
        "WHERE i.inhparent = to_regclass(%s) AND a.attname = 'province_code' AND pt.partnatts = 1",
        (table,)).fetchall()
    if not parts:
        return None
    extent = conn.execute(sql.SQL("SELECT ST_Expand(ST_Extent(geom)::geometry, %s) FROM {} WHERE {}").format(
        rel, scope), (MARGIN_DEG,)).fetchone()[0]
    if extent is None:
        return None
    codes: set[str] = set()
    for name, bound in parts:
        values = re.findall(r"'([^']*)'", bound or "")
        # the partition's name is the catalogue's (regclass text), the extent a bound value
        hit = conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE geom && %s::geometry)").format(
            sql.SQL(name)), (extent,)).fetchone()[0]
        if hit and not values:  # rows of the default partition near the scope: their codes are unknown
            return None
        if hit:
            codes.update(values)
    return sorted(codes)
