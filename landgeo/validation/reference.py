"""Code lists the per-feature checks need without a database: read once from ``schemas/reference/vn``.

The database tables (``landdb.land_use_code``, ``landdb.admin_unit``) are seeded from the same files;
set-based checks read the tables, so dated validity (a code valid at the parcel's time) is judged there.
"""

from __future__ import annotations

import csv
from functools import lru_cache

from landgeo.settings import get_settings


@lru_cache(maxsize=1)
def land_use_codes() -> frozenset[str]:
    """Every land-use code of the current (TT 08/2024) and legacy (TT 27/2018) lists."""
    with open(get_settings().reference_dir / "land_use_codes.csv", encoding="utf-8", newline="") as fh:
        return frozenset(row["code"].strip().upper() for row in csv.DictReader(fh) if row.get("code"))


@lru_cache(maxsize=1)
def province_codes() -> frozenset[str]:
    """The 34 province codes in force from 2025-07-01 (QĐ 19/2025/QĐ-TTg)."""
    with open(get_settings().reference_dir / "province_codes_2025.csv", encoding="utf-8", newline="") as fh:
        return frozenset(row["province_code"].strip() for row in csv.DictReader(fh) if row.get("province_code"))


def land_use_codes_from_db(conn) -> frozenset[str]:
    """The land-use codes as stored in ``landdb.land_use_code`` (what a deployment actually loaded)."""
    return frozenset(r[0] for r in conn.execute("SELECT DISTINCT code FROM landdb.land_use_code"))
