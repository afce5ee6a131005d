"""The OpenID Connect provider in process (issue 12), where the service clock (a FrozenClock) can move:
code expiry, refresh after session end, identity switch and password change, key rotation timing.
The same protocol against a live gunicorn with Authlib's client is tests/system/test_oidc_live.py.
Each test names the rule (RFC 6749, RFC 7636, RFC 7662, RFC 7009, RFC 9700, OpenID Connect Core) it proves."""
from __future__ import annotations

import base64

import pytest
from flask.testing import FlaskClient

from authz import sessions
from authz.models import LoginSession, Person
from authz.oidc import keys
from authz.ports import ports_of
from tests.binding_support import move
from tests.login_support import settings  # noqa: F401 - cheap argon2
from tests.oidc_support import (LOGOUT_BACK, REDIRECT, RP, USCC, error_of, person_and_identity, portal_session,
                                register, verify_id_token)

ISS = "http://localhost"


@pytest.fixture
def world(svc, directory):
    person, binding, ident = person_and_identity(svc, directory)
    raw, row = portal_session(svc, person, ident)
    _, secret = register(svc)
    return {"person": person, "binding": binding, "ident": ident, "raw": raw, "row": row, "secret": secret}


@pytest.fixture
def browser(app, world):
    c = app.test_client()
    c.set_cookie("authz_session", world["raw"])
    return c


@pytest.fixture
def rp(app):
    """The relying party's back channel: a plain HTTP client (no cookies, no browser headers)."""
    return FlaskClient(app)


def basic(secret, client_id="decl"):
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def authorize(browser, req: RP, **override):
    return browser.get(req.url(**override))


def code_for(browser, req: RP) -> str:
    r = authorize(browser, req)
    assert r.status_code == 302, r.get_data(as_text=True)
    return req.code_from(r.headers["Location"])


def exchange(rp, world, req: RP, code: str, verifier: str | None = None):
    return rp.post("/oauth/token", data=req.token_form(code, verifier), headers=basic(world["secret"]))


def tokens(browser, rp, world, req: RP | None = None) -> dict:
    req = req or RP()
    r = exchange(rp, world, req, code_for(browser, req))
    assert r.status_code == 200, r.get_json()
    return r.get_json() | {"_req": req}


def introspect(rp, world, token: str) -> dict:
    return rp.post("/oauth/introspect", data={"token": token}, headers=basic(world["secret"])).get_json()


def refresh(rp, world, refresh_token: str):
    return rp.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                   headers=basic(world["secret"]))


# ---- discovery and the happy path
def test_discovery_names_every_endpoint_and_only_S256(client):
    """OpenID Connect Discovery 1.0 / RFC 8414; RFC 9700 §2.1.1: PKCE S256 only (no plain);
    RFC 9207: iss in authorization responses."""
    meta = client.get("/.well-known/openid-configuration").get_json()
    assert meta["issuer"] == ISS and meta["jwks_uri"] == ISS + "/oauth/jwks"
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["response_types_supported"] == ["code"]  # no implicit, no hybrid (RFC 9700 §2.1.2)
    assert meta["authorization_response_iss_parameter_supported"] is True
    assert {"ES256", "RS256"} <= set(meta["id_token_signing_alg_values_supported"])


