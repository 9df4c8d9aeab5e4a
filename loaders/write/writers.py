"""Write stage (ghi): the writer protocol and its two implementations, the two ways a load's rows reach the
target table, both inside the load's one transaction.

* :class:`MergeWriter` — the incremental path: rows COPied into a per-load staging table
  (:mod:`loaders.write.stage`), set-based checks there, merged into the target by :mod:`loaders.write.merge`
  (append/replace batch by batch while the file streams, upsert once it is staged);
* :class:`BulkWriter` — a province's first load into a partitioned table (:mod:`loaders.write.bulk`): rows
  COPied into a new table, indexed once, checked, attached as the province's partition.

The pipeline streams batches into either through :meth:`Writer.write` on a
:class:`~landgeo.db.worker.DatabaseThread`, then asks it
for the set-based checks (:meth:`Writer.check`) and the final write (:meth:`Writer.commit_rows`). Rejected rows
go to the rejects report; the other findings are recorded by validation's one findings writer
(:func:`landgeo.validation.store.record_load_findings`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable
from typing import Protocol

import numpy as np
import pyarrow as pa
import shapely
from psycopg import Connection, sql

from landgeo.db.connect import connect
from landgeo.errors import UserError
from landgeo.target import Target
from landgeo.validation.table import check_table
from loaders.options import REJECTING_SET_CHECKS, LoadOptions
from loaders.report import RejectsWriter
from loaders.source_crs import CrsPlan
from loaders.write import bulk
from loaders.write.merge import Merger, set_checks, take_rejects
from loaders.write.stage import StagingTable
from loaders.write.summary import TileGroups


class Writer(Protocol):
    """Where a load's accepted rows go."""

    summarise: Callable | None  # folds each batch's accepted rows, (kept, parts, wgs84), on the worker threads

    def rows_left(self, counts: Counter) -> int:
        """Rows written and not rejected since (zero: the load refuses, nothing is committed)."""

    def encode(self, src_index: np.ndarray, kept: dict[str, pa.Array], geometry: dict[str, pa.Array],
               attributes: pa.Array | None) -> bytes:
        """One batch of accepted rows as COPY data (runs on the worker threads)."""

    def write(self, data: bytes, rows: int, lo: int, hi: int, timings: dict) -> None:
        """COPY one encoded batch of file rows ``lo <= i < hi`` (runs on the database thread)."""

    def check(self, counts: Counter, timings: dict, copied: np.ndarray) -> dict:
        """Set-based checks once every row is written: rejects leave, findings (by code, ``_findings``) return."""

    def commit_rows(self, counts: Counter, timings: dict) -> None:
        """Make the written rows the target's (merge or attach); counts inserted/updated/unchanged/closed."""

    def discard(self) -> None:
        """After a failed load, once its transaction is rolled back: remove what it made outside it."""

    def close(self) -> None:
        """After the load's COMMIT."""


class MergeWriter:
    """Staging table + merge: every target, every mode (see :mod:`loaders.write.merge`)."""

    def __init__(self, conn: Connection, target: Target, options: LoadOptions, plan: CrsPlan,
                 rejects: RejectsWriter, batch_id: int, where: str) -> None:
        self.conn, self.target, self.options, self.plan, self.rejects = conn, target, options, plan, rejects
        self.where = where
        self.staging = StagingTable(conn, target, extra={"area_srid": "integer"} if target.computes_legal_area
                                    else None, derived=target.computes_legal_area)
        self.staging.create()
        self.merger = Merger(conn, self.staging, target, options.mode, batch_id, plan.srid)
        self.incremental = options.mode in ("append", "replace")
        self.summarise = None

    def rows_left(self, counts: Counter) -> int:
        return self.staging.rows - counts["rejected_in_set"]

    def encode(self, src_index, kept, geometry, attributes) -> bytes:
        return self.staging.encode(src_index, kept, geometry, attributes)

    def write(self, data, rows: int, lo: int, hi: int, timings: dict) -> None:
        t = time.monotonic()
        self.staging.write(data, rows)
        timings["copy"] = timings.get("copy", 0.0) + time.monotonic() - t
        if self.incremental and rows:
            t = time.monotonic()
            self.merger.merge_range(lo, hi)
            timings["merge"] = timings.get("merge", 0.0) + time.monotonic() - t

    def check(self, counts: Counter, timings: dict, copied: np.ndarray) -> dict:
        """Set-based checks on the staging table; rejecting ones become rejects (taken back out of the target if
        already merged), the others findings."""
        findings = set_checks(self.conn, self.staging, self.target, self.options.mode, self.options.set_checks,
                              REJECTING_SET_CHECKS)
        self.merger.take_back()
        rows = take_rejects(self.conn, self.staging)
        counts["rejected_in_set"] = len(rows)
        report_rejects(rows, self.plan, self.rejects)
        return by_code(findings)

    def commit_rows(self, counts: Counter, timings: dict) -> None:
        if not self.incremental:
            self.merger.upsert()
        counts.update(self.merger.counts)
        expected = self.staging.rows - counts["rejected_in_set"]
        if self.incremental and self.merger.counts["inserted"] != expected:
            raise UserError(f"{self.where}: {expected - self.merger.counts['inserted']} features clash with other "
                            "features of the file or with current versions in the database; nothing loaded")
        self.staging.drop()

    def discard(self) -> None:
        pass

    def close(self) -> None:
        pass


