"""The SRIDs landgeo stores and serves in, named once (hệ quy chiếu lưu trữ).

Every stored geometry is in VN-2000 geographic coordinates (``geom``, EPSG:4756), with a WGS 84 serving copy
(``geom_wgs84``, EPSG:4326) made by the official VN-2000 → WGS 84 operation (EPSG:6960). Python code names these
constants instead of writing the numbers; SQL migrations already applied keep their literals.
"""

from __future__ import annotations

VN2000_GEOGRAPHIC = 4756  # VN-2000 geographic: the canonical CRS of every stored geometry
WGS84 = 4326  # WGS 84 geographic: the serving copy
HN72_GEOGRAPHIC = 4147  # HN-72, the datum VN-2000 replaced (old maps)
