"""Batch confirmation of pending enterprise authorisations behind a face scan (R-BIND-6).

```
confirm: start(ids) -> verify --(face scan of this person through the tax app or the IIT app)--> done
```
A stored step-up flow (`flows.stepup`): it belongs to the person and the session that started it and
holds the binding ids chosen at the start. The face proof that
`person_bindings.confirm(..., proof=...)` and `bindings.transition` require comes from `stepup.verify`,
after it consumed a confirmed face ticket of this flow whose scanned person is the actor
(`app_scan.consume` matches the ticket's subject, the flow's person). The client never sends it. The ids are checked at the start (every one the person's own pending authorisation awaiting
them), and again by `confirm` at the end, which is all or nothing.
"""
from __future__ import annotations

from enum import Enum

from ..actor import Actor, require
from ..codes import Purpose
from ..db import database
from ..directory import E_BAD_STATE
from ..errors import AuthzError
from ..models import Binding
from . import base, person_bindings, stepup

FUNCTION = person_bindings.AUTH
ACTION = "confirm"
FACTORS = stepup.FACE_APPS


class ConfirmKind(str, Enum):
    CONFIRM = "ac_authz_confirm"


class ConfirmState(str, Enum):
    VERIFY = "verify"
    DONE = "done"


S = ConfirmState
MACHINE = base.Machine(ConfirmKind.CONFIRM, ConfirmState, {S.VERIFY: {S.DONE}}, terminal=frozenset({S.DONE}))


def start(svc, actor: Actor, binding_ids: list) -> dict:
    """Choose the pending authorisations to confirm; a face scan follows (R-BIND-6)."""
    require(svc, actor, FUNCTION, ACTION)
    person = stepup.person_of(actor)
    ids = person_bindings._ids(binding_ids)
    rows = list(Binding.select(Binding.id, Binding.state, Binding.initiated_by)
                .where((Binding.id.in_(ids)) & (Binding.person == person.id)))
    if len(rows) != len(ids):
        raise AuthzError("not_found")
    if any(b.state != "pending" or b.initiated_by == "person" for b in rows):
        raise AuthzError(E_BAD_STATE)
    raw, flow = stepup.start(svc, MACHINE, actor, person, S.VERIFY, {"bindings": ids})
    return {"flow": raw, **stepup.view(flow, person, factors=FACTORS, bindings=ids)}


def load_view(svc, actor: Actor, flow_id: str) -> dict:
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    return stepup.view(flow, person, factors=FACTORS, bindings=list((flow.context or {}).get("bindings", [])))


def begin_factor(svc, actor: Actor, flow_id: str, app: str) -> dict:
    """A face-scan ticket for the chosen app."""
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    _, out = stepup.begin_factor(svc, flow, person, app, offered=FACTORS, purpose=Purpose.ACCOUNT)
    return out


def verify_factor(svc, actor: Actor, flow_id: str, app: str, code: str | None = None) -> dict:
    """Collect the confirmed scan of this person (`code` unused: face only), then confirm the flow's
    bindings with verified=True, all or nothing."""
    require(svc, actor, FUNCTION, ACTION)
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    proof = stepup.verify(svc, flow, person, app, offered=FACTORS, purpose=Purpose.ACCOUNT)
    ids = list((flow.context or {}).get("bindings", []))
    with database.atomic():
        base.transition(svc, MACHINE, flow, S.DONE)
        items = person_bindings.confirm(svc, actor, ids, proof=proof)
    return {"state": S.DONE.value, "items": items}


__all__ = ["start", "load_view", "begin_factor", "verify_factor", "MACHINE", "FACTORS"]
