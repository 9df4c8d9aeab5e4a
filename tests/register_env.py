"""Shared set-up of the register-transaction tests: a database with tests/register_data.py's parcels, users
of each role, and a real `landgeo serve` (module-scoped fixture ``env``), plus request helpers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
import requests
from apiserver import serve
from register_data import PARCELS_SQL

from landgeo.db.scratch import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
TM3 = "http://www.opengis.net/def/crs/EPSG/0/9210"
X0, Y0 = 604000.0, 1192000.0  # south-west corner of parcel 1 (TM-3 metres); parcel n spans x0+20(n-1) .. +20



def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "landgeo", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LANDGEO_DATABASE_URL": url}, cwd=ROOT)


@pytest.fixture(scope="module")
def env(server_url, template_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("register_api")
    name = f"landgeo_test_register_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url) as conn:
        conn.execute(PARCELS_SQL)
    tokens = {}
    for user, args in {"off79": ["--role", "officer", "--province", "79"],
                       "off26740": ["--role", "officer", "--commune", "26740"],
                       "off01": ["--role", "officer", "--province", "01"],
                       "analyst": ["--role", "analyst"], "admin": ["--role", "admin"]}.items():
        done = _cli(url, "users", "add", user, *args)
        assert done.returncode == 0, done.stderr
        tokens[user] = done.stdout.strip().splitlines()[-1]
    log = folder / "serve.log"
    with serve(url, log, env={"LANDGEO_API_POOL_SIZE": "6"}) as base:
        yield {"base": base, "db": url, "tokens": tokens, "log": log}
    drop_database(server_url, name)


def _h(env, user: str | None, **extra) -> dict:
    h = {k.replace("_", "-"): v for k, v in extra.items()}
    if user:
        h["Authorization"] = f"Bearer {env['tokens'][user]}"
    return h


def _id_of(env, commune: str, number: int, sheet: int = 1) -> int:
    with psycopg.connect(env["db"]) as conn:
        return conn.execute("SELECT coalesce(feature_id, id) FROM landdb.parcel WHERE commune_code = %s AND "
                            "sheet_number = %s AND parcel_number = %s AND valid_to IS NULL",
                            (commune, sheet, number)).fetchone()[0]


def _get(env, fid: int, user: str | None = "off79", **params) -> requests.Response:
    return requests.get(f"{env['base']}/collections/parcels/items/{fid}", params={"f": "json", **params},
                        headers=_h(env, user), timeout=30)


def _rect(x1: float, y1: float, x2: float, y2: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x1, y1], [x2, y1], [x2, y2], [x1, y2], [x1, y1]]]}


def _cell(n: int, dx1: float = 0.0, dx2: float = 0.0) -> tuple[float, float]:
    return X0 + 20 * (n - 1) + dx1, X0 + 20 * n + dx2


def _feature(geometry: dict, number: int, commune: str = "26737", **props) -> dict:
    p = {"province_code": "79", "commune_code": commune, "sheet_number": 1, "parcel_number": number,
         "land_use_codes": ["ONT"], **props}
    return {"type": "Feature", "geometry": geometry, "properties": p}


def _write(env, method: str, fid: int, doc, user="off79", etag: str | None = None, ctype="application/geo+json",
           crs: str | None = TM3) -> requests.Response:
    headers = _h(env, user)
    headers["Content-Type"] = ctype
    if etag is not None:
        headers["If-Match"] = etag
    if crs:
        headers["Content-Crs"] = f"<{crs}>"
    data = doc if isinstance(doc, bytes | str) else json.dumps(doc)
    return requests.request(method, f"{env['base']}/collections/parcels/items/{fid}", data=data, headers=headers,
                            timeout=60)


def _count(env, sql: str, *args) -> int:
    with psycopg.connect(env["db"]) as conn:
        return conn.execute(sql, args).fetchone()[0]


def _snapshot(env) -> tuple:
    with psycopg.connect(env["db"]) as conn:
        return conn.execute("SELECT count(*), max(id), (SELECT count(*) FROM landdb.parcel_mutation), "
                            "(SELECT count(*) FROM landdb.parcel WHERE valid_to IS NULL) FROM landdb.parcel").fetchone()
