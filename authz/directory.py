"""Writes to enterprises, persons, bindings and agreements that change what the enforcer answers.

Every write of a binding row (creation, state, fields) lives in authz/bindings.py with its guard, audit
row, event and cache invalidation; `bind` / `update_binding` here only hand seeding (demo, tests,
benchmarks) to it. Every other write here runs in one transaction with its change-log row
(Service.changed), so the answer changes at once in this worker and within one poll everywhere else
(R-AUTHZ-5). The account-centre flows and the integration API call these verbs; nothing else writes
these tables.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from .db import database
from .errors import AuthzError, code
from .ids import USCC_RE, enterprise_domain, is_token, new_person_uid
from .models import Agreement, AgreementAgent, Binding, Document, Enterprise, Person, Phone

E_FUNCTIONS_EMPTY = code("function_set_empty")
E_FUNCTIONS_CEILING = code("function_set_exceeds")
E_ROLE_UNKNOWN = code("unknown_identity_type")
E_ENT_KIND = code("bad_enterprise_kind")
E_USCC = code("bad_uscc")
E_BAD_STATE = code("binding_state")

ENTERPRISE_KINDS = ("ordinary", "agency", "nonresident")
class Directory:
    """Domain verbs over the directory tables, bound to a Service for clock, enforcer and change feed."""

    def __init__(self, service):
        self.svc = service

    @property
    def now(self) -> float:
        return self.svc.clock.time()

    # ---- enterprises
    def upsert_enterprise(self, uscc: str, name: str, kind: str = "ordinary", province: str = "",
                          tax_authority: str = "", nonresident_code: str | None = ...) -> Enterprise:
        """Create or update an enterprise from registration data (an omitted nonresident_code is kept)."""
        if not USCC_RE.fullmatch(uscc or ""):
            raise AuthzError(E_USCC)
        if kind not in ENTERPRISE_KINDS:
            raise AuthzError(E_ENT_KIND)
        with database.atomic():
            ent = Enterprise.get_or_none(Enterprise.uscc == uscc)
            if ent is None:
                ent = Enterprise.create(uscc=uscc, name=name, kind=kind, province=province,
                                        tax_authority=tax_authority,
                                        nonresident_code=None if nonresident_code is ... else nonresident_code,
                                        created_at=self.now, updated_at=self.now)
            else:
                kind_changed = ent.kind != kind
                ent.name, ent.kind, ent.province, ent.tax_authority = name, kind, province, tax_authority
                if nonresident_code is not ...:  # omitted: keep the code the enterprise has
                    ent.nonresident_code = nonresident_code
                ent.updated_at = self.now
                ent.save()
                if kind_changed:
                    self.svc.changed("domain", enterprise_domain(uscc))
        return ent

    # ---- persons
    def create_person(self, name: str, doc_type: str, doc_number: str, *, uid: str | None = None,
                      realname_level: int = 3, phones: Iterable[str] = (), **fields) -> Person:
        """Create a person with a primary document (and phones, the first default)."""
        with database.atomic():
            p = Person.create(uid=uid or new_person_uid(), name=name, realname_level=realname_level,
                              created_at=self.now, updated_at=self.now, **fields)
            Document.create(person=p, doc_type=doc_type, doc_number=doc_number, primary=True, created_at=self.now)
            for i, number in enumerate(phones):
                Phone.create(person=p, number=number, is_default=(i == 0), created_at=self.now)
        return p

    # ---- bindings
    def check_function_set(self, role: str, enterprise: Enterprise, functions: list[str] | None) -> list[str] | None:
        """Validate a function set against the identity type's ceiling in this enterprise (R-BIND-4)."""
        index = self.svc.enforcer.index
        if role not in index.roles:
            raise AuthzError(E_ROLE_UNKNOWN)
        if functions is None:
            return None
        kinds = index.kinds_of(f"kind:{enterprise.kind}")
        ceiling = set(index.ceiling(role, kinds))
        fs = sorted(set(functions))
        if not fs:
            raise AuthzError(E_FUNCTIONS_EMPTY)
        extra = [f for f in fs if f not in ceiling]
        if extra:
            raise AuthzError(E_FUNCTIONS_CEILING, extra=", ".join(extra), errors={"functions": extra})
        return fs

    def bind(self, person: Person, enterprise: Enterprise, role: str, *, state: str, origin: str,
             functions: list[str] | None = None, valid_until: dt.date | None = None,
             initiated_by: str = "enterprise", sub_identity: bool = False, by=None) -> Binding:
        """Create a binding in `state` (pending, or active where the source is authoritative): seeding
        (demo, tests, benchmarks) as a source, through `bindings.create` (audit row, event, cache)."""
        from . import bindings
        return bindings.create(self.svc, person, enterprise, role, by=by or bindings.SEED, state=state,
                               origin=origin, functions=functions, valid_until=valid_until,
                               initiated_by=initiated_by, sub_identity=sub_identity)

    def update_binding(self, binding: Binding, *, functions=..., valid_until=..., enabled=..., by=None) -> Binding:
        """Change a binding's function set, validity end or enabled flag (never its identity type), through
        `bindings.amend` (as a source unless `by` says otherwise)."""
        from . import bindings
        return bindings.amend(self.svc, binding, "terms", by=by or bindings.SEED, functions=functions,
                              valid_until=valid_until, enabled=enabled)

    # ---- agreements
    def file_agreement(self, number: str, agency: Enterprise, client: Enterprise, agents: list[Person],
                       start: dt.date, end: dt.date, permissions: list[str], status: str = "active") -> Agreement:
        """Create or replace an agency agreement (R-AGT-1); agents' answers in the client change at once."""
        bad = [p for p in permissions if not is_token(p)]
        if bad or not permissions:
            raise AuthzError(E_FUNCTIONS_EMPTY if not permissions else "invalid_identifier")
        fs = self.check_function_set("tax_agent", client, permissions)
        domain = enterprise_domain(client.uscc)
        with database.atomic():
            ag = Agreement.get_or_none(Agreement.number == number)
            before = set()
            if ag is None:
                ag = Agreement.create(number=number, agency=agency, client=client, client_domain=domain,
                                      start=start, end=end, status=status, permissions=fs,
                                      created_at=self.now, updated_at=self.now)
            else:
                before = {a.person.uid for a in ag.agents}
                ag.agency, ag.client, ag.client_domain = agency, client, domain
                ag.start, ag.end, ag.status, ag.permissions, ag.updated_at = start, end, status, fs, self.now
                ag.save()
                AgreementAgent.delete().where(AgreementAgent.agreement == ag).execute()
            for p in agents:
                AgreementAgent.create(agreement=ag, person=p, client_domain=domain)
            for uid in before | {p.uid for p in agents}:
                self.svc.grant_changed(uid, domain)
        return ag
