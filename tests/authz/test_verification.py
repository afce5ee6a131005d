"""The one verification mechanism (authz/verification.py, issue 10): every factor begun and checked through
`begin` / `verify`; a Proof bound to purpose, person and flow; the lockout counted there once
(R-LOGIN-11, R-SMS-2); an unoffered factor refused; strengths declared by the factors."""
from __future__ import annotations

import pytest

from authz import verification
from authz.codes import Purpose
from authz.factors import FACTORS
from authz.factors.base import COUNTED
from authz.flows import login
from authz.models import SmsOutbox
from authz.ports import ports_of
from authz.verification import Proof, bound_to
from authz.vocab import Method, Strength
from tests.person_support import *  # noqa: F401,F403
from tests.person_support import PASSWORD, err, face, last_code

PHONE = "13800000004"  # world["plain"]'s default phone
STEP_UP = ("sms", "taxapp", "iitapp")


def send(svc, person, flow_hash, purpose=Purpose.ACCOUNT):
    return verification.begin(svc, purpose=purpose, factor_name="sms", flow_hash=flow_hash, offered=STEP_UP,
                              person=person, phone=PHONE, proven=True)


def check(svc, person, flow_hash, code, purpose=Purpose.ACCOUNT, factor="sms") -> Proof:
    return verification.verify(svc, purpose=purpose, factor_name=factor, flow_hash=flow_hash, offered=STEP_UP,
                               person=person, code=code)


def test_R_SMS_2_a_proof_is_bound_to_its_purpose(svc, world):
    """R-SMS-2: a code sent for one purpose verifies nothing for another purpose of the same flow, and the
    Proof it gives says which purpose it proves: asked for another, it proves nothing."""
    p = world["plain"]
    send(svc, p, "flow-a", Purpose.ACCOUNT)
    code = last_code(PHONE)
    assert err(check, svc, p, "flow-a", code, Purpose.PHONE_CHANGE).code == "code_not_requested"
    proof = check(svc, p, "flow-a", code, Purpose.ACCOUNT)
    assert proof == Proof(p.uid, Method.SMS, "sms", "flow-a", Purpose.ACCOUNT.value, PHONE)
    assert proof.proves(p.uid, Method.SMS) and proof.proves(p.uid, Method.SMS, Purpose.ACCOUNT)
    assert not proof.proves(p.uid, Method.SMS, Purpose.PHONE_CHANGE)
    assert not proof.proves(p.uid, Method.FACE) and not proof.proves("p-other", Method.SMS)


def test_R_SMS_2_a_code_or_scan_of_flow_x_is_refused_in_flow_y(svc, world):
    """R-SMS-2 / R-BIND-6: a code, or a confirmed face scan, of flow X proves nothing in flow Y; a Proof of
    flow X asked for flow Y proves nothing."""
    p = world["plain"]
    send(svc, p, "flow-x")
    code = last_code(PHONE)
    assert err(check, svc, p, "flow-y", code).code == "code_not_requested"
    assert not check(svc, p, "flow-x", code).proves(p.uid, Method.SMS, flow_hash="flow-y")
    ticket = verification.begin(svc, purpose=Purpose.ACCOUNT, factor_name="taxapp", flow_hash="flow-x",
                                offered=STEP_UP, person=p)
    face(svc, ticket, p.uid)
    assert err(check, svc, p, "flow-y", None, factor="taxapp").code == "ticket_not_found"
    assert check(svc, p, "flow-x", None, factor="taxapp").proves(p.uid, Method.FACE, flow_hash="flow-x")


