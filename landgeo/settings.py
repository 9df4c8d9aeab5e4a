"""Where things live and how to reach the database: one place, read from the environment.

| variable | meaning | default |
| --- | --- | --- |
| ``LANDGEO_DATABASE_URL`` | use this PostgreSQL/PostGIS server instead of the embedded cluster | unset |
| ``LANDGEO_HOME`` | project folder (holds ``schemas/`` and ``.landgeo/``) | the source checkout |
| ``LANDGEO_PG_PORT`` | port of the embedded cluster (127.0.0.1 only) | 55432 |
| ``LANDGEO_PG_BINDIR`` | PostgreSQL server binaries | newest ``/usr/lib/postgresql/*/bin`` |
| ``LANDGEO_PG_USER`` | OS user that runs the embedded cluster when invoked as root | ``postgres`` or ``landgeo`` |
| ``LANDGEO_API_PORT`` | port of ``landgeo serve`` | 5000 |
| ``LANDGEO_OIDC_ISSUER`` | accept JWTs of this OpenID Connect issuer (``iss``) | unset: API tokens only |
| ``LANDGEO_OIDC_JWKS`` | the issuer's JWKS: an ``https://`` URL or a file path | unset |
| ``LANDGEO_OIDC_AUDIENCE`` | the ``aud`` a JWT must carry | ``landgeo`` |
| ``LANDGEO_OIDC_ALGORITHMS`` | accepted JWT algorithms (never ``none`` or HS*) | RS256,PS256,ES256,EdDSA |
| ``LANDGEO_TOKEN_TTL_DAYS`` | lifetime of a new API token when ``--expires`` is not given | 90 |
| ``LANDGEO_AUDIT_DURABLE`` | ``1``: each register read waits for its audit row's WAL flush | unset (WAL writer) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PG_PORT = 55432
DEFAULT_API_PORT = 5000
EMBEDDED_DB_NAME = "landgeo"
EMBEDDED_DB_USER = "landgeo"


def _default_home() -> Path:
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "schemas").is_dir():
        return checkout
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    home: Path
    pg_port: int
    api_port: int
    external_url: str | None
    oidc_issuer: str | None = None
    oidc_jwks: str | None = None
    oidc_audience: str = "landgeo"
    oidc_algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256", "EdDSA")
    token_ttl_days: int = 90
    audit_durable: bool = False

    @property
    def schemas_dir(self) -> Path:
        return self.home / "schemas"

    @property
    def migrations_dir(self) -> Path:
        return self.schemas_dir / "migrations"

    @property
    def reference_dir(self) -> Path:
        """Reference tables (land-use codes, province meridians) shipped with the project."""
        return self.schemas_dir / "reference" / "vn"

    @property
    def state_dir(self) -> Path:
        """``.landgeo/``: the embedded cluster, its password and logs (git-ignored)."""
        return self.home / ".landgeo"

    @property
    def uses_embedded(self) -> bool:
        return not self.external_url


def get_settings() -> Settings:
    home = Path(os.environ["LANDGEO_HOME"]).resolve() if os.environ.get("LANDGEO_HOME") else _default_home()
    return Settings(
        home=home,
        pg_port=int(os.environ.get("LANDGEO_PG_PORT", DEFAULT_PG_PORT)),
        api_port=int(os.environ.get("LANDGEO_API_PORT", DEFAULT_API_PORT)),
        external_url=os.environ.get("LANDGEO_DATABASE_URL") or None,
        oidc_issuer=os.environ.get("LANDGEO_OIDC_ISSUER") or None,
        oidc_jwks=os.environ.get("LANDGEO_OIDC_JWKS") or None,
        oidc_audience=os.environ.get("LANDGEO_OIDC_AUDIENCE") or "landgeo",
        oidc_algorithms=tuple(a.strip() for a in os.environ.get(
            "LANDGEO_OIDC_ALGORITHMS", "RS256,PS256,ES256,EdDSA").split(",") if a.strip()),
        token_ttl_days=int(os.environ.get("LANDGEO_TOKEN_TTL_DAYS", "90")),
        audit_durable=os.environ.get("LANDGEO_AUDIT_DURABLE", "").lower() in ("1", "true", "on", "yes"),
    )
