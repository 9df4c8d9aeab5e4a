"""The identity of a request (danh tính): a role and, for an officer, the provinces and communes it may see.

| role | reads | writes |
| --- | --- | --- |
| anonymous (no identity) | public collections | nothing |
| ``analyst`` | public collections, everywhere | nothing |
| ``officer`` | public collections; parties, rights, certificates of its provinces/communes | (register transactions) |
| ``admin`` | everything | users and scopes |

The database enforces the same rule (row-level security keyed on the identity the API sets for each transaction,
see :mod:`landgeo.access.session`); this module only says it in Python, for answers (401/403) and the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

ROLES = ("analyst", "officer", "admin")
REGISTER_READERS = frozenset({"officer", "admin"})
PROVINCE_RE = re.compile(r"^[0-9]{2}$")
COMMUNE_RE = re.compile(r"^[0-9]{5}$")


class AuthError(Exception):
    """The request's credentials are missing, malformed, unknown, expired or revoked: HTTP 401."""

    status = 401
    code = "Unauthorized"


class Forbidden(Exception):
    """The identity is known but may not do this: HTTP 403."""

    status = 403
    code = "Forbidden"


@dataclass(frozen=True)
class Identity:
    """Who is asking: ``name`` (for the audit), ``role``, scope, and how it was proven (token | jwt | cli)."""

    name: str
    role: str
    provinces: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()
    auth: str = "token"
    #: SHA-256 of the API token that proved it (the database re-reads the identity from it in each register
    #: transaction); None for a JWT
    token_hash: str | None = field(default=None, repr=False, compare=False)

    @property
    def reads_register(self) -> bool:
        """May read the restricted register (parties, rights, certificates) — of its scope only for an officer."""
        return self.role in REGISTER_READERS

    def covers(self, province_code: str | None, commune_code: str | None) -> bool:
        """The Python twin of ``access.in_scope`` (the database decides; this is for messages and tests)."""
        if self.role == "admin":
            return True
        if self.role != "officer":
            return False
        return (province_code is not None and province_code in self.provinces) or (
            commune_code is not None and commune_code in self.communes)

    def describe(self) -> str:
        scope = ",".join(self.provinces + self.communes)
        return f"{self.name} ({self.role}{' ' + scope if scope else ''})"


@lru_cache(maxsize=1)
def known_provinces() -> frozenset[str]:
    """Province codes of the current (2025) list: the codes parcels carry."""
    from landgeo.crs.provinces import provinces

    return frozenset(p.code for p in provinces("2025"))


def check_scope(role: str, provinces: tuple[str, ...] | list[str], communes: tuple[str, ...] | list[str],
                error: type[Exception] = ValueError) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Validate a role and its scope; raises ``error`` with a one-line reason. Returns the sorted, unique scope."""
    if role not in ROLES:
        raise error(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    provs = tuple(sorted(set(provinces)))
    comms = tuple(sorted(set(communes)))
    for p in provs:
        if not PROVINCE_RE.match(p):
            raise error(f"province code must be 2 digits, got {p!r}")
        if p not in known_provinces():
            raise error(f"no province {p!r} in the 2025 list of provinces")
    for c in comms:
        if not COMMUNE_RE.match(c):
            raise error(f"commune code must be 5 digits, got {c!r}")
    if role == "officer" and not (provs or comms):
        raise error("an officer needs a scope: at least one --province or --commune")
    if role != "officer" and (provs or comms):
        raise error(f"only an officer has a scope ({role} sees {'everything' if role == 'admin' else 'no register'})")
    return provs, comms


@dataclass(frozen=True)
class Credential:
    """What a request presented: an API token (by its hash: the database resolves it) or a verified JWT."""

    kind: str  # token | jwt
    token_hash: str | None = None
    identity: Identity | None = None
