"""A real ``landgeo serve`` for the tile, map and QGIS tests, with its own tile cache folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apiserver import free_port
from apiserver import serve as serve_api

__all__ = ["free_port", "serve"]


@contextmanager
def serve(db_url: str, cache_dir: Path, log: Path) -> Iterator[str]:
    """Yield the base URL of a server on ``db_url`` whose tile cache is ``cache_dir``."""
    with serve_api(db_url, log, env={"LANDGEO_TILE_CACHE": str(cache_dir)}) as base:
        yield base
