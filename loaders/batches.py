"""Batch stage (một lô): one Arrow batch of the source through map → CRS check → per-feature checks → transform →
EWKB/COPY encoding. Runs on the load's worker threads and touches no shared state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from landdb.parcel_area import area_srids, legal_area
from landgeo.crs.srids import VN2000_GEOGRAPHIC, WGS84
from landgeo.db import ewkb
from landgeo.target import Target
from landgeo.validation.attributes import Factorized
from loaders.checks import Reject, check_batch
from loaders.map import FieldMapping, convert
from loaders.options import LoadOptions
from loaders.parcels import fill_province, most_common, province_or_option
from loaders.read import Batch
from loaders.source_crs import CrsPlan, check_coordinates
from loaders.text import SourceText
from loaders.vertices import vertices


@dataclass
class Outcome:
    """What one batch gave: COPY data, the file index of each row in it, and what to count and report."""

    data: bytes | memoryview
    sent: np.ndarray
    read: int
    repaired: int = 0
    warnings: Counter = field(default_factory=Counter)
    rejected: list[tuple] = field(default_factory=list)  # arguments of RejectsWriter.add


def load_batch(batch: Batch, target: Target, mapping: FieldMapping, plan: CrsPlan, text: SourceText,
               options: LoadOptions, encode: Callable, provinces_of: dict[str, str], zone_cache: dict,
               where: str, surveyed: dict[str, str] | None = None, summarise: Callable | None = None) -> Outcome:
    """Convert, check, transform and encode one batch. Touches no shared state (runs on the worker threads) but
    ``summarise`` (the writer's thread-safe accumulator of the accepted rows, if it has one).
    ``surveyed``: commune code -> the province its maps were surveyed under (the legal area's zone of a source
    that is not in TM-3)."""
    n = batch.count
    converted = convert(mapping, batch.columns, n, text)
    cols = converted.columns
    extra: dict[int, Reject] = {}
    for row, name, value, rule in converted.problems:
        if row not in extra:
            extra[row] = Reject(batch.start + row, "attr.domain", f"field {name} = {value!r}: {rule}")
    if target.province_from_commune:
        cols["province_code"] = fill_province(cols, n, options.province, provinces_of, extra, batch.start)
    elif options.province and any(f.name == "province_code" for f in target.fields):
        cols["province_code"] = province_or_option(cols, n, options.province)
    geoms = shapely.from_wkb(batch.geometry, on_invalid="ignore")
    if batch.start == 0:
        province = options.province or most_common(cols.get("province_code"))
        check_coordinates(plan, geoms, province, options.force_crs, where)
    attrs = {name: python_values(arr) for name, arr in cols.items()}
    verdict = check_batch(target, geoms, attrs, crs=plan.source.to_pyproj(), on_invalid=options.on_invalid,
                          start=batch.start, extra=extra)
    out = Outcome(b"", np.empty(0, dtype=np.int64), n, verdict.repaired, verdict.warnings)
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
    canonical, wgs84 = vertices(plan, parts, target.computes_wgs84)
    geometry = {"geom": ewkb.encode(parts, VN2000_GEOGRAPHIC, canonical)}
    if target.computes_legal_area:
        kept["area_srid"] = area_srids(plan.tm3_srid, kept.get("province_code"), zone_cache,
                                       kept.get("commune_code"), surveyed)
        kept["computed_area"] = legal_area(plan.tm3_srid, accepted, kept["area_srid"], canonical)
    if target.computes_wgs84:
        geometry["geom_wgs84"] = ewkb.encode(parts, WGS84, wgs84)
    if summarise is not None:
        summarise(kept, parts, wgs84)
    out.data = encode(idx + batch.start, kept, geometry, converted.attributes.take(pa.array(idx))
                      if converted.attributes is not None else None)
    out.sent = idx + batch.start
    return out


def python_values(arr: pa.Array) -> np.ndarray | list:
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
