"""Items requests, step 3 of 3: run the SQL and assemble the page (chạy truy vấn, ghép trang kết quả).

parameters (:mod:`landgeo.api.parameters`) -> SQL (:mod:`landgeo.api.statements`) -> run (this module). Both the fast
JSON path of :mod:`landgeo.api.app` and pygeoapi's provider call :func:`run_items` / :func:`run_item`.

- **Keyset paging** (phân trang theo khóa): pages are ordered by the sort keys then ``id``; the ``next`` link
  carries an opaque cursor holding the last row's keys, and the next page starts with ``WHERE (keys) > (cursor)``.
- **offset**: the keys of the row just before the page are read first, then the page runs as a keyset page after
  them. The whole collection in id order finds that row from exact counts of current versions per block of ids
  (:func:`~landgeo.api.statements.block_position_sql`: one block walked, whatever the depth); other orders and
  filtered pages walk the keys (an index walk of ids for the default order, no feature built per skipped row).
- **numberMatched rule** (every page stays cheap; the count is made at most once per walk through the pages and
  carried in the cursor):

  1. the whole collection (current versions, no filter): above :data:`ESTIMATE_CEILING` rows in ``pg_class``
     nothing is ever counted — ``numberMatchedEstimate`` gives that figure;
  2. otherwise a count bounded to :data:`EXACT_COUNT_LIMIT` + 1 rows: ``numberMatched`` when within the bound,
     else ``numberMatchedEstimate`` (the planner's estimate);
  3. except on the first page (no cursor) of a filter the planner must plan with its values (a land-use code,
     CQL2, a bbox with a filter or sort): if the planner expects more than :data:`FIRST_PAGE_COUNT` matches, the
     first page only gives ``numberMatchedEstimate`` and the bounded count of rule 2 runs once, on the first
     ``next`` page; from then on every page repeats its result from the cursor.

  ``resulttype=hits`` always runs rule 2's bounded count (unless rule 1 applies).

  The restricted register (parties, rights, certificates: row-level security decides which rows exist) follows
  the same rule with what may be said to a scoped user: a count under RLS is made only where the rule counts
  anyway and never replaced by a figure of the whole table or by the planner's estimate (statistics of every
  row, readable or not: an officer's filter on a name would learn how common it is nationally):

  4. an unfiltered listing (no bbox, property, filter or datetime) says ``numberMatched`` on its first page, exact
     at any size: the sum of the identity's own codes' row counts (``access.register_matched``, migration 0190,
     read under row-level security), carried by the cursor; where that sum is not exact for the identity (the
     parties of an officer of several communes, or of provinces and communes) it is counted as below;
  5. otherwise the first page counts nothing: a page that holds every match says ``numberMatched`` (its own rows,
     free); else ``numberMatched`` is absent and rule 2's bounded count runs once, on the first ``next`` page
     (as rule 3), carried by the cursor from then on; above the bound ``numberMatched`` stays absent.
     ``resulttype=hits`` runs that bounded count at once.
- **Time**: versioned collections show the current versions (``valid_to IS NULL``) by default; see docs/api.md.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import psycopg
from psycopg import sql

from landgeo.api.collections import Collection
from landgeo.api.crs import ApiCrs
from landgeo.api.locate import id_ranges
from landgeo.api.parameters import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ApiError,
    ItemsQuery,
    bad,
    build_query,
    encode_cursor,
    parse_datetime,
    parse_items,
)
from landgeo.api.statements import (
    block_position_sql,
    count_sql,
    estimate_sql,
    item_sql,
    page_sql,
    position_sql,
    skips_blocks,
)
from landgeo.api.versioned import current_only, item_at

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ApiError", "ItemsQuery", "Page", "bad", "build_query", "next_href",
           "parse_datetime", "parse_items", "plan_free", "run_item", "run_items"]

EXACT_COUNT_LIMIT = 100_000
ESTIMATE_CEILING = 250_000
FIRST_PAGE_COUNT = 20_000
SMALL_WINDOW = 5_000
TABLE_ESTIMATE_TTL_S = 60.0

LOGGER = logging.getLogger("landgeo.api")

_TABLE_ESTIMATES: dict[tuple[str, str], tuple[float, int | None]] = {}


@dataclass
class Page:
    features: list[str]
    next_cursor: str | None
    number_matched: int | None
    estimate: int | None


@dataclass
class Matched:
    """numberMatched (exact) or an estimate, and whether the exact count is still to be made (next page)."""

    exact: int | None = None
    estimate: int | None = None
    pending: bool = False
    scope_rows: psycopg.Cursor | None = None  # rule 4's figure, fetched with the page
    in_page: bool = False  # rule 4's figure, the last column of the page's rows (read by the page's statement)


#: rule 4's figure (migration 0190): the rows the identity sees, summed from its own codes' counts
_SCOPE_ROWS = "SELECT access.register_matched(%s)"


def table_estimate(conn: psycopg.Connection, c: Collection) -> int | None:
    """Rows of the table (all partitions) from pg_class, cached a minute per process."""
    key = (conn.info.dbname, f"{c.schema}.{c.table}")
    now = time.monotonic()
    hit = _TABLE_ESTIMATES.get(key)
    if hit and now - hit[0] < TABLE_ESTIMATE_TTL_S:
        return hit[1]
    rel = sql.Literal(f"{sql.Identifier(c.schema).as_string(conn)}.{sql.Identifier(c.table).as_string(conn)}")
    row = conn.execute(sql.SQL(
        "SELECT sum(GREATEST(reltuples, 0)), count(*) FROM pg_class "
        "WHERE relkind <> 'p' AND (oid = {0}::regclass "
        "OR oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = {0}::regclass))"
    ).format(rel)).fetchone()
    value = int(row[0]) if row[1] else None  # never-analysed partitions count 0: the bounded count then decides
    _TABLE_ESTIMATES[key] = (now, value)
    return value


def plan_free(q: ItemsQuery) -> bool:
    """True when the best plan does not depend much on the values (whole collection, keyset position, time,
    equality on scalar properties such as commune + sheet + parcel number): such statements are prepared and
    PostgreSQL may reuse a plan. Others (bbox, CQL2, land-use codes) are planned with their values every time —
    a generic plan chosen for a small bbox would sort a whole country for a large one."""
    if q.bbox is not None or q.filter_ast is not None:
        return False
    fields = q.collection.field_map
    return all(fields[name].type != "text[]" for name, _v in q.properties)


def _spatial_window(q: ItemsQuery) -> bool:
    """A map window: bbox (plus property equalities), default order — what QGIS asks for at every pan."""
    return q.bbox is not None and q.filter_ast is None and not q.sortby and not q.offset


def _fetch_generic(conn: psycopg.Connection, query: sql.Composable, params: list) -> list:
    """Run a prepared statement with its generic plan (no planning per request), the GUC local to a transaction.

    A partitioned national table costs milliseconds to plan per request; for a small map window the generic plan
    (spatial index, then sort) is the plan a custom one would choose, so it is reused.
    """
    with conn.pipeline(), conn.transaction():
        conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cur = conn.execute(query, params, prepare=True)
    return cur.fetchall()


def _planner_estimate(conn: psycopg.Connection, q: ItemsQuery) -> int:
    query, params = estimate_sql(q)
    plan = conn.execute(query, params, prepare=False).fetchone()[0]
    return int(plan[0]["Plan"]["Plan Rows"])


def _bounded_count(conn: psycopg.Connection, q: ItemsQuery) -> Matched:
    """Rule 2: exact up to :data:`EXACT_COUNT_LIMIT`, else the planner's estimate."""
    query, params = count_sql(q, EXACT_COUNT_LIMIT)
    if _spatial_window(q):
        count = _fetch_generic(conn, query, params)[0][0]
    else:
        count = conn.execute(query, params, prepare=plan_free(q)).fetchone()[0]
    if count <= EXACT_COUNT_LIMIT:
        return Matched(exact=count)
    return Matched(estimate=max(_planner_estimate(conn, q), count))


