"""Real-name level (个人实名等级, R-RN-1, R-RN-2) [000, 003].

```
upgrade: start (level < 4) -> verify --(face scan through the tax app or the IIT app)--> done: level + 1
```
Levels 1-5 (R-RN-1). An online upgrade raises exactly one level per verified face scan, never above 4;
at 4 (or 5) no flow starts and the answer is the manual's message. Level 5 is only set by hall staff
(integration port). A failed face match leaves the level unchanged (and counts toward the face lockout).
"""
from __future__ import annotations

from enum import Enum

from .. import audit
from ..actor import Actor, allowed, require
from ..codes import Purpose
from ..db import database
from ..errors import MESSAGES, AuthzError, code
from ..models import Person
from . import base, stepup

FUNCTION = "ac.person.realname"
FACTORS = stepup.FACE_APPS
ONLINE_MAX = 4
E_AT_FOUR = code("realname_online_max")
E_AT_FIVE = code("realname_at_max")
E_CHANGED = code("realname_changed")
_, AT_FOUR_ZH, AT_FOUR_EN = MESSAGES[E_AT_FOUR]  # also shown as the upgrade page's notice

LEVELS = [
    {"level": 1, "zh": "账号口令验证", "en": "Account and password"},
    {"level": 2, "zh": "手机号、短信码验证", "en": "Phone number and SMS code"},
    {"level": 3, "zh": "身份证实名核验/社保核验", "en": "Identity document or social-security check"},
    {"level": 4, "zh": "在三级基础上，使用人脸或其它生物特征进行核验", "en": "Level 3 plus face or other biometric check"},
    {"level": 5, "zh": "在四级基础上，使用身份证专用识别设备或具有射频功能的手机配合专用APP进行实证核验",
     "en": "Level 4 plus an ID-card reader or an NFC phone with the dedicated app"},
]


class UpgradeState(str, Enum):
    VERIFY = "verify"
    DONE = "done"


S = UpgradeState
MACHINE = base.Machine(stepup.AccountFlowKind.REALNAME, UpgradeState, {S.VERIFY: {S.DONE}},
                       terminal=frozenset({S.DONE}))


def _message(level: int) -> dict:
    if level >= 5:
        return {"message_zh": "您的实名等级已为五级（最高等级）", "message_en": "Your real-name level is already 5, the highest"}
    if level >= ONLINE_MAX:
        return {"message_zh": AT_FOUR_ZH, "message_en": AT_FOUR_EN}
    return {}


def view(svc, actor: Actor) -> dict:
    """The current level, what each level means, and whether an online upgrade is possible."""
    require(svc, actor, FUNCTION, "view")
    person = stepup.person_of(actor)
    level = person.realname_level
    return {"level": level, "levels": LEVELS,
            "can_upgrade": level < ONLINE_MAX and allowed(svc, actor, FUNCTION, "upgrade"),
            "factors": list(FACTORS) if level < ONLINE_MAX else [], **_message(level)}


def start(svc, actor: Actor) -> dict:
    """Start a one-level upgrade; at level 4 the manual's message instead (R-RN-2)."""
    require(svc, actor, FUNCTION, "upgrade")
    person = stepup.person_of(actor)
    if person.realname_level >= 5:
        raise AuthzError(E_AT_FIVE)
    if person.realname_level >= ONLINE_MAX:
        raise AuthzError(E_AT_FOUR)
    raw, flow = stepup.start(svc, MACHINE, actor, person, S.VERIFY, {"from_level": person.realname_level})
    return {"flow": raw, **stepup.view(flow, person, factors=FACTORS, level=person.realname_level)}


def load_view(svc, actor: Actor, flow_id: str) -> dict:
    require(svc, actor, FUNCTION, "upgrade")
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    return stepup.view(flow, person, factors=FACTORS, level=person.realname_level)


def begin_factor(svc, actor: Actor, flow_id: str, app: str) -> dict:
    """A face-scan ticket for the chosen app."""
    require(svc, actor, FUNCTION, "upgrade")
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    _, out = stepup.begin_factor(svc, flow, person, app, offered=FACTORS, purpose=Purpose.ACCOUNT)
    return out


def verify_factor(svc, actor: Actor, flow_id: str, app: str, code: str | None = None) -> dict:
    """Collect the confirmed scan (`code` is unused: face only): one level up (from the level the flow started at), at most 4."""
    require(svc, actor, FUNCTION, "upgrade")
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    used = stepup.verify_factor(svc, flow, person, app, offered=FACTORS, purpose=Purpose.ACCOUNT)
    before = int(flow.context["from_level"])
    after = min(before + 1, ONLINE_MAX)
    with database.atomic():
        base.transition(svc, MACHINE, flow, S.DONE)
        n = (Person.update(realname_level=after, updated_at=svc.clock.time())
             .where((Person.id == person.id) & (Person.realname_level == before)).execute())
        if n != 1:  # another upgrade (or the hall) changed the level meanwhile: this scan raises nothing
            raise AuthzError(E_CHANGED)
        audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action="person.realname.upgrade",
                     target=f"person:{person.uid}", detail={"from": before, "to": after, "verified_by": used})
    return {"state": S.DONE.value, "level": after, **_message(after)}
