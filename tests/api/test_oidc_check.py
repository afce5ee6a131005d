"""The session check endpoint takes a relying party's OpenID Connect access token as well as a session id
(issue 12: "the check endpoints accept an access token as well as a session id"; R-AUTHZ-2: subject and
domain from the server-side session, never the request). Over HTTP with a service key; the token stands
exactly as long as `authz.oidc.grants.token_live` says, so a revoked, expired or orphaned token gives
nothing."""
from __future__ import annotations

import pytest

from authz import clients as service_clients
from authz import sessions
from authz.models import LoginSession
from authz.oidc import clients as oidc_clients
from tests.api.test_oidc import basic, browser, refresh, rp, tokens, world  # noqa: F401 - fixtures
from tests.binding_support import move
from tests.login_support import settings  # noqa: F401 - cheap argon2
from tests.oidc_support import USCC


@pytest.fixture
def key(svc):
    return {"Authorization": "Bearer " + service_clients.create("declaration-api", scopes="check")[1]}


def check(rp, key, token, obj="biz.declare_pay", act="use", **extra):
    r = rp.post("/api/v1/check/session", json={"session": token, "object": obj, "action": act, **extra}, headers=key)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_access_token_decides_for_its_sessions_identity_whatever_the_body_says(svc, browser, rp, world, key):
    """Issue 12 with R-AUTHZ-2: the answer is for the token's session's current identity and domain; a
    subject or domain in the body is ignored; a function the identity lacks is denied while active."""
    t = tokens(browser, rp, world)
    out = check(rp, key, t["access_token"], subject="p-someone-else", domain="ent:91360100MA35OTHER1")
    assert out["allowed"] is True and out["session_status"] == "active"
    assert (out["subject"], out["domain"], out["identity_type"]) == ("p-sso", f"ent:{USCC}", "tax_officer")
    denied = check(rp, key, t["access_token"], obj="ac.staff", act="view")  # an admin's, not a tax officer's
    assert denied["allowed"] is False and denied["session_status"] == "active"
    assert check(rp, key, world["raw"])["allowed"] is True, "a session id still works"


def test_a_revoked_access_token_is_refused(svc, browser, rp, world, key):
    """Issue 12 with RFC 7009: a token its client revoked gives nothing at once, though the session lives."""
    t = tokens(browser, rp, world)
    assert rp.post("/oauth/revoke", data={"token": t["access_token"], "token_type_hint": "access_token"},
                   headers=basic(world["secret"])).status_code == 200
    out = check(rp, key, t["access_token"])
    assert out == {"allowed": False, "session_status": "expired", "object": "biz.declare_pay", "action": "use",
                   "policy": out["policy"]}
    sessions.resolve(svc, world["raw"], touch=False)  # the portal session itself is untouched


def test_an_expired_access_token_is_refused_and_its_refreshed_successor_accepted(svc, browser, rp, world, key):
    """Issue 12: an access token lives AUTHZ_OIDC_ACCESS_TOKEN_SECONDS; after that the check refuses it even
    though its portal session is live, and the token a refresh gives is accepted."""
    t = tokens(browser, rp, world)
    svc.clock.advance(svc.settings.oidc_access_token_seconds - 1)
    assert check(rp, key, t["access_token"])["session_status"] == "active"
    svc.clock.advance(1)
    assert check(rp, key, t["access_token"])["session_status"] == "expired"
    new = refresh(rp, world, t["refresh_token"]).get_json()
    assert check(rp, key, new["access_token"])["allowed"] is True


def test_staff_deletion_answers_identity_revoked_for_the_token_too(svc, browser, rp, world, key):
    """Issue 12 with R-BIND: the same answer as for the session id, identity_revoked, not a vague expired."""
    t = tokens(browser, rp, world)
    move(svc, world["binding"], "deleted")
    assert check(rp, key, t["access_token"])["session_status"] == "identity_revoked"
    assert check(rp, key, world["raw"])["session_status"] == "identity_revoked"


def test_tokens_that_are_not_live_access_tokens_give_nothing(svc, browser, rp, world, key):
    """Issue 12: a refresh token is not an access token (unknown); an unknown azat_ is unknown; the token of
    a deleted client and of an ended session are expired."""
    t = tokens(browser, rp, world)
    assert check(rp, key, t["refresh_token"])["session_status"] == "unknown"
    assert check(rp, key, "azat_" + "x" * 43)["session_status"] == "unknown"
    oidc_clients.delete(svc, "decl")
    assert check(rp, key, t["access_token"])["session_status"] == "expired"


def test_checking_a_token_never_moves_the_portal_idle_timer(svc, browser, rp, world, key):
    """R-LOGIN-13 (issue 10 finding 12) with issue 12: a service asking about a token is not the person's
    activity, so the idle timeout still ends the session and the token with it."""
    t = tokens(browser, rp, world)
    seen = LoginSession.get_by_id(world["row"].id).last_seen_at
    for _ in range(3):
        svc.clock.advance(60)
        check(rp, key, t["access_token"])
    assert LoginSession.get_by_id(world["row"].id).last_seen_at == seen


def test_the_check_needs_a_service_key(rp, browser, world):
    """R-AUTHZ-3: the access token is what is checked, not who asks: no service key, 401."""
    t = tokens(browser, rp, world)
    body = {"session": t["access_token"], "object": "biz.declare_pay", "action": "use"}
    assert rp.post("/api/v1/check/session", json=body).status_code == 401
    r = rp.post("/api/v1/check/session", json=body, headers={"Authorization": "Bearer " + t["access_token"]})
    assert r.status_code == 401, "an access token is not a service key"