def _scoped_count(conn: psycopg.Connection, q: ItemsQuery) -> Matched:
    """Rule 4's bounded count under row-level security: exact, or nothing above the bound (no estimate)."""
    query, params = count_sql(q, EXACT_COUNT_LIMIT)
    count = conn.execute(query, params, prepare=plan_free(q)).fetchone()[0]
    return Matched(exact=count) if count <= EXACT_COUNT_LIMIT else Matched()


def _scope_rows(matched: Matched, rows: list | None = None) -> Matched:
    """Rule 4, unfiltered listing: the rows the identity sees, summed from its own codes' counts (migration 0190,
    under row-level security), sent with the page in one round trip — or read by the page's own statement, as the
    last column of its rows (``in_page``: an empty first page has no row to carry it, and needs none: rule 5 says
    0); where that sum is not exact for the identity (NULL), rule 5 applies."""
    if matched.in_page:
        n = rows[0][-1] if rows else None
    elif matched.scope_rows is not None:
        n = matched.scope_rows.fetchone()[0]
    else:
        return matched
    return Matched(pending=True) if n is None else Matched(exact=n)


def count_matched(conn: psycopg.Connection, q: ItemsQuery, in_page: bool = False) -> Matched:
    """numberMatched of a request under the documented rule (see the module docstring). ``in_page``: the page's
    statement can read rule 4's figure itself (a register page with its audit row)."""
    if q.collection.restricted:
        if q.cursor is not None and not q.cursor["u"]:
            return Matched(exact=q.cursor["n"])
        if q.unfiltered and q.cursor is None and in_page and not q.hits and not q.offset:
            return Matched(pending=True, in_page=True)  # rule 4, a column of the page's rows
        if q.unfiltered and q.cursor is None:  # rule 4, read with the page (the transaction is in pipeline mode)
            return Matched(pending=True, scope_rows=conn.execute(_SCOPE_ROWS, (q.collection.id,), prepare=True))
        return _scoped_count(conn, q) if q.cursor is not None or q.hits else Matched(pending=True)
    if q.cursor is not None:
        carried = Matched(exact=q.cursor["n"], estimate=q.cursor["e"])
        return _bounded_count(conn, q) if q.cursor["u"] else carried
    if q.unfiltered:
        estimate = table_estimate(conn, q.collection)
        if estimate is not None and estimate > ESTIMATE_CEILING:
            return Matched(estimate=estimate)
    elif not q.hits and not plan_free(q) and not _spatial_window(q):
        estimate = _planner_estimate(conn, q)
        if estimate > FIRST_PAGE_COUNT:
            return Matched(estimate=estimate, pending=True)
    return _bounded_count(conn, q)


