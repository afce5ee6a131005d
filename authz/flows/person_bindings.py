"""The person side of enterprise bindings, in the natural-person account centre (企业授权管理):
pending authorisations with filters, confirm (batch) or refuse, apply to an enterprise, withdraw one's
own application, authorised enterprises with status, end one's own binding, history with soft clear
(R-BIND-2, R-BIND-6, R-BIND-7, R-BIND-8, R-BIND-11, R-BIND-12, R-BIND-18).

The actor is the person in natural-person business (identity `self`, domain person:<uid>); every
decision goes through `require` (`ac.person.authorisations <action>`), and per identity type through
`ac.person.binding:<type>` (apply | end), so rules.csv says which types a person may apply for or end
(never the legal representative, R-BIND-11). Every query is scoped to the actor's own person: a binding
id of someone else is `not_found`.

Face verification (R-BIND-6): `confirm(..., proof=...)` takes the `verification.Proof` of a face scan of
this person (made by `flows.authorisation_confirm` after the scan was consumed); `bindings.transition`
refuses the confirmation without one. One scan per confirm request, which may carry several bindings
(batch confirm).

Every write goes through `authz.bindings` (`create`, `transition`, `hide`) with the person as who acted
(`bindings.Who`); it writes the audit row under the enterprise's domain (so the enterprise's audit view
shows it, the actor column is the person), the outbound event and the cache invalidation.
"""
from __future__ import annotations

from .. import bindings
from ..actor import Actor, allowed, require
from ..bindings import E_FACE
from ..verification import Proof
from ..vocab import Party
from ..directory import E_BAD_STATE, E_USCC
from ..errors import AuthzError, code
from ..ids import USCC_RE
from ..masking import mask_enterprise_name, mask_uscc
from ..models import Binding, Enterprise, Person
from .integration import sync_binding
from .staff import (E_FILTER, E_NOT_REFUSABLE, E_TOO_MANY, HISTORY_STATES, MAX_BATCH,
                    as_id, binding_query, binding_status, check_filter_states, check_filter_type,
                    create_pending, effective_functions, flow_transaction, function_views,
                    identity_label, integration_marks, iso, known_identity_type, page)

AUTH = "ac.person.authorisations"
SYNC = "ac.person.authorisations.sync"
E_ENT_UNKNOWN = code("enterprise_not_found")

PERSON_SORTS = {"created_at": Binding.created_at, "decided_at": Binding.decided_at,
                "identity_type": Binding.role, "valid_until": Binding.valid_until,
                "taxpayer_name": Enterprise.name}


def binding_function(identity_type: str) -> str:
    """The per-type function of the person's own bindings (ac.person.binding:<type>)."""
    return f"ac.person.binding:{identity_type}"


def _me(actor: Actor) -> Person:
    p = Person.get_or_none(Person.uid == actor.uid)
    if p is None or p.status != "active":
        raise AuthzError("not_found")
    return p


def _mine(me: Person, binding_id) -> Binding:
    b = binding_query().where((Binding.id == as_id(binding_id)) & (Binding.person == me.id)).first()
    if b is None:
        raise AuthzError("not_found")
    return b


def _by(actor: Actor) -> bindings.Who:
    """The person acting on their own bindings (R-LOG-2: audited under the binding's enterprise)."""
    return bindings.Who.of(Party.PERSON, actor)


def _actions(svc, actor: Actor, b: Binding) -> list[str]:
    acts = []
    if b.state == "pending":
        if b.initiated_by == "person":
            if allowed(svc, actor, AUTH, "withdraw"):
                acts.append("withdraw")
        else:
            if allowed(svc, actor, AUTH, "confirm"):
                acts.append("confirm")
            if integration_marks(b)["refusable"] and allowed(svc, actor, AUTH, "refuse"):
                acts.append("refuse")
    elif b.state == "active":
        if allowed(svc, actor, AUTH, "end") and allowed(svc, actor, binding_function(b.role), "end"):
            acts.append("end")
        if allowed(svc, actor, SYNC, "push"):
            acts.append("sync")
    return acts


def person_view(svc, actor: Actor, b: Binding, with_actions: bool = True) -> dict:
    """A binding as its person sees it: the enterprise masked (R-MASK-1), identity type, function set."""
    ent = b.enterprise
    return {
        "id": b.id, "version": b.version,
        "taxpayer_name": mask_enterprise_name(ent.name), "uscc": mask_uscc(ent.uscc),
        "province": ent.province, "tax_authority": ent.tax_authority,
        **identity_label(svc, b.role),
        "sub_identity": bool(b.sub_identity),
        "state": b.state,
        "status": binding_status(svc, b) if b.state == "active" else b.state,
        "valid_until": iso(b.valid_until), "long_term": b.valid_until is None,
        "functions": function_views(svc, effective_functions(svc, b)),
        "origin": b.origin, "initiated_by": b.initiated_by,
        "refusable": integration_marks(b)["refusable"] if b.state == "pending" else None,
        "created_at": b.created_at, "decided_at": b.decided_at,
        "actions": _actions(svc, actor, b) if with_actions else [],
    }