def test_code_pkce_happy_path_id_token_verified_against_jwks(svc, browser, rp, world, client):
    """OpenID Connect Core 3.1 with RFC 7636: the client verifies the ID token's signature against JWKS,
    iss, aud, exp, nonce and at_hash; claims: sub, sid, acr (real-name level), amr, current identity
    with the USCC masked (R-MASK-1) without the identity.uscc scope."""
    t = tokens(browser, rp, world)
    assert t["access_token"].startswith("azat_") and t["refresh_token"].startswith("azrt_")
    claims = verify_id_token(t["id_token"], client.get("/oauth/jwks").get_json(), issuer=ISS, client_id="decl",
                             nonce=t["_req"].nonce, access_token=t["access_token"], now=svc.clock.time())
    assert claims["sub"] == "p-sso" and claims["sid"] == world["row"].handle
    assert claims["acr"] == "rn4" and claims["amr"] == ["pwd", "sms", "mfa"]
    assert claims["identity"]["identity_type"] == "tax_officer" and claims["identity"]["entry"] == "enterprise"
    assert claims["identity"]["uscc"] != USCC and claims["identity"]["uscc"].endswith(USCC[-4:])
    assert USCC not in str(claims) and claims["name"] == "*五"
    info = rp.get("/oauth/userinfo", headers={"Authorization": "Bearer " + t["access_token"]}).get_json()
    assert info["sub"] == "p-sso" and info["identity"] == claims["identity"]


def test_full_uscc_only_with_the_identity_uscc_scope(svc, browser, rp, world, client):
    """Issue 12: the USCC is masked unless the client's scope allows the full one."""
    _, secret = register(svc, "invoice", scopes=("openid", "identity", "identity.uscc"))
    req = RP(client_id="invoice", scope="openid identity.uscc")
    code = code_for(browser, req)
    t = rp.post("/oauth/token", data=req.token_form(code), headers=basic(secret, "invoice")).get_json()
    claims = verify_id_token(t["id_token"], client.get("/oauth/jwks").get_json(), issuer=ISS, client_id="invoice",
                             nonce=req.nonce, access_token=t["access_token"], now=svc.clock.time())
    assert claims["identity"]["uscc"] == USCC and claims["identity"]["domain"] == f"ent:{USCC}"
    r = browser.get(RP(scope="openid identity.uscc").url())  # "decl" may not ask for it
    assert error_of(r.headers["Location"])["error"] == "invalid_scope"


def test_no_portal_session_redirects_to_the_front_end_login_page(app, world):
    """Issue 12: the login step is the web front end's page, /login?return_to=<this authorize URL>."""
    r = app.test_client().get(RP().url())
    assert r.status_code == 302
    loc = r.headers["Location"]
    assert loc.startswith("/login?return_to=%2Foauth%2Fauthorize%3F")


# ---- RFC 9700 / RFC 6749 refusals
def test_wrong_redirect_uri_is_refused_without_redirecting(browser, world):
    """RFC 9700 §4.1.3, RFC 6749 §4.1.2.1: an unregistered redirect URI (even a prefix match) gets an
    error page, never a redirect to it."""
    for uri in ("https://evil.example/cb", REDIRECT + "/../x", REDIRECT + "?a=1", REDIRECT.upper()):
        r = authorize(browser, RP(redirect_uri=uri))
        assert r.status_code == 400 and "Location" not in r.headers, uri


def test_replayed_code_is_refused_and_revokes_what_it_issued(browser, rp, world):
    """RFC 6749 §4.1.2, RFC 9700 §4.5: a code is used once; a second use is refused and the tokens
    the first use issued are revoked (introspection inactive, refresh refused)."""
    req = RP()
    code = code_for(browser, req)
    first = exchange(rp, world, req, code).get_json()
    assert introspect(rp, world, first["access_token"])["active"] is True
    again = exchange(rp, world, req, code)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    assert introspect(rp, world, first["access_token"]) == {"active": False}
    assert refresh(rp, world, first["refresh_token"]).status_code == 400


def test_wrong_pkce_verifier_is_refused(browser, rp, world):
    """RFC 7636 §4.6: a verifier that does not hash to the challenge gets invalid_grant."""
    req = RP()
    r = exchange(rp, world, req, code_for(browser, req), verifier="x" * 50)
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_grant"


def test_pkce_is_required_and_plain_refused(browser, world):
    """RFC 9700 §2.1.1: every client sends an S256 challenge; none, or plain, is an error to the client."""
    for override in ({"code_challenge": None, "code_challenge_method": None}, {"code_challenge_method": "plain"}):
        r = authorize(browser, RP(), **override)
        assert r.status_code == 302 and error_of(r.headers["Location"])["error"] == "invalid_request", override


