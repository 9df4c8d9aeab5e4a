"""Provinces (tỉnh, thành phố) and the VN-2000 TM-3 central meridian (kinh tuyến trục) of each.

Two generations:
- '2025': the 34 provinces from 2025-07-01 (Decision 19/2025/QĐ-TTg codes; meridians of Circular
  24/2025/TT-BNNMT, read from secondary compilations).
- '2004': the 63 provinces (+ Hà Tây until 2008) with the GSO codes of Decision 124/2004/QĐ-TTg and the
  meridians of Circular 973/2001/TT-TCĐC. Existing cadastral data keep the meridian of the former
  province: the source CRS of a dataset must be recorded, never assumed from today's province.

Where sources disagree on a meridian (``Province.conflicting_lon0``) the value is configurable:
``LANDGEO_CRS_MERIDIANS="44@2025=106.25,80@2025=105.5"`` overrides the listed provinces.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache

from landgeo.crs.names import normalise_name, strip_diacritics
from landgeo.crs.registry import CRS, tm3_crs_for_meridian
from landgeo.errors import UserError
from landgeo.settings import get_settings

GENERATIONS = ("2025", "2004")
MERIDIAN_OVERRIDES_ENV = "LANDGEO_CRS_MERIDIANS"


@dataclass(frozen=True)
class Province:
    """A province of one generation, its central meridian ``lon0`` and TM-3 ``crs``.

    ``extents`` are approximate (west, south, east, north) boxes in degrees (one per part: mainland,
    islands; a 2025 province has its predecessors'), for plausibility checks only; ``extent`` bounds them all.
    ``predecessors`` (2025) are the 2004 codes merged into it; ``successor`` (2004) the 2025 code.
    ``legacy_lon0s`` (2025) are the meridians of its predecessors, which existing cadastral data keep.
    """

    code: str
    name: str
    generation: str
    lon0: float
    crs: CRS
    name_en: str = ""
    predecessors: tuple[str, ...] = ()
    successor: str | None = None
    legacy_lon0s: tuple[float, ...] = ()
    extents: tuple[tuple[float, float, float, float], ...] = ()
    conflicting_lon0: str = ""
    lon0_overridden: bool = False
    source: str = field(default="", repr=False, compare=False)

    @property
    def extent(self) -> tuple[float, float, float, float] | None:
        """The box around all ``extents`` (None when unknown)."""
        if not self.extents:
            return None
        return (min(b[0] for b in self.extents), min(b[1] for b in self.extents),
                max(b[2] for b in self.extents), max(b[3] for b in self.extents))

    @property
    def candidate_crs(self) -> list[CRS]:
        """TM-3 CRSs data of this province may be in: its own, then the legacy meridians of its predecessors."""
        seen: dict[float, CRS] = {self.lon0: self.crs}
        for lon0 in self.legacy_lon0s:
            if lon0 not in seen:
                seen[lon0] = tm3_crs_for_meridian(lon0)
        return list(seen.values())

    def __str__(self) -> str:
        return f"{self.code} {self.name} ({self.generation})"


def _overrides() -> dict[tuple[str, str], float]:
    raw = get_settings().crs_meridians
    result: dict[tuple[str, str], float] = {}
    if not raw:
        return result
    for item in raw.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        try:
            key, value = item.split("=")
            code, _, generation = key.strip().partition("@")
            result[(code.strip().zfill(2), generation.strip() or "2025")] = float(value)
        except ValueError:
            raise UserError(f"{MERIDIAN_OVERRIDES_ENV}: cannot read {item!r} (expected CODE@GENERATION=LON0)") from None
    return result


def _read(name: str) -> list[dict[str, str]]:
    with (get_settings().reference_dir / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _clean_name(name: str) -> str:
    return name.split("(")[0].strip()


@lru_cache(maxsize=4)
def _load(overrides_key: str) -> tuple[Province, ...]:
    overrides = _overrides()
    meridian_old = {row["province_en"]: row for row in _read("central_meridians_old_63.csv")}
    extents: dict[str, list[tuple[float, ...]]] = {}
    for row in _read("province_extents_2004.csv"):
        extents.setdefault(row["province_code_2004"], []).append(
            tuple(float(row[k]) for k in ("west", "south", "east", "north")))
    names_2025 = {row["province_code"]: row["province_name_vi"] for row in _read("province_codes_2025.csv")}
    old_rows = _read("provinces_2004.csv")
    old: list[Province] = []
    for row in old_rows:
        m = meridian_old.get(row["province_en"])
        if m is None:
            raise UserError(f"provinces_2004.csv: {row['province_en']} has no row in central_meridians_old_63.csv")
        code = row["province_code_2004"]
        lon0 = overrides.get((code, "2004"), float(m["lon0_deg"]))
        old.append(Province(
            code=code, name=_clean_name(row["province_vi"]), generation="2004", lon0=lon0,
            crs=tm3_crs_for_meridian(lon0), name_en=row["province_en"], successor=row["successor_code_2025"],
            extents=tuple(extents.get(code, ())), lon0_overridden=(code, "2004") in overrides,
            source=f"code: {row['source']}; meridian: {m['source']}",
        ))
    new: list[Province] = []
    for row in _read("central_meridians_new_34_2025.csv"):
        code = row["province_code_2025"]
        preds = tuple(p.code for p in old if p.successor == code)
        legacy = tuple(sorted({p.lon0 for p in old if p.successor == code}))
        boxes = tuple(box for p in old if p.successor == code for box in p.extents)
        lon0 = overrides.get((code, "2025"), float(row["lon0_deg"]))
        name = names_2025.get(code, row["province_vi"])
        for prefix in ("Thành phố ", "Tỉnh "):
            if name.startswith(prefix):
                name = name[len(prefix):]
        new.append(Province(
            code=code, name=name, generation="2025", lon0=lon0, crs=tm3_crs_for_meridian(lon0),
            name_en=strip_diacritics(name), predecessors=preds,
            legacy_lon0s=legacy, extents=boxes, conflicting_lon0=row["conflicting_value_seen"],
            lon0_overridden=(code, "2025") in overrides, source=row["source"],
        ))
    return tuple(new) + tuple(old)


def _all() -> tuple[Province, ...]:
    return _load(get_settings().crs_meridians)


def _check_generation(generation: str | None) -> None:
    if generation is not None and generation not in GENERATIONS:
        raise UserError(f"unknown province generation {generation!r} (use 2025 or 2004)")


def provinces(generation: str | None = None) -> list[Province]:
    """Provinces of one generation ('2025': 34, '2004': 64 incl. Hà Tây), or of both (2025 first)."""
    _check_generation(generation)
    return [p for p in _all() if generation is None or p.generation == generation]


def _name_keys(p: Province) -> set[str]:
    keys = {normalise_name(p.name)}
    if p.name_en:
        keys.add(normalise_name(p.name_en))
    if p.generation == "2025" and p.code == "46":
        keys |= {"thuathienhue"}
    return keys


def find_province(code_or_name: str, generation: str | None = None) -> Province:
    """A province by code ('01', '1') or name ('Hà Nội', 'ha noi', 'TP. Hà Nội', 'Thành phố Hà Nội').

    Without ``generation`` the 2025 province wins when both generations have the code or name;
    a '@2004' / '@2025' suffix ('79@2004') also picks the generation.
    Unknown -> ``UserError``.
    """
    text = str(code_or_name).strip()
    if generation is None and "@" in text:
        text, generation = (part.strip() for part in text.rsplit("@", 1))
    _check_generation(generation)
    if not text:
        raise UserError("empty province code or name")
    pool = [p for p in _all() if generation is None or p.generation == generation]
    if text.isdigit():
        code = text.zfill(2)
        hits = [p for p in pool if p.code == code]
    else:
        key = normalise_name(text)
        hits = [p for p in pool if key in _name_keys(p)]
    if not hits:
        where = f" in generation {generation}" if generation else ""
        raise UserError(f"unknown province {text!r}{where} (use a province code such as 01 or a name such as Hà Nội)")
    hits.sort(key=lambda p: GENERATIONS.index(p.generation))
    return hits[0]


def province_zone(code_or_name: str, generation: str | None = None) -> CRS:
    """The VN-2000 TM-3 CRS of a province (its central meridian, k0 = 0.9999, false easting 500 km)."""
    return find_province(code_or_name, generation).crs
