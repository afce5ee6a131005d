"""Recover a phone number (R-PHONE-7): document type + number + login password + a new phone proven by
an SMS code. The phone is taken from anyone else holding it (R-PHONE-6) and becomes the default.

```
start (document, password, new phone; code sent) -> code_sent --(code)--> done
```
The password check is a password attempt like a login's: it counts toward the lockout (R-LOGIN-11).
The new phone is not proven yet (issue 10 finding 6): every send (the first and each resend) needs a
human check and counts on the flow's, the client's and the recovery purpose's own per-phone budget;
wrong codes lock recovery for that phone, never the person's SMS login.
"""
from __future__ import annotations

from enum import Enum

from .. import accounts, audit, codes
from ..db import database
from ..errors import AuthzError
from ..factors.base import attempt, anonymous_subject, ensure_unlocked, guarded, locked_error
from ..factors.sms import mask_phone
from ..models import Person
from ..ports import ports_of
from . import base, hall


class RecoveryState(str, Enum):
    CODE_SENT = "code_sent"
    DONE = "done"


S = RecoveryState
MACHINE = base.Machine(base.FlowKind.PHONE_RECOVERY, RecoveryState, {S.CODE_SENT: {S.DONE}},
                       terminal=frozenset({S.DONE}))


def start(svc, *, doc_type: str, doc_number: str, password: str, new_phone: str,
          human_token: str | None = None, client: str | None = None) -> dict:
    ports = ports_of(svc)
    now = svc.clock.time()
    ports.human.verify(human_token, now)
    number = hall.check_document(doc_type, doc_number)
    if not accounts.PHONE_RE.fullmatch(new_phone or ""):
        raise AuthzError("phone_invalid")
    person = accounts.person_by_document(doc_type, number)
    if not accounts.can_log_in(person):
        person = None
    generic = svc.settings.generic_login_errors
    if person is None:
        ports.hasher.verify_person(None, password or "")  # the same cost as a known document
        raise AuthzError("login_failed" if generic else "not_registered")
    doc = accounts.primary_document(person)
    try:  # reserved before the verify, like every counted secret (R-LOGIN-11, issue 10 finding 4)
        right, until = attempt(svc, person.uid, "password", lambda: ports.hasher.verify_person(
            person, password or "", doc.doc_number if doc else None))
    except AuthzError:
        ports.hasher.verify_person(None, password or "")  # refused before the check: the same cost
        raise
    if not right:
        if until:
            raise locked_error(until)
        raise AuthzError("login_failed" if generic else "password_wrong", limit=svc.settings.lockout_failures)
    ensure_unlocked(svc, _subject(new_phone), "sms")
    raw, flow = base.create(svc, MACHINE, S.CODE_SENT, person=person, context={"phone": new_phone})
    codes.issue(svc, codes.Purpose.PHONE_RECOVERY, flow.id_hash, new_phone, client=client, human_token=human_token)
    return {"flow": raw, "state": S.CODE_SENT.value, "phone": mask_phone(new_phone), "expires_at": flow.expires_at}


def _subject(phone: str) -> str:
    return anonymous_subject(codes.Purpose.PHONE_RECOVERY.value, phone)


def resend(svc, flow_id: str, *, client: str | None = None, human_token: str | None = None) -> dict:
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CODE_SENT)
    phone = flow.context["phone"]
    ensure_unlocked(svc, _subject(phone), "sms")
    codes.issue(svc, codes.Purpose.PHONE_RECOVERY, flow.id_hash, phone, client=client, human_token=human_token)
    return {"flow": flow_id, "state": S.CODE_SENT.value, "phone": mask_phone(phone), "expires_at": flow.expires_at}


def complete(svc, flow_id: str, code: str) -> dict:
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CODE_SENT)
    person = Person.get_by_id(flow.person_id)
    phone = flow.context["phone"]
    guarded(svc, _subject(phone), "sms", lambda: codes.verify(svc, codes.Purpose.PHONE_RECOVERY, flow.id_hash, code))
    with database.atomic():
        base.transition(svc, MACHINE, flow, S.DONE)
        lost = accounts.take_over_phone(svc, person, phone, make_default=True)
        audit.record(svc, actor=person.uid, action="phone.recover", target=person.uid,
                     detail={"phone_taken_from": lost})
    return {"state": S.DONE.value, "phone": mask_phone(phone)}
