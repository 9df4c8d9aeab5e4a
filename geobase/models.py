"""SQLAlchemy/GeoAlchemy2 models of the base-geography themes, built from ``geobase.themes``."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Computed, Double, ForeignKey, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import mapped_column

from geobase.themes import THEMES
from landgeo.catalog import Target
from landgeo.db.models import TZ, Base

_COLUMN_TYPES = {"text": Text, "integer": Integer, "number": Double, "datetime": TZ}


def _model(theme: Target) -> type[Base]:
    gtype = theme.geometry_type.upper()
    attrs: dict = {
        "__tablename__": theme.table,
        "__table_args__": {"schema": "geobase"},
        "__doc__": theme.title,
        "id": mapped_column(BigInteger, primary_key=True),
        "attributes": mapped_column(JSONB, nullable=False),
        "source_srid": mapped_column(Integer, nullable=False),
        "batch_id": mapped_column(BigInteger, ForeignKey("meta.load_batch.id")),
        "geom": mapped_column(Geometry(gtype, srid=4756, spatial_index=False), nullable=False),
        "geom_wgs84": mapped_column(
            Geometry(gtype, srid=4326, spatial_index=False), Computed("meta.vn2000_to_wgs84(geom)", persisted=True)
        ),
    }
    for f in theme.fields:
        attrs[f.name] = mapped_column(_COLUMN_TYPES[f.type], nullable=not f.required and f.name != "valid_from")
    name = "".join(part.title() for part in theme.table.split("_"))
    return type(name, (Base,), attrs)


MODELS: dict[str, type[Base]] = {theme.id: _model(theme) for theme in THEMES}
