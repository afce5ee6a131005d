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

from .. import accounts, audit, codes, verification
from ..db import database
from ..errors import AuthzError
from ..factors.sms import mask_phone
from ..models import Person
from ..ports import ports_of
from . import base, hall


class RecoveryState(str, Enum):
    CODE_SENT = "code_sent"
    DONE = "done"


S = RecoveryState
P = codes.Purpose.PHONE_RECOVERY
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
    try:  # the password factor: reserved before the verify, counted like a login's (R-LOGIN-11)
        verification.verify(svc, purpose=P, factor_name="password", offered=("password",), person=person,
                            secret=password, same_cost=True)
    except AuthzError as err:
        if err.code == "password_wrong" and generic:
            raise AuthzError("login_failed") from None
        raise
    raw, flow = base.create(svc, MACHINE, S.CODE_SENT, person=person, context={"phone": new_phone})
    _send(svc, flow, person, new_phone, client=client, human_token=human_token)
    return {"flow": raw, "state": S.CODE_SENT.value, "phone": mask_phone(new_phone), "expires_at": flow.expires_at}


def _send(svc, flow, person, phone: str, **send) -> None:
    """A code to the new phone: not proven yet, so its own budgets and its own lockout count (anonymous)."""
    verification.begin(svc, purpose=P, factor_name="sms", offered=("sms",), flow_hash=flow.id_hash, person=person,
                       anonymous=True, phone=phone, **send)


def resend(svc, flow_id: str, *, client: str | None = None, human_token: str | None = None) -> dict:
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CODE_SENT)
    phone = flow.context["phone"]
    _send(svc, flow, Person.get_by_id(flow.person_id), phone, client=client, human_token=human_token)
    return {"flow": flow_id, "state": S.CODE_SENT.value, "phone": mask_phone(phone), "expires_at": flow.expires_at}


def complete(svc, flow_id: str, code: str) -> dict:
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CODE_SENT)
    person = Person.get_by_id(flow.person_id)
    phone = flow.context["phone"]
    verification.verify(svc, purpose=P, factor_name="sms", offered=("sms",), flow_hash=flow.id_hash, person=person,
                        anonymous=True, phone=phone, code=code)
    with database.atomic():
        base.transition(svc, MACHINE, flow, S.DONE)
        lost = accounts.take_over_phone(svc, person, phone, make_default=True)
        audit.record(svc, actor=person.uid, action="phone.recover", target=person.uid,
                     detail={"phone_taken_from": lost})
    return {"state": S.DONE.value, "phone": mask_phone(phone)}