def test_R_BIND_6_a_face_scan_for_a_confirmation_is_not_the_flows_own(svc, world):
    """R-BIND-6: the face scan that confirms an authorisation during login is keyed bound_to(flow,
    purpose): it is not collected as the login's own second factor, and the reverse."""
    p = world["plain"]
    key = bound_to("login-flow", login.CONFIRM_PURPOSE)
    ticket = verification.begin(svc, purpose=login.CONFIRM_PURPOSE, factor_name="taxapp", flow_hash=key,
                                at_least=Strength.BIOMETRIC, person=p)
    face(svc, ticket, p.uid)
    assert err(check, svc, p, "login-flow", None, Purpose.LOGIN, factor="taxapp").code == "ticket_not_found"
    proof = verification.verify(svc, purpose=login.CONFIRM_PURPOSE, factor_name="taxapp", flow_hash=key,
                                at_least=Strength.BIOMETRIC, person=p)
    assert proof.proves(p.uid, Method.FACE, login.CONFIRM_PURPOSE) and not proof.proves(p.uid, Method.FACE, "login")


def _wrong_code(svc, p, i):
    send(svc, p, f"flow-{i}")
    return err(check, svc, p, f"flow-{i}", "000000" if last_code(PHONE) != "000000" else "111111").code


def _wrong_face(svc, p, i):
    ticket = verification.begin(svc, purpose=Purpose.ACCOUNT, factor_name="iitapp", flow_hash=f"flow-{i}",
                                offered=STEP_UP, person=p)
    face(svc, ticket, "p-someone-else", app="iitapp")
    return err(check, svc, p, f"flow-{i}", None, factor="iitapp").code


def _wrong_password(svc, p, i):
    return err(verification.verify, svc, purpose=Purpose.ACCOUNT, factor_name="password", offered=("password",),
               person=p, secret="Wrong@2026x").code


@pytest.mark.parametrize("method,wrong", [(Method.SMS, _wrong_code), (Method.FACE, _wrong_face),
                                          (Method.PASSWORD, _wrong_password)], ids=["code", "face", "password"])
def test_R_LOGIN_11_each_failure_counts_once_and_the_limit_locks(svc, world, method, wrong):
    """R-LOGIN-11 / R-SMS-2: through the one mechanism a wrong code, a face that does not match, or a wrong
    password counts exactly once toward its own method: limit-1 failures answer the factor's error, the
    limit-th locks (423); then even a right answer is refused before its check, and only that method
    is locked."""
    p = world["plain"]
    limit = svc.settings.lockout_failures
    answers = [wrong(svc, p, i) for i in range(limit)]
    assert all(a in COUNTED for a in answers[:-1]) and answers[-1] == "account_locked", answers
    hasher = ports_of(svc).hasher
    before = hasher.verifications
    right = {Method.SMS: lambda: send(svc, p, "after"),
             Method.FACE: lambda: verification.begin(svc, purpose=Purpose.ACCOUNT, factor_name="taxapp",
                                                     flow_hash="after", offered=STEP_UP, person=p),
             Method.PASSWORD: lambda: verification.verify(svc, purpose=Purpose.ACCOUNT, factor_name="password",
                                                          offered=("password",), person=p, secret=PASSWORD)}[method]
    assert err(right).code == "account_locked"
    assert hasher.verifications == before, "refused before any check"
    for other in set(Method) - {method}:
        assert ports_of(svc).counters.locked_until(p.uid, other.value, svc.clock.time()) is None


def test_R_LOGIN_11_an_anonymous_flow_counts_on_its_own_never_the_persons_login(svc, world):
    """R-LOGIN-11 with issue 10 finding 6: wrong codes in an anonymous flow (here a password reset) lock
    that purpose for that phone (code_purpose_locked), never the person's own SMS login."""
    p = world["plain"]
    answers = []
    for i in range(svc.settings.lockout_failures):
        verification.begin(svc, purpose=Purpose.RESET, factor_name="sms", flow_hash=f"reset-{i}", offered=STEP_UP,
                           person=p, anonymous=True, phone=PHONE, proven=True)
        answers.append(err(verification.verify, svc, purpose=Purpose.RESET, factor_name="sms", flow_hash=f"reset-{i}",
                           offered=STEP_UP, person=p, anonymous=True, phone=PHONE, code="abcdef").code)
    assert answers[-1] == "code_purpose_locked"
    assert ports_of(svc).counters.locked_until(p.uid, "sms", svc.clock.time()) is None
    svc.clock.set(svc.clock.time() + 60 * svc.settings.sms_window_minutes)  # a new R-SMS-1 window
    send(svc, p, "own-login", Purpose.LOGIN)
    assert check(svc, p, "own-login", last_code(PHONE), Purpose.LOGIN).proves(p.uid, Method.SMS, Purpose.LOGIN)


