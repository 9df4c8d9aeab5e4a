"""The API without the internet: a self-contained OpenAPI document, HTML pages that load nothing from another
host, and schemathesis run against the real server with a short deterministic budget (a longer one: bench/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import psycopg
import pytest
import requests
from apiserver import start_server, stop_server
from browser import Browser, chromium_path
from openapi_spec_validator import OpenAPIV30SpecValidator

from landgeo.api import processes, transactions
from landgeo.api.openapi import remote_refs
from landgeo.db.scratch import create_database, drop_database

PARCELS_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes, declared_area,
                           address, source_srid, area_srid, valid_from, geom)
SELECT '92', '31117', 2, i, CASE WHEN i % 2 = 0 THEN ARRAY['LUC'] ELSE ARRAY['ONT', 'CLN'] END, 310 + i,
       'Ấp ' || i, 9212, 9212, '2022-05-01T00:00:00Z',
       ST_Transform(ST_Multi(ST_MakeEnvelope(570000 + i * 25.0, 1106000, 570020 + i * 25.0, 1106015, 9212)), 4756)
FROM generate_series(1, 12) AS i
"""
PAGES = ["/", "/collections", "/collections/parcels", "/collections/parcels/items", "/collections/parcels/items/1",
         "/collections/parcels/queryables", "/conformance", "/openapi", "/openapi?ui=redoc"]


@pytest.fixture(scope="module")
def server(server_url: str, template_db: str, tmp_path_factory):
    name = f"landgeo_test_offline_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url) as conn:
        conn.execute(PARCELS_SQL)
    officer = subprocess.run([sys.executable, "-m", "landgeo", "users", "add", "schemathesis-officer", "--role",
                              "officer", "--province", "92"], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "LANDGEO_DATABASE_URL": url})
    assert officer.returncode == 0, officer.stderr
    log = tmp_path_factory.mktemp("offline") / "serve.log"
    proc, base = start_server(url, log, {"LANDGEO_API_NO_ACCESS_LOG": "1"})
    yield base, log, officer.stdout.strip().splitlines()[-1]
    stop_server(proc)
    drop_database(server_url, name)


def _resolve(doc: dict, ref: str):
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_openapi_document_is_self_contained(server):
    base, _log, _token = server
    doc = requests.get(f"{base}/openapi?f=json", timeout=30).json()
    assert remote_refs(doc) == []
    local = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    local.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert len(local) > 100
    for ref in set(local):  # every local reference resolves inside the document
        assert ref.startswith("#/") and _resolve(doc, ref) is not None, ref
    items = doc["paths"]["/collections/parcels/items"]["get"]
    assert any(p.get("$ref") == "#/components/parameters/sortby" for p in items["parameters"])


def test_openapi_document_is_valid_and_describes_the_write_side(server):
    base, _log, _token = server
    doc = requests.get(f"{base}/openapi?f=json", timeout=30).json()
    errors = [f"{list(e.path)[:5]}: {str(e.message)[:200]}" for e in OpenAPIV30SpecValidator(doc).iter_errors()]
    assert errors == [], errors[:5]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": doc["components"]["securitySchemes"]["bearerAuth"][
            "description"]}
    paths = doc["paths"]
    assert transactions.WRITABLE_COLLECTIONS
    for cid in transactions.WRITABLE_COLLECTIONS:  # whatever the register writes is described
        one = paths[f"/collections/{cid}/items/{{featureId}}"]
        for method, ok in (("put", "200"), ("patch", "200"), ("delete", "204")):
            op = one[method]
            assert op["security"] == [{"bearerAuth": []}]
            assert {ok, "400", "401", "403", "404", "412", "428"} <= set(op["responses"]), (cid, method)
            assert {"$ref": "#/components/parameters/IfMatch"} in op["parameters"]
        assert "application/merge-patch+json" in one["patch"]["requestBody"]["content"]
        assert "application/geo+json" in one["put"]["requestBody"]["content"]
        assert {"409", "422"} <= set(one["put"]["responses"])
        create = paths[f"/collections/{cid}/items"]["post"]
        assert "application/geo+json" in create["requestBody"]["content"]
        assert {"201", "401", "415", "422"} <= set(create["responses"])
        assert set(doc["components"]["responses"]["Created"]["headers"]) == {"Location", "ETag"}
        assert "ETag" in doc["components"]["responses"]["VersionedFeature"]["headers"]
        assert one["get"]["responses"]["200"] == {"$ref": "#/components/responses/VersionedFeature"}
        assert "get" in paths[f"/collections/{cid}/items/{{featureId}}/history"]
        changes = paths[f"/collections/{cid}/changes"]["get"]
        assert {p["$ref"].rsplit("/", 1)[1] for p in changes["parameters"] if "$ref" in p} >= {"since", "changesLimit"}
    read_only = [p for p in paths if p.endswith("/items/{featureId}") and p.split("/")[2] not in
                 transactions.WRITABLE_COLLECTIONS]
    assert read_only and all(not {"put", "patch", "delete"} & set(paths[p]) for p in read_only)
    assert "exception" in doc["components"]["schemas"] and "findings" in doc["components"]["schemas"]["exception"][
        "properties"]
    assert {"/processes", "/processes/{processId}"} <= set(paths)
    for pid, (_title, _fn, inputs) in processes.PROCESSES.items():
        op = paths[f"/processes/{pid}/execution"]["post"]
        request = op["requestBody"]["content"]["application/json"]["schema"]
        assert set(request["properties"]["inputs"]["properties"]) == set(inputs)
        assert set(request["properties"]["inputs"]["required"]) == {k for k, v in inputs.items() if v["minOccurs"]}
        assert request["properties"]["response"]["enum"] == ["raw", "document"]
        assert {"application/json", "multipart/related"} <= set(op["responses"]["200"]["content"])
        assert {"401", "403", "412", "422"} <= set(op["responses"])


