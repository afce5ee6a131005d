"""Session-based check (R-AUTHZ-2, issue 3 item 7): the domain and identity come from the server-side
session, never from the request; ended or revoked sessions allow nothing."""
from __future__ import annotations

import pytest

from api import create_app
from authz import clients, sessions
from authz.models import Binding
from authz.sessions import Entry, Identity
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import USCC, CLIENT
from tests.binding_support import move

ENT = f"ent:{USCC}"


@pytest.fixture
def client(svc):
    return create_app(service=svc).test_client()


@pytest.fixture
def auth(svc):
    _, key = clients.create("business-system", scopes="check")
    return {"Authorization": f"Bearer {key}"}


def check(client, auth, session, obj, act, **extra):
    r = client.post("/api/v1/check/session", json={"session": session, "object": obj, "action": act, **extra},
                    headers=auth)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_R_AUTHZ_2_session_check_decides_for_the_sessions_identity(svc, world, client, auth):
    """R-AUTHZ-2: the answer is for the session's current identity and domain, which it reports."""
    raw, _ = sessions.create(svc, world["officer"], Identity(Entry.ENTERPRISE, ENT, "tax_officer"))
    out = check(client, auth, raw, "biz.declare_pay", "use")
    assert out["allowed"] is True and out["domain"] == ENT and out["identity_type"] == "tax_officer"
    assert out["session_status"] == "active" and out["subject"] == "p-officer"
    assert check(client, auth, raw, "ac.staff:tax_officer", "add")["allowed"] is False


def test_R_AUTHZ_2_domain_in_the_request_is_ignored(svc, world, client, auth):
    """R-AUTHZ-2: a request naming another domain, subject or identity type is decided for the session's."""
    raw, _ = sessions.create(svc, world["officer"], Identity(Entry.ENTERPRISE, ENT, "tax_officer"))
    lie = {"domain": f"ent:{CLIENT}", "subject": "p-legal", "identity_type": "legal_rep"}
    out = check(client, auth, raw, "ac.staff:tax_officer", "add", **lie)
    # a legal rep could add staff; the session's tax officer cannot: the session's identity decided
    assert out["allowed"] is False and out["domain"] == ENT and out["identity_type"] == "tax_officer"
    assert out["subject"] == "p-officer"
    # the officer holds nothing in the client's domain, yet declares in its own: the session's domain decided
    assert check(client, auth, raw, "biz.declare_pay", "use", **lie)["allowed"] is True


def test_R_AUTHZ_2_R_SW_6_after_rotation_the_new_identity_decides(svc, world, client, auth):
    """R-SW-6: after a switch every check is decided for the new identity; the old id allows nothing."""
    raw, row = sessions.create(svc, world["legal"], Identity(Entry.ENTERPRISE, ENT, "finance_officer"))
    new, _ = sessions.rotate(svc, row, Identity(Entry.ENTERPRISE, ENT, "legal_rep"))
    assert check(client, auth, new, "ac.staff:admin", "add")["allowed"] is True
    old = check(client, auth, raw, "ac.staff:admin", "add")
    assert old["allowed"] is False and old["session_status"] == "expired" and "domain" not in old


def test_R_AUTHZ_2_logged_out_and_revoked_sessions_allow_nothing(svc, world, client, auth, directory):
    """R-AUTHZ-2: after logout, or once the staff binding is deleted, the session check says no."""
    raw, row = sessions.create(svc, world["legal"], Identity(Entry.ENTERPRISE, ENT, "legal_rep"))
    sessions.end(svc, row, sessions.EndReason.LOGOUT)
    assert check(client, auth, raw, "biz.query", "use")["session_status"] == "expired"
    b = Binding.get((Binding.person == world["officer"]) & (Binding.role == "tax_officer"))
    raw, _ = sessions.create(svc, world["officer"], Identity(Entry.ENTERPRISE, ENT, "tax_officer"))
    move(directory.svc, b, "deleted")
    for _ in range(2):  # the first call ends the session; later calls still say why
        out = check(client, auth, raw, "biz.query", "use")
        assert out == {**out, "allowed": False, "session_status": "identity_revoked"}
    assert check(client, auth, "azs_unknown", "biz.query", "use")["session_status"] == "unknown"


def test_R_AUTHZ_3_session_check_needs_a_service_key(svc, world, client):
    """R-AUTHZ-3: anonymous callers of the session check are refused."""
    r = client.post("/api/v1/check/session", json={"session": "azs_x", "object": "biz.query", "action": "use"})
    assert r.status_code == 401 and r.get_json()["code"] == "unauthenticated"


def _last_seen(raw):
    from authz.models import LoginSession
    return LoginSession.get(LoginSession.id_hash == sessions.digest(raw)).last_seen_at


def test_R_LOGIN_13_service_polling_does_not_keep_a_session_alive(svc, world, client, auth, clock):
    """R-LOGIN-13, issue 10 finding 12: a service asking check/session every few minutes never moves the
    idle timer; the session still ends at the idle limit and the check then answers expired."""
    raw, _ = sessions.create(svc, world["officer"], Identity(Entry.ENTERPRISE, ENT, "tax_officer"))
    seen = _last_seen(raw)
    for _ in range(5):  # 5 x 5 min: inside the 30-minute window, every answer is active
        clock.advance(minutes=5)
        assert check(client, auth, raw, "biz.declare_pay", "use")["session_status"] == "active"
    assert _last_seen(raw) == seen, "a service's check is not the person's activity"
    clock.advance(minutes=5)  # 30 min after the person's last own request
    out = check(client, auth, raw, "biz.declare_pay", "use")
    assert out["allowed"] is False and out["session_status"] == "expired" and "domain" not in out
    assert client.get("/api/v1/account/session", headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def test_R_LOGIN_13_the_persons_own_request_refreshes_the_idle_timer(svc, world, client, auth, clock):
    """R-LOGIN-13, issue 10 finding 12: the person's own bearer request inside the window restarts the idle
    timer (its idle_expires_at is now + 30 min); the service's checks keep riding on that, and no further."""
    raw, _ = sessions.create(svc, world["officer"], Identity(Entry.ENTERPRISE, ENT, "tax_officer"))
    me = {"Authorization": f"Bearer {raw}"}
    clock.advance(minutes=20)
    assert check(client, auth, raw, "biz.declare_pay", "use")["session_status"] == "active"
    r = client.get("/api/v1/account/session", headers=me)
    assert r.status_code == 200
    now = clock.time()
    assert r.get_json()["last_seen_at"] == now and r.get_json()["idle_expires_at"] == now + 30 * 60
    assert _last_seen(raw) == now
    for _ in range(5):  # 25 more minutes of polling: 45 min after login, 25 after the person's request
        clock.advance(minutes=5)
        assert check(client, auth, raw, "biz.declare_pay", "use")["session_status"] == "active"
    assert _last_seen(raw) == now, "polling did not move the timer the person's request set"
    clock.advance(minutes=5)  # exactly idle_expires_at: the answer the person's view promised
    assert clock.time() == r.get_json()["idle_expires_at"]
    assert check(client, auth, raw, "biz.declare_pay", "use")["session_status"] == "expired"
