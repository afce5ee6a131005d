"""The person's phone numbers in the account centre (R-PHONE-1..6) [001 手机号码修改, 003].

```
add:     start(add)    -> verify_old --(SMS to the default phone | face scan)--> new_phone
                                      --(number; SMS code to it)--> done: the number is the person's
modify:  start(modify) -> verify_old --(SMS to the default phone | face scan)--> new_phone
                                      --(number; SMS code to it)--> done: it is the default, the old is gone
delete:  start(delete) -> verify --(SMS to the default phone | face scan)--> done: the number is gone
set default: one request (no verification in the manuals)
```
* R-PHONE-2: exactly one default while there are phones; the default and the only phone cannot be
  deleted (re-checked when the deletion completes); "set default" moves the default.
* R-PHONE-3/4: the new number is proven by an SMS code sent to it within the same flow, after the old
  step: the flow's state makes skipping the first step impossible, and the code verified in the last
  step must be the one sent to that very number.
* R-PHONE-6 / R-PHONE-1: a number proven here is taken from any other person holding it (their next
  phone becomes default); one number belongs to one person (unique index).
* Decision: the SMS of the first step (and of deletion) goes to the default phone, "原手机号码"; when
  it cannot receive it the person scans their face instead. A person without any phone (blanked by
  R-REG-4) can only use the face scan.
"""
from __future__ import annotations

from enum import Enum

from .. import accounts, audit, verification
from ..actor import Actor, require
from ..codes import Purpose
from ..db import database
from ..errors import AuthzError, code
from ..masking import mask_phone
from ..models import Person, Phone
from . import base, stepup

FUNCTION = "ac.person.phones"
FACTORS = stepup.SMS_OR_FACE
E_PHONE_INVALID = code("phone_invalid")
E_ALREADY_MINE = code("phone_already_yours")
E_IS_DEFAULT = code("phone_is_default")
E_ONLY_ONE = code("phone_only_one")
E_NO_DEFAULT = code("phone_no_default")
E_NEW_NOT_SENT = code("phone_code_not_sent")
E_NOT_FOUND = code("phone_not_found_for_person")


class Op(str, Enum):
    ADD = "add"
    MODIFY = "modify"
    DELETE = "delete"


class PhoneChangeState(str, Enum):
    VERIFY_OLD = "verify_old"
    NEW_PHONE = "new_phone"
    DONE = "done"


class PhoneDeleteState(str, Enum):
    VERIFY = "verify"
    DONE = "done"


C, D = PhoneChangeState, PhoneDeleteState
CHANGE = base.Machine(stepup.AccountFlowKind.PHONE_CHANGE, PhoneChangeState,
                      {C.VERIFY_OLD: {C.NEW_PHONE}, C.NEW_PHONE: {C.DONE}}, terminal=frozenset({C.DONE}))
DELETE = base.Machine(stepup.AccountFlowKind.PHONE_DELETE, PhoneDeleteState,
                      {D.VERIFY: {D.DONE}}, terminal=frozenset({D.DONE}))
ACT = {Op.ADD: "add", Op.MODIFY: "edit", Op.DELETE: "delete"}


def _phone_view(p: Phone) -> dict:
    return {"id": p.id, "phone": mask_phone(p.number), "is_default": p.is_default, "added_at": p.created_at}


def list_phones(svc, actor: Actor) -> dict:
    """The person's phones, masked, default first (R-MASK-1)."""
    require(svc, actor, FUNCTION, "view")
    person = stepup.person_of(actor)
    rows = Phone.select().where(Phone.person == person).order_by(Phone.is_default.desc(), Phone.id)
    return {"phones": [_phone_view(p) for p in rows]}


def _mine(person: Person, phone_id) -> Phone:
    pid = stepup.row_id(phone_id)
    p = Phone.get_or_none((Phone.id == pid) & (Phone.person == person)) if pid else None
    if p is None:
        raise AuthzError(E_NOT_FOUND)
    return p


def set_default(svc, actor: Actor, phone_id) -> dict:
    """Make one of the person's phones the default; the former default stops being default (R-PHONE-2)."""
    require(svc, actor, FUNCTION, "edit")
    person = stepup.person_of(actor)
    with database.atomic():
        p = _mine(person, phone_id)
        Phone.update(is_default=False).where((Phone.person == person) & (Phone.id != p.id)).execute()
        Phone.update(is_default=True).where(Phone.id == p.id).execute()
        audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action="person.phone.set_default",
                     target=f"person:{person.uid}", detail={"phone": mask_phone(p.number)})
    return list_phones(svc, actor)


