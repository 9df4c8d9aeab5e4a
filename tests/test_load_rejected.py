"""When nothing (or almost nothing) loads, the user is told why: the most frequent reject reasons with counts and an
example each, and the rejects file is written whenever ``--rejects FILE`` was given — also when the load is refused
because every feature was rejected. A refused load changes nothing in the database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pyogrio
import pytest
from vectorfiles import Y0, cadastral_fields, grid, write

from landgeo.db.scratch import create_database, drop_database
from landgeo.errors import UserError
from loaders.pipeline import LoadOptions, load

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def module_db(server_url, template_db):
    name = f"landgeo_test_rejected_{uuid.uuid4().hex[:8]}"
    yield create_database(server_url, name, template=template_db)
    drop_database(server_url, name)


def state(url: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT (SELECT count(*) FROM landdb.parcel), (SELECT count(*) FROM meta.load_batch), "
            "(SELECT count(*) FROM meta.validation_finding), (SELECT count(*) FROM meta.validation_run), "
            "(SELECT count(*) FROM pg_tables WHERE schemaname = 'staging'), "
            "(SELECT count(*) FROM pg_inherits WHERE inhparent = 'landdb.parcel'::regclass)").fetchone()


def unknown_communes(tmp_path: Path, n: int = 6) -> Path:
    """Parcels whose commune codes are in no list (no province can be derived), and two with a bad land use."""
    fields = cadastral_fields(n, commune="99999", codes=["ONT"] * (n - 2) + ["QQQ", "QQQ"])
    return write(tmp_path / "unknown_communes.gpkg", grid(n), fields)


def test_unknown_communes_refused_with_reasons_and_nothing_changes(tmp_path, module_db):
    src = unknown_communes(tmp_path)
    before = state(module_db)
    with pytest.raises(UserError) as info:
        load(src, LoadOptions(target="parcels", database_url=module_db))
    first, *reasons = str(info.value).splitlines()
    assert first.startswith("unknown_communes.gpkg (layer unknown_communes): all 6 features were rejected; "
                            "nothing loaded")
    assert "use --rejects FILE" in first
    # most frequent first, with its count and the first feature rejected for it
    assert reasons[0].startswith("  attr.required_missing: 6 (e.g. feature 1: no province for commune 99999")
    assert len(reasons) == 1  # one reason per feature: the first error found (the land use comes later)
    assert state(module_db) == before


def test_rejects_file_is_written_when_everything_is_rejected(tmp_path, module_db):
    src = unknown_communes(tmp_path)
    out = tmp_path / "r.gpkg"
    before = state(module_db)
    with pytest.raises(UserError) as info:
        load(src, LoadOptions(target="parcels", database_url=module_db, rejects=out))
    assert f"rejects written to {out}" in str(info.value).splitlines()[0]
    _meta, arrow = pyogrio.read_arrow(out)
    assert arrow.num_rows == 6
    assert set(arrow.column("check_code").to_pylist()) == {"attr.required_missing"}
    assert arrow.column("feature").to_pylist() == [1, 2, 3, 4, 5, 6]
    assert arrow.column("commune_code").to_pylist() == ["99999"] * 6
    assert state(module_db) == before


def test_cli_prints_reasons_and_writes_rejects(tmp_path, module_db):
    src = unknown_communes(tmp_path)
    out = tmp_path / "cli.geojson"
    env = {**os.environ, "LANDGEO_DATABASE_URL": module_db}
    before = state(module_db)
    proc = subprocess.run([sys.executable, "-m", "landgeo", "load", str(src), "--into", "parcels", "--rejects",
                           str(out)], capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith("error: unknown_communes.gpkg (layer unknown_communes): all 6 features were "
                               "rejected"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert any(line.strip().startswith("attr.required_missing: 6 (e.g. feature 1:") for line in lines[1:])
    assert out.exists() and pyogrio.read_info(out)["features"] == 6
    assert state(module_db) == before


def test_almost_nothing_loaded_gives_the_reasons(tmp_path, module_db):
    """Most features rejected but one: the load commits the one, and the summary names why the others failed."""
    n = 5
    fields = cadastral_fields(n, commune="00001", codes=["QQQ"] * (n - 1) + ["ONT"])
    src = write(tmp_path / "mostly_bad.gpkg", grid(n, y0=Y0 + 3200), fields)
    result = load(src, LoadOptions(target="parcels", province="01", database_url=module_db))
    assert result.counts["inserted"] == 1 and result.counts["rejected"] == 4
    assert result.reject_reasons == [
        "  attr.land_use_code_unknown: 4 (e.g. feature 1: " + result.reject_reasons[0].split("feature 1: ")[1]]
    good = cadastral_fields(n, commune="00002")
    result = load(write(tmp_path / "good.gpkg", grid(n, y0=Y0 + 4800), good),
                  LoadOptions(target="parcels", province="01", database_url=module_db))
    assert result.counts["rejected"] == 0 and result.reject_reasons == []
    assert result.counts["inserted"] == n
