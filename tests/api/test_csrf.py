"""Issue 10 finding 5, as an attacker tries it: cross-site request forgery on cookie sessions, and login CSRF.

A page on another site cannot read our answers or set custom headers; what it can do is make the victim's
browser send a form post (any content type but JSON, the victim's cookies attached when same-site rules let
them through) or navigate to one of our URLs. R-LOGIN-13: the browser session is a cookie; these tests
prove that cookie alone never changes state, and that a link to an attacker's login flow cannot put the
attacker's session into the victim's browser."""
from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from api import create_app
from authz.models import LoginSession
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, USCC, last_code, login_session

EVIL = "https://evil.example"


@pytest.fixture
def app(svc):
    return create_app(service=svc)


def browser_login(c, account="13800000002", phone="13800000002", entry="enterprise"):
    """The front end's own login (same origin, with the CSRF token): the session lands in the cookie."""
    login_session(c, entry, account, phone, uscc=USCC if entry == "enterprise" else None, kind="browser")
    return c


def forged(c, method, url, **kw):
    """What a foreign page makes the browser send: the cookies, a form body, no token; `origin` as given."""
    headers = kw.pop("headers", {})
    return c.open(url, method=method, same_origin=False, data=kw.pop("data", "x=1"),
                  content_type="application/x-www-form-urlencoded", headers=headers, **kw)


def live_sessions():
    return LoginSession.select().where(LoginSession.ended_at.is_null()).count()


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL},  # a cross-site form post
    {"Origin": "null"},  # a sandboxed iframe or a data: page
    {"Sec-Fetch-Site": "cross-site"},  # a browser that sends fetch metadata but no Origin
    {"Sec-Fetch-Site": "same-site"},  # a sibling host (another tenant's subdomain)
    {},  # no Origin at all: the CSRF token is still required
], ids=["foreign-origin", "null-origin", "cross-site", "same-site", "no-origin"])
def test_issue10_f5_forged_logout_is_refused_and_the_session_lives(svc, world, app, headers):
    """Issue 10 finding 5, R-LOGIN-13: a forged POST /auth/logout with the victim's session cookie is 403
    csrf_failed, whatever origin evidence it carries; the session is still live afterwards."""
    victim = browser_login(app.test_client())
    r = forged(victim, "POST", "/api/v1/auth/logout", headers=headers)
    assert r.status_code == 403 and r.get_json()["code"] == "csrf_failed", r.get_json()
    assert victim.get("/api/v1/account/session").status_code == 200
    assert live_sessions() == 1


def test_issue10_f5_forged_password_flow_and_authorisation_end_are_refused(svc, world, app):
    """Issue 10 finding 5 (R-PWD-3, R-BIND-11): a foreign page can neither start the victim's password flow
    nor end the victim's authorisation with the session cookie; the same requests from the front end work."""
    victim = browser_login(app.test_client(), entry="personal", account="13800000002")
    binding = world["officer"]  # the officer's one active binding
    from authz.models import Binding
    b = Binding.get((Binding.person == binding.id) & (Binding.state == "active"))
    for url in ("/api/v1/account/person/password/flows", f"/api/v1/account/person/authorisations/{b.id}/end"):
        r = forged(victim, "POST", url, headers={"Origin": EVIL})
        assert r.status_code == 403 and r.get_json()["code"] == "csrf_failed", (url, r.get_json())
    assert Binding.get_by_id(b.id).state == "active"
    # a JSON body does not help a forger either (it cannot add the token)
    r = victim.post(f"/api/v1/account/person/authorisations/{b.id}/end", json={}, same_origin=False)
    assert r.status_code == 403 and Binding.get_by_id(b.id).state == "active"
    # the front end itself (same origin, token) may
    assert victim.post("/api/v1/account/person/password/flows").status_code == 200


