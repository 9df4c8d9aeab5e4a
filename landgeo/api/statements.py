"""Items requests, step 2 of 3: an :class:`~landgeo.api.parameters.ItemsQuery` -> SQL (câu lệnh SQL).

Builds, with ``psycopg.sql`` only (identifiers from the catalogue, every client value a bound parameter):

- the page ``SELECT`` whose rows are the text of GeoJSON Features (``ST_AsGeoJSON`` + ``json_build_object``):
  Python only joins the rows, it never builds or re-serialises features;
- the keyset condition ``(keys) > (cursor keys)`` of ``next`` pages (an index range scan at any depth);
- the *position* statement of an ``offset`` page: the sort keys of the row just before the page, read from the
  keys alone (an index walk of ids, no feature built for a skipped row); the page then runs as a keyset page;
- the bounded count and the planner estimate of the numberMatched rule, and the one-feature statement.
"""

from __future__ import annotations

import numpy as np
from psycopg import sql

from landgeo.api.collections import SQL_TYPES, Collection
from landgeo.api.cql2 import Compiler, FilterError, envelope_geojson, geometry_literal
from landgeo.api.crs import ApiCrs, parse_crs
from landgeo.api.parameters import ItemsQuery, bad
from landgeo.crs import transform


def geometry_sql(c: Collection, crs: ApiCrs) -> sql.Composable:
    """The geometry in the output CRS: WGS 84 family from the serving copy, VN-2000 by projection only."""
    w = sql.Identifier(c.wgs84_column)
    if crs.family == "wgs84":
        if crs.srid == 3857:
            return sql.SQL("ST_Transform({}, 3857)").format(w)
        return sql.SQL("ST_FlipCoordinates({})").format(w) if crs.lat_first else w
    if c.vn2000_column:
        v = sql.Identifier(c.vn2000_column)
        if crs.srid == 4756:
            return sql.SQL("ST_FlipCoordinates({})").format(v)
        return sql.SQL("ST_Transform({}, {})").format(v, sql.Literal(crs.srid))
    g = sql.SQL("meta.wgs84_to_vn2000({}, {})").format(w, sql.Literal(crs.srid))
    return sql.SQL("ST_FlipCoordinates({})").format(g) if crs.srid == 4756 else g


def feature_sql(c: Collection, crs: ApiCrs, select: list[str] | None, skip_geometry: bool) -> sql.Composable:
    """One row -> the text of its GeoJSON Feature."""
    names = select if select is not None else [f.name for f in c.fields]
    if names:
        pairs = sql.SQL(", ").join(sql.SQL("{}, {}").format(sql.Literal(n), c.column(n)) for n in names)
        props = sql.SQL("json_build_object({})::text").format(pairs)
    else:
        props = sql.SQL("'{}'")
    if skip_geometry or not c.has_geometry:
        geom = sql.SQL("'null'")
    else:
        geom = sql.SQL("COALESCE(ST_AsGeoJSON({}, {}, 0), 'null')").format(geometry_sql(c, crs),
                                                                          sql.Literal(crs.decimals))
    return sql.SQL(
        """'{{"type":"Feature","id":' || {} || ',"geometry":' || {} || ',"properties":' || {} || '}}'"""
    ).format(c.feature_id(), geom, props)


#: below every id: the link bound of a scope hint (``scope_via``) when the page does not start after an id
NO_ID_BOUND = -(2 ** 63)


