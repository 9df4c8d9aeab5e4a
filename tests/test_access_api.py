"""Land-office access over HTTP against a real `landgeo serve`: tokens, JWTs, scopes, the register, the audit.

Province 79 has parcels in communes 26737 and 26740, province 01 in 00004 (tests/register_data.py); the register
is loaded with `landgeo load --into …`, users are made with `landgeo users add`, JWTs are signed with an RSA key
pair made here and published in a JWKS file the server reads.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jwt
import psycopg
import pytest
import requests
from apiserver import serve
from cryptography.hazmat.primitives.asymmetric import rsa
from register_data import PARCELS_SQL, expected_parties, name_of, write_files

from landgeo.db.scratch import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
ISSUER = "https://sso.test.btnmt.gov.vn/realms/landgeo"
AUDIENCE = "landgeo-api"
SECRET_QUERY_NAME = "Sài Gòn Người 26737-7"



def _cli(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "landgeo", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LANDGEO_DATABASE_URL": url}, cwd=ROOT)


@pytest.fixture(scope="module")
def keys():
    good = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {"good": good, "other": other}


@pytest.fixture(scope="module")
def env(server_url, template_db, tmp_path_factory, keys):
    """Database with parcels + register + users, and a running server: (base URL, db URL, tokens, log path)."""
    folder = tmp_path_factory.mktemp("access_api")
    name = f"landgeo_test_access_{uuid.uuid4().hex[:10]}"
    url = create_database(server_url, name, template=template_db)
    with psycopg.connect(url) as conn:
        conn.execute(PARCELS_SQL)
    files = write_files(folder / "register")
    for target in ("parties", "rights", "certificates"):
        done = _cli(url, "load", str(files[target]), "--into", target)
        assert done.returncode == 0, done.stderr
    tokens = {}
    for user, args in {"off79": ["--role", "officer", "--province", "79"],
                       "off01": ["--role", "officer", "--province", "01"],
                       "off26740": ["--role", "officer", "--commune", "26740"],
                       "off2communes": ["--role", "officer", "--commune", "26740", "--commune", "00004"],
                       "analyst": ["--role", "analyst"], "admin": ["--role", "admin"],
                       "leaver": ["--role", "officer", "--province", "79"],
                       "expired": ["--role", "officer", "--province", "79"]}.items():
        done = _cli(url, "users", "add", user, *args)
        assert done.returncode == 0, done.stderr
        tokens[user] = done.stdout.strip().splitlines()[-1]
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE access.api_token t SET created_at = now() - interval '2 days', "
                     "expires_at = now() - interval '1 day' FROM access.app_user u "
                     "WHERE u.id = t.user_id AND u.name = 'expired'")
    jwks = {"keys": [{**jwt.algorithms.RSAAlgorithm.to_jwk(keys["good"].public_key(), as_dict=True),
                      "kid": "k1", "use": "sig", "alg": "RS256"}]}
    (folder / "jwks.json").write_text(json.dumps(jwks))
    log = folder / "serve.log"
    oidc = {"LANDGEO_OIDC_ISSUER": ISSUER, "LANDGEO_OIDC_JWKS": str(folder / "jwks.json"),
            "LANDGEO_OIDC_AUDIENCE": AUDIENCE, "LANDGEO_API_NO_ACCESS_LOG": None}
    with serve(url, log, env=oidc) as base:
        yield {"base": base, "db": url, "tokens": tokens, "log": log}
    drop_database(server_url, name)


def _get(env, path: str, user: str | None = None, headers: dict | None = None, **params) -> requests.Response:
    h = dict(headers or {})
    if user is not None:
        h["Authorization"] = f"Bearer {env['tokens'][user]}"
    params.setdefault("f", "json")
    return requests.get(f"{env['base']}{path}", params=params, headers=h, timeout=30)


def _all(env, collection: str, user: str, **params) -> list[dict]:
    url, first, feats = f"{env['base']}/collections/{collection}/items", True, []
    headers = {"Authorization": f"Bearer {env['tokens'][user]}"}
    while url:
        r = requests.get(url, params={"f": "json", **params} if first else None, headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        feats += body["features"]
        first = False
        url = next((x["href"] for x in body["links"] if x["rel"] == "next"), None)
        assert url is None or env["tokens"][user] not in url  # never a token in a link
    return feats


REGISTER = ("parties", "rights", "certificates")


# ---------------------------------------------------------------- anonymous and analysts

@pytest.mark.parametrize("collection", REGISTER)
def test_anonymous_gets_401_and_no_numbers(env, collection):
    for path in (f"/collections/{collection}/items", f"/collections/{collection}/items/1",
                 f"/collections/{collection}", f"/collections/{collection}/queryables"):
        for params in ({}, {"resulttype": "hits"}, {"f": "html"}):
            r = _get(env, path, **params)
            assert r.status_code == 401, (path, r.text)
            assert r.headers["WWW-Authenticate"].startswith("Bearer")
            assert "numberMatched" not in r.text and r.json()["code"] == "Unauthorized"


def test_anonymous_reads_what_it_read_before(env):
    listed = _get(env, "/collections").json()["collections"]
    assert {c["id"] for c in listed} >= {"parcels", "map-sheets", "admin-units"}
    assert not {c["id"] for c in listed} & set(REGISTER)  # the register is not listed to those who cannot read it
    html = _get(env, "/collections", f="html").text
    assert "/collections/parties" not in html and "land users" not in html
    parcels = _get(env, "/collections/parcels/items", limit=100).json()
    assert parcels["numberMatched"] == 52
    keys = set(parcels["features"][0]["properties"])
    assert keys == {"province_code", "commune_code", "sheet_number", "parcel_number", "land_use_codes",
                    "declared_area", "address", "valid_from", "valid_to", "computed_area", "area_srid",
                    "source_srid", "current_commune_code"}
    one = _get(env, f"/collections/parcels/items/{parcels['features'][0]['id']}").json()
    assert not any("rights" in x["href"] for x in one["links"])  # no links into the register for anonymous
    text = json.dumps(parcels, ensure_ascii=False)
    assert "Người" not in text


def test_analyst_reads_public_data_but_no_personal_data(env):
    assert _get(env, "/collections/parcels/items", "analyst").status_code == 200
    listed = {c["id"] for c in _get(env, "/collections", "analyst").json()["collections"]}
    assert not listed & set(REGISTER)
    for collection in REGISTER:
        for path in (f"/collections/{collection}/items", f"/collections/{collection}/items/1"):
            r = _get(env, path, "analyst")
            assert r.status_code == 403 and r.json()["code"] == "Forbidden", r.text
            assert "Người" not in r.text and "numberMatched" not in r.text


# ---------------------------------------------------------------- officers

def test_officer_of_79_reads_its_parties_and_nothing_of_01(env):
    feats = _all(env, "parties", "off79", limit=7)
    assert {f["properties"]["full_name"] for f in feats} == expected_parties("79")
    assert all(f["geometry"] is None for f in feats)
    # numberMatched (query.py rules 4-5): an unfiltered listing says it on its first page (the officer's own
    # per-scope counts); a filtered walk says it on a first page holding every match, else counts once under RLS
    # on its first next page, then carries it; hits counts at once; never a figure of unreadable rows
    n79 = len(expected_parties("79"))
    whole = _get(env, "/collections/parties/items", "off79", limit=1000).json()
    assert whole["numberMatched"] == len(whole["features"]) == n79
    first = _get(env, "/collections/parties/items", "off79", limit=5).json()
    assert first["numberMatched"] == n79 and "numberMatchedEstimate" not in first
    filtered = _get(env, "/collections/parties/items", "off79", limit=5, kind="person").json()
    n_people = len([f for f in feats if f["properties"]["kind"] == "person"])
    assert n_people > 5 and "numberMatched" not in filtered and "numberMatchedEstimate" not in filtered
    page2 = requests.get(next(x["href"] for x in filtered["links"] if x["rel"] == "next"), timeout=30,
                         headers={"Authorization": f"Bearer {env['tokens']['off79']}"}).json()
    assert page2["numberMatched"] == n_people
    page2 = requests.get(next(x["href"] for x in first["links"] if x["rel"] == "next"), timeout=30,
                         headers={"Authorization": f"Bearer {env['tokens']['off79']}"}).json()
    assert page2["numberMatched"] == n79
    page3 = requests.get(next(x["href"] for x in page2["links"] if x["rel"] == "next"), timeout=30,
                         headers={"Authorization": f"Bearer {env['tokens']['off79']}"}).json()
    assert page3["numberMatched"] == n79
    assert _get(env, "/collections/parties/items", "off79", resulttype="hits").json()["numberMatched"] == n79
    last = _get(env, "/collections/parties/items", "off79", limit=5, offset=n79 - 2).json()
    assert last["numberMatched"] == n79 and len(last["features"]) == 2
    assert _get(env, "/collections/parties/items", "off01", limit=1000).json()["numberMatched"] == \
        len(expected_parties("01"))
    rights = _all(env, "rights", "off79", limit=50)
    assert rights and {f["properties"]["province_code"] for f in rights} == {"79"}
    certs = _all(env, "certificates", "off79", limit=50)
    assert certs and {f["properties"]["province_code"] for f in certs} == {"79"}
    # every item of province 01, asked by id, does not exist for this officer
    theirs = _all(env, "parties", "off01", limit=100)
    assert {f["properties"]["full_name"] for f in theirs} == expected_parties("01")
    for f in theirs[:5]:
        r = _get(env, f"/collections/parties/items/{f['id']}", "off79")
        assert r.status_code == 404 and "Hà Nội" not in r.text
    for f in _all(env, "rights", "off01")[:3]:
        assert _get(env, f"/collections/rights/items/{f['id']}", "off79").status_code == 404
    # filters cannot reach across: CQL2 and property filters on the other province's values
    r = _get(env, "/collections/parties/items", "off79", filter="province_code = '01'")
    assert r.status_code == 200 and r.json()["numberMatched"] == 0 and r.json()["features"] == []
    assert _get(env, "/collections/rights/items", "off79", commune_code="00004").json()["numberMatched"] == 0


def test_commune_officer_sees_its_commune_only(env):
    names = {f["properties"]["full_name"] for f in _all(env, "parties", "off26740", limit=100)}
    assert names == expected_parties("79", "26740")
    assert {f["properties"]["commune_code"] for f in _all(env, "rights", "off26740")} == {"26740"}
    # pages of 3 walk the party-commune links in id order (the scope hint); numberMatched from the first page
    feats = _all(env, "parties", "off26740", limit=3)
    assert [f["id"] for f in feats] == sorted(f["id"] for f in feats)
    assert {f["properties"]["full_name"] for f in feats} == expected_parties("79", "26740")
    first = _get(env, "/collections/parties/items", "off26740", limit=3).json()
    assert first["numberMatched"] == len(expected_parties("79", "26740"))


def test_officer_of_two_communes_counts_what_it_sees(env):
    """Two communes of two provinces: a party may be seen through either, so its count is not a sum of per-code
    counts — the parties' first page does not say it, the next page counts; rights and certificates sum exactly."""
    want = expected_parties("79", "26740") | expected_parties("01", "00004")
    feats = _all(env, "parties", "off2communes", limit=5)
    assert {f["properties"]["full_name"] for f in feats} == want and len(feats) == len(want)
    first = _get(env, "/collections/parties/items", "off2communes", limit=5).json()
    assert "numberMatched" not in first and "numberMatchedEstimate" not in first
    page2 = requests.get(next(x["href"] for x in first["links"] if x["rel"] == "next"), timeout=30,
                         headers={"Authorization": f"Bearer {env['tokens']['off2communes']}"}).json()
    assert page2["numberMatched"] == len(want)
    for coll in ("rights", "certificates"):
        every = _all(env, coll, "off2communes", limit=100)
        assert {f["properties"]["commune_code"] for f in every} == {"26740", "00004"}
        assert _get(env, f"/collections/{coll}/items", "off2communes", limit=2).json()["numberMatched"] == len(every)


