"""Vectorised PostgreSQL binary COPY: the tuple data of a whole batch built with numpy/pyarrow, no Python loop
per row.

Wire format (PostgreSQL docs, "COPY ... Binary Format"): a file is ``HEADER``, then one tuple per row — int16
field count, then per field an int32 byte length (-1 for NULL, no bytes follow) and the value in the type's
binary ``send`` format, all big-endian — then ``TRAILER`` (int16 -1). ``encode_rows`` returns the tuples only::

    with cur.copy("COPY t (a, b) FROM STDIN WITH (FORMAT binary)") as copy:
        copy.write(HEADER)
        for batch in batches:
            copy.write(encode_rows([("int8", batch["a"]), ("text", batch["b"])]))
        copy.write(TRAILER)

psycopg adds nothing in that mode: ``Copy.write`` passes raw bytes through, and the signature/trailer are
only added when rows go through ``write_row`` (or when nothing at all was written), so both must be sent.

How a batch is assembled: each column gives per-row field lengths, optionally a fixed-width big-endian
"head" (a whole int/float/date/… value, or the 8-byte header of a numeric, 20-byte header of a text[]) when
no row is NULL, and payload pieces as pyarrow binary arrays (text bytes, numeric digits, …; also the heads
when some rows are NULL). The field count and the lengths and heads of consecutive columns make one packed
numpy record per row; rows are then the row-wise concatenation of records and payload pieces by pyarrow's
``binary_join_element_wise`` (a memcpy per piece, in C++). Most of the time goes into that join, ~7 ns per
piece and row, so NOT NULL fixed-width columns (no piece of their own) are the cheapest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"

_INT32_MAX = 2**31 - 1
_MAX_COLUMNS = 1600  # PostgreSQL's limit per table
_PG_EPOCH_DAYS = (dt.date(2000, 1, 1) - dt.date(1970, 1, 1)).days  # 10957
_PG_EPOCH_US = _PG_EPOCH_DAYS * 86_400 * 1_000_000
TEXT_OID = 25

# ---------------------------------------------------------------------------------------------------------
# pyarrow binary helpers (also used by landgeo.db.ewkb)


def binary_array(data: np.ndarray | pa.Buffer, offsets: np.ndarray) -> pa.Array:
    """A binary (or large_binary when offsets exceed int32) array over ``data`` cut at ``offsets`` (n + 1),
    without copying ``data``."""
    offsets = np.asarray(offsets)
    large = len(offsets) and int(offsets[-1]) > _INT32_MAX
    dtype, otype = (pa.large_binary(), np.int64) if large else (pa.binary(), np.int32)
    buf = data if isinstance(data, pa.Buffer) else pa.py_buffer(np.ascontiguousarray(data).view(np.uint8))
    return pa.Array.from_buffers(dtype, len(offsets) - 1, [None, pa.py_buffer(offsets.astype(otype)), buf])


def fixed_array(records: np.ndarray) -> pa.Array:
    """A binary array whose element i is the bytes of ``records[i]`` (any fixed-size numpy dtype)."""
    n, width = len(records), records.dtype.itemsize
    return binary_array(records, np.arange(n + 1, dtype=np.int64) * width)


def offsets_of(arr: pa.Array) -> np.ndarray:
    """The n + 1 value offsets of a binary/string array (into its data buffer), as int64."""
    otype = np.int64 if pa.types.is_large_binary(arr.type) or pa.types.is_large_string(arr.type) else np.int32
    return np.frombuffer(arr.buffers()[1], otype)[arr.offset: arr.offset + len(arr) + 1].astype(np.int64)


def data_of(arr: pa.Array) -> pa.Buffer:
    """The data buffer of a binary/string array (an empty buffer when the array has none)."""
    buf = arr.buffers()[2]
    return buf if buf is not None else pa.py_buffer(b"")


def spans(arr: pa.Array, starts: np.ndarray) -> pa.Array:
    """Element i = the concatenation of ``arr[starts[i]:starts[i + 1]]`` (zero copy: re-cut of its data)."""
    return binary_array(data_of(arr), offsets_of(arr)[starts])


def concat_rows(arrays: Sequence[pa.Array]) -> pa.Array:
    """Row-wise concatenation of binary arrays of equal length (none may hold NULLs)."""
    total = sum(data_size(a) for a in arrays)
    target = pa.large_binary() if total > _INT32_MAX or any(a.type == pa.large_binary() for a in arrays) \
        else pa.binary()
    arrays = [a if a.type == target else a.cast(target) for a in arrays]
    if len(arrays) == 1:
        return arrays[0]
    return pc.binary_join_element_wise(*arrays, pa.scalar(b"", target))


def data_size(arr: pa.Array) -> int:
    """Bytes of values referenced by a binary array."""
    offs = offsets_of(arr)
    return int(offs[-1] - offs[0]) if len(offs) else 0


def as_bytes(arr: pa.Array) -> memoryview:
    """The values of a binary array laid end to end (zero copy)."""
    offs = offsets_of(arr)
    if not len(arr):
        return memoryview(b"")
    return memoryview(data_of(arr))[int(offs[0]): int(offs[-1])]


def validity_bitmap(valid: np.ndarray) -> pa.Buffer | None:
    """Arrow validity bitmap (LSB first) of a boolean mask, or None when every row is valid."""
    if valid.all():
        return None
    return pa.py_buffer(np.packbits(valid, bitorder="little"))


def ragged_positions(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(starts[i], starts[i] + counts[i])`` for all i."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    first = np.cumsum(counts) - counts
    return np.repeat(np.asarray(starts, dtype=np.int64) - first, counts) + np.arange(total, dtype=np.int64)


def cumulative(counts: np.ndarray) -> np.ndarray:
    """Offsets ``[0, c0, c0 + c1, …]`` (int64) of consecutive runs of the given lengths."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