# ---- add / modify
def start(svc, actor: Actor, op: str, phone_id=None) -> dict:
    """Open an add, modify-default or delete flow (delete names the phone)."""
    op = _op(op)
    require(svc, actor, FUNCTION, ACT[op])
    person = stepup.person_of(actor)
    if op is Op.DELETE:
        p = _mine(person, phone_id)
        _check_deletable(person, p)
        raw, flow = stepup.start(svc, DELETE, actor, person, D.VERIFY, {"op": op.value, "phone_id": p.id,
                                                                         "number": p.number})
        return {"flow": raw, **_view(flow, person)}
    old = stepup.default_phone(person)
    if op is Op.MODIFY and old is None:
        raise AuthzError(E_NO_DEFAULT)
    raw, flow = stepup.start(svc, CHANGE, actor, person, C.VERIFY_OLD, {"op": op.value, "old_phone": old})
    return {"flow": raw, **_view(flow, person)}


def _op(op) -> Op:
    try:
        return Op(op)
    except ValueError:
        raise AuthzError("validation_failed", errors={"op": [o.value for o in Op]}) from None


def _load(svc, actor: Actor, op, flow_id: str):
    """The actor's own flow of this operation (a flow of another operation is not found here)."""
    op = _op(op)
    require(svc, actor, FUNCTION, ACT[op])
    machine = DELETE if op is Op.DELETE else CHANGE
    flow, person = stepup.load(svc, machine, actor, flow_id)
    if (flow.context or {}).get("op") != op.value:
        raise AuthzError(base.E_FLOW_NOT_FOUND)
    return machine, flow, person


def _view(flow, person) -> dict:
    ctx = flow.context or {}
    extra = {"op": ctx.get("op")}
    if ctx.get("number"):
        extra["phone"] = mask_phone(ctx["number"])
    if ctx.get("new_phone"):
        extra["new_phone"] = mask_phone(ctx["new_phone"])
    verifying = flow.state in (C.VERIFY_OLD.value, D.VERIFY.value)
    return stepup.view(flow, person, factors=FACTORS if verifying else (), **extra)


def load_view(svc, actor: Actor, op: str, flow_id: str) -> dict:
    _, flow, person = _load(svc, actor, op, flow_id)
    return _view(flow, person)


def begin_factor(svc, actor: Actor, op: str, flow_id: str, factor_name: str) -> dict:
    """First step: a code to the default phone, or a face-scan ticket."""
    machine, flow, person = _load(svc, actor, op, flow_id)
    base.require(machine, flow, C.VERIFY_OLD if machine is CHANGE else D.VERIFY)
    _, out = stepup.begin_factor(svc, flow, person, factor_name, offered=FACTORS, purpose=Purpose.PHONE_CHANGE,
                                 phone=stepup.default_phone(person))
    return out


def verify_factor(svc, actor: Actor, op: str, flow_id: str, factor_name: str, code: str | None = None) -> dict:
    """First step verified: add / modify move on to the new number; delete is done."""
    machine, flow, person = _load(svc, actor, op, flow_id)
    base.require(machine, flow, C.VERIFY_OLD if machine is CHANGE else D.VERIFY)
    used = stepup.verify_factor(svc, flow, person, factor_name, offered=FACTORS, purpose=Purpose.PHONE_CHANGE,
                                code=code)
    if machine is CHANGE:
        flow = base.transition(svc, CHANGE, flow, C.NEW_PHONE, context={"verified_by": used})
        return _view(flow, person)
    return _delete(svc, actor, flow, person, used)