def test_officer_follows_parcel_to_rights_to_parties(env):
    parcel = _get(env, "/collections/parcels/items", "off79", commune_code="26737", parcel_number="10").json()
    pid = parcel["features"][0]["id"]
    assert set(parcel["features"][0]["properties"]) & {"full_name", "party_id", "owner"} == set()
    item = _get(env, f"/collections/parcels/items/{pid}", "off79").json()
    link = next(x["href"] for x in item["links"] if x["rel"] == "related" and "/collections/rights/items" in x["href"])
    rights = requests.get(link, params={"f": "json"}, headers={"Authorization": f"Bearer {env['tokens']['off79']}"},
                          timeout=30).json()["features"]
    assert len(rights) == 2 and {r["properties"]["share"] for r in rights} == {0.5}
    owners = set()
    for right in rights:
        one = _get(env, f"/collections/rights/items/{right['id']}", "off79").json()
        href = next(x["href"] for x in one["links"] if "/collections/parties/items/" in x["href"])
        party = requests.get(href, params={"f": "json"}, timeout=30,
                             headers={"Authorization": f"Bearer {env['tokens']['off79']}"}).json()
        owners.add(party["properties"]["full_name"])
    assert owners == {name_of("79", "26737", 10), name_of("79", "26737", 10, True)}


