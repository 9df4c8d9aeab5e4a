"""The catalogue of what landgeo stores and publishes: one :class:`Target` per table.

Domain packages declare their targets (``landdb.targets``, ``geobase.themes``); loaders learn a target's
fields from here, the API builds its collections from here. The id of a target is the id of the
collection it feeds (``parcels``, ``map-sheets``, ``roads`` ...).
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
    restricted: bool = False  # personal data (landdb.register): published only to those allowed, audited

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
    def required_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)


def targets() -> dict[str, Target]:
    """Every load/publish target by id, land database first."""
    from geobase.themes import THEMES
    from landdb.register import REGISTER
    from landdb.targets import TARGETS

    return {t.id: t for t in (*TARGETS, *THEMES, *REGISTER)}


def get_target(target_id: str) -> Target:
    from landgeo.errors import UserError

    found = targets()
    if target_id not in found:
        raise UserError(f"unknown target {target_id!r}; known: {', '.join(found)}")
    return found[target_id]
