"""The check registry (danh mục kiểm tra): every check with a stable code, a severity and bilingual messages.

A :class:`Check` is what a check *is*; a :class:`Finding` is one thing a check found (kết quả kiểm tra):
where (a feature index in the input arrays, or a stored feature id, and a geometry), what (the code) and
why (messages in Vietnamese and English, details). Codes never change meaning once published: the
findings collection, the loaders' reject reports and the tests all key on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from landgeo.crs import flags

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Check:
    """One kind of check: stable ``code``, ``severity``, titles, whether a machine can repair what it finds."""

    code: str
    severity: str
    title_vi: str
    title_en: str
    repairable: bool = False
    message_vi: str = ""  # str.format template over a finding's details; "" = the title
    message_en: str = ""
    scope: str = "feature"  # feature | set | dataset: where the check runs

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    def messages(self, details: dict[str, Any]) -> tuple[str, str]:
        """The Vietnamese and English message for one finding with these details."""
        values = _Fmt(details)
        vi = self.message_vi.format_map(values) if self.message_vi else self.title_vi
        en = self.message_en.format_map(values) if self.message_en else self.title_en
        return vi, en

    def finding(self, details: dict[str, Any] | None = None, **where: Any) -> Finding:
        """A :class:`Finding` of this check (messages filled from ``details``)."""
        details = dict(details or {})
        vi, en = self.messages(details)
        return Finding(code=self.code, severity=self.severity, message_vi=vi, message_en=en, details=details, **where)


class _Fmt(dict):
    """Template values: numbers rounded for humans, missing keys shown as '?'."""

    def __missing__(self, key: str) -> str:
        return "?"

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key) if key in self else self.__missing__(key)
        if isinstance(value, float):
            return f"{value:.2f}" if abs(value) < 1e6 else f"{value:.0f}"
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value


@dataclass
class Finding:
    """One finding of one check.

    ``feature_index`` is the row in the arrays given to :func:`check_features`; ``feature_id`` the stored id
    (``landdb.parcel.id`` ...) for set-based checks; both ``None`` for a finding about the whole dataset.
    ``geometry`` (shapely) is in the CRS of the input: the input CRS for :func:`check_features`, VN-2000
    geographic (EPSG:4756) for :func:`check_table`.
    """

    code: str
    severity: str
    message_vi: str
    message_en: str
    feature_index: int | None = None
    feature_id: str | None = None
    geometry: Any = None
    details: dict[str, Any] = field(default_factory=dict)
    province_code: str | None = None
    commune_code: str | None = None
    target: str | None = None

    def as_record(self) -> dict[str, Any]:
        """Plain values (no geometry) for tables and reports."""
        return {
            "check_code": self.code, "severity": self.severity, "target": self.target,
            "feature_index": self.feature_index, "feature_id": self.feature_id,
            "province_code": self.province_code, "commune_code": self.commune_code,
            "message_vi": self.message_vi, "message_en": self.message_en, "details": self.details,
        }


def _c(code: str, severity: str, vi: str, en: str, repairable: bool = False, mvi: str = "", men: str = "",
       scope: str = "feature") -> Check:
    return Check(code, severity, vi, en, repairable, mvi, men, scope)


_ALL = (
    # -- geometry (hình học), per feature ---------------------------------------------------------------
    _c("geom.empty", "error", "Hình học rỗng hoặc thiếu", "Empty or missing geometry"),
    _c("geom.invalid", "error", "Hình học không hợp lệ", "Invalid geometry", True,
       "Hình học không hợp lệ: {reason}", "Invalid geometry: {reason}"),
    _c("geom.wrong_type", "error", "Sai kiểu hình học", "Wrong geometry type", False,
       "Kiểu hình học {found}, lớp dữ liệu cần {expected}", "Geometry type {found}, the target needs {expected}"),
    _c("geom.too_few_vertices", "error", "Quá ít đỉnh", "Too few vertices", False,
       "Một vòng/đường chỉ có {distinct} đỉnh phân biệt (cần ít nhất {minimum})",
       "A ring/line has only {distinct} distinct vertices (at least {minimum} needed)"),
    _c("geom.repeated_vertex", "warning", "Đỉnh trùng lặp", "Repeated vertices", True,
       "{count} đỉnh trùng liên tiếp", "{count} consecutive repeated vertices"),
    _c("geom.spike", "warning", "Gai (đỉnh nhọn bất thường)", "Spike", True,
       "Gai tại đỉnh có góc {angle_deg}°", "Spike at a vertex with an angle of {angle_deg}°"),
    _c("geom.sliver", "warning", "Thửa mảnh (sliver)", "Sliver polygon", False,
       "Vùng quá mảnh: bề rộng trung bình {mean_width_m} m, diện tích {area_m2} m²",
       "Sliver: mean width {mean_width_m} m, area {area_m2} m²"),
    _c("geom.nonfinite", "error", "Tọa độ NaN/vô cực", "NaN or infinite coordinates", False,
       "{count} tọa độ không hữu hạn (NaN/inf)", "{count} non-finite coordinates (NaN/inf)"),
    _c("geom.coordinate_range", "error", "Tọa độ ngoài phạm vi Việt Nam", "Coordinates outside Vietnam's range",
       False, "Tọa độ ({x}, {y}) nằm ngoài phạm vi hợp lý của {crs_kind}",
       "Coordinates ({x}, {y}) outside the plausible range of {crs_kind}"),
    # -- coordinates (hệ tọa độ) ----------------------------------------------------------------------------
    _c("crs.detection", "warning", "Nghi vấn hệ tọa độ của tập dữ liệu", "Dataset coordinate-system suspicion",
       False, "{flag}: {message}", "{flag}: {message}", "dataset"),
    # the flags of landgeo.crs.detect (codes owned by landgeo.crs.flags; severity comes with each flag)
    *(_c(code, "warning", vi, en, False, vi + ": {message}", "{message}", "dataset") for code, vi, en in (
        (flags.WGS84_VS_VN2000, "Nhầm tọa độ VN-2000 với WGS 84 (lệch ~225 m)", "VN-2000 taken as WGS 84"),
        (flags.WRONG_MERIDIAN, "Sai kinh tuyến trục", "Wrong central meridian"),
        (flags.SWAPPED_XY, "Đảo trục X/Y", "Swapped X/Y"),
        (flags.UTM_VS_TM3, "Nhầm UTM với TM-3", "UTM taken for TM-3 or the reverse"),
        (flags.UNITS, "Sai đơn vị tọa độ (mét/độ)", "Wrong coordinate units (metres/degrees)"),
        (flags.OUTSIDE_PROVINCE, "Tọa độ ngoài tỉnh khai báo", "Coordinates outside the declared province"),
        (flags.OUTSIDE_VIETNAM, "Tọa độ ngoài Việt Nam", "Coordinates outside Vietnam"),
        (flags.WRONG_SIGN_TOWGS84, "Tham số TOWGS84 sai dấu", "Wrong-sign TOWGS84 parameters"),
        (flags.UNOFFICIAL_TOWGS84, "Tham số TOWGS84 không chính thức", "Unofficial TOWGS84 parameters"),
        (flags.NO_TOWGS84, "Thiếu tham số TOWGS84", "No TOWGS84 parameters"),
        (flags.DEPRECATED_CODE, "Mã EPSG đã hủy bỏ", "Deprecated EPSG code"),
        (flags.UNRECOGNISED_WKT, "Không nhận ra WKT của hệ tọa độ", "Unrecognised CRS WKT"),
        (flags.UNDECLARED, "Không khai báo hệ tọa độ", "No declared CRS"),
        (flags.NON_STANDARD_PARAMETERS, "Tham số phép chiếu không chuẩn", "Non-standard projection parameters"),
        (flags.HN72_VS_VN2000, "Nhầm HN-72 với VN-2000", "HN-72 taken as VN-2000"),
    )),
    _c(flags.VERTICAL_IGNORED, "info", "Bỏ qua thành phần độ cao của hệ tọa độ", "Vertical part of the CRS ignored",
       False, "Bỏ qua thành phần độ cao: {message}", "{message}", "dataset"),
    _c("crs.outlier", "warning", "Đối tượng nằm xa phần còn lại", "Feature far from the rest of its dataset",
       False, "Cách tâm {group} {distance_m} m (ngưỡng {threshold_m} m)",
       "{distance_m} m from the centre of {group} (threshold {threshold_m} m)"),
    # -- attributes (thuộc tính) ----------------------------------------------------------------------------
    _c("attr.required_missing", "error", "Thiếu trường bắt buộc", "Required field missing", False,
       "Thiếu giá trị trường bắt buộc {field}", "Required field {field} has no value"),
    _c("attr.domain", "error", "Giá trị ngoài miền giá trị", "Value outside its domain", False,
       "Trường {field} = {value!s}: {rule_vi}", "Field {field} = {value!s}: {rule_en}"),
    _c("attr.land_use_code_unknown", "error", "Mã mục đích sử dụng đất không có trong danh mục",
       "Land-use code not in the code lists", False,
       "Ký hiệu mục đích sử dụng {codes} không có trong danh mục (TT 08/2024, TT 27/2018)",
       "Land-use code {codes} is in neither code list (Circular 08/2024, Circular 27/2018)"),
    _c("attr.land_use_code_not_valid_at_time", "warning", "Mã mục đích sử dụng đất không hiệu lực tại thời điểm",
       "Land-use code not valid at the parcel's time", False,
       "Ký hiệu {codes} không có hiệu lực ngày {date}", "Land-use code {codes} was not valid on {date}", "set"),
    _c("attr.commune_not_valid_at_time", "error", "Mã xã không hiệu lực tại thời điểm",
       "Commune code not valid at the parcel's time", False,
       "Mã xã {commune_code} không phải đơn vị hành chính cấp xã có hiệu lực ngày {date}",
       "Commune code {commune_code} is not a commune valid on {date}", "set"),
    _c("attr.parcel_number_duplicate", "error", "Trùng số thửa trong tờ bản đồ", "Duplicate parcel number in sheet",
       False, "Thửa số {parcel_number} tờ {sheet_number} xã {commune_code} xuất hiện {count} lần",
       "Parcel {parcel_number} on sheet {sheet_number} of commune {commune_code} occurs {count} times", "set"),
    _c("attr.area_mismatch", "error", "Diện tích pháp lý lệch diện tích tính toán quá hạn sai",
       "Declared area differs from computed area beyond tolerance", False,
       "Diện tích pháp lý {declared_m2} m², tính được {computed_m2} m², lệch {diff_m2} m² > hạn sai {tolerance_m2} m²"
       " (tỷ lệ 1:{scale})",
       "Declared {declared_m2} m², computed {computed_m2} m², difference {diff_m2} m² > tolerance {tolerance_m2} m²"
       " (scale 1:{scale})", "set"),
    _c("attr.map_sheet_missing", "warning", "Không có tờ bản đồ tương ứng", "No matching map sheet", False,
       "Tờ bản đồ số {sheet_number} của xã {commune_code} không có trong danh mục tờ bản đồ",
       "Map sheet {sheet_number} of commune {commune_code} is not in the map-sheet table", "set"),
    # -- parcel topology (quan hệ không gian thửa đất) -----------------------------------------------------------
    _c("topo.overlap", "error", "Các thửa chồng đè", "Overlapping parcels", False,
       "Chồng đè {area_m2} m² với thửa {other_id}", "Overlaps parcel {other_id} by {area_m2} m²", "set"),
    _c("topo.gap", "error", "Khe hở giữa các thửa", "Gap between parcels", False,
       "Khe hở {area_m2} m² trong tờ {sheet_number} xã {commune_code}",
       "Gap of {area_m2} m² on sheet {sheet_number} of commune {commune_code}", "set"),
    _c("topo.duplicate", "error", "Thửa trùng hình học", "Duplicate parcel geometry", False,
       "Hình học trùng với thửa {other_id}", "Same geometry as parcel {other_id}", "set"),
    _c("topo.outside_commune", "error", "Thửa nằm ngoài ranh giới xã", "Parcel outside its commune", False,
       "Thửa nằm ngoài xã {commune_code}", "Parcel lies outside commune {commune_code}", "set"),
    _c("topo.across_commune", "warning", "Thửa vượt ranh giới xã", "Parcel across its commune boundary", False,
       "{outside_m2} m² của thửa nằm ngoài xã {commune_code}", "{outside_m2} m² of the parcel lie outside commune "
       "{commune_code}", "set"),
    _c("topo.wrong_sheet", "error", "Thửa không thuộc tờ bản đồ ghi nhận", "Parcel not on its map sheet", False,
       "Chỉ {inside_pct}% diện tích thửa nằm trong tờ {sheet_number}{suggest_vi}",
       "Only {inside_pct}% of the parcel lies in sheet {sheet_number}{suggest_en}", "set"),
    _c("topo.admin_overlap", "error", "Đơn vị hành chính cùng cấp chồng đè", "Overlapping admin units of one level",
       False, "{level} {code} chồng đè {other_code} {area_m2} m²", "{level} {code} overlaps {other_code} by "
       "{area_m2} m²", "set"),
    _c("topo.sheet_overlap", "error", "Tờ bản đồ cùng tỷ lệ chồng đè", "Overlapping map sheets of one scale",
       False, "Tờ {sheet_number} chồng đè tờ {other_sheet} (1:{scale}) {area_m2} m²",
       "Sheet {sheet_number} overlaps sheet {other_sheet} (1:{scale}) by {area_m2} m²", "set"),
    # -- networks and boundaries (mạng lưới, địa giới) ----------------------------------------------------------------
    _c("net.dangle", "warning", "Đầu mút treo (chưa nối mạng)", "Dangle: line end that should connect", False,
       "Đầu mút cách đường gần nhất {distance_m} m mà không nối", "Line end {distance_m} m from the nearest line "
       "but not connected", "set"),
    _c("net.boundary_mismatch", "warning", "Đường địa giới không trùng ranh giới ĐVHC",
       "Boundary line does not coincide with admin areas", False,
       "{length_m} m đường địa giới cách ranh giới {codes} quá {tolerance_m} m",
       "{length_m} m of boundary line lie more than {tolerance_m} m from the edge of {codes}", "set"),
)

CHECKS: dict[str, Check] = {c.code: c for c in _ALL}


def get_check(code: str) -> Check:
    return CHECKS[code]