def test_expired_code_is_refused(svc, browser, rp, world):
    """RFC 6749 §4.1.2 / RFC 9700 §4.5: a code lives AUTHZ_OIDC_CODE_SECONDS (60 s), by the service clock."""
    req = RP()
    code = code_for(browser, req)
    svc.clock.advance(svc.settings.oidc_code_seconds + 1)
    r = exchange(rp, world, req, code)
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_grant"


def test_code_is_bound_to_its_client(svc, browser, rp, world):
    """RFC 6749 §4.1.3: a code issued to one client is refused for another (the other's secret)."""
    _, other = register(svc, "other")
    req = RP()
    code = code_for(browser, req)
    r = rp.post("/oauth/token", data=req.token_form(code), headers=basic(other, "other"))
    assert r.status_code == 400 and r.get_json()["error"] == "invalid_grant"


def test_public_client_uses_pkce_without_secret(svc, browser, rp, world):
    """RFC 9700 §2.1.1: a public client authenticates nothing but the PKCE verifier (auth method none)."""
    register(svc, "app", public=True)
    req = RP(client_id="app")
    code = code_for(browser, req)
    r = rp.post("/oauth/token", data=req.token_form(code) | {"client_id": "app"})
    assert r.status_code == 200 and r.get_json()["access_token"]


# ---- refresh tokens bound to the portal session
def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_grant(browser, rp, world):
    """RFC 9700 §4.14.2: refresh tokens rotate; presenting a used one revokes the whole grant."""
    t = tokens(browser, rp, world)
    r = refresh(rp, world, t["refresh_token"])
    assert r.status_code == 200
    new = r.get_json()
    assert new["refresh_token"] != t["refresh_token"]
    assert refresh(rp, world, t["refresh_token"]).status_code == 400
    assert introspect(rp, world, new["access_token"]) == {"active": False}
    assert refresh(rp, world, new["refresh_token"]).status_code == 400


def test_refresh_after_portal_logout_is_refused_and_introspection_inactive(svc, browser, rp, world):
    """RFC 9700 §4.14.2 (refresh bound to the session), issue 12: logout in the portal ends the grant."""
    t = tokens(browser, rp, world)
    sessions.end(svc, world["row"], sessions.EndReason.LOGOUT)
    assert refresh(rp, world, t["refresh_token"]).get_json()["error"] == "invalid_grant"
    assert introspect(rp, world, t["access_token"]) == {"active": False}
    assert rp.get("/oauth/userinfo", headers={"Authorization": "Bearer " + t["access_token"]}).status_code == 401


def test_identity_switch_ends_the_grant(svc, browser, rp, world):
    """Issue 12: a new identity needs a new grant; the switch rotates the session (R-SW), the old grant dies."""
    t = tokens(browser, rp, world)
    personal = sessions.Identity(sessions.Entry.PERSONAL, f"person:{world['person'].uid}", "self")
    sessions.rotate(svc, LoginSession.get_by_id(world["row"].id), personal)
    assert refresh(rp, world, t["refresh_token"]).status_code == 400
    assert introspect(rp, world, t["access_token"]) == {"active": False}


def test_password_change_ends_the_grant_even_though_the_session_survives(svc, browser, rp, world):
    """Issue 12: a password change (which keeps the changing session, authz/flows/password_change) ends
    every grant made under the old password."""
    t = tokens(browser, rp, world)
    Person.update(password_hash=ports_of(svc).hasher.hash("Neu@2026pass")).where(
        Person.id == world["person"].id).execute()
    sessions.resolve(svc, world["raw"])  # the portal session itself is still live
    assert refresh(rp, world, t["refresh_token"]).status_code == 400
    assert introspect(rp, world, t["access_token"]) == {"active": False}


