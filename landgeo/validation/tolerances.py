"""Tolerances of the checks (ngưỡng, hạn sai) in one place, overridable per call.

Every number here is a policy, not a law of nature; each says where it comes from.

Area tolerance (hạn sai diện tích thửa đất): the cadastral mapping rules give the allowed difference
between a parcel's area measured twice / computed from the map as ``ΔP = 0.0004 · M · √P`` (m²), with
``M`` the denominator of the map-sheet scale and ``P`` the parcel area in m². The formula is the one
quoted for cadastral maps from the 2008 cadastral mapping code (Quy phạm thành lập bản đồ địa chính,
QĐ 08/2008/QĐ-BTNMT) and carried into Circular 25/2014/TT-BTNMT (bản đồ địa chính); we could not open the
primary text while writing this, so the coefficient and the default scale are settings, not constants
(see docs/validation.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Tolerances:
    """Thresholds of the checks; lengths in metres, areas in m², angles in degrees."""

    # geometry
    repeated_vertex_m: float = 0.001  # consecutive vertices closer than 1 mm are the same vertex
    spike_angle_deg: float = 1.0  # interior angle below this at a vertex = spike (gai)
    sliver_width_m: float = 0.2  # polygon whose mean width 2A/P is below this = sliver
    # coordinates
    outlier_factor: float = 10.0  # outlier if farther from the group's median centre than factor × median
    outlier_min_m: float = 2000.0  # ... and than this
    outlier_min_group: int = 5  # groups smaller than this are not judged
    # parcel topology
    overlap_min_m2: float = 0.1  # overlaps at or below this area are ignored (digitising noise)
    gap_min_m2: float = 0.1  # holes in the sheet's coverage at or below this are ignored
    across_commune_min_m2: float = 1.0  # part outside the commune below this is not reported
    wrong_sheet_max_inside: float = 0.5  # parcel with less than this share inside its sheet = wrong sheet
    # area: ΔP = area_coefficient · M · √P
    area_coefficient: float = 0.0004
    default_scale: int = 2000  # used when the parcel's map sheet (hence its scale) is not known
    # networks and boundaries
    snap_m: float = 0.01  # ends closer than this to another line are connected
    dangle_search_m: float = 10.0  # an unconnected end within this distance of another line is a dangle
    boundary_m: float = 1.0  # boundary line farther than this from the admin area edge = mismatch
    admin_overlap_min_m2: float = 1.0
    sheet_overlap_min_m2: float = 1.0  # current map sheets of one commune and scale overlapping by more: a finding

    def with_(self, **changes) -> Tolerances:
        return replace(self, **changes)


DEFAULT = Tolerances()


def area_tolerance(area_m2: float, scale: int, tolerances: Tolerances = DEFAULT) -> float:
    """Allowed |declared − computed| (m²) for a parcel of ``area_m2`` on a sheet of scale 1:``scale``."""
    return tolerances.area_coefficient * scale * math.sqrt(max(area_m2, 0.0))
