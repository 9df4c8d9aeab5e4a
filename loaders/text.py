"""Text stage (mã hóa ký tự): a source's text columns decoded to Unicode NFC, the encoding decided once per file
from a sample (DBF bytes in TCVN3/VNI/CP1258, mojibake in Unicode files); see :mod:`landgeo.vn_encodings`."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

import landgeo.vn_encodings as enc
from landgeo.errors import UserError
from loaders.read import Batch, Source


class SourceText:
    """Decodes a source's text columns: DBF bytes by the chosen encoding, Unicode files to NFC."""

    def __init__(self, source: Source, requested: str | None) -> None:
        self.source = source
        self.requested = enc.canonical(requested) if requested else None
        if requested and self.requested is None:
            raise UserError(f"unknown --encoding {requested!r}; use utf-8, tcvn3, vni, cp1258 or latin1")
        self.name: str | None = None  # decided on the first batch
        self.note = ""
        self._decode = None

    def decide(self, batch: Batch) -> None:
        strings = []
        for arr in batch.columns.values():
            if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
                strings += [s for s in arr.drop_null().to_pylist()[:5000] if s]
        where = self.source.path.name
        if self.source.dbf:
            raws = [s.encode("latin1") for s in strings]
            found = enc.detect(raws)
            declared = enc.canonical(self.source.cpg_text) if self.source.cpg_text else None
            if self.requested:
                chosen, how = self.requested, "--encoding"
            elif declared and declared not in ("latin1", "cp1252", "ascii"):
                chosen, how = declared, ".cpg"
            elif found.encoding in enc.LEGACY or found.encoding == "utf-8":
                chosen, how = found.encoding, "detected"
            else:
                chosen, how = declared or "latin1", ".cpg" if declared else "default"
            decode = enc.decoder(chosen)
            bad = self._first_undecodable(raws, decode)
            if bad is not None:
                hint = f"; the bytes look like {found.label}, try --encoding {found.encoding}" \
                    if found.encoding not in (chosen, "latin1", "ascii") else ""
                raise UserError(f"{where}: text is not valid {enc.LABELS.get(chosen, chosen)} ({how}): "
                                f"{bad!r}{hint}")
            if how in (".cpg", "--encoding") and chosen in ("utf-8",) and found.encoding in enc.LEGACY:
                raise UserError(f"{where}: text decodes as {enc.LABELS[chosen]} ({how}) but reads as "
                                f"{found.label}; pass --encoding {found.encoding}")
            if how == "detected" and declared and declared != chosen:
                how = f"detected; the .cpg says {self.source.cpg_text}, which the bytes contradict"
            self.name = chosen
            self._decode = lambda s, d=decode: d(s.encode("latin1"))
            accented = [self._decode(s) for s in strings if not s.isascii()][:2000]
            valid, total = enc.vietnamese_score(accented)
            if found.encoding == "ascii":
                self.note = "text is plain ASCII"
            else:
                self.note = f"text decoded from {enc.LABELS.get(chosen, chosen)} ({how}; {valid}/{total} " \
                            "accented words are valid Vietnamese) to Unicode NFC"
            return
        if self.requested and self.requested in enc.LEGACY:
            self.name = self.requested
            decode = enc.decoder(self.requested)
            self._decode = lambda s, d=decode: d(s.encode("latin1", errors="strict"))
            self.note = f"text decoded from {enc.LABELS[self.requested]} (--encoding) to Unicode NFC"
            return
        mojibake = enc.looks_mojibake(strings)
        if mojibake is not None:
            decode = enc.decoder(mojibake.encoding)
            self.name = mojibake.encoding
            self._decode = lambda s, d=decode: d(s.encode("latin1")) if not s.isascii() else s
            self.note = (f"text was {mojibake.label} bytes stored as Latin-1 characters ({mojibake.valid_words}/"
                         f"{mojibake.words} words valid once re-read): converted to Unicode NFC")
            return
        self.name = "utf-8"
        self._decode = None
        self.note = "text is Unicode (normalised to NFC)" if any(not s.isascii() for s in strings) else \
            "text is plain ASCII"

    @staticmethod
    def _first_undecodable(raws: list[bytes], decode) -> bytes | None:
        for raw in raws:
            try:
                decode(raw)
            except UnicodeDecodeError:
                return raw
        return None

    def __call__(self, arr: pa.Array) -> pa.Array:
        """The column as Unicode NFC. Work is done once per distinct value (codes, place names and land-use
        classes repeat through a file: a 65 536-row batch of them normalises in 1 ms instead of 12)."""
        if arr.null_count == len(arr) or pc.all(pc.string_is_ascii(arr)).as_py() is not False:
            return arr  # ASCII is NFC, and reads the same in every encoding offered
        encoded = arr.dictionary_encode()
        values = encoded.dictionary
        if self._decode is None:
            return pc.utf8_normalize(values, "NFC").take(encoded.indices)
        out = []
        for s in values.to_pylist():
            if s.isascii():
                out.append(s)
                continue
            try:
                out.append(self._decode(s))
            except UnicodeDecodeError as exc:
                raise UserError(f"{self.source.path.name}: text {s.encode('latin1', 'replace')!r} is not valid "
                                f"{enc.LABELS.get(self.name, self.name)}; pass the right --encoding") from exc
        return pa.array(out, pa.string()).take(encoded.indices)