class _Loads(HTMLParser):
    """What a browser fetches by itself to show the page: scripts, styles, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and a.get("href") and (a.get("rel") or "").lower() in (
                "stylesheet", "icon", "preload", "modulepreload", "shortcut icon", "apple-touch-icon"):
            self.urls.append(a["href"])


def test_html_pages_load_nothing_from_another_host(server):
    base, _log, _token = server
    host = urlsplit(base).netloc
    assets: set[str] = set()
    for page in PAGES:
        res = requests.get(f"{base}{page}{'&' if '?' in page else '?'}f=html", timeout=30)
        assert res.status_code == 200 and res.headers["Content-Type"].startswith("text/html"), page
        parser = _Loads()
        parser.feed(res.text)
        for url in parser.urls:
            absolute = urljoin(f"{base}{page}", url)
            assert urlsplit(absolute).netloc == host, f"{page} loads {url}"
            assets.add(absolute)
        for cdn in ("tile.openstreetmap.org", "unpkg.com", "jsdelivr.net", "googleapis.com", "cdnjs."):
            assert cdn not in res.text, (page, cdn)
        if "L.tileLayer" in res.text:  # the base map draws the local blank tile unless configured
            assert "/assets/landgeo/blank-tile.png" in res.text
    assert any("leaflet.js" in a for a in assets) and any("swagger-ui-bundle.js" in a for a in assets)
    assert any(a.endswith("/redoc.standalone.js") for a in assets)  # ReDoc from web/node_modules, not jsdelivr
    for url in sorted(assets):
        got = requests.get(url, timeout=30)
        assert got.status_code == 200 and len(got.content) > 0, url
    assert requests.get(f"{base}/assets/vendor/leaflet/../../../pyproject.toml", timeout=10).status_code == 404


@pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-test-browser.sh)")
def test_redoc_and_swagger_ui_render_the_document_offline(server):
    """In a real browser: ReDoc and Swagger UI load from this server only and show the write side."""
    base, _log, _token = server
    host = urlsplit(base).netloc
    browser = Browser(1200, 800)
    try:
        for page, shown in ((f"{base}/openapi?f=html&ui=redoc", "document.querySelector('[data-section-id]')"),
                            (f"{base}/openapi?f=html", "document.querySelector('.opblock')")):
            browser.open(page)
            browser.wait_for(f"{shown} && document.body.innerText.includes('/processes/parcel-split/execution')",
                             120)
            loaded = browser.eval("performance.getEntriesByType('resource').map(e => e.name)")
            assert loaded and all(urlsplit(u).netloc == host for u in loaded), (page, loaded)
            assert browser.eval("document.body.innerText.includes('If-Match')") or "redoc" not in page
    finally:
        browser.close()


def _schemathesis(base: str, cwd: Path, *extra: str) -> str:
    st = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or shutil.which("schemathesis")
    assert st, "schemathesis is installed with the test extra"
    res = subprocess.run(
        [st, "run", f"{base}/openapi?f=json", "--url", base, "--checks",
         "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
         "--phases", "coverage,fuzzing", "--max-examples", "1", "--generation-deterministic", "--workers", "2",
         "--request-timeout", "20", "--no-shrink", "--suppress-health-check", "all", *extra],
        capture_output=True, text=True, timeout=300, cwd=cwd,  # its cache stays out of the checkout
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-6000:]
    selected = next(line for line in out.splitlines() if "Selected:" in line)
    tested = next(line for line in out.splitlines() if "Tested:" in line)
    chosen = selected.split(":")[1].split("/")[0].strip()
    assert tested.split(":")[1].strip() == chosen, (selected, tested)  # every selected operation testable
    return selected


def test_schemathesis_every_operation_no_server_error_responses_conform(server, tmp_path):
    """Anonymous: reads answer, every write and execution is refused with 401 as documented."""
    base, log, _token = server
    _schemathesis(base, tmp_path)
    text = log.read_text()  # pygeoapi logs the 400s it answers itself with a traceback; a 500 leaves these:
    assert "Error handling request" not in text and "did not return a valid response" not in text


def test_schemathesis_writes_as_an_officer_no_server_error(server, tmp_path):
    """With an officer's token (province 92, this throwaway database's parcels): creates, replaces, patches,
    retires and executions go past the identity check into parsing, If-Match, scope and validation."""
    base, log, token = server
    writable = "|".join(sorted(transactions.WRITABLE_COLLECTIONS))
    selected = _schemathesis(base, tmp_path, "-H", f"Authorization: Bearer {token}",
                             "--include-path-regex", f"^/(collections/({writable})/|processes)",
                             "--exclude-method", "GET", "--exclude-method", "OPTIONS")
    assert int(selected.split("/")[0].split(":")[1]) >= 4 + len(processes.PROCESSES), selected
    text = log.read_text()
    assert "Error handling request" not in text and "did not return a valid response" not in text
    assert " 500 " not in text and '"status": 500' not in text
