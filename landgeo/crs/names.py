"""Normalising Vietnamese place names for look-ups (tên tỉnh, không dấu, không tiền tố)."""

from __future__ import annotations

import re
import unicodedata

# Prefixes that say what kind of unit a name is, not which one (after diacritics are stripped).
_PREFIXES = (
    "thanh pho truc thuoc trung uong", "thanh pho", "tinh", "tp.", "tp ", "t.p.", "t.", "city of", "province of",
)
_SUFFIXES = (" city", " province", " municipality", " tinh", " thanh pho")
# Names people write that are not the registry's spelling (normalised form -> normalised registry form).
_ALIASES = {
    "hcm": "hochiminh", "tphcm": "hochiminh", "hcmc": "hochiminh", "saigon": "hochiminh", "sg": "hochiminh",
    "hn": "hanoi", "tthue": "thuathienhue", "thuathien": "thuathienhue", "brvt": "bariavungtau",
    "vungtau": "bariavungtau", "daklak": "daklak", "daclac": "daklak", "daknong": "daknong", "dacnong": "daknong",
    "backan": "backan", "baccan": "backan", "hue": "hue",
}


def strip_diacritics(text: str) -> str:
    """'Thừa Thiên Huế' -> 'Thua Thien Hue' (đ/Đ become d/D)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def normalise_name(name: str) -> str:
    """A province name reduced to a comparable key: no diacritics, case, prefixes, spaces or punctuation.

    'TP. Hà Nội', 'Thành phố Hà Nội', 'ha noi', 'Hanoi' all give 'hanoi'.
    """
    text = strip_diacritics(name).lower().strip()
    text = re.sub(r"\(.*?\)", " ", text)  # "Hà Tây (merged into Hà Nội 2008)"
    text = re.sub(r"\s+", " ", text).strip()
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix) and len(text) > len(prefix):
                text = text[len(prefix):].lstrip(" .")
                changed = True
        for suffix in _SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[: -len(suffix)].rstrip()
                changed = True
    key = re.sub(r"[^a-z0-9]", "", text)
    return _ALIASES.get(key, key)