def test_cql2_paging_sorting_crs_on_the_register(env):
    # no geometry: the register's collections offer CRS84 only (a projected CRS is a clear 400)
    r = _get(env, "/collections/parties/items", "off79", limit=1, crs="http://www.opengis.net/def/crs/EPSG/0/9210")
    assert r.status_code == 400 and "CRS84" in r.json()["description"]
    r = _get(env, "/collections/parties/items", "off79", filter="full_name LIKE '%26740-%'", sortby="-full_name",
             limit=3, crs="http://www.opengis.net/def/crs/OGC/1.3/CRS84")
    assert r.status_code == 200, r.text
    body = r.json()
    assert "numberMatched" not in body and "numberMatchedEstimate" not in body  # counted on the next page
    names = [f["properties"]["full_name"] for f in body["features"]]
    assert names == sorted(names, reverse=True) and len(names) == 3
    nxt = next(x["href"] for x in body["links"] if x["rel"] == "next")
    assert "cursor" in parse_qs(urlsplit(nxt).query)
    page2 = requests.get(nxt, headers={"Authorization": f"Bearer {env['tokens']['off79']}"}, timeout=30).json()
    assert not {f["properties"]["full_name"] for f in page2["features"]} & set(names)
    assert page2["numberMatched"] == len(expected_parties("79", "26740"))
    post = requests.post(f"{env['base']}/collections/rights/items", timeout=30,
                         headers={"Authorization": f"Bearer {env['tokens']['off79']}",
                                  "Content-Type": "application/query-cql-json"},
                         data=json.dumps({"op": "=", "args": [{"property": "share"}, 0.5]}))
    assert post.status_code == 200 and {f["properties"]["share"] for f in post.json()["features"]} == {0.5}
    assert _get(env, "/collections/rights/items", "off79", datetime="../..").status_code == 200
    assert _get(env, "/collections/parties/items", "off79", filter="nope = 1").status_code == 400


