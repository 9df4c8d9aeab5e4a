"""One feature by id on a table partitioned by province: ask only the province's partition.

Ids are version ids from one sequence; a table that can tell an id's province has a function
``<schema>.<table>_province_of(bigint)`` (``landdb.parcel_province_of``, migration 0090). The look-up then reads
``WHERE id = $1 AND province_code = <table>_province_of($1)``: a stable function, so the executor prunes every
other partition at start-up. When it finds nothing (an id the intervals do not know, or place wrongly), the plain
look-up over every partition answers: a 404 costs two look-ups, a hit one partition.
"""

from __future__ import annotations

import psycopg
from psycopg import sql


def item_queries(conn: psycopg.Connection, schema: str, table: str, columns: sql.Composable
                 ) -> tuple[str | None, str]:
    """(pruned query or None, plain query) selecting ``columns`` of one row by id; SQL text for ``conn``."""
    ident = sql.Identifier(schema, table)
    plain = sql.SQL("SELECT {} FROM {} WHERE id = %s LIMIT 1").format(columns, ident).as_string(conn)
    function = conn.execute(
        "SELECT p.oid::regproc::text FROM pg_proc p WHERE p.pronamespace = to_regnamespace(%s) AND p.proname = %s "
        "AND p.pronargs = 1 AND p.proargtypes[0] = 'bigint'::regtype AND EXISTS (SELECT 1 FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass(%s) AND a.attname = 'province_code' AND NOT a.attisdropped)",
        (schema, f"{table}_province_of", f"{schema}.{table}")).fetchone()
    if function is None:
        return None, plain
    pruned = sql.SQL("SELECT {} FROM {} WHERE id = %s AND province_code = {}.{}(%s) LIMIT 1").format(
        columns, ident, sql.Identifier(schema), sql.Identifier(f"{table}_province_of")).as_string(conn)
    return pruned, plain


def fetch_item(conn: psycopg.Connection, queries: tuple[str | None, str], fid: int):
    """The first column of the row with id ``fid``, or None."""
    pruned, plain = queries
    if pruned is not None:
        row = conn.execute(pruned, (fid, fid)).fetchone()
        if row:
            return row[0]
    row = conn.execute(plain, (fid,)).fetchone()
    return row[0] if row else None
