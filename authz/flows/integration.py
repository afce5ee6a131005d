"""Integration port: what the external sources feed in, and the "data sync" push.

Sources are trusted services (scope `integration`; tax-hall workstations scope `hall`). Each flow runs
in one transaction with its audit rows and outbound events, writes bindings only through `authz.bindings`
(which writes their audit rows and events) and agreements through `Directory` (so the enforcer's answer
changes at once, R-AUTHZ-5), and is idempotent: a resend of data
already in force changes nothing and answers `changed: false`.

* Registration data: enterprise + legal representative, active, origin registration (R-BIND-1).
* Tax information report: finance officer, pending, cannot be refused (R-BIND-2).
* Core tax system: tax officers, pending (R-BIND-3). Tax hall: bindings that cannot be withdrawn online
  (R-BIND-3), offline withdrawal and ending, real-name level 5 (R-RN-2). Which identity types the hall
  handles is the rule file's `p, service:hall, <domain>, svc.binding:<type>, add|withdraw|end` lines,
  asked through the enforcer (`hall_may`).
* Agency filings: agent staff (tax_agent, active) and agreements (R-AGT-1, R-AGT-2).
* Non-resident enterprise approval (R-LOGIN-6).
* Core tax system: cross-region inspection projects and tax-source registrations with their handler
  (R-LOGIN-4, R-SW-4); ending one takes it off login and switching and refuses sessions inside it at once.
* Every binding or agreement change publishes an outbound event; `sync_binding` is the account centre's
  "data sync" button (R-BIND-15).

Persons are named by document type + number + name. A document unknown here becomes a stock person
(no password, must change it at first login, level 3, not registered); a document on record under a
different name is refused (identity_mismatch) rather than bound to the wrong person. Document types,
number shapes and normalisation are registration's (`accounts`), so both paths find the same person.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import peewee as pw

from .. import accounts, audit, events, projects
from .. import policy as pol
from ..db import database
from .. import bindings
from ..bindings import binding_snapshot
from ..directory import E_BAD_STATE, Directory
from ..vocab import Party
from ..errors import AuthzError, code
from ..ids import MANAGEMENT_NO_RE, USCC_RE, enterprise_domain
from ..models import Agreement, Binding, BindingConstraint, CrossRegionProject, Document, Enterprise, OutboxEvent, Person
from .hall import E_NAME_MISMATCH, check_document

DOC_TYPES = tuple(accounts.DOC_TYPES)  # the eleven document types (R-REG-2), shared with registration
DOC_NUMBER_PATTERN = r"^[0-9A-Za-z]{5,20}$"  # the shape every type shares; each type is checked further
# No control characters, no leading or trailing space (same meaning in Python and ECMA regular expressions).
NAME_PATTERN = r"^[^\x00-\x20\x7f]([^\x00-\x1f\x7f]*[^\x00-\x20\x7f])?$"
AGREEMENT_NUMBER_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_\-]{0,63}$"
SOURCE_REF_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,63}$"
AGREEMENT_STATUSES = ("active", "ended", "suspended")
PROJECT_KINDS = projects.KINDS  # inspection (跨区域报验) | tax_source (跨区税源登记)
PROJECT_STATUSES = projects.STATUSES
MANAGEMENT_NO_PATTERN = MANAGEMENT_NO_RE.pattern
# A region as the report names it (e.g. 湖南省长沙市岳麓区): like a name, up to 40 characters.
REGION_MAX = 40
HALL = "hall"  # the tax-hall workstations' service scope; its rule-file subject is service:hall
IDENTITY_TYPE_PATTERN = r"^[a-z][a-z0-9_\-]{0,39}$"  # the shape of an identity type a svc.binding: object names
REALNAME_METHODS = ("id_card_reader", "nfc")
LIVE = ("pending", "active")

E_PERSON_UNKNOWN = code("integ_person_unknown")
E_PERSON_NOT_REGISTERED = code("integ_person_not_registered")
E_ENT_UNKNOWN = code("integ_enterprise_unknown")
E_NOT_AGENCY = code("integ_not_agency")
E_AGENT_NOT_STAFF = code("integ_agent_not_staff")
E_AGREEMENT_DATES = code("integ_agreement_dates")
E_AGREEMENT_PARTIES = code("integ_agreement_parties")
E_AGREEMENT_UNKNOWN = code("integ_agreement_unknown")
E_CODE_TAKEN = code("integ_nonresident_code_taken")
E_NOT_NONRESIDENT = code("integ_not_nonresident")
E_BINDING_UNKNOWN = code("integ_binding_unknown")
E_HALL_ROLE = code("integ_hall_role")
E_PROJECT_UNKNOWN = code("integ_project_unknown")
E_PROJECT_PARTIES = code("integ_project_parties")
E_HANDLER_NOT_OFFICER = code("integ_handler_not_officer")
E_BAD_INPUT = "validation_failed"


# ---- inputs

@dataclass(frozen=True)
class PersonRef:
    """A person as the sources name them: document type, number and name."""
    doc_type: str
    doc_number: str
    name: str

    @classmethod
    def of(cls, value: "PersonRef | dict") -> "PersonRef":
        """Normalise (upper-case number, trimmed name) and check a reference from a dict or a PersonRef."""
        if isinstance(value, PersonRef):
            value = value.__dict__
        name = str(value.get("name", ""))
        if not 1 <= len(name) <= 100 or not re.fullmatch(NAME_PATTERN, name):
            raise AuthzError(E_BAD_INPUT, errors={"name": ["1-100 characters, no control characters or "
                                                           "surrounding spaces"]})
        doc_type = str(value.get("doc_type", ""))
        return cls(doc_type, check_document(doc_type, str(value.get("doc_number", ""))), name)


@dataclass(frozen=True)
class Constraints:
    """What the source said about a binding (defaults when it said nothing)."""
    refusable: bool = True
    withdrawable_online: bool = True
    source_ref: str = ""


# Without a constraint row (bindings made by the account centre) the origin decides: only the finance
# officer from the tax report is unrefusable (R-BIND-2); only what the enterprise itself added may it
# withdraw online (R-BIND-3: hall and core-tax-system bindings are added offline).
UNREFUSABLE_ORIGINS = ("tax_report",)
WITHDRAWABLE_ORIGINS = ("enterprise",)


def binding_constraints(binding: Binding | int) -> Constraints:
    """For the account centre: may the person refuse it (R-BIND-2), may the enterprise withdraw it online
    (R-BIND-3)? Every refuse and online-withdraw path must ask this first."""
    b = binding if isinstance(binding, Binding) else Binding.get_by_id(binding)
    row = BindingConstraint.get_or_none(BindingConstraint.binding == b.id)
    if row is None:
        return Constraints(b.origin not in UNREFUSABLE_ORIGINS, b.origin in WITHDRAWABLE_ORIGINS)
    return Constraints(row.refusable, row.withdrawable_online, row.source_ref)


# ---- snapshots (event payloads and API answers carry ids, never names or document numbers)

def _iso(d) -> str | None:
    if d is None:
        return None
    return d.isoformat() if isinstance(d, (dt.date, dt.datetime)) else str(d)


def binding_view(b: Binding, changed: bool) -> dict:
    c = binding_constraints(b)
    return {"binding_id": b.id, "person": b.person.uid, "uscc": b.enterprise.uscc, "domain": b.domain,
            "identity_type": b.role, "state": b.state, "origin": b.origin,
            "functions": b.functions, "valid_until": _iso(b.valid_until), "sub_identity": b.sub_identity,
            "refusable": c.refusable, "withdrawable_online": c.withdrawable_online, "changed": changed}


def agreement_view(ag: Agreement, changed: bool = False) -> dict:
    agents = sorted(a.person.uid for a in ag.agents)
    return {"number": ag.number, "agency_uscc": ag.agency.uscc, "client_uscc": ag.client.uscc,
            "client_domain": ag.client_domain, "start": _iso(ag.start), "end": _iso(ag.end),
            "status": ag.status, "permissions": sorted(ag.permissions), "agents": agents, "changed": changed}


def enterprise_view(ent: Enterprise, changed: bool) -> dict:
    return {"uscc": ent.uscc, "domain": enterprise_domain(ent.uscc), "kind": ent.kind, "province": ent.province,
            "tax_authority": ent.tax_authority, "nonresident_code": ent.nonresident_code, "changed": changed}


# ---- building blocks (called inside a transaction)

def _audit(svc, actor, action: str, target: str, domain: str = "", **detail) -> None:
    """One audit row; `actor` is a service ("service:<name>") or a session Actor (uid, role, domain)."""
    if isinstance(actor, str):
        who, identity, own_domain = actor, "", ""
    else:
        who, identity, own_domain = actor.uid, getattr(actor, "role", ""), getattr(actor, "domain", "")
    audit.record(svc, actor=who, identity=identity, domain=domain or own_domain, action=action, target=target,
                 detail=detail or None)


def _transactional(fn: Callable[[], Any], attempts: int = 3) -> Any:
    """Run fn in one transaction; a unique-index race with a concurrent resend is retried (the second
    run finds the row the first created)."""
    for i in range(attempts):
        try:
            with database.atomic():
                return fn()
        except pw.IntegrityError:
            if i == attempts - 1:
                raise AuthzError("conflict") from None


def _lock_enterprise(uscc: str) -> Enterprise | None:
    """The enterprise row, locked for this transaction so concurrent feeds for it run one after another
    (PostgreSQL: row lock; SQLite: the write lock). None if unknown."""
    if Enterprise.update(updated_at=Enterprise.updated_at).where(Enterprise.uscc == uscc).execute() == 0:
        return None
    return Enterprise.get(Enterprise.uscc == uscc)


def _require_enterprise(uscc: str) -> Enterprise:
    if not USCC_RE.fullmatch(uscc or ""):
        raise AuthzError("bad_uscc")
    ent = _lock_enterprise(uscc)
    if ent is None:
        raise AuthzError(E_ENT_UNKNOWN)
    return ent


def find_person(ref: PersonRef | dict) -> Person | None:
    """The person holding this document, or None; raise identity_mismatch if the name differs."""
    ref = PersonRef.of(ref)
    doc = (Document.select(Document, Person).join(Person)
           .where((Document.doc_type == ref.doc_type) & (Document.doc_number == ref.doc_number)).first())
    if doc is None:
        return None
    if doc.person.name != ref.name:
        raise AuthzError(E_NAME_MISMATCH)
    return doc.person


def _person_or_stock(svc, actor, ref: PersonRef | dict, source: str) -> Person:
    ref = PersonRef.of(ref)
    person = find_person(ref)
    if person is not None:
        return person
    person = Directory(svc).create_person(ref.name, ref.doc_type, ref.doc_number, realname_level=3,
                                          password_hash=None, must_change_password=True, registered=False,
                                          overseas=accounts.DOC_TYPES[ref.doc_type].overseas,
                                          **accounts.derived_from_document(ref.doc_type, ref.doc_number))
    _audit(svc, actor, "person.create_stock", f"person:{person.uid}", doc_type=ref.doc_type, source=source)
    return person


def _source(actor) -> bindings.Who:
    """The source acting: a service ("service:<name>") or a session Actor (uid, role, domain)."""
    return bindings.Who.of(Party.SOURCE, actor)


def _bind(svc, actor, person: Person, ent: Enterprise, role: str, *, state: str, origin: str,
          initiated_by: str = "integration", functions=None, valid_until=None, sub_identity: bool = False,
          refusable: bool = True, withdrawable_online: bool = False, source_ref: str = "", **detail) -> Binding:
    """A binding from a source, with its constraints written down (nothing from a source is withdrawable
    online unless said so); bindings.create writes the audit row and the event."""
    return bindings.create(svc, person, ent, role, by=_source(actor), state=state, origin=origin,
                           functions=functions, valid_until=valid_until, initiated_by=initiated_by,
                           sub_identity=sub_identity, detail=detail,
                           constraint={"refusable": refusable, "withdrawable_online": withdrawable_online,
                                       "source_ref": source_ref})


def _transition(svc, actor, b: Binding, new_state: str, reason: str, **detail) -> Binding:
    return bindings.transition(svc, b, new_state, by=_source(actor), reason=reason, detail=detail)


def _close(svc, actor, b: Binding, reason: str, **detail) -> Binding:
    """End an active binding or withdraw a pending one."""
    return _transition(svc, actor, b, "ended" if b.state == "active" else "withdrawn", reason, **detail)


def _live(ent: Enterprise, role: str, person: Person | None = None) -> list[Binding]:
    q = Binding.select().where((Binding.enterprise == ent) & (Binding.role == role) & Binding.state.in_(LIVE))
    if person is not None:
        q = q.where(Binding.person == person)
    return list(q.order_by(Binding.id))


def _by_source_ref(ent: Enterprise, role: str, person: Person, ref: str) -> Binding | None:
    if not ref:
        return None
    return (Binding.select().join(BindingConstraint)
            .where((Binding.enterprise == ent) & (Binding.role == role) & (Binding.person == person)
                   & (BindingConstraint.source_ref == ref)).order_by(Binding.id.desc()).first())


def _set_sole(svc, actor, ent: Enterprise, person: Person, role: str, *, state: str, origin: str,
              source_ref: str = "", **kw) -> tuple[Binding, bool]:
    """Make `person` the one holder of `role` in `ent` (legal rep, finance officer): other holders'
    bindings end (or are withdrawn if pending); the person's live binding is kept, else a new one made."""
    again = _by_source_ref(ent, role, person, source_ref)
    if again is not None:
        return again, False
    changed = False
    keep = None
    acceptable = ("active",) if state == "active" else LIVE  # an active one also satisfies "pending"
    for b in _live(ent, role):
        if b.person_id == person.id and keep is None and b.state in acceptable:
            keep = b
            continue
        _close(svc, actor, b, "replaced", by=person.uid)
        changed = True
    if keep is None:
        keep = _bind(svc, actor, person, ent, role, state=state, origin=origin, source_ref=source_ref, **kw)
        changed = True
    return keep, changed


