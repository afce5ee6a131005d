"""REST API of the tax digital certificates: filing (scope `integration`), certificate login (R-LOGIN-9)
and the enterprise account centre's certificates (R-CERT-1)."""
from __future__ import annotations

import pytest

from authz import clients
from authz.models import AuditLog
from tests.cert_support import CERT_PASSWORD, SUBJECT, new_key, pem, sign, validity
from tests.login_support import *  # noqa: F401,F403  (cheap argon2 settings, world)
from tests.login_support import AGENCY, PASSWORD, USCC

CERTS = "/api/v1/account/enterprise/certificates"


@pytest.fixture
def ca(svc):
    _, key = clients.create("cert-authority", scopes="integration")
    return {"Authorization": f"Bearer {key}"}


def file(client, svc, ca, serial, key, kind="sm", uscc=USCC, **extra):
    start, end = validity(svc)
    body = {"uscc": uscc, "kind": kind, "subject": SUBJECT, "public_key": pem(key), "valid_from": start.isoformat(),
            "valid_to": end.isoformat(), "password": CERT_PASSWORD, **extra}
    return client.put(f"/api/v1/integration/certificates/{serial}", json=body, headers=ca)


def cert_login(client, key, serial="CERT001", account="13800000002", **kw):
    body = {"serial": serial, "certificate_password": CERT_PASSWORD, "account": account, "password": PASSWORD,
            "client": "app", **kw}
    r = client.post("/api/v1/auth/certificate", json=body)
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    return data["flow"], client.post(f"/api/v1/auth/certificate/{data['flow']}/verify",
                                     json={"signature": sign(key, data["challenge"])})


def bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


def test_R_LOGIN_9_filing_needs_the_integration_scope(client, svc, world, ca, auth):
    """R-LOGIN-9: certificates arrive through the integration port only; resends change nothing."""
    key = new_key("sm")
    assert file(client, svc, auth, "CERT001", key).status_code == 403
    r = file(client, svc, ca, "CERT001", key)
    assert r.status_code == 200 and r.get_json() == {"serial": "CERT001", "changed": True}
    assert file(client, svc, ca, "CERT001", key).get_json()["changed"] is False
    assert file(client, svc, ca, "CERT002", key, uscc="91360100MA35NOSUCH").status_code == 404
    assert file(client, svc, ca, "CERT003", key, kind="rsa").get_json()["code"] == "certificate_key_invalid"


def test_R_LOGIN_9_certificate_login_over_http(client, svc, world, ca):
    """R-LOGIN-9: start -> signed challenge -> choose the identity -> a session that works; a replayed
    verify is refused."""
    key = new_key("sm")
    file(client, svc, ca, "CERT001", key)
    fid, r = cert_login(client, key, account="13800000001")
    data = r.get_json()
    assert r.status_code == 200 and data["state"] == "choose", data
    pick = next(c["id"] for c in data["choices"] if c["identity_type"] == "legal_rep")
    done = client.post(f"/api/v1/auth/certificate/{fid}/choose", json={"choice": pick}).get_json()
    assert done["state"] == "done" and done["identity"]["identity_type"] == "legal_rep"
    listed = client.get(CERTS, headers=bearer(done["session"]))
    assert listed.status_code == 200 and listed.get_json()["certificates"][0]["serial"] == "CERT001"
    replay = client.post(f"/api/v1/auth/certificate/{fid}/verify", json={"signature": "AAAA"})
    assert replay.status_code == 409 and replay.get_json()["code"] == "flow_state"


def test_R_LOGIN_9_wrong_signature_and_password_over_http(client, svc, world, ca):
    """R-LOGIN-9: a wrong signature is 401 with a stable code; a wrong certificate password too; both count
    toward the method `certificate`, so the fifth failure of either kind locks (423); nothing is echoed."""
    file(client, svc, ca, "CERT001", new_key("sm"))
    _, r = cert_login(client, new_key("sm"))
    assert r.status_code == 401 and r.get_json()["code"] == "certificate_signature_invalid"
    body = {"serial": "CERT001", "certificate_password": "Wrong@2026x", "account": "13800000002",
            "password": PASSWORD}
    limit = svc.settings.lockout_failures
    codes = [client.post("/api/v1/auth/certificate", json=body) for _ in range(limit - 1)]
    assert [c.status_code for c in codes] == [401] * (limit - 2) + [423]
    assert codes[0].get_json()["code"] == "certificate_invalid"
    assert all("Wrong@2026x" not in c.get_data(as_text=True) for c in codes)


def test_R_CERT_1_list_and_change_password_over_http(client, svc, world, ca):
    """R-CERT-1: the list is masked; the password change applies the policy, is audited, and another
    enterprise's serial is 404."""
    key = new_key("sm")
    file(client, svc, ca, "CERT001", key)
    file(client, svc, ca, "CERT009", new_key("sm"), uscc=AGENCY)
    _, r = cert_login(client, key)
    sid = r.get_json()["session"]
    rows = client.get(CERTS, headers=bearer(sid)).get_json()["certificates"]
    assert [c["serial"] for c in rows] == ["CERT001"] and SUBJECT not in str(rows)
    change = lambda serial, new, confirm=None: client.post(  # noqa: E731
        f"{CERTS}/{serial}/password", headers=bearer(sid),
        json={"old_password": CERT_PASSWORD, "new_password": new, "confirm_password": confirm or new})
    assert change("CERT009", "New@2026cert").status_code == 404
    assert change("CERT001", "short").status_code == 422
    assert change("CERT001", "New@2026cert", "Other@2026cert").status_code == 422
    r = change("CERT001", "New@2026cert")
    assert r.status_code == 200 and r.get_json() == {"serial": "CERT001", "changed": True}
    assert AuditLog.select().where(AuditLog.action == "certificate.change_password").count() == 1
    assert client.get(CERTS).status_code == 401


def test_R_CERT_1_forbidden_for_identities_without_the_function(client, svc, world, ca, directory):
    """R-CERT-1: an identity the rules do not give `ac.cert` (computed from the enforcer) gets 403."""
    from tests.person_support import expected
    roles = [r for r in ("invoice_officer", "tax_officer") if not expected(svc, "enterprise", r, "ac.cert", "view")]
    assert roles, "some identity type must lack ac.cert view"
    key = new_key("sm")
    file(client, svc, ca, "CERT001", key)
    directory.bind(world["plain"], world["ent"], roles[0], state="active", origin="enterprise")
    _, r = cert_login(client, key, account="13800000004")
    sid = r.get_json()["session"]
    assert client.get(CERTS, headers=bearer(sid)).status_code == 403
    r = client.post(f"{CERTS}/CERT001/password", headers=bearer(sid),
                    json={"old_password": CERT_PASSWORD, "new_password": "New@2026cert",
                          "confirm_password": "New@2026cert"})
    assert r.status_code == 403
