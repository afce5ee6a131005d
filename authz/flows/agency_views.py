"""Agency views of the enterprise account centre (R-AGT-3, R-AGT-4).

* `my_agency` (an ordinary or non-resident client's legal rep / finance officer, `ac.agency.mine view`):
  each agreement naming this enterprise as client — agency name and USCC (masked), agreement number,
  agent persons (masked) with their identity type, service start and end, status, and each agent's
  permissions.
* `clients` (an agency's legal rep / finance officer, `ac.agency.clients view`): the agency's agreements
  with its client enterprises.
* `agent_staff` (same, `ac.agency.agents view`): the agency's agent persons with the clients each serves.

Agreements and their agents arrive through the integration port (R-AGT-1); the agency's agent staff
are derived from the agreements that name them (no separate staff filing exists yet).
Status: `active` (filed active and today within start..end), `not_started`, `expired`, or the filed
status (`ended`, `suspended`).
"""
from __future__ import annotations

from ..actor import Actor, require
from ..errors import AuthzError
from ..masking import mask_doc, mask_enterprise_name, mask_name, mask_uscc
from ..models import Agreement, AgreementAgent, Enterprise, Person
from .staff import (E_FILTER, as_date, enterprise_of, function_views, identity_label, iso, paging,
                    primary_documents)

MINE = "ac.agency.mine"
CLIENTS = "ac.agency.clients"
AGENTS = "ac.agency.agents"
STATUSES = ("active", "not_started", "expired", "ended", "suspended")


def agreement_status(svc, ag: Agreement) -> str:
    if ag.status != "active":
        return ag.status
    today = svc.clock.today()
    if as_date(ag.start) > today:
        return "not_started"
    if as_date(ag.end) < today:
        return "expired"
    return "active"


def _agents(svc, agreements: list[Agreement]) -> dict[int, list[dict]]:
    ids = [a.id for a in agreements]
    out: dict[int, list[dict]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = list(AgreementAgent.select(AgreementAgent, Person).join(Person)
                .where(AgreementAgent.agreement.in_(ids)).order_by(AgreementAgent.id))
    docs = primary_documents(r.person_id for r in rows)
    by_id = {a.id: a for a in agreements}
    for r in rows:
        d = docs.get(r.person_id)
        out[r.agreement_id].append({
            "name": mask_name(r.person.name), "doc_type": d.doc_type if d else "",
            "doc_number": mask_doc(d.doc_number) if d else "", **identity_label(svc, "tax_agent"),
            "permissions": function_views(svc, sorted(by_id[r.agreement_id].permissions or []))})
    return out


def _agreement_view(svc, ag: Agreement, other: Enterprise, agents: list[dict], side: str) -> dict:
    return {
        "agreement_number": ag.number,
        f"{side}_name": mask_enterprise_name(other.name),
        f"{side}_uscc": mask_uscc(other.uscc),
        "service_start": iso(ag.start), "service_end": iso(ag.end),
        "status": agreement_status(svc, ag),
        "permissions": function_views(svc, sorted(ag.permissions or [])),
        "agents": agents,
    }


def _list(svc, query, side: str, status, limit, offset) -> dict:
    limit, offset = paging(limit, offset)
    if status not in (None, "") and status not in STATUSES:
        raise AuthzError(E_FILTER, field="status")
    rows = list(query.order_by(Agreement.start.desc(), Agreement.id.desc()))
    if status not in (None, ""):
        rows = [a for a in rows if agreement_status(svc, a) == status]
    total = len(rows)
    rows = rows[offset:offset + limit]
    agents = _agents(svc, rows)
    items = [_agreement_view(svc, a, a.agency if side == "agency" else a.client, agents[a.id], side) for a in rows]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def my_agency(svc, actor: Actor, *, status: str | None = None, limit: int = 50, offset: int = 0) -> dict:
    """"My agency": the agencies serving this enterprise and their agents (R-AGT-3)."""
    require(svc, actor, MINE, "view")
    ent = enterprise_of(actor)
    q = (Agreement.select(Agreement, Enterprise).join(Enterprise, on=(Agreement.agency == Enterprise.id))
         .where(Agreement.client == ent.id))
    return _list(svc, q, "agency", status, limit, offset)


def clients(svc, actor: Actor, *, status: str | None = None, limit: int = 50, offset: int = 0) -> dict:
    """"Clients": this agency's client enterprises and agreements (R-AGT-4)."""
    require(svc, actor, CLIENTS, "view")
    ent = enterprise_of(actor)
    q = (Agreement.select(Agreement, Enterprise).join(Enterprise, on=(Agreement.client == Enterprise.id))
         .where(Agreement.agency == ent.id))
    return _list(svc, q, "client", status, limit, offset)


def agent_staff(svc, actor: Actor, *, limit: int = 50, offset: int = 0) -> dict:
    """"Agent staff": this agency's agent persons, each with the clients they serve (R-AGT-4)."""
    require(svc, actor, AGENTS, "view")
    ent = enterprise_of(actor)
    limit, offset = paging(limit, offset)
    rows = list(AgreementAgent.select(AgreementAgent, Agreement, Person)
                .join(Agreement).switch(AgreementAgent).join(Person)
                .where(Agreement.agency == ent.id).order_by(Person.id, Agreement.id))
    persons: dict[int, dict] = {}
    docs = primary_documents(r.person_id for r in rows)
    client_ids = {r.agreement.client_id for r in rows}
    names = {e.id: e for e in Enterprise.select().where(Enterprise.id.in_(sorted(client_ids) or [0]))}
    for r in rows:
        d = docs.get(r.person_id)
        entry = persons.setdefault(r.person_id, {
            "name": mask_name(r.person.name), "doc_type": d.doc_type if d else "",
            "doc_number": mask_doc(d.doc_number) if d else "", **identity_label(svc, "tax_agent"),
            "clients": []})
        c = names.get(r.agreement.client_id)
        entry["clients"].append({
            "agreement_number": r.agreement.number,
            "client_name": mask_enterprise_name(c.name) if c else "",
            "client_uscc": mask_uscc(c.uscc) if c else "",
            "service_start": iso(r.agreement.start), "service_end": iso(r.agreement.end),
            "status": agreement_status(svc, r.agreement),
            "permissions": function_views(svc, sorted(r.agreement.permissions or []))})
    items = list(persons.values())
    return {"items": items[offset:offset + limit], "total": len(items), "limit": limit, "offset": offset}


__all__ = ["my_agency", "clients", "agent_staff", "agreement_status"]