def _upsert_enterprise(svc, actor, uscc: str, name: str, kind: str, province: str, tax_authority: str,
                       nonresident_code: str | None) -> tuple[Enterprise, bool]:
    ent = _lock_enterprise(uscc)
    code = nonresident_code if nonresident_code is not None else (ent.nonresident_code if ent else None)
    if code:
        holder = Enterprise.get_or_none(Enterprise.nonresident_code == code)
        if holder is not None and holder.uscc != uscc:
            raise AuthzError(E_CODE_TAKEN)
    if ent is not None and (ent.name, ent.kind, ent.province, ent.tax_authority, ent.nonresident_code) == \
            (name, kind, province, tax_authority, code):
        return ent, False
    created = ent is None
    ent = Directory(svc).upsert_enterprise(uscc, name, kind, province, tax_authority, nonresident_code=code)
    _audit(svc, actor, "enterprise.upsert", f"enterprise:{uscc}", enterprise_domain(uscc), kind=kind,
           province=province, nonresident_code=code, created=created)
    return ent, True


def _date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


# ---- 1. registration data (R-BIND-1)

def register_enterprise(svc, actor, *, uscc: str, name: str, kind: str = "ordinary", province: str = "",
                        tax_authority: str = "", nonresident_code: str | None = None,
                        legal_rep: PersonRef | dict | None = None) -> dict:
    """Create or update an enterprise from registration data and make `legal_rep` its one legal
    representative (active, origin registration); a different earlier legal rep's binding ends."""
    ref = PersonRef.of(legal_rep) if legal_rep is not None else None

    def run():
        ent, changed = _upsert_enterprise(svc, actor, uscc, name, kind, province, tax_authority, nonresident_code)
        out = enterprise_view(ent, changed)
        if ref is not None:
            person = _person_or_stock(svc, actor, ref, "registration")
            b, rep_changed = _set_sole(svc, actor, ent, person, "legal_rep", state="active",
                                       origin="registration", refusable=False)
            out["legal_rep"] = binding_view(b, rep_changed)
            out["changed"] = changed or rep_changed
        return out
    return _transactional(run)


