"""The loaders' set-based checks after a write on a map sheet or a base-geography feature (kiểm tra tập hợp).

The target's catalogue entry names its set-based checks (``Target.topology``: ``sheet-cover`` for map sheets —
current sheets of one commune and scale do not overlap —, ``network`` for roads, railways and hydrography — line
ends that should connect —, ``boundary-lines``); :func:`landgeo.validation.check_table` runs them here, in the
write's transaction, on a temporary neighbourhood: the versions just written and the current features whose
bounding boxes come within ``REACH_DEG`` of them, so a write costs the same on a national table as on a small one.
Findings name features (their feature id, ``coalesce(feature_id, id)``); an error refuses the write (422).
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from landgeo.register.checks import as_json
from landgeo.target import Target
from landgeo.validation import check_table

NEIGHBOURHOOD = "pg_temp.feature_check"
REACH_DEG = 0.001  # ≈ 110 m: more than the widest search distance of the checks (dangles: 10 m)


def _neighbourhood(conn: psycopg.Connection, target: Target, ids: list[int]) -> None:
    table = sql.Identifier(target.schema, target.table)
    conn.execute(f"DROP TABLE IF EXISTS {NEIGHBOURHOOD}")
    conn.execute(sql.SQL("CREATE TEMP TABLE feature_check ON COMMIT DROP AS SELECT *, coalesce(feature_id, id) AS fid "
                         "FROM {} WHERE id = ANY(%s) AND valid_to IS NULL").format(table), (ids,))
    conn.execute(sql.SQL(
        "INSERT INTO {n} SELECT DISTINCT ON (p.id) p.*, coalesce(p.feature_id, p.id) FROM (SELECT geom FROM {n} "
        "WHERE id = ANY(%s)) w JOIN {t} p ON p.geom && ST_Expand(w.geom, %s) WHERE p.valid_to IS NULL "
        "AND NOT p.id IN (SELECT id FROM {n})").format(n=sql.SQL(NEIGHBOURHOOD), t=table), (ids, REACH_DEG))
    conn.execute(f"ANALYZE {NEIGHBOURHOOD}")


def set_pass(conn: psycopg.Connection, target: Target, ids: Iterable[int]) -> list[dict]:
    """Set-based findings about the versions ``ids`` just written (none when the target names no checks)."""
    ids = sorted(set(ids))
    if not target.topology or not ids:
        return []
    _neighbourhood(conn, target, ids)
    where = sql.SQL("id = ANY({})").format(sql.Literal(ids))
    found = check_table(conn, target, NEIGHBOURHOOD, where, id_column="fid")
    wanted = {str(r[0]) for r in conn.execute(f"SELECT fid FROM {NEIGHBOURHOOD} WHERE id = ANY(%s)", (ids,))}
    return [as_json(f, {"crs": "http://www.opengis.net/def/crs/EPSG/0/4756"}) for f in found
            if str(f.feature_id) in wanted or str((f.details or {}).get("other_id", "")) in wanted]
