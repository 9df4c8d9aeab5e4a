"""The load pipeline (quy trình nạp): read → encoding → map → CRS → validate → stage → merge → report.

Everything that writes happens in ONE transaction on one connection: the staging table is created in it,
filled by COPY batch by batch while the file is streamed, checked, merged, the lineage row written, the
staging table dropped, and only then COMMIT. A refused file, a bad row found by the database, Ctrl-C or a
killed process therefore leave the database exactly as it was. Loading the same file again (same target,
SHA-256 and options) is a no-op that says so and records a ``noop`` lineage row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from psycopg import sql

from landgeo.catalog import get_target
from landgeo.db.connect import connect
from landgeo.errors import UserError
from landgeo.validation.features import Factorized
from loaders import bulk, ewkb
from loaders import encoding as enc
from loaders.crs import CANONICAL_SRID, CrsPlan, check_coordinates, source_crs
from loaders.map import FieldMapping, build_mapping, convert
from loaders.merge import Merger, set_checks, take_rejects
from loaders.read import Batch, Source, open_source
from loaders.report import RejectsWriter
from loaders.stage import StagingTable
from loaders.validate import Reject, check_batch

MODES = ("append", "replace", "upsert")
ON_INVALID = ("repair", "reject")
# Set-based findings that reject features (integrity of the merge); the others are recorded as findings.
REJECTING_SET_CHECKS = ("attr.parcel_number_duplicate",)

Progress = Callable[[str, int, int | None], None]  # (stage, done, total)
# Batches checked, transformed and encoded at once (shapely, PROJ, numpy and Arrow release the GIL): one core
# is left to PostgreSQL, whose COPY is the slower side of a load once the Python side is vectorised (on the 2-core
# bench machine one worker and two gave the same times; one uses less memory).
WORKERS = max(1, min(4, (os.cpu_count() or 2) - 1))


@dataclass
class LoadOptions:
    """What ``landgeo load`` was asked to do."""

    target: str
    layer: str | None = None
    crs: str | None = None
    force_crs: bool = False
    mapping: str | Path | None = None
    mode: str = "append"
    on_invalid: str = "reject"
    rejects: str | Path | None = None
    encoding: str | None = None
    province: str | None = None
    batch_size: int = 32768
    set_checks: str = "keys"  # keys (natural-key duplicates) | all (every set-based check of landgeo.validation)
    database_url: str | None = None

    def identity(self, mapping: FieldMapping) -> dict:
        """The options that make two loads of the same file the same load (stored in load_batch.options)."""
        return {
            "mode": self.mode, "layer": self.layer, "crs": self.crs, "force_crs": self.force_crs,
            "mapping_sha256": hashlib.sha256(mapping.mapping_text.encode()).hexdigest() if mapping.mapping_text
            else None, "on_invalid": self.on_invalid, "encoding": self.encoding, "province": self.province,
            "set_checks": self.set_checks,
        }


@dataclass
class LoadResult:
    status: str  # committed | noop
    batch_id: int | None
    counts: dict[str, int]
    sha256: str
    crs_in: str | None = None
    crs_out: str = f"EPSG:{CANONICAL_SRID}"
    rejects_path: Path | None = None
    rejects_by_code: dict[str, int] = field(default_factory=dict)
    findings_by_code: dict[str, int] = field(default_factory=dict)
    warnings_by_code: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    previous_batch: int | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _quiet(stage: str, done: int, total: int | None) -> None:
    return None


class _Text:
    """Decodes a source's text columns: DBF bytes by the chosen encoding, Unicode files to NFC."""

    def __init__(self, source: Source, requested: str | None) -> None:
        self.source = source
        self.requested = enc.canonical(requested) if requested else None
        if requested and self.requested is None:
            raise UserError(f"unknown --encoding {requested!r}; use utf-8, tcvn3, vni, cp1258 or latin1")
        self.name: str | None = None  # decided on the first batch
        self.note = ""
        self._decode = None

    def decide(self, batch: Batch) -> None:
        strings = []
        for arr in batch.columns.values():
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                strings += [s for s in arr.drop_null().to_pylist()[:5000] if s]
        where = self.source.path.name
        if self.source.dbf:
            raws = [s.encode("latin1") for s in strings]
            found = enc.detect(raws)
            declared = enc.canonical(self.source.cpg_text) if self.source.cpg_text else None
            if self.requested:
                chosen, how = self.requested, "--encoding"
            elif declared and declared not in ("latin1", "cp1252", "ascii"):
                chosen, how = declared, ".cpg"
            elif found.encoding in enc.LEGACY or found.encoding == "utf-8":
                chosen, how = found.encoding, "detected"
            else:
                chosen, how = declared or "latin1", ".cpg" if declared else "default"
            decode = enc.decoder(chosen)
            bad = self._first_undecodable(raws, decode)
            if bad is not None:
                hint = f"; the bytes look like {found.label}, try --encoding {found.encoding}" \
                    if found.encoding not in (chosen, "latin1", "ascii") else ""
                raise UserError(f"{where}: text is not valid {enc.LABELS.get(chosen, chosen)} ({how}): "
                                f"{bad!r}{hint}")
            if how in (".cpg", "--encoding") and chosen in ("utf-8",) and found.encoding in enc.LEGACY:
                raise UserError(f"{where}: text decodes as {enc.LABELS[chosen]} ({how}) but reads as "
                                f"{found.label}; pass --encoding {found.encoding}")
            if how == "detected" and declared and declared != chosen:
                how = f"detected; the .cpg says {self.source.cpg_text}, which the bytes contradict"
            self.name = chosen
            self._decode = lambda s, d=decode: d(s.encode("latin1"))
            accented = [self._decode(s) for s in strings if not s.isascii()][:2000]
            valid, total = enc.vietnamese_score(accented)
            if found.encoding == "ascii":
                self.note = "text is plain ASCII"
            else:
                self.note = f"text decoded from {enc.LABELS.get(chosen, chosen)} ({how}; {valid}/{total} " \
                            "accented words are valid Vietnamese) to Unicode NFC"
            return
        if self.requested and self.requested in enc.LEGACY:
            self.name = self.requested
            decode = enc.decoder(self.requested)
            self._decode = lambda s, d=decode: d(s.encode("latin1", errors="strict"))
            self.note = f"text decoded from {enc.LABELS[self.requested]} (--encoding) to Unicode NFC"
            return
        mojibake = enc.looks_mojibake(strings)
        if mojibake is not None:
            decode = enc.decoder(mojibake.encoding)
            self.name = mojibake.encoding
            self._decode = lambda s, d=decode: d(s.encode("latin1")) if not s.isascii() else s
            self.note = (f"text was {mojibake.label} bytes stored as Latin-1 characters ({mojibake.valid_words}/"
                         f"{mojibake.words} words valid once re-read): converted to Unicode NFC")
            return
        self.name = "utf-8"
        self._decode = None
        self.note = "text is Unicode (normalised to NFC)" if any(not s.isascii() for s in strings) else \
            "text is plain ASCII"

    @staticmethod
    def _first_undecodable(raws: list[bytes], decode) -> bytes | None:
        for raw in raws:
            try:
                decode(raw)
            except UnicodeDecodeError:
                return raw
        return None

    def __call__(self, arr: pa.Array) -> pa.Array:
        """The column as Unicode NFC. Work is done once per distinct value (codes, place names and land-use
        classes repeat through a file: a 65 536-row batch of them normalises in 1 ms instead of 12)."""
        if arr.null_count == len(arr) or pc.all(pc.string_is_ascii(arr)).as_py() is not False:
            return arr  # ASCII is NFC, and reads the same in every encoding offered
        encoded = arr.dictionary_encode()
        values = encoded.dictionary
        if self._decode is None:
            return pc.utf8_normalize(values, "NFC").take(encoded.indices)
        out = []
        for s in values.to_pylist():
            if s.isascii():
                out.append(s)
                continue
            try:
                out.append(self._decode(s))
            except UnicodeDecodeError as exc:
                raise UserError(f"{self.source.path.name}: text {s.encode('latin1', 'replace')!r} is not valid "
                                f"{enc.LABELS.get(self.name, self.name)}; pass the right --encoding") from exc
        return pa.array(out, pa.string()).take(encoded.indices)


