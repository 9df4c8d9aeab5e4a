"""The catalogue of what landgeo stores and publishes: one :class:`Target` per table.

Domain packages declare their targets (``landdb.targets``, ``geobase.themes``) with the types of
:mod:`landgeo.target`; loaders learn a target's fields and facts from here, the API builds its collections from
here. The id of a target is the id of the collection it feeds (``parcels``, ``map-sheets``, ``roads`` ...).
"""

from __future__ import annotations

from geobase.themes import THEMES
from landdb.register import REGISTER
from landdb.targets import TARGETS
from landgeo.errors import UserError
from landgeo.target import FIELD_TYPES, Field, Target

__all__ = ["FIELD_TYPES", "Field", "Target", "get_target", "targets"]


def targets() -> dict[str, Target]:
    """Every load/publish target by id, land database first."""
    return {t.id: t for t in (*TARGETS, *THEMES, *REGISTER)}


def get_target(target_id: str) -> Target:
    found = targets()
    if target_id not in found:
        raise UserError(f"unknown target {target_id!r}; known: {', '.join(found)}")
    return found[target_id]
