"""Validation (kiểm tra dữ liệu) of land and base-geography data: one implementation for incoming files
(the loaders) and stored data (``landgeo validate``).

- :data:`CHECKS` — every check by stable code (``geom.invalid``, ``topo.overlap``, ``attr.area_mismatch`` ...).
- :func:`check_features` — per-feature checks on shapely 2 arrays (vectorised).
- :func:`check_table` — set-based checks in SQL on a stored or staging table.
- :func:`run_validation` — both over a scope of stored data; findings into ``meta.validation_finding``.
"""

from landgeo.validation.attributes import split_land_use_codes
from landgeo.validation.check_codes import CHECKS, Check, Finding
from landgeo.validation.features import check_features
from landgeo.validation.runner import run_summary, run_validation
from landgeo.validation.table import check_table
from landgeo.validation.tolerances import DEFAULT, Tolerances, area_tolerance

__all__ = [
    "CHECKS", "DEFAULT", "Check", "Finding", "Tolerances", "area_tolerance", "check_features", "check_table",
    "run_summary", "run_validation", "split_land_use_codes",
]