def test_issue10_f5_a_token_of_another_browser_does_not_pass(svc, world, app):
    """Issue 10 finding 5: the token is bound to the browser's own cookie; the attacker's token (from his
    own GET /auth/csrf) is refused in the victim's browser."""
    victim = browser_login(app.test_client())
    attacker_token = app.test_client().get("/api/v1/auth/csrf").get_json()["token"]
    r = victim.post("/api/v1/auth/logout", headers={"X-CSRF-Token": attacker_token, "Origin": "https://localhost"})
    assert r.status_code == 403 and r.get_json()["code"] == "csrf_failed"
    assert victim.get("/api/v1/account/session").status_code == 200


def test_issue10_f5_bearer_apps_and_services_are_not_asked_for_a_token(svc, world, app):
    """Issue 10 finding 5: a bearer session (the mobile app) carries no ambient credential, so it needs no
    CSRF token or Origin; it still may not claim a foreign Origin."""
    raw = FlaskClient(app)  # a plain HTTP client: no cookies kept by the front end
    bearer = login_session(raw, "enterprise", "13800000002", "13800000002", uscc=USCC)
    auth = {"Authorization": f"Bearer {bearer}"}
    assert raw.post("/api/v1/account/person/password/flows", headers=auth).status_code in (200, 403)
    r = raw.post("/api/v1/auth/logout", headers={**auth, "Origin": EVIL})
    assert r.status_code == 403 and r.get_json()["code"] == "csrf_failed"
    assert raw.post("/api/v1/auth/logout", headers=auth).status_code == 200


def test_issue10_f5_login_csrf_a_link_to_the_attackers_qr_flow_sets_no_session(svc, world, app):
    """Issue 10 finding 5 (login CSRF, R-LOGIN-7): the attacker opens a QR login in his browser and confirms
    it with his own app; a link to GET /auth/qr/<his flow> in the victim's browser answers flow_not_found
    and sets no session cookie. His own browser still gets his session."""
    attacker_web = app.test_client()
    q = attacker_web.post("/api/v1/auth/qr", json={}).get_json()
    phone_app = FlaskClient(app)
    bearer = login_session(phone_app, "personal", "13800000002", "13800000002")
    assert phone_app.post(f"/api/v1/auth/qr/tickets/{q['ticket']}/confirm", json={"app": "taxapp"},
                          headers={"Authorization": f"Bearer {bearer}"}).status_code == 200
    for victim in (app.test_client(), FlaskClient(app)):  # with a browser cookie of its own, and without one
        victim.get("/api/v1/auth/csrf")
        r = victim.get(f"/api/v1/auth/qr/{q['flow']}")
        assert r.status_code == 404 and r.get_json()["code"] == "flow_not_found"
        assert "authz_session" not in r.headers.get("Set-Cookie", "")
        assert victim.get_cookie("authz_session") is None
    r = attacker_web.get(f"/api/v1/auth/qr/{q['flow']}")
    assert r.status_code == 200 and r.get_json()["state"] == "done"
    assert attacker_web.get("/api/v1/account/session").status_code == 200


def test_issue10_f5_login_csrf_a_password_flow_continues_only_in_its_own_browser(svc, world, app):
    """Issue 10 finding 5 (login CSRF, R-LOGIN-2): a browser login flow started by the attacker cannot be
    finished in another browser (the session would land there); an app flow (session in the body) is not
    bound to a browser."""
    attacker = app.test_client()
    fid = attacker.post("/api/v1/auth/login", json={"entry": "enterprise", "account": "13800000002",
                                                    "password": PASSWORD, "uscc": USCC}).get_json()["flow"]
    assert attacker.post(f"/api/v1/auth/login/{fid}/factors/sms").status_code == 200
    victim = app.test_client()
    r = victim.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": last_code("13800000002")})
    assert r.status_code == 404 and r.get_json()["code"] == "flow_not_found"
    assert victim.get_cookie("authz_session") is None
    r = attacker.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": last_code("13800000002")})
    assert r.status_code == 200 and r.get_json()["state"] == "done"


