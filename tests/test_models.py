"""The SQLAlchemy/GeoAlchemy2 models agree with the migrated tables (names, types, nullability, SRIDs)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import geobase.models  # noqa: F401  (registers the theme models)
import landdb.models  # noqa: F401
from landgeo.catalog import targets
from landgeo.db.connect import sqlalchemy_url
from landgeo.db.models import Base


@pytest.fixture(scope="module")
def engine(shared_db):
    eng = sa.create_engine(sqlalchemy_url(shared_db))
    yield eng
    eng.dispose()


def _sql_type(t, dialect) -> str:
    return t.compile(dialect=dialect).upper().replace(" WITH TIME ZONE", "TZ")


def test_every_model_matches_its_table(engine):
    insp = sa.inspect(engine)
    checked = 0
    for table in Base.metadata.sorted_tables:
        db_cols = {c["name"]: c for c in insp.get_columns(table.name, schema=table.schema)}
        assert db_cols, f"{table.schema}.{table.name} missing in the database"
        assert set(db_cols) == {c.name for c in table.columns}, f"{table.schema}.{table.name} columns differ"
        for col in table.columns:
            db = db_cols[col.name]
            db_type, model_type = _sql_type(db["type"], engine.dialect), _sql_type(col.type, engine.dialect)
            assert db_type == model_type, (table.name, col.name, db_type, model_type)
            if hasattr(col.type, "srid"):
                assert db["type"].srid == col.type.srid, (table.name, col.name)
                assert db["type"].geometry_type == col.type.geometry_type, (table.name, col.name)
            if not col.primary_key:
                assert db["nullable"] == col.nullable, (table.name, col.name, db["nullable"])
        checked += 1
    assert checked >= 20


def test_every_catalogue_target_has_its_fields_in_the_database(engine):
    insp = sa.inspect(engine)
    for target in targets().values():
        if not target.spatial:  # the register: published through its view, loaded by codes (tests/test_access_*)
            view = {c["name"] for c in insp.get_columns(target.extra["published_as"], schema=target.schema)}
            assert {"id", *(f.name for f in target.fields)} <= view, target.id
            continue
        cols = {c["name"] for c in insp.get_columns(target.table, schema=target.schema)}
        missing = {f.name for f in target.fields} - cols
        assert not missing, f"{target.id}: {missing}"
        assert {"id", "geom", "geom_wgs84", "batch_id", "valid_from", "valid_to"} <= cols, target.id