# ---- 2. tax information report (R-BIND-2)

def report_finance_officer(svc, actor, *, uscc: str, person: PersonRef | dict, reference: str = "") -> dict:
    """The finance officer named in the tax information report: a pending binding the person must
    confirm and cannot refuse, that the enterprise cannot withdraw. A resend (same person, or the same
    report reference) changes nothing; naming someone else ends or withdraws the earlier one."""
    ref = PersonRef.of(person)

    def run():
        ent = _require_enterprise(uscc)
        p = _person_or_stock(svc, actor, ref, "tax_report")
        b, changed = _set_sole(svc, actor, ent, p, "finance_officer", state="pending", origin="tax_report",
                               refusable=False, source_ref=reference)
        return binding_view(b, changed)
    return _transactional(run)


# ---- 3. core tax system and tax hall (R-BIND-3)

def report_tax_officers(svc, actor, *, uscc: str, officers: Iterable[dict], reference: str = "") -> dict:
    """Tax officers registered in the core tax system arrive pending (origin core_tax) for the person to
    confirm. A person who already holds a pending or active tax-officer binding there, or a resend of
    the same reference, changes nothing."""
    items = [(PersonRef.of(o["person"]), o) for o in officers]

    def run():
        ent = _require_enterprise(uscc)
        results = []
        for ref, o in items:
            p = _person_or_stock(svc, actor, ref, "core_tax")
            existing = _by_source_ref(ent, "tax_officer", p, reference) or next(iter(_live(ent, "tax_officer", p)), None)
            if existing is not None:
                results.append(binding_view(existing, False))
                continue
            b = _bind(svc, actor, p, ent, "tax_officer", state="pending", origin="core_tax",
                      functions=o.get("functions"), valid_until=_date(o.get("valid_until")),
                      sub_identity=bool(o.get("sub_identity", False)), source_ref=reference)
            results.append(binding_view(b, True))
        return {"uscc": uscc, "results": results, "changed": any(r["changed"] for r in results)}
    return _transactional(run)


