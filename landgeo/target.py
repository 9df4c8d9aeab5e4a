"""What a catalogue entry is: a :class:`Target` (one table that loaders fill and the API publishes) and its
:class:`Field` s, with the facts the code needs about the table — partition key, scope of a replace, the
columns the loader computes, the set-based checks that apply — so that no module branches on a target's id.

The entries themselves are in ``landdb.targets`` and ``geobase.themes``; :mod:`landgeo.catalog` gathers them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column types as the loaders and the API see them.
FIELD_TYPES = ("text", "integer", "number", "date", "datetime", "text[]", "json")


@dataclass(frozen=True)
class Field:
    """One attribute of a target (a column of its table)."""

    name: str
    type: str
    description: str
    required: bool = False
    aliases: tuple[str, ...] = ()  # source field names recognised without a mapping file
    choices: tuple[str, ...] = ()  # the values allowed (validation's attr.domain), empty = any
    pattern: str | None = None  # a regular expression the whole value matches (validation's attr.domain)
    rule: tuple[str, str] | None = None  # (Vietnamese, English) wording of choices/pattern in a finding

    def __post_init__(self) -> None:
        if self.type not in FIELD_TYPES:
            raise ValueError(f"unknown field type {self.type!r}")


@dataclass(frozen=True)
class Target:
    """A table that loaders fill and the API publishes."""

    id: str
    schema: str
    table: str
    title: str
    description: str
    geometry_type: str  # PostGIS type of ``geom``: MultiPolygon, MultiLineString, Point; "None" (register)
    fields: tuple[Field, ...]
    natural_key: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    # -- facts the loaders and validation act on (instead of branching on the id) --------------------------
    partition_key: str | None = None  # the table is partitioned by this column (a province's first load
    #                                   builds its partition; key lookups lead with it so partitions prune)
    replace_scope: str = "province_code"  # --mode replace closes the current versions of these values
    province_from_commune: bool = False  # province_code derived from commune_code (landdb.admin_unit) if absent
    computed_columns: tuple[str, ...] = ()  # written by the loader: geom_wgs84 (official operation),
    #                                         area_srid + computed_area (legal area in the province's TM-3 plane)
    unique_current_key: bool = False  # a unique index on the natural key of current versions arbitrates inserts
    history_table: str | None = None  # versions linked parent -> child (same schema), e.g. parcel_history
    topology: str | None = None  # the set-based checks of landgeo.validation.table that apply:
    #                              parcel-cover | admin-cover | network | boundary-lines
    is_admin_unit: bool = False  # rows are administrative units themselves (scoped by their own code)
    restricted: bool = False  # personal data (landdb.register): published only to those allowed, audited
    tile_summaries: bool = False  # vector tiles: features from the parcel zoom, commune/province aggregates below
    # -- writes through the API (OGC API – Features Part 4), enforced by row-level security (migrations 0100, 0160)
    write_scope: str | None = None  # None: read-only; "commune": officers inside their provinces/communes and
    #                                 admins (access.in_scope); "national": admins only (access.is_admin)
    write_model: str = "features"  # "register": the parcel register (landgeo.register.writes, mutations, parcel
    #                                checks); "features": generic feature writes (landgeo.register.features)
    versioning: str | None = None  # "version-rows": a write closes the current row (valid_to) and inserts the new
    #                                state as a new row with the same feature id (coalesce(feature_id, id),
    #                                migration 0200) — see docs/register.md; None: not versioned
    current_counts: str | None = None  # table (same schema) of exact current-version counts per partition value
    #                                    and block of 16384 ids: unfiltered offset pages skip whole blocks (0140)

    @property
    def spatial(self) -> bool:
        """False for register targets (no geometry: ``geometry_type`` "None")."""
        return self.geometry_type != "None"

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}"

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def computes_legal_area(self) -> bool:
        """The loader measures the legal area in the province's VN-2000 TM-3 plane (area_srid, computed_area)."""
        return "computed_area" in self.computed_columns

    @property
    def computes_wgs84(self) -> bool:
        """The loader writes the WGS 84 serving copy itself (else the table's trigger derives it)."""
        return "geom_wgs84" in self.computed_columns

    @property
    def writable(self) -> bool:
        """Writes through the API are possible (for the roles ``write_scope`` names)."""
        return self.write_scope is not None and self.versioning is not None

    @property
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)
