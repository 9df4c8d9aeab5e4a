"""Legacy Vietnamese encodings: TCVN3 (ABC) and VNI-Windows decoding tables, detection, field-name matching.

Expected values are written out by hand (raw bytes of the fonts' encodings), not derived from the tables
under test.
"""

from __future__ import annotations

import unicodedata

import pytest

import landgeo.vn_encodings as enc
from landgeo.catalog import get_target
from loaders.map import build_mapping

# Every lower-case Vietnamese letter with diacritics, in TCVN3 bytes (TCVN 5712:1993 VN3 table).
TCVN3_LETTERS = {
    "à": 0xB5, "ả": 0xB6, "ã": 0xB7, "á": 0xB8, "ạ": 0xB9,
    "ă": 0xA8, "ằ": 0xBB, "ẳ": 0xBC, "ẵ": 0xBD, "ắ": 0xBE, "ặ": 0xC6,
    "â": 0xA9, "ầ": 0xC7, "ẩ": 0xC8, "ẫ": 0xC9, "ấ": 0xCA, "ậ": 0xCB,
    "đ": 0xAE,
    "è": 0xCC, "ẻ": 0xCE, "ẽ": 0xCF, "é": 0xD0, "ẹ": 0xD1,
    "ê": 0xAA, "ề": 0xD2, "ể": 0xD3, "ễ": 0xD4, "ế": 0xD5, "ệ": 0xD6,
    "ì": 0xD7, "ỉ": 0xD8, "ĩ": 0xDC, "í": 0xDD, "ị": 0xDE,
    "ò": 0xDF, "ỏ": 0xE1, "õ": 0xE2, "ó": 0xE3, "ọ": 0xE4,
    "ô": 0xAB, "ồ": 0xE5, "ổ": 0xE6, "ỗ": 0xE7, "ố": 0xE8, "ộ": 0xE9,
    "ơ": 0xAC, "ờ": 0xEA, "ở": 0xEB, "ỡ": 0xEC, "ớ": 0xED, "ợ": 0xEE,
    "ù": 0xEF, "ủ": 0xF1, "ũ": 0xF2, "ú": 0xF3, "ụ": 0xF4,
    "ư": 0xAD, "ừ": 0xF5, "ử": 0xF6, "ữ": 0xF7, "ứ": 0xF8, "ự": 0xF9,
    "ỳ": 0xFA, "ỷ": 0xFB, "ỹ": 0xFC, "ý": 0xFD, "ỵ": 0xFE,
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
}

# VNI-Windows: base letter + modifier (CP1252 bytes), as typed with the VNI fonts.
VNI_WORDS = {
    "Nguyễn Văn Đức": "Nguyeãn Vaên Ñöùc",
    "người sử dụng đất": "ngöôøi söû duïng ñaát",
    "Phước Long": "Phöôùc Long",
    "quyết định": "quyeát ñònh",
    "thửa đất ở tại nông thôn": "thöûa ñaát ôû taïi noâng thoân",
    "Hồ Chí Minh": "Hoà Chí Minh",
    "kỹ thuật": "kyõ thuaät",
    "ỵ Ỵ": "î Î",
    "ĐẮK LẮK": "ÑAÉK LAÉK",
}


@pytest.mark.parametrize(("letter", "byte"), sorted(TCVN3_LETTERS.items()))
def test_tcvn3_letters(letter, byte):
    assert enc.decode_tcvn3(bytes([byte])) == letter


def test_tcvn3_text_is_nfc_and_detected():
    raw = b"Ng\xad\xeai s\xf6 d\xf4ng \xae\xcat, x\xb7 Ph\xad\xedc Long, th\xf6a \xae\xcat \xeb t\xb9i n\xabng th\xabn"
    text = enc.decode_tcvn3(raw)
    assert text == "Người sử dụng đất, xã Phước Long, thửa đất ở tại nông thôn"
    assert unicodedata.is_normalized("NFC", text)
    found = enc.detect([raw])
    assert found.encoding == "tcvn3" and found.valid_words == found.words == 12


@pytest.mark.parametrize(("expected", "typed"), sorted(VNI_WORDS.items()))
def test_vni_words(expected, typed):
    assert enc.decode_vni(typed.encode("cp1252")) == expected


def test_vni_detected_not_tcvn3():
    raws = [typed.encode("cp1252") for typed in VNI_WORDS.values()]
    assert enc.detect(raws).encoding == "vni"


def _cp1258(text: str) -> bytes:
    """Windows-1258 as Windows writes it: ă â ê ô ơ ư đ precomposed, tone marks combining."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in "\u0300\u0301\u0303\u0309\u0323"))
            tone = "".join(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
            out += base.encode("cp1258") + tone.encode("cp1258")
    return out


def test_utf8_and_ascii_and_cp1258():
    assert enc.detect(["Thôn Đông".encode()]).encoding == "utf-8"
    assert enc.detect([b"Thon Dong", b""]).encoding == "ascii"
    cp1258 = _cp1258("Người sử dụng")
    assert enc.detect([cp1258]).encoding == "cp1258"
    assert enc.decode_cp1258(cp1258) == "Người sử dụng"


def test_mojibake_in_a_unicode_file():
    as_latin1 = b"Ng\xad\xeai M\xad\xeang".decode("latin1")  # TCVN3 bytes mis-read as Latin-1, saved as UTF-8
    found = enc.looks_mojibake([as_latin1])
    assert found is not None and found.encoding == "tcvn3"
    assert enc.looks_mojibake(["Người Mường"]) is None  # real Unicode Vietnamese is left alone
    assert enc.looks_mojibake(["Café crème"]) is None  # and so is real Latin-1 text


def test_encoding_names():
    assert enc.canonical("UTF-8") == "utf-8" and enc.canonical("ABC") == "tcvn3"
    assert enc.canonical("VNI-Windows") == "vni" and enc.canonical("1258") == "cp1258"
    assert enc.canonical("klingon") is None


def test_field_names_with_dbf_truncation_and_case():
    parcels = get_target("parcels")
    mapping = build_mapping(parcels, ["MAXA", "SoHieuToBa", "SoThuTuThu", "KyHieuMucD", "DienTichPL", "DIACHI",
                                      "GhiChu"])
    assert mapping.sources == {"commune_code": "MAXA", "sheet_number": "SoHieuToBa", "parcel_number": "SoThuTuThu",
                               "land_use_codes": "KyHieuMucD", "declared_area": "DienTichPL", "address": "DIACHI"}
    assert mapping.how["sheet_number"] in ("alias", "truncated alias") and mapping.unused == ["GhiChu"]
    short = build_mapping(parcels, ["maxa", "SHBANDO", "SHTHUA", "LoaiDat"])
    assert short.sources["sheet_number"] == "SHBANDO" and short.sources["land_use_codes"] == "LoaiDat"


def test_missing_required_field_is_one_line():
    from landgeo.errors import UserError

    with pytest.raises(UserError) as info:
        build_mapping(get_target("parcels"), ["MaXa", "SoTo"])
    assert "parcel_number" in str(info.value) and "--mapping" in str(info.value)
