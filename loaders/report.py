"""Report stage (báo cáo): the rejects file and the load summary.

The rejects file is a GeoPackage or a GeoJSON (chosen by the extension of ``--rejects``) that QGIS opens as a
layer: one feature per rejected source feature, in the source CRS, with ``feature`` (1-based number in the
source), ``check_code`` (stable code of :mod:`landgeo.validation.check_codes` or ``load.*``), ``reason`` (one
line, English) and the source's mapped attributes as text. Features whose geometry could not be read are
written without geometry. Rejects are written in chunks so memory stays bounded whatever their number.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyogrio import raw

from landgeo.errors import UserError

CHUNK = 20_000


class RejectsWriter:
    """Collects rejected features and writes them to ``path`` (.gpkg or .geojson) in the source CRS."""

    def __init__(self, path: str | Path | None, crs: str | None, attribute_names: list[str]) -> None:
        self.path = Path(path) if path else None
        if self.path and self.path.suffix.lower() not in (".gpkg", ".geojson", ".json"):
            raise UserError(f"--rejects {self.path.name}: use a .gpkg or .geojson file name")
        self.crs = crs
        self.names = attribute_names
        self.count = 0
        self.by_code: dict[str, int] = {}
        self._buffer: list[tuple] = []
        self._tmp: Path | None = None
        self.examples: list[str] = []
        self.example_of: dict[str, str] = {}  # check code -> its first rejected feature

    def add(self, index: int, code: str, reason: str, geometry, attrs: dict) -> None:
        self.count += 1
        self.by_code[code] = self.by_code.get(code, 0) + 1
        if len(self.examples) < 5:
            self.examples.append(f"feature {index + 1}: {reason}")
        self.example_of.setdefault(code, f"feature {index + 1}: {reason}")
        if self.path is None:
            return
        self._buffer.append((index, code, reason, geometry, attrs))
        if len(self._buffer) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        if self._tmp is None:
            fd, name = tempfile.mkstemp(suffix=".gpkg", prefix=".rejects-",
                                        dir=self.path.parent if self.path.parent.exists() else None)
            os.close(fd)
            os.unlink(name)
            self._tmp = Path(name)
        geoms = np.array([_safe_wkb(b[3]) for b in self._buffer], dtype=object)
        fields = ["feature", "check_code", "reason", *self.names]
        data = [np.array([b[0] + 1 for b in self._buffer], dtype=np.int64),
                np.array([b[1] for b in self._buffer], dtype=object),
                np.array([b[2] for b in self._buffer], dtype=object)]
        for name in self.names:
            data.append(np.array([_text(b[4].get(name)) for b in self._buffer], dtype=object))
        raw.write(str(self._tmp), geoms, data, fields, layer="rejects", driver="GPKG", geometry_type="Unknown",
                  crs=self.crs, append=self._tmp.exists(), encoding="UTF-8")
        self._buffer.clear()

    def close(self) -> Path | None:
        """Write what is left; return the path of the report (None when nothing was rejected)."""
        if self.path is None or self.count == 0:
            return None
        self._flush()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            self.path.unlink()
        if self.path.suffix.lower() == ".gpkg":
            os.replace(self._tmp, self.path)
        else:
            meta, table = pyogrio.read_arrow(str(self._tmp))
            geom = table.column(meta["geometry_name"] or "wkb_geometry").to_numpy(zero_copy_only=False)
            names = [n for n in table.column_names if n != (meta["geometry_name"] or "wkb_geometry")]
            data = [table.column(n).to_numpy(zero_copy_only=False) for n in names]
            raw.write(str(self.path), geom, data, names, driver="GeoJSON", geometry_type="Unknown", crs=self.crs,
                      encoding="UTF-8")
            self._tmp.unlink()
        return self.path

    def discard(self) -> None:
        if self._tmp and self._tmp.exists():
            self._tmp.unlink()


def _safe_wkb(geometry) -> bytes | None:
    if geometry is None:
        return None
    if isinstance(geometry, bytes | bytearray):
        try:
            geometry = shapely.from_wkb(geometry)
        except Exception:  # noqa: BLE001 - unreadable geometry: written without one
            return None
    try:
        coords = shapely.get_coordinates(geometry)
        if len(coords) and not np.isfinite(coords).all():
            return None
        return shapely.to_wkb(geometry)
    except Exception:  # noqa: BLE001
        return None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return "+".join(str(v) for v in value)
    return str(value)


def reasons(rejects: RejectsWriter, top: int = 5) -> list[str]:
    """The most frequent reject reasons, one line each: code, count and the first feature rejected for it."""
    ranked = sorted(rejects.by_code.items(), key=lambda kv: (-kv[1], kv[0]))
    lines = [f"  {code}: {n} (e.g. {rejects.example_of[code]})" for code, n in ranked[:top]]
    if len(ranked) > top:
        lines.append(f"  … {sum(n for _c, n in ranked[top:])} more, for {len(ranked) - top} other reasons")
    return lines


def summary_line(counts: dict[str, int]) -> str:
    order = ("read", "inserted", "updated", "unchanged", "closed", "repaired", "rejected")
    return ", ".join(f"{k} {counts[k]}" for k in order if k in counts)
