"""What an access log may show of a register request: never a personal value.

The access log is :mod:`landgeo.api.ops`'s JSON lines; its one rule, :func:`landgeo.api.ops.redact`, masks every
query value on the register's paths (``/collections/{parties|rights|certificates}…``, the catalogue's
``restricted`` targets) by asking :func:`is_personal_path`, and the values of token-like parameters on any path.
No header is logged at all (so never ``Authorization`` or ``Cookie``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from landgeo.catalog import targets

_COLLECTION = re.compile(r"^/collections/([^/?]+)")


@lru_cache(maxsize=1)
def _restricted_ids() -> frozenset[str]:
    return frozenset(t.id for t in targets().values() if t.restricted)


def is_personal_path(path: str) -> bool:
    """A path of the register's collections: none of its query values may be logged."""
    match = _COLLECTION.match(path or "")
    return bool(match and match.group(1) in _restricted_ids())
