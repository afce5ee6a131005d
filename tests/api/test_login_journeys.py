"""Issue 3 'done when', through REST only: register, log in with SMS and with an app scan, get locked,
unlock by reset, QR login with an app session, log out and find the old session refused; hall endpoints."""
from __future__ import annotations

import pytest

from api import create_app
from authz import clients
from authz.factors.app_scan import confirm_face as confirm
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, USCC, last_code, rid

DOC = rid("36010219920606006")


@pytest.fixture
def client(svc):
    return create_app(service=svc).test_client()


def ok(r, status=200):
    assert r.status_code == status, r.get_json()
    return r.get_json()


def test_journey_register_login_lock_reset_qr_logout(svc, world, client):
    """R-REG-1, R-LOGIN-1, R-LOGIN-8, R-LOGIN-11, R-PWD-4, R-LOGIN-7, R-LOGIN-13 end to end over REST."""
    # register with a face scan (the app confirms through the simulator's code path)
    fid = ok(client.post("/api/v1/register", json={"agreement": True}))["flow"]
    ok(client.post(f"/api/v1/register/{fid}/identity", json={"name": "旅程", "doc_type": "resident_id",
                                                           "doc_number": DOC}))
    ok(client.post(f"/api/v1/register/{fid}/sms-code", json={"phone": "13700000011"}))
    out = ok(client.post(f"/api/v1/register/{fid}/basic", json={
        "password": PASSWORD, "confirm_password": PASSWORD, "phone": "13700000011",
        "code": last_code("13700000011"), "username": "lvcheng01"}))
    assert out["state"] == "face"
    t = ok(client.post(f"/api/v1/register/{fid}/face/taxapp"))
    assert client.post(f"/api/v1/register/{fid}/face/verify").status_code == 409
    confirm(svc, t["ticket"], app="taxapp")
    uid = ok(client.post(f"/api/v1/register/{fid}/face/verify"))["person"]
    assert ok(client.get(f"/api/v1/register/{fid}"))["state"] == "done"  # reloading the last page
    assert client.post(f"/api/v1/register/{fid}/face/verify").status_code == 409  # but nothing more to do

    # personal login with the tax-app face scan as second factor
    flow = ok(client.post("/api/v1/auth/login", json={"entry": "personal", "account": "lvcheng01",
                                                     "password": PASSWORD}))["flow"]
    t = ok(client.post(f"/api/v1/auth/login/{flow}/factors/taxapp"))
    confirm(svc, t["ticket"], app="taxapp", person_uid=uid)
    done = ok(client.post(f"/api/v1/auth/login/{flow}/factors/taxapp/verify", json={}))
    assert done["identity"]["domain"] == f"person:{uid}"
    old_cookie = client.get_cookie("authz_session").value

    # five bad passwords lock; the reset unlocks and ends the session
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": DOC, "password": "Bad@2026xx"})
    assert r.status_code == 423
    rf = ok(client.post("/api/v1/password-reset", json={"doc_type": "resident_id", "doc_number": DOC}))["flow"]
    ok(client.post(f"/api/v1/password-reset/{rf}/factors/sms", json={"phone": "13700000011"}))
    ok(client.post(f"/api/v1/password-reset/{rf}/factors/sms/verify", json={"code": last_code("13700000011")}))
    ok(client.post(f"/api/v1/password-reset/{rf}/password", json={"new_password": "Xin#2026pw",
                                                                  "confirm_password": "Xin#2026pw"}))
    assert client.get("/api/v1/account/session").get_json()["code"] == "session_expired"

    # an app logs in (bearer) and confirms a web QR login
    app = create_app(service=svc).test_client()
    flow = ok(app.post("/api/v1/auth/login", json={"entry": "personal", "account": DOC, "password": "Xin#2026pw",
                                                  "client": "app"}))["flow"]
    ok(app.post(f"/api/v1/auth/login/{flow}/factors/sms"))
    bearer = ok(app.post(f"/api/v1/auth/login/{flow}/factors/sms/verify",
                         json={"code": last_code("13700000011")}))["session"]
    web = create_app(service=svc).test_client()
    q = ok(web.post("/api/v1/auth/qr", json={}))
    assert ok(web.get(f"/api/v1/auth/qr/{q['flow']}"))["state"] == "waiting"
    ok(app.post(f"/api/v1/auth/qr/tickets/{q['ticket']}/confirm", json={"app": "taxapp"},
                headers={"Authorization": f"Bearer {bearer}"}))
    assert app.post(f"/api/v1/auth/qr/tickets/{q['ticket']}/confirm", json={"app": "taxapp"},
                    headers={"Authorization": f"Bearer {bearer}"}).status_code == 409
    assert ok(web.get(f"/api/v1/auth/qr/{q['flow']}"))["state"] == "done"
    assert ok(web.get("/api/v1/account/session"))["person"] == uid

    # log out: the old cookie is refused
    cookie = web.get_cookie("authz_session").value
    ok(web.post("/api/v1/auth/logout"))
    web.set_cookie("authz_session", cookie)
    assert web.get("/api/v1/account/session").status_code == 401
    client.set_cookie("authz_session", old_cookie)
    assert client.get("/api/v1/account/session").status_code == 401


def test_R_REG_3_R_REG_7_hall_endpoints_need_the_hall_scope(svc, world, client):
    """R-REG-3 / R-REG-7: hall staff (scope hall) collect a person and issue a registration code; the
    code registers without a face scan; other callers are refused."""
    _, check_key = clients.create("checker", scopes="check")
    _, hall_key = clients.create("hall-nanchang", scopes="hall")
    body = {"name": "大厅", "doc_type": "foreign_passport", "doc_number": "P7654321"}
    assert client.post("/api/v1/hall/registration-codes", json=body).status_code == 401
    assert client.post("/api/v1/hall/registration-codes", json=body,
                       headers={"Authorization": f"Bearer {check_key}"}).status_code == 403
    out = ok(client.post("/api/v1/hall/persons", json={**body, "phone": "13700000012"},
                         headers={"Authorization": f"Bearer {hall_key}"}))
    assert out["collected_offline"] and not out["registered"]
    code = ok(client.post("/api/v1/hall/registration-codes", json=body,
                          headers={"Authorization": f"Bearer {hall_key}"}))["code"]
    fid = ok(client.post("/api/v1/register", json={"agreement": True, "overseas": True}))["flow"]
    ok(client.post(f"/api/v1/register/{fid}/identity", json=body))
    ok(client.post(f"/api/v1/register/{fid}/sms-code", json={"phone": "13700000013"}))
    done = ok(client.post(f"/api/v1/register/{fid}/basic", json={
        "password": PASSWORD, "confirm_password": PASSWORD, "phone": "13700000013",
        "code": last_code("13700000013"), "registration_code": code}))
    assert done["state"] == "done" and done["verified_by"] == "hall_code" and done["person"] == out["person"]


def test_R_PHONE_7_phone_recovery_over_rest(svc, world, client):
    """R-PHONE-7 over REST."""
    r = ok(client.post("/api/v1/phone-recovery", json={"doc_type": "resident_id",
                                                       "doc_number": rid("36010220000404004"),
                                                       "password": PASSWORD, "new_phone": "13700000014"}))
    out = ok(client.post(f"/api/v1/phone-recovery/{r['flow']}/verify", json={"code": last_code("13700000014")}))
    assert out["state"] == "done"
