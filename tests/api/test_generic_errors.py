"""Issue 10 finding 7, as an attacker tries it: with AUTHZ_GENERIC_LOGIN_ERRORS=true no sequence of
answers tells whether an account exists (R-LOGIN-12 decision): the lockout (R-LOGIN-11) and the SMS quota
(R-SMS-1) answer the same for an unknown account or a phone that is not the document's."""
from __future__ import annotations

import pytest

from api import create_app
from tests.login_support import *  # noqa: F401,F403 (fixtures)
from tests.login_support import rid


@pytest.fixture
def client(svc):
    svc.settings = svc.settings.with_(generic_login_errors=True)
    return create_app(service=svc).test_client()


def _wrong_passwords(client, account, n=6):
    out = []
    for _ in range(n):
        r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": account, "password": "Wrong@2026x"})
        body = r.get_json()
        out.append((r.status_code, body["code"], body.get("errors")))
    return out


def test_R_LOGIN_12_lockout_answers_the_same_for_unknown_accounts(svc, world, client):
    """R-LOGIN-12, R-LOGIN-11 (issue 10 finding 7): six wrong passwords give the same sequence of answers
    (401 x4, then 423 with the same lock end) for a real account and an unknown one."""
    real = _wrong_passwords(client, "13800000004")
    unknown = _wrong_passwords(client, "13711112222")
    assert [a[:2] for a in real] == [a[:2] for a in unknown]
    assert real[0][:2] == (401, "login_failed") and real[4][:2] == (423, "account_locked")
    assert real[4][2] == unknown[4][2]  # the same locked_until
    # an unknown ID number too
    assert [a[:2] for a in _wrong_passwords(client, rid("11010119990101001"))] == [a[:2] for a in real]


def test_R_LOGIN_12_reset_sms_quota_answers_the_same_whoever_holds_the_phone(svc, world, client):
    """R-LOGIN-12, R-SMS-1 (issue 10 finding 7): in the password reset, the 6th SMS to a phone answers 429
    whether or not the phone belongs to the document."""
    def sends(doc, phone):
        out = []
        for _ in range(6):
            f = client.post("/api/v1/password-reset", json={"doc_type": "resident_id", "doc_number": doc})
            assert f.status_code == 200, f.get_json()
            r = client.post(f"/api/v1/password-reset/{f.get_json()['flow']}/factors/sms", json={"phone": phone})
            out.append(r.status_code)
        return out
    own = sends(rid("36010220000404004"), "13800000004")  # 赵六's document and phone
    foreign = sends(rid("36010220000404004"), "13900000009")  # a phone that is not the document's
    unknown = sends(rid("11010119990101001"), "13900000008")  # nobody's document
    assert own == foreign == unknown == [200] * 5 + [429]


def test_R_LOGIN_12_reset_wrong_codes_answer_the_same_whoever_holds_the_phone(svc, world, client):
    """R-LOGIN-12, R-SMS-2 (issue 10 finding 7): after the send, wrong codes in the password reset answer
    the same sequence (code_invalid ... code_attempts_exhausted) whether the phone is the document's, is
    someone else's, or the document is nobody's; a decoy code sent nowhere answered code_not_requested
    before, which told the attacker the phone was not the document's."""
    def wrong_codes(doc, phone):
        f = client.post("/api/v1/password-reset", json={"doc_type": "resident_id", "doc_number": doc}).get_json()
        r = client.post(f"/api/v1/password-reset/{f['flow']}/factors/sms", json={"phone": phone})
        assert r.status_code == 200, r.get_json()
        out = []
        for _ in range(6):
            r = client.post(f"/api/v1/password-reset/{f['flow']}/factors/sms/verify", json={"code": "000000"})
            out.append((r.status_code, r.get_json()["code"]))
        return out
    own = wrong_codes(rid("36010220000404004"), "13800000004")  # 赵六's document and phone
    foreign = wrong_codes(rid("36010220000404004"), "13900000009")
    unknown = wrong_codes(rid("11010119990101001"), "13900000008")
    assert own == foreign == unknown
    assert own[0][1] == "code_invalid"


def test_R_LOGIN_12_a_decoy_code_verifies_nothing(svc, world):
    """R-LOGIN-12, R-PWD-4: the decoy row kept for a phone that is not the account's matches no typed code
    at all (every one of the 10^6 six-digit codes is tried against its digest), so guessing cannot reset a
    password without the account's phone."""
    import hmac
    from authz import codes
    svc.settings = svc.settings.with_(generic_login_errors=True)
    row = codes.issue(svc, codes.Purpose.RESET, "f" * 64, "13900000009", proven=True, deliver=False)
    assert not any(hmac.compare_digest(row.code_digest, codes._digest(row.id, "f" * 64, f"{n:06d}"))
                   for n in range(1_000_000))