def hall_may(svc, domain: str, identity_type: str, act: str) -> bool:
    """May the tax hall `act` (add | withdraw | end) a binding of this identity type in this enterprise
    (R-BIND-3)? The one place that decides: the rule file's `p, service:hall, ..., svc.binding:<type>, <act>`
    lines, through the enforcer; as shipped tax officers, invoice officers and admins, in every enterprise."""
    if not isinstance(identity_type, str) or not re.fullmatch(IDENTITY_TYPE_PATTERN, identity_type):
        return False
    return svc.enforcer.service_can(HALL, domain, f"{pol.SVC_PREFIX}binding:{identity_type}", act)


def _require_hall_may(svc, domain: str, identity_type: str, act: str) -> None:
    if not hall_may(svc, domain, identity_type, act):
        raise AuthzError(E_HALL_ROLE, errors={"identity_type": str(identity_type)[:40], "action": act})


def hall_add_binding(svc, actor, *, uscc: str, person: PersonRef | dict, identity_type: str,
                     functions: list[str] | None = None, valid_until=None, operator: str = "") -> dict:
    """A binding added by tax-hall staff: pending until the person confirms (R-BIND-18), and not
    withdrawable online (R-BIND-3). The person must be known here (R-BIND-4: "尚未注册"); the identity
    type one the rule file lets the hall add in this enterprise (`hall_may`)."""
    ref = PersonRef.of(person)

    def run():
        ent = _require_enterprise(uscc)
        _require_hall_may(svc, enterprise_domain(ent.uscc), identity_type, "add")
        p = find_person(ref)
        if p is None:
            raise AuthzError(E_PERSON_UNKNOWN)
        existing = next(iter(_live(ent, identity_type, p)), None)
        if existing is not None:
            return binding_view(existing, False)
        b = _bind(svc, actor, p, ent, identity_type, state="pending", origin="hall", initiated_by="hall",
                  functions=functions, valid_until=_date(valid_until), operator=operator)
        return binding_view(b, True)
    return _transactional(run)


