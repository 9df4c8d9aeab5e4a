"""The ``Authorization`` header of an HTTP request -> a credential, or a 401 with a one-line reason.

Accepted: ``Authorization: Bearer <token>`` where the token is an API token (``lgt_…``, see
:mod:`landgeo.access.tokens`) or, with single sign-on configured, a JWT of the issuer (:mod:`landgeo.access.oidc`).
No header: anonymous. Anything else — another scheme, an empty or malformed token, a token in the URL — is a 401
(a token in the URL is refused even when valid: URLs end up in logs and browser histories).
"""

from __future__ import annotations

import re

from landgeo.access import oidc
from landgeo.access.identity import AuthError, Credential
from landgeo.access.tokens import hash_token, looks_like_token
from landgeo.settings import Settings

REALM = "landgeo"
MAX_HEADER = 8192
_SPACE = re.compile(r"\s")
URL_TOKEN_PARAMETERS = frozenset({"access_token", "token", "api_key", "apikey", "jwt"})


def credential(environ: dict, settings: Settings, query: dict[str, str] | None = None) -> Credential | None:
    """The credential of a WSGI request, None when anonymous; :class:`AuthError` when it cannot be one."""
    if query and URL_TOKEN_PARAMETERS & set(query):
        raise AuthError("tokens are not accepted in URLs; send Authorization: Bearer TOKEN")
    header = environ.get("HTTP_AUTHORIZATION")
    if header is None:
        return None
    if len(header) > MAX_HEADER:
        raise AuthError("Authorization header too long")
    scheme, _, value = header.strip().partition(" ")
    if not scheme:
        raise AuthError("empty Authorization header; send Authorization: Bearer TOKEN")
    if scheme.lower() != "bearer":
        raise AuthError("unsupported authorization scheme; send Authorization: Bearer TOKEN")
    token = value.strip()
    if not token:
        raise AuthError("empty bearer token")
    if not token.isascii() or _SPACE.search(token):
        raise AuthError("malformed bearer token")
    if looks_like_token(token):
        return Credential("token", token_hash=hash_token(token))
    if oidc.looks_like_jwt(token):
        return Credential("jwt", identity=oidc.verify(token, settings))
    raise AuthError("malformed bearer token")


def challenge(error: AuthError | None) -> str:
    """The ``WWW-Authenticate`` value (RFC 6750): no error details when no credentials were sent."""
    if error is None:
        return f'Bearer realm="{REALM}"'
    return f'Bearer realm="{REALM}", error="invalid_token"'
