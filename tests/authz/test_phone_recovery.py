"""Recover a phone (R-PHONE-7, R-PHONE-6): document + password + new phone with its SMS code."""
from __future__ import annotations

import pytest

from authz.errors import AuthzError
from authz.flows import login, phone_recovery
from authz.models import Phone
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, last_code, rid

DOC = rid("36010220000404004")  # p-plain


def err(fn, *a, **kw) -> AuthzError:
    with pytest.raises(AuthzError) as e:
        fn(*a, **kw)
    return e.value


def test_R_PHONE_7_recover_a_blanked_phone(svc, world):
    """R-PHONE-7: a person whose phone was blanked sets a new one (taken from its holder, R-PHONE-6),
    which becomes the default and logs in."""
    Phone.delete().where(Phone.person == world["plain"]).execute()
    out = phone_recovery.start(svc, doc_type="resident_id", doc_number=DOC, password=PASSWORD, new_phone="13800000005")
    assert out["phone"] == "138****0005"
    assert err(phone_recovery.complete, svc, out["flow"], "000000" if last_code("13800000005") != "000000"
               else "000001").code == "code_invalid"
    phone_recovery.complete(svc, out["flow"], last_code("13800000005"))
    ph = Phone.get(Phone.number == "13800000005")
    assert ph.person.uid == "p-plain" and ph.is_default
    assert not Phone.select().where(Phone.person == world["agent"]).exists()
    assert err(phone_recovery.complete, svc, out["flow"], last_code("13800000005")).code == "flow_state"
    st = login.start(svc, entry="personal", account="13800000005", password=PASSWORD)
    assert st.view["sms_phone"] == "138****0005"


def test_R_PHONE_7_wrong_password_counts_toward_the_lockout(svc, world):
    """R-PHONE-7 / R-LOGIN-11: the password is checked like a login's; five failures lock it."""
    for i in range(5):
        e = err(phone_recovery.start, svc, doc_type="resident_id", doc_number=DOC, password="Wrong@2026x",
                new_phone="13700000001")
    assert e.code == "account_locked"
    assert err(login.start, svc, entry="personal", account=DOC, password=PASSWORD).code == "account_locked"


def test_R_LOGIN_11_phone_recovery_reserves_before_it_verifies(svc, world):
    """R-PHONE-7 / R-LOGIN-11 (issue 10 finding 4): with the limit of password checks in flight elsewhere,
    a recovery start is refused 429 attempts_in_progress and the person's password is not evaluated (only
    the dummy verify that keeps the cost the same)."""
    from authz.ports import ports_of
    counters, hasher, now = ports_of(svc).counters, ports_of(svc).hasher, svc.clock.time()
    for _ in range(svc.settings.lockout_failures):
        assert counters.reserve("p-plain", "password", now) is None
    before = hasher.verifications
    e = err(phone_recovery.start, svc, doc_type="resident_id", doc_number=DOC, password=PASSWORD,
            new_phone="13700000001")
    assert e.code == "attempts_in_progress" and hasher.verifications - before == 1
    for _ in range(svc.settings.lockout_failures):
        counters.release("p-plain", "password")
    assert phone_recovery.start(svc, doc_type="resident_id", doc_number=DOC, password=PASSWORD,
                                new_phone="13700000001")["state"] == "code_sent"
