"""The themes of the national base geographic database, one table each in schema ``geobase``."""

from __future__ import annotations

from landgeo.target import Field, Target

_COMMON = (
    Field("feature_code", "text", "Mã đối tượng — feature code (QCVN 42:2020)", required=True,
          aliases=("madoituong", "ma_dt", "fcode")),
    Field("name", "text", "Tên — name", aliases=("ten", "ten_dt")),
    Field("source_scale", "integer", "Tỷ lệ nguồn — source scale denominator", aliases=("tyle",)),
    Field("province_code", "text", "Mã tỉnh — province code", aliases=("matinh",)),
    Field("valid_from", "datetime", "Thời điểm bắt đầu", aliases=("thoidiembatdau",)),
    Field("valid_to", "datetime", "Thời điểm kết thúc", aliases=("thoidiemketthuc",)),
)


def _theme(
    id: str, table: str, title: str, geometry_type: str, extra: tuple[Field, ...] = (), package: str = "",
    topology: str | None = None,
) -> Target:
    return Target(
        id=id,
        schema="geobase",
        table=table,
        title=title,
        description=f"{title} — base geography package {package} (QCVN 42:2020).",
        geometry_type=geometry_type,
        fields=(*_COMMON[:2], *extra, *_COMMON[2:]),
        keywords=("nền địa lý", "base geography", package),
        topology=topology,
        write_scope="national",  # national base geography: admins only (RLS: access.is_admin, migration 0160)
        versioning="version-rows",
    )


_ELEV = Field("elevation", "number", "Độ cao (m) — elevation", aliases=("docao", "do_cao", "z"))

THEMES = (
    _theme("control-points", "control_point", "Điểm khống chế đo đạc — geodetic control points", "Point",
           (Field("point_number", "text", "Số hiệu điểm", aliases=("sohieudiem",)),
            Field("grade", "text", "Cấp hạng — grade", aliases=("caphang",)), _ELEV), "Cơ sở đo đạc"),
    _theme("boundaries", "boundary", "Đường địa giới hành chính — administrative boundary lines",
           "MultiLineString",
           (Field("level", "text", "Cấp — national | province | district | commune", aliases=("cap",),
                  choices=("national", "province", "district", "commune")),
            Field("left_code", "text", "Mã ĐVHC bên trái"), Field("right_code", "text", "Mã ĐVHC bên phải")),
           "Biên giới quốc gia, địa giới hành chính", "boundary-lines"),
    _theme("hydro-lines", "hydro_line", "Thủy hệ dạng đường — rivers, streams, canals (lines)", "MultiLineString",
           (Field("kind", "text", "Loại — kind", aliases=("loai",)),
            Field("width_m", "number", "Chiều rộng (m)", aliases=("chieurong",))), "Thủy hệ", "network"),
    _theme("hydro-areas", "hydro_area", "Thủy hệ dạng vùng — rivers, lakes, ponds (areas)", "MultiPolygon",
           (Field("kind", "text", "Loại — kind", aliases=("loai",)),), "Thủy hệ"),
    _theme("roads", "road", "Đường bộ — roads", "MultiLineString",
           (Field("road_class", "text", "Cấp đường — road class", aliases=("capduong", "loaiduong")),
            Field("surface", "text", "Mặt đường — surface", aliases=("matduong",)),
            Field("width_m", "number", "Chiều rộng (m)", aliases=("chieurong",))), "Giao thông", "network"),
    _theme("bridges", "bridge", "Cầu — bridges", "MultiLineString",
           (Field("load_tonnes", "number", "Tải trọng (tấn)", aliases=("taitrong",)),), "Giao thông"),
    _theme("railways", "railway", "Đường sắt — railways", "MultiLineString",
           (Field("gauge_mm", "integer", "Khổ đường (mm)", aliases=("khoduong",)),), "Giao thông", "network"),
    _theme("buildings", "building", "Nhà — buildings", "MultiPolygon",
           (Field("floors", "integer", "Số tầng — floors", aliases=("sotang",)),), "Dân cư"),
    _theme("built-up-areas", "built_up_area", "Khu dân cư — built-up areas", "MultiPolygon", (), "Dân cư"),
    _theme("contours", "contour", "Đường bình độ — contours", "MultiLineString",
           (Field("elevation", "number", "Độ cao (m)", required=True, aliases=("docao", "do_cao", "z")),),
           "Địa hình"),
    _theme("spot-heights", "spot_height", "Điểm độ cao — spot heights", "Point",
           (Field("elevation", "number", "Độ cao (m)", required=True, aliases=("docao", "do_cao", "z")),),
           "Địa hình"),
    _theme("land-cover", "land_cover", "Phủ bề mặt — land cover", "MultiPolygon",
           (Field("cover_class", "text", "Loại phủ bề mặt", aliases=("loaiphu",)),), "Phủ bề mặt"),
    _theme("place-names", "place_name", "Địa danh — place names", "Point",
           (Field("kind", "text", "Loại địa danh", aliases=("loai",)),), "Địa danh"),
)
