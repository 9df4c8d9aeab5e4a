"""The audit (nhật ký truy cập): every read of restricted data and every change of users, append-only.

Rows go to ``access.audit_event`` (who, when, what, which ids). The API's register role may INSERT there and
nothing else; UPDATE, DELETE and TRUNCATE are refused by privilege and by trigger, whoever tries.
Decree 13/2023/NĐ-CP on personal data expects this trace of every processing of a register of people.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import psycopg
from psycopg import sql

from landgeo.access.identity import Identity

_FEATURE_ID = re.compile(r'^\{"type":"Feature","id":(\d+),')

_INTO = "INSERT INTO access.audit_event (actor, actor_role, auth, action, collection, item_ids, detail) "
_INSERT = _INTO + "VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb)"


#: the audit row of a page of the register, written by the page's own statement: it reads the page's rows from the
#: statement's CTE ``page (_id, _rank)`` (landgeo.api.statements.page_sql) and records the ids of the rows returned
#: (rank <= limit: not the look-ahead row that only tells whether a next page exists)
_PAGE_INSERT = (_INTO + "SELECT %s, %s, %s, %s, %s, ARRAY(SELECT _id FROM page WHERE _rank <= {limit} ORDER BY _rank), "
                "%s::jsonb")


def page_read(identity: Identity, collection: str, limit: int, detail: dict | None = None
              ) -> tuple[sql.Composable, list]:
    """The audit row of a page read (who, what, which ids, the query's filters) as the data-modifying part of the
    page's statement, and its parameters: the same row :func:`record` appends, in the same transaction, from the
    same snapshot as the rows it names — the read and its record cannot be separated."""
    return (sql.SQL(_PAGE_INSERT).format(limit=sql.Literal(limit)),
            [identity.name, identity.role, identity.auth, "read", collection,
             json.dumps(detail or {}, ensure_ascii=False)])


def feature_ids(features: Iterable[str]) -> list[int]:
    """Ids of GeoJSON feature texts as the API builds them (``{"type":"Feature","id":N,...``)."""
    out = []
    for text in features:
        m = _FEATURE_ID.match(text)
        if m:
            out.append(int(m.group(1)))
    return out


def record(conn: psycopg.Connection, identity: Identity, action: str, collection: str | None = None,
           ids: Iterable[int] = (), detail: dict | None = None) -> None:
    """Append one audit row in the caller's transaction (it commits or rolls back with the work it records)."""
    conn.execute(_INSERT, (identity.name, identity.role, identity.auth, action, collection, list(ids),
                           json.dumps(detail or {}, ensure_ascii=False)), prepare=True)