def _page_start(conn: psycopg.Connection, q: ItemsQuery) -> list | None:
    """Keys the page starts after: the cursor's, or for ``offset`` those of row ``offset`` (keys only)."""
    if q.cursor is not None:
        return q.cursor["k"]
    if q.offset:
        if skips_blocks(q):
            query, params = block_position_sql(q)
            usable, block, fid = conn.execute(query, params, prepare=True).fetchone()
            if usable and block is None:
                return []
            if usable and fid is not None:
                return [fid]
            if usable:  # counts that disagree with the rows: never expected, the walk answers
                LOGGER.warning("current-version counts of %s disagree with its rows at offset %s; walked instead",
                               q.collection.id, q.offset)
        query, params = position_sql(q)
        row = conn.execute(query, params, prepare=plan_free(q)).fetchone()
        return list(row) if row else []
    return None


def run_items(conn: psycopg.Connection, q: ItemsQuery, audit: tuple[sql.Composable, list] | None = None,
              send: Callable[[], None] | None = None) -> Page:
    """Run the page (and, when the rule says so, the count); client mistakes in values become 400.

    Small map windows (a bbox matching at most :data:`SMALL_WINDOW` features, known from the count of the first
    page or from the cursor) run with generic plans; everything else is planned with its values.

    The register (:mod:`landgeo.api.guard`): ``audit`` is the audit row's statement, run by the page's own statement
    (:func:`~landgeo.api.statements.page_sql`); ``send`` is called once that statement is queued, before its rows
    are read — a caller in pipeline mode queues its ``COMMIT`` and sends everything in one round trip. Neither is
    called when no page statement runs (``resulttype=hits``, an offset past the end).
    """
    try:
        matched = count_matched(conn, q, in_page=audit is not None)
        if q.hits:
            matched = _scope_rows(matched)
            if matched.pending:
                matched = _scoped_count(conn, q)
            return Page([], None, matched.exact, matched.estimate)
        after = _page_start(conn, q)
        if after == []:  # offset beyond the last match
            matched = _scope_rows(matched)
            return Page([], None, matched.exact, matched.estimate)
        small = (_spatial_window(q) and matched.exact is not None and matched.exact <= SMALL_WINDOW
                 and audit is None)
        also = (sql.SQL(_SCOPE_ROWS), [q.collection.id]) if matched.in_page else None
        query, params, nkeys = page_sql(q, small_window=small, after=after, audit=audit, also=also)
        if small:
            rows = _fetch_generic(conn, query, params)
        else:
            cur = conn.execute(query, params, prepare=plan_free(q))
            if send is not None:
                send()
            rows = cur.fetchall()
        matched = _scope_rows(matched, rows)
    except (psycopg.errors.DataError, psycopg.errors.UndefinedFunction, psycopg.errors.DatatypeMismatch,
            psycopg.errors.InvalidParameterValue, psycopg.errors.IndeterminateDatatype,
            psycopg.errors.AmbiguousFunction) as exc:
        first = (exc.diag.message_primary or str(exc)).splitlines()[0]
        raise bad(f"a value in the request does not fit the property types: {first}") from exc
    except psycopg.errors.QueryCanceled as exc:  # statement_timeout: the request asks for too much at once
        timeout = conn.execute("SHOW statement_timeout").fetchone()[0]
        raise ApiError(504, "Timeout", f"the query ran past the statement timeout of {timeout} (LANDGEO_API_"
                                       "STATEMENT_TIMEOUT_MS); narrow it (bbox, filter, smaller limit)") from exc
    except psycopg.errors.InternalError_ as exc:  # PostGIS reports bad client geometries this way
        first = (exc.diag.message_primary or str(exc)).splitlines()[0]
        raise bad(f"bad geometry in the request: {first}") from exc
    if matched.pending and q.collection.restricted and len(rows) <= q.limit and (rows or not q.offset):
        matched = Matched(exact=q.offset + len(rows))  # rule 5: the first page holds every match
    next_cursor = None
    if len(rows) > q.limit:
        rows = rows[: q.limit]
        last = rows[-1]
        next_cursor = encode_cursor(q, list(last[1: 1 + nkeys]), matched.exact, matched.estimate,
                                    counted=not matched.pending)
    return Page([r[0] for r in rows], next_cursor, matched.exact, matched.estimate)


