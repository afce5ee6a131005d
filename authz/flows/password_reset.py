"""Forgot password (R-PWD-4): document type + number -> SMS code to one of the person's phones, or an
app face scan -> new password twice. Success lifts every lockout and ends every session.

```
start -> verify --(sms code | face scan)--> new_password -> done
```
With generic_login_errors an unknown document still gets a flow (that can never succeed), so the
answers do not tell whether an account exists.

Whoever starts a reset has proven nothing about the person (issue 10 finding 6): an SMS needs a human
check and counts on the flow's, the client's and the reset purpose's own per-phone budget, never the
person's login quota; wrong codes (and failed face scans) count toward a lock of the reset for that phone
(that person), never the person's login lockout. A locked login can therefore still be reset (R-PWD-4).
"""
from __future__ import annotations

from enum import Enum

from .. import accounts, audit, sessions
from ..credentials import check_policy
from ..db import database
from ..errors import AuthzError, code
from .. import codes, verification
from ..models import Person
from ..ports import ports_of
from . import base, hall

E_PHONE_NOT_MINE = code("phone_not_held")


class ResetState(str, Enum):
    VERIFY = "verify"
    NEW_PASSWORD = "new_password"
    DONE = "done"


S = ResetState
P = codes.Purpose.RESET
FACTORS = ("sms", "taxapp", "iitapp")  # a code to one of the person's phones, or their face
MACHINE = base.Machine(base.FlowKind.PASSWORD_RESET, ResetState, {
    S.VERIFY: {S.NEW_PASSWORD}, S.NEW_PASSWORD: {S.DONE}}, terminal=frozenset({S.DONE}))


def start(svc, *, doc_type: str, doc_number: str, human_token: str | None = None) -> dict:
    """Identify the account by its document."""
    ports_of(svc).human.verify(human_token, svc.clock.time())
    number = hall.check_document(doc_type, doc_number)
    person = accounts.person_by_document(doc_type, number)
    if not accounts.can_log_in(person):
        person = None
        if not svc.settings.generic_login_errors:
            raise AuthzError("not_registered")
    raw, flow = base.create(svc, MACHINE, S.VERIFY, person=person)
    return {"flow": raw, "state": S.VERIFY.value, "factors": list(FACTORS), "expires_at": flow.expires_at}


def begin_factor(svc, flow_id: str, factor_name: str, phone: str | None = None, *, client: str | None = None,
                 human_token: str | None = None) -> dict:
    """SMS code to a phone the user types (it must be one of theirs), or a face-scan ticket."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    f = verification.offered_factor(factor_name, offered=FACTORS)
    person = Person.get_by_id(flow.person_id) if flow.person_id else None
    send = {"client": client, "human_token": human_token}
    if f.needs_phone:
        if not accounts.PHONE_RE.fullmatch(phone or ""):
            raise AuthzError("phone_invalid")
        if person is None or phone not in accounts.phones_of(person):
            if not svc.settings.generic_login_errors:
                raise AuthzError(E_PHONE_NOT_MINE)
            # the same answer whether or not the account or phone exists: the same caps, the same 429
            send["decoy"] = True
    out = verification.begin(svc, purpose=P, factor_name=f.name, flow_hash=flow.id_hash, offered=FACTORS,
                             person=person, subject=_face_of(person), anonymous=True, phone=phone, **send)
    if f.needs_phone:
        base.update_context(svc, flow, factor_phone=phone)
    return out


def _face_of(person) -> str | None:
    """Whose face a scan must match: the document's person; nobody for an unknown document (generic mode)."""
    return None if person is not None else "nobody"


def complete_factor(svc, flow_id: str, factor_name: str, code: str | None = None) -> dict:
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    person = Person.get_by_id(flow.person_id) if flow.person_id else None
    proof = verification.verify(svc, purpose=P, factor_name=factor_name, flow_hash=flow.id_hash, offered=FACTORS,
                                person=person, subject=_face_of(person), anonymous=True,
                                phone=(flow.context or {}).get("factor_phone"), code=code)
    if person is None:  # generic mode, unknown account: nothing can verify it
        raise AuthzError("code_invalid")
    flow = base.transition(svc, MACHINE, flow, S.NEW_PASSWORD, context={"factor": proof.factor})
    return {"state": flow.state, "expires_at": flow.expires_at}


def set_password(svc, flow_id: str, new_password: str, confirm_password: str) -> dict:
    """The new password; the lockout is lifted and every session of the person ends."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.NEW_PASSWORD)
    check_policy(new_password, svc.settings, confirm_password)
    person = Person.get_by_id(flow.person_id)
    ports = ports_of(svc)
    with database.atomic():
        base.transition(svc, MACHINE, flow, S.DONE)
        Person.update(password_hash=ports.hasher.hash(new_password), must_change_password=False,
                      updated_at=svc.clock.time()).where(Person.id == person.id).execute()
        ended = sessions.end_all_for_person(svc, person, sessions.EndReason.PASSWORD_RESET)
        audit.record(svc, actor=person.uid, action="password.reset", target=person.uid,
                     detail={"factor": (flow.context or {}).get("factor"), "sessions_ended": ended})
    ports.counters.unlock(person.uid)
    return {"state": S.DONE.value}
