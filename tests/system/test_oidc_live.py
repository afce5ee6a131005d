"""The OpenID Connect provider against a LIVE `authz serve` (gunicorn, two workers), driven by a real
relying-party library: Authlib's OAuth2Session (requests) as the tax system's back end, a
requests.Session holding the portal cookie as the browser (issue 12). Expiry, which needs a moving
clock, is tested in process (tests/api/test_oidc.py::test_expired_code_is_refused)."""
from __future__ import annotations

import secrets
import subprocess
import sys
import time

import pytest
import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session

from authz.clock import FrozenClock
from tests.login_support import settings  # noqa: F401 - cheap argon2 for the test's own writes
from tests.oidc_support import REDIRECT, person_and_identity, portal_session, register, verify_id_token
from tests.system.serving import ROOT, Instance, service_env

pytestmark = pytest.mark.slow
SCOPE = "openid profile identity"


@pytest.fixture
def clock():
    """Real time, held still: the live server runs on the wall clock, so the sessions made here must too."""
    return FrozenClock(time.time())


@pytest.fixture
def server(svc, db_url, tmp_path):
    env = service_env(db_url, AUTHZ_CHANGE_POLL_MS="50")
    inst = Instance(env, tmp_path / "serve.log")
    inst.env = env
    yield inst
    inst.stop()


@pytest.fixture
def world(svc, directory, server):
    person, binding, ident = person_and_identity(svc, directory)
    raw, row = portal_session(svc, person, ident)
    _, secret = register(svc)
    browser = requests.Session()
    browser.cookies.set("authz_session", raw, domain="127.0.0.1", path="/")
    meta = requests.get(server.base + "/.well-known/openid-configuration", timeout=10).json()
    return {"raw": raw, "row": row, "secret": secret, "browser": browser, "meta": meta, "base": server.base}


def rp_client(world) -> OAuth2Session:
    return OAuth2Session("decl", world["secret"], scope=SCOPE, redirect_uri=REDIRECT, code_challenge_method="S256",
                         token_endpoint_auth_method="client_secret_basic")


def login_round(world, client: OAuth2Session | None = None, *, redirect_uri: str = REDIRECT):
    """The relying party sends the browser to authorize; returns (client, verifier, nonce, the answer)."""
    client = client or rp_client(world)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, _state = client.create_authorization_url(world["meta"]["authorization_endpoint"], code_verifier=verifier,
                                                  nonce=nonce, redirect_uri=redirect_uri)
    answer = world["browser"].get(url, allow_redirects=False, timeout=10)
    return client, verifier, nonce, answer


def fetch(world, client, verifier, answer):
    return client.fetch_token(world["meta"]["token_endpoint"], authorization_response=answer.headers["Location"],
                              code_verifier=verifier)


def jwks(world) -> dict:
    return requests.get(world["meta"]["jwks_uri"], timeout=10).json()


def test_code_pkce_happy_path_verified_by_authlib_client(world):
    """OpenID Connect Core 3.1, RFC 7636, RFC 9207: Authlib's client gets the code (state checked, iss
    present), exchanges it with the PKCE verifier, and verifies the ID token against JWKS: signature,
    iss, aud, exp, nonce, at_hash."""
    client, verifier, nonce, answer = login_round(world)
    assert answer.status_code == 302 and "iss=" in answer.headers["Location"]
    token = fetch(world, client, verifier, answer)
    claims = verify_id_token(token["id_token"], jwks(world), issuer=world["meta"]["issuer"], client_id="decl",
                             nonce=nonce, access_token=token["access_token"])
    assert claims["sub"] == "p-sso" and claims["sid"] == world["row"].handle and claims["acr"] == "rn4"
    info = client.get(world["meta"]["userinfo_endpoint"], timeout=10).json()
    assert info["sub"] == "p-sso" and info["identity"]["identity_type"] == "tax_officer"