def where_sql(q: ItemsQuery, id_after: int | None = None) -> tuple[list[sql.Composable], list]:
    """The conditions of the query (without the cursor) and their parameters. ``id_after``: the page, in id order,
    starts after this id (a scope hint through a link walks the link's index from there, not from its start)."""
    c = q.collection
    conds: list[sql.Composable] = []
    params: list = []
    if q.unavailable:  # literals (checked two-digit codes) so that the planner prunes their partitions
        conds.append(sql.SQL("province_code NOT IN ({})").format(sql.SQL(", ").join(map(sql.Literal, q.unavailable))))
    # time
    if c.lifespan:
        begin, end = (sql.Identifier(n) for n in c.lifespan)
        if q.time is None:
            conds.append(sql.SQL("{} IS NULL").format(end))
        elif q.time.instant:
            conds.append(sql.SQL("{} <= %s AND ({} IS NULL OR {} > %s)").format(begin, end, end))
            params += [q.time.start, q.time.start]
        else:
            if q.time.end is not None:
                conds.append(sql.SQL("{} < %s").format(begin))
                params.append(q.time.end)
            if q.time.start is not None:
                conds.append(sql.SQL("({} IS NULL OR {} > %s)").format(end, end))
                params.append(q.time.start)
    elif c.instant and q.time is not None:
        col = sql.Identifier(c.instant)
        if q.time.instant:
            conds.append(sql.SQL("{} = %s").format(col))
            params.append(q.time.start)
        else:
            if q.time.start is not None:
                conds.append(sql.SQL("{} >= %s").format(col))
                params.append(q.time.start)
            if q.time.end is not None:
                conds.append(sql.SQL("{} < %s").format(col))
                params.append(q.time.end)
    if q.scope is not None:  # the register: see ItemsQuery.scope
        hint = scope_sql(c, q.scope, id_after, params)
        if hint is not None:
            conds.append(hint)
    # bbox
    if q.bbox is not None:
        if not c.has_geometry:
            raise bad(f"{c.id} has no geometry: bbox does not apply to it")
        conds.append(bbox_sql(q.bbox, q.bbox_crs, c, params))
    # property = value
    fields = c.field_map
    for name, value in q.properties:
        f = fields[name]
        ident = c.column(name)
        if f.type == "text[]":
            conds.append(sql.SQL("{} @> ARRAY[%s]::text[]").format(ident))
            params.append(value)
        elif f.type == "json":
            raise bad(f"{name} is a JSON property: filter it with CQL2")
        else:
            conds.append(sql.SQL("{} = %s::{}").format(ident, sql.SQL(SQL_TYPES[f.type])))
            params.append(value)
    # CQL2
    if q.filter_ast is not None:
        try:
            compiled = Compiler(c, q.filter_crs, lambda uri: _crs_or_400(uri, c)).compile(q.filter_ast)
        except FilterError as exc:
            raise bad(str(exc)) from exc
        conds.append(compiled.condition)
        params += compiled.params
    return conds, params


def _codes(column: sql.Composable, codes: tuple[str, ...], params: list) -> sql.Composable:
    """``column = code`` for one code (an equality: the (code, id) index gives id order), ``= ANY`` for several."""
    params.append(codes[0] if len(codes) == 1 else list(codes))
    return sql.SQL("{} = %s" if len(codes) == 1 else "{} = ANY (%s)").format(column)


def scope_sql(c: Collection, scope: tuple[tuple[str, ...], tuple[str, ...]], id_after: int | None,
              params: list) -> sql.Composable | None:
    """An officer's scope (provinces, communes) as a condition the indexes serve, or None when this collection
    cannot state all of it (a hint that left out a part would hide rows the officer may read).

    Columns of the rows are tested directly; a code the rows reach through a link (``scope_via``: a party's
    communes) is a semi-join on the link's (code, row id) index — from ``id_after`` on when the page walks ids
    from there — or, OR-ed with a province, an id list (a BitmapOr of the two indexes)."""
    provinces, communes = scope
    via = dict(c.scope_via)
    arms: list[sql.Composable] = []
    for code, codes in (("province_code", provinces), ("commune_code", communes)):
        if not codes:
            continue
        if code in c.field_map:
            arms.append(_codes(sql.Identifier(code), codes, params))
        elif code in via:
            table, key = via[code]
            link = sql.SQL("SELECT {key} FROM {table} WHERE {cond}").format(
                key=sql.Identifier(key), table=sql.Identifier(*table.split(".")),
                cond=_codes(sql.Identifier(code), codes, params))
            if provinces and communes:
                arms.append(sql.SQL("id = ANY (ARRAY({}))").format(link))
            else:
                params.append(NO_ID_BOUND if id_after is None else id_after)
                arms.append(sql.SQL("id IN ({} AND {} > %s)").format(link, sql.Identifier(key)))
        else:
            return None
    if not arms:
        return None
    return arms[0] if len(arms) == 1 else sql.SQL("({})").format(sql.SQL(" OR ").join(arms))


