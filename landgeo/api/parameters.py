"""Items requests, step 1 of 3: parameters -> one validated :class:`ItemsQuery` (tham số của yêu cầu).

The request flows parameters (this module) -> SQL (:mod:`landgeo.api.statements`) -> run (:mod:`landgeo.api.query`).
:func:`build_query` is the one builder of an items query: the fast JSON path (:func:`parse_items`, from the query
string of ``/collections/{id}/items``) and pygeoapi's provider (:mod:`landgeo.api.provider`, from pygeoapi's
already-split arguments) both go through it, so a rule (limits, sortable properties, queryables, CRSs, cursors)
is written once. CRS names are read by the registry's parser (:func:`landgeo.api.crs.parse_crs`).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from landgeo.api import limits
from landgeo.api.collections import Collection
from landgeo.api.cql2 import FilterError, parse_filter
from landgeo.api.crs import CRS84, ApiCrs, parse_crs
from landgeo.api.limits import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, LimitError

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "ApiError", "ItemsQuery", "TimeFilter", "bad", "build_query",
           "decode_cursor", "encode_cursor", "parse_datetime", "parse_items"]

RESERVED = frozenset({
    "f", "limit", "offset", "cursor", "crs", "bbox", "bbox-crs", "datetime", "properties", "skipGeometry",
    "sortby", "filter", "filter-lang", "filter-crs", "resulttype", "lang",
})
SORTABLE_TYPES = frozenset({"text", "integer", "number", "date", "datetime"})


class ApiError(Exception):
    """A request the API refuses: HTTP status, OGC exception code, one-line description."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description

    def body(self) -> bytes:
        return json.dumps({"code": self.code, "type": self.code, "description": self.description}).encode()


def bad(description: str) -> ApiError:
    return ApiError(400, "InvalidParameterValue", description)


def query_string_error(raw: str) -> ApiError | None:
    """The 400 for a query string above :data:`landgeo.api.limits.MAX_QUERY_STRING` bytes, else None."""
    try:
        limits.check_query_string(raw)
    except LimitError as exc:
        return bad(str(exc))
    return None


def body_error(length: int) -> ApiError | None:
    """The 400 for a POSTed filter above :data:`landgeo.api.limits.MAX_FILTER_BYTES` bytes, else None."""
    if length > limits.MAX_FILTER_BYTES:
        return bad(f"filter body is {length} bytes; the limit is {limits.MAX_FILTER_BYTES} bytes")
    return None


