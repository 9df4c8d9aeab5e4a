"""TCVN3 (TCVN 5712:1993 "VN3", the "ABC" fonts) — the 8-bit Vietnamese encoding of older cadastral DBFs.

Used by the demo to write its parcel shapefile the way provincial land offices' files are written. TCVN3 has
one byte per lowercase precomposed letter and only the seven base capitals Ă Â Ê Ô Ơ Ư Đ; capitals with a
tone mark do not exist (the offices wrote them with lowercase bytes and an upper-case font), so
:func:`encode` refuses them unless ``fold_case=True``.
"""

from __future__ import annotations

import unicodedata

_TABLE = {
    "Ă": 0xA1, "Â": 0xA2, "Ê": 0xA3, "Ô": 0xA4, "Ơ": 0xA5, "Ư": 0xA6, "Đ": 0xA7,
    "ă": 0xA8, "â": 0xA9, "ê": 0xAA, "ô": 0xAB, "ơ": 0xAC, "ư": 0xAD, "đ": 0xAE,
    "à": 0xB5, "ả": 0xB6, "ã": 0xB7, "á": 0xB8, "ạ": 0xB9,
    "ằ": 0xBB, "ẳ": 0xBC, "ẵ": 0xBD, "ắ": 0xBE, "ặ": 0xC6,
    "ầ": 0xC7, "ẩ": 0xC8, "ẫ": 0xC9, "ấ": 0xCA, "ậ": 0xCB,
    "è": 0xCC, "ẻ": 0xCE, "ẽ": 0xCF, "é": 0xD0, "ẹ": 0xD1,
    "ề": 0xD2, "ể": 0xD3, "ễ": 0xD4, "ế": 0xD5, "ệ": 0xD6,
    "ì": 0xD7, "ỉ": 0xD8, "ĩ": 0xDC, "í": 0xDD, "ị": 0xDE,
    "ò": 0xDF, "ỏ": 0xE1, "õ": 0xE2, "ó": 0xE3, "ọ": 0xE4,
    "ồ": 0xE5, "ổ": 0xE6, "ỗ": 0xE7, "ố": 0xE8, "ộ": 0xE9,
    "ờ": 0xEA, "ở": 0xEB, "ỡ": 0xEC, "ớ": 0xED, "ợ": 0xEE,
    "ù": 0xEF, "ủ": 0xF1, "ũ": 0xF2, "ú": 0xF3, "ụ": 0xF4,
    "ừ": 0xF5, "ử": 0xF6, "ữ": 0xF7, "ứ": 0xF8, "ự": 0xF9,
    "ỳ": 0xFA, "ỷ": 0xFB, "ỹ": 0xFC, "ý": 0xFD, "ỵ": 0xFE,
}
_ENCODE = {ord(ch): byte for ch, byte in _TABLE.items()}
_DECODE = {byte: ch for ch, byte in _TABLE.items()}


def encode(text: str, fold_case: bool = False) -> bytes:
    """Unicode (any normal form) -> TCVN3 bytes; ``fold_case`` writes toned capitals with lowercase bytes."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        code = ord(ch)
        if code < 0x80:
            out.append(code)
        elif code in _ENCODE:
            out.append(_ENCODE[code])
        elif fold_case and ord(ch.lower()) in _ENCODE:
            out.append(_ENCODE[ord(ch.lower())])
        else:
            raise ValueError(f"character {ch!r} has no TCVN3 byte (in {text!r})")
    return bytes(out)


def decode(data: bytes) -> str:
    """TCVN3 bytes -> Unicode NFC (bytes outside the table are an error)."""
    chars = []
    for byte in data:
        if byte < 0x80:
            chars.append(chr(byte))
        elif byte in _DECODE:
            chars.append(_DECODE[byte])
        else:
            raise ValueError(f"byte 0x{byte:02X} is not TCVN3")
    return "".join(chars)
