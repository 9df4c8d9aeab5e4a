"""pygeoapi-config.yml agrees with the catalogue, holds no secret, and names our provider."""

from __future__ import annotations

from pathlib import Path

import yaml

from landdb.reference import REFERENCE_TABLES
from landgeo.api.collections import FINDINGS_ID, RESTRICTED_SCHEMAS, collections
from landgeo.api.config import PROVIDER, render
from landgeo.catalog import targets

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pygeoapi-config.yml"


def test_file_is_the_generated_config():
    regenerate = "regenerate: python -m landgeo.api.config > pygeoapi-config.yml"
    assert CONFIG.read_text(encoding="utf-8") == render(), regenerate


def test_collections_are_the_catalogue_plus_findings():
    cfg = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    assert set(cfg["resources"]) == set(targets()) | {FINDINGS_ID} | {t.id for t in REFERENCE_TABLES}
    for cid, res in cfg["resources"].items():
        (provider,) = res["providers"]
        assert provider["name"] == PROVIDER and provider["data"]["collection"] == cid
        assert provider["data"]["url"] == "${LANDGEO_DATABASE_URL}"
        assert provider["crs"][0] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    for cid, t in targets().items():
        # published through a view where the catalogue says so (the register: security-invoker; admin units: with a
        # boundary); nothing else restricted
        assert collections()[cid].table == t.extra.get("published_as", t.table)
        assert collections()[cid].schema == t.schema
        assert t.schema not in RESTRICTED_SCHEMAS or (t.restricted and collections()[cid].restricted)


def test_no_literal_password():
    text = CONFIG.read_text(encoding="utf-8")
    assert "postgresql://" not in text and "postgres://" not in text
    assert "password:" not in text.lower() and "@127.0.0.1" not in text


def test_every_province_zone_is_offered():
    """National collections offer the TM-3 CRS of every province, both generations, legacy meridians included."""
    from landgeo.crs import provinces

    offered = set(collections()["parcels"].crs_uris)
    for p in provinces():
        for crs in p.candidate_crs:
            assert f"http://www.opengis.net/def/crs/EPSG/0/{crs.srid}" in offered, (str(p), crs.srid)


def test_serve_refuses_a_missing_config_in_one_line(run_cli, tmp_path):
    done = run_cli("serve", "--config", str(tmp_path / "nope.yml"))
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: no pygeoapi configuration at") and "Traceback" not in done.stderr