def _binding(binding_id: int) -> Binding | None:
    return Binding.get_or_none(Binding.id == binding_id) if 0 < binding_id < 2 ** 63 else None


def _hall_binding(binding_id: int) -> Binding:
    b = _binding(binding_id)
    if b is None:
        raise AuthzError(E_BINDING_UNKNOWN)
    _lock_enterprise(b.enterprise.uscc)
    return Binding.get_by_id(binding_id)


def hall_withdraw_binding(svc, actor, binding_id: int, operator: str = "") -> dict:
    """Withdraw a pending binding at the tax hall (the only place a hall-added one can be withdrawn)."""
    def run():
        b = _hall_binding(binding_id)
        if b.state == "withdrawn":
            return binding_view(b, False)
        _require_hall_may(svc, b.domain, b.role, "withdraw")
        if b.state != "pending":
            raise AuthzError(E_BAD_STATE)
        return binding_view(_transition(svc, actor, b, "withdrawn", "hall", operator=operator), True)
    return _transactional(run)


def hall_end_binding(svc, actor, binding_id: int, operator: str = "") -> dict:
    """End an active binding at the tax hall at the person's request (legal rep and finance officer
    follow the registration data and the tax report, not the hall)."""
    def run():
        b = _hall_binding(binding_id)
        if b.state == "ended":
            return binding_view(b, False)
        _require_hall_may(svc, b.domain, b.role, "end")
        if b.state != "active":
            raise AuthzError(E_BAD_STATE)
        return binding_view(_transition(svc, actor, b, "ended", "hall", operator=operator), True)
    return _transactional(run)


def set_realname_level_5(svc, actor, *, person: PersonRef | dict, method: str, operator: str = "") -> dict:
    """Real-name level 5, checked at a tax hall with an ID-card reader or an NFC phone check (R-RN-1,
    R-RN-2: level 5 only by hall staff; online upgrades stop at 4)."""
    ref = PersonRef.of(person)
    if method not in REALNAME_METHODS:
        raise AuthzError(E_BAD_INPUT, errors={"method": [f"one of {', '.join(REALNAME_METHODS)}"]})

    def run():
        p = find_person(ref)
        if p is None:
            raise AuthzError(E_PERSON_UNKNOWN)
        before = p.realname_level
        if before == 5:
            return {"person": p.uid, "realname_level": 5, "previous": 5, "changed": False}
        Person.update(realname_level=5, updated_at=svc.clock.time()).where(Person.id == p.id).execute()
        _audit(svc, actor, "person.realname_level", f"person:{p.uid}", previous=before, level=5, method=method,
               operator=operator)
        return {"person": p.uid, "realname_level": 5, "previous": before, "changed": True}
    return _transactional(run)


# ---- 4. agencies (R-AGT-1, R-AGT-2)

def file_agency_staff(svc, actor, *, uscc: str, agents: Iterable[PersonRef | dict]) -> dict:
    """The agency's agent staff, as a full list: persons not yet staff get an active tax_agent binding
    (origin registration); staff no longer listed are ended and taken off the agency's active and
    suspended agreements at once."""
    refs = [PersonRef.of(a) for a in agents]

    def run():
        ent = _require_enterprise(uscc)
        if ent.kind != "agency":
            raise AuthzError(E_NOT_AGENCY)
        wanted: dict[int, Person] = {}
        for ref in refs:
            p = _person_or_stock(svc, actor, ref, "registration")
            wanted.setdefault(p.id, p)
        added, ended, unchanged = [], [], []
        held, gone = {}, set()
        for b in _live(ent, "tax_agent"):
            if b.person_id in wanted and b.person_id not in held:
                held[b.person_id] = b
                unchanged.append(binding_view(b, False))
            else:
                ended.append(binding_view(_close(svc, actor, b, "not_filed"), True))
                gone.add(b.person_id)
        for pid, p in wanted.items():
            if pid not in held:
                added.append(binding_view(_bind(svc, actor, p, ent, "tax_agent", state="active",
                                                origin="registration", refusable=False), True))
        gone -= set(wanted)
        if gone:
            _drop_agents(svc, actor, ent, gone)
        return {"uscc": uscc, "added": added, "ended": ended, "unchanged": unchanged,
                "changed": bool(added or ended)}
    return _transactional(run)


