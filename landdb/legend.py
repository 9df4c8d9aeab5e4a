"""The land-use legend (chú giải mục đích sử dụng đất): fill colour and Vietnamese name of each land-use code.

The colours of the land-use map legend of the TT 25/2014 and TT 27/2018 era, as used in provincial land-use maps
(see docs/demo.md for the source and how sure we are): the one table the demo's QGIS project
(``qgis/build_project.py``) and the vector tile styles are made from (a test checks the built project agrees).
"""

from __future__ import annotations

# Land-use code -> (fill colour, Vietnamese name).
LAND_USE_COLOURS = {
    "LUC": ("#fffc8c", "Đất chuyên trồng lúa"),
    "LUK": ("#fffc96", "Đất trồng lúa còn lại"),
    "LUN": ("#fffcb4", "Đất trồng lúa nương"),
    "LUA": ("#fffc82", "Đất trồng lúa (2018)"),
    "HNK": ("#fff0b4", "Đất trồng cây hằng năm khác"),
    "BHK": ("#fff0b4", "Đất bằng trồng cây hằng năm khác (2018)"),
    "CLN": ("#ffd2a0", "Đất trồng cây lâu năm"),
    "RSX": ("#b4ffb4", "Đất rừng sản xuất"),
    "RPH": ("#beff1e", "Đất rừng phòng hộ"),
    "RDD": ("#6eff64", "Đất rừng đặc dụng"),
    "NTS": ("#aaffff", "Đất nuôi trồng thủy sản"),
    "LMU": ("#d2d2d2", "Đất làm muối"),
    "NKH": ("#f5ffb4", "Đất nông nghiệp khác"),
    "ONT": ("#ffd0ff", "Đất ở tại nông thôn"),
    "ODT": ("#ffa0ff", "Đất ở tại đô thị"),
    "TSC": ("#ffaaa0", "Đất xây dựng trụ sở cơ quan"),
    "CQP": ("#ff6450", "Đất quốc phòng"),
    "CAN": ("#ff5046", "Đất an ninh"),
    "DVH": ("#ffaaa0", "Đất xây dựng cơ sở văn hóa"),
    "DYT": ("#ffaaa0", "Đất xây dựng cơ sở y tế"),
    "DGD": ("#ffaaa0", "Đất xây dựng cơ sở giáo dục và đào tạo"),
    "DTT": ("#ffaaa0", "Đất xây dựng cơ sở thể dục thể thao"),
    "TMD": ("#faaaa0", "Đất thương mại, dịch vụ"),
    "SKC": ("#faaaa0", "Đất cơ sở sản xuất phi nông nghiệp"),
    "DGT": ("#ffaa32", "Đất giao thông"),
    "DTL": ("#aaffff", "Đất thủy lợi"),
    "DDT": ("#ffaaa0", "Đất có di tích lịch sử - văn hóa"),
    "DSH": ("#ffaaa0", "Đất sinh hoạt cộng đồng"),
    "DCK": ("#ffaaa0", "Đất công trình công cộng khác"),
    "TON": ("#faaaa0", "Đất cơ sở tôn giáo"),
    "TIN": ("#ffaaa0", "Đất cơ sở tín ngưỡng"),
    "NTD": ("#d2d2d2", "Đất nghĩa trang, nhà tang lễ, hỏa táng"),
    "SON": ("#a0ffff", "Đất sông, ngòi, kênh, rạch, suối"),
    "MNC": ("#a0ffff", "Đất có mặt nước chuyên dùng"),
    "PNK": ("#ffaaa0", "Đất phi nông nghiệp khác"),
    "BCS": ("#fffffe", "Đất bằng chưa sử dụng"),
    "DCS": ("#fffffe", "Đất đồi núi chưa sử dụng"),
    "NCS": ("#e6e6c8", "Núi đá không có rừng cây"),
}

#: Land-use groups (nhóm đất) for the overview symbols: agricultural, non-agricultural, unused, unknown code.
GROUP_COLOURS = {
    "NNP": ("#fff0b4", "Nhóm đất nông nghiệp — agricultural"),
    "PNN": ("#ffaaa0", "Nhóm đất phi nông nghiệp — non-agricultural"),
    "CSD": ("#e6e6c8", "Nhóm đất chưa sử dụng — unused"),
    "?": ("#c8c8c8", "Mã không có trong danh mục — code not in the list"),
}
UNKNOWN_COLOUR = "#c8c8c8"
