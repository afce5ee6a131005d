"""Change password in the account centre (R-PWD-3), verified by one of: the old password, an SMS code to
the default phone, or a face scan through the tax app or the IIT app [001, 003].

```
old password:  change_with_old_password (one request)                                   -> done
sms / face:    start -> verify --(code to the default phone | face scan)--> new_password -> done
```
The new password follows the policy (R-PWD-1) and must differ from the old one. A change ends every other
session of the person on the server (the one making the change stays); it never lifts a lockout (that is
the reset's job, R-PWD-4). A wrong old password counts toward the password lockout (R-LOGIN-11), a wrong
code or face toward the SMS / face lockout.
"""
from __future__ import annotations

import hmac
from enum import Enum

from .. import accounts, audit, sessions, verification
from ..actor import Actor, require
from ..codes import Purpose
from ..credentials import E_PWD_SAME, check_policy
from ..db import database
from ..errors import AuthzError, code
from ..models import Person
from ..ports import ports_of
from . import base, stepup

FUNCTION, ACTION = "ac.person.password", "change"
E_OLD_WRONG = code("old_password_wrong")
FACTORS = stepup.SMS_OR_FACE


class PasswordChangeState(str, Enum):
    VERIFY = "verify"
    NEW_PASSWORD = "new_password"
    DONE = "done"


S = PasswordChangeState
MACHINE = base.Machine(stepup.AccountFlowKind.PASSWORD_CHANGE, PasswordChangeState,
                       {S.VERIFY: {S.NEW_PASSWORD}, S.NEW_PASSWORD: {S.DONE}}, terminal=frozenset({S.DONE}))


def change_with_old_password(svc, actor: Actor, old_password: str, new_password: str, confirm_password: str) -> dict:
    """Verify the old password (one argon2 verify, counted toward the lockout) and set the new one."""
    require(svc, actor, FUNCTION, ACTION)
    person = stepup.person_of(actor)
    check_policy(new_password, svc.settings, confirm_password)
    try:  # the password factor through the one mechanism: counted toward the password lockout
        verification.verify(svc, purpose=Purpose.ACCOUNT, factor_name="password", offered=("password",),
                            person=person, secret=old_password)
    except AuthzError as err:
        if verification.counted(err):
            audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain,
                         action="person.password.change", target=f"person:{person.uid}", outcome="refused",
                         detail={"method": "old_password"})
        if err.code == "password_wrong":
            raise AuthzError(E_OLD_WRONG, limit=svc.settings.lockout_failures) from None
        raise
    if hmac.compare_digest((old_password or "").encode(), new_password.encode()):
        raise AuthzError(E_PWD_SAME)
    return _set(svc, actor, person, new_password, "old_password")


def start(svc, actor: Actor) -> dict:
    """Open a change by SMS code (to the default phone) or face scan."""
    require(svc, actor, FUNCTION, ACTION)
    person = stepup.person_of(actor)
    raw, flow = stepup.start(svc, MACHINE, actor, person, S.VERIFY)
    return {"flow": raw, **stepup.view(flow, person, factors=FACTORS)}


def load_view(svc, actor: Actor, flow_id: str) -> dict:
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    return stepup.view(flow, person, factors=FACTORS if flow.state == S.VERIFY.value else ())


def begin_factor(svc, actor: Actor, flow_id: str, factor_name: str) -> dict:
    """Send the code to the default phone, or show a face-scan ticket."""
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    _, out = stepup.begin_factor(svc, flow, person, factor_name, offered=FACTORS, purpose=Purpose.ACCOUNT,
                                 phone=stepup.default_phone(person))
    return out


def verify_factor(svc, actor: Actor, flow_id: str, factor_name: str, code: str | None = None) -> dict:
    """The code or the confirmed scan: on to the new password."""
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    used = stepup.verify_factor(svc, flow, person, factor_name, offered=FACTORS, purpose=Purpose.ACCOUNT, code=code)
    flow = base.transition(svc, MACHINE, flow, S.NEW_PASSWORD, context={"verified_by": used})
    return stepup.view(flow, person)


def set_password(svc, actor: Actor, flow_id: str, new_password: str, confirm_password: str) -> dict:
    """The new password twice; every other session of the person ends."""
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.NEW_PASSWORD)
    check_policy(new_password, svc.settings, confirm_password)
    doc = accounts.primary_document(person)
    if ports_of(svc).hasher.verify_person(person, new_password, doc.doc_number if doc else None):
        raise AuthzError(E_PWD_SAME)
    return _set(svc, actor, person, new_password, flow.context["verified_by"], flow=flow)


def _set(svc, actor: Actor, person: Person, new_password: str, method: str, *, flow=None) -> dict:
    new_hash = ports_of(svc).hasher.hash(new_password)
    with database.atomic():
        if flow is not None:
            base.transition(svc, MACHINE, flow, S.DONE)
        Person.update(password_hash=new_hash, must_change_password=False, updated_at=svc.clock.time()).where(
            Person.id == person.id).execute()
        ended = sessions.end_all_for_person(svc, person, sessions.EndReason.PASSWORD_CHANGED,
                                            except_id=actor.session_id)
        audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action="person.password.change",
                     target=f"person:{person.uid}", detail={"method": method, "sessions_ended": ended})
    return {"state": S.DONE.value, "sessions_ended": ended}