def _drop_agents(svc, actor, agency: Enterprise, person_ids: set[int]) -> None:
    for ag in Agreement.select().where((Agreement.agency == agency)
                                       & Agreement.status.in_(("active", "suspended"))):
        agents = [a.person for a in ag.agents]
        keep = [p for p in agents if p.id not in person_ids]
        if len(keep) == len(agents):
            continue
        _refile(svc, actor, ag, agents=keep, reason="agent_left_agency")


def _refile(svc, actor, ag: Agreement, *, reason: str, agents=None, status=None, created=False) -> Agreement:
    agents = [a.person for a in ag.agents] if agents is None else agents
    ag = Directory(svc).file_agreement(ag.number, ag.agency, ag.client, agents, _date(ag.start), _date(ag.end),
                                       list(ag.permissions), status=status or ag.status)
    _record_agreement(svc, actor, ag, reason, created)
    return ag


def _record_agreement(svc, actor, ag: Agreement, reason: str, created: bool) -> None:
    view = agreement_view(ag)
    view.pop("changed")
    _audit(svc, actor, "agreement.file", f"agreement:{ag.number}", ag.client_domain, reason=reason, created=created,
           agency=view["agency_uscc"], status=view["status"], start=view["start"], end=view["end"],
           permissions=view["permissions"], agents=view["agents"])
    events.publish(svc, "agreement.changed", {**view, "change": reason}, subject=f"agreement:{ag.number}")


def file_agreement(svc, actor, *, number: str, agency_uscc: str, client_uscc: str,
                   agents: Iterable[PersonRef | dict], start, end, status: str = "active",
                   permissions: list[str]) -> dict:
    """Create or replace an agency agreement (R-AGT-1). Agents must be filed staff of the agency; the
    agreement number stays with its agency and client. The agents' answers in the client change at
    once (R-AGT-2)."""
    if not re.fullmatch(AGREEMENT_NUMBER_PATTERN, number or ""):
        raise AuthzError(E_BAD_INPUT, errors={"number": ["letters, digits, _ or -, up to 64"]})
    if status not in AGREEMENT_STATUSES:
        raise AuthzError(E_BAD_INPUT, errors={"status": [f"one of {', '.join(AGREEMENT_STATUSES)}"]})
    start, end = _date(start), _date(end)
    if end < start:
        raise AuthzError(E_AGREEMENT_DATES)
    refs = [PersonRef.of(a) for a in agents]

    def run():
        locked = {u: _require_enterprise(u) for u in sorted({client_uscc, agency_uscc})}  # one lock order
        client, agency = locked[client_uscc], locked[agency_uscc]
        if agency.kind != "agency":
            raise AuthzError(E_NOT_AGENCY)
        persons, bad = [], {}
        for i, ref in enumerate(refs):
            p = find_person(ref)
            if p is None or not _live_staff(agency, p):
                bad[str(i)] = ["not filed staff of the agency"]
            elif p not in persons:
                persons.append(p)
        if bad:
            raise AuthzError(E_AGENT_NOT_STAFF, errors={"agents": bad})
        ag = Agreement.get_or_none(Agreement.number == number)
        if ag is not None:
            if ag.agency_id != agency.id or ag.client_id != client.id:
                raise AuthzError(E_AGREEMENT_PARTIES)
            same = (_date(ag.start), _date(ag.end), ag.status, sorted(ag.permissions),
                    sorted(a.person_id for a in ag.agents)) == (start, end, status, sorted(set(permissions)),
                                                                sorted(p.id for p in persons))
            if same:
                return agreement_view(ag, False)
        ag2 = Directory(svc).file_agreement(number, agency, client, persons, start, end, list(permissions),
                                            status=status)
        _record_agreement(svc, actor, ag2, "filed", ag is None)
        return agreement_view(ag2, True)
    return _transactional(run)


def _live_staff(agency: Enterprise, person: Person) -> bool:
    return Binding.select().where((Binding.enterprise == agency) & (Binding.person == person)
                                  & (Binding.role == "tax_agent") & (Binding.state == "active")).exists()


def set_agreement_status(svc, actor, number: str, status: str) -> dict:
    """End, suspend or resume an agreement; the agents' answers change at once (R-AGT-2)."""
    if status not in AGREEMENT_STATUSES:
        raise AuthzError(E_BAD_INPUT, errors={"status": [f"one of {', '.join(AGREEMENT_STATUSES)}"]})

    def run():
        ag = Agreement.get_or_none(Agreement.number == number)
        if ag is None:
            raise AuthzError(E_AGREEMENT_UNKNOWN)
        for uscc in sorted({ag.client.uscc, ag.agency.uscc}):  # the same locks, in the same order, as filing
            _lock_enterprise(uscc)
        ag = Agreement.get_by_id(ag.id)
        if ag.status == status:
            return agreement_view(ag, False)
        return agreement_view(_refile(svc, actor, ag, status=status, reason=f"status_{status}"), True)
    return _transactional(run)


