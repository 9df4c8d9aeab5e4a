"""Reading PROJ's own definition of an operation (``proj=pipeline step … step …``), for the modules that evaluate
a known operation over whole arrays (:mod:`landgeo.crs.geocentric`, :mod:`landgeo.crs.tmerc`)."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

# The ellipsoids a definition may name (a, 1/f); VN-2000 is defined on the WGS 84 ellipsoid.
ELLIPSOIDS = {"WGS84": (6378137.0, 298.257223563), "GRS80": (6378137.0, 298.257222101)}
BLOCK = 16384  # points per block of an array evaluation: its temporaries stay in the cache (measured fastest)
_STEP = re.compile(r"\+?step\b")


def steps(definition: str) -> list[str] | None:
    """The steps of a pipeline definition; None when it is not a pipeline or has pipeline-wide options (``+inv``
    …), which the array evaluations do not apply."""
    head, *rest = (s.strip() for s in _STEP.split(definition))
    if head.replace("+", "") != "proj=pipeline":
        return None
    return rest


def params(step: str) -> dict[str, str]:
    """A step's options: ``inv proj=tmerc lon_0=105`` → {"inv": "", "proj": "tmerc", "lon_0": "105"}."""
    out: dict[str, str] = {}
    for token in step.replace("+", " ").split():
        key, _, value = token.partition("=")
        out[key] = value
    return out


def in_blocks(evaluate: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]], x: np.ndarray,
              y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``evaluate`` over 1-D ``x``, ``y`` in blocks of :data:`BLOCK` points, into two new arrays (overflow and
    invalid operations give inf/NaN quietly, as PROJ's non-finite results)."""
    out_x, out_y = np.empty_like(x), np.empty_like(y)
    with np.errstate(invalid="ignore", over="ignore"):
        for i in range(0, len(x), BLOCK):
            block = slice(i, i + BLOCK)
            out_x[block], out_y[block] = evaluate(x[block], y[block])
    return out_x, out_y