def bbox_sql(bbox: tuple[float, ...], crs: ApiCrs, c: Collection, params: list) -> sql.Composable:
    """``bbox`` (in ``crs`` axis order) intersects the feature.

    A WGS 84-family box (CRS84, 4326, 3857: an axis-aligned rectangle in longitude/latitude, or in Web Mercator) is
    tested against the WGS 84 serving copy; the spatial index is on the canonical VN-2000 ``geom``, so the box's
    cover in VN-2000 (its densified outline through the official operation, computed here once, 1 cm margin)
    selects the candidates. Both are plain envelopes: nothing is transformed per row, in custom or generic plans.
    A VN-2000 box (TM-3 metres, 4756) is densified, then projected, and compared with ``geom``.
    """
    if crs.family == "wgs84":
        x1, y1, x2, y2 = (bbox[1], bbox[0], bbox[3], bbox[2]) if crs.lat_first else bbox
        env = sql.SQL("ST_MakeEnvelope(%s, %s, %s, %s, {})").format(sql.Literal(crs.srid))
        if crs.srid != 4326:
            env = sql.SQL("ST_Transform({}, 4326)").format(env)
        exact = sql.SQL("ST_Intersects({}, {})").format(sql.Identifier(c.wgs84_column), env)
        if not c.vn2000_column:
            params += [x1, y1, x2, y2]
            return exact
        params += [*vn2000_cover(x1, y1, x2, y2, crs.srid), x1, y1, x2, y2]
        return sql.SQL("({} && ST_MakeEnvelope(%s, %s, %s, %s, 4756) AND {})").format(
            sql.Identifier(c.vn2000_column), exact)
    column, literal = geometry_literal(envelope_geojson(*bbox), crs, c, params)
    return sql.SQL("ST_Intersects({}, {})").format(column, literal)


def vn2000_cover(x1: float, y1: float, x2: float, y2: float, srid: int, margin: float = 1e-7) -> list[float]:
    """Envelope in VN-2000 geographic (4756) covering the box (x1, y1, x2, y2) of a WGS 84-family CRS: its
    outline densified (the box's edges bend once moved to another datum), through the official operation,
    widened by ``margin`` degrees (≈ 1 cm)."""
    ring = np.array(envelope_geojson(x1, y1, x2, y2, densify=16)["coordinates"][0])
    x, y = transform(srid, 4756, ring[:, 0], ring[:, 1])
    return [float(np.nanmin(x)) - margin, float(np.nanmin(y)) - margin, float(np.nanmax(x)) + margin,
            float(np.nanmax(y)) + margin]


def _crs_or_400(uri: str, c: Collection) -> ApiCrs:
    try:
        return parse_crs(uri, c.crs_uris)
    except ValueError as exc:
        raise FilterError(str(exc)) from exc


def _sort_keys(q: ItemsQuery) -> list[tuple[sql.Composable, bool, str | None]]:
    keys = [(q.collection.column(n), asc, SQL_TYPES[q.collection.field_map[n].type]) for n, asc in q.sortby]
    keys.append((sql.Identifier("id"), True, None))
    return keys


def _after(q: ItemsQuery, values: list, params: list) -> sql.Composable:
    """(keys) after ``values`` (a cursor's keys), with the NULL placement of ORDER BY (ASC NULLS LAST, DESC NULLS
    FIRST)."""
    keys = _sort_keys(q)
    if len(keys) == 1:
        params.append(values[0])
        return sql.SQL("id > %s")
    ors = []
    for i, (col, asc, typ) in enumerate(keys):
        parts = []
        for (pcol, _pasc, ptyp), pval in zip(keys[:i], values[:i], strict=True):
            if pval is None:
                parts.append(sql.SQL("{} IS NULL").format(pcol))
            else:
                parts.append(sql.SQL("{} = %s::{}").format(pcol, sql.SQL(ptyp)))
                params.append(pval)
        val = values[i]
        if typ is None:  # id
            parts.append(sql.SQL("{} > %s").format(col))
            params.append(val)
        elif asc:
            if val is None:
                continue  # nothing sorts after NULL (NULLS LAST) on this key
            parts.append(sql.SQL("({} > %s::{} OR {} IS NULL)").format(col, sql.SQL(typ), col))
            params.append(val)
        else:
            if val is None:
                parts.append(sql.SQL("{} IS NOT NULL").format(col))
            else:
                parts.append(sql.SQL("{} < %s::{}").format(col, sql.SQL(typ)))
                params.append(val)
        ors.append(sql.SQL("(") + sql.SQL(" AND ").join(parts) + sql.SQL(")"))
    return sql.SQL("(") + sql.SQL(" OR ").join(ors) + sql.SQL(")")


