"""The foundation: migrations, schemas, the embedded cluster and the ``landgeo db`` CLI."""

from __future__ import annotations

import psycopg
import pytest

from landgeo.db.migrate import applied, discover, migrate
from landgeo.settings import get_settings


def test_empty_database_migrates_to_head_and_again_is_a_noop(fresh_db):
    head = max(m.version for m in discover(get_settings().migrations_dir))
    with psycopg.connect(fresh_db) as conn:
        assert max(applied(conn)) == head
    assert migrate(fresh_db, get_settings().migrations_dir, log=lambda *_: None) == []


def test_edited_migration_is_refused(fresh_db, tmp_path):
    src = get_settings().migrations_dir
    for p in src.glob("*.sql"):
        (tmp_path / p.name).write_text(p.read_text())
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    from landgeo.errors import UserError

    with pytest.raises(UserError, match="changed after it was applied"):
        migrate(fresh_db, tmp_path, log=lambda *_: None)


def test_failed_migration_leaves_nothing(fresh_db, tmp_path):
    src = get_settings().migrations_dir
    for p in src.glob("*.sql"):
        (tmp_path / p.name).write_text(p.read_text())
    (tmp_path / "9990_broken.sql").write_text(
        "CREATE TABLE meta.half_done (id int);\nSELECT * FROM no_such_table;\n"
    )
    from landgeo.errors import UserError

    with pytest.raises(UserError, match="9990_broken.sql failed"):
        migrate(fresh_db, tmp_path, log=lambda *_: None)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT to_regclass('meta.half_done')").fetchone()[0] is None
        assert 9990 not in applied(conn)


def test_schemas_and_postgis_present(db):
    schemas = {r[0] for r in db.execute("SELECT nspname FROM pg_namespace")}
    assert {"landdb", "landdb_restricted", "geobase", "meta"} <= schemas
    major = db.execute("SELECT split_part(postgis_lib_version(), '.', 1)::int").fetchone()[0]
    assert major >= 3


def test_geometry_columns_are_typed_and_indexed(db):
    rows = db.execute(
        "SELECT f_table_schema, f_table_name, f_geometry_column, srid, type FROM geometry_columns "
        "WHERE f_table_schema IN ('landdb', 'geobase', 'meta') "
        "AND (f_table_schema || '.' || f_table_name)::regclass IN (SELECT oid FROM pg_class WHERE relkind <> 'v')"
    ).fetchall()
    assert rows, "no geometry columns registered"
    for schema, table, column, srid, gtype in rows:
        if table.startswith("parcel_p") or (table, column) == ("parcel", "geom_wgs84"):
            continue  # parcels: one GiST, on the canonical geom (migration 0041; the API filters there)
        assert srid in (4756, 4326), (schema, table, column, srid)
        assert gtype != "GEOMETRY" or table == "validation_finding", (table, gtype)
        indexed = db.execute(
            "SELECT 1 FROM pg_indexes WHERE schemaname = %s AND tablename = %s AND indexdef ILIKE %s",
            (schema, table, f"%gist ({column})%"),
        ).fetchone()
        assert indexed, f"{schema}.{table}.{column} has no GiST index"


def test_parcels_are_partitioned_by_province(db):
    strategy = db.execute(
        "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'landdb.parcel'::regclass"
    ).fetchone()[0]
    assert strategy == "l"
    n = db.execute("SELECT count(*) FROM pg_inherits WHERE inhparent = 'landdb.parcel'::regclass").fetchone()[0]
    assert n == 35  # 34 provinces of 2025 + default


def _insert_parcel(db, number: int, valid_to=None, geom_sql=None):
    geom_sql = geom_sql or (
        "ST_Transform(ST_Multi(ST_MakeEnvelope(587000, 2326000, 587020, 2326030, 9210)), 4756)"
    )
    return db.execute(
        f"""INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number,
               land_use_codes, declared_area, source_srid, area_srid, valid_to, geom)
           VALUES ('01', '00001', 5, %s, ARRAY['ONT'], 600, 9210, 9210, %s, {geom_sql})
           RETURNING id, computed_area, ST_SRID(geom_wgs84)""",
        (number, valid_to),
    ).fetchone()


def test_parcel_computed_area_and_wgs84_copy(db):
    _id, area, srid = _insert_parcel(db, 1)
    assert float(area) == pytest.approx(600.0, abs=0.01)  # 20 m x 30 m in the TM-3 plane
    assert srid == 4326


def test_current_parcel_version_is_unique_but_history_is_kept(db):
    _insert_parcel(db, 7, valid_to="2030-01-01")  # a closed version
    _insert_parcel(db, 7)  # the current one
    with pytest.raises(psycopg.errors.UniqueViolation):
        with db.transaction():
            _insert_parcel(db, 7)


def test_land_use_codes_seeded_from_reference_csv(db):
    import csv

    rows = list(csv.DictReader(open(get_settings().reference_dir / "land_use_codes.csv", encoding="utf-8")))
    expected = {(r["code"], "2024" if r["regime"].startswith("current") else "2018") for r in rows}
    got = set(db.execute("SELECT code, list FROM landdb.land_use_code").fetchall())
    assert got == expected
    assert db.execute(
        "SELECT valid_to FROM landdb.land_use_code WHERE list = '2024' LIMIT 1"
    ).fetchone()[0] is None


def test_provinces_2025_seeded(db):
    n, = db.execute(
        "SELECT count(*) FROM landdb.admin_unit WHERE level = 'province' AND valid_from = '2025-07-01'"
    ).fetchone()
    assert n == 34


def test_reader_role_cannot_see_personal_data(db):
    can, = db.execute(
        "SELECT has_schema_privilege('landgeo_reader', 'landdb_restricted', 'USAGE')"
    ).fetchone()
    assert can is False
    assert db.execute(
        "SELECT has_table_privilege('landgeo_reader', 'landdb.parcel', 'SELECT')"
    ).fetchone()[0]


def test_cli_status_reports_versions(run_cli, fresh_db):
    res = run_cli("db", "status", db_url=fresh_db)
    assert res.returncode == 0, res.stderr
    assert "PostGIS 3." in res.stdout and "GEOS" in res.stdout and "PROJ" in res.stdout
    assert "up to date" in res.stdout


def test_cli_up_and_down_leave_an_external_server_alone(run_cli, fresh_db):
    for cmd in ("up", "down"):
        res = run_cli("db", cmd, db_url=fresh_db)
        assert res.returncode == 0
        assert "manages only the embedded cluster" in res.stdout


def test_cli_url_prints_the_configured_url(run_cli, fresh_db):
    res = run_cli("db", "url", db_url=fresh_db)
    assert res.stdout.strip() == fresh_db


def test_cli_unreachable_server_is_one_line(run_cli):
    res = run_cli("db", "status", db_url="postgresql://nobody:x@127.0.0.1:9/none")
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot connect to the database")
    assert "Traceback" not in res.stderr


def test_cli_every_command_has_help(run_cli):
    for args in (["--help"], ["db", "--help"], ["db", "up", "--help"], ["db", "migrate", "--help"]):
        res = run_cli(*args)
        assert res.returncode == 0 and "Usage" in res.stdout, args
