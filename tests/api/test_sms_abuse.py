"""Issue 10 finding 6, as an attacker tries it over HTTP: SMS pumping and spending or locking another
person's login budget (R-SMS-1, R-SMS-2, R-LOGIN-11, R-LOGIN-14; decision in docs/login.md)."""
from __future__ import annotations

import pytest

from api import create_app
from authz.ports.human import HmacToken
from tests.login_support import *  # noqa: F401,F403 (fixtures)
from tests.login_support import PASSWORD, last_code, rid

VICTIM_DOC, VICTIM_PHONE = rid("36010220000404004"), "13800000004"  # 赵六 (p-plain)


def _reg_flow(client):
    fid = client.post("/api/v1/register", json={"agreement": True}).get_json()["flow"]
    r = client.post(f"/api/v1/register/{fid}/identity",
                    json={"name": "攻击者", "doc_type": "resident_id", "doc_number": rid("11010119900101002")})
    assert r.status_code == 200, r.get_json()
    return fid


def _victim_logs_in_by_sms(client):
    """The victim's own SMS login still gets its code and completes."""
    fid = _login_flow(client)
    assert client.post(f"/api/v1/auth/login/{fid}/factors/sms").status_code == 200
    r = client.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": last_code(VICTIM_PHONE)})
    assert r.status_code == 200 and r.get_json()["state"] == "done"


def _login_flow(client):
    r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": VICTIM_PHONE, "password": PASSWORD})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["flow"]


def test_R_SMS_1_forty_numbers_from_one_client_are_capped(svc, world, client):
    """R-SMS-1, issue 10 finding 6: one anonymous client sending registration codes to 40 distinct numbers
    is stopped by the per-client cap (429 sms_client_limit, Retry-After); only the cap's worth went out."""
    answers = []
    for i in range(40):
        r = client.post(f"/api/v1/register/{_reg_flow(client)}/sms-code", json={"phone": f"1391234{i:04d}"})
        answers.append(r.status_code)
    cap = svc.settings.sms_client_quota
    assert answers == [200] * cap + [429] * (40 - cap)
    assert r.get_json()["code"] == "sms_client_limit" and int(r.headers["Retry-After"]) > 0


def test_R_SMS_1_one_flow_sends_at_most_its_cap(svc, world, client):
    """R-SMS-1, issue 10 finding 6: one flow resends at most sms_flow_max_sends codes."""
    fid = _reg_flow(client)
    out = [client.post(f"/api/v1/register/{fid}/sms-code", json={"phone": f"1391111000{i}"}).status_code
           for i in range(4)]
    assert out == [200, 200, 200, 429]


def test_R_SMS_1_anonymous_registration_sends_leave_the_victims_login_quota(svc, world, client):
    """R-SMS-1, issue 10 finding 6: five anonymous registration sends to the victim's phone exhaust only
    registration for that number; the victim's SMS login still gets its code."""
    for _ in range(5):
        assert client.post(f"/api/v1/register/{_reg_flow(client)}/sms-code",
                           json={"phone": VICTIM_PHONE}).status_code == 200
    r = client.post(f"/api/v1/register/{_reg_flow(client)}/sms-code", json={"phone": VICTIM_PHONE})
    assert r.status_code == 429 and r.get_json()["code"] == "sms_quota"
    _victim_logs_in_by_sms(client)


def test_R_LOGIN_11_wrong_reset_codes_do_not_lock_the_victims_sms_login(svc, world, client):
    """R-LOGIN-11, R-SMS-2, issue 10 finding 6: five wrong codes in anonymous password-reset flows lock
    the reset for that phone (423 code_purpose_locked), not the victim's SMS login."""
    for i in range(5):
        fid = client.post("/api/v1/password-reset", json={"doc_type": "resident_id", "doc_number": VICTIM_DOC}
                          ).get_json()["flow"]
        assert client.post(f"/api/v1/password-reset/{fid}/factors/sms", json={"phone": VICTIM_PHONE}).status_code == 200
        wrong = "000000" if last_code(VICTIM_PHONE) != "000000" else "111111"
        r = client.post(f"/api/v1/password-reset/{fid}/factors/sms/verify", json={"code": wrong})
    assert r.status_code == 423 and r.get_json()["code"] == "code_purpose_locked"
    _victim_logs_in_by_sms(client)


def test_R_SMS_1_and_R_LOGIN_11_still_hold_for_the_persons_own_login(svc, world, client, clock):
    """R-SMS-1, R-LOGIN-11, issue 10 finding 6: the person's own login: five codes per 10 minutes then 429
    sms_quota; five own wrong codes lock the SMS method (423 account_locked), as the seeds state."""
    out = [client.post(f"/api/v1/auth/login/{_login_flow(client)}/factors/sms").status_code for _ in range(6)]
    assert out == [200] * 5 + [429]
    clock.advance(minutes=10)
    for i in range(5):
        fid = _login_flow(client)
        assert client.post(f"/api/v1/auth/login/{fid}/factors/sms").status_code == 200
        wrong = "000000" if last_code(VICTIM_PHONE) != "000000" else "111111"
        r = client.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": wrong})
    assert r.status_code == 423 and r.get_json()["code"] == "account_locked"


@pytest.fixture
def hmac_client(svc):
    svc.settings = svc.settings.with_(human_check="hmac", human_check_secret="s3cret-slider-key")
    svc.ports = None  # rebuilt with the hmac adapter
    return create_app(service=svc).test_client()


def test_R_LOGIN_14_send_to_an_unproven_number_needs_a_fresh_human_token(svc, world, hmac_client, clock):
    """R-LOGIN-14, issue 10 finding 6: with a real (hmac) human check, a registration send without a valid
    token is refused (422 human_check_failed); a valid token buys exactly one send."""
    c = hmac_client
    fid = _reg_flow(c)
    url = f"/api/v1/register/{fid}/sms-code"
    assert c.post(url, json={"phone": "13912340000"}).get_json()["code"] == "human_check_failed"
    assert c.post(url, json={"phone": "13912340000", "human_token": "1.x.bad"}).status_code == 422
    token = HmacToken("s3cret-slider-key").sign(int(clock.time()), "n1")
    assert c.post(url, json={"phone": "13912340000", "human_token": token}).status_code == 200
    r = c.post(url, json={"phone": "13912340000", "human_token": token})  # replayed
    assert r.status_code == 422 and r.get_json()["code"] == "human_check_failed"