class _DatabaseThread:
    """Runs the load's database work (COPY, per-batch merge) on its own thread, one task at a time.

    The connection is used by this thread only while the file streams, so Python's checks of batch k + 1 run
    while PostgreSQL writes batch k. At most ``depth`` tasks wait: memory stays bounded. The first error
    stops the work and is raised in the loading thread.
    """

    def __init__(self, depth: int = 2) -> None:
        self.tasks: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.busy = 0.0
        self.thread = threading.Thread(target=self._run, name="landgeo-load-db", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            if self.error is not None:
                continue
            t0 = time.monotonic()
            try:
                task()
            except BaseException as exc:  # noqa: BLE001 - handed to the loading thread
                self.error = exc
            self.busy += time.monotonic() - t0

    def submit(self, task) -> None:
        if self.error is not None:
            raise self.error
        self.tasks.put(task)

    def finish(self) -> None:
        """Wait for every task; raise the first error."""
        self.tasks.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error

    def abandon(self) -> None:
        """Stop after the running task (on an error or Ctrl-C in the loading thread)."""
        self.error = self.error or RuntimeError("load abandoned")
        try:
            while True:
                self.tasks.get_nowait()
        except queue.Empty:
            pass
        self.tasks.put(None)
        self.thread.join()


def _province_lookup(conn) -> dict[str, str]:
    """Commune code of either generation -> current province code: a current commune's province (directly, or via
    its district), an old commune's new province through the official 2025 crosswalk. A code the two generations
    place in different provinces is left out: --province decides it."""
    rows = conn.execute("""
        SELECT code, min(province) FROM (
            SELECT c.code, CASE WHEN p.level = 'province' THEN p.code ELSE p.parent_code END AS province
            FROM landdb.admin_unit c
            LEFT JOIN landdb.admin_unit p ON p.code = c.parent_code AND p.level IN ('province', 'district')
                 AND p.valid_to IS NULL
            WHERE c.level = 'commune' AND c.valid_to IS NULL AND c.parent_code IS NOT NULL
            UNION ALL
            SELECT old_code, new_province_code FROM landdb.admin_crosswalk_2025
            UNION ALL  -- old communes the crosswalk lacks: their old province went whole into one new province
            SELECT c.code, pc.new_province_code FROM landdb.admin_unit c
            JOIN landdb.admin_unit d ON d.level = 'district' AND d.code = c.parent_code AND d.valid_from = c.valid_from
            JOIN (SELECT DISTINCT old_province_code, new_province_code FROM landdb.admin_crosswalk_2025) pc
                 ON pc.old_province_code = d.parent_code
            WHERE c.level = 'commune' AND c.valid_to IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM landdb.admin_crosswalk_2025 x WHERE x.old_code = c.code)
        ) s WHERE province IS NOT NULL GROUP BY code HAVING count(DISTINCT province) = 1""").fetchall()
    return dict(rows)


def load(src: str | Path, options: LoadOptions, progress: Progress = _quiet) -> LoadResult:
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
    text = _Text(source, options.encoding)
    identity = options.identity(mapping)
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
        # one load per target at a time (held to COMMIT), taken before the no-op check so that two runs of the
        # same file cannot both decide to load it
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"landgeo.load:{target.id}",))
        previous = conn.execute(
            "SELECT id, finished_at FROM meta.load_batch WHERE target = %s AND source_sha256 = %s "
            "AND options = %s::jsonb AND status = 'committed' ORDER BY id DESC LIMIT 1",
            (target.id, sha, json.dumps(identity))).fetchone()
        if previous:
            batch_id = conn.execute(
                "INSERT INTO meta.load_batch (target, source_path, source_sha256, source_format, source_layer, "
                "crs_in, crs_out, mode, options, counts, status, started_at) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, 'noop', %s) RETURNING id",
                (target.id, str(source.path.resolve()), sha, source.format, source.layer, plan.source.code,
                 f"EPSG:{CANONICAL_SRID}", options.mode, json.dumps(identity),
                 json.dumps({"previous_batch": previous[0]}), started_at)).fetchone()[0]
            conn.commit()
            result.status, result.batch_id, result.previous_batch = "noop", batch_id, previous[0]
            result.notes.append(f"already loaded as batch {previous[0]} on {previous[1]:%Y-%m-%d %H:%M} "
                                "(same file, target and options): nothing to do")
            result.seconds = time.monotonic() - started
            return result
        provinces_of = _province_lookup(conn) if "province_code" in {f.name for f in target.fields} else {}
        batch_id = conn.execute(
            "INSERT INTO meta.load_batch (target, source_path, source_sha256, source_format, source_layer, crs_in, "
            "crs_out, mode, options, counts, status, started_at) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, '{}'::jsonb, 'committed', %s) RETURNING id",
            (target.id, str(source.path.resolve()), sha, source.format, source.layer, plan.source.code,
             f"EPSG:{CANONICAL_SRID}", options.mode, json.dumps(identity), started_at)).fetchone()[0]
        parcels = target.id == "parcels"
        fresh = None
        mapped = set(mapping.sources) | set(mapping.constants)
        if bulk.fits(target, mapped, options.province):
            partition = bulk.empty_partition(conn, options.province)
            if partition:
                fresh = bulk.FreshPartition(conn, options.province, partition, batch_id, plan.srid,
                                            dated=bool(mapped & bulk.DATES.keys()))
                fresh.create()
                now = conn.execute("SELECT now()").fetchone()[0]
                result.notes.append(f"first load of province {options.province}: parcels built as a new "
                                    f"landdb.{partition} and attached in place of the empty one")
        if fresh is None:
            staging = StagingTable(conn, target, extra={"area_srid": "integer"} if parcels else None,
                                   derived=parcels)
            staging.create()
            merger = Merger(conn, staging, target, options.mode, batch_id, plan.srid)

            def encode(src_index, kept, geometry, attributes):
                return staging.encode(src_index, kept, geometry, attributes)
        else:
            def encode(src_index, kept, geometry, attributes):
                return fresh.encode(kept, geometry, now=now)
        incremental = options.mode in ("append", "replace")
        copied: list[np.ndarray] = []  # file index of every row sent, in COPY order
        counts: Counter = Counter()
        warnings: Counter = Counter()
        timings: dict[str, float] = {}
        zone_cache: dict[str, int | None] = {}
        total = source.feature_count
        db = _DatabaseThread()
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

            def task(data=outcome.data, rows=len(outcome.sent), lo=lo, hi=lo + count) -> None:
                t = time.monotonic()
                (fresh or staging).write(data, rows)
                timings["copy"] = timings.get("copy", 0.0) + time.monotonic() - t
                if fresh is None and incremental and rows:
                    t = time.monotonic()
                    merger.merge_range(lo, hi)
                    timings["merge"] = timings.get("merge", 0.0) + time.monotonic() - t

            db.submit(task)
            progress("read", lo + count, total)

        t0 = time.monotonic()
        try:
            for batch in source.batches(options.batch_size):
                if batch.start == 0:
                    text.decide(batch)
                    result.notes.append(text.note)
                pending.append((batch.start, batch.count, workers.submit(
                    _load_batch, batch, target, mapping, plan, text, options, encode, provinces_of, zone_cache,
                    where)))
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
        result.notes.extend(plan.notes)
        result.notes.extend(source.notes)
        progress("checks", 0, None)
        t0 = time.monotonic()
        if fresh is not None:
            if fresh.rows == 0:
                _all_rejected(where, counts, options)
            findings_by_code = _fresh_stage(fresh, conn, target, options, plan, rejects, counts,
                                            np.concatenate(copied), timings)
            timings["set_checks"] = time.monotonic() - t0
            progress("merge", 0, None)
            t0 = time.monotonic()
            if fresh.rows <= 0:
                _all_rejected(where, counts, options)
            t = time.monotonic()
            fresh.attach()
            timings.update(fresh.timings)
            timings["attach"] = time.monotonic() - t
            counts.update({"inserted": fresh.rows, "updated": 0, "unchanged": 0, "closed": 0})
        else:
            findings_by_code = _set_stage(conn, staging, target, options, plan, rejects, counts, merger)
            timings["set_checks"] = time.monotonic() - t0
            progress("merge", 0, None)
            t0 = time.monotonic()
            if staging.rows - counts["rejected_in_set"] <= 0:
                _all_rejected(where, counts, options)
            if not incremental:
                merger.upsert()
            counts.update(merger.counts)
            expected = staging.rows - counts["rejected_in_set"]
            if incremental and merger.counts["inserted"] != expected:
                raise UserError(f"{where}: {expected - merger.counts['inserted']} features clash with other features "
                                "of the file or with current versions in the database; nothing loaded")
            staging.drop()
        _store_findings(conn, target, batch_id, findings_by_code.pop("_findings", []))
        if options.set_checks == "keys" and target.id == "parcels":
            result.notes.append(f"checked at load: each feature, and parcel numbers for duplicates; overlaps, gaps, "
                                f"containment and areas: landgeo validate parcels --batch {batch_id} "
                                "(or load with --set-checks all)")
        counts["rejected"] = rejects.count
        counts.pop("rejected_in_set", None)
        timings["finish"] = time.monotonic() - t0
        report = rejects.close()
        summary = dict(counts)
        summary["warnings"] = dict(warnings)
        summary["findings"] = {k: v for k, v in findings_by_code.items()}
        summary["rejects_by_code"] = dict(rejects.by_code)
        summary["seconds"] = {k: round(v, 2) for k, v in timings.items()}
        conn.execute("UPDATE meta.load_batch SET counts = %s::jsonb, finished_at = clock_timestamp() WHERE id = %s",
                     (json.dumps(summary), batch_id))
        conn.commit()
    except BaseException as exc:
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
    result.batch_id = batch_id
    result.counts = dict(counts)
    result.rejects_path = report
    result.rejects_by_code = dict(rejects.by_code)
    result.findings_by_code = findings_by_code
    result.warnings_by_code = dict(warnings)
    result.timings = timings
    result.seconds = time.monotonic() - started
    return result


