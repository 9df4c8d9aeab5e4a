"""A GeoJSON Feature sent to the register -> parcel properties and a geometry, or one clear 400 line.

Properties are the catalogue's parcel fields (:data:`landdb.targets.PARCELS`); those the database derives or the
register keeps (``computed_area``, ``area_srid``, ``source_srid``, ``valid_from``, ``valid_to``) are accepted
and ignored, so a client may send back what it read. Any other name is refused, as is a value of the wrong type.
The geometry must be a Polygon or MultiPolygon; its coordinates are in the body's CRS (``Content-Crs``,
CRS84 when absent), axis order as the CRS says (EPSG:4326 and EPSG:4756 latitude first).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import shapely

from landdb.targets import PARCELS
from landdb.versions import WRITABLE
from landgeo.register.errors import WriteError, bad

READ_ONLY = frozenset({"computed_area", "area_srid", "source_srid", "valid_from", "valid_to"})
REQUIRED = tuple(f for f in PARCELS.required_fields if f in WRITABLE)
MAX_BODY = 5_000_000
_GEOMETRY_TYPES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class Geometry:
    """A body's geometry: GeoJSON text in CRS axis order x/y (easting/longitude first), its SRID, shapely copy."""

    text: str
    srid: int
    shape: Any


def parse_json(raw: bytes) -> Any:
    if len(raw) > MAX_BODY:
        raise WriteError(413, "PayloadTooLarge", f"body larger than {MAX_BODY // 1_000_000} MB")
    if not raw.strip():
        raise bad("empty body: send a GeoJSON Feature")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad(f"body is not JSON: {exc}") from None


def feature(doc: Any, where: str = "body") -> tuple[dict, Any]:
    """(properties, geometry object) of a GeoJSON Feature."""
    if not isinstance(doc, dict) or doc.get("type") != "Feature":
        found = doc.get("type") if isinstance(doc, dict) else type(doc).__name__
        raise bad(f"{where} is not a GeoJSON Feature (type {found!r})")
    props = doc.get("properties")
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise bad(f"{where}: properties must be an object")
    return props, doc.get("geometry")


def update_properties(doc: Any, *, partial: bool) -> dict:
    """The raw properties of a PUT body (a whole Feature) or a PATCH body (a JSON merge patch of one), checked for
    shape: a 400 naming what is wrong."""
    if not isinstance(doc, dict) or (not partial and doc.get("type") != "Feature"):
        raise bad("body is not a GeoJSON Feature" if not partial else "merge patch must be a JSON object")
    if not partial:
        return feature(doc)[0]
    unknown = sorted(set(doc) - {"type", "id", "properties", "geometry", "document", "links"})
    if unknown:
        raise bad(f"unknown member {unknown[0]!r} in the merge patch")
    raw_props = doc.get("properties") or {}
    if not isinstance(raw_props, dict):
        raise bad("properties must be an object")
    return raw_props


def _value(name: str, value: Any) -> Any:
    """One property value checked against its catalogue type (None stays None)."""
    if value is None:
        return None
    kind = PARCELS.field(name).type
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise bad(f"property {name} must be an integer, got {json.dumps(value, ensure_ascii=False)[:40]}")
        if value <= 0:
            raise bad(f"property {name} must be positive, got {value}")
        return value
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise bad(f"property {name} must be a number, got {json.dumps(value, ensure_ascii=False)[:40]}")
        if value < 0:
            raise bad(f"property {name} must not be negative, got {value}")
        return float(value)
    if kind == "text[]":
        if isinstance(value, str):
            value = [v for v in value.replace(",", "+").split("+") if v.strip()]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise bad(f"property {name} must be a non-empty list of codes (e.g. [\"ONT\", \"CLN\"])")
        return [v.strip().upper() for v in value]
    if not isinstance(value, str):
        raise bad(f"property {name} must be text, got {json.dumps(value, ensure_ascii=False)[:40]}")
    return value.strip()


def properties(raw: dict, *, partial: bool = False) -> dict[str, Any]:
    """Writable properties of a body (``partial``: a merge patch, where null removes an optional value)."""
    unknown = sorted(k for k in raw if k not in WRITABLE and k not in READ_ONLY)
    if unknown:
        raise bad(f"unknown property {unknown[0]!r}; parcels have: {', '.join(WRITABLE)}")
    out = {k: _value(k, v) for k, v in raw.items() if k in WRITABLE}
    for name in REQUIRED:
        if (not partial and out.get(name) is None) or (partial and name in out and out[name] is None):
            raise bad(f"property {name} is required")
    if out.get("province_code") is not None and not (len(out["province_code"]) == 2 and out["province_code"].isdigit()):
        raise bad(f"province_code must be 2 digits, got {out['province_code']!r}")
    if out.get("commune_code") is not None and not (len(out["commune_code"]) == 5 and out["commune_code"].isdigit()):
        raise bad(f"commune_code must be 5 digits, got {out['commune_code']!r}")
    return out


def geometry(obj: Any, srid: int, lat_first: bool, where: str = "geometry",
             kinds: tuple[str, ...] = _GEOMETRY_TYPES, what: str = "a parcel") -> Geometry:
    """A GeoJSON geometry of one of ``kinds`` (Polygon/MultiPolygon for parcels) -> :class:`Geometry` (x/y order),
    or a 400 line."""
    need = " or ".join(kinds)
    if obj is None:
        raise bad(f"{where} is missing (null): {what} needs a {need}")
    if not isinstance(obj, dict) or "type" not in obj:
        raise bad(f"{where} is not a GeoJSON geometry object")
    if obj["type"] not in kinds:
        raise WriteError(400, "InvalidParameterValue", f"{where} is a {obj['type']}: {what} needs a {need}")
    try:
        shape = shapely.from_geojson(json.dumps(obj))
    except Exception as exc:  # shapely raises GEOSException / ValueError on malformed coordinates
        raise bad(f"{where} is not valid GeoJSON: {str(exc).splitlines()[0][:120]}") from None
    if shape.is_empty:
        raise WriteError(422, "InvalidGeometry", f"{where} is empty")
    if not shapely.is_valid(shape):
        reason = shapely.is_valid_reason(shape)
        raise WriteError(422, "InvalidGeometry", f"{where} is not a valid polygon: {reason}")
    if lat_first:
        shape = shapely.transform(shape, lambda xy: xy[:, ::-1])
    return Geometry(shapely.to_geojson(shape), srid, shape)
