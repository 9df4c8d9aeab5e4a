"""Single sign-on: JWTs signed by the ministry's identity provider (OpenID Connect), verified with its JWKS.

Enabled when ``LANDGEO_OIDC_ISSUER`` and ``LANDGEO_OIDC_JWKS`` (an https URL, or a file) are set. A token is
accepted only when: its header names an algorithm of ``LANDGEO_OIDC_ALGORITHMS`` (asymmetric only: ``none`` and
HMAC are never accepted, whatever the setting — a public key must not become a shared secret), its ``kid`` is in
the JWKS, the signature verifies, ``iss`` equals the issuer, ``aud`` contains ``LANDGEO_OIDC_AUDIENCE``, and
``exp`` is in the future (``nbf``/``iat`` honoured, 30 s leeway).

Claims (documented in the README):

| claim | meaning |
| --- | --- |
| ``preferred_username`` (else ``sub``) | the user's name in the audit (``oidc:<name>``) |
| ``landgeo_role`` | ``analyst`` / ``officer`` / ``admin`` (required) |
| ``landgeo_provinces`` | officer scope: province codes (list, or a space/comma separated string) |
| ``landgeo_communes`` | officer scope: commune codes (same forms) |
"""

from __future__ import annotations

import threading
from pathlib import Path

import jwt

from landgeo.access.identity import AuthError, Identity, check_scope
from landgeo.settings import Settings

ROLE_CLAIM = "landgeo_role"
PROVINCES_CLAIM = "landgeo_provinces"
COMMUNES_CLAIM = "landgeo_communes"
NAME_CLAIMS = ("preferred_username", "sub")
ASYMMETRIC = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"})
LEEWAY_S = 30

_CLIENTS: dict[str, jwt.PyJWKClient] = {}
_FILES: dict[tuple[str, float], jwt.PyJWKSet] = {}
_LOCK = threading.Lock()


def enabled(settings: Settings) -> bool:
    return bool(settings.oidc_issuer and settings.oidc_jwks)


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


def _allowed(settings: Settings) -> list[str]:
    return [a for a in settings.oidc_algorithms if a in ASYMMETRIC]


def _signing_key(settings: Settings, kid: str | None):
    location = settings.oidc_jwks or ""
    if location.startswith(("https://", "http://")):
        with _LOCK:
            client = _CLIENTS.get(location)
            if client is None:
                client = _CLIENTS[location] = jwt.PyJWKClient(location, cache_keys=True, lifespan=300, timeout=5)
        try:
            return client.get_signing_key(kid).key if kid else None
        except jwt.PyJWKClientError as exc:
            raise AuthError(f"JWT key {kid!r} is not in the issuer's JWKS") from exc
    path = Path(location)
    try:
        mtime = path.stat().st_mtime
        key = (str(path), mtime)
        keyset = _FILES.get(key)
        if keyset is None:
            keyset = jwt.PyJWKSet.from_json(path.read_text(encoding="utf-8"))
            _FILES.clear()
            _FILES[key] = keyset
    except (OSError, ValueError, jwt.PyJWKSetError) as exc:
        raise AuthError("single sign-on is misconfigured (JWKS not readable); ask the operators") from exc
    for k in keyset.keys:
        if kid is not None and k.key_id == kid:
            return k.key
    raise AuthError(f"JWT key {kid!r} is not in the issuer's JWKS")


def _codes(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v for v in value.replace(",", " ").split() if v)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise AuthError("JWT scope claims must be lists of codes")


def verify(token: str, settings: Settings) -> Identity:
    """The identity a JWT proves, or :class:`AuthError` with a one-line reason (never the token itself)."""
    if not enabled(settings):
        raise AuthError("unknown token (single sign-on is not configured on this server)")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise AuthError("malformed JWT") from exc
    alg = header.get("alg")
    allowed = _allowed(settings)
    if not isinstance(alg, str) or alg not in allowed:
        raise AuthError(f"JWT algorithm {alg!r} is not accepted (accepted: {', '.join(allowed)})")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise AuthError("JWT has no key id (kid)")
    key = _signing_key(settings, kid)
    try:
        claims = jwt.decode(token, key, algorithms=[alg], audience=settings.oidc_audience,
                            issuer=settings.oidc_issuer, leeway=LEEWAY_S,
                            options={"require": ["exp", "iss", "aud"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("JWT has expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise AuthError("JWT is not for this audience") from exc
    except jwt.InvalidIssuerError as exc:
        raise AuthError("JWT is not from the configured issuer") from exc
    except jwt.InvalidSignatureError as exc:
        raise AuthError("JWT signature does not verify") from exc
    except jwt.PyJWTError as exc:
        raise AuthError(f"JWT refused: {str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__}") from exc
    except (TypeError, ValueError) as exc:  # e.g. an ES256 header naming an RSA key of the JWKS
        raise AuthError("JWT refused: its algorithm does not match the key it names") from exc
    name = next((claims[c] for c in NAME_CLAIMS if isinstance(claims.get(c), str) and claims[c]), None)
    if name is None:
        raise AuthError("JWT names no user (preferred_username or sub)")
    role = claims.get(ROLE_CLAIM)
    if not isinstance(role, str):
        raise AuthError(f"JWT has no {ROLE_CLAIM} claim")
    provinces, communes = check_scope(role, _codes(claims.get(PROVINCES_CLAIM)), _codes(claims.get(COMMUNES_CLAIM)),
                                      error=AuthError)
    return Identity(name=f"oidc:{name}"[:128], role=role, provinces=provinces, communes=communes, auth="jwt")

