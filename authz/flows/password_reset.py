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
from ..factors import factor as get_factor
from .. import codes
from ..factors.base import anonymous_subject, ensure_unlocked, guarded
from ..factors.sms import mask_phone
from ..models import Person
from ..ports import ports_of
from . import base, hall

E_PHONE_NOT_MINE = code("phone_not_held")


class ResetState(str, Enum):
    VERIFY = "verify"
    NEW_PASSWORD = "new_password"
    DONE = "done"


S = ResetState
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
    return {"flow": raw, "state": S.VERIFY.value, "factors": ["sms", "taxapp", "iitapp"], "expires_at": flow.expires_at}


def _subject(flow, method: str, phone: str | None) -> str | None:
    """The reset's own lockout subject: per phone for codes, per person for face scans."""
    if method == "sms":
        return anonymous_subject(codes.Purpose.RESET.value, phone or "")
    uid = Person.get_by_id(flow.person_id).uid if flow.person_id else None
    return anonymous_subject(codes.Purpose.RESET.value, uid) if uid else None


def begin_factor(svc, flow_id: str, factor_name: str, phone: str | None = None, *, client: str | None = None,
                 human_token: str | None = None) -> dict:
    """SMS code to a phone the user types (it must be one of theirs), or a face-scan ticket."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    f = get_factor(factor_name)
    person = Person.get_by_id(flow.person_id) if flow.person_id else None
    send = {"client": client, "human_token": human_token}
    if f.name == "sms":
        if not accounts.PHONE_RE.fullmatch(phone or ""):
            raise AuthzError("phone_invalid")
        if person is None or phone not in accounts.phones_of(person):
            if svc.settings.generic_login_errors:  # same answer whether or not the account or phone exists:
                ensure_unlocked(svc, _subject(flow, "sms", phone), "sms")
                codes.spend(svc, codes.Purpose.RESET, flow.id_hash, phone, **send)  # the same caps, the same 429
                base.update_context(svc, flow, factor_phone=phone)
                return {"factor": "sms", "phone": mask_phone(phone), "expires_in": svc.settings.code_ttl_seconds}
            raise AuthzError(E_PHONE_NOT_MINE)
    subject = _subject(flow, f.method, phone)
    if subject is not None:
        ensure_unlocked(svc, subject, f.method)
    out = f.begin(svc, flow.id_hash, purpose="reset", person=person, phone=phone,
                  subject=person.uid if person else "nobody", **send)
    if f.name == "sms":
        base.update_context(svc, flow, factor_phone=phone)
    return out


def complete_factor(svc, flow_id: str, factor_name: str, code: str | None = None) -> dict:
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    f = get_factor(factor_name)
    uid = Person.get_by_id(flow.person_id).uid if flow.person_id else None
    subject = _subject(flow, f.method, (flow.context or {}).get("factor_phone"))
    guarded(svc, subject, f.method, lambda: f.complete(svc, flow.id_hash, purpose="reset", code=code))
    if uid is None:  # generic mode, unknown account: nothing can verify it
        raise AuthzError("code_invalid")
    flow = base.transition(svc, MACHINE, flow, S.NEW_PASSWORD, context={"factor": f.name})
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