# ---------------------------------------------------------------------------------------------------------
# Columns


@dataclass
class _Field:
    """One column's share of the rows: field lengths (-1 = NULL); ``head``, fixed-width big-endian records
    that start every row's value (only when no row is NULL: they go inline in the row record); ``parts``,
    binary arrays whose row-wise concatenation is the (rest of the) value, empty for NULL rows."""

    lengths: np.ndarray
    head: np.ndarray | None = None
    parts: list[pa.Array] = field(default_factory=list)


def _to_arrow(values: pa.Array | pa.ChunkedArray | np.ndarray | Sequence, name: str) -> pa.Array:
    """Values as one pyarrow array (numpy datetime NaT becomes NULL, float NaN stays a value)."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    try:
        return pa.array(arr, from_pandas=arr.dtype.kind == "M")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValueError(f"column {name}: cannot read values as an array ({exc})") from exc


def _cast(arr: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    if arr.type == target:
        return arr
    try:
        return arr.cast(target)  # safe cast: overflow and lossy conversions raise
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise ValueError(f"column {name}: cannot convert {arr.type} to {target}: {exc}") from exc


def _valid(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    return arr.is_valid().to_numpy(zero_copy_only=False)


def _with_head(lengths: np.ndarray, head: np.ndarray, valid: np.ndarray, parts: list[pa.Array]) -> _Field:
    """A field whose values start with the fixed-width ``head`` records: inline when no row is NULL, else
    a payload part holding the non-NULL rows' records."""
    if valid.all():
        return _Field(lengths.astype(np.int32), head=head, parts=parts)
    heads = binary_array(head[valid], cumulative(valid * head.dtype.itemsize))
    return _Field(np.where(valid, lengths, -1).astype(np.int32), parts=[heads, *parts])


def _fixed_field(values: np.ndarray, valid: np.ndarray) -> _Field:
    """A fixed-width type: the big-endian ``values`` are the whole value."""
    return _with_head(np.full(len(values), values.dtype.itemsize), values, valid, [])


def _number_encoder(arrow_type: pa.DataType, wire: str) -> Callable[[pa.Array, str], _Field]:
    """Encoder of a fixed-size number type (``wire``: its big-endian numpy dtype)."""

    def encode(arr: pa.Array, name: str) -> _Field:
        """int2/int4/int8, float4/float8: big-endian two's complement / IEEE 754."""
        arr = _cast(arr, arrow_type, name)
        filled = arr.fill_null(0) if arr.null_count else arr
        return _fixed_field(filled.to_numpy(zero_copy_only=False).astype(wire), _valid(arr))

    return encode


