"""Attribute checks (kiểm tra thuộc tính) of :func:`landgeo.validation.check_features`: required fields, domain
rules (codes, numbers, the ``choices``/``pattern`` a catalogue field declares), land-use codes.

Each rule runs once per distinct value of a column: a column is dictionary-encoded once (:class:`Factorized`
arrays from the loaders arrive already encoded) and the verdicts are spread back over the rows.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np

import landgeo.validation.reference as reference
from landgeo.target import Field, Target
from landgeo.validation.check_codes import CHECKS, Finding


def _f(code: str, index: int | None, geometry: Any, details: dict[str, Any]) -> Finding:
    return CHECKS[code].finding(details, feature_index=None if index is None else int(index), geometry=geometry)


def _is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    if isinstance(value, list | tuple | np.ndarray) and len(value) == 0:
        return True
    return False


def _int_or_none(value: Any) -> int | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f) or f != int(f):
        return None
    return int(f)


def _number_or_none(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


_RULES: dict[str, tuple[Any, str, str]] = {}


def _rule(name: str, ok, vi: str, en: str) -> None:
    _RULES[name] = (ok, vi, en)


_rule("commune_code", lambda v: bool(re.fullmatch(r"\d{5}", str(v).strip())), "mã xã phải gồm 5 chữ số",
      "a commune code has 5 digits")
_rule("sheet_number", lambda v: (_int_or_none(v) or 0) > 0, "số tờ phải là số nguyên dương",
      "a sheet number is a positive integer")
_rule("parcel_number", lambda v: (_int_or_none(v) or 0) > 0, "số thửa phải là số nguyên dương",
      "a parcel number is a positive integer")
_rule("declared_area", lambda v: (_number_or_none(v) if _number_or_none(v) is not None else -1) >= 0,
      "diện tích phải là số không âm", "an area is a non-negative number")
_rule("scale", lambda v: _int_or_none(v) in (200, 500, 1000, 2000, 5000, 10000, 25000),
      "tỷ lệ phải là 200, 500, 1000, 2000, 5000, 10000 hoặc 25000",
      "the scale is one of 200, 500, 1000, 2000, 5000, 10000, 25000")
_rule("source_scale", lambda v: (_int_or_none(v) or 0) > 0, "tỷ lệ nguồn phải là số nguyên dương",
      "a source scale is a positive integer")
_rule("elevation", lambda v: _number_or_none(v) is not None and -200 <= float(v) <= 3200,
      "độ cao phải trong khoảng -200..3200 m", "an elevation lies within -200..3200 m")
_rule("floors", lambda v: _int_or_none(v) is not None and 0 <= _int_or_none(v) <= 200,
      "số tầng phải là số nguyên 0..200", "floors is an integer 0..200")


def _province_ok(codes: Collection[str]):
    return lambda v: str(v).strip() in codes


def _field_rule(f: Field):
    """The domain rule a catalogue field declares (``choices`` or ``pattern``), as (ok, Vietnamese, English)."""
    if f.choices:
        vi, en = f.rule or (f"{f.name} phải là một trong {', '.join(f.choices)}",
                            f"{f.name} is one of {', '.join(f.choices)}")
        if f.name == "level" and f.rule is None:
            vi = f"cấp phải là một trong {', '.join(f.choices)}"
        return (lambda v, allowed=frozenset(f.choices): str(v).strip() in allowed, vi, en)
    pattern = re.compile(f.pattern)
    vi, en = f.rule or (f"{f.name} phải khớp {f.pattern}", f"{f.name} matches {f.pattern}")
    return (lambda v, p=pattern: bool(p.fullmatch(str(v).strip())), vi, en)


def split_land_use_codes(value: Any) -> list[str]:
    """``'ONT+CLN'``, ``'ONT, CLN'``, ``['ONT', 'CLN']`` -> ``['ONT', 'CLN']`` (upper case, no blanks)."""
    if _is_blank(value):
        return []
    items = value if isinstance(value, list | tuple | np.ndarray) else re.split(r"[+,;/\s]+", str(value))
    return [str(c).strip().upper() for c in items if str(c).strip()]


class _Codes(NamedTuple):
    """A column as its distinct values (the first occurrence of each) and, per row, the index of its value."""

    values: list[Any]
    index: np.ndarray


class _Index(dict):
    """Dictionary encoding at the speed of dict lookups: each new key gets the next code."""

    def __missing__(self, key: Any) -> int:
        code = self[key] = len(self)
        return code


_PLAIN = (str, int, bool, type(None))  # equal values of one of these exact types are the same value


class Factorized(np.ndarray):
    """An object column that already knows its distinct values — e.g. from Arrow's dictionary encoding in the
    loader: ``distinct`` (one Python object each) and ``codes`` (per row, the index of its value). The checks use
    them instead of hashing every row. Equal values must share a code; otherwise it is a plain object array."""

    distinct: list[Any] | None
    codes: np.ndarray | None

    @classmethod
    def of(cls, distinct: Sequence[Any], codes: np.ndarray) -> Factorized:
        table = np.empty(len(distinct), dtype=object)
        for i, value in enumerate(distinct):  # one by one: lists must stay lists, not become a 2-D array
            table[i] = value
        codes = np.asarray(codes, dtype=np.intp)
        out = table[codes].view(cls)
        out.distinct, out.codes = list(distinct), codes
        return out

    def __array_finalize__(self, obj: Any) -> None:
        self.distinct = self.codes = None  # a slice or a copy is a plain column again


def _factorize(values: Sequence[Any]) -> _Codes:
    """Distinct values and row codes; rows share a code only if every check here judges their values alike.

    Numbers of a numeric array, strings (``str``, ``numpy.str_``) with None, and lists (or tuples) of strings
    with None are grouped by equality; other values only with equal values of the same plain type (``1``,
    ``1.0`` and ``True`` stay apart), or not at all.
    """
    if isinstance(values, Factorized) and values.codes is not None and len(values.codes) == len(values):
        return _Codes(values.distinct, values.codes)
    if isinstance(values, np.ndarray) and values.dtype.kind in "iufb":
        uniq, inverse = np.unique(values, return_inverse=True)
        return _Codes(uniq.tolist(), inverse.reshape(-1))
    index = _Index()
    try:
        codes = np.fromiter(map(index.__getitem__, values), np.intp, len(values))
    except TypeError:  # unhashable values: lists
        return _sequence_codes(values) or _exact_codes(values)
    if all(isinstance(v, str) or v is None for v in index):  # then so are the values equal to them
        return _Codes(list(index), codes)
    return _exact_codes(values)


def _sequence_codes(values: Sequence[Any]) -> _Codes | None:
    """Codes for a column of lists (or of tuples) of strings, and None; None for any other column."""
    kinds = set(map(type, values))
    nulls = type(None) in kinds
    if kinds - {type(None)} not in ({list}, {tuple}):
        return None
    index = _Index()
    try:
        keys = [v if v is None else tuple(v) for v in values] if nulls else map(tuple, values)
        codes = np.fromiter(map(index.__getitem__, keys), np.intp, len(values))
    except TypeError:  # unhashable items
        return None
    if not all(key is None or all(type(c) is str for c in key) for key in index):
        return None
    _, first = np.unique(codes, return_index=True)
    return _Codes([values[i] for i in first], codes)


def _exact_codes(values: Sequence[Any]) -> _Codes:
    """Codes for a column of mixed kinds: equal values of the same plain type share one; others have their own."""
    index: dict[Any, int] = {}
    distinct: list[Any] = []
    codes = np.empty(len(values), np.intp)
    for i, v in enumerate(values):
        code = codes[i] = index.setdefault((type(v), v) if type(v) in _PLAIN else i, len(distinct))
        if code == len(distinct):
            distinct.append(v)
    return _Codes(distinct, codes)


class Columns:
    """The attribute columns of one call, each factorised once and judged once per distinct value."""

    def __init__(self, attrs: Mapping[str, Sequence[Any]]) -> None:
        self.attrs = attrs
        self._codes: dict[str, _Codes] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.attrs

    def codes(self, name: str) -> _Codes:
        if name not in self._codes:
            self._codes[name] = _factorize(self.attrs[name])
        return self._codes[name]

    def flags(self, name: str, fn: Callable[[Any], Any]) -> np.ndarray:
        """``bool(fn(value))`` for every row of the column."""
        codes = self.codes(name)
        return np.array([bool(fn(v)) for v in codes.values], dtype=bool)[codes.index]

    def blank(self, name: str) -> np.ndarray:
        """Rows without a value: NaN in a numeric column, else :func:`_is_blank`."""
        values = self.attrs[name]
        numeric = _numeric(values) if not (isinstance(values, np.ndarray) and values.dtype == object) else None
        if numeric is not None:
            return np.isnan(numeric)
        return self.flags(name, _is_blank)

    def groups(self, name: str) -> tuple[list[str], np.ndarray]:
        """The column as group labels ``str(value)`` (None -> ''): (labels, label index of each row)."""
        codes = self.codes(name)
        if all(isinstance(v, str) or v is None for v in codes.values):
            labels = _factorize(["" if v is None else str(v) for v in codes.values])
            return labels.values, labels.index[codes.index]
        labels = _factorize(["" if v is None else str(v) for v in self.attrs[name]])
        return labels.values, labels.index


def _whole(a: np.ndarray) -> np.ndarray:
    return np.floor(a) == a


# the same rules as _RULES, on numeric columns at once (NaN = blank, judged by the required-field check)
_NUMERIC_RULES = {
    "sheet_number": lambda a: (a > 0) & _whole(a),
    "parcel_number": lambda a: (a > 0) & _whole(a),
    "source_scale": lambda a: (a > 0) & _whole(a),
    "declared_area": lambda a: np.isfinite(a) & (a >= 0),
    "scale": lambda a: np.isin(a, (200, 500, 1000, 2000, 5000, 10000, 25000)),
    "elevation": lambda a: (a >= -200) & (a <= 3200),
    "floors": lambda a: (a >= 0) & (a <= 200) & _whole(a),
}


def _numeric(values: Sequence[Any]) -> np.ndarray | None:
    """The column as float64 if it is numeric (ints, floats, NaN for missing), else None."""
    arr = values if isinstance(values, np.ndarray) else None
    if arr is None:
        try:
            arr = np.asarray(values)
        except (ValueError, TypeError):
            return None
    if arr.dtype.kind in "iuf":
        return arr.astype(np.float64, copy=False)
    return None


def attribute_findings(target: Target, geoms: np.ndarray, columns: Columns, land_use_codes, province_codes
                        ) -> list[Finding]:
    """Required fields, value domains and land-use codes; each rule evaluated once per distinct value."""
    attrs = columns.attrs
    out: list[Finding] = []
    for name in target.required_fields:
        if name not in attrs:
            out.append(_f("attr.required_missing", None, None, {"field": name}))
            continue
        for i in np.flatnonzero(columns.blank(name)):
            out.append(_f("attr.required_missing", i, geoms[i], {"field": name}))
    rules = dict(_RULES)
    if "province_code" in attrs:
        codes = province_codes if province_codes is not None else reference.province_codes()
        rules["province_code"] = (_province_ok(set(codes)), "mã tỉnh không có trong danh mục 34 tỉnh (2025)",
                                  "province code not in the list of the 34 provinces (2025)")
    for f in target.fields:
        if f.choices or f.pattern:
            rules[f.name] = _field_rule(f)
    field_names = {f.name for f in target.fields}
    for name, (ok, vi, en) in rules.items():
        if name not in attrs or name not in field_names:
            continue
        values = attrs[name]
        numeric = _numeric(values) if name in _NUMERIC_RULES else None
        if numeric is not None:
            with np.errstate(invalid="ignore"):
                bad = ~np.isnan(numeric) & ~_NUMERIC_RULES[name](numeric)
        else:
            bad = ~columns.flags(name, lambda v, ok=ok: _is_blank(v) or ok(v))
        for i in np.flatnonzero(bad):
            out.append(_f("attr.domain", i, geoms[i], {"field": name, "value": _plain(values[i]), "rule_vi": vi,
                                                       "rule_en": en}))
    if "land_use_codes" in attrs and "land_use_codes" in field_names:
        known = set(land_use_codes) if land_use_codes is not None else reference.land_use_codes()
        values = attrs["land_use_codes"]
        bad = columns.flags("land_use_codes", lambda v: any(c not in known for c in split_land_use_codes(v)))
        for i in np.flatnonzero(bad):
            unknown = [c for c in split_land_use_codes(values[i]) if c not in known]
            out.append(_f("attr.land_use_code_unknown", i, geoms[i], {"codes": unknown}))
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
