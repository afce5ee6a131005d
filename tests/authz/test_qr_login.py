"""QR login (R-LOGIN-7): tickets expire and refresh, confirm once, carry the app's business type; the
development simulator and the production signed callback confirm the same way."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from authz import sessions
from authz.cli import Env, main
from authz.errors import AuthzError
from authz.flows import qr_login
from authz.sessions import Entry, Identity
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import USCC

ENT = f"ent:{USCC}"


def err(fn, *a, **kw) -> AuthzError:
    with pytest.raises(AuthzError) as e:
        fn(*a, **kw)
    return e.value


def app_session(svc, person, ident):
    return sessions.create(svc, person, ident, client="app")[1]


def test_R_LOGIN_7_tax_app_enterprise_scan_gives_an_enterprise_session(svc, world):
    """R-LOGIN-7: a tax app logged in to enterprise business makes the web session enterprise too."""
    q = qr_login.start(svc)
    assert qr_login.poll(svc, q["flow"])[0]["state"] == "waiting"
    app = app_session(svc, world["legal"], Identity(Entry.ENTERPRISE, ENT, "finance_officer"))
    qr_login.confirm_with_app_session(svc, q["ticket"], "taxapp", app)
    out, raw, row = qr_login.poll(svc, q["flow"])
    assert out["state"] == "done" and raw.startswith("azs_")
    assert (row.entry, row.domain, row.role) == ("enterprise", ENT, "finance_officer")
    assert err(qr_login.poll, svc, q["flow"]).code == "flow_state"  # the session is handed out once


def test_R_LOGIN_7_personal_stays_personal_and_iit_app_is_always_personal(svc, world):
    """R-LOGIN-7: a personal tax-app login gives personal; an IIT-app scan gives personal even from an
    app session that is in enterprise business."""
    q = qr_login.start(svc)
    app = app_session(svc, world["legal"], Identity(Entry.ENTERPRISE, ENT, "legal_rep"))
    qr_login.confirm_with_app_session(svc, q["ticket"], "iitapp", app)
    out, raw, row = qr_login.poll(svc, q["flow"])
    assert (row.entry, row.domain, row.role, row.enterprise_allowed) == ("personal", "person:p-legal", "self", False)


def test_R_LOGIN_7_ticket_expires_and_refresh_issues_a_new_one(svc, world, clock):
    """R-LOGIN-7: a ticket dies after qr_ticket_seconds (poll says expired, confirming fails); refresh
    shows a new one and the old one stays dead."""
    q = qr_login.start(svc)
    clock.advance(seconds=svc.settings.qr_ticket_seconds)
    assert qr_login.poll(svc, q["flow"])[0]["state"] == "expired"
    app = app_session(svc, world["plain"], Identity(Entry.PERSONAL, "person:p-plain", "self"))
    assert err(qr_login.confirm_with_app_session, svc, q["ticket"], "taxapp", app).code == "ticket_expired"
    r = qr_login.refresh(svc, q["flow"])
    assert r["ticket"] != q["ticket"]
    assert err(qr_login.confirm_with_app_session, svc, q["ticket"], "taxapp", app).code == "ticket_expired"
    qr_login.confirm_with_app_session(svc, r["ticket"], "taxapp", app)
    assert qr_login.poll(svc, q["flow"])[0]["state"] == "done"


def test_R_LOGIN_7_double_confirmation_is_refused(svc, world):
    """R-LOGIN-7: a ticket is confirmed once; a second confirmation (another person or the same) fails
    and the session goes to the first confirmer."""
    q = qr_login.start(svc)
    first = app_session(svc, world["plain"], Identity(Entry.PERSONAL, "person:p-plain", "self"))
    second = app_session(svc, world["legal"], Identity(Entry.PERSONAL, "person:p-legal", "self"))
    qr_login.confirm_with_app_session(svc, q["ticket"], "taxapp", first)
    assert err(qr_login.confirm_with_app_session, svc, q["ticket"], "taxapp", second).code == "ticket_used"
    assert err(qr_login.confirm_with_app_session, svc, q["ticket"], "taxapp", first).code == "ticket_used"
    assert qr_login.poll(svc, q["flow"])[2].person.uid == "p-plain"


def test_R_LOGIN_7_dev_simulator_and_outbox_commands(svc, world, settings, clock):
    """Issue 3 item 8: `authz dev scan TICKET --as PERSON [--app] [--enterprise]` confirms like an app;
    `authz dev outbox --phone` shows the codes sent."""
    from authz import codes
    runner = CliRunner()
    env = Env(settings=settings, clock=clock)
    q = qr_login.start(svc)
    r = runner.invoke(main, ["dev", "scan", q["ticket"], "--as", "p-legal", "--enterprise", USCC,
                             "--identity", "legal_rep"], obj=env)
    assert r.exit_code == 0, r.output
    svc.db.connect(reuse_if_open=True)
    assert qr_login.poll(svc, q["flow"])[2].role == "legal_rep"
    q = qr_login.start(svc)
    r = runner.invoke(main, ["dev", "scan", q["ticket"], "--as", "p-plain", "--enterprise", USCC], obj=env)
    assert r.exit_code != 0 and "no identity" in r.output
    codes.issue(svc, "login", "f" * 64, "13800000004")
    r = runner.invoke(main, ["dev", "outbox", "--phone", "13800000004"], obj=env)
    assert r.exit_code == 0 and "验证码" in r.output and "13800000004" in r.output
    assert runner.invoke(main, ["dev", "password", "p-plain", "short"], obj=env).exit_code != 0
    r = runner.invoke(main, ["dev", "password", "p-plain", "Neu#2026pw"], obj=env)
    assert r.exit_code == 0, r.output
    svc.db.connect(reuse_if_open=True)
    from authz.flows import login
    assert login.start(svc, entry="personal", account="13800000004", password="Neu#2026pw").view["flow"]


def test_R_LOGIN_7_production_signed_callback(svc, world):
    """Issue 3 item 8: the app's back end confirms through a callback signed with its own secret; a wrong
    or missing signature, another app's secret or a stale timestamp is refused."""
    from api import create_app
    from authz.ports.apps import CallbackVerifier
    svc.settings = svc.settings.with_(app_callback_secrets="taxapp:tax-secret-1,iitapp:iit-secret-2")
    svc.ports = None
    client = create_app(service=svc).test_client()
    q = client.post("/api/v1/auth/qr", json={}).get_json()
    body = json.dumps({"ticket": q["ticket"], "person": "p-plain", "entry": "personal"}).encode()
    now = str(int(svc.clock.time()))

    def post(app, secret, ts=now):
        return client.post(f"/api/v1/apps/{app}/callback", data=body, content_type="application/json",
                           headers={"X-Authz-Timestamp": ts,
                                    "X-Authz-Signature": CallbackVerifier.signature(secret, ts, body)})
    assert post("taxapp", "iit-secret-2").status_code == 401
    assert post("taxapp", "tax-secret-1", ts=str(int(now) - 3600)).status_code == 401
    assert client.post("/api/v1/apps/taxapp/callback", data=body, content_type="application/json").status_code == 401
    r = post("taxapp", "tax-secret-1")
    assert r.status_code == 200 and r.get_json()["state"] == "confirmed"
    assert post("taxapp", "tax-secret-1").get_json()["code"] == "ticket_used"
    done = client.get(f"/api/v1/auth/qr/{q['flow']}")
    assert done.get_json()["state"] == "done" and client.get("/api/v1/account/session").get_json()["person"] == "p-plain"


