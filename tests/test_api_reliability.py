"""Faults injected into a real `landgeo serve` and a database of the test's own (its own cluster and port):
outage and return, statement timeout, shutdown on SIGTERM/SIGINT, health, metrics and the access log."""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time

import psycopg
import pytest
import requests
from apiserver import TIMEOUT_MS, start_server, stop_server
from owncluster import own_cluster

PARCELS_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, declared_area,
                           source_srid, area_srid, valid_from, geom)
SELECT '48', '20194', 1, i, ARRAY['ODT'], 120, 9211, 9211, '2021-01-01T00:00:00Z',
       ST_Transform(ST_Multi(ST_MakeEnvelope(550000 + i * 15.0, 1775000, 550012 + i * 15.0, 1775010, 9211)), 4756)
FROM generate_series(1, 40) AS i
"""
ITEMS = "/collections/parcels/items?f=json&limit=5"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    base = tmp_path_factory.mktemp("reliability")
    c = own_cluster(base)
    with psycopg.connect(c.url()) as conn:
        conn.execute(PARCELS_SQL)
    yield c
    c.destroy()
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def server(cluster, tmp_path_factory):
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    proc, base = start_server(cluster.url(), log)
    yield base, log
    stop_server(proc)


def test_health_metrics_and_access_log(server):
    base, log = server
    live = requests.get(f"{base}/health/live", timeout=5)
    assert live.status_code == 200 and live.json()["status"] == "pass"
    ready = requests.get(f"{base}/health/ready", timeout=5)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["schema"]["version"] == ready.json()["checks"]["schema"]["expected"]
    for _ in range(3):
        assert requests.get(f"{base}{ITEMS}", timeout=10).status_code == 200
    one = requests.get(f"{base}/collections/parcels/items/7?f=json", timeout=10)
    assert one.status_code == 200
    secret = requests.get(f"{base}{ITEMS}&token=Zm9vYmFyc2VjcmV0", timeout=10,
                          headers={"Authorization": "Bearer c2VjcmV0LXRva2Vu"})
    assert secret.status_code in (400, 401)  # an unknown bearer token (401) or a token in the URL (400)
    metrics = requests.get(f"{base}/metrics", timeout=5)
    assert metrics.status_code == 200
    text = metrics.text
    # one series per route template, summed over both workers; never the raw URL
    line = next(x for x in text.splitlines() if x.startswith("landgeo_http_requests_total{")
                and 'route="/collections/{collectionId}/items"' in x and 'status="200"' in x)
    assert float(line.rsplit(" ", 1)[1]) >= 3
    assert 'route="/collections/{collectionId}/items/{featureId}"' in text
    assert "landgeo_http_request_duration_seconds_bucket" in text and "landgeo_db_pool_connections" in text
    assert "parcels/items/7" not in text and "Zm9vYmFyc2VjcmV0" not in text
    time.sleep(0.3)
    lines = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
    items = [x for x in lines if x["route"] == "/collections/{collectionId}/items"]
    assert items and {"time", "method", "status", "duration_ms", "bytes", "path", "query"} <= set(items[0])
    raw = log.read_text()
    assert "Zm9vYmFyc2VjcmV0" not in raw and "c2VjcmV0LXRva2Vu" not in raw and "Authorization" not in raw
    assert any(x["query"].get("token") == "[redacted]" for x in items)


def test_statement_timeout_is_a_clear_504_and_not_an_outage(server, cluster):
    base, _log = server
    with psycopg.connect(cluster.url()) as conn:
        conn.execute("LOCK TABLE landdb.parcel IN ACCESS EXCLUSIVE MODE")  # every read now waits
        t0 = time.monotonic()
        res = requests.get(f"{base}{ITEMS}", timeout=20)
        took = time.monotonic() - t0
        conn.rollback()
    assert res.status_code == 504, res.text
    assert f"statement timeout of {TIMEOUT_MS}ms" in res.json()["description"]
    assert took < TIMEOUT_MS / 1000 + 3
    after = requests.get(f"{base}{ITEMS}", timeout=10)
    assert after.status_code == 200  # a cancelled statement does not mark the database down


def test_outage_answers_503_fast_and_recovers_within_2_s(server, cluster):
    base, _log = server
    assert requests.get(f"{base}{ITEMS}", timeout=10).status_code == 200
    cluster.down(log=lambda *_: None)
    try:
        for path in [ITEMS, "/collections/parcels/items/3?f=json", ITEMS, "/collections/parcels/items?f=html",
                     ITEMS, ITEMS, "/collections/parcels/items?f=json&limit=1", ITEMS]:
            t0 = time.monotonic()
            res = requests.get(f"{base}{path}", timeout=10)
            took = time.monotonic() - t0
            assert res.status_code == 503, (path, res.status_code, res.text[:300])
            assert res.headers.get("Retry-After", "").isdigit()
            assert took < 1.0, (path, took)
        ready = requests.get(f"{base}/health/ready", timeout=5)
        assert ready.status_code == 503 and ready.json()["checks"]["database"]["status"] == "fail"
        assert requests.get(f"{base}/health/live", timeout=5).status_code == 200
    finally:
        cluster.up(log=lambda *_: None)
    back = time.monotonic()
    statuses = []
    while True:  # every request of both workers must be 200 again within 2 s
        codes = [requests.get(f"{base}{ITEMS}", timeout=10).status_code for _ in range(4)]
        statuses.append(codes)
        if all(c == 200 for c in codes):
            break
        assert time.monotonic() - back < 2.0, statuses
        time.sleep(0.05)
    assert requests.get(f"{base}/health/ready", timeout=5).status_code == 200


def test_sigterm_idle_exits_within_5_s(cluster, tmp_path):
    proc, base = start_server(cluster.url(), tmp_path / "serve.log")
    assert requests.get(f"{base}{ITEMS}", timeout=10).status_code == 200  # pools open in a worker
    took = stop_server(proc, signal.SIGTERM)
    assert proc.returncode == 0 and took < 5.0, took
    assert "couldn't stop thread" not in (tmp_path / "serve.log").read_text()


def test_sigint_under_traffic_finishes_the_in_flight_request(cluster, tmp_path):
    proc, base = start_server(cluster.url(), tmp_path / "serve.log")
    assert requests.get(f"{base}{ITEMS}", timeout=10).status_code == 200
    result: dict = {}

    def slow_request():
        t0 = time.monotonic()
        result["response"] = requests.get(f"{base}{ITEMS}", timeout=20)
        result["seconds"] = time.monotonic() - t0

    with psycopg.connect(cluster.url()) as conn:
        conn.execute("LOCK TABLE landdb.parcel IN ACCESS EXCLUSIVE MODE")
        thread = threading.Thread(target=slow_request)
        thread.start()
        time.sleep(0.5)  # the request is in flight, waiting for the lock
        proc.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        time.sleep(0.5)
        conn.rollback()  # the request can finish now, 1 s after it started
    thread.join(20)
    proc.wait(30)
    took = time.monotonic() - t0 + 0.0
    assert result["response"].status_code == 200, result["response"].text[:300]
    assert proc.returncode == 0 and took < 5.0 + result["seconds"], (took, result["seconds"])
