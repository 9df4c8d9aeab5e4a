"""Validation of what is stored (kiểm tra dữ liệu đã lưu): per-feature and set-based checks over a scope,
findings written to ``meta.validation_run`` / ``meta.validation_finding`` (WGS 84 geometry for the map)."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import psycopg
import shapely
from psycopg import sql

import landgeo.validation.reference as reference
from landgeo.catalog import Target, get_target, targets
from landgeo.crs.srids import VN2000_GEOGRAPHIC
from landgeo.errors import UserError
from landgeo.validation.check_codes import Finding
from landgeo.validation.features import check_features, detection_findings
from landgeo.validation.store import write_findings
from landgeo.validation.table import check_table
from landgeo.validation.tolerances import DEFAULT, Tolerances

CHUNK = 20_000
DETECTION_SAMPLE = 20_000


def run_validation(
    conn,
    target: str | None = None,
    province: str | None = None,
    commune: str | None = None,
    batch: int | None = None,
    *,
    tolerances: Tolerances = DEFAULT,
    checks: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
    jobs: int = 1,
    timings: dict[str, float] | None = None,
) -> int:
    """Validate ``target`` (or every target) in the scope, write the findings, return the run id.

    At most one of ``province`` (2-digit code), ``commune`` (5-digit code) and ``batch`` (a load batch id).
    The run and its findings are committed together; the run's ``counts`` hold the number of findings per
    check and severity, the targets validated and the checks that could not run (``skipped``).
    ``jobs`` > 1 runs the heavy set-based statements over that many connections (split by commune), and the
    per-feature checks on one more connection at the same time (so the rows must be committed).
    ``timings``: a dict that receives the seconds of each phase (per-feature checks, each set-based check
    family, writing the findings), summed over the targets.
    """
    spent: dict[str, float] = timings if timings is not None else {}
    say = progress or (lambda _msg: None)
    scope = _scope(conn, province, commune, batch)
    chosen = _targets(conn, target, batch)
    wanted = set(checks) if checks is not None else None
    started = time.monotonic()
    findings: list[Finding] = []
    skipped: list[str] = []
    validated: list[str] = []
    with conn.transaction():
        run_id = conn.execute(
            "INSERT INTO meta.validation_run (target, scope) VALUES (%s, %s) RETURNING id",
            (target, json.dumps(scope)),
        ).fetchone()[0]
        for t in chosen:
            where = _where(conn, t, province, commune, batch)
            if where is None:
                continue
            rel = sql.Identifier(t.schema, t.table)
            if not conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(rel, where)).fetchone()[0]:
                continue
            validated.append(t.id)
            family: dict[str, float] = {}
            if jobs > 1:  # per-feature checks (Python) on their own connection while the database runs the set-based
                say(f"{t.id}: per-feature and set-based checks")
                with ThreadPoolExecutor(1) as pool:
                    feature = pool.submit(_feature_checks_apart, conn, t, where, tolerances, spent)
                    in_sets = check_table(conn, t, t.qualified_table, where, tolerances=tolerances, skipped=skipped,
                                          jobs=jobs, timings=family)
                    found = feature.result() + in_sets
            else:
                say(f"{t.id}: per-feature checks")
                clock = time.monotonic()
                found = _feature_checks(conn, t, where, tolerances)
                _add(spent, "per-feature checks", clock)
                say(f"{t.id}: set-based checks")
                found += check_table(conn, t, t.qualified_table, where, tolerances=tolerances, skipped=skipped,
                                     jobs=jobs, timings=family)
            for name, seconds in family.items():
                spent[name] = spent.get(name, 0.0) + seconds
            if wanted is not None:
                found = [f for f in found if f.code in wanted]
            for f in found:
                f.target = t.id
            say(f"{t.id}: {len(found)} findings")
            findings += found
        say(f"writing {len(findings)} findings")
        clock = time.monotonic()
        write_findings(conn, run_id, findings, batch)
        _add(spent, "writing findings", clock)
        counts = Counter((f.code, f.severity) for f in findings)
        by_check: dict[str, dict[str, int]] = {}
        for (code, severity), n in sorted(counts.items()):
            by_check.setdefault(code, {})[severity] = n
        conn.execute(
            "UPDATE meta.validation_run SET counts = %s, finished_at = now() WHERE id = %s",
            (json.dumps({"total": len(findings), "by_check": by_check, "targets": validated,
                         "skipped": sorted(set(skipped)), "seconds": round(time.monotonic() - started, 2)}), run_id),
        )
    return run_id


def _feature_checks_apart(conn, t: Target, where: sql.Composable, tol: Tolerances,
                          spent: dict[str, float]) -> list[Finding]:
    """:func:`_feature_checks` on a connection of its own (same server and credentials): committed rows only."""
    clock = time.monotonic()
    with psycopg.connect(conn.info.dsn, password=conn.info.password) as own:
        found = _feature_checks(own, t, where, tol)
    _add(spent, "per-feature checks", clock)
    return found


def _add(spent: dict[str, float], name: str, since: float) -> None:
    spent[name] = spent.get(name, 0.0) + time.monotonic() - since


def _scope(conn, province, commune, batch) -> dict[str, Any]:
    given = [k for k, v in (("province", province), ("commune", commune), ("batch", batch)) if v is not None]
    if len(given) > 1:
        raise UserError(f"give at most one of --province, --commune, --batch (got {', '.join(given)})")
    if province is not None and not re.fullmatch(r"\d{2}", str(province)):
        raise UserError(f"province code must be 2 digits, got {province!r}")
    if commune is not None and not re.fullmatch(r"\d{5}", str(commune)):
        raise UserError(f"commune code must be 5 digits, got {commune!r}")
    if batch is not None:
        row = conn.execute("SELECT id FROM meta.load_batch WHERE id = %s", (int(batch),)).fetchone()
        if row is None:
            raise UserError(f"no load batch {batch} in meta.load_batch")
    return {k: v for k, v in (("province", province), ("commune", commune), ("batch", batch)) if v is not None}


def _targets(conn, target: str | None, batch: int | None) -> list[Target]:
    if target is not None:
        found = get_target(target)
        if not found.spatial:
            raise UserError(f"{target} is a register target (no geometry): nothing for validate to check")
        return [found]
    if batch is not None:
        row = conn.execute("SELECT target FROM meta.load_batch WHERE id = %s", (int(batch),)).fetchone()
        known = targets()
        if row and row[0] in known:
            return [known[row[0]]] if known[row[0]].spatial else []
    return [t for t in targets().values() if t.spatial]


def _columns(conn, t: Target) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
        (t.schema, t.table))}


def _where(conn, t: Target, province, commune, batch) -> sql.Composable | None:
    """The scope as a condition on the target's own columns; None when the target is outside the scope."""
    cols = _columns(conn, t)
    if batch is not None:
        return sql.SQL("batch_id = {}").format(sql.Literal(int(batch))) if "batch_id" in cols else None
    if province is not None:
        if t.is_admin_unit:
            return sql.SQL("(code = {p} OR parent_code = {p} OR left(code, 2) = {p} AND level <> 'province' "
                           "AND parent_code IS NULL)").format(p=sql.Literal(province))
        return sql.SQL("province_code = {}").format(sql.Literal(province)) if "province_code" in cols else None
    if commune is not None:
        if "commune_code" in cols:
            return sql.SQL("commune_code = {}").format(sql.Literal(commune))
        if t.is_admin_unit:
            return sql.SQL("code = {}").format(sql.Literal(commune))
        has_geom = conn.execute("SELECT EXISTS (SELECT 1 FROM landdb.admin_unit WHERE level = 'commune' AND code = %s "
                                "AND valid_to IS NULL AND geom IS NOT NULL)", (commune,)).fetchone()[0]
        if not has_geom:
            return None
        return sql.SQL("ST_Intersects(geom, (SELECT geom FROM landdb.admin_unit WHERE level = 'commune' AND code = {} "
                       "AND valid_to IS NULL AND geom IS NOT NULL LIMIT 1))").format(sql.Literal(commune))
    return sql.SQL("TRUE")