def test_wrong_redirect_uri_refused_by_the_live_server(world):
    """RFC 9700 §4.1.3: an unregistered redirect URI gets 400 and no redirect."""
    _, _, _, answer = login_round(world, redirect_uri="https://evil.example/callback")
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_replayed_code_refused_and_its_tokens_revoked(world):
    """RFC 6749 §4.1.2, RFC 9700 §4.5: the second exchange of a code fails (any worker) and the tokens
    of the first become inactive."""
    client, verifier, _, answer = login_round(world)
    first = fetch(world, client, verifier, answer)
    with pytest.raises(OAuthError) as err:
        fetch(world, rp_client(world), verifier, answer)
    assert err.value.error == "invalid_grant"
    r = client.introspect_token(world["meta"]["introspection_endpoint"], token=first["access_token"])
    assert r.json() == {"active": False}


def test_wrong_verifier_refused(world):
    """RFC 7636 §4.6: the live token endpoint refuses a verifier that does not match the challenge."""
    client, _, _, answer = login_round(world)
    with pytest.raises(OAuthError) as err:
        fetch(world, client, secrets.token_urlsafe(48), answer)
    assert err.value.error == "invalid_grant"


def test_refresh_after_portal_logout_refused_and_introspection_inactive(world):
    """RFC 9700 §4.14.2 + issue 12: after the person logs out of the portal (POST /api/v1/auth/logout),
    the relying party's refresh is refused and introspection says inactive."""
    client, verifier, _, answer = login_round(world)
    token = fetch(world, client, verifier, answer)
    assert client.introspect_token(world["meta"]["introspection_endpoint"],
                                   token=token["access_token"]).json()["active"] is True
    refreshed = client.refresh_token(world["meta"]["token_endpoint"], refresh_token=token["refresh_token"])
    r = requests.post(world["base"] + "/api/v1/auth/logout", headers={"Authorization": "Bearer " + world["raw"]},
                      timeout=10)
    assert r.status_code in (200, 204), r.text
    with pytest.raises(OAuthError) as err:
        client.refresh_token(world["meta"]["token_endpoint"], refresh_token=refreshed["refresh_token"])
    assert err.value.error == "invalid_grant"
    for t in (token["access_token"], refreshed["access_token"]):
        assert client.introspect_token(world["meta"]["introspection_endpoint"], token=t).json() == {"active": False}


def test_key_rotation_mid_session(world, server):
    """Issue 12: `authz oidc keys rotate` while the person is logged in: the new key is published first;
    ID tokens of the old key still verify against the JWKS; once it signs, new tokens carry its kid."""
    client, verifier, nonce, answer = login_round(world)
    old = fetch(world, client, verifier, answer)
    old_kid = verify_id_token(old["id_token"], jwks(world), issuer=world["meta"]["issuer"], client_id="decl",
                              nonce=nonce, access_token=old["access_token"])["_kid"]
    out = subprocess.run([sys.executable, "-m", "authz.cli", "oidc", "keys", "rotate", "--lead-seconds", "2"],
                         cwd=ROOT, env=server.env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert len(jwks(world)["keys"]) == 2  # published before it signs
    c2, v2, n2, a2 = login_round(world)
    early = fetch(world, c2, v2, a2)
    assert verify_id_token(early["id_token"], jwks(world), issuer=world["meta"]["issuer"], client_id="decl",
                           nonce=n2, access_token=early["access_token"])["_kid"] == old_kid
    time.sleep(2.2)
    c3, v3, n3, a3 = login_round(world)
    new = fetch(world, c3, v3, a3)
    keyset = jwks(world)
    new_kid = verify_id_token(new["id_token"], keyset, issuer=world["meta"]["issuer"], client_id="decl",
                              nonce=n3, access_token=new["access_token"])["_kid"]
    assert new_kid != old_kid
    verify_id_token(old["id_token"], keyset, issuer=world["meta"]["issuer"], client_id="decl", nonce=nonce,
                    access_token=old["access_token"])  # the old key's tokens still verify
    refreshed = client.refresh_token(world["meta"]["token_endpoint"], refresh_token=old["refresh_token"])
    assert refreshed["access_token"]  # the grant made before the rotation lives on
