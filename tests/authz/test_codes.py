"""The one verification-code process (R-SMS-1, R-SMS-2): CSPRNG 6 digits, 5 minutes, purpose and flow
binding, attempt cap, constant-time compare, atomic single use, quota per phone."""
from __future__ import annotations

import threading

import pytest

from authz import codes
from authz.db import database
from authz.errors import AuthzError
from authz.models import SmsOutbox, VerificationCode
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import last_code

PHONE = "13600000001"
FLOW_A = "a" * 64
FLOW_B = "b" * 64


def err(fn, *a, **kw) -> AuthzError:
    with pytest.raises(AuthzError) as e:
        fn(*a, **kw)
    return e.value


def test_R_SMS_2_six_digits_valid_five_minutes(svc, clock):
    """R-SMS-2: the SMS carries 6 digits; the code works within 5 minutes and not after."""
    codes.issue(svc, "login", FLOW_A, PHONE)
    code = last_code(PHONE)
    assert len(code) == 6 and code.isdigit()
    clock.advance(seconds=svc.settings.code_ttl_seconds)
    assert err(codes.verify, svc, "login", FLOW_A, code).code == "code_expired"
    codes.issue(svc, "login", FLOW_A, PHONE)
    clock.advance(seconds=svc.settings.code_ttl_seconds - 1)
    codes.verify(svc, "login", FLOW_A, last_code(PHONE))


def test_R_SMS_2_a_code_is_used_once(svc):
    """R-SMS-2: reuse of a consumed code is refused."""
    codes.issue(svc, "login", FLOW_A, PHONE)
    code = last_code(PHONE)
    codes.verify(svc, "login", FLOW_A, code)
    assert err(codes.verify, svc, "login", FLOW_A, code).code == "code_used"


def test_R_SMS_2_attempt_cap_kills_the_code(svc):
    """R-SMS-2: after code_max_attempts wrong tries even the right code is refused."""
    codes.issue(svc, "login", FLOW_A, PHONE)
    code = last_code(PHONE)
    wrong = f"{(int(code) + 7) % 1_000_000:06d}"
    for _ in range(svc.settings.code_max_attempts):
        assert err(codes.verify, svc, "login", FLOW_A, wrong).code == "code_invalid"
    assert err(codes.verify, svc, "login", FLOW_A, code).code == "code_attempts_exhausted"


def test_R_SMS_2_a_code_from_flow_A_is_useless_in_flow_B(svc):
    """R-SMS-2: codes are bound to the flow that asked for them and to their purpose."""
    codes.issue(svc, "login", FLOW_A, PHONE)
    code_a = last_code(PHONE)
    assert err(codes.verify, svc, "login", FLOW_B, code_a).code == "code_not_requested"
    codes.issue(svc, "login", FLOW_B, PHONE)
    code_b = last_code(PHONE)
    if code_b != code_a:
        assert err(codes.verify, svc, "login", FLOW_B, code_a).code == "code_invalid"
    assert err(codes.verify, svc, "reset", FLOW_A, code_a).code == "code_not_requested"
    codes.verify(svc, "login", FLOW_A, code_a)


def test_R_SMS_2_a_new_code_supersedes_the_previous_one(svc):
    """R-SMS-2: asking again kills the earlier code of the same flow and purpose."""
    codes.issue(svc, "login", FLOW_A, PHONE)
    first = last_code(PHONE)
    codes.issue(svc, "login", FLOW_A, PHONE)
    second = last_code(PHONE)
    if first != second:
        assert err(codes.verify, svc, "login", FLOW_A, first).code == "code_invalid"
    codes.verify(svc, "login", FLOW_A, second)


def test_R_PWD_5_codes_are_stored_only_as_digests(svc):
    """R-PWD-5 / R-SMS-2: the code table holds a keyed digest, not the code."""
    row = codes.issue(svc, "login", FLOW_A, PHONE)
    code = last_code(PHONE)
    stored = VerificationCode.get_by_id(row.id)
    assert code not in repr(stored.__data__)


def test_R_SMS_2_twenty_concurrent_submissions_of_one_code_one_success(svc):
    """R-SMS-2: 20 threads submit the right code at once (file SQLite or PostgreSQL): exactly one wins."""
    codes.issue(svc, "login", FLOW_A, PHONE)
    code = last_code(PHONE)
    results: list[str] = []
    barrier = threading.Barrier(20)
    lock = threading.Lock()

    def submit():
        database.connect(reuse_if_open=True)
        try:
            barrier.wait()
            try:
                codes.verify(svc, "login", FLOW_A, code)
                out = "ok"
            except AuthzError as e:
                out = e.code
        finally:
            database.close()
        with lock:
            results.append(out)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert set(results) <= {"ok", "code_used", "code_attempts_exhausted"}


def test_R_SMS_1_sixth_code_in_ten_minutes_is_refused_and_the_window_slides(svc, clock):
    """R-SMS-1: five codes per phone per 10 minutes counted from the first; the sixth is refused with
    Retry-After; once 10 minutes from the first have passed, five more may be sent. (Each code from a
    flow of its own: one flow sends at most sms_flow_max_sends, issue 10 finding 6.)"""
    flows = iter(f"{i:064d}" for i in range(100))
    send = lambda phone=PHONE: codes.issue(svc, "login", next(flows), phone, proven=True)  # noqa: E731
    for i in range(5):
        send()
        clock.advance(minutes=1)
    e = err(send)
    assert e.code == "sms_quota" and e.status == 429 and e.headers["Retry-After"] == "300"
    assert SmsOutbox.select().where(SmsOutbox.phone == PHONE).count() == 5
    send("13600000002")  # another phone has its own quota
    clock.advance(minutes=4, seconds=59)
    assert err(send).code == "sms_quota"
    clock.advance(seconds=1)  # 10 minutes after the first
    for i in range(5):
        send()
    assert err(send).code == "sms_quota"