def _filtered(svc, me: Person, states, *, nationwide, province, uscc, taxpayer_name, identity_type):
    role = check_filter_type(svc, identity_type)
    q = binding_query().where((Binding.person == me.id) & (Binding.state.in_(states)))
    if not nationwide:
        prov = province if province not in (None, "") else getattr(svc.settings, "province", "")
        if prov:
            if not isinstance(prov, str) or len(prov) > 8:
                raise AuthzError(E_FILTER, field="province")
            q = q.where(Enterprise.province == prov)
    if uscc not in (None, ""):
        if not isinstance(uscc, str) or not USCC_RE.fullmatch(uscc.strip().upper()):
            raise AuthzError(E_FILTER, field="uscc")
        q = q.where(Enterprise.uscc == uscc.strip().upper())
    if taxpayer_name not in (None, ""):
        if not isinstance(taxpayer_name, str) or len(taxpayer_name) > 200:
            raise AuthzError(E_FILTER, field="taxpayer_name")
        q = q.where(Enterprise.name.contains(taxpayer_name.strip()))
    if role:
        q = q.where(Binding.role == role)
    return q


def _listing(svc, actor, q, sort, limit, offset) -> dict:
    rows, total = page(q, sort, limit, offset, PERSON_SORTS)
    return {"items": [person_view(svc, actor, b) for b in rows], "total": total,
            "limit": int(limit), "offset": int(offset)}


# ---- pending (R-BIND-6, R-BIND-8)
def list_pending(svc, actor: Actor, *, nationwide: bool = False, province: str | None = None,
                 uscc: str | None = None, taxpayer_name: str | None = None, identity_type: str | None = None,
                 sort: str = "-created_at", limit: int = 50, offset: int = 0) -> dict:
    """Pending authorisations of the person: those awaiting their confirmation and their own
    applications awaiting the enterprise. Default scope is the deployment's province (`province`, else
    `svc.settings.province` when configured); `nationwide=True` lists all."""
    require(svc, actor, AUTH, "view")
    me = _me(actor)
    q = _filtered(svc, me, ("pending",), nationwide=nationwide, province=province, uscc=uscc,
                  taxpayer_name=taxpayer_name, identity_type=identity_type)
    return _listing(svc, actor, q, sort, limit, offset)


def confirm(svc, actor: Actor, binding_ids: list, *, proof: Proof | None) -> list[dict]:
    """Confirm one or more pending authorisations (batch) after a face verification → active
    (R-BIND-6). All or nothing: if any id is not the person's pending authorisation, nothing changes.
    The person's own applications are confirmed by the enterprise, not here."""
    require(svc, actor, AUTH, "confirm")
    if proof is None:
        raise AuthzError(E_FACE)
    ids = _ids(binding_ids)
    me = _me(actor)
    rows = list(binding_query().where((Binding.id.in_(ids)) & (Binding.person == me.id)))
    if len(rows) != len(ids):
        raise AuthzError("not_found")
    for b in rows:
        if b.state != "pending" or b.initiated_by == "person":
            raise AuthzError(E_BAD_STATE)
    with flow_transaction(svc):
        for b in rows:
            bindings.transition(svc, b, "active", by=_by(actor), proof=proof)
    return [person_view(svc, actor, _mine(me, b.id)) for b in rows]


def refuse(svc, actor: Actor, binding_id) -> dict:
    """Refuse a pending authorisation → history "refused" on both sides (R-BIND-6). A finance officer
    binding from the tax information report cannot be refused (R-BIND-2)."""
    require(svc, actor, AUTH, "refuse")
    me = _me(actor)
    b = _mine(me, binding_id)
    if b.state != "pending" or b.initiated_by == "person":
        raise AuthzError(E_BAD_STATE)
    if not integration_marks(b)["refusable"]:
        raise AuthzError(E_NOT_REFUSABLE)
    with flow_transaction(svc):
        bindings.transition(svc, b, "refused", by=_by(actor))
    return person_view(svc, actor, _mine(me, b.id))


# ---- applications (R-BIND-7)
def apply(svc, actor: Actor, *, uscc: str, identity_type: str) -> dict:
    """Apply to an enterprise as an identity type → pending until its legal rep or finance officer
    confirms (R-BIND-7). Which types may be applied for comes from rules.csv (ac.person.binding:<type>)."""
    require(svc, actor, AUTH, "apply")
    role = known_identity_type(svc, identity_type)
    require(svc, actor, binding_function(role), "apply")
    code = uscc.strip().upper() if isinstance(uscc, str) else ""
    if not USCC_RE.fullmatch(code):
        raise AuthzError(E_USCC)
    ent = Enterprise.get_or_none(Enterprise.uscc == code)
    if ent is None:
        raise AuthzError(E_ENT_UNKNOWN)
    me = _me(actor)
    with flow_transaction(svc, lock_enterprise=ent.id):
        b = create_pending(svc, me, ent, role, by=_by(actor), functions=None, valid_until=None)
    return person_view(svc, actor, _mine(me, b.id))


