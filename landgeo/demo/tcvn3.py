"""TCVN3 (TCVN 5712:1993 "VN3", the "ABC" fonts) — the 8-bit Vietnamese encoding of older cadastral DBFs.

Used by the demo to write its parcel shapefile the way provincial land offices' files are written. TCVN3 has
one byte per lowercase precomposed letter and only the seven base capitals Ă Â Ê Ô Ơ Ư Đ; capitals with a
tone mark do not exist (the offices wrote them with lowercase bytes and an upper-case font), so
:func:`encode` refuses them unless ``fold_case=True``.
"""

from __future__ import annotations

import unicodedata

from landgeo.vn_encodings import TCVN3_TABLE

# The loaders' TCVN3 table is the one truth; the demo writes only what ABC-font offices typed: the lowercase
# letters and the seven base capitals (bytes 0xA1-0xFE, no combining tone marks, no VN1 toned capitals).
_TABLE = {
    ch: byte for byte, ch in TCVN3_TABLE.items()
    if byte >= 0xA1 and unicodedata.category(ch) != "Mn" and (ch.islower() or ch in "ĂÂÊÔƠƯĐ")
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