def _key_columns(keys: list[tuple[sql.Composable, bool, str | None]]) -> sql.Composable:
    """The sort keys as the cursor holds them (text, id as a number), under their own names: an output column
    named like a table column would be what ``ORDER BY`` sorts on (text order for numbers)."""
    return sql.SQL(", ").join(
        sql.SQL("{}::text AS {}").format(col, sql.Identifier(f"_key{i}")) if typ else col
        for i, (col, _a, typ) in enumerate(keys))


def _table(c: Collection) -> sql.Composable:
    return sql.Identifier(c.schema, c.table)


def _where(conds: list[sql.Composable]) -> sql.Composable:
    return sql.SQL(" AND ").join(conds) if conds else sql.SQL("TRUE")


def page_sql(q: ItemsQuery, small_window: bool = False, after: list | None = None,
             audit: tuple[sql.Composable, list] | None = None,
             also: tuple[sql.Composable, list] | None = None) -> tuple[sql.Composable, list, int]:
    """The page SELECT (limit + 1 rows, to know if there is a next page), its parameters, the key count.

    ``audit``: a data-modifying statement (and its parameters) run by the page's own statement, reading the page's
    rows as ``page (_id, _rank)`` (feature id, rank in page order): the register's audit row is written by the
    statement that reads the rows it records, in its snapshot (:mod:`landgeo.access.audit`). ``also`` (with
    ``audit`` only): a scalar expression (and its parameters) returned as one more, last column of every row — the
    register's ``numberMatched`` of rule 4, read by the page's statement instead of one more statement.

    ``small_window``: the request is a bbox known to match few features; ``ORDER BY id + 0`` keeps the plan on the
    spatial index then a small sort, the right plan for it whatever the parameter values (see
    :func:`landgeo.api.query.run_items`). ``after``: the keys the page starts after (default: the cursor's).
    """
    if after is None and q.cursor:
        after = q.cursor["k"]
    conds, params = where_sql(q, id_after=after[0] if after and not q.sortby else None)
    if after is not None:
        conds.append(_after(q, after, params))
    keys = _sort_keys(q)
    if small_window:
        order = sql.SQL("id + 0 ASC")
    else:
        order = sql.SQL(", ").join(
            sql.SQL("{} {}").format(col, sql.SQL("ASC" if asc else "DESC")) for col, asc, _t in keys)
    key_cols = _key_columns(keys)
    feature = feature_sql(q.collection, q.crs, q.select, q.skip_geometry)
    if audit is None:
        query = sql.SQL("SELECT {}, {} FROM {} WHERE {} ORDER BY {} LIMIT {}").format(
            feature, key_cols, _table(q.collection), _where(conds), order, sql.Literal(q.limit + 1))
        return query, params, len(keys)
    # the page in a CTE, each row with its rank in page order and its feature id; the audit statement reads them
    outs = [sql.Identifier(f"_out{i}") for i in range(len(keys) + 1)]
    query = sql.SQL(
        "WITH page ({outs}, _id, _rank) AS MATERIALIZED ("
        "SELECT {feature}, {keys}, {fid}, row_number() OVER (ORDER BY {order}) FROM {table} WHERE {where} "
        "ORDER BY {order} LIMIT {n}), "
        "audit AS ({audit}) "
        "SELECT {outs}{also} FROM page ORDER BY _rank").format(
        outs=sql.SQL(", ").join(outs), feature=feature, keys=key_cols, fid=q.collection.feature_id(),
        order=order, table=_table(q.collection), where=_where(conds), n=sql.Literal(q.limit + 1), audit=audit[0],
        also=sql.SQL(", ({})").format(also[0]) if also else sql.SQL(""))
    return query, params + audit[1] + (also[1] if also else []), len(keys)


def position_sql(q: ItemsQuery) -> tuple[sql.Composable, list]:
    """The sort keys (as the cursor holds them) of the row just before an ``offset`` page: row ``offset`` of the
    match in page order. Only the keys are read — for the default order an index(-only) walk of ids — so a skipped
    row costs an index entry, not a built feature; the page itself then runs as a keyset page after these keys."""
    conds, params = where_sql(q)
    keys = _sort_keys(q)
    order = sql.SQL(", ").join(sql.SQL("{} {}").format(col, sql.SQL("ASC" if asc else "DESC")) for col, asc, _t in keys)
    key_cols = _key_columns(keys)
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} OFFSET %s LIMIT 1").format(
        key_cols, _table(q.collection), _where(conds), order)
    return query, [*params, q.offset - 1]