def test_html_pages_of_the_register_follow_the_scope(env):
    r = _get(env, "/collections/parties/items", "off79", f="html", limit=100)
    assert r.status_code == 200
    assert '"P26737-1"' in r.text and "P00004-" not in r.text  # party codes of 79, none of 01
    listed = {c["id"] for c in _get(env, "/collections", "off79").json()["collections"]}
    assert set(REGISTER) <= listed


def test_admin_reads_everything(env):
    names = {f["properties"]["full_name"] for f in _all(env, "parties", "admin", limit=1000)}
    assert names == expected_parties()


# ---------------------------------------------------------------- bad credentials

def _jwt(keys, key="good", kid="k1", alg="RS256", **claims) -> str:
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u-1", "preferred_username": "nguyen.sso",
               "iat": now, "exp": now + 600, "landgeo_role": "officer", "landgeo_provinces": ["79"], **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, keys[key], algorithm=alg, headers={"kid": kid})


def _none_jwt() -> str:
    import base64

    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    now = int(time.time())
    return b64({"alg": "none", "typ": "JWT", "kid": "k1"}) + "." + b64(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 600, "landgeo_role": "admin"}) + "."


def test_jwt_of_the_issuer_is_accepted(env, keys):
    r = _get(env, "/collections/parties/items", headers={"Authorization": f"Bearer {_jwt(keys)}"}, limit=100)
    assert r.status_code == 200, r.text
    assert {f["properties"]["full_name"] for f in r.json()["features"]} == expected_parties("79")
    commune = _jwt(keys, landgeo_provinces=None, landgeo_communes="26740")
    r = _get(env, "/collections/parties/items", headers={"Authorization": f"Bearer {commune}"}, limit=100)
    assert {f["properties"]["full_name"] for f in r.json()["features"]} == expected_parties("79", "26740")


