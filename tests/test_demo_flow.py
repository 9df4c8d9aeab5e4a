"""The whole ``make demo`` flow on a brand-new database: generate, the land office's real commands, validate.

``python -m landgeo.demo --no-serve`` runs everything but the server; a second run must be a no-op.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from landgeo.catalog import targets
from landgeo.demo.__main__ import available_commands, demo_sources

ROOT = Path(__file__).resolve().parent.parent
missing = {"load", "validate", "serve"} - available_commands()
pytestmark = pytest.mark.skipif(bool(missing), reason=f"landgeo CLI has no {sorted(missing)} command(s) yet")


def run_demo(db_url: str, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "LANDGEO_DATABASE_URL": db_url}
    return subprocess.run([sys.executable, "-m", "landgeo.demo", "--no-serve", "--out", str(out)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


def test_demo_loads_every_collection_finds_the_planted_errors_and_reruns_as_no_op(fresh_db, tmp_path):
    first = run_demo(fresh_db, tmp_path / "demo")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    manifest = json.loads((tmp_path / "demo" / "manifest.json").read_text(encoding="utf-8"))
    out = first.stdout
    # the commands a land office would type, printed as they run
    assert "$ landgeo load" in out and "--into parcels --mode upsert --province 01" in out
    assert "DC_09895.shp" in out and "--layer ToBanDo" in out and "$ landgeo validate" in out
    assert "TCVN3" in out + first.stderr, "the loader says it decoded the DBF from TCVN3"

    with psycopg.connect(fresh_db) as conn:
        for target in targets().values():
            table = sql.Identifier(target.schema, target.table)
            has = sql.SQL("WHERE geom IS NOT NULL") if target.spatial else sql.SQL("")  # the register: no geometry
            count = conn.execute(sql.SQL("SELECT count(*) FROM {} {}").format(table, has)).fetchone()[0]
            assert count > 0, f"{target.id} is empty"
        current = conn.execute("SELECT count(*) FROM landdb.parcel WHERE valid_to IS NULL").fetchone()[0]
        assert current == manifest["counts"]["parcels"] + 1, "the update file split one parcel in two"
        parcels = conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0]
        # the update (biến động): the split parcel and the garden turned residential have two versions each
        split, change = manifest["updates"]
        versions = conn.execute(
            """SELECT land_use_codes, valid_to IS NULL FROM landdb.parcel
               WHERE commune_code = %s AND sheet_number = %s AND parcel_number = %s ORDER BY valid_from""",
            (change["commune"], change["sheet"], change["parcel"])).fetchall()
        assert versions == [(["CLN"], False), (["ONT"], True)]
        halves = conn.execute(
            """SELECT count(*) FILTER (WHERE valid_to IS NULL), count(*) FROM landdb.parcel
               WHERE commune_code = %s AND sheet_number = %s AND parcel_number IN (%s, %s)""",
            (split["commune"], split["sheet"], split["parcel"], split["new_parcel"])).fetchone()
        assert halves == (2, 3)
        assert conn.execute("SELECT count(*) FROM landdb.parcel_history").fetchone()[0] == 2
        names = {r[0] for r in conn.execute("SELECT DISTINCT address FROM landdb.parcel")}
        assert "Thôn Lai Xá, xã Đông La" in names, "TCVN3 text arrives as Unicode"
        # validation found each planted error, on the planted parcels
        run_id = conn.execute("SELECT max(run_id) FROM meta.validation_finding").fetchone()[0]
        found = conn.execute(
            """SELECT f.check_code, p.commune_code, p.sheet_number, p.parcel_number
               FROM meta.validation_finding f JOIN landdb.parcel p ON p.id::text = f.feature_id::text
               WHERE f.run_id = %s AND f.target = 'parcels'""", (run_id,)).fetchall()
        codes = {r[0] for r in conn.execute(
            "SELECT check_code FROM meta.validation_finding WHERE run_id = %s AND target = 'parcels'", (run_id,))}
        for planted in manifest["planted_errors"]:
            key = (planted["commune"], planted["sheet"], planted["parcel"])
            other = (planted["commune"], planted.get("other_sheet"), planted.get("other_parcel"))
            located = {(c, s, n) for _code, c, s, n in found}
            if planted["kind"] == "gap":
                assert "topo.gap" in codes
                continue
            assert key in located or other in located, f"planted {planted} not found in {found}"
        assert {"topo.overlap", "topo.gap", "attr.area_mismatch"} <= codes
        assert any(c.startswith("attr.land_use_code") for c in codes)
        batches = conn.execute("SELECT count(*) FROM meta.load_batch").fetchone()[0]

    second = run_demo(fresh_db, tmp_path / "demo")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "(already generated)" in second.stdout
    loads = second.stdout.count("$ landgeo load")
    register_loads = 3  # parties, rights, certificates of the demo's synthetic register (landgeo/demo/register.py)
    assert loads == len(demo_sources(tmp_path / "demo", manifest)) + register_loads == 21
    assert second.stdout.count("no-op") >= loads, "every load says it had nothing to do"
    with psycopg.connect(fresh_db) as conn:
        again = conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0]
        assert again == parcels, "a second run adds no parcel versions"
        assert conn.execute("SELECT count(*) FROM meta.load_batch").fetchone()[0] >= batches


def test_demo_without_a_database_says_so_in_one_line(tmp_path):
    env = {**os.environ, "LANDGEO_DATABASE_URL": "postgresql://nobody:wrong@127.0.0.1:9/none"}
    done = subprocess.run([sys.executable, "-m", "landgeo.demo", "--no-serve", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_demo_refuses_a_busy_port_before_loading_anything(fresh_db, tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "LANDGEO_DATABASE_URL": fresh_db}
        done = subprocess.run([sys.executable, "-m", "landgeo.demo", "--port", str(port), "--out", str(tmp_path)],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and f"port {port} is in use" in done.stderr
    assert "$ landgeo load" not in done.stdout
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0] == 0
