"""What an access log may show of a request: never a credential, never a personal value.

:func:`redact_target` is the one rule (any log format can call it): the path stays; on the register's paths
(``/collections/{parties|rights|certificates}…``, from the catalogue's ``restricted`` targets) every query value
becomes ``***`` (``?full_name=***&limit=***``); on any path the values of token-like parameters
(``access_token`` …, refused by the API anyway) become ``***``. :func:`redact_atoms` applies it to gunicorn's log
atoms and drops the ``Authorization`` / ``Cookie`` headers (and their environ copies) whatever the format asks
for; :class:`RedactingLogger` is the gunicorn logger class ``landgeo serve`` uses.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlsplit

from gunicorn.glogging import Logger

from landgeo.access.http import URL_TOKEN_PARAMETERS

MASK = "***"
SECRET_HEADERS = ("authorization", "proxy-authorization", "cookie", "x-api-key")
_COLLECTION = re.compile(r"^/collections/([^/?]+)")


@lru_cache(maxsize=1)
def _restricted_ids() -> frozenset[str]:
    from landgeo.catalog import targets

    return frozenset(t.id for t in targets().values() if t.restricted)


def redact_query(path: str, query: str) -> str:
    """The query string as it may be logged for ``path``."""
    if not query:
        return query
    match = _COLLECTION.match(path or "")
    personal = bool(match and match.group(1) in _restricted_ids())
    pairs = parse_qsl(query, keep_blank_values=True)
    out = []
    for key, value in pairs:
        hidden = personal or key.lower() in URL_TOKEN_PARAMETERS
        out.append(f"{quote(key, safe='')}={MASK if hidden else quote(value, safe=',:/')}")
    return "&".join(out)


def redact_target(target: str) -> str:
    """A request target (``/path?query``) or URL (a Referer) as it may be logged."""
    if not target or target == "-" or "?" not in target:
        return target
    parts = urlsplit(target)
    head = target[: target.index("?")]
    return f"{head}?{redact_query(parts.path, parts.query)}"


def redact_atoms(atoms: dict) -> dict:
    """gunicorn's log atoms with credentials removed and the register's query values masked."""
    for key in list(atoms):
        low = key.lower()
        if (low.endswith("}i") and low[1:-2] in SECRET_HEADERS) or \
                (low.endswith("}e") and low[1:-2].replace("http_", "").replace("_", "-") in SECRET_HEADERS):
            atoms[key] = MASK
    request = atoms.get("r")
    if isinstance(request, str) and " " in request:
        method, _, rest = request.partition(" ")
        target, _, proto = rest.rpartition(" ")
        atoms["r"] = f"{method} {redact_target(target)} {proto}"
    if atoms.get("q"):
        atoms["q"] = redact_query(atoms.get("U") or "", atoms["q"])
    if atoms.get("f"):
        atoms["f"] = redact_target(atoms["f"])
    atoms["u"] = "-"
    return atoms


class RedactingLogger(Logger):
    """gunicorn's logger, with :func:`redact_atoms` applied to every access-log line."""

    def atoms(self, resp, req, environ, request_time):
        return redact_atoms(super().atoms(resp, req, environ, request_time))