@pytest.mark.parametrize("case", [
    "malformed", "scheme", "empty", "garbage", "unknown-token", "revoked", "expired-token", "url-token",
    "jwt-expired", "jwt-signature", "jwt-issuer", "jwt-audience", "jwt-none", "jwt-kid", "jwt-hs256",
    "jwt-province-99", "jwt-no-role",
])
def test_bad_credentials_are_401(env, keys, case):
    if case in ("revoked",):
        assert _cli(env["db"], "users", "revoke", "leaver").returncode in (0, 2)
    now = int(time.time())
    secret_hs = jwt.encode({"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "exp": now + 600, "landgeo_role": "admin"},
                           "k" * 32, algorithm="HS256", headers={"kid": "k1"})
    header = {
        "malformed": "Bearer",
        "scheme": f"Basic {env['tokens']['off79']}",
        "empty": "Bearer    ",
        "garbage": "Bearer not a token",
        "unknown-token": "Bearer lgt_" + "A" * 43,
        "revoked": f"Bearer {env['tokens']['leaver']}",
        "expired-token": f"Bearer {env['tokens']['expired']}",
        "url-token": None,
        "jwt-expired": f"Bearer {_jwt(keys, exp=now - 3600, iat=now - 7200)}",
        "jwt-signature": f"Bearer {_jwt(keys, key='other')}",
        "jwt-issuer": f"Bearer {_jwt(keys, iss='https://evil.example/realms/x')}",
        "jwt-audience": f"Bearer {_jwt(keys, aud='another-api')}",
        "jwt-none": f"Bearer {_none_jwt()}",
        "jwt-kid": f"Bearer {_jwt(keys, key='other', kid='k9')}",
        "jwt-hs256": f"Bearer {secret_hs}",
        "jwt-province-99": f"Bearer {_jwt(keys, landgeo_provinces=['99'])}",
        "jwt-no-role": f"Bearer {_jwt(keys, landgeo_role=None)}",
    }[case]
    params = {"access_token": env["tokens"]["off79"]} if case == "url-token" else {}
    for path in ("/collections/parties/items", "/collections/parcels/items"):
        r = requests.get(f"{env['base']}{path}", params={"f": "json", **params}, timeout=30,
                         headers={"Authorization": header} if header else {})
        assert r.status_code == 401, (case, path, r.text)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        body = r.json()
        assert body["code"] == "Unauthorized" and "\n" not in body["description"]
        assert "features" not in body and "Người" not in r.text


# ---------------------------------------------------------------- accountability

def test_reads_are_audited_and_logs_hold_no_secrets(env, keys):
    r = _get(env, "/collections/parties/items", "off79", full_name=SECRET_QUERY_NAME)
    assert r.status_code == 200 and r.json()["numberMatched"] == 1
    read_id = r.json()["features"][0]["id"]
    _get(env, "/collections/parties/items", headers={"Authorization": f"Bearer {_jwt(keys)}"}, limit=2)
    done = _cli(env["db"], "audit", "--user", "off79", "--collection", "parties", "--json", "--limit", "1000")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert any(e["action"] == "read" and read_id in e["item_ids"] for e in events)
    assert all(e["actor"] == "off79" and e["collection"] == "parties" for e in events)
    sso = _cli(env["db"], "audit", "--user", "oidc:nguyen.sso", "--json").stdout
    assert '"auth": "jwt"' in sso
    time.sleep(1.5)  # gunicorn writes the access log line after the response
    log = env["log"].read_text()
    assert "/collections/parties/items" in log
    for token in env["tokens"].values():
        assert token not in log
    assert "Bearer" not in log and "Sài Gòn" not in log and "S%C3%A0i" not in log
    assert "\"full_name\": \"[redacted]\"" in log  # the JSON access log (landgeo.api.ops) masks the register's values


def test_revocation_is_immediate_for_the_register(env):
    done = _cli(env["db"], "users", "add", "short-lived", "--role", "officer", "--province", "79")
    token = done.stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    url = f"{env['base']}/collections/parties/items"
    for _ in range(4):  # both workers have seen (and remembered) the token
        assert requests.get(url, params={"f": "json"}, headers=headers, timeout=30).status_code == 200
    assert _cli(env["db"], "users", "revoke", "short-lived").returncode == 0
    for _ in range(4):
        r = requests.get(url, params={"f": "json"}, headers=headers, timeout=30)
        assert r.status_code == 401 and "features" not in r.text, r.text
        assert requests.get(f"{url}/1", params={"f": "json"}, headers=headers, timeout=30).status_code == 401
        assert requests.get(f"{env['base']}/collections/parcels/items", params={"f": "json"}, headers=headers,
                            timeout=30).status_code == 401


def test_remembered_tokens_are_forgotten_when_a_user_changes(env):
    """A public request trusts a token it resolved before (no look-up per request) only until a user or token
    changes: a revocation by any means — plain SQL here, not the CLI — notifies every server process (migration
    0240), and the next request is refused; a token that expires is not remembered past its expiry."""
    done = _cli(env["db"], "users", "add", "sql-leaver", "--role", "analyst")
    headers = {"Authorization": f"Bearer {done.stdout.strip().splitlines()[-1]}"}
    url = f"{env['base']}/collections/parcels/items"
    for _ in range(6):  # both workers resolve (and remember) the token
        assert requests.get(url, params={"f": "json", "limit": 1}, headers=headers, timeout=30).status_code == 200
    with psycopg.connect(env["db"]) as conn:
        conn.execute("UPDATE access.app_user SET revoked_at = now(), revoked_by = 'test' WHERE name = 'sql-leaver'")
    time.sleep(0.3)  # the notification is delivered when the revoking transaction commits
    for _ in range(6):
        r = requests.get(url, params={"f": "json", "limit": 1}, headers=headers, timeout=30)
        assert r.status_code == 401 and "features" not in r.text, r.text
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=6)
    done = _cli(env["db"], "users", "add", "short-token", "--role", "analyst", "--expires", expires.isoformat())
    assert done.returncode == 0, done.stderr
    headers = {"Authorization": f"Bearer {done.stdout.strip().splitlines()[-1]}"}
    for _ in range(4):
        assert requests.get(url, params={"f": "json", "limit": 1}, headers=headers, timeout=30).status_code == 200
    time.sleep(max(0.0, (expires - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)
    for _ in range(4):
        assert requests.get(url, params={"f": "json", "limit": 1}, headers=headers, timeout=30).status_code == 401


def test_a_page_and_its_audit_row_are_one_statement(env):
    """The audit row of a page is written by the page's own statement: its ids are exactly the features returned
    (not the look-ahead row that tells whether a next page exists), on first and next pages; a page refused for
    a bad value or a revoked token leaves no row."""
    def events() -> list[tuple]:
        with psycopg.connect(env["db"]) as conn:
            return conn.execute("SELECT item_ids, detail FROM access.audit_event WHERE actor = 'audit-pages' "
                                "AND action = 'read' ORDER BY id").fetchall()

    done = _cli(env["db"], "users", "add", "audit-pages", "--role", "officer", "--province", "79")
    headers = {"Authorization": f"Bearer {done.stdout.strip().splitlines()[-1]}"}
    url = f"{env['base']}/collections/rights/items"
    first = requests.get(url, params={"f": "json", "limit": 3}, headers=headers, timeout=30).json()
    nxt = next(x["href"] for x in first["links"] if x["rel"] == "next")
    second = requests.get(nxt, headers=headers, timeout=30).json()
    rows = events()
    assert [r[0] for r in rows] == [[f["id"] for f in first["features"]], [f["id"] for f in second["features"]]]
    assert len(rows[0][0]) == 3 and rows[1][1].get("page") == "next"
    bad = requests.get(url, params={"f": "json", "share": "lots"}, headers=headers, timeout=30)
    assert bad.status_code == 400, bad.text
    assert _cli(env["db"], "users", "revoke", "audit-pages").returncode == 0
    r = requests.get(url, params={"f": "json", "limit": 3}, headers=headers, timeout=30)
    assert r.status_code == 401 and "features" not in r.text
    assert len(events()) == 2


def test_first_page_count_is_read_by_the_page_statement(env):
    """Rule 4's numberMatched of a first page is read by the page's own statement (one column more, no statement
    more): exact with rows, 0 for a scope without rows (an empty page carries no row, and needs none), and for an
    officer whose parties are not a sum of per-code counts it is left to the next page, as before."""
    done = _cli(env["db"], "users", "add", "empty-commune", "--role", "officer", "--commune", "26734")
    assert done.returncode == 0, done.stderr
    headers = {"Authorization": f"Bearer {done.stdout.strip().splitlines()[-1]}"}
    for coll in REGISTER:
        body = requests.get(f"{env['base']}/collections/{coll}/items", params={"f": "json", "limit": 5},
                            headers=headers, timeout=30).json()
        assert body["features"] == [] and body["numberMatched"] == 0, (coll, body)
    with psycopg.connect(env["db"]) as conn:  # the empty pages are audited too
        assert conn.execute("SELECT count(*) FROM access.audit_event WHERE actor = 'empty-commune' "
                            "AND action = 'read' AND item_ids = '{}'").fetchone()[0] == len(REGISTER)
    n = len(expected_parties("79", "26740"))
    for limit in (1, n - 1, n, n + 1):  # a page shorter than, as long as and longer than the scope
        body = _get(env, "/collections/parties/items", "off26740", limit=limit).json()
        assert body["numberMatched"] == n and len(body["features"]) == min(limit, n), limit
    assert "numberMatched" not in _get(env, "/collections/parties/items", "off2communes", limit=1).json()