def withdraw_application(svc, actor: Actor, binding_id) -> dict:
    """Withdraw one's own pending application → history "withdrawn"."""
    require(svc, actor, AUTH, "withdraw")
    me = _me(actor)
    b = _mine(me, binding_id)
    if b.state != "pending" or b.initiated_by != "person":
        raise AuthzError(E_BAD_STATE)
    with flow_transaction(svc):
        bindings.transition(svc, b, "withdrawn", by=_by(actor))
    return person_view(svc, actor, _mine(me, b.id))


# ---- authorised enterprises (R-BIND-6, R-BIND-11, R-BIND-13)
def list_authorised(svc, actor: Actor, *, nationwide: bool = False, province: str | None = None,
                    uscc: str | None = None, taxpayer_name: str | None = None, identity_type: str | None = None,
                    sort: str = "-decided_at", limit: int = 50, offset: int = 0) -> dict:
    """Enterprises where the person holds an active binding, with status (enabled/disabled), validity
    end, function set, and "end" where rules.csv allows it for that identity type."""
    require(svc, actor, AUTH, "view")
    me = _me(actor)
    q = _filtered(svc, me, ("active",), nationwide=nationwide, province=province, uscc=uscc,
                  taxpayer_name=taxpayer_name, identity_type=identity_type)
    return _listing(svc, actor, q, sort, limit, offset)


def end_binding(svc, actor: Actor, binding_id) -> dict:
    """End one's own active binding → history "ended"; never as legal representative (R-BIND-11: no
    `ac.person.binding:legal_rep end` rule)."""
    require(svc, actor, AUTH, "end")
    me = _me(actor)
    b = _mine(me, binding_id)
    require(svc, actor, binding_function(b.role), "end")
    if b.state != "active":
        raise AuthzError(E_BAD_STATE)
    with flow_transaction(svc):
        bindings.transition(svc, b, "ended", by=_by(actor))
    return person_view(svc, actor, _mine(me, b.id))


def sync(svc, actor: Actor, binding_id) -> dict:
    """"Data sync" from "authorised enterprises": push the person's own active binding to the downstream
    e-tax systems (R-BIND-15; flows.integration.sync_binding)."""
    require(svc, actor, SYNC, "push")
    me = _me(actor)
    b = _mine(me, binding_id)
    if b.state != "active":
        raise AuthzError(E_BAD_STATE)
    out = sync_binding(svc, b, actor)
    return {"id": b.id, "event_id": out["event_id"], "queued_at": out["queued_at"], "reused": out["reused"]}


# ---- history (R-BIND-12)
def _history(svc, me: Person, identity_type, taxpayer_name, state):
    states = check_filter_states(state, HISTORY_STATES)
    q = _filtered(svc, me, states, nationwide=True, province=None, uscc=None, taxpayer_name=taxpayer_name,
                  identity_type=identity_type)
    return q.where(Binding.hidden_for_person == False)  # noqa: E712


def list_history(svc, actor: Actor, *, identity_type: str | None = None, taxpayer_name: str | None = None,
                 state: str | list[str] | None = None, sort: str = "-decided_at", limit: int = 50,
                 offset: int = 0) -> dict:
    """Deleted, withdrawn, refused and ended authorisations, except those the person cleared."""
    require(svc, actor, AUTH, "view")
    me = _me(actor)
    rows, total = page(_history(svc, me, identity_type, taxpayer_name, state), sort, limit, offset, PERSON_SORTS)
    return {"items": [person_view(svc, actor, b, with_actions=False) for b in rows], "total": total,
            "limit": int(limit), "offset": int(offset)}


def clear_history(svc, actor: Actor, binding_ids: list | None = None, *, identity_type: str | None = None,
                  taxpayer_name: str | None = None, state: str | list[str] | None = None) -> int:
    """"Clear records": hide entries from the person's history list; the rows stay (R-BIND-12)."""
    require(svc, actor, AUTH, "clear")
    me = _me(actor)
    q = _history(svc, me, identity_type, taxpayer_name, state)
    if binding_ids is not None:
        ids = _ids(binding_ids)
        q = q.where(Binding.id.in_(ids))
        if q.count() != len(ids):
            raise AuthzError("not_found")
    rows = list(q)
    if not rows:
        return 0
    with flow_transaction(svc):
        return bindings.hide(svc, [b.id for b in rows], by=_by(actor))


def _ids(binding_ids) -> list[int]:
    if not isinstance(binding_ids, (list, tuple)) or not binding_ids:
        raise AuthzError("validation_failed", errors={"ids": ["one or more binding ids"]})
    if len(binding_ids) > MAX_BATCH:
        raise AuthzError(E_TOO_MANY)
    return sorted({as_id(i) for i in binding_ids})


__all__ = ["list_pending", "confirm", "refuse", "apply", "withdraw_application", "list_authorised",
           "end_binding", "sync", "list_history", "clear_history"]
