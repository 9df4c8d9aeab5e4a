"""Legacy Vietnamese text encodings (bảng mã tiếng Việt cũ) to Unicode NFC.

Most older cadastral shapefiles were typed with the .VnTime fonts (TCVN3 / ABC, TCVN 5712:1993 VN3) in the
north or the VNI-Windows fonts in the south; their DBF text is those bytes, with no ``.cpg`` saying so.
This module decodes them with tables written here (Python has no codec for either), detects which one a
sample of text is in by counting words that are valid Vietnamese syllables, and normalises to NFC.

* TCVN3: one byte per letter. Lower-case letters with diacritics sit in 0xA1–0xFE; the upper half of the
  VN1 superset (0x80–0x9F and the gaps of 0xA0–0xFF) carries some capitals. ABC fonts draw capitals with
  the same bytes in separate "H" fonts, so a decoded capital-font text comes out in lower case: the text
  itself does not say, and we do not guess.
* VNI-Windows: an ASCII base letter followed by one modifier byte (tone, circumflex/breve, or both);
  ơ ư đ and the i/ỵ forms are single bytes. The modifier bytes are the CP1252 letters shown below.
* CP1258: Windows Vietnamese, base letters + combining tone marks (Python's own codec).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# ---------------------------------------------------------------------------------------------------------
# TCVN3 (ABC) / TCVN 5712 VN1 upper half: byte 0x80 + i -> character i of this string.
_TCVN3_HIGH = (
    "ÀẢÃÁẠẶẬÈẺẼÉẸỆÌỈĨ"  # 0x80
    "ÍỊÒỎÕÓỌỘỜỞỠỚỢÙỦŨ"  # 0x90
    "\u00a0ĂÂÊÔƠƯĐăâêôơưđẰ"  # 0xA0
    "\u0300\u0309\u0303\u0301\u0323àảãáạẲằẳẵắẴ"  # 0xB0 (0xB0–0xB4: combining tone marks)
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"  # 0xC0
    "éẹềểễếệìỉỄẾỒĩíịò"  # 0xD0
    "ỔỏõóọồổỗốộờởỡớợùỖủũúụừửữứựỳỷỹýỵỐ"  # 0xE0, 0xF0
)
assert len(_TCVN3_HIGH) == 128, len(_TCVN3_HIGH)
TCVN3_TABLE = {0x80 + i: ch for i, ch in enumerate(_TCVN3_HIGH)}


def decode_tcvn3(raw: bytes) -> str:
    """TCVN3 (ABC) bytes to Unicode NFC."""
    return unicodedata.normalize("NFC", "".join(TCVN3_TABLE.get(b, chr(b)) for b in raw))


# ---------------------------------------------------------------------------------------------------------
# VNI-Windows. Bytes are first read as CP1252 characters (undefined CP1252 bytes as Latin-1), then a base
# letter + modifier pair becomes one Vietnamese letter.
_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_CIRC, _BREVE = "\u0302", "\u0306"

# modifier character (lower, upper) -> (vowel modifier, tone)
_VNI_MODIFIERS: dict[str, tuple[str, str]] = {}
for _lower, _upper, _mod, _tone in (
    ("ù", "Ù", "", _ACUTE), ("ø", "Ø", "", _GRAVE), ("û", "Û", "", _HOOK), ("õ", "Õ", "", _TILDE),
    ("ï", "Ï", "", _DOT),
    ("â", "Â", _CIRC, ""), ("á", "Á", _CIRC, _ACUTE), ("à", "À", _CIRC, _GRAVE), ("å", "Å", _CIRC, _HOOK),
    ("ã", "Ã", _CIRC, _TILDE), ("ä", "Ä", _CIRC, _DOT),
    ("ê", "Ê", _BREVE, ""), ("é", "É", _BREVE, _ACUTE), ("è", "È", _BREVE, _GRAVE), ("ú", "Ú", _BREVE, _HOOK),
    ("ü", "Ü", _BREVE, _TILDE), ("ë", "Ë", _BREVE, _DOT),
):
    _VNI_MODIFIERS[_lower] = (_mod, _tone)
    _VNI_MODIFIERS[_upper] = (_mod, _tone)

# base characters that take a modifier: VNI character -> Unicode base letter
_VNI_BASES = {c: c for c in "aeouyAEOUY"} | {"ô": "ơ", "ö": "ư", "Ô": "Ơ", "Ö": "Ư"}
# which vowel modifiers a base accepts
_VNI_ACCEPTS = {"a": (_CIRC, _BREVE, ""), "e": (_CIRC, ""), "o": (_CIRC, ""), "u": ("",), "y": ("",),
                "ơ": ("",), "ư": ("",)}
# single VNI characters that are a whole Vietnamese letter
_VNI_SINGLE = {
    "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị",
    "î": "ỵ", "Î": "Ỵ", "ñ": "đ", "Ñ": "Đ", "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư",
}


def _cp1252_chars(raw: bytes) -> str:
    out = []
    for b in raw:
        if b < 0x80:
            out.append(chr(b))
            continue
        try:
            out.append(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            out.append(chr(b))
    return "".join(out)


def decode_vni(raw: bytes) -> str:
    """VNI-Windows bytes to Unicode NFC."""
    text = _cp1252_chars(raw)
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        base = _VNI_BASES.get(ch)
        if base is not None and i + 1 < n and text[i + 1] in _VNI_MODIFIERS:
            modifier, tone = _VNI_MODIFIERS[text[i + 1]]
            if modifier in _VNI_ACCEPTS[base.lower()]:
                out.append(unicodedata.normalize("NFC", base + modifier + tone))
                i += 2
                continue
        out.append(_VNI_SINGLE.get(ch, ch))
        i += 1
    return unicodedata.normalize("NFC", "".join(out))


def decode_cp1258(raw: bytes) -> str:
    return unicodedata.normalize("NFC", raw.decode("cp1258", errors="strict"))


def decode_utf8(raw: bytes) -> str:
    return unicodedata.normalize("NFC", raw.decode("utf-8", errors="strict"))


# ---------------------------------------------------------------------------------------------------------
# Names users may give (--encoding, .cpg) -> canonical name.
_ALIASES = {
    "utf-8": "utf-8", "utf8": "utf-8", "65001": "utf-8", "unicode": "utf-8",
    "tcvn3": "tcvn3", "tcvn": "tcvn3", "abc": "tcvn3", "tcvn5712": "tcvn3", "tcvn-5712": "tcvn3", "vn3": "tcvn3",
    "vni": "vni", "vni-windows": "vni", "vniwin": "vni", "vni-win": "vni",
    "cp1258": "cp1258", "1258": "cp1258", "windows-1258": "cp1258", "ansi 1258": "cp1258",
    "latin1": "latin1", "iso-8859-1": "latin1", "iso8859-1": "latin1", "88591": "latin1", "cp1252": "cp1252",
    "1252": "cp1252", "windows-1252": "cp1252", "ascii": "ascii", "us-ascii": "ascii",
}
LABELS = {"utf-8": "UTF-8", "tcvn3": "TCVN3 (ABC)", "vni": "VNI-Windows", "cp1258": "Windows-1258",
          "latin1": "ISO-8859-1", "cp1252": "Windows-1252", "ascii": "ASCII"}
LEGACY = ("tcvn3", "vni", "cp1258")


def canonical(name: str) -> str | None:
    """Canonical encoding name for what a user or a .cpg file wrote, or None if unknown."""
    key = name.strip().lower().replace("_", "-")
    if key in _ALIASES:
        return _ALIASES[key]
    return _ALIASES.get(key.replace("-", ""))


def decoder(name: str):
    """bytes -> str (NFC) for a canonical encoding name; raises UnicodeDecodeError on invalid input."""
    if name == "tcvn3":
        return decode_tcvn3
    if name == "vni":
        return decode_vni
    if name == "cp1258":
        return decode_cp1258
    if name == "utf-8":
        return decode_utf8
    if name == "ascii":
        return lambda raw: raw.decode("ascii")
    return lambda raw: unicodedata.normalize("NFC", raw.decode(name))


# ---------------------------------------------------------------------------------------------------------
# Detection: which decoding turns a sample into the most valid Vietnamese syllables.
_TONES = {_ACUTE, _GRAVE, _HOOK, _TILDE, _DOT}
_SYLLABLE = re.compile(
    r"(ngh|ng|gh|gi|nh|ch|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"(uyê|uyu|uya|iêu|yêu|oai|oay|oao|oeo|uây|uôi|ươi|ươu|uêu"
    r"|ia|iê|iu|yê|oa|oă|oe|oo|ua|uâ|uê|ui|uô|uơ|uy|ưa|ưi|ươ|ưu|ai|ao|au|ay|âu|ây|eo|êu|oi|ôi|ơi"
    r"|a|ă|â|e|ê|i|o|ô|ơ|u|ư|y)"
    r"(ch|nh|ng|c|m|n|p|t)?"
)
_WORD = re.compile(r"[^\W\d_]+")


def _untoned(word: str) -> tuple[str, int]:
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for ch in decomposed if ch in _TONES)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES)), tones


def vietnamese_score(texts: list[str]) -> tuple[int, int]:
    """(valid, total): words with a non-ASCII letter, and how many of them are valid Vietnamese syllables."""
    valid = total = 0
    for text in texts:
        for word in _WORD.findall(text):
            if word.isascii():
                continue
            total += 1
            base, tones = _untoned(word)
            if tones <= 1 and _SYLLABLE.fullmatch(base):
                valid += 1
            # letters outside Vietnamese (e.g. '¸', '§', 'Ê' inside a word) make the word invalid: nothing to add
    return valid, total


@dataclass(frozen=True)
class Detection:
    """Which encoding a sample of raw text is in, and how sure we are."""

    encoding: str  # canonical name
    valid_words: int
    words: int
    how: str  # "declared" | "detected" | "ascii"

    @property
    def label(self) -> str:
        return LABELS.get(self.encoding, self.encoding)

    def describe(self) -> str:
        if self.how == "ascii":
            return "text is plain ASCII"
        share = f"{self.valid_words}/{self.words} words valid Vietnamese" if self.words else "no accented words"
        return f"text decoded from {self.label} ({self.how}; {share})"


def detect(samples: list[bytes]) -> Detection:
    """Detect the encoding of raw DBF/CSV text: UTF-8 if valid, else the best of TCVN3, VNI, CP1258."""
    non_ascii = [s for s in samples if s and not s.isascii()]
    if not non_ascii:
        return Detection("ascii", 0, 0, "ascii")
    try:
        texts = [decode_utf8(s) for s in non_ascii]
    except UnicodeDecodeError:
        pass
    else:
        valid, total = vietnamese_score(texts)
        return Detection("utf-8", valid, total, "detected")
    best: Detection | None = None
    for name in LEGACY:
        try:
            texts = [decoder(name)(s) for s in non_ascii]
        except UnicodeDecodeError:
            continue
        valid, total = vietnamese_score(texts)
        cand = Detection(name, valid, total, "detected")
        if best is None or valid > best.valid_words:
            best = cand
    if best is None or best.valid_words == 0:
        return Detection("latin1", 0, len(non_ascii), "detected")
    return best


def looks_mojibake(texts: list[str]) -> Detection | None:
    """Legacy Vietnamese bytes already mis-read as Latin-1 into a Unicode file ("Ng­êi" for "Người").

    Returns the encoding that reads the Latin-1 bytes back into clearly better Vietnamese, else None.
    """
    suspects = [t for t in texts if t and not t.isascii()]
    if not suspects or any(ord(ch) > 0xFF for t in suspects for ch in t):
        return None
    as_is_valid, _ = vietnamese_score(suspects)
    found = detect([t.encode("latin1") for t in suspects])
    if found.encoding in LEGACY and found.valid_words > max(as_is_valid, 0) and found.valid_words * 2 >= found.words:
        return found
    return None
