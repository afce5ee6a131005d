"""What the front end's registration, recovery and QR-login pages need from the API (issue 11): the document
types with their names (R-REG-2), the identity a QR login yielded named for the page (R-LOGIN-7), and the
development app simulator scanning an enterprise-business QR login and a registrant's face check."""
from __future__ import annotations

import dataclasses

import pytest

from api import create_app
from authz.factors.app_scan import confirm_login
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, USCC, last_code, rid


def ok(r, status=200):
    assert r.status_code == status, r.get_json()
    return r.get_json()


@pytest.fixture
def dev_client(svc):
    svc.settings = dataclasses.replace(svc.settings, dev_pages=True)  # as `authz serve --demo` sets it
    return create_app(service=svc).test_client()


def test_R_REG_2_document_types_list_the_eleven_with_their_names_and_which_register_online(svc):
    c = create_app(service=svc).test_client()
    types = ok(c.get("/api/v1/register/document-types"))["document_types"]
    assert len(types) == 11
    assert sum(t["online"] for t in types) == 7  # four only after a hall collection
    by = {t["code"]: t for t in types}
    assert by["resident_id"]["name"] == "居民身份证" and by["resident_id"]["online"]
    assert not by["foreign_passport"]["online"] and by["foreign_passport"]["overseas"]
    en = ok(c.get("/api/v1/register/document-types", headers={"Accept-Language": "en"}))["document_types"]
    assert {t["code"]: t["name"] for t in en}["resident_id"] == "Resident identity card"
    # every listed code is one the registration form takes
    fid = ok(c.post("/api/v1/register", json={"agreement": True}))["flow"]
    r = c.post(f"/api/v1/register/{fid}/identity", json={"name": "甲", "doc_type": "nope", "doc_number": "12345"})
    assert r.status_code == 422


def test_R_LOGIN_7_the_qr_poll_names_the_identity_the_scan_yielded(svc, world):
    """The tax app logged in to enterprise business: the web session is enterprise business too, and the
    page is told the identity's name and the masked USCC (no role table in the front end)."""
    web = create_app(service=svc).test_client()
    q = ok(web.post("/api/v1/auth/qr", json={}))
    confirm_login(svc, q["ticket"], app="taxapp", person_uid="p-legal",
                  business={"entry": "enterprise", "domain": f"ent:{USCC}", "role": "legal_rep"})
    done = ok(web.get(f"/api/v1/auth/qr/{q['flow']}"))
    assert done["state"] == "done"
    assert done["identity"]["entry"] == "enterprise" and done["identity"]["identity_label"] == "法定代表人"
    assert done["identity"]["uscc_masked"] != USCC and done["identity"]["uscc_masked"].endswith(USCC[-4:])
    assert ok(web.get("/api/v1/account/session"))["entry"] == "enterprise"


def test_R_LOGIN_7_the_simulator_scans_a_qr_login_in_enterprise_business(svc, world, dev_client):
    q = ok(dev_client.post("/api/v1/auth/qr", json={}))
    r = dev_client.post("/api/v1/dev/scan", json={"ticket": q["ticket"], "person": "p-legal", "uscc": USCC})
    assert r.status_code == 422 and "identity_type" in r.get_json()["errors"]["json"]
    # an identity the person does not hold there is refused
    r = dev_client.post("/api/v1/dev/scan", json={"ticket": q["ticket"], "person": "p-officer", "uscc": USCC,
                                                  "identity_type": "legal_rep"})
    assert r.status_code >= 400 and r.get_json()["code"] == "identity_not_held"
    ok(dev_client.post("/api/v1/dev/scan", json={"ticket": q["ticket"], "person": "p-legal", "uscc": USCC,
                                                 "identity_type": "legal_rep"}))
    done = ok(dev_client.get(f"/api/v1/auth/qr/{q['flow']}"))
    assert done["identity"]["domain"] == f"ent:{USCC}" and done["identity"]["identity_type"] == "legal_rep"
    # the IIT app is personal only, whatever the simulator is told
    q = ok(dev_client.post("/api/v1/auth/qr", json={}))
    r = dev_client.post("/api/v1/dev/scan", json={"ticket": q["ticket"], "person": "p-legal", "app": "iitapp",
                                                  "uscc": USCC, "identity_type": "legal_rep"})
    assert r.status_code >= 400
    assert ok(dev_client.get(f"/api/v1/auth/qr/{q['flow']}"))["state"] == "waiting"


def test_R_REG_1_the_simulator_shows_a_registrants_face_without_a_person_id(svc, world, dev_client):
    """A registrant has no person id yet: the simulator scans with the ticket's own subject's face (as
    `authz dev scan TICKET` without --as), and the registration completes."""
    c = dev_client
    fid = ok(c.post("/api/v1/register", json={"agreement": True}))["flow"]
    ok(c.post(f"/api/v1/register/{fid}/identity", json={"name": "模拟", "doc_type": "resident_id",
                                                      "doc_number": rid("36010219960707007")}))
    ok(c.post(f"/api/v1/register/{fid}/sms-code", json={"phone": "13700000021"}))
    assert ok(c.post(f"/api/v1/register/{fid}/basic", json={
        "password": PASSWORD, "confirm_password": PASSWORD, "phone": "13700000021",
        "code": last_code("13700000021")}))["state"] == "face"
    t = ok(c.post(f"/api/v1/register/{fid}/face/taxapp"))
    wrong = ok(c.post("/api/v1/dev/scan", json={"ticket": t["ticket"], "face_ok": False}))
    assert wrong["state"] == "failed"
    assert c.post(f"/api/v1/register/{fid}/face/verify").get_json()["code"] == "face_mismatch"
    t = ok(c.post(f"/api/v1/register/{fid}/face/taxapp"))
    assert ok(c.post("/api/v1/dev/scan", json={"ticket": t["ticket"]}))["state"] == "confirmed"
    done = ok(c.post(f"/api/v1/register/{fid}/face/verify"))
    assert done["state"] == "done" and done["realname_level"] == 4