def get_agreement(number: str) -> dict:
    ag = Agreement.get_or_none(Agreement.number == number)
    if ag is None:
        raise AuthzError(E_AGREEMENT_UNKNOWN)
    return agreement_view(ag, False)


# ---- 5. non-resident enterprise approval (R-LOGIN-6)

def approve_nonresident(svc, actor, *, nonresident_code: str, name: str, person: PersonRef | dict,
                        uscc: str | None = None, province: str = "", tax_authority: str = "",
                        filing_ref: str = "") -> dict:
    """The tax authority approved the non-resident enterprise information a registered person filed:
    the enterprise (kind nonresident, its identity code; USCC = the given taxpayer id, else the code)
    exists with that person as its legal representative (active), so non-resident login works."""
    ref = PersonRef.of(person)
    if not USCC_RE.fullmatch(nonresident_code or ""):
        raise AuthzError(E_BAD_INPUT, errors={"nonresident_code": ["15-20 upper-case letters or digits"]})

    def run():
        p = find_person(ref)
        if p is None:
            raise AuthzError(E_PERSON_UNKNOWN)
        if not p.registered or p.status != "active":
            raise AuthzError(E_PERSON_NOT_REGISTERED)
        holder = Enterprise.get_or_none(Enterprise.nonresident_code == nonresident_code)
        target = holder.uscc if holder else (uscc or nonresident_code)
        if holder is not None and uscc and holder.uscc != uscc:
            raise AuthzError(E_CODE_TAKEN)
        existing = Enterprise.get_or_none(Enterprise.uscc == target)
        if existing is not None and (existing.kind != "nonresident"
                                     or existing.nonresident_code not in (None, nonresident_code)):
            raise AuthzError(E_NOT_NONRESIDENT)
        ent, changed = _upsert_enterprise(svc, actor, target, name, "nonresident", province, tax_authority,
                                          nonresident_code)
        b, rep_changed = _set_sole(svc, actor, ent, p, "legal_rep", state="active", origin="registration",
                                   refusable=False, filing_ref=filing_ref)
        if changed or rep_changed:
            _audit(svc, actor, "enterprise.nonresident_approved", f"enterprise:{ent.uscc}", enterprise_domain(ent.uscc),
                   person=p.uid, filing_ref=filing_ref)
        out = enterprise_view(ent, changed or rep_changed)
        out["legal_rep"] = binding_view(b, rep_changed)
        return out
    return _transactional(run)


# ---- 6. cross-region projects (R-LOGIN-4, R-SW-4)

def project_view(p: CrossRegionProject, changed: bool = False) -> dict:
    """A project as the source and the API see it (the handler as a person id, never a name)."""
    return {"management_no": p.management_no, "kind": p.kind, "uscc": p.enterprise.uscc,
            "domain": enterprise_domain(p.enterprise.uscc), "name": p.name, "region": p.region,
            "handler": p.handler.uid if p.handler_id else None, "status": p.status, "changed": changed}


def _check_project_fields(management_no: str, kind: str, status: str, name: str, region: str) -> None:
    bad = {}
    if not isinstance(management_no, str) or not MANAGEMENT_NO_RE.fullmatch(management_no):
        bad["management_no"] = ["6-40 upper-case letters or digits"]
    if kind not in PROJECT_KINDS:
        bad["kind"] = [f"one of {', '.join(PROJECT_KINDS)}"]
    if status not in PROJECT_STATUSES:
        bad["status"] = [f"one of {', '.join(PROJECT_STATUSES)}"]
    if not isinstance(name, str) or not 1 <= len(name) <= 200 or not re.fullmatch(NAME_PATTERN, name):
        bad["name"] = ["1-200 characters, no control characters or surrounding spaces"]
    if not isinstance(region, str) or not 1 <= len(region) <= REGION_MAX or not re.fullmatch(NAME_PATTERN, region):
        bad["region"] = [f"1-{REGION_MAX} characters, no control characters or surrounding spaces"]
    if bad:
        raise AuthzError(E_BAD_INPUT, errors=bad)


def _handler_is_officer(ent: Enterprise, person: Person) -> bool:
    """The handler named in the report must be a tax officer of the enterprise (pending or active: the
    core tax system may report the officer and the project together, before the person confirms)."""
    return bool(_live(ent, "tax_officer", person))


def _record_project(svc, actor, p: CrossRegionProject, reason: str, created: bool) -> None:
    v = project_view(p)
    _audit(svc, actor, "project.file", f"project:{p.management_no}", v["domain"], reason=reason, created=created,
           kind=v["kind"], status=v["status"], region=v["region"], handler=v["handler"])