BLOCK_BITS = 14  # ids per block of the current-version counts: 16384 (migration 0140)


def skips_blocks(q: ItemsQuery) -> bool:
    """An ``offset`` page that can skip whole id blocks: the whole collection's current versions in id order, on
    a table whose catalogue entry has exact counts (:func:`block_position_sql`)."""
    return (q.collection.current_counts is not None and q.unfiltered and not q.sortby and not q.unavailable
            and q.collection.lifespan is not None)


def block_position_sql(q: ItemsQuery) -> tuple[sql.Composable, list]:
    """The id of current row ``offset`` (the row just before the page) from the exact counts per id block.

    Every id of block b sorts before every id of block b + 1 whatever its partition, so the blocks' counts summed
    in block order name the one block holding the row and its rank inside it; only that block's keys are walked
    (at most 2^14 index entries): the cost depends on neither the depth nor the country. One statement, one
    snapshot: the counts are written in the transactions that write the rows (0140's statement triggers), so
    they agree with the rows this statement sees. Returns ``(usable, block, id)``: ``usable`` is false while a
    partition is foreign (a federated province is not counted here) — the caller then walks the keys; ``block``
    NULL: the offset is past the last row."""
    c = q.collection
    table = _table(c)
    regclass = sql.Literal(f"{c.schema}.{c.table}")
    end = sql.Identifier(c.lifespan[1])
    query = sql.SQL("""
WITH usable AS (
    SELECT NOT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid
                       WHERE i.inhparent = {regclass}::regclass AND k.relkind = 'f') AS ok),
blocks AS (
    SELECT block, sum(n) AS n FROM {counts} GROUP BY block HAVING sum(n) <> 0),
through AS (
    SELECT block, n, sum(n) OVER (ORDER BY block) AS upto FROM blocks),
hit AS (
    SELECT block, upto - n AS before FROM through WHERE upto > %s ORDER BY block LIMIT 1)
SELECT usable.ok, hit.block,
       (SELECT r.id FROM {table} r WHERE r.{end} IS NULL AND r.id >= hit.block << {bits} AND
               r.id < (hit.block + 1) << {bits} ORDER BY r.id OFFSET %s - hit.before LIMIT 1)
FROM usable LEFT JOIN hit ON usable.ok""").format(
        regclass=regclass, counts=sql.Identifier(c.schema, c.current_counts), table=table, end=end,
        bits=sql.Literal(BLOCK_BITS))
    rank = q.offset - 1
    return query, [rank, rank]


def count_sql(q: ItemsQuery, bound: int) -> tuple[sql.Composable, list]:
    """``count(*)`` of the match, stopped after ``bound`` + 1 rows (its cost is bounded by construction)."""
    conds, params = where_sql(q)
    base = sql.SQL("SELECT 1 FROM {} WHERE {}").format(_table(q.collection), _where(conds))
    return sql.SQL("SELECT count(*) FROM ({} LIMIT {}) s").format(base, sql.Literal(bound + 1)), params


def estimate_sql(q: ItemsQuery) -> tuple[sql.Composable, list]:
    """``EXPLAIN`` of the match: the planner's row estimate, no row read."""
    conds, params = where_sql(q)
    return sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {} WHERE {}").format(
        _table(q.collection), _where(conds)), params


def item_sql(c: Collection, crs: ApiCrs, partition_key: str | None = None, current_only: bool = False
             ) -> sql.Composable:
    """One feature by id ``%(fid)s`` (a feature id where versions are rows, :meth:`Collection.of_feature`; with
    ``current_only``, its current version only); with ``partition_key``, also ``key = %(key)s`` so the partition the
    id is expected in is the only one read (see :mod:`landgeo.api.locate`)."""
    extra = sql.SQL(" AND {} = %(key)s").format(sql.Identifier(partition_key)) if partition_key else sql.SQL("")
    if current_only and c.lifespan:
        extra = sql.SQL("{} AND {} IS NULL").format(extra, sql.Identifier(c.lifespan[1]))
    return sql.SQL("SELECT {} FROM {} WHERE {}{} LIMIT 1").format(
        feature_sql(c, crs, None, False), _table(c), c.of_feature(), extra)
