"""A province's own PostgreSQL attached to the national parcel table through postgres_fdw (landgeo province).

A second embedded cluster (port 55460, or LANDGEO_TEST_PROVINCE_PORT) plays the provincial database of 46 (Huế);
the national database is a fresh migrated one holding provinces 01 and 04. Real `landgeo serve`, real CLI.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests
from apiserver import serve

from landgeo.api import locate
from landgeo.api.collections import get_collection
from landgeo.api.crs import CRS84, parse_crs
from landgeo.api.statements import item_sql
from landgeo.db import federation
from landgeo.db.cluster import EmbeddedCluster
from landgeo.db.migrate import migrate
from landgeo.db.scratch import create_database
from landgeo.errors import UserError
from landgeo.settings import Settings, get_settings
from loaders.pipeline import LoadOptions, load

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.national import provinces, write_province  # noqa: E402  (the bench generator at small size)

PORT = int(os.environ.get("LANDGEO_TEST_PROVINCE_PORT", "55460"))
DEAD_PORT = PORT + 9  # nothing listens there
ID_BLOCK = 46 * 10**12  # the provincial database's own id range



def _province(code: str):
    return next(p for p in provinces() if p.code == code)


def _load(url: str, code: str, n: int, tmp: Path) -> None:
    src = write_province(_province(code), n, tmp / f"p{code}.gpkg")
    result = load(src, LoadOptions(target="parcels", province=code, database_url=url))
    assert result.counts["inserted"] == n


@pytest.fixture(scope="module")
def province_cluster(tmp_path_factory):
    """The provincial cluster (its own data dir and port), stopped and removed afterwards."""
    home = tmp_path_factory.mktemp("province46")
    (home / "schemas").symlink_to(ROOT / "schemas")
    cluster = EmbeddedCluster(Settings(home=home, pg_port=PORT, api_port=0, external_url=None))
    try:
        cluster.up(log=lambda *_: None)
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def province_db(province_cluster, tmp_path_factory) -> str:
    """Province 46's own database: same schema, its ids from 46 × 10¹², 300 parcels of the generator."""
    url = create_database(province_cluster.url("postgres"), "landgeo_province_46")
    migrate(url, get_settings().migrations_dir, log=lambda *_: None)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT setval(pg_get_serial_sequence('landdb.parcel', 'id'), %s)", (ID_BLOCK,))
    _load(url, "46", 300, tmp_path_factory.mktemp("p46"))
    return url


@pytest.fixture(scope="module")
def national(server_url, template_db, province_db, tmp_path_factory) -> str:
    """The national database: provinces 01 and 04 local, 46 attached from its own database."""
    import uuid

    name = f"landgeo_test_national_{uuid.uuid4().hex[:8]}"
    url = create_database(server_url, name, template=template_db)
    tmp = tmp_path_factory.mktemp("national")
    _load(url, "01", 200, tmp)
    _load(url, "04", 50, tmp)
    yield url
    from landgeo.db.scratch import drop_database

    drop_database(server_url, name)


def _partitions(url: str) -> dict:
    with psycopg.connect(url) as conn:
        servers = [r[0] for r in conn.execute("SELECT srvname FROM pg_foreign_server").fetchall()]
        return {"parts": federation.partitions(conn), "servers": servers}


def test_attach_refuses_a_server_that_is_down(national, run_cli):
    before = _partitions(national)
    res = run_cli("province", "attach", "46", "--url", f"postgresql://landgeo:x@127.0.0.1:{DEAD_PORT}/landgeo",
                  db_url=national)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: province 46: cannot reach its database"), res.stderr
    assert "nothing attached" in lines[0] and "Traceback" not in res.stderr
    assert _partitions(national) == before


def test_attach_refuses_another_schema_version(national, province_cluster, province_db):
    older = create_database(province_cluster.url("postgres"), "landgeo_province_46_old")
    migrate(older, get_settings().migrations_dir, log=lambda *_: None)
    with psycopg.connect(older, autocommit=True) as conn:  # as if it had not been migrated to head yet
        conn.execute("DELETE FROM meta.schema_migration WHERE version = (SELECT max(version) "
                     "FROM meta.schema_migration)")
    before = _partitions(national)
    with psycopg.connect(national, autocommit=True) as conn, pytest.raises(UserError, match="schema version"):
        federation.attach(conn, "46", older)
    assert _partitions(national) == before
    with psycopg.connect(national, autocommit=True) as conn, pytest.raises(UserError, match="other provinces"):
        federation.attach(conn, "01", province_db)  # its database holds 46's parcels, not 01's
    assert _partitions(national) == before