def file_project(svc, actor, *, management_no: str, uscc: str, kind: str, name: str, region: str,
                 handler: PersonRef | dict | None = None, status: str = "active") -> dict:
    """Create or replace a cross-region inspection project (跨区域报验) or tax-source registration
    (跨区税源登记) from the core tax system (R-LOGIN-4). A management number stays with its enterprise and
    kind; the handler (the sub-identity tax officer named in the report) must be a person on record and a
    tax officer of the enterprise; no handler means only the main identities see it. `status: ended`
    takes the project off special-subject login and switching and refuses sessions inside it at once
    (R-SW-4). A resend of what is on record changes nothing."""
    _check_project_fields(management_no, kind, status, name, region)
    ref = PersonRef.of(handler) if handler is not None else None

    def run():
        ent = _require_enterprise(uscc)
        person = None
        if ref is not None:
            person = find_person(ref)
            if person is None:
                raise AuthzError(E_PERSON_UNKNOWN, errors={"handler": ["no person holds this document"]})
        p = CrossRegionProject.get_or_none(CrossRegionProject.management_no == management_no)
        if p is not None and (p.enterprise_id != ent.id or p.kind != kind):
            raise AuthzError(E_PROJECT_PARTIES)
        handler_id = person.id if person else None
        if p is not None and (p.name, p.region, p.handler_id, p.status) == (name, region, handler_id, status):
            return project_view(p, False)
        if person is not None and (p is None or p.handler_id != handler_id) and not _handler_is_officer(ent, person):
            raise AuthzError(E_HANDLER_NOT_OFFICER, errors={"handler": ["not a tax officer of the enterprise"]})
        if p is None:
            p = CrossRegionProject.create(management_no=management_no, kind=kind, enterprise=ent, name=name,
                                          region=region, handler=person, status=status,
                                          created_at=svc.clock.time())
            created = True
        else:
            CrossRegionProject.update(name=name, region=region, handler=person, status=status).where(
                CrossRegionProject.id == p.id).execute()
            p = CrossRegionProject.get_by_id(p.id)
            created = False
        _record_project(svc, actor, p, "filed", created)
        return project_view(p, True)
    return _transactional(run)


def _find_project(management_no: str) -> CrossRegionProject:
    p = (CrossRegionProject.get_or_none(CrossRegionProject.management_no == management_no)
         if isinstance(management_no, str) and MANAGEMENT_NO_RE.fullmatch(management_no) else None)
    if p is None:
        raise AuthzError(E_PROJECT_UNKNOWN)
    return p


def _locked_project(management_no: str) -> CrossRegionProject:
    p = _find_project(management_no)
    _lock_enterprise(p.enterprise.uscc)  # the same lock as filing, so a concurrent filing runs first or after
    return CrossRegionProject.get_by_id(p.id)


def set_project_status(svc, actor, management_no: str, status: str) -> dict:
    """End (or reopen) a project; login, switching and the sessions inside it follow at once (R-SW-4)."""
    if status not in PROJECT_STATUSES:
        raise AuthzError(E_BAD_INPUT, errors={"status": [f"one of {', '.join(PROJECT_STATUSES)}"]})

    def run():
        p = _locked_project(management_no)
        if p.status == status:
            return project_view(p, False)
        CrossRegionProject.update(status=status).where(CrossRegionProject.id == p.id).execute()
        p = CrossRegionProject.get_by_id(p.id)
        _record_project(svc, actor, p, f"status_{status}", False)
        return project_view(p, True)
    return _transactional(run)


def get_project(management_no: str) -> dict:
    """A project as on record (for the source's reconciliation)."""
    return project_view(_find_project(management_no), False)


# ---- R-BIND-15: the "data sync" button

def sync_binding(svc, binding: Binding | int, actor) -> dict:
    """Push a binding to the downstream e-tax systems now (an outbound event). Pressing again before the
    previous push of the same version went out queues nothing new. Authorisation (ac.staff.sync push for
    the enterprise, or the person's own binding) is the caller's job, through the enforcer."""
    bid = binding if isinstance(binding, int) else binding.id

    def run():
        b = _binding(bid)
        if b is None:
            raise AuthzError(E_BINDING_UNKNOWN)
        subject = f"binding:{b.id}"
        queued = [e for e in OutboxEvent.select().where((OutboxEvent.subject == subject)
                                                        & (OutboxEvent.kind == "binding.sync")
                                                        & (OutboxEvent.status == "pending"))
                  if e.payload.get("version") == b.version]
        ev = queued[0] if queued else events.publish(svc, "binding.sync", binding_snapshot(b, "sync"), subject)
        _audit(svc, actor, "binding.sync", subject, b.domain, event=ev.event_id, reused=bool(queued))
        return {"binding_id": b.id, "event_id": ev.event_id, "queued_at": ev.created_at, "reused": bool(queued)}
    return _transactional(run)