def _bool(arr: pa.Array, name: str) -> _Field:
    """bool: one byte, 1 or 0."""
    arr = _cast(arr, pa.bool_(), name)
    valid = _valid(arr)
    filled = arr.fill_null(False) if arr.null_count else arr
    return _fixed_field(filled.to_numpy(zero_copy_only=False).astype(np.uint8), valid)


def _date(arr: pa.Array, name: str) -> _Field:
    """date: int32 days since 2000-01-01."""
    if not pa.types.is_date(arr.type):
        raise ValueError(f"column {name}: date needs date32/date64 or datetime64[D] values, not {arr.type}")
    arr = _cast(arr, pa.date32(), name)
    valid = _valid(arr)
    days = arr.fill_null(0).cast(pa.int32()).to_numpy() if arr.null_count else arr.cast(pa.int32()).to_numpy()
    return _fixed_field((days.astype(np.int64) - _PG_EPOCH_DAYS).astype(">i4"), valid)


def _timestamp(arr: pa.Array, name: str) -> _Field:
    """timestamp(tz): int64 microseconds since 2000-01-01 00:00 (UTC for timestamptz; naive = UTC)."""
    if not pa.types.is_timestamp(arr.type):
        raise ValueError(f"column {name}: timestamps need a timestamp array or datetime64, not {arr.type}")
    arr = _cast(arr, pa.timestamp("us", tz=arr.type.tz), name)
    valid = _valid(arr)
    micros = arr.cast(pa.int64())
    micros = (micros.fill_null(0) if arr.null_count else micros).to_numpy()
    return _fixed_field((micros - _PG_EPOCH_US).astype(">i8"), valid)


def _no_nulls(arr: pa.Array) -> pa.Array:
    """The binary view of a string/binary array with NULLs as empty values (zero copy when the NULL slots
    are already empty, as pyarrow and ``landgeo.db.ewkb`` make them)."""
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = arr.view(pa.large_binary() if pa.types.is_large_string(arr.type) else pa.binary())
    if not arr.null_count:
        return arr
    offsets = offsets_of(arr)
    if np.any(np.diff(offsets)[~_valid(arr)]):
        return arr.fill_null(b"")
    return binary_array(data_of(arr), offsets).cast(arr.type)


def _payload_lengths(arr: pa.Array, valid: np.ndarray) -> np.ndarray:
    lengths = np.diff(offsets_of(arr))
    if lengths.size and lengths.max() > _INT32_MAX:
        raise ValueError("a value is longer than 2 GB")
    return np.where(valid, lengths, -1).astype(np.int32)


def _text(arr: pa.Array, name: str) -> _Field:
    """text: the UTF-8 bytes as they are."""
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = _cast(arr, pa.string(), name)
    valid = _valid(arr)
    body = _no_nulls(arr)
    return _Field(_payload_lengths(body, valid), parts=[body])


def _bytes(arr: pa.Array, name: str) -> _Field:
    """bytea / geometry: the raw bytes (geometry: EWKB, which PostGIS geometry_recv reads)."""
    if not (pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type)):
        arr = _cast(arr, pa.binary(), name)
    valid = _valid(arr)
    body = _no_nulls(arr)
    return _Field(_payload_lengths(body, valid), parts=[body])


# numeric ---------------------------------------------------------------------------------------------------

_NUMERIC_POS, _NUMERIC_NEG, _NUMERIC_NAN, _NUMERIC_PINF, _NUMERIC_NINF = 0x0000, 0x4000, 0xC000, 0xD000, 0xF000
_MAX_SCALE = 15  # so that unscaled values and padded fractions stay within int64
_NUMERIC_HEAD = np.dtype([("ndigits", ">i2"), ("weight", ">i2"), ("sign", ">u2"), ("dscale", ">u2")])


