"""Issue 10 finding 1, as an attacker tries it over REST: a registered person applies to an enterprise as
its administrator from the personal account centre (R-BIND-7), then logs in on the enterprise entry with
that USCC hoping to confirm their own application. An application the person made waits for the
enterprise (R-BIND-7, R-BIND-18); only what the enterprise or a source created is the person's to confirm,
and that confirm asks the same app face scan as the account centre (R-BIND-2/3/6, R-LOGIN-3)."""
from __future__ import annotations

import pytest

from api import create_app
from authz.factors.app_scan import confirm_face
from authz.models import Binding, LoginSession as SessionRow
from tests.login_support import *  # noqa: F401,F403 (fixtures)
from tests.login_support import PASSWORD, USCC, last_code, login_session

P = "/api/v1/account/person"


@pytest.fixture
def client(svc):
    return create_app(service=svc).test_client()


def _enterprise_login(client, account: str, phone: str):
    r = client.post("/api/v1/auth/login", json={"entry": "enterprise", "account": account, "password": PASSWORD,
                                                "uscc": USCC, "client": "app"})
    assert r.status_code == 200, r.get_json()
    fid = r.get_json()["flow"]
    assert client.post(f"/api/v1/auth/login/{fid}/factors/sms").status_code == 200
    return fid, client.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": last_code(phone)})


@pytest.mark.parametrize("identity_type", ["admin", "tax_officer"])
def test_R_BIND_7_own_application_cannot_be_confirmed_at_enterprise_login(svc, world, client, identity_type):
    """R-BIND-7, R-LOGIN-3 (issue 10 finding 1): the person's own application stays pending; the enterprise
    login answers application_pending (403), issues no session, offers nothing to confirm, and the
    confirm endpoint of the flow refuses the application's id."""
    bearer = {"Authorization": "Bearer " + login_session(client, "personal", "13800000004", "13800000004")}
    r = client.post(f"{P}/authorisations/applications", json={"uscc": USCC, "identity_type": identity_type},
                    headers=bearer)
    assert r.status_code in (200, 201), r.get_json()
    app_id = r.get_json()["id"]
    sessions_before = SessionRow.select().count()

    fid, r = _enterprise_login(client, "13800000004", "13800000004")
    assert r.status_code == 403, r.get_json()
    assert r.get_json()["code"] == "application_pending"
    assert "session" not in r.get_json()
    # the flow did not reach confirm_pending: its confirm endpoints refuse (whatever id is tried)
    for choice in (f"b{app_id}", str(app_id)):
        r = client.post(f"/api/v1/auth/login/{fid}/confirm", json={"choice": choice, "factor": "taxapp"})
        assert r.status_code in (403, 409, 422), r.get_json()
    assert client.post(f"/api/v1/auth/login/{fid}/confirm/verify").status_code in (403, 404, 409, 422)
    assert Binding.get_by_id(app_id).state == "pending"
    assert SessionRow.select().count() == sessions_before
    # and the enterprise's staff list is not theirs to see with any session they hold
    assert client.get("/api/v1/account/enterprise/staff", headers=bearer).status_code == 403