def test_staff_deletion_makes_introspection_inactive(svc, browser, rp, world):
    """Issue 12, R-BIND: the enterprise deletes the staff binding; the identity is no longer given, so
    introspection answers inactive at once."""
    t = tokens(browser, rp, world)
    move(svc, world["binding"], "deleted")
    assert introspect(rp, world, t["access_token"]) == {"active": False}


def test_idle_portal_session_ends_the_grant_and_refresh_does_not_keep_it_alive(svc, browser, rp, world):
    """R-LOGIN-13 with issue 12: a relying party's refresh is not the person's activity (like the check
    API), so the portal's idle timeout ends its grant too."""
    t = tokens(browser, rp, world)
    svc.clock.advance(minutes=20)
    r = refresh(rp, world, t["refresh_token"])
    assert r.status_code == 200
    svc.clock.advance(minutes=11)
    assert refresh(rp, world, r.get_json()["refresh_token"]).status_code == 400


def test_introspection_of_another_clients_token_is_inactive(svc, browser, rp, world):
    """RFC 7662 §4: a client learns nothing about tokens it was not issued."""
    t = tokens(browser, rp, world)
    _, other = register(svc, "other")
    r = rp.post("/oauth/introspect", data={"token": t["access_token"]}, headers=basic(other, "other"))
    assert r.get_json() == {"active": False}
    assert rp.post("/oauth/introspect", data={"token": t["access_token"]}).status_code == 401


def test_revoking_the_refresh_token_ends_the_grant(browser, rp, world):
    """RFC 7009 §2.1: revoking a refresh token also invalidates the access tokens of the grant."""
    t = tokens(browser, rp, world)
    r = rp.post("/oauth/revoke", data={"token": t["refresh_token"], "token_type_hint": "refresh_token"},
                headers=basic(world["secret"]))
    assert r.status_code == 200
    assert introspect(rp, world, t["access_token"]) == {"active": False}


# ---- prompt, max_age, acr_values, consent
def test_prompt_login_and_max_age_force_a_fresh_login(svc, browser, world):
    """OpenID Connect Core 3.1.2.1: prompt=login and an exceeded max_age send the person to log in
    again (the return URL drops prompt=login so the fresh login is not asked for again)."""
    r = authorize(browser, RP(), prompt="login")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?return_to=")
    assert "prompt" not in r.headers["Location"] and "max_age%3D900" in r.headers["Location"]
    svc.clock.advance(minutes=5)
    r = authorize(browser, RP(), max_age="60")
    assert r.headers["Location"].startswith("/login?")
    r = authorize(browser, RP(), max_age="3600")
    assert r.headers["Location"].startswith(REDIRECT)
    r = authorize(browser, RP(), prompt="none", max_age="60")
    assert error_of(r.headers["Location"])["error"] == "login_required"


def test_acr_values_above_the_real_name_level_answer_an_error_never_ignored(browser, world):
    """Issue 12, R-RN: acr_values rn5 for a level-4 person is unmet_authentication_requirements; an
    unknown acr value too; rn3 is met."""
    for acr in ("rn5", "gold"):
        r = authorize(browser, RP(), acr_values=acr)
        assert error_of(r.headers["Location"])["error"] == "unmet_authentication_requirements", acr
    assert "code=" in authorize(browser, RP(), acr_values="rn3").headers["Location"]