@dataclass
class _Outcome:
    """What one batch gave: COPY data, the file index of each row in it, and what to count and report."""

    data: bytes | memoryview
    sent: np.ndarray
    read: int
    repaired: int = 0
    warnings: Counter = field(default_factory=Counter)
    rejected: list[tuple] = field(default_factory=list)  # arguments of RejectsWriter.add


def _load_batch(batch: Batch, target, mapping: FieldMapping, plan: CrsPlan, text: _Text, options: LoadOptions,
                encode: Callable, provinces_of: dict[str, str], zone_cache: dict, where: str) -> _Outcome:
    """Convert, check, transform and encode one batch. Touches no shared state (runs on the worker threads)."""
    n = batch.count
    converted = convert(mapping, batch.columns, n, text)
    cols = converted.columns
    extra: dict[int, Reject] = {}
    for row, name, value, rule in converted.problems:
        if row not in extra:
            extra[row] = Reject(batch.start + row, "attr.domain", f"field {name} = {value!r}: {rule}")
    if target.id in ("parcels", "map-sheets"):
        cols["province_code"] = _fill_province(cols, n, options.province, provinces_of, extra, batch.start)
    elif options.province and any(f.name == "province_code" for f in target.fields):
        cols["province_code"] = _province_or_option(cols, n, options.province)
    geoms = shapely.from_wkb(batch.geometry, on_invalid="ignore")
    if batch.start == 0:
        province = options.province or _most_common(cols.get("province_code"))
        check_coordinates(plan, geoms, province, options.force_crs, where)
    attrs = {name: _python_values(arr) for name, arr in cols.items()}
    verdict = check_batch(target, geoms, attrs, crs=plan.source.to_pyproj() if hasattr(plan.source, "to_pyproj")
                          else plan.srid, on_invalid=options.on_invalid, start=batch.start, extra=extra)
    out = _Outcome(b"", np.empty(0, dtype=np.int64), n, verdict.repaired, verdict.warnings)
    keep = np.ones(n, dtype=bool)
    for i, reason in sorted(verdict.rejected.items()):
        keep[i] = False
        out.rejected.append((reason.index, reason.code, reason.message, geoms[i],
                             {k: _value(v, i) for k, v in cols.items()}))
    if not keep.any():
        return out
    idx = np.flatnonzero(keep)
    kept = {k: v.take(pa.array(idx)) for k, v in cols.items()}
    accepted = verdict.geoms[idx]
    parts = ewkb.decompose(accepted, target.geometry_type)
    parcels = target.id == "parcels"
    canonical, wgs84 = _vertices(plan, parts, parcels)
    geometry = {"geom": ewkb.encode(parts, CANONICAL_SRID, canonical)}
    if parcels:
        kept["area_srid"] = _area_srids(plan, kept.get("province_code"), zone_cache)
        kept["computed_area"] = _legal_area(plan, accepted, kept["area_srid"], canonical)
        geometry["geom_wgs84"] = ewkb.encode(parts, 4326, wgs84)
    out.data = encode(idx + batch.start, kept, geometry, converted.attributes.take(pa.array(idx))
                      if converted.attributes is not None else None)
    out.sent = idx + batch.start
    return out


