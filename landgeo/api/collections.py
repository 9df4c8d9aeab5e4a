"""The published collections (bộ sưu tập được công bố): one per catalogue target, plus validation findings.

A :class:`Collection` tells the query builder everything it needs about a table: its identifiers (from the
catalogue only), the properties it publishes, where its geometry lives in each datum, and how time applies to it.
Personal data (schema ``landdb_restricted``) is a collection only when its catalogue target says ``restricted``: it
is then read through its ``published_as`` view (security-invoker: row-level security decides) and only by those
allowed (:mod:`landgeo.api.guard`); any other target in a restricted schema is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from psycopg import sql

from landdb.reference import COMPUTED_FIELDS, REFERENCE_TABLES
from landgeo.api.crs import CRS84, epsg_uri, national_crs_uris
from landgeo.catalog import Field, Target, targets
from landgeo.crs.srids import VN2000_GEOGRAPHIC

FINDINGS_ID = "validation-findings"
RESTRICTED_SCHEMAS = frozenset({"landdb_restricted", "staging"})

#: Columns published in addition to the catalogue fields (computed or lineage-free facts that users ask for).
EXTRA_FIELDS: dict[str, tuple[Field, ...]] = {
    "parcels": (
        Field("computed_area", "number", "Diện tích tính toán (m²) — area computed in the province TM-3 plane"),
        Field("area_srid", "integer", "EPSG code of the TM-3 CRS where the legal area is measured"),
        Field("source_srid", "integer", "EPSG code of the CRS the parcel was surveyed in"),
    ),
    "map-sheets": (Field("source_srid", "integer", "EPSG code of the CRS the sheet was surveyed in"),),
}

FINDINGS_FIELDS = (
    Field("check_code", "text", "Mã kiểm tra — check code", required=True),
    Field("severity", "text", "Mức độ — error | warning | info", required=True),
    Field("target", "text", "Collection / target checked", required=True),
    Field("feature_id", "text", "Id of the feature the finding is about"),
    Field("province_code", "text", "Mã tỉnh — province code"),
    Field("commune_code", "text", "Mã xã — commune code"),
    Field("message_vi", "text", "Nội dung (tiếng Việt)", required=True),
    Field("message_en", "text", "Message (English)", required=True),
    Field("details", "json", "Details of the finding"),
    Field("run_id", "integer", "Validation run id"),
    Field("batch_id", "integer", "Load batch id"),
    Field("found_at", "datetime", "Thời điểm phát hiện — when it was found"),
)

SQL_TYPES = {
    "text": "text", "integer": "bigint", "number": "numeric", "date": "date", "datetime": "timestamptz",
    "text[]": "text[]", "json": "jsonb",
}


@dataclass(frozen=True)
class Collection:
    """How one table is published."""

    id: str
    title: str
    description: str
    keywords: tuple[str, ...]
    schema: str
    table: str
    geometry_type: str
    fields: tuple[Field, ...]
    wgs84_column: str | None  # geometry column in WGS 84 (SRID 4326); None: a non-spatial collection (code lists)
    vn2000_column: str | None  # canonical VN-2000 geometry column (SRID 4756), None when stored in WGS 84
    lifespan: tuple[str, str] | None  # (begin, end) columns of a versioned table: datetime = "as it was"
    instant: str | None  # timestamp column of an event table (findings)
    lifespan_type: str = "datetime"  # 'date' for admin units
    computed: tuple[tuple[str, str], ...] = ()  # (property, SQL expression from the catalogue) — not columns
    restricted: bool = False  # the register: identity required, row-level security, every read audited
    tile_summaries: bool = False  # tiles: features from the parcel zoom, commune/province summaries below
    current_counts: str | None = None  # exact current-version counts per id block (offset pages skip blocks)
    feature_ids: bool = False  # one row per version: the feature id is coalesce(feature_id, id) (migration 0200)
    #: the register: (scope column, (link table "schema.table", the link's column holding the row's id)) for a scope
    #: code the rows reach through a link: a party's communes are those of its rights (migration 0190)
    scope_via: tuple[tuple[str, tuple[str, str]], ...] = ()

    def column(self, name: str) -> sql.Composable:
        """The SQL of a published property: its column, or the catalogue's expression for a computed one."""
        for prop, expression in self.computed:
            if prop == name:
                return sql.SQL(expression)
        return sql.Identifier(name)

    def feature_id(self, alias: str | None = None) -> sql.Composable:
        """The SQL of a row's published feature id: ``coalesce(feature_id, id)`` where versions are rows
        (:mod:`landdb.versions`), the row id elsewhere."""
        def col(name: str) -> sql.Composable:
            return sql.Identifier(alias, name) if alias else sql.Identifier(name)
        if self.feature_ids:
            return sql.SQL("coalesce({}, {})").format(col("feature_id"), col("id"))
        return col("id")

    def of_feature(self) -> sql.Composable:
        """The condition "a row (a version) of feature ``%(fid)s``", served by the key index and the partial index
        on ``feature_id``."""
        if self.feature_ids:
            return sql.SQL("((id = %(fid)s AND feature_id IS NULL) OR feature_id = %(fid)s)")
        return sql.SQL("id = %(fid)s")

    @property
    def has_geometry(self) -> bool:
        return self.wgs84_column is not None

    @property
    def field_map(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def storage_crs(self) -> str:
        return epsg_uri(VN2000_GEOGRAPHIC) if self.vn2000_column else CRS84

    @property
    def crs_uris(self) -> list[str]:
        return national_crs_uris() if self.has_geometry else [CRS84]

    @property
    def time_field(self) -> str | None:
        return self.lifespan[0] if self.lifespan else self.instant


def _from_target(target: Target) -> Collection:
    if target.schema in RESTRICTED_SCHEMAS and not (target.restricted and target.extra.get("published_as")):
        raise ValueError(f"target {target.id} is in {target.schema}: never published")
    names = [f.name for f in target.fields]
    lifespan = ("valid_from", "valid_to") if {"valid_from", "valid_to"} <= set(names) else None
    lifespan_type = target.field("valid_from").type if lifespan else "datetime"
    spatial = target.spatial
    return Collection(
        id=target.id, title=target.title, description=target.description, keywords=tuple(target.keywords),
        schema=target.schema, table=target.extra.get("published_as", target.table),
        geometry_type=target.geometry_type, restricted=target.restricted, tile_summaries=target.tile_summaries,
        current_counts=target.current_counts, feature_ids=target.versioning == "version-rows",
        scope_via=tuple((code, tuple(link)) for code, link in target.extra.get("scope_via", {}).items()),
        fields=(*target.fields, *EXTRA_FIELDS.get(target.id, ()),
                *(f for f, _e in COMPUTED_FIELDS.get(target.id, ()))),
        wgs84_column="geom_wgs84" if spatial else None, vn2000_column="geom" if spatial else None,
        lifespan=lifespan, instant=None, lifespan_type=lifespan_type,
        computed=tuple((f.name, expr) for f, expr in COMPUTED_FIELDS.get(target.id, ())),
    )


FINDINGS = Collection(
    id=FINDINGS_ID,
    title="Kết quả kiểm tra dữ liệu — validation findings",
    description="Findings of the topology and coordinate-system checks, located for the map (WGS 84).",
    keywords=("kiểm tra", "validation", "quality"),
    schema="meta", table="validation_finding", geometry_type="Geometry", fields=FINDINGS_FIELDS,
    wgs84_column="geom", vn2000_column=None, lifespan=None, instant="found_at",
)


@lru_cache(maxsize=1)
def collections() -> dict[str, Collection]:
    """Every published collection by id: the catalogue's targets, validation findings, then the non-spatial
    reference tables (official administrative unit codes, the 2025 crosswalk)."""
    found = {t.id: _from_target(t) for t in targets().values()}
    found[FINDINGS_ID] = FINDINGS
    found.update((t.id, _from_target(t)) for t in REFERENCE_TABLES)
    return found


def get_collection(collection_id: str) -> Collection | None:
    return collections().get(collection_id)