def _feature_checks(conn, t: Target, where: sql.Composable, tol: Tolerances) -> list[Finding]:
    """Per-feature checks on stored rows, streamed in chunks that keep a commune together."""
    cols = _columns(conn, t)
    fields = [f.name for f in t.fields if f.name in cols]
    nullable = conn.execute(
        "SELECT is_nullable = 'YES' FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "AND column_name = 'geom'", (t.schema, t.table)).fetchone()
    if nullable and nullable[0]:  # a geometry the table allows to be absent (admin units without a map) is no error
        where = sql.SQL("({}) AND geom IS NOT NULL").format(where)
    group = "commune_code" if "commune_code" in cols else ("province_code" if "province_code" in cols else None)
    order = [sql.Identifier(group)] if group else []
    select = sql.SQL("SELECT id, {prov}, {comm}, {fields}, ST_AsBinary(geom) FROM {rel} WHERE {where} "
                     "ORDER BY {order}").format(
        prov=sql.Identifier("province_code") if "province_code" in cols else sql.SQL("NULL::text"),
        comm=sql.Identifier("commune_code") if "commune_code" in cols else sql.SQL("NULL::text"),
        fields=sql.SQL(", ").join(sql.Identifier(f) for f in fields), rel=sql.Identifier(t.schema, t.table),
        where=where, order=sql.SQL(", ").join([*order, sql.Identifier("id")]))
    # decimal columns (declared areas) as float arrays, NULL as NaN: the rules judge them vectorised (NaN = blank)
    # instead of once per distinct Decimal
    decimal = {r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "AND data_type IN ('numeric', 'real', 'double precision')", (t.schema, t.table))}
    codes = reference.land_use_codes_from_db(conn) or reference.land_use_codes()
    out: list[Finding] = []
    samples: dict[str | None, list[np.ndarray]] = {}
    chunk: list[tuple] = []
    key_at = 1 if group == "province_code" else 2

    def flush() -> None:
        if not chunk:
            return
        ids = [r[0] for r in chunk]
        geoms = shapely.from_wkb([r[-1] for r in chunk])
        attrs = {name: np.array([r[3 + i] for r in chunk], dtype=np.float64) if name in decimal
                 else [r[3 + i] for r in chunk] for i, name in enumerate(fields)}
        for f in check_features(t, geoms, attrs, crs=VN2000_GEOGRAPHIC, land_use_codes=codes, detect=False,
                                tolerances=tol):
            if f.feature_index is None:
                continue  # dataset-level findings of a chunk (required column absent) are not about stored rows
            row = chunk[f.feature_index]
            f.feature_id, f.feature_index = str(ids[f.feature_index]), None
            f.province_code, f.commune_code = row[1], row[2]
            out.append(f)
        for prov in {r[1] for r in chunk}:
            held = samples.setdefault(prov, [])
            if sum(len(a) for a in held) < DETECTION_SAMPLE:
                pts = shapely.get_coordinates(shapely.point_on_surface(
                    geoms[[i for i, r in enumerate(chunk) if r[1] == prov]]))
                held.append(pts[np.isfinite(pts).all(axis=1)])
        chunk.clear()

    with conn.cursor(name=f"validate_{t.table}") as cur:
        cur.itersize = CHUNK
        cur.execute(select, binary=True)  # geometries as bytes, numbers and arrays without text parsing
        last_key = None
        for row in cur:
            key = row[key_at] if group else None
            if len(chunk) >= CHUNK and key != last_key:
                flush()
            chunk.append(row)
            last_key = key
        flush()
    for prov, arrays in samples.items():
        pts = np.concatenate(arrays) if arrays else np.empty((0, 2))
        if len(pts):
            extent = shapely.box(*pts.min(axis=0), *pts.max(axis=0))  # dataset-level: shown as its extent
            for f in detection_findings(pts, VN2000_GEOGRAPHIC, prov):
                f.province_code, f.target, f.geometry = prov, t.id, extent
                out.append(f)
    return out


def run_summary(conn, run_id: int) -> list[tuple[str, str, int]]:
    """(check code, severity, count) of a run's findings, most severe first."""
    return conn.execute(
        """SELECT check_code, severity, count(*) FROM meta.validation_finding WHERE run_id = %s
           GROUP BY 1, 2 ORDER BY array_position(ARRAY['error', 'warning', 'info'], severity), 1""",
        (run_id,)).fetchall()