def _vertices(plan: CrsPlan, parts: ewkb.Parts, wgs84: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """:meth:`CrsPlan.vertices` of a batch, each distinct vertex transformed once. Neighbouring parcels share
    their corners and a ring repeats its first vertex: in a cadastral batch a fifth of the coordinates are
    distinct (Arrow's hash of the 16 bytes of each point finds them in a few milliseconds); the same PROJ
    operation on the same input gives the same output, so nothing changes but the time."""
    xy = np.ascontiguousarray(parts.coords, dtype=np.float64)
    if len(xy) < 1024:
        return plan.vertices(xy, wgs84=wgs84)
    points = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(xy), [None, pa.py_buffer(xy)])
    encoded = points.dictionary_encode()
    distinct = np.frombuffer(encoded.dictionary.buffers()[1], dtype=np.float64).reshape(-1, 2)
    index = encoded.indices.to_numpy()
    return tuple(None if arr is None else arr[index] for arr in plan.vertices(distinct, wgs84=wgs84))


def _legal_area(plan: CrsPlan, geoms: np.ndarray, area_srids: pa.Array, canonical: np.ndarray) -> pa.Array:
    """Area in the TM-3 plane of each parcel's ``area_srid``, m² rounded to 2 decimals (what trigger
    landdb.parcel_derive would store): from the source coordinates when the file is in that plane, else from
    the VN-2000 coordinates projected into it."""
    srids = area_srids.to_numpy(zero_copy_only=False)
    if plan.tm3_srid and (srids == plan.tm3_srid).all():
        return pa.array(np.round(shapely.area(geoms), 2))
    from landgeo.crs import transform

    planar = shapely.set_coordinates(geoms.copy(), canonical)  # new geometries; the caller's stay as they are
    area = np.full(len(geoms), np.nan)
    for srid in np.unique(srids[~np.isnan(srids.astype(float))]).astype(int):
        rows = np.flatnonzero(srids == srid)

        def to_plane(xy: np.ndarray, srid: int = int(srid)) -> np.ndarray:
            x, y = transform(CANONICAL_SRID, srid, xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        area[rows] = shapely.area(shapely.transform(planar[rows], to_plane))
    return pa.array(np.round(area, 2), mask=np.isnan(area))


def _all_rejected(where: str, counts: Counter, options: LoadOptions) -> None:
    raise UserError(f"{where}: all {counts['read']} features were rejected; nothing loaded"
                    + (f" (see {options.rejects})" if options.rejects else " (use --rejects FILE to see why)"))


def _python_values(arr: pa.Array) -> np.ndarray | list:
    """A column as the checks take it: numbers as a numpy array; text and lists of text as a
    :class:`~landgeo.validation.features.Factorized` object array from Arrow's dictionary encoding (one Python
    object per distinct value, and the checks judge each distinct value once)."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_list(arr.type)):
        return arr.to_numpy(zero_copy_only=False)
    empty = None
    if pa.types.is_list(arr.type):
        items = pc.list_flatten(arr)
        if not pa.types.is_string(items.type) or items.null_count or pc.any(pc.match_substring(items, "\x1f")
                                                                           ).as_py():
            return arr.to_pylist()
        encoded = pc.binary_join(arr, "\x1f").dictionary_encode()  # list<string> -> one string a row
        distinct: list = [s.split("\x1f") for s in encoded.dictionary.to_pylist()]
        empty = pc.fill_null(pc.list_value_length(arr), 1).to_numpy(zero_copy_only=False) == 0
    else:
        encoded = arr.dictionary_encode()
        distinct = encoded.dictionary.to_pylist()
    codes = pc.fill_null(encoded.indices, len(distinct)).to_numpy(zero_copy_only=False).astype(np.intp)
    if encoded.indices.null_count:
        distinct.append(None)
    if empty is not None and empty.any():  # [] joins to '' as [''] does: [] gets a value of its own
        distinct.append([])
        codes[empty] = len(distinct) - 1
    return Factorized.of(distinct, codes)


def _value(arr: pa.Array, i: int):
    return arr[i].as_py()


def _most_common(arr: pa.Array | None) -> str | None:
    if arr is None or arr.null_count == len(arr):
        return None
    counts = pc.value_counts(arr.drop_null())
    best = max(counts.to_pylist(), key=lambda d: d["counts"])
    return best["values"]


def _province_or_option(cols: dict, n: int, option: str | None) -> pa.Array:
    """province_code from the file/mapping, its gaps filled with --province when given."""
    current = cols.get("province_code")
    if current is None:
        current = pa.nulls(n, pa.string())
    return pc.fill_null(current, option) if option else current


def _fill_province(cols: dict, n: int, option: str | None, provinces_of: dict[str, str], extra: dict,
                   start: int) -> pa.Array:
    """province_code from the file/mapping, else --province, else the commune's province in admin_unit."""
    current = _province_or_option(cols, n, option)
    if current.null_count == 0:
        return current
    communes = cols.get("commune_code")
    values = current.to_pylist()
    commune_values = communes.to_pylist() if communes is not None else [None] * n
    for i, v in enumerate(values):
        if v is None:
            found = provinces_of.get(commune_values[i]) if commune_values[i] else None
            values[i] = found
            if found is None and i not in extra:
                extra[i] = Reject(start + i, "attr.required_missing",
                                  f"no province for commune {commune_values[i]}: not an official commune code of "
                                  "either generation (nor a unit in admin-units), or one placed in two provinces; "
                                  "pass --province or a province_code constant")
    return pa.array(values, pa.string())


def _area_srids(plan: CrsPlan, provinces: pa.Array | None, cache: dict) -> pa.Array:
    """The TM-3 SRID where each parcel's legal area is measured: the source's, or its province's zone."""
    if plan.tm3_srid:
        return pa.array(np.full(len(provinces) if provinces is not None else 0, plan.tm3_srid, dtype=np.int32))
    from landgeo.crs import province_zone

    out = []
    for code in provinces.to_pylist():
        if code not in cache:
            try:
                cache[code] = province_zone(code).srid
            except UserError:
                cache[code] = None
        out.append(cache[code])
    return pa.array(out, pa.int32())


def _set_stage(conn, staging: StagingTable, target, options: LoadOptions, plan: CrsPlan, rejects: RejectsWriter,
               counts: Counter, merger: Merger) -> dict:
    """Set-based checks on the staging table; rejecting ones become rejects (taken back out of the target if
    already merged), the others findings."""
    findings = set_checks(conn, staging, target, options.mode, options.set_checks, REJECTING_SET_CHECKS)
    merger.take_back()
    rows = take_rejects(conn, staging)
    counts["rejected_in_set"] = len(rows)
    _report_rejects(rows, plan, rejects)
    return _by_code(findings)


def _report_rejects(rows: list[tuple], plan: CrsPlan, rejects: RejectsWriter) -> None:
    """Rows rejected by a set-based check — (file index, code, message, WKB in 4756, attributes) — into the
    rejects report, in the source CRS."""
    if not rows:
        return
    geoms = plan.from_canonical(shapely.from_wkb(np.array([r[3] for r in rows], dtype=object), on_invalid="ignore"))
    for (index, code, message, _wkb, attrs), geom in zip(rows, geoms, strict=True):
        rejects.add(index, code, message, geom, attrs)


def _by_code(findings: list) -> dict:
    """The findings to record, counted by check code (``_findings``: the findings themselves)."""
    out: dict = dict(Counter(f.code for f in findings))
    out["_findings"] = findings
    return out


def _fresh_stage(fresh: bulk.FreshPartition, conn, target, options: LoadOptions, plan: CrsPlan,
                 rejects: RejectsWriter, counts: Counter, copied: np.ndarray, timings: dict) -> dict:
    """Set-based checks on a province's new partition, and its indexes. With ``keys`` the unique index of current
    versions is the check (only when it cannot be built are the duplicates looked for); with ``all`` every
    set-based check of :mod:`landgeo.validation` runs once the other indexes exist. Rejected rows leave the table
    for the rejects report; findings name the feature of the file (``copied``: file index of each COPied row)."""
    from landgeo.validation import check_table

    table = f"landdb.{fresh.name}"
    findings: list = []
    unique = False
    if options.set_checks == "all":
        fresh.build_others()
        conn.execute(sql.SQL("ANALYZE {}").format(fresh.ident))
        findings = check_table(conn, target, table, id_column="id")
    else:
        unique = fresh.build_unique()
        if not unique:
            conn.execute(sql.SQL("ANALYZE {}").format(fresh.ident))
            findings = check_table(conn, target, table, id_column="id", checks=list(REJECTING_SET_CHECKS))
    ids = fresh.ids() if findings else np.empty(0, dtype=np.int64)
    rejecting: dict[int, object] = {}  # table id -> finding
    for f in findings:
        if f.feature_id is None:
            continue
        fid = int(f.feature_id)  # the row's id in the new table; the finding names the feature of the file
        f.feature_index, f.feature_id = int(copied[np.searchsorted(ids, fid)]), None
        if f.code in REJECTING_SET_CHECKS:
            rejecting.setdefault(fid, f)
    if rejecting:
        taken = fresh.take(sorted(rejecting), [f.name for f in target.fields])
        rows = [(rejecting[fid].feature_index, rejecting[fid].code, rejecting[fid].message_en, wkb, attrs)
                for fid, wkb, attrs in taken]
        _report_rejects(rows, plan, rejects)
        counts["rejected_in_set"] = len(rows)
    if not unique and not fresh.build_unique():
        raise UserError(f"landdb.{fresh.partition}: parcel numbers still repeat after the duplicate check; "
                        "nothing loaded")
    if options.set_checks != "all":
        fresh.build_others()
    timings["indexes"] = sum(v for k, v in fresh.timings.items() if k.startswith("index "))
    return _by_code([f for f in findings if f.code not in REJECTING_SET_CHECKS])


def _store_findings(conn, target, batch_id: int, findings: list) -> None:
    """Record the non-rejecting set-based findings of this load in meta.validation_finding (with the batch)."""
    if not findings:
        return
    run_id = conn.execute("INSERT INTO meta.validation_run (target, scope, counts, finished_at) VALUES "
                          "(%s, %s::jsonb, %s::jsonb, clock_timestamp()) RETURNING id",
                          (target.id, json.dumps({"batch_id": batch_id, "stage": "load"}),
                           json.dumps(dict(Counter(f.code for f in findings))))).fetchone()[0]
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO meta.validation_finding (run_id, batch_id, check_code, severity, target, feature_id, "
            "province_code, commune_code, message_vi, message_en, details, geom) VALUES (%s, %s, %s, %s, %s, %s, "
            "%s, %s, %s, %s, %s::jsonb, CASE WHEN %s::bytea IS NULL THEN NULL ELSE "
            "meta.vn2000_to_wgs84(ST_SetSRID(ST_GeomFromWKB(%s::bytea), 4756)) END)",
            [(run_id, batch_id, f.code, f.severity, target.id, None, f.province_code, f.commune_code, f.message_vi,
              f.message_en, json.dumps({**f.details, "source_feature": None if f.feature_index is None
                                        else f.feature_index + 1}, default=str),
              shapely.to_wkb(f.geometry) if f.geometry is not None else None,
              shapely.to_wkb(f.geometry) if f.geometry is not None else None) for f in findings])