def _cli(*args: str, db_url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "landgeo", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "LANDGEO_DATABASE_URL": db_url}, timeout=300)


@pytest.fixture(scope="module")
def attached(national, province_db):
    res = _cli("province", "attach", "46", "--url", province_db, db_url=national)
    assert res.returncode == 0, res.stderr
    assert "province 46 attached: 300 parcels" in res.stdout
    return national


def test_spatial_filter_runs_remotely(attached):
    with psycopg.connect(attached) as conn:
        part = federation.partitions(conn)["46"]
        assert part.foreign and part.server == "landgeo_province_46"
        env = conn.execute("SELECT ST_Extent(geom_wgs84) FROM landdb.parcel WHERE province_code = '46'").fetchone()
        assert env[0] is not None
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN (VERBOSE, COSTS OFF) SELECT id FROM landdb.parcel WHERE geom && "
            "ST_MakeEnvelope(107.5, 16.3, 107.7, 16.5, 4756) AND ST_Intersects(geom, "
            "ST_MakeEnvelope(107.5, 16.3, 107.7, 16.5, 4756))").fetchall())
    remote = [line for line in plan.splitlines() if "Remote SQL" in line]
    assert remote and "&&" in remote[0] and "st_intersects" in remote[0].lower(), plan
    assert "Foreign Scan on landdb.parcel_p46" in plan


def test_status_says_which_province_is_federated(attached, run_cli):
    res = run_cli("db", "status", db_url=attached)
    assert res.returncode == 0, res.stderr
    assert "province 46: federated" in res.stdout and "answering" in res.stdout


@pytest.fixture(scope="module")
def api(attached, tmp_path_factory):
    with serve(attached, tmp_path_factory.mktemp("api46") / "serve.log", workers=1) as base:
        yield base


def _items(api: str, **params) -> requests.Response:
    return requests.get(f"{api}/collections/parcels/items", params={"f": "json", **params}, timeout=30)


def test_api_serves_the_federated_province(api, province_db):
    with psycopg.connect(province_db) as conn:
        remote_ids = {r[0] for r in conn.execute("SELECT id FROM landdb.parcel").fetchall()}
        x, y = conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Centroid(geom_wgs84) p FROM landdb.parcel "
                            "ORDER BY id OFFSET 150 LIMIT 1) s").fetchone()
        tm3 = conn.execute("SELECT ST_X(p), ST_Y(p), srid FROM (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN("
                           "ST_Transform(geom, area_srid), 1)), 1) p, area_srid srid FROM landdb.parcel "
                           "ORDER BY id LIMIT 1) s").fetchone()
    # paging through the province
    seen, url, params = set(), f"{api}/collections/parcels/items", {"f": "json", "province_code": "46",
                                                                     "limit": "120"}
    while url:
        page = requests.get(url, params=params, timeout=30).json()
        seen |= {f["id"] for f in page["features"]}
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
        params = None
    assert seen == remote_ids
    # bbox (CRS84) around one remote parcel
    bbox = f"{x - 0.0003},{y - 0.0003},{x + 0.0003},{y + 0.0003}"
    feats = _items(api, bbox=bbox).json()["features"]
    assert feats and all(f["properties"]["province_code"] == "46" for f in feats)
    # CQL2
    body = _items(api, filter="province_code = '46' AND parcel_number <= 3", limit="1000").json()
    assert body["features"] and all(f["properties"]["parcel_number"] <= 3 for f in body["features"])
    # by id, in the province's own TM-3 CRS
    fid = min(remote_ids)
    srid = tm3[2]
    one = requests.get(f"{api}/collections/parcels/items/{fid}", timeout=30,
                       params={"f": "json", "crs": f"http://www.opengis.net/def/crs/EPSG/0/{srid}"})
    assert one.status_code == 200, one.text
    assert one.headers["Content-Crs"].endswith(f"/{srid}>")
    first = one.json()["geometry"]["coordinates"][0][0][0]
    assert abs(first[0] - tm3[0]) < 0.001 and abs(first[1] - tm3[1]) < 0.001  # surveyed numbers, to 1 mm
    # the whole country: local and remote provinces on the same pages
    everything = _items(api, limit="10000").json()
    assert {f["properties"]["province_code"] for f in everything["features"]} == {"01", "04", "46"}
    # an offset page over the country walks the keys (a foreign partition is not in the block counts)
    ordered = sorted(f["id"] for f in everything["features"])
    deep = _items(api, offset="245", limit="10").json()
    assert [f["id"] for f in deep["features"]] == ordered[245:255]