def _numeric(arr: pa.Array, name: str, scale: int | None) -> _Field:
    """numeric: int16 ndigits, int16 weight, uint16 sign, uint16 dscale, then ndigits int16 base-10000
    digits, most significant first, without leading/trailing zero digits (as numeric_send writes them)."""
    scale = _numeric_scale(arr, name, scale)
    unscaled, special = _unscaled(arr, name, scale)
    valid = _valid(arr)
    unscaled = np.where(valid, unscaled, 0)
    digits, weight0 = _base10000(np.abs(unscaled), scale)
    first, last = _significant(digits)
    ndigits = np.maximum(last - first + 1, 0)
    head = np.empty(len(arr), dtype=_NUMERIC_HEAD)
    head["ndigits"] = ndigits
    head["weight"] = np.where(ndigits > 0, weight0 - first, 0)
    head["sign"] = np.where(special != 0, special, np.where(unscaled < 0, _NUMERIC_NEG, _NUMERIC_POS))
    head["dscale"] = np.where(special != 0, 0, scale)
    group = np.arange(len(digits))[:, None]
    kept = digits.T[((group >= first) & (group <= last)).T].astype(">i2")
    body = binary_array(kept, cumulative(2 * ndigits))
    return _with_head(_NUMERIC_HEAD.itemsize + 2 * ndigits, head, valid, [body])


