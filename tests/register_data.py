"""Test data for the land register: parcels in two provinces (79: two communes; 01: one), and register files.

Province 79 (TP. Hồ Chí Minh): communes 26737 (30 parcels) and 26740 (10 parcels), VN-2000 / TM-3 105-45.
Province 01 (Hà Nội): commune 00004 (12 parcels), TM-3 105. Every parcel has one holder (a few have two) and
most a certificate; names of province 01 start with "Hà Nội" so a leak is easy to see.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

PARCELS_SQL = """
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                           declared_area, address, source_srid, area_srid, valid_from, geom)
SELECT '79', CASE WHEN i < 30 THEN '26737' ELSE '26740' END, 1, 1 + i, ARRAY['ONT'], 600, 'Số ' || i,
       9210, 9210, '2020-01-01T00:00:00Z',
       ST_Transform(ST_Multi(ST_MakeEnvelope(604000 + i * 20.0, 1192000, 604020 + i * 20.0, 1192030, 9210)), 4756)
FROM generate_series(0, 39) AS i;
INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, land_use_codes,
                           declared_area, address, source_srid, area_srid, valid_from, geom)
SELECT '01', '00004', 3, 1 + i, ARRAY['ODT'], 88, NULL, 5897, 5897, '2019-03-01T00:00:00Z',
       ST_Transform(ST_Multi(ST_MakeEnvelope(585100 + i * 15.0, 2324500, 585115 + i * 15.0, 2324520, 5897)), 4756)
FROM generate_series(0, 11) AS i;
"""

PARCELS = [("79", "26737" if i < 30 else "26740", 1, 1 + i) for i in range(40)] + \
          [("01", "00004", 3, 1 + i) for i in range(12)]


def name_of(province: str, commune: str, n: int, second: bool = False) -> str:
    city = "Hà Nội" if province == "01" else "Sài Gòn"
    return f"{city} Người {commune}-{n}{'B' if second else ''}"


def write_files(folder: Path) -> dict[str, Path]:
    """parties.csv, rights.csv, certificates.csv for PARCELS (parcels 5 and 10 of each commune have two holders)."""
    parties, rights, certs = [], [], []
    for province, commune, sheet, n in PARCELS:
        holders = [f"P{commune}-{n}"] + ([f"P{commune}-{n}B"] if n % 5 == 0 else [])
        for k, code in enumerate(holders):
            parties.append((code, "person", name_of(province, commune, n, k == 1), f"000{province}{commune}{n:04d}",
                            1970 + n, f"{n} đường Thử, xã {commune}", province))
            share = "1" if len(holders) == 1 else "0.5"
            rights.append((f"R{commune}-{n}-{k}", code, commune, sheet, n, "use", share, "2020-01-01", ""))
            if n % 4 != 0:
                certs.append((f"CS {commune}{n:03d}{k}", f"B{n}", "2021-05-01", "Sở Tài nguyên và Môi trường",
                              f"R{commune}-{n}-{k}", province, ""))
    out = {}
    folder.mkdir(parents=True, exist_ok=True)
    specs = {
        "parties": (("party_code", "kind", "full_name", "id_number", "birth_year", "address", "province_code"),
                    parties),
        "rights": (("right_code", "party_code", "commune_code", "sheet_number", "parcel_number", "right_type",
                    "share", "valid_from", "valid_to"), rights),
        "certificates": (("serial", "book_number", "issued_on", "issuer", "right_code", "province_code",
                          "revoked_on"), certs),
    }
    for name, (header, rows) in specs.items():
        path = folder / f"{name}.csv"
        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        out[name] = path
    return out


def expected_parties(province: str | None = None, commune: str | None = None) -> set[str]:
    names = set()
    for p, c, _s, n in PARCELS:
        if (province is None or p == province) and (commune is None or c == commune):
            names.add(name_of(p, c, n))
            if n % 5 == 0:
                names.add(name_of(p, c, n, True))
    return names


@contextmanager
def register_database(server_url: str, template_db: str, folder: Path, prefix: str) -> Iterator[str]:
    """A scratch database with the parcels of 79 and 01 and their register (parties, rights, certificates)
    loaded with `landgeo load --into …` — the command a land office runs; dropped afterwards."""
    from landgeo.db.scratch import create_database, drop_database

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    try:
        with psycopg.connect(url) as conn:
            conn.execute(PARCELS_SQL)
        files = write_files(folder)
        env = {**os.environ, "LANDGEO_DATABASE_URL": url}
        for target in ("parties", "rights", "certificates"):
            done = subprocess.run([sys.executable, "-m", "landgeo", "load", str(files[target]), "--into", target],
                                  capture_output=True, text=True, env=env, timeout=120)
            assert done.returncode == 0, done.stderr
            assert f"into {target}" in done.stdout
        yield url
    finally:
        drop_database(server_url, name)
