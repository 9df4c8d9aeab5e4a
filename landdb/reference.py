"""Official reference tables published as non-spatial collections, and the computed properties that use them.

- ``admin-unit-codes``: every official administrative unit (đơn vị hành chính) of both generations — codes, names,
  levels, parents, validity dates — whether or not a boundary was loaded (seeded by migration 0050 from the
  ``vietnam-provinces`` package). The spatial ``admin-units`` collection serves only the units that have a
  boundary (view ``landdb.admin_unit_boundary``).
- ``admin-crosswalk-2025``: the official conversion of communes on 2025-07-01 (bảng chuyển đổi ĐVHC cấp xã):
  old commune → new commune(s), with "partly merged" (sáp nhập một phần).
- Parcels keep the commune code they were surveyed under (``commune_code``) and expose ``current_commune_code``:
  the commune the code belongs to today, through ``landdb.commune_current`` (one index probe per feature).
"""

from __future__ import annotations

from landgeo.catalog import Field, Target

ADMIN_UNIT_CODES = Target(
    id="admin-unit-codes",
    schema="landdb",
    table="admin_unit",
    title="Danh mục đơn vị hành chính — official administrative unit codes",
    description="Every official province, district (before 2025-07-01) and commune of both generations with its "
                "code, name, level, parent and validity dates (GSO list via vietnam-provinces). No geometry: "
                "boundaries are in admin-units. Current units by default; datetime=../.. for both generations.",
    geometry_type="None",
    keywords=("đơn vị hành chính", "administrative unit", "code list"),
    fields=(
        Field("code", "text", "Mã đơn vị hành chính — admin code", required=True),
        Field("name", "text", "Tên — name", required=True),
        Field("level", "text", "Cấp — province | district | commune", required=True),
        Field("parent_code", "text", "Mã đơn vị cấp trên — parent code (province, or district before 2025)"),
        Field("valid_from", "date", "Hiệu lực từ — valid from"),
        Field("valid_to", "date", "Hiệu lực đến — valid to"),
    ),
)

ADMIN_CROSSWALK_2025 = Target(
    id="admin-crosswalk-2025",
    schema="landdb",
    table="admin_crosswalk_2025",
    title="Bảng chuyển đổi đơn vị hành chính cấp xã 2025 — 2025 commune crosswalk",
    description="Old commune (before 2025-07-01) -> new commune(s), one row per pair; partly_merged: only part of "
                "the old commune went into the new one. Official table via vietnam-provinces. No geometry.",
    geometry_type="None",
    keywords=("đơn vị hành chính", "sắp xếp 2025", "crosswalk"),
    fields=(
        Field("old_code", "text", "Mã xã cũ — old commune code", required=True),
        Field("old_name", "text", "Tên xã cũ — old commune name"),
        Field("old_district_code", "text", "Mã huyện cũ — old district code", required=True),
        Field("old_province_code", "text", "Mã tỉnh cũ — old province code", required=True),
        Field("new_code", "text", "Mã xã mới — new commune code", required=True),
        Field("new_name", "text", "Tên xã mới — new commune name"),
        Field("new_province_code", "text", "Mã tỉnh mới — new province code", required=True),
    ),
)

#: Non-spatial collections of the reference tables (not loader targets: they come from migrations).
REFERENCE_TABLES = (ADMIN_UNIT_CODES, ADMIN_CROSSWALK_2025)

#: Computed properties: (field, SQL expression over the row). Expressions are fixed text from here, never input.
COMPUTED_FIELDS: dict[str, tuple[tuple[Field, str], ...]] = {
    "parcels": ((
        Field("current_commune_code", "text",
              "Mã xã hiện hành — the commune the parcel's commune_code belongs to since 2025-07-01 (official "
              "crosswalk); null when the old commune was split between several new ones"),
        "(SELECT cc.current_code FROM landdb.commune_current cc WHERE cc.code = commune_code)"),),
    "admin-crosswalk-2025": ((
        Field("partly_merged", "text",
              "Sáp nhập một phần — 'true' when only part of the old commune went into this new one"),
        "partly_merged::text"),),
}
