"""Reading and lifting a lockout through its one home (R-LOGIN-11, issue 13 helpdesk): `Counters.failures`
and a per-method `Counters.unlock` on both backends, and `verification.lockout_state` / `verification.unlock`
over the same counters the login's factor checks count in."""
from __future__ import annotations

import pytest

from authz import verification
from authz.errors import AuthzError
from tests.authz.test_counters import T0, counters  # noqa: F401  (the database + Redis fixture)
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD


def test_R_LOGIN_11_failures_are_read_per_method_and_close_with_their_window(counters):  # noqa: F811
    """R-LOGIN-11: the consecutive failures of each method are readable; a success resets them, and once
    the day's window has closed they read 0."""
    assert counters.failures("p-x", "password", T0) == 0
    for _ in range(3):
        counters.fail("p-x", "password", T0)
    counters.fail("p-x", "sms", T0)
    assert counters.failures("p-x", "password", T0 + 1) == 3
    assert counters.failures("p-x", "sms", T0 + 1) == 1
    assert counters.failures("p-x", "face", T0 + 1) == 0
    assert counters.failures("p-x", "password", T0 + 86_400) == 0  # next day: the window has closed
    counters.succeed("p-x", "password")
    assert counters.failures("p-x", "password", T0 + 1) == 0


def test_R_LOGIN_11_unlock_of_one_method_keeps_the_others_locked(counters):  # noqa: F811
    """R-LOGIN-11 (issue 13 helpdesk): unlocking one method lifts its lock and count only."""
    for _ in range(5):
        counters.fail("p-x", "password", T0)
        counters.fail("p-x", "sms", T0)
    assert counters.locked_until("p-x", "password", T0 + 1) and counters.locked_until("p-x", "sms", T0 + 1)
    counters.unlock("p-x", ("sms",))
    assert counters.locked_until("p-x", "sms", T0 + 1) is None
    assert counters.locked_until("p-x", "password", T0 + 1)
    counters.unlock("p-x")  # the password reset's call: every method
    assert counters.locked_until("p-x", "password", T0 + 1) is None


def test_R_LOGIN_11_helpdesk_unlock_lets_the_real_login_check_run_again(svc, world):
    """R-LOGIN-11 (issue 13 helpdesk): five wrong passwords through the one mechanism lock the password
    method; lockout_state shows it; verification.unlock lifts it and the right password passes again."""
    person = world["plain"]

    def check(secret):
        return verification.verify(svc, purpose="login", factor_name="password", offered=("password",),
                                   person=person, secret=secret)
    for _ in range(5):
        with pytest.raises(AuthzError):
            check("Wrong@2026x")
    state = {s.method: s for s in verification.lockout_state(svc, person.uid)}
    assert state["password"].locked_until and state["sms"].locked_until is None
    with pytest.raises(AuthzError) as locked:
        check(PASSWORD)
    assert locked.value.code == "account_locked"
    assert verification.unlock(svc, person.uid, ("password",)) == ["password"]
    assert check(PASSWORD).person_uid == person.uid
    assert verification.unlock(svc, person.uid) == []  # nothing was locked any more
    with pytest.raises(AuthzError) as bad:
        verification.unlock(svc, person.uid, ("fingerprint",))
    assert bad.value.code == "validation_failed"


def test_R_LOGIN_11_a_helpdesk_unlock_is_audited_or_not_done(svc, world, monkeypatch):
    """R-LOGIN-11, R-LOG-2 (issue 13 helpdesk): the unlock and its audit row commit together: when the audit
    row cannot be written, the lock stays (the database backend's record of it is rolled back)."""
    from authz import helpdesk
    from authz.models import AuditLog
    person = world["plain"]
    for _ in range(5):
        with pytest.raises(AuthzError):
            verification.verify(svc, purpose="login", factor_name="password", offered=("password",),
                                person=person, secret="Wrong@2026x")
    op = helpdesk.Operator.of("desk-tool", "desk-07")

    def broken(**row):
        raise RuntimeError("audit store full")
    monkeypatch.setattr(AuditLog, "create", broken)
    with pytest.raises(RuntimeError):
        helpdesk.unlock(svc, op, person.uid, reason="ticket 9")
    assert {s.method: s for s in verification.lockout_state(svc, person.uid)}["password"].locked_until
    monkeypatch.undo()
    assert helpdesk.unlock(svc, op, person.uid, reason="ticket 9")["unlocked"] == ["password"]
    assert AuditLog.get(AuditLog.action == "helpdesk.lockout.unlock").detail["operator"] == "desk-07"
