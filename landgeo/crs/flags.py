"""Findings about a coordinate reference system: what detection and WKT matching report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]

# Stable codes (loaders and validation store them; never rename one).
WGS84_VS_VN2000 = "crs.wgs84_vs_vn2000"
WRONG_MERIDIAN = "crs.wrong_meridian"
SWAPPED_XY = "crs.swapped_xy"
UTM_VS_TM3 = "crs.utm_vs_tm3"
UNITS = "crs.units"
OUTSIDE_PROVINCE = "crs.outside_province"
OUTSIDE_VIETNAM = "crs.outside_vietnam"
HN72_VS_VN2000 = "crs.hn72_vs_vn2000"
WRONG_SIGN_TOWGS84 = "crs.wrong_sign_towgs84"
UNOFFICIAL_TOWGS84 = "crs.unofficial_towgs84"
NO_TOWGS84 = "crs.no_towgs84"  # reserved, not emitted: a VN-2000 .prj without TOWGS84 is normal (ArcGIS)
DEPRECATED_CODE = "crs.deprecated_code"
UNRECOGNISED_WKT = "crs.unrecognised_wkt"
UNDECLARED = "crs.undeclared"
NON_STANDARD_PARAMETERS = "crs.non_standard_parameters"
VERTICAL_IGNORED = "crs.vertical_ignored"


@dataclass(frozen=True)
class Flag:
    """One finding: a stable ``code``, a ``severity`` (error|warning|info) and a one-line English ``message``.

    ``details`` carries numbers a program may use (e.g. the suggested CRS, the shift in metres).
    """

    code: str
    severity: Severity
    message: str
    details: dict = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        return f"{self.severity}: {self.code}: {self.message}"