def test_third_party_client_needs_consent_through_the_front_end(svc, browser, rp, world):
    """Issue 12: a client not marked first-party sends the person to the consent page; after the
    consent API records the grant, the same authorize URL issues a code; prompt=none answers
    consent_required; the page's cancel (consent=denied) is access_denied."""
    _, secret = register(svc, "thirdparty", first_party=False)
    req = RP(client_id="thirdparty", scope="openid identity")
    r = browser.get(req.url())
    assert r.headers["Location"].startswith("/consent?return_to=")
    assert error_of(browser.get(req.url(prompt="none")).headers["Location"])["error"] == "consent_required"
    assert error_of(browser.get(req.url() + "&consent=denied").headers["Location"])["error"] == "access_denied"
    view = browser.get("/api/v1/oidc/consent?client_id=thirdparty&scope=openid+identity").get_json()
    assert view["granted"] is False and [s["scope"] for s in view["scopes"]] == ["openid", "identity"]
    out = browser.post("/api/v1/oidc/consent", json={"client_id": "thirdparty", "scope": "openid identity"})
    assert out.status_code == 200 and out.get_json()["granted"] is True
    assert req.code_from(browser.get(req.url()).headers["Location"])
    forged = browser.post("/api/v1/oidc/consent", json={"client_id": "thirdparty", "scope": "openid"},
                          same_origin=False, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403  # the consent API is an ordinary cookie endpoint: CSRF-protected


def test_pairwise_sub_differs_per_client(svc, browser, rp, world, client):
    """OpenID Connect Core 8.1: a pairwise client gets its own stable sub, not the uid."""
    _, secret = register(svc, "pairwise", pairwise=True)
    req = RP(client_id="pairwise")
    code = code_for(browser, req)
    t = rp.post("/oauth/token", data=req.token_form(code), headers=basic(secret, "pairwise")).get_json()
    claims = verify_id_token(t["id_token"], client.get("/oauth/jwks").get_json(), issuer=ISS, client_id="pairwise",
                             nonce=req.nonce, access_token=t["access_token"], now=svc.clock.time())
    assert claims["sub"].startswith("pw-") and "p-sso" not in t["id_token"]


# ---- logout
def test_rp_initiated_logout_ends_the_session_and_returns_to_the_registered_uri(svc, browser, rp, world):
    """OpenID Connect RP-Initiated Logout 1.0: id_token_hint names the session; the post-logout URI must
    be registered exactly; the session and every token of it end."""
    t = tokens(browser, rp, world)
    bad = browser.get("/oauth/logout?" + f"id_token_hint={t['id_token']}&post_logout_redirect_uri=https://evil.example/")
    assert bad.status_code == 422
    r = browser.get(f"/oauth/logout?id_token_hint={t['id_token']}&post_logout_redirect_uri={LOGOUT_BACK}&state=s1")
    assert r.status_code == 302 and r.headers["Location"] == LOGOUT_BACK + "?state=s1"
    assert LoginSession.get_by_id(world["row"].id).end_reason == "logout"
    assert introspect(rp, world, t["access_token"]) == {"active": False}
    assert browser.get("/oauth/logout?id_token_hint=not.a.token").status_code == 422


# ---- browser protection
def test_token_endpoints_pass_the_browser_guard_but_nothing_else_does(browser, rp, world):
    """docs/login.md: the client-authenticated endpoints accept a cross-site POST (they never read a
    cookie); an account-centre POST with the same foreign origin and the session cookie is still refused."""
    req = RP()
    code = code_for(browser, req)
    r = browser.post("/oauth/token", data=req.token_form(code), same_origin=False,
                     headers=basic(world["secret"]) | {"Origin": "https://decl.example.cn"})
    assert r.status_code == 200
    r = browser.post("/api/v1/auth/logout", same_origin=False, headers={"Origin": "https://decl.example.cn"})
    assert r.status_code == 403 and r.get_json()["code"] == "csrf_failed"


# ---- keys
def test_key_rotation_publishes_before_signing_and_keeps_the_old_key_until_its_tokens_expire(svc, browser, rp,
                                                                                            world, client):
    """Issue 12: a rotated-in key is in JWKS before it signs; tokens signed by the old key still verify
    until they expire; after the lead new tokens carry the new kid; the old key then retires."""
    old = tokens(browser, rp, world)
    old_kid = verify_id_token(old["id_token"], client.get("/oauth/jwks").get_json(), issuer=ISS, client_id="decl",
                              nonce=old["_req"].nonce, access_token=old["access_token"], now=svc.clock.time())["_kid"]
    new = keys.rotate(svc, "ES256", lead_seconds=600)
    jwks = client.get("/oauth/jwks").get_json()
    assert {k["kid"] for k in jwks["keys"]} == {old_kid, new.kid}
    assert keys.signing(svc).kid == old_kid  # published, not yet signing
    svc.clock.advance(601)
    fresh = tokens(browser, rp, world)
    jwks = client.get("/oauth/jwks").get_json()
    assert verify_id_token(fresh["id_token"], jwks, issuer=ISS, client_id="decl", nonce=fresh["_req"].nonce,
                           access_token=fresh["access_token"], now=svc.clock.time())["_kid"] == new.kid
    assert old_kid in {k["kid"] for k in jwks["keys"]}  # its ID tokens may still be in flight
    svc.clock.advance(svc.settings.oidc_id_token_seconds + 1)
    assert {k["kid"] for k in client.get("/oauth/jwks").get_json()["keys"]} == {new.kid}


def test_rs256_key_signs_and_private_halves_never_reach_jwks(svc, client):
    """Issue 12: RS256 available; JWKS carries public parameters only."""
    keys.rotate(svc, "RS256", lead_seconds=0)
    jwks = client.get("/oauth/jwks").get_json()
    assert any(k["kty"] == "RSA" for k in jwks["keys"])
    assert not any(p in k for k in jwks["keys"] for p in ("d", "p", "q", "dp", "dq", "qi"))
    assert "RS256" in repr(keys.signing(svc)) and "d" not in keys.signing(svc).__repr__().split()


def test_return_to_after_a_forced_login_issues_the_code_and_an_unrenewed_session_does_not(svc, app, browser,
                                                                                           world):
    """OpenID Connect Core 3.1.2.1 (prompt=login) with the front-end contract (docs/sso.md): the page
    logs the person in afresh and follows return_to, which issues the code with no second login; had the
    page skipped the login and kept a session older than the login flow's life, return_to asks again."""
    from urllib.parse import parse_qs, urlsplit
    req = RP()
    svc.clock.advance(minutes=16)
    sessions.resolve(svc, world["raw"])  # the person is active; the session is 16 minutes old
    loc = authorize(browser, req, prompt="login").headers["Location"]
    back = parse_qs(urlsplit(loc).query)["return_to"][0]
    assert back.startswith("/oauth/authorize?")
    assert browser.get(back).headers["Location"].startswith("/login?")  # the old session does not do
    raw, _ = portal_session(svc, world["person"], world["ident"])  # the page's fresh login
    fresh = app.test_client()
    fresh.set_cookie("authz_session", raw)
    assert req.code_from(fresh.get(back).headers["Location"])


def test_check_session_accepts_an_access_token_and_follows_its_session(svc, browser, rp, world, client):
    """Issue 12: the session check endpoint accepts a relying party's access token as well as a session
    id, decides for the session's current identity, and answers expired once the portal session ended."""
    from authz import clients as service_clients
    key = {"Authorization": "Bearer " + service_clients.create("declaration-api", scopes="check")[1]}
    t = tokens(browser, rp, world)
    body = {"session": t["access_token"], "object": "biz.query", "action": "use"}
    out = rp.post("/api/v1/check/session", json=body, headers=key).get_json()
    assert out["allowed"] is True and out["session_status"] == "active" and out["identity_type"] == "tax_officer"
    assert out["domain"] == f"ent:{USCC}"
    sessions.end(svc, world["row"], sessions.EndReason.LOGOUT)
    out = rp.post("/api/v1/check/session", json=body, headers=key).get_json()
    assert out["allowed"] is False and out["session_status"] == "expired"
    out = rp.post("/api/v1/check/session", json=body | {"session": "azat_unknown"}, headers=key).get_json()
    assert out["session_status"] == "unknown"
