"""Issue 10 finding 2, as an attacker tries it over REST: a logged-in person starts a face step-up and
confirms their own face ticket through the QR-login confirm endpoint with their own session. One ticket
kind per purpose: a face ticket is confirmed only by the app back end's signed callback (or the
development simulator); a QR-login ticket only by an app session (R-LOGIN-7, R-LOGIN-8, R-PWD-3,
R-INFO-3, R-BIND-6)."""
from __future__ import annotations

import pytest

from authz.errors import AuthzError
from authz.factors.app_scan import confirm_face, confirm_login
from authz.flows import qr_login
from authz.models import Binding, Person
from tests.login_support import *  # noqa: F401,F403 (fixtures)
from tests.login_support import PASSWORD, USCC, login_session

P = "/api/v1/account/person"


def _step_ups(client, bearer, world):
    """(name, flow base url, factor) for every face step-up the person can start."""
    out = []
    r = client.post(f"{P}/password/flows", headers=bearer)
    assert r.status_code == 200, r.get_json()
    out.append(("password", f"{P}/password/flows/{r.get_json()['flow']}"))
    r = client.post(f"{P}/deregistration", json={"notice_accepted": True}, headers=bearer)
    assert r.status_code == 200, r.get_json()
    out.append(("deregistration", f"{P}/deregistration/flows/{r.get_json()['flow']}"))
    pending = Binding.get(Binding.person == world["pending"])
    r = client.post(f"{P}/authorisations/pending/confirm", json={"ids": [pending.id]}, headers=bearer)
    assert r.status_code == 200, r.get_json()
    out.append(("authorisation", f"{P}/authorisations/pending/confirm/{r.get_json()['flow']}"))
    return out


@pytest.mark.parametrize("client_kind", ["app", "browser"])
def test_R_PWD_3_face_ticket_cannot_be_confirmed_through_the_qr_login_endpoint(svc, world, client, client_kind):
    """R-PWD-3, R-INFO-3, R-BIND-6 (issue 10 finding 2): with their own session (bearer app session or
    browser cookie) the person posts each face ticket to /auth/qr/tickets/<t>/confirm: refused, and the
    step-up stays unverified (scan_pending), so nothing changes without a face."""
    sid = login_session(client, "personal", "13800000003", "13800000003")
    bearer = {"Authorization": f"Bearer {sid}"}
    if client_kind == "browser":  # the same person's browser session, by cookie
        r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": "13800000003",
                                                    "password": PASSWORD})
        fid = r.get_json()["flow"]
        client.post(f"/api/v1/auth/login/{fid}/factors/sms")
        from tests.login_support import last_code
        done = client.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": last_code("13800000003")})
        assert done.get_json()["state"] == "done"
        confirm_as = {}  # the cookie
    else:
        confirm_as = bearer
    for name, base in _step_ups(client, bearer, world):
        t = client.post(f"{base}/factors/taxapp", headers=bearer).get_json()["ticket"]
        r = client.post(f"/api/v1/auth/qr/tickets/{t}/confirm", json={"app": "taxapp"}, headers=confirm_as)
        assert r.status_code in (403, 404), (name, r.get_json())
        assert r.get_json()["code"] in ("ticket_not_found", "app_session_required"), (name, r.get_json())
        v = client.post(f"{base}/factors/taxapp/verify", json={}, headers=bearer)
        assert v.status_code == 409 and v.get_json()["code"] == "scan_pending", (name, v.get_json())
    person = Person.get(Person.uid == "p-pending")
    assert person.status == "active"
    assert Binding.get(Binding.person == world["pending"]).state == "pending"


def test_R_LOGIN_7_each_confirmation_takes_only_its_own_ticket_kind(svc, world, client):
    """R-LOGIN-7, R-LOGIN-8 (issue 10 finding 2): confirm_face refuses a QR-login ticket and
    confirm_login refuses a face ticket, both as unknown tickets."""
    qr = qr_login.start(svc)
    with pytest.raises(AuthzError) as e:
        confirm_face(svc, qr["ticket"], app="taxapp", person_uid="p-plain")
    assert e.value.code == "ticket_not_found"
    sid = login_session(client, "personal", "13800000004", "13800000004")
    r = client.post(f"{P}/password/flows", headers={"Authorization": f"Bearer {sid}"})
    face = client.post(f"{P}/password/flows/{r.get_json()['flow']}/factors/taxapp",
                       headers={"Authorization": f"Bearer {sid}"}).get_json()["ticket"]
    with pytest.raises(AuthzError) as e:
        confirm_login(svc, face, app="taxapp", person_uid="p-plain", business={"entry": "personal"})
    assert e.value.code == "ticket_not_found"


def test_R_LOGIN_7_a_browser_session_cannot_confirm_a_qr_login(svc, world, client):
    """R-LOGIN-7 (issue 10 finding 2): only an app session confirms a QR login; a browser session that
    posts a QR ticket is refused and the QR flow stays waiting."""
    qr = qr_login.start(svc)
    r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": "13800000004", "password": PASSWORD})
    fid = r.get_json()["flow"]
    client.post(f"/api/v1/auth/login/{fid}/factors/sms")
    from tests.login_support import last_code
    client.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": last_code("13800000004")})
    r = client.post(f"/api/v1/auth/qr/tickets/{qr['ticket']}/confirm", json={"app": "taxapp"})
    assert r.status_code == 403 and r.get_json()["code"] == "app_session_required"
    assert qr_login.poll(svc, qr["flow"])[0]["state"] == "waiting"
