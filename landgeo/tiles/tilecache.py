"""The tile cache (bộ đệm ô bản đồ): tiles on disk, redrawn exactly where the register changed.

A cached tile is a file ``<state>/tiles/<database>-<code version>/<layer>/<tms>/<z>/<col>/<row>.mvt`` that
starts with the id of the newest ``meta.tile_change`` row when it was drawn (8 bytes, then the MVT). Every write
to a published table records the boxes of its old and new rows in ``meta.tile_change`` (statement triggers; an
event trigger for the bulk loader's partition swap: migration 0080). Serving a cached tile asks the database one
indexed question — has any change newer than the tile touched its envelope? — and draws the tile again only
then: no stale parcel after a write, and every other tile stays cached. The API reads through read-only
connections, so the cache cannot live in the database; on disk it is shared by every worker process.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

import psycopg

from landgeo.api.collections import Collection
from landgeo.tiles import tiles
from landgeo.tiles.tilematrixsets import TileMatrixSet
from landgeo.tiles.tiles import TileBox, change_layers, draws_at, render

_HEADER = struct.Struct(">q")
#: The tile queries' version: a tile drawn by other code (an upgrade) is another cache entry.
CODE_VERSION = hashlib.sha1(Path(tiles.__file__).read_bytes()).hexdigest()[:8]
_DB_IDS: dict[tuple[int, str], str] = {}

FRESH_SQL = ("SELECT EXISTS (SELECT 1 FROM meta.tile_change WHERE id > %s AND layer = ANY(%s) "
             "AND box && ST_MakeEnvelope(%s, %s, %s, %s, 4326)), (SELECT coalesce(max(id), 0) FROM meta.tile_change)")


def database_id(conn: psycopg.Connection, url: str) -> str:
    """A directory name for the database behind ``url``: the URL and the database's oid (a database made again
    under the same name is another cache)."""
    key = (os.getpid(), url)
    if key not in _DB_IDS:
        oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()[0]
        _DB_IDS[key] = hashlib.sha1(f"{url}#{oid}".encode()).hexdigest()[:16] + "-" + CODE_VERSION
    return _DB_IDS[key]


class TileCache:
    """Disk cache under ``root`` (None: no cache, every tile is drawn)."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.hits = 0
        self.draws = 0

    def path(self, db_id: str, c: Collection, tms: TileMatrixSet, z: int, row: int, col: int) -> Path:
        assert self.root is not None
        return self.root / db_id / c.id / tms.id / str(z) / str(col) / f"{row}.mvt"

    def get(self, conn: psycopg.Connection, url: str, c: Collection, tms: TileMatrixSet, z: int, row: int, col: int,
            box: TileBox) -> tuple[bytes, str]:
        """The tile and how it was served: ``hit`` (cached and fresh), ``draw`` (drawn now), ``empty``."""
        if not draws_at(c, z):
            return b"", "empty"
        path = None
        if self.root is not None:
            path = self.path(database_id(conn, url), c, tms, z, row, col)
            try:
                data = path.read_bytes()
            except OSError:
                data = None
            if data is not None and len(data) >= _HEADER.size:
                (seq,) = _HEADER.unpack_from(data)
                stale, newest = conn.execute(FRESH_SQL, (seq, change_layers(c, z), *box.crs84)).fetchone()
                if not stale and newest >= seq:  # (a log older than the tile: the database was restored)
                    self.hits += 1
                    return data[_HEADER.size:], "hit"
        # the change id is read in the tile's own snapshot: a change committed later makes the tile stale
        tile, seq = render(conn, c, z, box, with_change_id=path is not None)
        self.draws += 1
        if path is not None:
            self._write(path, _HEADER.pack(seq) + tile)
        return tile, "draw"

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError:
            pass  # a read-only or full disk: serve without caching
