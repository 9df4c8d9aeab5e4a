"""CRS stage (hệ tọa độ): which CRS the source is in, whether its coordinates agree, and the transformation
to VN-2000 geographic (EPSG:4756), the canonical CRS of every stored geometry.

The CRS comes from ``--crs`` (EPSG code, URI, ``vn2000:<province>``) or else from the file (.prj of a
Shapefile, the layer's CRS otherwise), through the registry of :mod:`landgeo.crs`. Before anything is
written, :func:`landgeo.crs.detect` looks at the first batch's coordinates: a file whose coordinates
contradict its declared CRS is refused with the reason, unless ``--force-crs``. Transformation uses
:func:`landgeo.crs.transform`: from a VN-2000 TM-3 or UTM file it is the inverse projection only (same datum,
exact); from WGS 84 it is the official EPSG:6960 operation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from landgeo.crs import CRS, detect, from_wkt, resolve, transform
from landgeo.crs.geocentric import official_to_wgs84
from landgeo.crs.srids import VN2000_GEOGRAPHIC, WGS84
from landgeo.errors import UserError

CANONICAL_SRID = VN2000_GEOGRAPHIC
WGS84_SRID = WGS84


@dataclass
class CrsPlan:
    """The source CRS, where it came from, and what the checks said about it."""

    source: CRS
    how: str  # "--crs" | ".prj" | "layer metadata"
    notes: list[str] = field(default_factory=list)
    forced: bool = False

    @property
    def srid(self) -> int:
        return int(self.source.srid)

    @property
    def label(self) -> str:
        return f"{self.source.code} ({self.source.name})"

    @property
    def tm3_srid(self) -> int | None:
        """The source's SRID when it is a VN-2000 TM-3 CRS (where the legal area is measured)."""
        return self.srid if self.source.is_tm3 else None

    def vertices(self, xy: np.ndarray, wgs84: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Source vertices ``xy`` (N × 2) in VN-2000 geographic and, when ``wgs84``, in WGS 84 by the official
        EPSG:6960 operation — the stored geometry and its serving copy, from one pass over the coordinates."""
        if self.srid == CANONICAL_SRID:
            canonical = xy
        else:
            x, y = transform(self.source, CANONICAL_SRID, xy[:, 0], xy[:, 1])
            canonical = np.column_stack([x, y])
        if not wgs84:
            return canonical, None
        if self.srid == WGS84_SRID:
            return canonical, xy
        official = official_to_wgs84()  # the same operation as PROJ's, array by array (landgeo.crs.geocentric)
        if official is None:
            x, y = transform(CANONICAL_SRID, WGS84_SRID, canonical[:, 0], canonical[:, 1])
            return canonical, np.column_stack([x, y])
        x, y = official(canonical[:, 0], canonical[:, 1])
        out = np.column_stack([x, y])
        out[~np.isfinite(out).all(axis=1)] = np.nan
        return canonical, out

    def from_canonical(self, geoms: np.ndarray) -> np.ndarray:
        """Back from VN-2000 geographic to the source CRS (for the rejects report)."""
        if self.srid == CANONICAL_SRID:
            return geoms
        src = self.source

        def fn(coords: np.ndarray) -> np.ndarray:
            x, y = transform(CANONICAL_SRID, src, coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geoms, fn)


def source_crs(declared: str | None, prj_text: str | None, crs_option: str | None, where: str) -> CrsPlan:
    """Resolve the source CRS: ``--crs`` first, then the .prj, then the layer's own CRS."""
    notes: list[str] = []
    file_crs = None
    file_how = ""
    file_problem = ""
    if prj_text:
        match = from_wkt(prj_text)
        file_how = ".prj"
        for flag in match.flags:
            notes.append(f".prj {flag.severity}: {flag.message}")
        if match.crs is None:
            file_problem = "; ".join(f.message for f in match.flags) or "unrecognised WKT"
        else:
            file_crs = match.crs
            if not match.ok:
                file_problem = "; ".join(f.message for f in match.flags if f.severity == "error")
    elif declared:
        file_how = "layer metadata"
        try:
            file_crs = resolve(declared)
        except UserError as exc:
            file_problem = str(exc)
    if crs_option:
        chosen = resolve(crs_option)
        if file_crs is not None and file_crs.srid != chosen.srid:
            notes.append(f"the file says {file_crs.code}; using --crs {chosen.code}")
        return CrsPlan(chosen, "--crs", notes)
    if file_crs is None:
        if file_problem:
            raise UserError(f"{where}: cannot use its CRS ({file_problem}); name it with --crs")
        raise UserError(f"{where} declares no CRS: name it with --crs (e.g. --crs EPSG:9210 or --crs vn2000:79)")
    if file_problem:
        raise UserError(f"{where}: its {file_how} is not usable as is ({file_problem}); name the CRS with --crs")
    return CrsPlan(file_crs, file_how, notes)


def check_coordinates(plan: CrsPlan, geoms: np.ndarray, province: str | None, force: bool, where: str) -> None:
    """Refuse (unless ``force``) coordinates that contradict the CRS; keep warnings as notes."""
    coords = shapely.get_coordinates(geoms[~shapely.is_missing(geoms)])
    coords = coords[np.isfinite(coords).all(axis=1)] if len(coords) else coords
    if not len(coords):
        return
    step = max(1, len(coords) // 5000)
    coords = coords[::step]
    found = detect(coords[:, 0], coords[:, 1], declared=plan.source, province=province)
    errors = [f for f in found.flags if f.severity == "error"]
    for flag in found.flags:
        if flag.severity != "error":
            plan.notes.append(f"CRS {flag.severity}: {flag.message}")
    if not errors:
        return
    reason = "; ".join(f.message for f in errors)
    if force:
        plan.forced = True
        plan.notes.append(f"--force-crs: kept {plan.source.code} although {reason}")
        return
    hint = ""
    if found.candidates and found.candidates[0].srid != plan.srid:
        hint = f" — try --crs {found.candidates[0].code}"
    raise UserError(f"{where}: coordinates do not fit {plan.source.code} ({plan.how}): {reason}{hint} "
                    "(or --force-crs to load anyway)")
