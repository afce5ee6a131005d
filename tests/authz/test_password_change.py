"""Password change in the account centre (R-PWD-3): old password, SMS code to the default phone, or face
scan; the person's other sessions end; codes are bound to their purpose and flow."""
from __future__ import annotations

from authz import sessions
from authz.flows import login, password_change, phones
from authz.models import AuditLog
from tests.person_support import *  # noqa: F401,F403
from tests.person_support import PASSWORD, USCC, err, face, in_enterprise, last_code, personal

NEW = "Xin#2026pw"


def can_log_in_with(svc, account, password) -> bool:
    try:
        return login.start(svc, entry="personal", account=account, password=password).view["state"] == "second_factor"
    except Exception:
        return False


def test_R_PWD_3_change_with_the_old_password_ends_the_other_sessions(svc, world):
    """R-PWD-3: the old password verifies the change; the new password logs in, the old does not; every
    other session of the person ends, the one making the change stays; audited without the password."""
    other_raw, _ = sessions.create(svc, world["plain"], sessions.Identity(sessions.Entry.PERSONAL, "person:p-plain", "self"))
    me = personal(svc, world["plain"])
    out = password_change.change_with_old_password(svc, me, PASSWORD, NEW, NEW)
    assert out == {"state": "done", "sessions_ended": 1}
    assert err(sessions.resolve, svc, other_raw).code == "session_expired"
    assert sessions.list_for_person(svc, world["plain"])[0].id == me.session_id
    assert can_log_in_with(svc, "13800000004", NEW) and not can_log_in_with(svc, "13800000004", PASSWORD)
    row = AuditLog.get(AuditLog.action == "person.password.change")
    assert row.detail == {"method": "old_password", "sessions_ended": 1}
    assert NEW not in str(row.detail) and PASSWORD not in str(row.detail)


def test_R_PWD_3_wrong_old_password_counts_toward_the_lockout(svc, world):
    """R-PWD-3 / R-LOGIN-11: a wrong old password is refused and counted; the fifth locks the password
    method (even the right old password is then refused)."""
    me = personal(svc, world["plain"])
    answers = [err(password_change.change_with_old_password, svc, me, "Wrong@2026x", NEW, NEW).code for _ in range(5)]
    assert answers[0] == "old_password_wrong" and answers[-1] == "account_locked"
    assert err(password_change.change_with_old_password, svc, me, PASSWORD, NEW, NEW).code == "account_locked"


def test_R_PWD_1_the_new_password_follows_the_policy_and_differs(svc, world):
    """R-PWD-3 with R-PWD-1: policy errors name the rule; the new password must differ from the old."""
    me = personal(svc, world["plain"])
    assert err(password_change.change_with_old_password, svc, me, PASSWORD, "short1A", "short1A").code == "password_length"
    assert err(password_change.change_with_old_password, svc, me, PASSWORD, "alllower123", "alllower123").code == "password_classes"
    assert err(password_change.change_with_old_password, svc, me, PASSWORD, NEW, NEW + "x").code == "password_mismatch"
    assert err(password_change.change_with_old_password, svc, me, PASSWORD, PASSWORD, PASSWORD).code == "password_unchanged"


def test_R_PWD_3_change_by_sms_code_to_the_default_phone(svc, world):
    """R-PWD-3: an SMS code to the default phone, then the new password twice."""
    me = personal(svc, world["plain"])
    f = password_change.start(svc, me)
    assert f["sms_phone"] == "138****0004" and f["factors"] == ["sms", "taxapp", "iitapp"]
    sent = password_change.begin_factor(svc, me, f["flow"], "sms")
    assert sent["phone"] == "138****0004"
    assert err(password_change.set_password, svc, me, f["flow"], NEW, NEW).code == "flow_state"  # no skipping
    password_change.verify_factor(svc, me, f["flow"], "sms", last_code("13800000004"))
    assert err(password_change.set_password, svc, me, f["flow"], PASSWORD, PASSWORD).code == "password_unchanged"
    assert password_change.set_password(svc, me, f["flow"], NEW, NEW)["state"] == "done"
    assert err(password_change.set_password, svc, me, f["flow"], NEW, NEW).code == "flow_state"  # no replay
    assert can_log_in_with(svc, "13800000004", NEW)


