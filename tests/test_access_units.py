"""Access control's pure parts: tokens, scopes, the Authorization header, JWT checks, log redaction (no server)."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import replace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from landgeo.access import oidc
from landgeo.access.http import credential
from landgeo.access.identity import AuthError, Identity, check_scope
from landgeo.access.session import register_role
from landgeo.access.tokens import generate_token, hash_token, looks_like_token, parse_expiry
from landgeo.api.collections import get_collection
from landgeo.api.guard import scope_hint
from landgeo.api.ops import redact
from landgeo.api.statements import scope_sql
from landgeo.settings import get_settings

ISSUER = "https://sso.example.gov.vn/realms/tnmt"


def test_tokens_are_random_and_hashed():
    a, b = generate_token(), generate_token()
    assert a != b and looks_like_token(a) and len(a) == 47
    assert hash_token(a) != hash_token(b) and len(hash_token(a)) == 64 and a not in hash_token(a)


def test_expiry():
    now = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    assert parse_expiry(None, now) == now + dt.timedelta(days=90)
    assert parse_expiry("12h", now) == now + dt.timedelta(hours=12)
    assert parse_expiry("2027-01-31", now) == dt.datetime(2027, 1, 31, tzinfo=dt.UTC)
    for bad in ("soon", "2020-01-01", "400d", "0d"):
        with pytest.raises(ValueError):
            parse_expiry(bad, now)


def test_scopes():
    assert check_scope("officer", ["79", "01", "79"], []) == (("01", "79"), ())
    assert check_scope("officer", [], ["09895"]) == ((), ("09895",))
    for role, provs, comms in (("officer", [], []), ("officer", ["99"], []), ("officer", ["7"], []),
                               ("officer", [], ["0989"]), ("analyst", ["79"], []), ("root", [], [])):
        with pytest.raises(ValueError):
            check_scope(role, provs, comms)
    officer = Identity("x", "officer", ("79",), ("09895",))
    assert officer.covers("79", "26734") and officer.covers("01", "09895") and not officer.covers("01", "00004")
    assert not Identity("a", "analyst").reads_register and Identity("b", "admin").covers(None, None)


def test_scope_hint_and_register_role():
    """Every officer's scope is repeated in the page SQL (so that no read of the register depends on the policies
    being index conditions); an admin reads through its own database role."""
    assert scope_hint(Identity("a", "officer", ("79",))) == (("79",), ())
    assert scope_hint(Identity("b", "officer", (), ("26734",))) == ((), ("26734",))
    assert scope_hint(Identity("d", "officer", ("79",), ("00004",))) == (("79",), ("00004",))
    for identity in (Identity("f", "admin"), Identity("g", "analyst")):
        assert scope_hint(identity) is None, identity
    assert register_role(Identity("f", "admin")) == "landgeo_register_admin"
    assert {register_role(Identity("x", r, ("79",))) for r in ("officer", "analyst")} == {"landgeo_register"}


@pytest.mark.parametrize(("scope", "collection", "text", "params"), [
    ((("79",), ()), "rights", '"province_code" = %s', ["79"]),
    ((("79", "01"), ()), "parties", '"province_code" = ANY (%s)', [["79", "01"]]),
    (((), ("26734",)), "rights", '"commune_code" = %s', ["26734"]),
    # a party's communes are those of its rights: the links' (commune_code, party_id) index, from the page's start
    (((), ("26734",)), "parties", 'id IN (SELECT "party_id" FROM "landdb_restricted"."party_commune" WHERE '
                                  '"commune_code" = %s AND "party_id" > %s)', ["26734", 1234]),
    (((), ("26734", "26737")), "parties", '"commune_code" = ANY (%s) AND "party_id" > %s', [["26734", "26737"], 1234]),
    # a province and a commune: the union, as two index conditions (a BitmapOr)
    ((("79",), ("00004",)), "certificates", '("province_code" = %s OR "commune_code" = %s)', ["79", "00004"]),
    ((("79",), ("00004",)), "parties", '("province_code" = %s OR id = ANY (ARRAY(SELECT "party_id" FROM '
                                       '"landdb_restricted"."party_commune" WHERE "commune_code" = %s)))',
     ["79", "00004"]),
])
def test_scope_sql(scope, collection, text, params):
    """The scope hint of each officer shape, on each register collection: every code of the scope is stated (a
    hint that left one out would hide rows the officer may read)."""
    out: list = []
    sql_text = scope_sql(get_collection(collection), scope, 1234, out).as_string(None)
    assert text in sql_text and out == params, (sql_text, out)
    unlinked = replace(get_collection("parties"), scope_via=())  # communes neither a column nor a link: no hint
    assert scope_sql(unlinked, ((), ("26734",)), None, []) is None
    assert scope_sql(unlinked, (("79",), ("26734",)), None, []) is None  # not the provinces' part alone either


@pytest.mark.parametrize("header", ["Bearer", "Basic dXNlcjpwdw==", "Bearer  ", "Bearer a b", "Bearer lgt_short",
                                    "Token lgt_" + "A" * 43, "bearer éèé", "Bearer " + "x" * 9000])
def test_bad_headers(header):
    with pytest.raises(AuthError) as info:
        credential({"HTTP_AUTHORIZATION": header}, get_settings())
    assert "\n" not in str(info.value) and "AAAA" not in str(info.value)


def test_header_forms():
    token = generate_token()
    assert credential({}, get_settings()) is None
    cred = credential({"HTTP_AUTHORIZATION": f"bearer {token}"}, get_settings())
    assert cred.kind == "token" and cred.token_hash == hash_token(token)
    with pytest.raises(AuthError, match="not accepted in URLs"):
        credential({}, get_settings(), {"access_token": token})


@pytest.fixture
def sso(tmp_path):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks = {"keys": [
        {**jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), "kid": "r1"},
        {**jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True), "kid": "e1"},
    ]}
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks))
    settings = replace(get_settings(), oidc_issuer=ISSUER, oidc_jwks=str(path), oidc_audience="landgeo")
    return settings, rsa_key, ec_key


def _claims(**over):
    now = int(time.time())
    base = {"iss": ISSUER, "aud": ["landgeo", "other"], "sub": "s-1", "exp": now + 300, "iat": now,
            "landgeo_role": "officer", "landgeo_provinces": "79 01", "landgeo_communes": ["09895"]}
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_jwt_accepted_rsa_and_ec(sso):
    settings, rsa_key, ec_key = sso
    ident = oidc.verify(jwt.encode(_claims(), rsa_key, "RS256", headers={"kid": "r1"}), settings)
    assert ident == Identity("oidc:s-1", "officer", ("01", "79"), ("09895",), "jwt")
    ident = oidc.verify(jwt.encode(_claims(preferred_username="le.b", landgeo_role="analyst", landgeo_provinces=None,
                                           landgeo_communes=None), ec_key, "ES256", headers={"kid": "e1"}), settings)
    assert ident.name == "oidc:le.b" and ident.role == "analyst"


@pytest.mark.parametrize("case, message", [
    ("expired", "expired"), ("issuer", "issuer"), ("audience", "audience"), ("signature", "signature"),
    ("kid", "not in the issuer's JWKS"), ("no-kid", "key id"), ("hs256", "not accepted"), ("none", "not accepted"),
    ("province", "no province '99'"), ("role", "landgeo_role"), ("no-exp", "exp"), ("wrong-key-type", "refused"),
])
def test_jwt_refused(sso, case, message):
    settings, rsa_key, ec_key = sso
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    token = {
        "expired": lambda: jwt.encode(_claims(exp=now - 100, iat=now - 400), rsa_key, "RS256", headers={"kid": "r1"}),
        "issuer": lambda: jwt.encode(_claims(iss="https://evil"), rsa_key, "RS256", headers={"kid": "r1"}),
        "audience": lambda: jwt.encode(_claims(aud="x"), rsa_key, "RS256", headers={"kid": "r1"}),
        "signature": lambda: jwt.encode(_claims(), other, "RS256", headers={"kid": "r1"}),
        "kid": lambda: jwt.encode(_claims(), rsa_key, "RS256", headers={"kid": "zz"}),
        "no-kid": lambda: jwt.encode(_claims(), rsa_key, "RS256"),
        "hs256": lambda: jwt.encode(_claims(), "s" * 32, "HS256", headers={"kid": "r1"}),
        "none": lambda: jwt.encode(_claims(), None, "none", headers={"kid": "r1"}),
        "province": lambda: jwt.encode(_claims(landgeo_provinces=["99"]), rsa_key, "RS256", headers={"kid": "r1"}),
        "role": lambda: jwt.encode(_claims(landgeo_role=None), rsa_key, "RS256", headers={"kid": "r1"}),
        "no-exp": lambda: jwt.encode(_claims(exp=None), rsa_key, "RS256", headers={"kid": "r1"}),
        "wrong-key-type": lambda: jwt.encode(_claims(), ec_key, "ES256", headers={"kid": "r1"}),
    }[case]()
    with pytest.raises(AuthError, match=message) as info:
        credential({"HTTP_AUTHORIZATION": f"Bearer {token}"}, settings)
    assert token not in str(info.value)


def test_log_redaction():
    path, params = redact("/collections/{collectionId}/items", "/collections/parties/items",
                          [("full_name", "Nguyễn"), ("limit", "5")])
    assert path == "/collections/parties/items" and params == {"full_name": "[redacted]", "limit": "[redacted]"}
    _path, params = redact("/collections/{collectionId}/items", "/collections/parcels/items",
                           [("commune_code", "09877"), ("access_token", "x")])
    assert params == {"commune_code": "09877", "access_token": "[redacted]"}
    _path, params = redact("/collections/{collectionId}/items", "/collections/parcels/items", [])
    assert params == {}