def test_R_BIND_6_enterprise_login_confirm_needs_the_persons_face(svc, world, client):
    """R-BIND-6, R-LOGIN-3 (issue 10 finding 1): a binding the enterprise added is confirmed at enterprise
    login only with a face scan of this very person: no scan -> scan_pending, another person's face ->
    refused, the binding stays pending; with the person's face it becomes active and the session enters."""
    pending = Binding.get(Binding.person == world["pending"])
    fid, r = _enterprise_login(client, "13800000003", "13800000003")
    data = r.get_json()
    assert r.status_code == 200 and data["state"] == "confirm_pending", data
    assert data["factors"] == ["taxapp", "iitapp"]
    choice = data["pending"][0]["id"]
    # no factor, or a non-face factor: refused
    for factor in (None, "sms", "password"):
        body = {"choice": choice} if factor is None else {"choice": choice, "factor": factor}
        assert client.post(f"/api/v1/auth/login/{fid}/confirm", json=body).status_code == 422
    t = client.post(f"/api/v1/auth/login/{fid}/confirm", json={"choice": choice, "factor": "taxapp"})
    assert t.status_code == 200, t.get_json()
    r = client.post(f"/api/v1/auth/login/{fid}/confirm/verify")
    assert r.status_code == 409 and r.get_json()["code"] == "scan_pending"
    assert Binding.get_by_id(pending.id).state == "pending"
    # somebody else's face on the ticket: the scan fails, nothing is confirmed
    confirm_face(svc, t.get_json()["ticket"], app="taxapp", person_uid="p-plain")
    r = client.post(f"/api/v1/auth/login/{fid}/confirm/verify")
    assert r.status_code in (401, 403, 422), r.get_json()
    assert Binding.get_by_id(pending.id).state == "pending"
    # the person's own face: confirmed, and the login finishes with that identity
    t = client.post(f"/api/v1/auth/login/{fid}/confirm", json={"choice": choice, "factor": "taxapp"})
    confirm_face(svc, t.get_json()["ticket"], app="taxapp", person_uid="p-pending")
    r = client.post(f"/api/v1/auth/login/{fid}/confirm/verify")
    assert r.status_code == 200 and r.get_json()["state"] == "done", r.get_json()
    assert Binding.get_by_id(pending.id).state == "active"


def test_R_BIND_15_enterprise_login_confirm_tells_the_core_tax_system(svc, world, client):
    """R-BIND-15, R-LOG-2, issue 10 "one home" for bindings: confirming a pending binding at the enterprise
    login's confirm step writes, in the transaction of the confirm, the audit row and the outbound
    binding.changed event the account-centre confirm writes (before, the login path wrote the audit row
    but downstream systems never heard that the person became staff). A scan that fails writes neither."""
    from authz.models import AuditLog, OutboxEvent
    pending = Binding.get(Binding.person == world["pending"])
    subject = f"binding:{pending.id}"

    def changed_events():
        return list(OutboxEvent.select().where((OutboxEvent.kind == "binding.changed")
                                               & (OutboxEvent.subject == subject)).order_by(OutboxEvent.id))

    def confirms():
        return list(AuditLog.select().where((AuditLog.target == subject)
                                            & AuditLog.action.in_(["binding.confirm", "authorisation.confirm"])))

    events_before = len(changed_events())
    fid, r = _enterprise_login(client, "13800000003", "13800000003")
    choice = r.get_json()["pending"][0]["id"]
    t = client.post(f"/api/v1/auth/login/{fid}/confirm", json={"choice": choice, "factor": "taxapp"})
    confirm_face(svc, t.get_json()["ticket"], app="taxapp", person_uid="p-plain")  # someone else's face
    assert client.post(f"/api/v1/auth/login/{fid}/confirm/verify").status_code in (401, 403, 422)
    assert len(changed_events()) == events_before and confirms() == []

    t = client.post(f"/api/v1/auth/login/{fid}/confirm", json={"choice": choice, "factor": "taxapp"})
    confirm_face(svc, t.get_json()["ticket"], app="taxapp", person_uid="p-pending")
    r = client.post(f"/api/v1/auth/login/{fid}/confirm/verify")
    assert r.status_code == 200 and r.get_json()["state"] == "done", r.get_json()

    evs = changed_events()[events_before:]
    assert [(e.payload["change"], e.payload["state"], e.payload["person"]) for e in evs] == \
        [("active", "active", "p-pending")]
    assert evs[0].payload["uscc"] == USCC and evs[0].payload["binding_id"] == pending.id
    [row] = confirms()
    assert (row.actor, row.action, row.domain) == ("p-pending", "binding.confirm", pending.domain)
    assert row.detail["via"] == "enterprise_login" and row.detail["face_verified"] is True
    assert row.detail["person"] == "p-pending" and row.detail["identity_type"] == pending.role
