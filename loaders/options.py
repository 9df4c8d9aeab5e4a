"""Options stage (tùy chọn nạp): what ``landgeo load`` was asked to do, and what a load gives back."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from landgeo.crs.srids import VN2000_GEOGRAPHIC
from loaders.map import FieldMapping

MODES = ("append", "replace", "upsert")
ON_INVALID = ("repair", "reject")
# Set-based findings that reject features (integrity of the merge); the others are recorded as findings.
REJECTING_SET_CHECKS = ("attr.parcel_number_duplicate",)

Progress = Callable[[str, int, int | None], None]  # (stage, done, total)


def quiet(stage: str, done: int, total: int | None) -> None:
    """A :data:`Progress` that says nothing."""
    return None


@dataclass
class LoadOptions:
    """What ``landgeo load`` was asked to do."""

    target: str
    layer: str | None = None
    crs: str | None = None
    force_crs: bool = False
    mapping: str | Path | None = None
    mode: str = "append"
    on_invalid: str = "reject"
    rejects: str | Path | None = None
    encoding: str | None = None
    province: str | None = None
    batch_size: int = 32768
    set_checks: str = "keys"  # keys (natural-key duplicates) | all (every set-based check of landgeo.validation)
    database_url: str | None = None

    def identity(self, mapping: FieldMapping) -> dict:
        """The options that make two loads of the same file the same load (stored in load_batch.options)."""
        return {
            "mode": self.mode, "layer": self.layer, "crs": self.crs, "force_crs": self.force_crs,
            "mapping_sha256": hashlib.sha256(mapping.mapping_text.encode()).hexdigest() if mapping.mapping_text
            else None, "on_invalid": self.on_invalid, "encoding": self.encoding, "province": self.province,
            "set_checks": self.set_checks,
        }


@dataclass
class LoadResult:
    status: str  # committed | noop
    batch_id: int | None
    counts: dict[str, int]
    sha256: str
    crs_in: str | None = None
    crs_out: str = f"EPSG:{VN2000_GEOGRAPHIC}"
    rejects_path: Path | None = None
    rejects_by_code: dict[str, int] = field(default_factory=dict)
    findings_by_code: dict[str, int] = field(default_factory=dict)
    warnings_by_code: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reject_reasons: list[str] = field(default_factory=list)  # when most features were rejected: the reasons
    seconds: float = 0.0
    previous_batch: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
