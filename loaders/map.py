"""Map stage (ánh xạ trường): source fields to the target's fields, typed.

Without a mapping file, a source field feeds a target field when its lower-cased name is the target field's
name or one of its aliases (the Vietnamese names found in real cadastral data: ``MaXa``, ``SoHieuToBanDo``,
``SoThuTuThua``, ``KyHieuMucDichSuDung`` ...). DBF field names are cut at 10 characters, so a 10-character
source name also matches any alias it is the beginning of (``SoHieuToBa`` → ``SoHieuToBanDo``), as long as
that is unambiguous. A YAML mapping file (``--mapping``) says the rest::

    fields:     {sheet_number: SO_TO, parcel_number: SO_THUA}   # target field: source field
    constants:  {province_code: "79"}                             # target field: value for every feature
    land_use_separators: "+,;/"                                   # optional (default "+,;/ ")

Source fields that feed nothing are reported; for base-geography themes they are kept in ``attributes``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from landgeo.catalog import Target
from landgeo.errors import UserError

DBF_NAME_LENGTH = 10


def _key(name: str) -> str:
    """A comparable field-name key: lower case, no diacritics, no spaces/underscores."""
    text = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn").lower()
    return re.sub(r"[\s_\-.]", "", text)


@dataclass
class FieldMapping:
    """Which source column (or constant) feeds each target field, and what is left unused."""

    target: Target
    sources: dict[str, str]  # target field -> source column
    constants: dict[str, Any]
    unused: list[str]
    how: dict[str, str] = field(default_factory=dict)  # target field -> "alias" | "truncated alias" | "mapping"
    separators: str = "+,;/ "
    mapping_text: str = ""  # the mapping file's content (part of the load's identity)

    def describe(self) -> list[str]:
        lines = [f"{t} ← {s} ({self.how.get(t, 'mapping')})" for t, s in self.sources.items()]
        lines += [f"{t} = {v!r} (constant)" for t, v in self.constants.items()]
        return lines


def build_mapping(target: Target, source_fields: list[str], mapping_file: str | Path | None = None) -> FieldMapping:
    """Resolve the mapping of ``source_fields`` onto ``target`` (aliases, DBF truncation, mapping file)."""
    names = {f.name for f in target.fields}
    sources: dict[str, str] = {}
    constants: dict[str, Any] = {}
    how: dict[str, str] = {}
    separators = "+,;/ "
    mapping_text = ""
    if mapping_file:
        path = Path(mapping_file)
        if not path.is_file():
            raise UserError(f"mapping file {path} not found")
        mapping_text = path.read_text(encoding="utf-8")
        try:
            spec = yaml.safe_load(mapping_text) or {}
        except yaml.YAMLError as exc:
            raise UserError(f"mapping file {path.name} is not valid YAML: {str(exc).splitlines()[0]}") from exc
        if not isinstance(spec, dict) or not set(spec) <= {"fields", "constants", "land_use_separators"}:
            raise UserError(f"mapping file {path.name}: expected keys fields, constants (and land_use_separators)")
        by_key = {_key(s): s for s in source_fields}
        for tgt, src in (spec.get("fields") or {}).items():
            if tgt not in names:
                raise UserError(f"mapping file {path.name}: {tgt!r} is not a field of {target.id} "
                                f"({', '.join(sorted(names))})")
            found = src if src in source_fields else by_key.get(_key(str(src)))
            if found is None:
                raise UserError(f"mapping file {path.name}: source field {src!r} (for {tgt}) is not in the file; "
                                f"fields: {', '.join(source_fields)}")
            sources[tgt] = found
            how[tgt] = "mapping"
        for tgt, value in (spec.get("constants") or {}).items():
            if tgt not in names:
                raise UserError(f"mapping file {path.name}: {tgt!r} is not a field of {target.id}")
            constants[tgt] = value
        separators = str(spec.get("land_use_separators") or separators)
    taken = set(sources.values())
    for fld in target.fields:
        if fld.name in sources or fld.name in constants:
            continue
        wanted = {_key(fld.name), *(_key(a) for a in fld.aliases)}
        exact = [s for s in source_fields if s not in taken and _key(s) in wanted]
        if exact:
            sources[fld.name] = exact[0]
            how[fld.name] = "alias"
            taken.add(exact[0])
            continue
        truncated = [s for s in source_fields if s not in taken and len(s) == DBF_NAME_LENGTH
                     and any(w.startswith(_key(s)) for w in wanted)]
        if len(truncated) == 1:
            sources[fld.name] = truncated[0]
            how[fld.name] = "truncated alias"
            taken.add(truncated[0])
    derived = ("province_code",) if target.province_from_commune else ()  # filled by the loader when absent
    missing = [f.name for f in target.fields if f.required and f.name not in sources and f.name not in constants
               and f.name not in derived]
    if missing:
        raise UserError(f"no source field for required {target.id} field(s) {', '.join(missing)}; fields in the "
                        f"file: {', '.join(source_fields) or 'none'} (name them in a --mapping file)")
    unused = [s for s in source_fields if s not in taken]
    return FieldMapping(target, sources, constants, unused, how, separators, mapping_text)


# ---------------------------------------------------------------------------------------------------------
# Typed conversion of one batch.

@dataclass
class Converted:
    """Target columns of one batch, typed, plus per-row problems (row, field, value, rule)."""

    columns: dict[str, pa.Array]
    problems: list[tuple[int, str, Any, str]]
    attributes: pa.Array | None = None  # JSON text of unused source fields (themes)


TextDecoder = Callable[[pa.Array], pa.Array]


def convert(mapping: FieldMapping, columns: dict[str, pa.Array], n: int, decode_text: TextDecoder) -> Converted:
    """Convert a batch's source columns into the target's types; bad values become problems, not errors."""
    out: dict[str, pa.Array] = {}
    problems: list[tuple[int, str, Any, str]] = []
    for fld in mapping.target.fields:
        if fld.name in mapping.sources:
            arr = columns[mapping.sources[fld.name]]
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                arr = decode_text(arr)
        elif fld.name in mapping.constants:
            arr = pa.array([mapping.constants[fld.name]] * n)
            if not (pa.types.is_string(arr.type) or pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
                arr = pa.array([str(mapping.constants[fld.name])] * n)
        else:
            continue
        out[fld.name] = _convert_column(fld.name, fld.type, arr, mapping.separators, problems)
    attributes = None
    if mapping.target.schema == "geobase" and mapping.unused:
        decoded = {}
        for name in mapping.unused:
            arr = columns[name]
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                arr = decode_text(arr)
            decoded[name] = arr.to_pylist()
        attributes = pa.array([json.dumps({k: v[i] for k, v in decoded.items() if v[i] is not None},
                                          ensure_ascii=False, default=str) for i in range(n)], pa.string())
    return Converted(out, problems, attributes)


def _clean_text(arr: pa.Array) -> pa.Array:
    if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):  # a JSON array (GeoJSON): "LUC,ONT"
        try:
            arr = pc.binary_join(pc.cast(arr, pa.list_(pa.string())), ",")
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            arr = _json_text(arr)
    elif not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        try:
            arr = pc.cast(arr, pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # an object or a nested value: its JSON text
            arr = _json_text(arr)
    arr = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)


def _json_text(arr: pa.Array) -> pa.Array:
    return pa.array([None if v is None else json.dumps(v, ensure_ascii=False, default=str) for v in arr.to_pylist()],
                    pa.string())


def _convert_column(name: str, kind: str, arr: pa.Array, separators: str, problems: list) -> pa.Array:
    if kind == "text":
        if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
            arr = _integral_text(arr, name, problems)
        text = _clean_text(arr)
        width = {"commune_code": 5, "province_code": 2}.get(name)
        if width:  # codes written as numbers lose their leading zeros in DBF/Excel
            text = pc.utf8_lpad(text, width, "0")
        return text
    if kind == "integer":
        return _to_number(arr, name, problems, pa.int64())
    if kind == "number":
        return _to_number(arr, name, problems, pa.float64())
    if kind == "text[]":
        text = _clean_text(arr)
        pattern = "[" + re.escape(separators) + "]+"
        text = pc.utf8_trim(pc.utf8_upper(text), separators)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        return pc.split_pattern_regex(text, pattern)
    if kind in ("date", "datetime"):
        return _to_datetime(arr, name, kind, problems)
    return _clean_text(arr)


def _integral_text(arr: pa.Array, name: str, problems: list) -> pa.Array:
    if pa.types.is_floating(arr.type):
        values = arr.to_pylist()
        out = []
        for i, v in enumerate(values):
            if v is None:
                out.append(None)
            elif v != v or v in (float("inf"), float("-inf")) or v != int(v):
                problems.append((i, name, v, "not a whole-number code"))
                out.append(None)
            else:
                out.append(str(int(v)))
        return pa.array(out, pa.string())
    return pc.cast(arr, pa.string())


_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")


def _to_number(arr: pa.Array, name: str, problems: list, typ: pa.DataType) -> pa.Array:
    integer = pa.types.is_integer(typ)
    if pa.types.is_integer(arr.type):
        return pc.cast(arr, typ)
    if pa.types.is_floating(arr.type) and not integer:
        return pc.cast(arr, typ)
    if not integer or pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        try:
            text = _clean_text(arr) if not pa.types.is_floating(arr.type) else arr
            return pc.cast(text, typ)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    values = arr.to_pylist()
    out: list = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, str) and not v.strip()):
            out.append(None)
            continue
        try:
            if isinstance(v, str):
                s = v.strip().replace(" ", "")
                if not _NUMBER.match(s):
                    raise ValueError
                if "," in s and "." not in s:
                    s = s.replace(",", ".")
                elif "," in s:
                    s = s.replace(",", "")
                num = float(s)
            else:
                num = float(v)
            if num != num or num in (float("inf"), float("-inf")):
                raise ValueError
            if integer:
                if num != int(num):
                    raise ValueError
                num = int(num)
            out.append(num)
        except (ValueError, OverflowError):
            problems.append((i, name, v, "not a whole number" if integer else "not a number"))
            out.append(None)
    return pa.array(out, typ)


_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


def _to_datetime(arr: pa.Array, name: str, kind: str, problems: list) -> pa.Array:
    """ISO text for PostgreSQL; Vietnamese dd/mm/yyyy accepted; unreadable dates become problems."""
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        return pc.cast(pc.cast(arr, pa.string()), pa.string())
    out: list = []
    for i, v in enumerate(_clean_text(arr).to_pylist()):
        if v is None:
            out.append(None)
            continue
        m = _DMY.match(v)
        try:
            if m:
                day, month, year = int(m[1]), int(m[2]), int(m[3])
                stamp = dt.datetime(year, month, day, int(m[4] or 0), int(m[5] or 0), int(m[6] or 0))
            else:
                stamp = dt.datetime.fromisoformat(v.replace("/", "-"))
            if stamp.tzinfo is None and kind == "datetime":
                stamp = stamp.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))  # giờ Việt Nam
            out.append(stamp.date().isoformat() if kind == "date" else stamp.isoformat())
        except ValueError:
            problems.append((i, name, v, "not a date (use yyyy-mm-dd or dd/mm/yyyy)"))
            out.append(None)
    return pa.array(out, pa.string())
