"""The web map in a real browser: headless Chromium (Debian package) opens /map on a real `landgeo serve`, searches a
parcel by commune + sheet + number and by address, and the test checks what rendered: the result in the DOM, the
parcel's public properties, and a screenshot with land-use colours drawn in the map area.

Skipped with the reason when chromium or the map's MapLibre GL JS (``make map-assets``) is missing."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest
from browser import Browser, chromium_path
from PIL import Image
from test_api_server import GRID_SQL, HISTORY_SQL
from tileserver import serve

from landdb.legend import LAND_USE_COLOURS
from landgeo.db.scratch import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "landgeo" / "tiles" / "static" / "vendor" / "maplibre-gl.js"

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="chromium is not installed (scripts/ensure-test-browser.sh)"),
    pytest.mark.skipif(not VENDOR.exists(), reason="MapLibre GL JS not installed (make map-assets needs npm)"),
]


@pytest.fixture(scope="module")
def site(server_url: str, template_db: str, tmp_path_factory):
    name = f"landgeo_test_map_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url) as conn:
        conn.execute(GRID_SQL)
        conn.execute(HISTORY_SQL)
    tmp = tmp_path_factory.mktemp("map")
    with serve(url, tmp / "cache", tmp / "serve.log") as base:
        yield base, tmp
    drop_database(server_url, name)


@pytest.fixture(scope="module")
def browser():
    b = Browser(1200, 800)
    yield b
    b.close()


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def _wait_drawn(browser: Browser) -> None:
    browser.wait_for("document.body.dataset.mapLoaded || document.body.dataset.mapError", 120)
    assert not browser.eval("document.body.dataset.mapError || ''"), browser.eval("document.body.dataset.mapError")
    browser.wait_for("window.landgeoMap.loaded() && window.landgeoMap.areTilesLoaded()", 120)


def test_search_by_commune_sheet_parcel_draws_the_parcels(site, browser):
    base, tmp = site
    browser.open(f"{base}/map?commune=26734&sheet=1&parcel=30")
    _wait_drawn(browser)
    assert browser.wait_for("document.querySelectorAll('#results li.result').length", 60) == 1
    result = browser.eval("document.querySelector('#results li.result').textContent")
    assert "tờ 1" in result and "thửa 30" in result and "LUC" in result
    props = browser.eval("Object.fromEntries([...document.querySelectorAll('#props tr')]"
                         ".map(tr => [tr.cells[0].textContent, tr.cells[1].textContent]))")
    assert props["parcel_number"] == "30" and props["land_use_codes"] == "LUC" and props["commune_code"] == "26734"
    browser.wait_for("window.landgeoMap.getZoom() > 15", 30)
    _wait_drawn(browser)
    shot = browser.screenshot(tmp / "map-search.png")
    image = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    panel = browser.eval("document.getElementById('panel').getBoundingClientRect().right")
    scale = image.width / browser.eval("window.innerWidth")
    area = image.crop((int((panel + 5) * scale), 0, image.width, int(image.height * 0.9)))
    pixels = np.asarray(area, dtype=np.int16).reshape(-1, 3)
    # the grid is ONT, CLN+ONT and LUC: their legend fills cover most of the map area
    legend = np.array([_rgb(LAND_USE_COLOURS[c][0]) for c in ("ONT", "CLN", "LUC")], dtype=np.int16)
    near = (np.abs(pixels[:, None, :] - legend[None, :, :]).sum(axis=2) <= 12).any(axis=1).mean()
    assert near > 0.4, f"land-use fills cover {near:.0%} of the map area"
    background = (np.abs(pixels - np.array([248, 248, 244])).sum(axis=1) <= 3).mean()
    assert background < 0.5


def test_search_by_address_and_click_shows_public_properties_only(site, browser):
    base, _tmp = site
    browser.open(f"{base}/map?address=" + "Số 7 đường".replace(" ", "%20"))
    _wait_drawn(browser)
    n = browser.wait_for("document.querySelectorAll('#results li.result').length", 60)
    texts = browser.eval("[...document.querySelectorAll('#results li.result')].map(li => li.textContent)")
    assert n >= 1 and all("Số 7" in t for t in texts)
    # a click in the middle of the map picks the parcel drawn there (queryRenderedFeatures on the tile)
    browser.eval("void document.getElementById('props').replaceChildren()")
    x, y = browser.eval("(() => { const r = document.getElementById('map').getBoundingClientRect(); "
                        "return [r.left + r.width / 2, r.top + r.height / 2]; })()")
    for kind in ("mousePressed", "mouseReleased"):
        browser.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
    props = browser.wait_for("document.querySelectorAll('#props tr').length && Object.fromEntries("
                             "[...document.querySelectorAll('#props tr')].map(tr => [tr.cells[0].textContent, "
                             "tr.cells[1].textContent]))", 30)
    assert props["commune_code"] == "26734" and "parcel_number" in props
    assert browser.eval("document.getElementById('register').hidden")  # no token: no rights, no parties
