"""Parcel helpers of the load (thửa đất): the province of each row, from the file, ``--province`` or its commune
in ``landdb.admin_unit`` (:func:`landdb.admin_units.province_lookup`), for the targets whose catalogue entry says
``province_from_commune``; rows with no province are rejected with the reason. The legal area is measured by
:mod:`landdb.parcel_area`."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from loaders.checks import Reject


def most_common(arr: pa.Array | None) -> str | None:
    if arr is None or arr.null_count == len(arr):
        return None
    counts = pc.value_counts(arr.drop_null())
    best = max(counts.to_pylist(), key=lambda d: d["counts"])
    return best["values"]


def province_or_option(cols: dict, n: int, option: str | None) -> pa.Array:
    """province_code from the file/mapping, its gaps filled with --province when given."""
    current = cols.get("province_code")
    if current is None:
        current = pa.nulls(n, pa.string())
    return pc.fill_null(current, option) if option else current


def fill_province(cols: dict, n: int, option: str | None, provinces_of: dict[str, str], extra: dict,
                   start: int) -> pa.Array:
    """province_code from the file/mapping, else --province, else the commune's province in admin_unit."""
    current = province_or_option(cols, n, option)
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