# ---------------------------------------------------------------- values

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_instant(text: str, end: bool = False) -> dt.datetime:
    """An RFC 3339 date-time (UTC if no offset) or a date (its first instant; with ``end``, the next day's)."""
    value = text.strip()
    try:
        if _DATE_RE.match(value):
            day = dt.date.fromisoformat(value)
            moment = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
            return moment + dt.timedelta(days=1) if end else moment
        moment = dt.datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError as exc:
        raise bad(f"datetime {text[:60]!r} is not an RFC 3339 date or date-time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class TimeFilter:
    """``datetime``: an instant, or an interval with open ends (None)."""

    start: dt.datetime | None
    end: dt.datetime | None
    instant: bool


def parse_datetime(text: str) -> TimeFilter:
    if "/" in text:
        parts = text.split("/")
        if len(parts) != 2:
            raise bad(f"datetime {text[:60]!r}: an interval is start/end")
        start = None if parts[0] in ("", "..") else parse_instant(parts[0])
        end_is_day = _DATE_RE.match(parts[1].strip()) is not None
        end = None if parts[1] in ("", "..") else parse_instant(parts[1], end=end_is_day)
        if start and end and start > end:
            raise bad(f"datetime {text[:60]!r}: start is after end")
        return TimeFilter(start, end, False)
    if _DATE_RE.match(text.strip()):  # a day: the versions alive at some time that day
        return TimeFilter(parse_instant(text), parse_instant(text, end=True), False)
    return TimeFilter(parse_instant(text), None, True)


def _numbers(text: str, name: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError as exc:
        raise bad(f"{name} {text[:80]!r}: four (or six) comma-separated numbers expected") from exc


def _bool(text: str, name: str) -> bool:
    low = text.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise bad(f"{name} must be true or false, not {text[:40]!r}")


def _int(text: str | int, name: str) -> int:
    try:
        return int(text)
    except (TypeError, ValueError) as exc:
        raise bad(f"{name} must be an integer, not {str(text)[:40]!r}") from exc


def _crs(value: str | None, collection: Collection) -> ApiCrs:
    try:
        return parse_crs(value or CRS84, collection.crs_uris)
    except ValueError as exc:
        raise bad(str(exc)) from exc


# ---------------------------------------------------------------- the query object

@dataclass
class ItemsQuery:
    """A validated items request: what to select, in which CRS, in which order, from which position."""

    collection: Collection
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    crs: ApiCrs = field(default_factory=lambda: parse_crs(CRS84, [CRS84]))
    bbox: tuple[float, ...] | None = None
    bbox_crs: ApiCrs | None = None
    time: TimeFilter | None = None
    properties: list[tuple[str, str]] = field(default_factory=list)
    select: list[str] | None = None
    skip_geometry: bool = False
    sortby: list[tuple[str, bool]] = field(default_factory=list)  # (property, ascending)
    filter_ast: object | None = None
    filter_crs: ApiCrs | None = None
    cursor: dict | None = None
    hits: bool = False
    unavailable: tuple[str, ...] = ()  # provinces whose own database does not answer: left out (federation)
    #: the register only: an officer's scope (provinces, communes), repeated in the page's SQL so that the indexes
    #: find it (``province_code = '79'``: the (code, id) index walks it in page order); row-level security still
    #: decides every row (the repetition can only narrow). See :func:`landgeo.api.guard.scope_hint`.
    scope: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    @property
    def sort_signature(self) -> str:
        return ",".join(("+" if asc else "-") + name for name, asc in self.sortby)

    @property
    def unfiltered(self) -> bool:
        return self.bbox is None and not self.properties and self.filter_ast is None and self.time is None


def build_query(collection: Collection, *, limit: int | str | None = None, offset: int | str | None = None,
                crs: ApiCrs | str | None = None, bbox: Iterable[float] | None = None,
                bbox_crs: ApiCrs | str | None = None, datetime: str | None = None,
                properties: Iterable[tuple[str, object]] = (), select: Iterable[str] | None = None,
                skip_geometry: bool = False, sortby: Iterable[tuple[str, bool]] = (),
                filter_ast: object | None = None, filter_crs: ApiCrs | str | None = None,
                cursor: str | None = None, hits: bool = False) -> ItemsQuery:
    """The one builder of an items query: every rule about a request's values, 400 (:class:`ApiError`) on the
    first value that breaks one. CRS arguments are :class:`ApiCrs` or names (None: CRS84)."""
    c = collection
    fields = c.field_map
    q = ItemsQuery(c)
    if limit is not None:
        q.limit = _int(limit, "limit")
        if q.limit < 1:
            raise bad("limit must be at least 1")
        q.limit = min(q.limit, MAX_LIMIT)  # Part 1: above the maximum is not an error, the maximum is used
    if offset is not None:
        q.offset = _int(offset, "offset")
        if q.offset < 0:
            raise bad("offset must be at least 0")
        if q.offset > MAX_OFFSET:
            raise bad(f"offset {q.offset} is above the limit of {MAX_OFFSET}; follow the next links instead")
    q.crs = crs if isinstance(crs, ApiCrs) else _crs(crs, c)
    q.filter_crs = filter_crs if isinstance(filter_crs, ApiCrs) else _crs(filter_crs, c)
    if bbox is not None:
        values = tuple(float(v) for v in bbox)
        if len(values) == 6:
            values = (values[0], values[1], values[3], values[4])
        if len(values) != 4:
            raise bad("bbox: four (or six) comma-separated numbers expected")
        q.bbox_crs = bbox_crs if isinstance(bbox_crs, ApiCrs) else _crs(bbox_crs, c)
        try:
            limits.check_bbox(values, not q.bbox_crs.projected, q.bbox_crs.lat_first)
        except LimitError as exc:
            raise bad(f"bbox {','.join(f'{v:g}' for v in values)}: {exc}") from exc
        q.bbox = values
    elif bbox_crs is not None:
        raise bad("bbox-crs given without bbox")
    if datetime is not None:
        q.time = parse_datetime(datetime)
    q.hits = hits
    q.skip_geometry = skip_geometry
    if select is not None:
        names = list(select)
        unknown = [n for n in names if n not in fields]
        if unknown:
            raise bad(f"unknown properties: {', '.join(unknown)}")
        q.select = names
    for name, asc in sortby:
        if name == "id":
            if not asc:
                raise bad("sortby -id is not offered: pages follow id upwards (the keyset order)")
            break  # ascending id is the order anyway, and the tie-break of every other key
        if name not in fields or fields[name].type not in SORTABLE_TYPES:
            raise bad(f"cannot sort by {name!r}")
        q.sortby.append((name, asc))
    for name, value in properties:
        f = fields.get(name)
        if f is None:
            raise bad(f"unknown query parameter {name!r}; queryables are at /collections/{c.id}/queryables")
        if f.type == "json":
            raise bad(f"{name} is a JSON property: filter it with CQL2")
        q.properties.append((name, str(value)))
    if filter_ast is not None:
        try:
            limits.check_filter_tree(filter_ast)
        except LimitError as exc:
            raise bad(str(exc)) from exc
        q.filter_ast = filter_ast
    if cursor:
        q.cursor = decode_cursor(cursor, q)
    return q


def parse_items(collection: Collection, params: dict[str, str], body: bytes | None = None) -> ItemsQuery:
    """``/collections/{id}/items`` query string (and POST body) -> :func:`build_query`."""
    for name in params:
        if name not in RESERVED and name not in collection.field_map:
            raise bad(f"unknown query parameter {name!r}; queryables are at /collections/{collection.id}/queryables")
    resulttype = params.get("resulttype")
    if resulttype and resulttype not in ("results", "hits"):
        raise bad("resulttype is results or hits")
    select = None
    if params.get("properties") is not None:
        select = [n.strip() for n in params["properties"].split(",") if n.strip()]
    sortby = []
    for item in (params.get("sortby") or "").split(","):
        item = item.strip()
        if not item:
            continue
        asc = not item.startswith("-")
        name = item.lstrip("+-").strip()
        if " " in name:  # "name DESC" form
            name, _, direction = name.partition(" ")
            asc = direction.strip().upper() != "DESC"
        sortby.append((name, asc))
    text = params.get("filter")
    lang = params.get("filter-lang")
    if text is None and body:
        text, lang = body.decode("utf-8", "replace"), lang or "cql2-json"
    tree = None
    if text is not None:
        try:
            limits.check_filter_text(text)
            tree = parse_filter(text, lang)
        except (FilterError, LimitError) as exc:
            raise bad(str(exc)) from exc
    elif lang is not None and lang.lower() not in ("cql2-text", "cql2-json"):
        raise bad(f"filter-lang {lang[:40]!r} is not supported; use cql2-text or cql2-json")
    return build_query(
        collection, limit=params.get("limit"), offset=params.get("offset"), crs=params.get("crs"),
        bbox=_numbers(params["bbox"], "bbox") if "bbox" in params else None, bbox_crs=params.get("bbox-crs"),
        datetime=params.get("datetime"),
        properties=[(k, v) for k, v in params.items() if k not in RESERVED],
        select=select, skip_geometry=_bool(params["skipGeometry"], "skipGeometry") if "skipGeometry" in params
        else False, sortby=sortby, filter_ast=tree, filter_crs=params.get("filter-crs"),
        cursor=params.get("cursor"), hits=resulttype == "hits")


# ---------------------------------------------------------------- cursor

def encode_cursor(q: ItemsQuery, keys: list, number_matched: int | None, estimate: int | None = None,
                  counted: bool = True) -> str:
    """The opaque ``next`` token: collection, sort order, keys of the last row, numberMatched (or the estimate
    and whether an exact count is still to be made, see :mod:`landgeo.api.query`)."""
    data = {"c": q.collection.id, "s": q.sort_signature, "k": keys, "n": number_matched}
    if estimate is not None:
        data["e"] = estimate
    if not counted:
        data["u"] = 1
    raw = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(token: str, q: ItemsQuery) -> dict:
    try:
        if len(token) > 4096:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        keys = data["k"]
        ok = isinstance(data, dict) and isinstance(keys, list) and len(keys) == len(q.sortby) + 1
        ok = ok and isinstance(keys[-1], int) and all(k is None or isinstance(k, str) for k in keys[:-1])
    except (ValueError, KeyError, TypeError) as exc:
        raise bad("cursor is not a token this server issued (follow the next link as given)") from exc
    if not ok or data.get("c") != q.collection.id or data.get("s") != q.sort_signature:
        raise bad("cursor does not belong to this collection and sort order (follow the next link as given)")
    for key in ("n", "e"):
        value = data.get(key)
        data[key] = value if isinstance(value, int) and not isinstance(value, bool) else None
    data["u"] = data.get("u") == 1
    return data