def test_R_LOGIN_11_an_unoffered_factor_is_refused_before_anything_is_sent_or_checked(svc, world):
    """R-LOGIN-11 / R-BIND-6: a step accepts only the factors it offers (or a minimum strength): another
    is factor_not_offered, nothing is sent, nothing is counted. The password is no second factor, and an
    SMS code is no face."""
    p = world["plain"]
    sent = SmsOutbox.select().count()
    e = err(verification.begin, svc, purpose=Purpose.ACCOUNT, factor_name="sms", flow_hash="f",
            at_least=Strength.BIOMETRIC, person=p, phone=PHONE)
    assert e.code == "factor_not_offered" and e.errors == {"factor": ["taxapp", "iitapp"]}
    assert SmsOutbox.select().count() == sent
    assert err(verification.verify, svc, purpose=Purpose.ACCOUNT, factor_name="password", flow_hash="f",
               offered=STEP_UP, person=p, secret=PASSWORD).code == "factor_not_offered"
    assert err(verification.verify, svc, purpose=Purpose.ACCOUNT, factor_name="totp", flow_hash="f",
               offered=STEP_UP, person=p, code="123456").code == "factor_not_offered"
    flow = login.start(svc, entry="personal", account=PHONE, password=PASSWORD).view["flow"]
    assert err(login.begin_factor, svc, flow, "password").code == "factor_not_offered"
    assert err(login.complete_factor, svc, flow, "certificate", "x").code == "factor_not_offered"
    with pytest.raises(ValueError):  # a step must say what it accepts
        verification.names()


def test_R_LOGIN_11_held_reserves_every_method_before_the_first_check(svc, world):
    """R-LOGIN-11: a request checking two secrets (certificate login) reserves both methods first, so with
    the second method's limit in flight the first secret is not evaluated at all."""
    p = world["plain"]
    counters, hasher, now = ports_of(svc).counters, ports_of(svc).hasher, svc.clock.time()
    for _ in range(svc.settings.lockout_failures):
        assert counters.reserve(p.uid, "certificate", now) is None
    before = hasher.verifications
    with verification.Held() as held:
        e = err(verification.verify, svc, purpose=Purpose.LOGIN, factor_name="password", offered=("password",),
                person=p, secret=PASSWORD, held=held, also=(Method.CERTIFICATE,))
    assert e.code == "attempts_in_progress" and not verification.counted(e)
    assert hasher.verifications == before


def test_R_PWD_3_every_factor_declares_its_method_and_strength(svc):
    """R-PWD-3 (a step-up by SMS or face): the factors say what they are, so a step asks for a strength and
    the mechanism, not the flow, knows which factors qualify; only the SMS code needs a phone."""
    assert {n: (f.method, f.strength) for n, f in FACTORS.items()} == {
        "sms": (Method.SMS, Strength.POSSESSION), "taxapp": (Method.FACE, Strength.BIOMETRIC),
        "iitapp": (Method.FACE, Strength.BIOMETRIC), "password": (Method.PASSWORD, Strength.KNOWLEDGE),
        "certificate_password": (Method.CERTIFICATE, Strength.KNOWLEDGE),
        "certificate": (Method.CERTIFICATE, Strength.POSSESSION)}
    assert [n for n, f in FACTORS.items() if f.needs_phone] == ["sms"]
    assert verification.names(offered=STEP_UP, at_least=Strength.POSSESSION) == STEP_UP
    assert verification.names(at_least=Strength.BIOMETRIC) == ("taxapp", "iitapp")
