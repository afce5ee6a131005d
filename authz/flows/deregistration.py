"""Deregistration (用户注销, R-INFO-3, R-BIND-17, R-REG-8) [001, 002 §二(三)1, 003].

```
notice (read) -> start(notice accepted) -> verify --(SMS to the default phone | face scan)--> done
```
What "done" means, exactly as the manual defines it: the login identity is closed — phones, username,
password (and the email, which is a login account for non-residents, R-LOGIN-6) are removed, the person
is `deregistered` and no longer `registered`; the real-name data (name, documents, gender, nationality,
real-name level) is kept for tracing; enterprise bindings are kept unchanged (R-BIND-17) but grant
nothing while the person is deregistered (the enforcer counts only active persons); every session of the
person ends at once. Registering again restores the account and the bindings as they were (R-REG-8, in
`flows.registration`).
"""
from __future__ import annotations

from enum import Enum

from .. import audit, sessions
from ..actor import Actor, require
from ..codes import Purpose
from ..db import database
from ..errors import AuthzError, code
from ..masking import mask_name, mask_phone
from ..models import Person, Phone
from . import base, stepup

FUNCTION, ACTION = "ac.person.deregister", "execute"
FACTORS = stepup.SMS_OR_FACE
E_NOTICE = code("deregistration_notice_required")

NOTICE_ZH = ("注销后，您的电子税务局账号（手机号码、用户名、密码等登录信息）将被清除，网络身份停用，所有登录会话立即结束；"
             "您的实名信息将被保留以便追溯。您与企业的关联关系不会解除，注销后无法对已关联的企业再进行线上业务操作，"
             "可到办税服务场所线下办税或申请解除关联关系。注销的账号无法恢复，如需继续使用，需要重新注册，"
             "重新注册后原有的关联关系及状态保持不变，无需重新申请。请慎重操作。")
NOTICE_EN = ("After deregistration your e-tax account (phones, username, password and other login data) is removed, "
             "your online identity is closed and every session ends at once; your real-name data is kept for tracing. "
             "Your relations with enterprises are not ended: you can no longer act for them online, but you may still "
             "do business at a tax hall or ask there to end a relation. A deregistered account cannot be restored; to "
             "continue you register again, and your earlier relations come back unchanged without a new application.")


class DeregistrationState(str, Enum):
    VERIFY = "verify"
    DONE = "done"


S = DeregistrationState
MACHINE = base.Machine(stepup.AccountFlowKind.DEREGISTRATION, DeregistrationState, {S.VERIFY: {S.DONE}},
                       terminal=frozenset({S.DONE}))


def notice(svc, actor: Actor) -> dict:
    """The notice to read, with the masked name and default phone the verification will use."""
    require(svc, actor, FUNCTION, ACTION)
    person = stepup.person_of(actor)
    return {"notice_zh": NOTICE_ZH, "notice_en": NOTICE_EN, "name": mask_name(person.name),
            "sms_phone": mask_phone(stepup.default_phone(person)) or None, "factors": list(FACTORS)}


def start(svc, actor: Actor, notice_accepted: bool) -> dict:
    require(svc, actor, FUNCTION, ACTION)
    if notice_accepted is not True:
        raise AuthzError(E_NOTICE)
    person = stepup.person_of(actor)
    raw, flow = stepup.start(svc, MACHINE, actor, person, S.VERIFY, {"notice_accepted_at": svc.clock.time()})
    return {"flow": raw, **stepup.view(flow, person, factors=FACTORS)}


def load_view(svc, actor: Actor, flow_id: str) -> dict:
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    return stepup.view(flow, person, factors=FACTORS)


def begin_factor(svc, actor: Actor, flow_id: str, factor_name: str) -> dict:
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    _, out = stepup.begin_factor(svc, flow, person, factor_name, offered=FACTORS, purpose=Purpose.ACCOUNT,
                                 phone=stepup.default_phone(person))
    return out


def verify_factor(svc, actor: Actor, flow_id: str, factor_name: str, code: str | None = None) -> dict:
    """The code or the confirmed scan: the account is deregistered at once."""
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    used = stepup.verify_factor(svc, flow, person, factor_name, offered=FACTORS, purpose=Purpose.ACCOUNT, code=code)
    with database.atomic():
        base.transition(svc, MACHINE, flow, S.DONE)
        phones = Phone.delete().where(Phone.person == person).execute()
        n = (Person.update(status="deregistered", registered=False, username=None, password_hash=None,
                           must_change_password=False, email="", updated_at=svc.clock.time())
             .where((Person.id == person.id) & (Person.status == "active")).execute())
        if n != 1:
            raise AuthzError(stepup.E_PERSON_GONE)
        ended = sessions.end_all_for_person(svc, person, sessions.EndReason.DEREGISTERED)
        svc.changed("grant", f"{person.uid}|")  # the person's grants everywhere stop counting, on every worker
        audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action="person.deregister",
                     target=f"person:{person.uid}",
                     detail={"verified_by": used, "phones_removed": phones, "sessions_ended": ended})
    return {"state": S.DONE.value, "sessions_ended": ended}
