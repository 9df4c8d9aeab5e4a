"""Load/publish targets of the land database: parcels (thửa đất), map sheets (tờ bản đồ), admin units."""

from __future__ import annotations

from landgeo.target import Field, Target

# Fields two targets share, written once (a source alias added here is known to both).
COMMUNE_CODE = Field("commune_code", "text", "Mã xã — commune code", required=True, aliases=("maxa", "ma_xa"))
SHEET_NUMBER = Field(
    "sheet_number", "integer", "Số hiệu tờ bản đồ — map sheet number", required=True,
    aliases=("sohieutobando", "soto", "shbando", "sohieutoba", "so_to", "to_bd"),
)

PARCELS = Target(
    id="parcels",
    schema="landdb",
    table="parcel",
    title="Thửa đất — land parcels",
    description="Cadastral parcels (thửa đất): commune, map sheet, parcel number, land use, declared and "
    "computed area, lifespan of each version.",
    geometry_type="MultiPolygon",
    natural_key=("commune_code", "sheet_number", "parcel_number"),
    keywords=("thửa đất", "parcel", "cadastre", "địa chính"),
    partition_key="province_code",
    replace_scope="commune_code",
    province_from_commune=True,
    computed_columns=("geom_wgs84", "area_srid", "computed_area"),
    unique_current_key=True,
    history_table="parcel_history",
    topology="parcel-cover",
    tile_summaries=True,
    write_scope="commune",
    write_model="register",
    versioning="version-rows",
    current_counts="parcel_current_count",
    fields=(
        Field("province_code", "text", "Mã tỉnh — province code (2025 list)", required=True),
        COMMUNE_CODE,
        SHEET_NUMBER,
        Field(
            "parcel_number", "integer", "Số thứ tự thửa — parcel number within the sheet", required=True,
            aliases=("sothututhua", "sothua", "shthua", "sothututhu", "so_thua"),
        ),
        Field(
            "land_use_codes", "text[]", "Ký hiệu mục đích sử dụng đất — land-use code(s)", required=True,
            aliases=("kyhieumucdichsudung", "mucdich", "loaidat", "mdsd", "kyhieumucd"),
        ),
        Field(
            "declared_area", "number", "Diện tích pháp lý (m²) — declared legal area",
            aliases=("dientich", "dientichpl", "dientichphaply"),
        ),
        Field("address", "text", "Địa chỉ thửa đất — address", aliases=("diachi",)),
        Field("valid_from", "datetime", "Thời điểm bắt đầu — start of this version", aliases=("thoidiembatdau",)),
        Field("valid_to", "datetime", "Thời điểm kết thúc — end of this version", aliases=("thoidiemketthuc",)),
    ),
)

MAP_SHEETS = Target(
    id="map-sheets",
    schema="landdb",
    table="map_sheet",
    title="Tờ bản đồ địa chính — cadastral map sheets",
    description="Map sheets (tờ bản đồ): commune, sheet number, scale and the CRS they were surveyed in.",
    geometry_type="MultiPolygon",
    natural_key=("commune_code", "sheet_number"),
    keywords=("tờ bản đồ", "map sheet"),
    replace_scope="commune_code",
    province_from_commune=True,
    unique_current_key=True,
    topology="sheet-cover",  # current sheets of one commune and scale do not overlap (landgeo.validation.sheets)
    write_scope="commune",  # a land office keeps the sheets of its communes (RLS: access.in_scope, migration 0160)
    versioning="version-rows",
    fields=(
        Field("province_code", "text", "Mã tỉnh — province code", required=True),
        COMMUNE_CODE,
        SHEET_NUMBER,
        Field("scale", "integer", "Tỷ lệ — scale denominator (500, 1000, 2000 ...)", required=True,
              aliases=("tyle", "ty_le")),
        Field("valid_from", "datetime", "Thời điểm bắt đầu", aliases=("thoidiembatdau",)),
        Field("valid_to", "datetime", "Thời điểm kết thúc", aliases=("thoidiemketthuc",)),
    ),
)

ADMIN_UNITS = Target(
    id="admin-units",
    schema="landdb",
    table="admin_unit",
    title="Đơn vị hành chính — administrative units",
    description="Provinces, districts (before 2025-07-01) and communes with their codes and validity dates.",
    geometry_type="MultiPolygon",
    natural_key=("level", "code", "valid_from"),
    keywords=("đơn vị hành chính", "administrative unit"),
    replace_scope="code",
    topology="admin-cover",
    is_admin_unit=True,
    extra={"published_as": "admin_unit_boundary"},  # the API serves only the units that have a boundary
    fields=(
        Field("code", "text", "Mã đơn vị hành chính — admin code", required=True, aliases=("ma", "madvhc"),
              pattern=r"\d{2,5}", rule=("mã ĐVHC gồm 2-5 chữ số", "an admin code has 2-5 digits")),
        Field("name", "text", "Tên — name", required=True, aliases=("ten", "tendvhc")),
        Field("level", "text", "Cấp — province | district | commune", required=True, aliases=("cap",),
              choices=("province", "district", "commune")),
        Field("parent_code", "text", "Mã đơn vị cấp trên — parent code", aliases=("macaptren",)),
        Field("valid_from", "date", "Hiệu lực từ — valid from"),
        Field("valid_to", "date", "Hiệu lực đến — valid to"),
    ),
)

TARGETS = (PARCELS, MAP_SHEETS, ADMIN_UNITS)