def test_R_PWD_3_change_by_face_scan(svc, world):
    """R-PWD-3: a face scan of the person (tax app) verifies the change; another face does not."""
    me = personal(svc, world["plain"])
    f = password_change.start(svc, me)["flow"]
    face(svc, password_change.begin_factor(svc, me, f, "taxapp"), "p-officer")
    assert err(password_change.verify_factor, svc, me, f, "taxapp").code == "face_mismatch"
    face(svc, password_change.begin_factor(svc, me, f, "taxapp"), "p-plain")
    password_change.verify_factor(svc, me, f, "taxapp")
    password_change.set_password(svc, me, f, NEW, NEW)
    assert AuditLog.get(AuditLog.action == "person.password.change").detail["method"] == "taxapp"


def test_R_SMS_2_a_phone_change_code_does_not_change_the_password(svc, world):
    """R-SMS-2 (attacker's view): a code issued for a phone-change flow is bound to that flow and purpose;
    submitted in a password-change flow it verifies nothing, and stays usable where it belongs."""
    me = personal(svc, world["plain"])
    pf = phones.start(svc, me, "add")["flow"]
    phones.begin_factor(svc, me, "add", pf, "sms")
    phone_code = last_code("13800000004")
    f = password_change.start(svc, me)["flow"]
    assert err(password_change.verify_factor, svc, me, f, "sms", phone_code).code == "code_not_requested"
    password_change.begin_factor(svc, me, f, "sms")
    pw_code = last_code("13800000004")
    if pw_code != phone_code:
        assert err(password_change.verify_factor, svc, me, f, "sms", phone_code).code == "code_invalid"
    assert phones.verify_factor(svc, me, "add", pf, "sms", phone_code)["state"] == "new_phone"


def test_R_PWD_3_flows_are_bound_to_their_person_and_session(svc, world):
    """A flow id of another person, or of the same person's other session, is not found."""
    me = personal(svc, world["plain"])
    f = password_change.start(svc, me)["flow"]
    assert err(password_change.begin_factor, svc, personal(svc, world["officer"]), f, "sms").code == "flow_not_found"
    assert err(password_change.begin_factor, svc, personal(svc, world["plain"]), f, "sms").code == "flow_not_found"
    assert err(password_change.begin_factor, svc, me, "azf_" + "x" * 32, "sms").code == "flow_not_found"


def test_R_PWD_3_from_enterprise_business_as_the_rule_file_allows(svc, world):
    """R-PWD-3 / R-AUTHZ-1: a tax officer in enterprise business changes their own password when the rule
    file gives tax_officer ac.person.password change there."""
    from tests.person_support import expected
    me = in_enterprise(svc, world["officer"], USCC, "tax_officer")
    if expected(svc, "kind:ordinary", "tax_officer", "ac.person.password", "change", me.domain):
        assert password_change.change_with_old_password(svc, me, PASSWORD, NEW, NEW)["state"] == "done"
    else:
        assert err(password_change.change_with_old_password, svc, me, PASSWORD, NEW, NEW).code == "forbidden"


def test_R_LOGIN_11_old_password_check_reserves_before_it_verifies(svc, world):
    """R-LOGIN-11 (issue 10 finding 4) on the account-centre password change: with the limit of password
    checks in flight elsewhere (other workers), a change is refused 429 attempts_in_progress before its
    argon2 verify, so concurrent guesses of the old password never exceed the limit."""
    from authz.ports import ports_of
    me = personal(svc, world["plain"])
    counters, hasher, now = ports_of(svc).counters, ports_of(svc).hasher, svc.clock.time()
    for _ in range(svc.settings.lockout_failures):
        assert counters.reserve(me.uid, "password", now) is None
    before = hasher.verifications
    assert err(password_change.change_with_old_password, svc, me, "Wrong@2026x", NEW, NEW).code == "attempts_in_progress"
    assert hasher.verifications == before
    for _ in range(svc.settings.lockout_failures):
        counters.release(me.uid, "password")
    assert err(password_change.change_with_old_password, svc, me, "Wrong@2026x", NEW, NEW).code == "old_password_wrong"
