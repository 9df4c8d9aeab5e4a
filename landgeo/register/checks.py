"""The loaders' validation on a register write, before commit (kiểm tra trước khi ghi).

Two passes, both the public functions of :mod:`landgeo.validation`:

1. :func:`landgeo.validation.check_features` on the body's geometries and attributes, in the body's CRS
   (validity, type, vertices, coordinate range, land-use codes, province codes ...), before any SQL;
2. :func:`landgeo.validation.check_table` on ``landdb.parcel`` restricted to the written ids, inside the write's
   transaction (it sees the new versions, uncommitted): overlap with current neighbours, inside its commune,
   map sheet, declared vs computed area, land-use code valid at the version's date, duplicate parcel number.

Findings about the written features only are kept. An ``error`` refuses the write (422 with the findings); the
rest are returned with the 2xx answer. A land-use code not valid at the version's date is an error here (the
registry files it as a warning for legacy data already stored): a new version must use codes valid when it begins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from psycopg import sql

from landdb import versions
from landdb.targets import PARCELS
from landgeo.register.errors import WriteError
from landgeo.validation import Finding, check_features, check_table

#: Set-based checks run on a write with a new geometry (topo.gap is about a whole sheet: not one write's doing).
TOPOLOGY = ("topo.overlap", "topo.duplicate", "topo.outside_commune", "topo.across_commune", "topo.wrong_sheet",
            "attr.map_sheet_missing")
ATTRIBUTES = ("attr.area_mismatch", "attr.land_use_code_not_valid_at_time", "attr.parcel_number_duplicate",
              "attr.commune_not_valid_at_time")
PROMOTED_TO_ERROR = frozenset({"attr.land_use_code_not_valid_at_time"})


def as_json(f: Finding, location: dict[str, Any] | None = None) -> dict[str, Any]:
    """A finding for an API answer: code, severity, message (en and vi), location, details."""
    where: dict[str, Any] = dict(location or {})
    if f.feature_id is not None:
        where.setdefault("feature", int(f.feature_id) if str(f.feature_id).isdigit() else f.feature_id)
    if f.geometry is not None:
        try:
            p = f.geometry.representative_point()
            where["point"] = [round(p.x, 9), round(p.y, 9)]
            where["crs"] = location.get("crs") if location else None
        except Exception:  # a finding's geometry is informative only
            pass
    severity = "error" if f.code in PROMOTED_TO_ERROR else f.severity
    return {"code": f.code, "severity": severity, "message": f.message_en, "message_vi": f.message_vi,
            "location": where, "details": f.details}


def features_pass(shapes: Sequence[Any], props: Sequence[dict[str, Any]], srid: int,
                  labels: Sequence[Any] | None = None, crs_uri: str | None = None) -> list[dict]:
    """Per-feature findings for bodies (shapely geometries in ``srid``); ``labels`` name them in locations."""
    attrs: dict[str, list] = {}
    for name in ("province_code", "commune_code", "sheet_number", "parcel_number", "declared_area"):
        attrs[name] = [p.get(name) for p in props]
    attrs["land_use_codes"] = ["+".join(p.get("land_use_codes") or []) or None for p in props]
    province = props[0].get("province_code") if props else None
    found = check_features(PARCELS, list(shapes), attrs, crs=srid, declared_crs=srid, province=province)
    out = []
    for f in found:
        loc: dict[str, Any] = {"crs": crs_uri}
        if f.feature_index is not None:
            loc["part"] = labels[f.feature_index] if labels else f.feature_index
        out.append(as_json(f, loc))
    return out


NEIGHBOURHOOD = "pg_temp.register_check"


def _neighbourhood(conn, ids: list[int], province: str) -> None:
    """A temporary copy of the written rows and every current parcel that could pair with them (bounding boxes
    meet, or same commune/sheet/number): the set-based checks then cost the same on a 1 M-parcel table as on a
    small one (over ``landdb.parcel`` itself they would scan the whole table). Rows are versions (``id``); the
    findings name features (``fid``: the feature id, :mod:`landdb.versions`)."""
    conn.execute(f"DROP TABLE IF EXISTS {NEIGHBOURHOOD}")
    # the province as a constant: the planner keeps one partition instead of planning all of them
    conn.execute(f"CREATE TEMP TABLE register_check ON COMMIT DROP AS SELECT *, {versions.FEATURE_ID} AS fid "
                 "FROM landdb.parcel WHERE province_code = %s AND id = ANY(%s) AND valid_to IS NULL", (province, ids))
    for pairing in ("p.geom && w.geom", "p.commune_code = w.commune_code AND p.sheet_number = w.sheet_number "
                    "AND p.parcel_number = w.parcel_number"):  # two statements: an OR would defeat the indexes
        conn.execute(f"INSERT INTO {NEIGHBOURHOOD} SELECT p.*, coalesce(p.feature_id, p.id) FROM (SELECT * FROM "
                     f"{NEIGHBOURHOOD} "
                     "WHERE id = ANY(%s)) w JOIN landdb.parcel p ON p.province_code = %s "
                     f"AND {pairing} WHERE p.valid_to IS NULL AND NOT p.id IN (SELECT id FROM {NEIGHBOURHOOD})",
                     (ids, province))
    conn.execute(f"ANALYZE {NEIGHBOURHOOD}")


def table_pass(conn, ids: Iterable[int], geometry_changed: bool, province: str) -> list[dict]:
    """Set-based findings for the versions ``ids`` written in ``province`` (in this transaction), about features."""
    ids = sorted(set(ids))
    codes = (*ATTRIBUTES, *(TOPOLOGY if geometry_changed else ()))
    _neighbourhood(conn, ids, province)
    where = sql.SQL("id = ANY({})").format(sql.Literal(ids))
    found = check_table(conn, PARCELS, NEIGHBOURHOOD, where, id_column="fid", checks=codes)
    keep = []
    wanted = {str(r[0]) for r in conn.execute(f"SELECT fid FROM {NEIGHBOURHOOD} WHERE id = ANY(%s)", (ids,))}
    for f in found:
        other = str(f.details.get("other_id", "")) if f.details else ""
        if str(f.feature_id) in wanted or other in wanted:
            keep.append(as_json(f, {"crs": "http://www.opengis.net/def/crs/EPSG/0/4756"}))
    return keep


def refuse_on_errors(findings: list[dict], what: str) -> list[dict]:
    """Raise a 422 with every finding when one is an error; else the warnings (and infos) to return."""
    errors = [f for f in findings if f["severity"] == "error"]
    if errors:
        first = errors[0]
        raise WriteError(422, "ValidationFailed", f"{what} refused: {first['code']}: {first['message']}"
                         + (f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""), findings)
    return findings
