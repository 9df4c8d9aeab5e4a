"""The load pipeline (quy trình nạp): read → text → map → CRS → checks → write → set checks → report.

Everything that writes happens in ONE transaction on one connection: the staging table (or a province's new
partition) is created in it, filled by COPY batch by batch while the file is streamed, checked, merged, the
lineage row written, and only then COMMIT. A refused file, a bad row found by the database, Ctrl-C or a killed
process therefore leave the database exactly as it was. Loading the same file again (same target, SHA-256 and
options) is a no-op that says so and records a ``noop`` lineage row.

The stages live in their own modules (see :mod:`loaders`); this one runs them: :func:`load`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psycopg

from landdb.admin_units import province_lookup, survey_province_lookup
from landgeo.catalog import get_target
from landgeo.crs.srids import VN2000_GEOGRAPHIC
from landgeo.db.connect import connect
from landgeo.db.worker import DatabaseThread
from landgeo.errors import UserError
from landgeo.target import Target
from landgeo.validation.store import record_load_findings
from loaders.batches import load_batch
from loaders.map import FieldMapping, build_mapping
from loaders.options import MODES, ON_INVALID, LoadOptions, LoadResult, Progress, quiet
from loaders.read import Source, open_source
from loaders.report import RejectsWriter, reasons
from loaders.source_crs import CrsPlan, source_crs
from loaders.text import SourceText
from loaders.write.writers import BulkWriter, MergeWriter, Writer

__all__ = ["LoadOptions", "LoadResult", "load"]

# Batches checked, transformed and encoded at once (shapely, PROJ, numpy and Arrow release the GIL): one core
# is left to PostgreSQL, whose COPY is the slower side of a load once the Python side is vectorised (on the 2-core
# bench machine one worker and two gave the same times; one uses less memory).
WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))
# "almost nothing loaded": the reasons are printed when at least this share of the features was rejected
MOSTLY_REJECTED = 0.5


class AllRejected(UserError):
    """Every feature of the file was rejected: nothing is loaded; the message gives the reasons."""


def load(src: str | Path, options: LoadOptions, progress: Progress = quiet) -> LoadResult:
    """Load ``src`` into ``options.target``; one transaction, all or nothing. See the module docstring."""
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC)
    if options.mode not in MODES:
        raise UserError(f"--mode {options.mode!r}: use one of {', '.join(MODES)}")
    if options.on_invalid not in ON_INVALID:
        raise UserError(f"--on-invalid {options.on_invalid!r}: use repair or reject")
    target = get_target(options.target)
    if options.mode == "upsert" and not target.natural_key:
        raise UserError(f"--mode upsert needs a natural key; {target.id} has none (use append or replace)")
    source = open_source(src, options.layer)
    progress("checksum", 0, None)
    checksum = ThreadPoolExecutor(1, thread_name_prefix="landgeo-sha256")  # hashlib releases the GIL
    sha_future = checksum.submit(source.sha256)
    checksum.shutdown(wait=False)
    where = f"{source.path.name}" + (f" (layer {source.layer})" if source.layer and source.format == "GeoPackage"
                                     else "")
    mapping = build_mapping(target, source.fields, options.mapping)
    plan = source_crs(source.declared_crs, source.prj_text, options.crs, where)
    text = SourceText(source, options.encoding)
    rejects = RejectsWriter(options.rejects, plan.source.code, [f.name for f in target.fields])
    conn = connect(options.database_url)
    try:
        sha = sha_future.result()
    except BaseException:
        conn.close()
        raise
    result = LoadResult("committed", None, Counter(), sha, crs_in=plan.source.code)
    result.notes.append("fields: " + "; ".join(mapping.describe()))
    if mapping.unused:
        kept = "kept in attributes" if target.schema == "geobase" else "not loaded"
        result.notes.append(f"source fields not used ({kept}): {', '.join(mapping.unused)}")
    try:
        batch_id = _begin(conn, target, source, plan, options, mapping, sha, started_at, result)
        if batch_id is None:
            result.seconds = time.monotonic() - started
            return result
        _run(conn, target, source, plan, options, mapping, text, rejects, batch_id, where, progress, result)
    except BaseException as exc:
        if not isinstance(exc, AllRejected):
            rejects.discard()
        try:
            conn.rollback()
        except psycopg.Error:
            pass
        finally:
            conn.close()
        if isinstance(exc, psycopg.Error):
            first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
            raise UserError(f"{where}: the database refused the load, nothing was written ({first})") from exc
        raise
    conn.close()
    result.seconds = time.monotonic() - started
    return result


def _begin(conn, target: Target, source: Source, plan: CrsPlan, options: LoadOptions, mapping: FieldMapping,
           sha: str, started_at: dt.datetime, result: LoadResult) -> int | None:
    """Lock the target, record the lineage row; None (and a ``noop`` row, committed) when the same file was
    already loaded with the same options."""
    identity = options.identity(mapping)
    # one load per target at a time (held to COMMIT), taken before the no-op check so that two runs of the
    # same file cannot both decide to load it
    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"landgeo.load:{target.id}",))
    previous = conn.execute(
        "SELECT id, finished_at FROM meta.load_batch WHERE target = %s AND source_sha256 = %s "
        "AND options = %s::jsonb AND status = 'committed' ORDER BY id DESC LIMIT 1",
        (target.id, sha, json.dumps(identity))).fetchone()
    status, counts = ("noop", {"previous_batch": previous[0]}) if previous else ("committed", {})
    batch_id = conn.execute(
        "INSERT INTO meta.load_batch (target, source_path, source_sha256, source_format, source_layer, "
        "crs_in, crs_out, mode, options, counts, status, started_at) VALUES "
        "(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s) RETURNING id",
        (target.id, str(source.path.resolve()), sha, source.format, source.layer, plan.source.code,
         f"EPSG:{VN2000_GEOGRAPHIC}", options.mode, json.dumps(identity), json.dumps(counts), status,
         started_at)).fetchone()[0]
    result.batch_id = batch_id
    if previous is None:
        return batch_id
    conn.commit()
    result.status, result.previous_batch = "noop", previous[0]
    result.notes.append(f"already loaded as batch {previous[0]} on {previous[1]:%Y-%m-%d %H:%M} "
                        "(same file, target and options): nothing to do")
    return None


def _run(conn, target: Target, source: Source, plan: CrsPlan, options: LoadOptions, mapping: FieldMapping,
         text: SourceText, rejects: RejectsWriter, batch_id: int, where: str, progress: Progress,
         result: LoadResult) -> None:
    """Stream the file into a writer, check, write, record and COMMIT (inside :func:`load`'s error handling)."""
    provinces_of = province_lookup(conn) if target.province_from_commune else {}
    # a source outside TM-3: the legal area is measured in the zone of the province each parcel was surveyed under
    surveyed = survey_province_lookup(conn) if target.computes_legal_area and plan.tm3_srid is None else {}
    mapped = set(mapping.sources) | set(mapping.constants)
    writer: Writer | None = BulkWriter.for_load(conn, target, options, plan, rejects, batch_id, mapped)
    if writer is not None:
        result.notes.append(writer.note)
    else:
        writer = MergeWriter(conn, target, options, plan, rejects, batch_id, where)
    try:
        _write(conn, target, source, plan, options, mapping, text, rejects, batch_id, where, progress, result, writer,
               provinces_of, surveyed)
    except BaseException:
        try:
            conn.rollback()  # first: what the writer made outside the transaction may be locked by it
        except psycopg.Error:
            pass
        try:
            writer.discard()
        except psycopg.Error:
            pass  # a table left behind is dropped by the province's next first load (loaders.write.bulk)
        raise
    writer.close()


def _write(conn, target: Target, source: Source, plan: CrsPlan, options: LoadOptions, mapping: FieldMapping,
           text: SourceText, rejects: RejectsWriter, batch_id: int, where: str, progress: Progress,
           result: LoadResult, writer: Writer, provinces_of: dict[str, str], surveyed: dict[str, str]) -> None:
    counts: Counter = Counter()
    warnings: Counter = Counter()
    timings: dict[str, float] = {}
    copied = _stream(source, target, mapping, plan, text, options, writer, rejects, provinces_of, where,
                     progress, result, counts, warnings, timings, surveyed)
    result.notes.extend(plan.notes)
    result.notes.extend(source.notes)
    progress("checks", 0, None)
    t0 = time.monotonic()
    if writer.rows_left(counts) <= 0:
        _all_rejected(where, counts, rejects)
    findings_by_code = writer.check(counts, timings, copied)
    timings["set_checks"] = time.monotonic() - t0
    progress("merge", 0, None)
    t0 = time.monotonic()
    if writer.rows_left(counts) <= 0:
        _all_rejected(where, counts, rejects)
    writer.commit_rows(counts, timings)
    record_load_findings(conn, target.id, batch_id, _name_file_features(findings_by_code.pop("_findings", [])))
    if options.set_checks == "keys" and target.topology == "parcel-cover":
        result.notes.append(f"checked at load: each feature, and parcel numbers for duplicates; overlaps, gaps, "
                            f"containment and areas: landgeo validate parcels --batch {batch_id} "
                            "(or load with --set-checks all)")
    counts["rejected"] = rejects.count
    counts.pop("rejected_in_set", None)
    timings["finish"] = time.monotonic() - t0
    report = rejects.close()
    summary = dict(counts)
    summary["warnings"] = dict(warnings)
    summary["findings"] = dict(findings_by_code)
    summary["rejects_by_code"] = dict(rejects.by_code)
    summary["seconds"] = {k: round(v, 2) for k, v in timings.items()}
    conn.execute("UPDATE meta.load_batch SET counts = %s::jsonb, finished_at = clock_timestamp() WHERE id = %s",
                 (json.dumps(summary), batch_id))
    conn.commit()
    result.counts = dict(counts)
    result.rejects_path = report
    result.rejects_by_code = dict(rejects.by_code)
    if counts["rejected"] and counts["rejected"] >= MOSTLY_REJECTED * counts["read"]:
        result.reject_reasons = reasons(rejects)
    result.findings_by_code = findings_by_code
    result.warnings_by_code = dict(warnings)
    result.timings = timings


def _stream(source: Source, target: Target, mapping: FieldMapping, plan: CrsPlan, text: SourceText,
            options: LoadOptions, writer: Writer, rejects: RejectsWriter, provinces_of: dict[str, str], where: str,
            progress: Progress, result: LoadResult, counts: Counter, warnings: Counter,
            timings: dict, surveyed: dict[str, str]) -> np.ndarray:
    """Batches checked on the worker threads, written on the database thread, in file order; the file index of
    every row written, in COPY order."""
    copied: list[np.ndarray] = []
    zone_cache: dict[str, int | None] = {}
    total = source.feature_count
    db = DatabaseThread()
    workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="landgeo-load")
    pending: deque = deque()  # (batch start, batch count, future), in file order

    def settle() -> None:
        """Account for the oldest processed batch and hand its rows to the database thread."""
        lo, count, future = pending.popleft()
        outcome = future.result()
        counts["read"] += outcome.read
        counts["repaired"] += outcome.repaired
        warnings.update(outcome.warnings)
        for reject in outcome.rejected:
            rejects.add(*reject)
        copied.append(outcome.sent)
        db.submit(lambda data=outcome.data, rows=len(outcome.sent), lo=lo, hi=lo + count:
                  writer.write(data, rows, lo, hi, timings))
        progress("read", lo + count, total)

    t0 = time.monotonic()
    try:
        for batch in source.batches(options.batch_size):
            if batch.start == 0:
                text.decide(batch)
                result.notes.append(text.note)
            pending.append((batch.start, batch.count, workers.submit(
                load_batch, batch, target, mapping, plan, text, options, writer.encode, provinces_of, zone_cache,
                where, surveyed, writer.summarise)))
            if len(pending) > WORKERS:
                settle()
        while pending:
            settle()
        db.finish()
    except BaseException:
        for _lo, _count, future in pending:
            future.cancel()
        workers.shutdown(wait=True, cancel_futures=True)
        db.abandon()
        raise
    workers.shutdown()
    timings["stream"] = time.monotonic() - t0
    timings["database_busy_while_streaming"] = db.busy
    return np.concatenate(copied) if copied else np.empty(0, dtype=np.int64)


def _name_file_features(findings: list) -> list:
    """Set-based findings of a load name the feature of the file (``details.source_feature``, 1-based), not a
    row id of a table that the load drops or renames."""
    for f in findings:
        f.details = {**f.details, "source_feature": None if f.feature_index is None else f.feature_index + 1}
        f.feature_id = None
    return findings


def _all_rejected(where: str, counts: Counter, rejects: RejectsWriter) -> None:
    """Refuse the load: every feature was rejected. The rejects file is written when one was asked for; the
    message gives the most frequent reasons, with counts and an example each."""
    report = rejects.close()
    rejected = rejects.count
    head = (f"{where}: all {counts['read']} features were rejected; nothing loaded"
            if rejected >= counts["read"] else
            f"{where}: none of the {counts['read']} features could be loaded ({rejected} rejected); nothing loaded")
    tail = f" (rejects written to {report})" if report else " (use --rejects FILE to get them as a layer)"
    raise AllRejected("\n".join([head + tail, *reasons(rejects)]))
