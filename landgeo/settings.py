"""Where things live and how to reach the database: one place, read from the environment.

| variable | meaning | default |
| --- | --- | --- |
| ``LANDGEO_DATABASE_URL`` | use this PostgreSQL/PostGIS server instead of the embedded cluster | unset |
| ``LANDGEO_HOME`` | project folder (holds ``schemas/`` and ``.landgeo/``) | the source checkout |
| ``LANDGEO_PG_PORT`` | port of the embedded cluster (127.0.0.1 only) | 55432 |
| ``LANDGEO_PG_BINDIR`` | PostgreSQL server binaries | newest ``/usr/lib/postgresql/*/bin`` |
| ``LANDGEO_PG_USER`` | OS user that runs the embedded cluster when invoked as root | ``postgres`` or ``landgeo`` |
| ``LANDGEO_API_PORT`` | port of ``landgeo serve`` | 5000 |
| ``LANDGEO_API_POOL_SIZE`` | database connections per API worker process | 4 |
| ``LANDGEO_API_STATEMENT_TIMEOUT_MS`` | statement timeout of the API's connections | 30000 |
| ``LANDGEO_API_NO_ACCESS_LOG`` | set (non-empty): ``landgeo serve`` writes no access log | unset |
| ``LANDGEO_CRS_MERIDIANS`` | central-meridian overrides ``CODE@GENERATION=LON0,…`` | unset |
| ``PYGEOAPI_CONFIG``, ``PYGEOAPI_OPENAPI`` | pygeoapi's own: the config and OpenAPI files served | repo's, generated |
| ``LANDGEO_WAL_ARCHIVE`` | folder the embedded cluster archives its WAL into | ``wal-archive/`` beside the data |
| ``LANDGEO_OIDC_ISSUER`` | accept JWTs of this OpenID Connect issuer (``iss``) | unset: API tokens only |
| ``LANDGEO_OIDC_JWKS`` | the issuer's JWKS: an ``https://`` URL or a file path | unset |
| ``LANDGEO_OIDC_AUDIENCE`` | the ``aud`` a JWT must carry | ``landgeo`` |
| ``LANDGEO_OIDC_ALGORITHMS`` | accepted JWT algorithms (never ``none`` or HS*) | RS256,PS256,ES256,EdDSA |
| ``LANDGEO_TOKEN_TTL_DAYS`` | lifetime of a new API token when ``--expires`` is not given | 90 |
| ``LANDGEO_AUDIT_DURABLE`` | ``1``: each register read waits for its audit row's WAL flush | unset (WAL writer) |
| ``LANDGEO_READ_DATABASE_URL`` | the API reads from this server (a streaming replica) while it answers | unset |
| ``LANDGEO_REPLICA_PORT`` | port of the embedded cluster's read replica (``landgeo db replica up``) | PG port + 1000 |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PG_PORT = 55432
DEFAULT_API_PORT = 5000
EMBEDDED_DB_NAME = "landgeo"
EMBEDDED_DB_USER = "landgeo"


_CHECKOUT = Path(__file__).resolve().parent.parent  # resolved once: settings are read on every request


def _default_home() -> Path:
    if (_CHECKOUT / "schemas").is_dir():
        return _CHECKOUT
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    home: Path
    pg_port: int
    api_port: int
    external_url: str | None
    pg_bindir: str | None = None
    pg_user: str | None = None
    api_pool_size: int = 4
    api_statement_timeout_ms: int = 30000
    api_access_log: bool = True
    crs_meridians: str = ""
    pygeoapi_config: str | None = None
    pygeoapi_openapi: str | None = None
    wal_archive: Path | None = None
    tile_cache: str = ""  # LANDGEO_TILE_CACHE: vector tile cache directory, "off" for none; default .landgeo/tiles
    oidc_issuer: str | None = None
    oidc_jwks: str | None = None
    oidc_audience: str = "landgeo"
    oidc_algorithms: tuple[str, ...] = ("RS256", "PS256", "ES256", "EdDSA")
    token_ttl_days: int = 90
    audit_durable: bool = False
    read_database_url: str | None = None
    replica_port: int = 0

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
        pg_bindir=os.environ.get("LANDGEO_PG_BINDIR") or None,
        pg_user=os.environ.get("LANDGEO_PG_USER") or None,
        api_pool_size=int(os.environ.get("LANDGEO_API_POOL_SIZE", "4")),
        api_statement_timeout_ms=int(os.environ.get("LANDGEO_API_STATEMENT_TIMEOUT_MS", "30000")),
        api_access_log=not os.environ.get("LANDGEO_API_NO_ACCESS_LOG"),
        crs_meridians=os.environ.get("LANDGEO_CRS_MERIDIANS", "").strip(),
        pygeoapi_config=os.environ.get("PYGEOAPI_CONFIG") or None,
        pygeoapi_openapi=os.environ.get("PYGEOAPI_OPENAPI") or None,
        wal_archive=Path(os.environ["LANDGEO_WAL_ARCHIVE"]).resolve() if os.environ.get("LANDGEO_WAL_ARCHIVE")
        else None,
        tile_cache=os.environ.get("LANDGEO_TILE_CACHE", ""),
        oidc_issuer=os.environ.get("LANDGEO_OIDC_ISSUER") or None,
        oidc_jwks=os.environ.get("LANDGEO_OIDC_JWKS") or None,
        oidc_audience=os.environ.get("LANDGEO_OIDC_AUDIENCE") or "landgeo",
        oidc_algorithms=tuple(a.strip() for a in os.environ.get(
            "LANDGEO_OIDC_ALGORITHMS", "RS256,PS256,ES256,EdDSA").split(",") if a.strip()),
        token_ttl_days=int(os.environ.get("LANDGEO_TOKEN_TTL_DAYS", "90")),
        audit_durable=os.environ.get("LANDGEO_AUDIT_DURABLE", "").lower() in ("1", "true", "on", "yes"),
        read_database_url=os.environ.get("LANDGEO_READ_DATABASE_URL") or None,
        replica_port=int(os.environ.get("LANDGEO_REPLICA_PORT") or
                         int(os.environ.get("LANDGEO_PG_PORT", DEFAULT_PG_PORT)) + 1000),
    )
