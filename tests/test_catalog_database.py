"""The catalogue (landgeo.catalog: landdb.targets, geobase.themes) is the one Python description of the tables
the migrations create: every field is a column of the migrated table with a matching type, required fields are
NOT NULL, the geometry columns have the target's type in the canonical CRS (and WGS 84 for the serving copy)."""

from __future__ import annotations

import ast
from pathlib import Path

import psycopg
import pytest

from landgeo.catalog import targets
from landgeo.crs.srids import VN2000_GEOGRAPHIC, WGS84

# catalogue field type -> PostgreSQL type names (information_schema.columns.data_type / udt_name) it may be
PG_TYPES = {"text": {"text"}, "integer": {"integer", "smallint", "bigint"}, "number": {"numeric", "double precision"},
            "date": {"date"}, "datetime": {"timestamp with time zone"}, "text[]": {"_text"}, "json": {"jsonb"}}


SCHEMAS = ["landdb", "landdb_restricted", "geobase"]


@pytest.fixture(scope="module")
def columns(shared_db):
    with psycopg.connect(shared_db) as conn:
        rows = conn.execute("SELECT table_schema, table_name, column_name, data_type, udt_name, is_nullable "
                            "FROM information_schema.columns WHERE table_schema = ANY(%s)", (SCHEMAS,)).fetchall()
        geoms = conn.execute("SELECT f_table_schema, f_table_name, f_geometry_column, type, srid "
                             "FROM geometry_columns WHERE f_table_schema = ANY(%s)", (SCHEMAS,)).fetchall()
    cols: dict = {}
    for schema, table, name, data_type, udt, nullable in rows:
        cols.setdefault((schema, table), {})[name] = (data_type, udt, nullable == "YES")
    return cols, {(s, t, c): (typ, srid) for s, t, c, typ, srid in geoms}


@pytest.mark.parametrize("target", list(targets().values()), ids=lambda t: t.id)
def test_every_catalogue_field_is_a_column_of_its_table(target, columns):
    cols, geoms = columns
    table = cols.get((target.schema, target.table))
    assert table, f"{target.qualified_table} missing in the migrated database"
    versioned_map = {"id", "geom", "geom_wgs84", "batch_id", "valid_from", "valid_to"}
    assert (versioned_map if target.spatial else {"id"}) <= set(table), target.id  # the register: no geometry
    for f in target.fields:
        assert f.name in table, f"{target.id}.{f.name}: no such column in {target.qualified_table}"
        data_type, udt, nullable = table[f.name]
        assert data_type in PG_TYPES[f.type] or udt in PG_TYPES[f.type], (target.id, f.name, f.type, data_type)
        if f.required:
            assert not nullable, f"{target.id}.{f.name} is required in the catalogue but NULL-able in the table"
    if target.spatial:
        assert geoms[(target.schema, target.table, "geom")] == (target.geometry_type.upper(), VN2000_GEOGRAPHIC)
        assert geoms[(target.schema, target.table, "geom_wgs84")] == (target.geometry_type.upper(), WGS84)


def test_a_column_the_catalogue_does_not_know_fails_the_check(columns):
    """The check above can fail: a table with a column typed differently from its field is caught."""
    cols, _ = columns
    parcel = cols[("landdb", "parcel")]
    assert parcel["sheet_number"][0] not in PG_TYPES["text"]
    assert "no_such_field" not in parcel


def test_fields_two_targets_share_are_one_description():
    """Parcels and map sheets take the same source names for the commune and the sheet (one Field each)."""
    parcels, sheets = targets()["parcels"], targets()["map-sheets"]
    for name in ("commune_code", "sheet_number"):
        assert parcels.field(name) is sheets.field(name)
    assert "to_bd" in sheets.field("sheet_number").aliases


def test_no_code_branches_on_a_target_id():
    """Facts about a table live in the catalogue: no `target.id == "parcels"` (or `in (...)`) in the code."""
    root = Path(__file__).resolve().parent.parent
    found = []
    for pkg in ("landgeo", "loaders", "landdb", "geobase"):
        for path in (root / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "id" \
                        and any(isinstance(c, ast.Constant | ast.Tuple | ast.Set | ast.List) for c in node.comparators):
                    found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert not found, found