class BulkWriter:
    """A province's first load: a new table, indexed once, swapped in as its partition (:mod:`loaders.write.bulk`)."""

    def __init__(self, conn: Connection, target: Target, options: LoadOptions, plan: CrsPlan,
                 rejects: RejectsWriter, fresh: bulk.FreshPartition, now: dt.datetime) -> None:
        self.conn, self.target, self.options, self.plan, self.rejects = conn, target, options, plan, rejects
        self.fresh, self.now = fresh, now
        self.summarise = fresh.tiles.add

    @classmethod
    def for_load(cls, conn: Connection, target: Target, options: LoadOptions, plan: CrsPlan,
                 rejects: RejectsWriter, batch_id: int, mapped: set[str]) -> BulkWriter | None:
        """The bulk writer when the load is a province's first (its partition is empty), else None."""
        if not bulk.fits(target, mapped, options.province):
            return None
        partition = bulk.empty_partition(conn, options.province)
        if not partition:
            return None
        now = conn.execute("SELECT now()").fetchone()[0]
        builder = connect(options.database_url)  # a second session: see loaders.write.bulk
        try:
            fresh = bulk.FreshPartition(conn, options.province, partition, batch_id, plan.srid,
                                        dated=bool(mapped & bulk.DATES.keys()),
                                        tiles=TileGroups.for_database(conn, options.province), builder=builder,
                                        now=now)
            fresh.create()
        except BaseException:
            builder.close()
            raise
        return cls(conn, target, options, plan, rejects, fresh, now)

    @property
    def note(self) -> str:
        return (f"first load of province {self.options.province}: parcels built as a new "
                f"landdb.{self.fresh.partition} and attached in place of the empty one")

    def rows_left(self, counts: Counter) -> int:
        return self.fresh.rows

    def encode(self, src_index, kept, geometry, attributes) -> bytes:
        return self.fresh.encode(kept, geometry, now=self.now)

    def write(self, data, rows: int, lo: int, hi: int, timings: dict) -> None:
        t = time.monotonic()
        self.fresh.write(data, rows)
        timings["copy"] = timings.get("copy", 0.0) + time.monotonic() - t

    def check(self, counts: Counter, timings: dict, copied: np.ndarray) -> dict:
        """Set-based checks on the province's new partition, and its indexes. With ``keys`` the unique index of
        current versions is the check (only when it cannot be built are the duplicates looked for); with ``all``
        every set-based check of :mod:`landgeo.validation` runs once the other indexes exist. Rejected rows leave
        the table for the rejects report; findings name the feature of the file (``copied``: file index of each
        COPied row)."""
        table = f"landdb.{self.fresh.name}"
        findings: list = []
        unique = False
        started = time.monotonic()
        self.fresh.publish()
        if self.options.set_checks == "all":
            self.fresh.build_others()
            self.conn.execute(sql.SQL("ANALYZE {}").format(self.fresh.ident))
            t = time.monotonic()
            findings = check_table(self.conn, self.target, table, id_column="id")
            started += time.monotonic() - t  # not index time
        else:
            self.fresh.start_builds()
            unique = self.fresh.build_unique()
            if not unique:
                self.fresh.join_builds()
                self.conn.execute(sql.SQL("ANALYZE {}").format(self.fresh.ident))
                t = time.monotonic()
                findings = check_table(self.conn, self.target, table, id_column="id", checks=list(REJECTING_SET_CHECKS))
                started += time.monotonic() - t
        ids = self.fresh.ids() if findings else np.empty(0, dtype=np.int64)
        rejecting: dict[int, object] = {}  # table id -> finding
        for f in findings:
            if f.feature_id is None:
                continue
            fid = int(f.feature_id)  # the row's id in the new table; the finding names the feature of the file
            f.feature_index, f.feature_id = int(copied[np.searchsorted(ids, fid)]), None
            if f.code in REJECTING_SET_CHECKS:
                rejecting.setdefault(fid, f)
        if rejecting:
            taken = self.fresh.take(sorted(rejecting), [f.name for f in self.target.fields])
            rows = [(rejecting[fid].feature_index, rejecting[fid].code, rejecting[fid].message_en, wkb, attrs)
                    for fid, wkb, attrs in taken]
            report_rejects(rows, self.plan, self.rejects)
            counts["rejected_in_set"] = len(rows)
        if not unique and not self.fresh.build_unique():
            raise UserError(f"landdb.{self.fresh.partition}: parcel numbers still repeat after the duplicate check; "
                            "nothing loaded")
        if self.options.set_checks != "all":
            self.fresh.build_others()
        timings["indexes"] = time.monotonic() - started  # wall time: the builder's builds overlap the B-trees
        return by_code([f for f in findings if f.code not in REJECTING_SET_CHECKS])

    def commit_rows(self, counts: Counter, timings: dict) -> None:
        t = time.monotonic()
        self.fresh.attach()
        timings.update(self.fresh.timings)
        timings["attach"] = time.monotonic() - t
        counts.update({"inserted": self.fresh.rows, "updated": 0, "unchanged": 0, "closed": 0})

    def discard(self) -> None:
        self.fresh.discard()

    def close(self) -> None:
        self.fresh.close()


def report_rejects(rows: list[tuple], plan: CrsPlan, rejects: RejectsWriter) -> None:
    """Rows rejected by a set-based check — (file index, code, message, WKB in 4756, attributes) — into the
    rejects report, in the source CRS."""
    if not rows:
        return
    geoms = plan.from_canonical(shapely.from_wkb(np.array([r[3] for r in rows], dtype=object), on_invalid="ignore"))
    for (index, code, message, _wkb, attrs), geom in zip(rows, geoms, strict=True):
        rejects.add(index, code, message, geom, attrs)


def by_code(findings: list) -> dict:
    """The findings to record, counted by check code (``_findings``: the findings themselves)."""
    out: dict = dict(Counter(f.code for f in findings))
    out["_findings"] = findings
    return out