def test_R_LOGIN_7_callback_secret_rotation_accepts_old_and_new_until_the_old_is_removed(svc, world):
    """R-LOGIN-7, issue 13 (key rotation): with two secrets for one app (new first, old second) a callback
    signed with either is accepted, so the app's back end can switch without a refused scan; once the
    old one is removed from AUTHZ_APP_CALLBACK_SECRETS it is refused; another app's secret never works."""
    from api import create_app
    from authz.ports.apps import CallbackVerifier

    def client_with(secrets):
        svc.settings = svc.settings.with_(app_callback_secrets=secrets)
        svc.ports = None
        return create_app(service=svc).test_client()

    def scan(client, secret):
        q = client.post("/api/v1/auth/qr", json={}).get_json()
        body = json.dumps({"ticket": q["ticket"], "person": "p-plain", "entry": "personal"}).encode()
        ts = str(int(svc.clock.time()))
        return client.post("/api/v1/apps/taxapp/callback", data=body, content_type="application/json",
                           headers={"X-Authz-Timestamp": ts,
                                    "X-Authz-Signature": CallbackVerifier.signature(secret, ts, body)}).status_code
    both = client_with("taxapp:tax-new-2027,taxapp:tax-old-2026,iitapp:iit-secret-2")
    assert scan(both, "tax-new-2027") == 200 and scan(both, "tax-old-2026") == 200
    assert scan(both, "iit-secret-2") == 401
    only_new = client_with("taxapp:tax-new-2027,iitapp:iit-secret-2")
    assert scan(only_new, "tax-new-2027") == 200 and scan(only_new, "tax-old-2026") == 401