def _significant(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``digits`` (groups, n): index of the first and of the last non-zero group (groups and
    -1 when all are zero)."""
    groups, n = digits.shape
    first, last = np.full(n, groups), np.full(n, -1)
    for k in range(groups):
        nonzero = digits[k] != 0
        last = np.where(nonzero, k, last)
        first = np.where(nonzero & (first == groups), k, first)
    return first, last


def _numeric_scale(arr: pa.Array, name: str, scale: int | None) -> int:
    """Display scale: a decimal array's own, else the type name's (integers: 0; floats: required)."""
    if pa.types.is_decimal(arr.type):
        scale = arr.type.scale
    elif pa.types.is_integer(arr.type):
        scale = scale or 0
    elif scale is None:
        raise ValueError(f"column {name}: floating-point values need a scale, e.g. type 'numeric(14,2)'")
    if not 0 <= scale <= _MAX_SCALE:
        raise ValueError(f"column {name}: numeric scale {scale} not supported (0 … {_MAX_SCALE})")
    return scale


def _unscaled(arr: pa.Array, name: str, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """int64 values × 10**scale, and per row 0 or the sign code of NaN/±Infinity (floats only)."""
    special = np.zeros(len(arr), dtype=np.uint16)
    if pa.types.is_decimal(arr.type):
        unscaled = _unscaled_decimal(arr, name)
    elif pa.types.is_integer(arr.type):
        ints = _cast(arr, pa.int64(), name).fill_null(0).to_numpy()
        if np.any(np.abs(ints) >= 2**63 // 10**scale):
            raise ValueError(f"column {name}: numeric value too large for scale {scale}")
        unscaled = ints * 10**scale
    else:
        x = _cast(arr, pa.float64(), name)
        x = (x.fill_null(0.0) if x.null_count else x).to_numpy(zero_copy_only=False)
        special = np.select([np.isnan(x), x == np.inf, x == -np.inf],
                            [_NUMERIC_NAN, _NUMERIC_PINF, _NUMERIC_NINF], 0).astype(np.uint16)
        scaled = np.rint(np.where(special == 0, x, 0.0) * 10.0**scale)  # half to even
        if np.any(np.abs(scaled) >= 2.0**63):
            raise ValueError(f"column {name}: numeric value too large for scale {scale}")
        unscaled = scaled.astype(np.int64)
    if np.any(unscaled == np.iinfo(np.int64).min):
        raise ValueError(f"column {name}: numeric value out of range")
    return unscaled, special


def _unscaled_decimal(arr: pa.Array, name: str) -> np.ndarray:
    """The int64 unscaled values of a decimal array (ValueError beyond int64: up to 18 digits always fit)."""
    if not pa.types.is_decimal128(arr.type):
        arr = _cast(arr, pa.decimal128(38, arr.type.scale), name)
    words = np.frombuffer(arr.buffers()[1], "<i8")[2 * arr.offset: 2 * (arr.offset + len(arr))]
    low, high = words[0::2], words[1::2]
    if np.any((high != (low >> 63)) & _valid(arr)):
        raise ValueError(f"column {name}: numeric values whose unscaled integer is beyond int64 (more than 18 "
                         "digits) are not supported")
    return low


def _base10000(magnitude: np.ndarray, scale: int) -> tuple[np.ndarray, int]:
    """Base-10000 digits (groups, n), most significant first, of ``magnitude * 10**-scale`` (int64 ≥ 0),
    and the weight of group 0 (as many whole-number groups as the largest value needs)."""
    frac_groups = -(-scale // 4)
    whole, frac = np.divmod(magnitude, 10**scale)
    frac *= 10 ** (4 * frac_groups - scale)
    int_groups = 1
    largest = int(whole.max()) if len(whole) else 0
    while largest >= 10_000**int_groups:
        int_groups += 1
    digits = np.empty((int_groups + frac_groups, len(magnitude)), dtype=np.int64)
    for k in range(int_groups):
        digits[k] = whole // 10_000 ** (int_groups - 1 - k) % 10_000
    for k in range(frac_groups):
        digits[int_groups + k] = frac // 10_000 ** (frac_groups - 1 - k) % 10_000
    return digits, int_groups - 1


# text[] ----------------------------------------------------------------------------------------------------

_ARRAY_HEAD = np.dtype([("ndim", ">i4"), ("hasnull", ">i4"), ("elemtype", ">u4"), ("dim", ">i4"), ("lbound", ">i4")])
_EMPTY_ARRAY_HEAD = 12  # ndim 0, hasnull 0, elemtype: no dimension entries


def _text_array(arr: pa.Array, name: str) -> _Field:
    """text[] (one dimension): int32 ndim (1; 0 for an empty array), int32 has-NULL flag, uint32 element type
    oid (25), then when ndim = 1 int32 length and int32 lower bound (1); then per element int32 length
    (-1 = NULL) and UTF-8 bytes."""
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        raise ValueError(f"column {name}: text[] needs a list<string> array, not {arr.type}")
    valid = _valid(arr)
    counts, elements = _list_elements(arr, valid, name)
    elem_valid = _valid(elements)
    elem_body = _no_nulls(elements)
    elem_fields = concat_rows([fixed_array(_payload_lengths(elem_body, elem_valid).astype(">i4")), elem_body])
    body = spans(elem_fields, cumulative(counts))

    head = np.empty(len(arr), dtype=_ARRAY_HEAD)
    head["ndim"] = counts > 0
    head["hasnull"] = np.diff(cumulative(~elem_valid)[cumulative(counts)]) > 0
    head["elemtype"] = TEXT_OID
    head["dim"] = counts
    head["lbound"] = 1
    head_len = np.where(counts > 0, _ARRAY_HEAD.itemsize, _EMPTY_ARRAY_HEAD)
    lengths = head_len + np.diff(offsets_of(body))
    if lengths.size and lengths.max() > _INT32_MAX:
        raise ValueError(f"column {name}: an array value is longer than 2 GB")
    if (counts > 0).all():
        return _with_head(lengths, head, valid, [body])
    head_len = np.where(valid, head_len, 0)
    head_bytes = head.view(np.uint8).reshape(len(arr), _ARRAY_HEAD.itemsize)
    heads = binary_array(head_bytes[np.arange(_ARRAY_HEAD.itemsize) < head_len[:, None]], cumulative(head_len))
    return _Field(np.where(valid, lengths, -1).astype(np.int32), parts=[heads, body])


def _list_elements(arr: pa.Array, valid: np.ndarray, name: str) -> tuple[np.ndarray, pa.Array]:
    """Element counts per row (0 for NULL rows) and the elements in row order, as a string array."""
    child_type = pa.large_string() if pa.types.is_large_string(arr.type.value_type) else pa.string()
    offsets = np.asarray(arr.offsets, dtype=np.int64)
    counts = np.diff(offsets)
    elements = _cast(arr.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0])), child_type, name)
    if not valid.all():  # a NULL list may still span elements: drop them
        elements = elements.filter(pa.array(np.repeat(valid, counts)))
        counts = np.where(valid, counts, 0)
    return counts, elements


# dispatch --------------------------------------------------------------------------------------------------

_ENCODERS: dict[str, Callable[[pa.Array, str], _Field]] = {
    "int2": _number_encoder(pa.int16(), ">i2"),
    "int4": _number_encoder(pa.int32(), ">i4"),
    "int8": _number_encoder(pa.int64(), ">i8"),
    "float4": _number_encoder(pa.float32(), ">f4"),
    "float8": _number_encoder(pa.float64(), ">f8"),
    "bool": _bool,
    "text": _text,
    "bytea": _bytes,
    "geometry": _bytes,
    "date": _date,
    "timestamptz": _timestamp,
    "timestamp": _timestamp,
    "text[]": _text_array,
}
_ALIASES = {"smallint": "int2", "integer": "int4", "int": "int4", "bigint": "int8", "real": "float4",
            "double precision": "float8", "boolean": "bool", "varchar": "text", "_text": "text[]",
            "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp"}
_NUMERIC_RE = re.compile(r"(?:numeric|decimal)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?")

SUPPORTED_TYPES = tuple([*_ENCODERS, "numeric", "numeric(p,s)"])


def _encoder(type_name: str) -> Callable[[pa.Array, str], _Field]:
    """The column encoder of a PostgreSQL type name (ValueError if unsupported)."""
    key = " ".join(type_name.strip().lower().split())
    key = _ALIASES.get(key, key)
    if key in _ENCODERS:
        return _ENCODERS[key]
    if m := _NUMERIC_RE.fullmatch(key):
        scale = int(m.group(2)) if m.group(2) is not None else (0 if m.group(1) else None)
        return lambda arr, name: _numeric(arr, name, scale)
    raise ValueError(f"unsupported column type {type_name!r}: supported are {', '.join(SUPPORTED_TYPES)}")


# rows ------------------------------------------------------------------------------------------------------


def _records(values: list[np.ndarray], n: int) -> pa.Array:
    """One packed record per row made of the given big-endian arrays (field count, lengths, heads)."""
    rec = np.empty(n, dtype=np.dtype([(f"f{i}", v.dtype) for i, v in enumerate(values)]))
    for i, v in enumerate(values):
        rec[f"f{i}"] = v
    return fixed_array(rec)


def encode_rows(columns: list[tuple[str, pa.Array | pa.ChunkedArray | np.ndarray]]) -> memoryview:
    """Binary COPY tuple data of one batch: per row int16 field count, then per field int32 length (-1 =
    NULL) and the value's binary form, big-endian. No file header/trailer (``HEADER``, ``TRAILER``).

    ``columns``: (PostgreSQL type name, values) in COPY column order, values all of the same length: pyarrow
    arrays (NULLs allowed) or numpy arrays. Types: int2, int4, int8, float4, float8, bool, text, bytea,
    geometry (EWKB bytes), date, timestamptz/timestamp, numeric / numeric(p,s) (decimal, integer, or float
    rounded to s decimals), text[] (list<string>). Returns a memoryview over the encoded bytes."""
    if not 0 < len(columns) <= _MAX_COLUMNS:
        raise ValueError(f"encode_rows needs 1 … {_MAX_COLUMNS} columns, got {len(columns)}")
    encoders = [_encoder(type_name) for type_name, _ in columns]
    names = [f"#{i} ({type_name})" for i, (type_name, _) in enumerate(columns)]
    arrays = [_to_arrow(values, name) for (_, values), name in zip(columns, names, strict=True)]
    if len({len(a) for a in arrays}) != 1:
        raise ValueError(f"columns have different lengths: {[len(a) for a in arrays]}")
    n = len(arrays[0])
    if n == 0:
        return memoryview(b"")
    pending: list[np.ndarray] = [np.full(n, len(columns), dtype=">i2")]
    segments: list[pa.Array] = []
    for arr, encode, name in zip(arrays, encoders, names, strict=True):
        f = encode(arr, name)
        pending.append(f.lengths.astype(">i4"))
        if f.head is not None:
            pending.append(f.head)
        if f.parts:
            segments += [_records(pending, n), *f.parts]
            pending = []
    if pending:
        segments.append(_records(pending, n))
    return as_bytes(concat_rows(segments))


def numeric_unscaled(arr: pa.Array, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """The int64 values × 10**scale that a ``numeric(…, scale)`` column of :func:`encode_rows` sends for ``arr``
    (what the server stores, exactly), and per row 0 or the sign code of NaN/±Infinity."""
    return _unscaled(arr, "numeric", scale)