def test_issue10_f5_a_browser_without_a_binding_cookie_gets_one_when_it_starts_a_login(svc, world, app):
    """Issue 10 finding 5: a first request without any cookie (nothing to forge) may start a login; the
    flow is bound to a browser cookie minted in that answer, which the rest of the flow must present."""
    c = FlaskClient(app)
    r = c.post("/api/v1/auth/login", json={"entry": "enterprise", "account": "13800000002",
                                           "password": PASSWORD, "uscc": USCC})
    assert r.status_code == 200 and "authz_browser=azb_" in r.headers["Set-Cookie"]
    fid = r.get_json()["flow"]
    token = c.get("/api/v1/auth/csrf").get_json()["token"]
    assert c.post(f"/api/v1/auth/login/{fid}/factors/sms", headers={"X-CSRF-Token": token}).status_code == 200
    c.delete_cookie("authz_browser")
    assert c.post(f"/api/v1/auth/login/{fid}/factors/sms").status_code == 404


def test_issue10_f5_secure_deployments_use_host_prefixed_cookies(svc, world):
    """Issue 10 finding 5: with Secure cookies both cookies are `__Host-` prefixed (Path=/, no Domain), and
    an http:// Origin is foreign."""
    svc.settings = svc.settings.with_(cookie_secure=True)
    app = create_app(service=svc)
    c = app.test_client()
    r = c.get("/api/v1/auth/csrf")
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("__Host-authz_browser=azb_") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie and "HttpOnly" in cookie
    browser_login(c)
    r = c.post("/api/v1/auth/logout", headers={"Origin": "http://localhost",
                                               "X-CSRF-Token": r.get_json()["token"]})
    assert r.status_code == 403 and r.get_json()["code"] == "csrf_failed"


def test_issue10_f5_configured_web_origins_are_same_origin(svc, world):
    """Issue 10 finding 5: a front end served from another origin of the bureau's (AUTHZ_WEB_ORIGINS) may
    call; any other origin may not."""
    svc.settings = svc.settings.with_(web_origins="https://etax.example.gov.cn")
    c = browser_login(create_app(service=svc).test_client())
    token = c.get("/api/v1/auth/csrf").get_json()["token"]
    r = c.post("/api/v1/auth/logout", headers={"Origin": "https://etax.example.gov.cn.evil.example",
                                               "X-CSRF-Token": token})
    assert r.status_code == 403
    r = c.post("/api/v1/auth/logout", headers={"Origin": "https://etax.example.gov.cn", "X-CSRF-Token": token})
    assert r.status_code == 200


@pytest.mark.parametrize("url", ["/oauth/authorize", "/oauth/logout", "/oauth/token/", "/oauth/tokens",
                                 "/api/v1/oidc/consent", "/api/v1/auth/logout"])
def test_issue12_only_the_client_authenticated_oauth_paths_skip_the_guard(svc, world, app, url):
    """Issue 12 (docs/login.md): browser.CLIENT_AUTHENTICATED names exact paths; a forged cookie POST to
    any other path, OIDC ones included (authorize, logout, the consent API, a near-miss of /oauth/token),
    is still refused before any handler runs, and the session lives."""
    c = browser_login(app.test_client())
    before = live_sessions()
    r = forged(c, "POST", url, headers={"Origin": EVIL})
    assert r.status_code == 403 and r.get_json()["code"] == "csrf_failed"
    assert live_sessions() == before


def test_issue12_token_endpoint_takes_a_cross_site_post_but_reads_no_cookie(svc, world, app):
    """Issue 12: /oauth/token accepts a POST with a foreign Origin (a tax system's back end or page), and
    the browser's session cookie riding along does not authenticate anything: without client
    credentials the answer is invalid_client."""
    c = browser_login(app.test_client())
    r = forged(c, "POST", "/oauth/token", headers={"Origin": EVIL},
               data="grant_type=authorization_code&code=x&redirect_uri=https://evil.example/cb")
    assert r.status_code in (400, 401) and r.get_json()["error"] == "invalid_client"