# SQL text of the one-feature queries per (collection, CRS, partition key): composing costs more than running it.
_ITEM_SQL: dict[tuple[str, str, str | None], str] = {}


def _item_text(conn: psycopg.Connection, c: Collection, crs: ApiCrs, key: str | None) -> str:
    cache_key = (c.id, crs.uri, key)
    text = _ITEM_SQL.get(cache_key)
    if text is None:
        text = _ITEM_SQL[cache_key] = item_sql(c, crs, key, current_only(c)).as_string(conn)
    return text


def run_item(conn: psycopg.Connection, c: Collection, fid: str, crs: ApiCrs, at: dt.datetime | None = None
             ) -> str | None:
    """The GeoJSON text of one feature by id, or None. Versioned collections answer a current feature only, or
    with ``at`` the feature's version alive then (:mod:`landgeo.api.versioned`); elsewhere any id (ids are version
    ids). On a partitioned table the partition the id's range points to is read first
    (:mod:`landgeo.api.locate`), every partition otherwise."""
    if not fid.isdigit() or len(fid) > 18:
        return None
    number = int(fid)
    if at is not None and c.lifespan:
        return item_at(conn, c, number, crs, at)
    ranges = id_ranges(conn, c)
    partition = ranges.partition_of(number) if ranges else None
    if partition is not None:
        row = conn.execute(_item_text(conn, c, crs, ranges.key), {"fid": number, "key": partition}).fetchone()
        if row:
            return row[0]
    row = conn.execute(_item_text(conn, c, crs, None), {"fid": number}).fetchone()
    return row[0] if row else None


def next_href(base: str, params: dict[str, str], cursor: str) -> str:
    kept = [(k, v) for k, v in params.items() if k not in ("cursor", "offset")]
    kept.append(("cursor", cursor))
    return f"{base}?{urlencode(kept)}"
