"""Land-office access (quyền truy cập): who is asking, what they may read, and the trace they leave.

- :mod:`landgeo.access.identity`: the :class:`Identity` of a request (role + provinces + communes);
- :mod:`landgeo.access.tokens`: API tokens (256-bit random, stored as SHA-256 only, with an expiry);
- :mod:`landgeo.access.oidc`: JWTs of the ministry's identity provider (OIDC issuer, JWKS, audience);
- :mod:`landgeo.access.http`: the ``Authorization`` header of a request -> an identity, or a 401;
- :mod:`landgeo.access.session`: the identity put into a database transaction (row-level security key);
- :mod:`landgeo.access.audit`: the append-only audit (nhật ký truy cập);
- :mod:`landgeo.access.users`: creating, listing and revoking users (``landgeo users``);
- :mod:`landgeo.access.logs`: what the access log may show of a request (no credentials, no personal values).
"""
