"""Enterprise information in the enterprise account centre (R-ENT-1, R-ENT-2, R-MASK-1).

* `basic_info`: masked USCC, taxpayer name and legal representative; the enterprise's real-name status,
  competent tax authority; the actor's current identity (emphasised) and their other identities here;
  main personnel (legal rep and finance officer, masked). Needs `ac.ent.info.basic view`.
* `full_info`: the basic view plus basic tax information and investors. Needs `ac.ent.info.full view`
  (legal rep and finance officer in the default rule file, R-ENT-2).
* `reveal_name`: the full taxpayer name ("eye" icon), an explicit request written to the audit log.
  Needs `ac.ent.reveal reveal`.

Data gap (documented, not invented): the registration data reaching this service (Directory.
upsert_enterprise) carries USCC, name, kind, province, competent tax authority, real-name status and a
non-resident code. Registration details such as registered capital, address, industry, registration
type and the investor list are not provided by any source yet; `full_info` returns them as absent
and names them under `not_provided`, so a UI can say so instead of showing invented values.
"""
from __future__ import annotations

from ..actor import Actor, require
from ..masking import mask_doc, mask_enterprise_name, mask_name, mask_phone, mask_uscc
from ..models import Binding, Person, Phone
from .staff import audit, enterprise_of, identity_label, primary_documents

BASIC = "ac.ent.info.basic"
FULL = "ac.ent.info.full"
REVEAL = "ac.ent.reveal"
MAIN_PERSONNEL_TYPES = ("legal_rep", "finance_officer")
NOT_PROVIDED = ("registered_capital", "registered_address", "industry", "registration_type", "investors")


def _main_personnel(svc, ent) -> list[dict]:
    rows = list(Binding.select(Binding, Person).join(Person)
                .where((Binding.enterprise == ent.id) & (Binding.state == "active")
                       & (Binding.role.in_(MAIN_PERSONNEL_TYPES)))
                .order_by(Binding.role, Binding.id))
    docs = primary_documents(b.person_id for b in rows)
    phones = {p.person_id: p.number for p in Phone.select().where(
        (Phone.person.in_([b.person_id for b in rows] or [0])) & (Phone.is_default == True))}  # noqa: E712
    out = []
    for b in rows:
        d = docs.get(b.person_id)
        out.append({**identity_label(svc, b.role), "name": mask_name(b.person.name),
                    "doc_type": d.doc_type if d else "", "doc_number": mask_doc(d.doc_number) if d else "",
                    "phone": mask_phone(phones.get(b.person_id))})
    return out


def _identities(svc, actor: Actor) -> dict:
    """The current identity and the person's other live identities in this enterprise (R-ENT-1)."""
    roles = []
    for g in svc.enforcer.roles_in(actor.uid, actor.domain):
        if g.role not in roles:
            roles.append(g.role)
    order = list(svc.enforcer.index.roles)
    others = sorted((r for r in roles if r != actor.role), key=lambda r: order.index(r) if r in order else 99)
    return {"current_identity": {**identity_label(svc, actor.role), "current": True},
            "other_identities": [{**identity_label(svc, r), "current": False} for r in others]}


def _basic(svc, actor: Actor, ent) -> dict:
    personnel = _main_personnel(svc, ent)
    legal = [p["name"] for p in personnel if p["identity_type"] == "legal_rep"]
    me = Person.get_or_none(Person.uid == actor.uid)
    return {
        "uscc": mask_uscc(ent.uscc),
        "name": mask_enterprise_name(ent.name),
        "legal_rep_name": legal[0] if legal else "",
        "kind": ent.kind,
        "realname_status": ent.realname_status,
        "tax_authority": ent.tax_authority,
        "province": ent.province,
        "my_realname_level": me.realname_level if me else None,
        **_identities(svc, actor),
        "main_personnel": personnel,
    }


def basic_info(svc, actor: Actor) -> dict:
    """Basic information and main personnel, masked (R-ENT-1)."""
    require(svc, actor, BASIC, "view")
    ent = enterprise_of(actor)
    return {**_basic(svc, actor, ent), "scope": "basic"}


def full_info(svc, actor: Actor) -> dict:
    """Everything (R-ENT-2): basic information, main personnel, basic tax information, investors."""
    require(svc, actor, FULL, "view")
    ent = enterprise_of(actor)
    tax = {
        "taxpayer_kind": ent.kind,
        "competent_tax_authority": ent.tax_authority,
        "province": ent.province,
        "realname_status": ent.realname_status,
        "nonresident_code": mask_uscc(ent.nonresident_code) if ent.nonresident_code else None,
        "registered_at": ent.created_at,
        "updated_at": ent.updated_at,
        "registered_capital": None, "registered_address": None, "industry": None, "registration_type": None,
    }
    return {**_basic(svc, actor, ent), "scope": "full", "tax_info": tax, "investors": [],
            "not_provided": list(NOT_PROVIDED)}


def reveal_name(svc, actor: Actor) -> dict:
    """The full taxpayer name, on explicit request; audited (R-MASK-1, R-LOG-2)."""
    require(svc, actor, REVEAL, "reveal")
    ent = enterprise_of(actor)
    audit(svc, actor, "ent.reveal", target=f"enterprise:{ent.id}", detail={"field": "name"})
    return {"name": ent.name}


__all__ = ["basic_info", "full_info", "reveal_name"]