def send_new_code(svc, actor: Actor, op: str, flow_id: str, phone: str, *, client: str | None = None,
                  human_token: str | None = None) -> dict:
    """Second step of add / modify: the new number, and an SMS code to it. The number is not proven yet:
    a human check, the client's cap and the phone-change purpose's own per-phone budget, so the session
    holder cannot spend its holder's login quota (issue 10 finding 6)."""
    machine, flow, person = _load(svc, actor, op, flow_id)
    if machine is not CHANGE:
        raise AuthzError(base.E_FLOW_STATE)
    base.require(CHANGE, flow, C.NEW_PHONE)
    if not accounts.PHONE_RE.fullmatch(phone or ""):
        raise AuthzError(E_PHONE_INVALID)
    if Phone.select().where((Phone.person == person) & (Phone.number == phone)).exists():
        raise AuthzError(E_ALREADY_MINE)
    flow = base.update_context(svc, flow, new_phone=phone)
    # not `proven`: the number's own budgets (codes.spend); wrong codes count toward the person's SMS lockout
    return verification.begin(svc, purpose=Purpose.PHONE_CHANGE, factor_name="sms", offered=("sms",),
                              flow_hash=flow.id_hash, person=person, phone=phone, client=client,
                              human_token=human_token)


def verify_new(svc, actor: Actor, op: str, flow_id: str, code: str) -> dict:
    """The code sent to the new number: it becomes the person's (taken from anyone else, R-PHONE-6);
    modify makes it the default and removes the old default number (R-PHONE-4)."""
    machine, flow, person = _load(svc, actor, op, flow_id)
    if machine is not CHANGE:
        raise AuthzError(base.E_FLOW_STATE)
    base.require(CHANGE, flow, C.NEW_PHONE)
    ctx = flow.context or {}
    number = ctx.get("new_phone")
    if not number:
        raise AuthzError(E_NEW_NOT_SENT)
    proof = verification.verify(svc, purpose=Purpose.PHONE_CHANGE, factor_name="sms", offered=("sms",),
                                flow_hash=flow.id_hash, person=person, code=code)
    if proof.phone != number:  # only a code sent to this number in this step proves it
        raise AuthzError(E_NEW_NOT_SENT)
    op = Op(ctx["op"])
    with database.atomic():
        base.transition(svc, CHANGE, flow, C.DONE)
        lost = accounts.take_over_phone(svc, person, number, make_default=op is Op.MODIFY)
        removed = None
        if op is Op.MODIFY and ctx.get("old_phone") and ctx["old_phone"] != number:
            removed = Phone.delete().where((Phone.person == person) & (Phone.number == ctx["old_phone"])).execute()
        _ensure_one_default(person)
        audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action=f"person.phone.{op.value}",
                     target=f"person:{person.uid}",
                     detail={"phone": mask_phone(number), "verified_by": ctx.get("verified_by"),
                             "old_phone_removed": bool(removed), "taken_from_others": len(lost)})
        for uid in lost:  # the former holder sees in their own audit log that the number left them
            audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action="person.phone.taken_over",
                         target=f"person:{uid}", detail={"phone": mask_phone(number)})
    return {"state": C.DONE.value, "op": op.value, "phone": mask_phone(number), **list_phones(svc, actor)}


# ---- delete
def _check_deletable(person: Person, p: Phone) -> None:
    if p.is_default:
        raise AuthzError(E_IS_DEFAULT)
    if Phone.select().where(Phone.person == person).count() <= 1:
        raise AuthzError(E_ONLY_ONE)


def _delete(svc, actor: Actor, flow, person: Person, used: str) -> dict:
    ctx = flow.context or {}
    with database.atomic():
        base.transition(svc, DELETE, flow, D.DONE)
        p = Phone.get_or_none((Phone.id == ctx["phone_id"]) & (Phone.person == person)
                              & (Phone.number == ctx["number"]))
        if p is None:
            raise AuthzError(E_NOT_FOUND)
        _check_deletable(person, p)  # the default or the only one now? still refused
        p.delete_instance()
        audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action="person.phone.delete",
                     target=f"person:{person.uid}", detail={"phone": mask_phone(p.number), "verified_by": used})
    return {"state": D.DONE.value, "op": Op.DELETE.value, **list_phones(svc, actor)}


def _ensure_one_default(person: Person) -> None:
    """R-PHONE-2: while there are phones exactly one is default."""
    rows = list(Phone.select().where(Phone.person == person).order_by(Phone.is_default.desc(), Phone.id))
    if rows and sum(p.is_default for p in rows) != 1:
        Phone.update(is_default=False).where(Phone.person == person).execute()
        Phone.update(is_default=True).where(Phone.id == rows[0].id).execute()
