"""The source checksum the CLI starts before importing the loader (loaders/checksum.py) is the file's SHA-256, and
a file changed after it was started is hashed again."""

from __future__ import annotations

import hashlib
import os

from loaders import checksum


def test_prefetched_digest_is_the_files(tmp_path):
    path = tmp_path / "a.gpkg"
    path.write_bytes(os.urandom(3 << 20))
    checksum.prefetch(path)
    assert checksum.sha256([path]) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not checksum._prefetched  # taken once


def test_a_file_rewritten_after_the_prefetch_is_hashed_again(tmp_path):
    path = tmp_path / "b.geojson"
    path.write_bytes(b"x" * 1000)
    checksum.prefetch(path)
    checksum._prefetched[next(iter(checksum._prefetched))].result()
    path.write_bytes(b"y" * 2000)  # another size: another identity
    assert checksum.sha256([path]) == hashlib.sha256(b"y" * 2000).hexdigest()
    checksum._prefetched.clear()


def test_missing_or_multi_part_sources_are_not_prefetched(tmp_path):
    checksum.prefetch(tmp_path / "missing.gpkg")
    (tmp_path / "c.shp").write_bytes(b"shp")
    checksum.prefetch(tmp_path / "c.shp")
    assert not checksum._prefetched
    assert checksum.sha256([tmp_path / "c.shp"]) == hashlib.sha256(b"shp").hexdigest()