def test_by_id_touches_one_partition(attached, province_db):
    """The API's partition hint (landgeo.api.locate: each partition's id range, the remote one's read through
    postgres_fdw) names the partition; the API's statement then reads that partition only."""
    c = get_collection("parcels")
    with psycopg.connect(province_db) as conn:
        remote_id = conn.execute("SELECT min(id) FROM landdb.parcel").fetchone()[0]
    with psycopg.connect(attached) as conn:
        local_id = conn.execute("SELECT min(id) FROM landdb.parcel WHERE province_code = '04'").fetchone()[0]
        ranges = locate.id_ranges(conn, c)
        statement = item_sql(c, parse_crs(CRS84, c.crs_uris), ranges.key).as_string(conn)
        for fid, code in ((local_id, "04"), (remote_id, "46")):
            assert ranges.partition_of(fid) == code
            plan = "\n".join(r[0] for r in conn.execute(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + statement,
                {"fid": fid, "key": code}).fetchall())
            touched = set(re.findall(r" on parcel_p(\d{2})\b", plan))  # the partitions read (not their indexes)
            assert touched == {code}, plan


def test_a_province_down_gets_503_others_served(api, province_cluster, national):
    with psycopg.connect(national) as conn:
        local_id = conn.execute("SELECT min(id) FROM landdb.parcel WHERE province_code = '01'").fetchone()[0]
    province_cluster.down(log=lambda *_: None)
    try:
        one = requests.get(f"{api}/collections/parcels/items/{ID_BLOCK + 5}", params={"f": "json"}, timeout=30)
        assert one.status_code == 503
        assert "province 46" in one.json()["description"] and "Huế" in one.json()["description"]
        only = _items(api, province_code="46")
        assert only.status_code == 503 and "province 46" in only.json()["description"]
        other = _items(api, province_code="01", limit="500")
        assert other.status_code == 200 and len(other.json()["features"]) == 200
        assert requests.get(f"{api}/collections/parcels/items/{local_id}", params={"f": "json"},
                            timeout=30).status_code == 200
        country = _items(api, limit="10000")
        assert country.status_code == 200
        assert country.headers["Landgeo-Unavailable-Provinces"] == "46"
        assert {f["properties"]["province_code"] for f in country.json()["features"]} == {"01", "04"}
    finally:
        province_cluster.up(log=lambda *_: None)
    back = _items(api, province_code="46", limit="1000")
    assert back.status_code == 200 and len(back.json()["features"]) == 300


def test_detach_puts_the_local_partition_back(attached, run_cli, api):
    res = run_cli("province", "detach", "46", db_url=attached)
    assert res.returncode == 0, res.stderr
    with psycopg.connect(attached) as conn:
        part = federation.partitions(conn)["46"]
        assert not part.foreign and part.table == "parcel_p46"
        assert conn.execute("SELECT count(*) FROM pg_foreign_server").fetchone()[0] == 0
        keys = conn.execute("SELECT count(*) FROM pg_constraint WHERE conrelid = 'landdb.parcel_p46'::regclass "
                            "AND contype IN ('p', 'f')").fetchone()[0]
        assert keys == 2
    again = run_cli("province", "detach", "46", db_url=attached)
    assert again.returncode != 0 and again.stderr.strip() == "error: province 46 is not attached (its parcels " \
        "are in the national database)"
