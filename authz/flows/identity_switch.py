"""Identity switching without logging out (R-SW-1..6).

The options are computed afresh from the directory and the enforcer with the same listing the login
uses (`login.identity_choices`), so a switch can only land where a login could:

* R-SW-1  another identity in the current enterprise;
* R-SW-2  an identity in another enterprise where the person holds one (not once the session has been
          personal: R-SW-3);
* R-SW-3  enterprise -> personal business, always; never back to an enterprise in the same session;
* R-SW-4  another cross-region project / tax-source registration of the current enterprise;
* R-SW-5  another client enterprise of the agent's agency;
* R-SW-6  the switch issues a new session id (the old one dies) and every later check answers for the
          new identity, because checks read the session's current identity.

Opening the switcher is itself a function (`ac.switch`, `use`) the enforcer decides for the current
identity. Target ids: `b<binding id>`, `self`, `a:<agreement number>`, `p:<management number>`.
"""
from __future__ import annotations

from .. import audit, sessions
from ..actor import Actor, of_session, require
from ..db import database
from ..errors import AuthzError, code
from ..ids import ENT_PREFIX, person_domain
from ..models import Agreement, Binding, CrossRegionProject, Enterprise, LoginSession, Person
from ..sessions import Entry, Identity
from . import login

E_TARGET = code("switch_target_unknown")
E_SAME = code("switch_target_current")

ENTERPRISE_ENTRIES = (Entry.ENTERPRISE, Entry.NONRESIDENT)


def actor_of(row: LoginSession) -> Actor:
    return of_session(row)


def _enterprise_of(domain: str) -> Enterprise | None:
    if not domain.startswith(ENT_PREFIX):
        return None
    return Enterprise.get_or_none(Enterprise.uscc == domain[len(ENT_PREFIX):])


def _entry_for(ent: Enterprise) -> Entry:
    return Entry.NONRESIDENT if ent.kind == "nonresident" else Entry.ENTERPRISE


def options(svc, row: LoginSession) -> dict:
    """Everything the session may switch to now, grouped as the switcher shows it."""
    require(svc, actor_of(row), "ac.switch", "use")
    person: Person = row.person
    entry = Entry(row.entry)
    current = _current_id(row)
    out = {"current": {"id": current, "entry": entry.value, "domain": row.domain, "identity_type": row.role,
                       "project": row.project, "agreement": row.agreement},
           "identities": [], "enterprises": [], "projects": [], "clients": [], "personal": None}
    if entry != Entry.PERSONAL:
        out["personal"] = {"id": "self", "identity_type": "self", "domain": person_domain(person.uid)}
    here = _enterprise_of(row.domain)
    if entry in ENTERPRISE_ENTRIES + (Entry.SPECIAL,) and here is not None:
        same = login.identity_choices(svc, person, _entry_for(here), here)["identities"]
        out["identities"] = [dict(i, entry=_entry_for(here).value) for i in same if i["id"] != current]
        for kind in ("inspection", "tax_source"):
            c = login.identity_choices(svc, person, Entry.SPECIAL, here, kind)
            for p in c.get("projects", []):
                if f"p:{p['id']}" != current:
                    out["projects"].append(dict(p, id=f"p:{p['id']}", acting=c["acting"], entry=Entry.SPECIAL.value))
    if row.enterprise_allowed and entry in ENTERPRISE_ENTRIES + (Entry.SPECIAL,):
        out["enterprises"] = _other_enterprises(svc, person, exclude=row.domain)
    if entry == Entry.AGENT and row.agreement:
        ag = Agreement.get_or_none(Agreement.number == row.agreement)
        if ag is not None:
            clients = login.identity_choices(svc, person, Entry.AGENT, ag.agency)["clients"]
            out["clients"] = [dict(c, id=f"a:{c['id']}", entry=Entry.AGENT.value) for c in clients
                              if c["id"] != row.agreement]
    return out


def _current_id(row: LoginSession) -> str:
    if row.entry == Entry.PERSONAL.value:
        return "self"
    if row.entry == Entry.AGENT.value:
        return f"a:{row.agreement}"
    if row.entry == Entry.SPECIAL.value:
        return f"p:{row.project}"
    return f"b{row.binding_id}"


def _other_enterprises(svc, person: Person, exclude: str) -> list[dict]:
    """R-SW-2: live identities in other enterprises (one entry per identity)."""
    rows = (Binding.select(Binding, Enterprise).join(Enterprise)
            .where((Binding.person == person) & (Binding.state == "active") & (Binding.domain != exclude))
            .order_by(Binding.domain, Binding.id))
    out = []
    for b in rows:
        if any(g.source == f"binding:{b.id}" for g in svc.enforcer.roles_in(person.uid, b.domain)):
            out.append({"id": f"b{b.id}", "identity_type": b.role, "domain": b.domain,
                        "enterprise": b.enterprise.name, "entry": _entry_for(b.enterprise).value})
    return out


def switch(svc, row: LoginSession, target: str) -> tuple[str, LoginSession]:
    """Switch the session to `target` (an id from `options`); returns the new session id and row."""
    opts = options(svc, row)
    if target == opts["current"]["id"]:
        raise AuthzError(E_SAME)
    ident = _identity(svc, row, opts, target)
    with database.atomic():
        raw, new = sessions.rotate(svc, row, ident)
        audit.record(svc, actor=row.person.uid, identity=ident.role, domain=ident.domain, action="identity.switch",
                     target=target, detail={"from_domain": row.domain, "from_identity": row.role,
                                            "entry": ident.entry.value})
    return raw, new


def _identity(svc, row: LoginSession, opts: dict, target: str) -> Identity:
    if target == "self" and opts["personal"]:
        return Identity(Entry.PERSONAL, opts["personal"]["domain"], "self")
    for group in ("identities", "enterprises"):
        for item in opts[group]:
            if item["id"] == target:
                return Identity(Entry(item["entry"]), item["domain"], item["identity_type"],
                                binding_id=int(target[1:]))
    for item in opts["projects"]:
        if item["id"] == target:
            return Identity(Entry.SPECIAL, item["domain"], item["identity_type"],
                            binding_id=int(item["acting"][1:]), project=target[2:])
    for item in opts["clients"]:
        if item["id"] == target:
            return Identity(Entry.AGENT, item["domain"], "tax_agent", agreement=target[2:])
    raise AuthzError(E_TARGET)


__all__ = ["options", "switch", "actor_of", "CrossRegionProject"]
