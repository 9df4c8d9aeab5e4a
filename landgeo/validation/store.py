"""The one writer of ``meta.validation_run`` / ``meta.validation_finding`` (kết quả kiểm tra).

Every finding recorded anywhere — ``landgeo validate`` (:mod:`landgeo.validation.runner`) and the set-based checks
of a load (:mod:`loaders.write.writers`) — goes through :func:`write_findings`, so both record the same way: details as
JSON with non-ASCII text kept and numpy/other values made plain, an absent or EMPTY geometry stored as NULL,
geometries in VN-2000 geographic (EPSG:4756) turned into the WGS 84 the table holds by the official operation.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely

from landgeo.crs.srids import VN2000_GEOGRAPHIC
from landgeo.validation.check_codes import Finding


def write_findings(conn, run_id: int, findings: Iterable[Finding], batch_id: int | None = None) -> int:
    """COPY ``findings`` (geometries in EPSG:4756) into meta.validation_finding for ``run_id``; their count."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS _finding_in (check_code text, severity text, target text, "
                 "feature_id text, province_code text, commune_code text, message_vi text, message_en text, "
                 "details jsonb, wkb bytea) ON COMMIT DROP")
    conn.execute("TRUNCATE _finding_in")
    with conn.cursor().copy("COPY _finding_in FROM STDIN") as copy:
        for f in findings:
            copy.write_row((f.code, f.severity, f.target, f.feature_id, f.province_code, f.commune_code,
                            f.message_vi, f.message_en, json.dumps(jsonable(f.details), ensure_ascii=False),
                            geometry_wkb(f.geometry)))
    return conn.execute(
        """INSERT INTO meta.validation_finding (run_id, batch_id, check_code, severity, target, feature_id,
                                                province_code, commune_code, message_vi, message_en, details, geom)
           SELECT %s, %s, check_code, severity, target, feature_id, province_code, commune_code, message_vi,
                  message_en, details, meta.vn2000_to_wgs84(ST_SetSRID(ST_GeomFromWKB(wkb), %s))
           FROM _finding_in""",
        (run_id, batch_id, VN2000_GEOGRAPHIC),
    ).rowcount


def record_load_findings(conn, target_id: str, batch_id: int, findings: list[Finding]) -> int | None:
    """The set-based findings of a load as a validation run of its batch (scope ``{"batch_id", "stage": "load"}``);
    the run id, or None when there is nothing to record."""
    if not findings:
        return None
    for f in findings:
        f.target = f.target or target_id
    run_id = conn.execute("INSERT INTO meta.validation_run (target, scope, counts, finished_at) VALUES "
                          "(%s, %s::jsonb, %s::jsonb, clock_timestamp()) RETURNING id",
                          (target_id, json.dumps({"batch_id": batch_id, "stage": "load"}),
                           json.dumps(dict(Counter(f.code for f in findings))))).fetchone()[0]
    write_findings(conn, run_id, findings, batch_id)
    return run_id


def geometry_wkb(geometry: Any) -> bytes | None:
    """WKB of a finding's geometry; None when there is none or it is empty (stored as NULL, not as EMPTY)."""
    if geometry is None or shapely.is_empty(geometry):
        return None
    return shapely.to_wkb(geometry)


def jsonable(value: Any) -> Any:
    """``value`` with numpy scalars, tuples, sets and other objects turned into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
