"""Enterprise side of the staff module (人员权限管理, R-BIND-4,5,7,9,10,12,14,16).

Flows are plain functions `fn(svc, actor, ...)`; the REST layer and the CLI call the same ones.

* Every decision goes through `authz.actor.require`. Target-dependent decisions ask for
  `ac.staff:<identity type>` (add | manage | delete | withdraw), so rules.csv alone says who may do what
  to which identity type (R-BIND-10, R-AUTHZ-4); a coarse module function (`ac.staff`, `ac.staff.pending`,
  ...) is asked first, so an identity without the module is refused before any id is looked at.
* Every query is scoped to the actor's domain: a binding id of another enterprise is `not_found`,
  exactly like a missing one.
* Bindings are written only through `authz.bindings` (`create`, `transition`, `amend`, `hide`), which
  writes the audit row (R-LOG-2), the outbound event (R-BIND-15) and drops the cached grants with the
  change; the flows here decide whether the actor may act and pass who acted (`bindings.Who`).
* Views mask names and document numbers (R-MASK-1).

Writes run in `flow_transaction`: on SQLite `BEGIN IMMEDIATE` (writers queue instead of failing on a stale
snapshot), on PostgreSQL the enterprise row is locked `FOR UPDATE` where a flow checks for a duplicate
before inserting (two adds of the same person: one pending binding).
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Iterable

from .. import accounts
from ..actor import Actor, allowed, require
from ..audit import record
from ..clock import SHANGHAI
from ..db import database, is_postgres
from .. import bindings
from ..directory import E_BAD_STATE, E_FUNCTIONS_EMPTY, E_ROLE_UNKNOWN, Directory
from ..vocab import Party
from ..errors import AuthzError, code
from ..ids import ENT_PREFIX
from ..masking import mask_doc, mask_name
from ..models import Binding, Document, Enterprise, Person
from .integration import binding_constraints, sync_binding

# ---- error codes of the binding flows (the person side imports them too)
E_NOT_REGISTERED = code("staff_not_registered")
E_RISK = code("risk_not_confirmed")
E_VALID_PAST = code("validity_end_past")
E_NOT_WITHDRAWABLE = code("binding_not_withdrawable")
E_NOT_REFUSABLE = code("binding_not_refusable")
E_SORT = code("bad_sort")
E_FILTER = code("bad_filter")
E_PAGE = code("bad_page")
E_ASSIST = code("assist_functions_exceed")
E_TOO_MANY = code("too_many_items")

STAFF = "ac.staff"
PENDING = "ac.staff.pending"
APPLICATIONS = "ac.staff.applications"
HISTORY = "ac.staff.history"
ASSIST = "ac.staff.assist_code"
SYNC = "ac.staff.sync"
SELF_PERMISSIONS = "ac.self.permissions"

HISTORY_STATES = ("deleted", "withdrawn", "refused", "ended")
MAX_PAGE = 200
MAX_BATCH = 100
UNSET = ...


def staff_function(identity_type: str) -> str:
    """The target-dependent account-centre function for an identity type (ac.staff:<type>)."""
    return f"{STAFF}:{identity_type}"


# ---- transactions and shared lookups
@contextmanager
def flow_transaction(svc, *, lock_enterprise: int | None = None):
    """One transaction for a flow's writes (see the module docstring)."""
    if database.transaction_depth() > 0:
        with database.atomic():
            yield
        return
    if is_postgres():
        with database.atomic():
            if lock_enterprise is not None:
                list(Enterprise.select(Enterprise.id).where(Enterprise.id == lock_enterprise).for_update())
            yield
    else:
        with database.atomic("IMMEDIATE"):
            yield


def directory(svc) -> Directory:
    return Directory(svc)


def enterprise_of(actor: Actor) -> Enterprise:
    """The enterprise of the actor's current domain (not_found for a personal domain)."""
    if not actor.domain.startswith(ENT_PREFIX):
        raise AuthzError("not_found")
    ent = Enterprise.get_or_none(Enterprise.uscc == actor.domain[len(ENT_PREFIX):])
    if ent is None:
        raise AuthzError("not_found")
    return ent


def binding_query():
    return (Binding.select(Binding, Person, Enterprise)
            .join(Person, on=(Binding.person == Person.id))
            .switch(Binding).join(Enterprise, on=(Binding.enterprise == Enterprise.id)))


def as_id(value) -> int:
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise AuthzError("not_found") from None
    if n <= 0 or n > 2**62:
        raise AuthzError("not_found")
    return n


def binding_in_domain(actor: Actor, binding_id) -> Binding:
    """A binding of the actor's enterprise; any other id (missing or elsewhere) is not_found."""
    b = binding_query().where((Binding.id == as_id(binding_id)) & (Binding.domain == actor.domain)).first()
    if b is None:
        raise AuthzError("not_found")
    return b


def known_identity_type(svc, value) -> str:
    if not isinstance(value, str) or value not in svc.enforcer.index.roles:
        raise AuthzError(E_ROLE_UNKNOWN, errors={"identity_type": [str(value)[:40]]})
    return value


def parse_valid_until(svc, value) -> dt.date | None:
    """None (long-term) or a date not before today (Asia/Shanghai) (R-BIND-4, R-BIND-9)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise AuthzError("validation_failed", errors={"valid_until": ["not a date (YYYY-MM-DD)"]}) from None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise AuthzError("validation_failed", errors={"valid_until": ["not a date (YYYY-MM-DD)"]})
    if value < svc.clock.today():
        raise AuthzError(E_VALID_PAST)
    return value


def iso(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def as_date(value) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def ceiling(svc, identity_type: str, ent: Enterprise) -> list[str]:
    """Every business function the identity type may hold in this enterprise (rules.csv)."""
    index = svc.enforcer.index
    return sorted(index.ceiling(identity_type, index.kinds_of(f"kind:{ent.kind}")))


def effective_functions(svc, b: Binding) -> list[str]:
    """The binding's function set (null means the identity type's whole ceiling)."""
    return sorted(b.functions) if b.functions is not None else ceiling(svc, b.role, b.enterprise)


def function_views(svc, names: Iterable[str]) -> list[dict]:
    """Functions with their catalogue labels (the permission view)."""
    fns = svc.enforcer.index.functions
    out = []
    for f in names:
        d = fns.get(f)
        out.append({"function": f, "name": d.zh if d else f, "name_en": d.en if d else f,
                    "group": d.group if d else ""})
    return out


def identity_label(svc, role: str) -> dict:
    r = svc.enforcer.index.roles.get(role)
    return {"identity_type": role, "identity_type_name": r.zh if r else role,
            "identity_type_name_en": r.en if r else role}


def binding_status(svc, b: Binding) -> str:
    """enabled | disabled (已启用/已停用, R-BIND-13): disabled when switched off or past its validity end."""
    end = as_date(b.valid_until)
    if not b.enabled or (end is not None and end < svc.clock.today()):
        return "disabled"
    return "enabled"


def primary_documents(person_ids: Iterable[int]) -> dict[int, Document]:
    """Each person's primary document (else their first), in one query."""
    ids = sorted(set(person_ids))
    out: dict[int, Document] = {}
    if not ids:
        return out
    for d in (Document.select().where(Document.person.in_(ids))
              .order_by(Document.primary.desc(), Document.id)):
        out.setdefault(d.person_id, d)
    return out


def paging(limit, offset) -> tuple[int, int]:
    try:
        limit, offset = int(limit), int(offset)
    except (TypeError, ValueError):
        raise AuthzError(E_PAGE) from None
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise AuthzError(E_PAGE)
    return limit, offset


def ordering(sort: str, allowed_fields: dict) -> list:
    """An allow-listed ORDER BY (`field` or `-field`), ties broken by id."""
    if not isinstance(sort, str):
        raise AuthzError(E_SORT, field="?")
    desc = sort.startswith("-")
    key = sort[1:] if desc else sort
    field = allowed_fields.get(key)
    if field is None:
        raise AuthzError(E_SORT, field=key[:40], errors={"sort": sorted(allowed_fields)})
    return [field.desc() if desc else field.asc(), Binding.id.desc() if desc else Binding.id.asc()]


def check_filter_type(svc, identity_type) -> str | None:
    if identity_type in (None, ""):
        return None
    if identity_type not in svc.enforcer.index.roles:
        raise AuthzError(E_FILTER, field="identity_type")
    return identity_type


def check_filter_states(states, allowed_states) -> tuple[str, ...]:
    if states in (None, "", [], ()):
        return tuple(allowed_states)
    if isinstance(states, str):
        states = [states]
    bad = [s for s in states if s not in allowed_states]
    if bad:
        raise AuthzError(E_FILTER, field="state", errors={"state": list(allowed_states)})
    return tuple(states)


def fuzzy(text, field_name: str) -> str | None:
    if text in (None, ""):
        return None
    if not isinstance(text, str) or len(text) > 100:
        raise AuthzError(E_FILTER, field=field_name)
    return text.strip() or None


SORT_FIELDS = {"created_at": Binding.created_at, "updated_at": Binding.updated_at,
               "decided_at": Binding.decided_at, "valid_until": Binding.valid_until,
               "identity_type": Binding.role, "name": Person.name}


def page(query, sort: str, limit, offset, sort_fields=SORT_FIELDS) -> tuple[list[Binding], int]:
    limit, offset = paging(limit, offset)
    order = ordering(sort, sort_fields)
    total = query.count()
    rows = list(query.order_by(*order).limit(limit).offset(offset))
    return rows, total


def by_enterprise(actor: Actor) -> bindings.Who:
    """The enterprise side acting through this session (audit: its uid, identity and domain)."""
    return bindings.Who.of(Party.ENTERPRISE, actor)


def audit(svc, actor: Actor, action: str, b: Binding | None = None, *, target: str = "", domain: str = "",
          detail: dict | None = None) -> None:
    record(svc, actor=actor.uid, identity=actor.role, domain=domain or actor.domain, action=action,
           target=target or (f"binding:{b.id}" if b is not None else ""), detail=detail)


def integration_marks(b: Binding) -> dict:
    """What the binding's source said about it (flows.integration.binding_constraints): may the person
    refuse it (R-BIND-2), may the enterprise withdraw it online (R-BIND-3)? Without a source row the
    origin decides (only the enterprise's own adds are withdrawable; only the tax-report finance officer is
    unrefusable)."""
    c = binding_constraints(b)
    return {"refusable": c.refusable, "withdrawable_online": c.withdrawable_online}


def create_pending(svc, person: Person, ent: Enterprise, role: str, *, by: bindings.Who,
                   functions: list[str] | None, valid_until: dt.date | None) -> Binding:
    """A pending binding (the enterprise's add, R-BIND-4, or the person's application, R-BIND-7);
    `bindings.create` refuses a second live one of the same identity type (binding_exists)."""
    return bindings.create(svc, person, ent, role, by=by, state="pending", functions=functions,
                           valid_until=valid_until)


# ---- views
def staff_view(svc, b: Binding, doc: Document | None, actions: list[str]) -> dict:
    """One binding as the enterprise sees it (masked person, permission view, what the actor may do)."""
    p = b.person
    fs = effective_functions(svc, b)
    return {
        "id": b.id, "version": b.version,
        "name": mask_name(p.name),
        "doc_type": doc.doc_type if doc else "",
        "doc_number": mask_doc(doc.doc_number) if doc else "",
        **identity_label(svc, b.role),
        "sub_identity": bool(b.sub_identity),
        "state": b.state,
        "status": binding_status(svc, b) if b.state == "active" else b.state,
        "valid_until": iso(b.valid_until), "long_term": b.valid_until is None,
        "functions": function_views(svc, fs),
        "origin": b.origin, "initiated_by": b.initiated_by,
        "assist_code": bool(b.assist_code),
        "created_at": b.created_at, "decided_at": b.decided_at,
        "actions": actions,
    }


def _views(svc, rows: list[Binding], actions_for) -> list[dict]:
    docs = primary_documents(b.person_id for b in rows)
    return [staff_view(svc, b, docs.get(b.person_id), actions_for(b)) for b in rows]


def _result(items, total, limit, offset) -> dict:
    return {"items": items, "total": total, "limit": int(limit), "offset": int(offset)}


# ---- add (R-BIND-4)
def add_staff(svc, actor: Actor, *, name: str, doc_type: str, doc_number: str, identity_type: str,
              functions: list[str] | None = None, valid_until: dt.date | None = None,
              risk_confirmed: bool = False) -> dict:
    """Add a staff member: the person must be registered (name + document match), the function set
    defaults to the identity type's ceiling and must be a non-empty subset of it, the validity end is
    long-term (None) or a date not in the past, the risk notice must be confirmed. Result: pending."""
    role = known_identity_type(svc, identity_type)
    require(svc, actor, staff_function(role), "add")
    ent = enterprise_of(actor)
    if risk_confirmed is not True:
        raise AuthzError(E_RISK)
    until = parse_valid_until(svc, valid_until)
    fs = directory(svc).check_function_set(role, ent, functions)
    if fs is None:
        fs = ceiling(svc, role, ent)
    if not fs:
        raise AuthzError(E_FUNCTIONS_EMPTY)
    person = registered_person(name, doc_type, doc_number)
    with flow_transaction(svc, lock_enterprise=ent.id):
        b = create_pending(svc, person, ent, role, by=by_enterprise(actor), functions=fs, valid_until=until)
    b = binding_in_domain(actor, b.id)
    return staff_view(svc, b, primary_documents([person.id]).get(person.id), _pending_actions(svc, actor, b))


def registered_person(name, doc_type, doc_number) -> Person:
    """The active person holding this document under this name who has an account (registered online, or
    a stock person who logs in with the initial password, R-PWD-2); else 该办税人员尚未注册 — one answer
    for every mismatch, so it does not tell which part was wrong."""
    if not all(isinstance(v, str) and v.strip() for v in (name, doc_type, doc_number)):
        raise AuthzError(E_NOT_REGISTERED)
    p = accounts.person_by_document(doc_type.strip(), doc_number)
    if p is None or p.name != name.strip() or p.status != "active" or not (p.registered or accounts.can_log_in(p)):
        raise AuthzError(E_NOT_REGISTERED)
    return p


def staff_options(svc, actor: Actor) -> dict:
    """What the staff pages may offer this session (R-BIND-4, R-BIND-9, R-BIND-14): every identity type
    the actor may act on here (`ac.staff:<type>`, any action), in catalogue order, with the actions the
    enforcer allows and the type's function ceiling in this enterprise (the add form's default function
    set, R-BIND-4), and the document types a person may be named by. So a front end offers exactly what
    the service would accept, with no table of identity types or functions of its own (issue 11)."""
    require(svc, actor, STAFF, "view")
    ent = enterprise_of(actor)
    fns = svc.enforcer.index.functions
    types = []
    for role in svc.enforcer.index.roles:
        fn = fns.get(staff_function(role))
        if fn is None:
            continue
        acts = [a for a in fn.actions if allowed(svc, actor, fn.obj, a)]
        if acts:
            types.append({**identity_label(svc, role), "actions": acts,
                          "functions": function_views(svc, ceiling(svc, role, ent))})
    return {"identity_types": types,
            "doc_types": [{"code": d.code, "name": d.zh, "name_en": d.en} for d in accounts.DOC_TYPES.values()]}


# ---- pending (R-BIND-5, R-BIND-7)
def _pending_actions(svc, actor: Actor, b: Binding) -> list[str]:
    acts = []
    if b.state != "pending":
        return acts
    if b.initiated_by == "person":
        for a in ("confirm", "refuse"):
            if allowed(svc, actor, APPLICATIONS, a) and allowed(svc, actor, staff_function(b.role), "add"):
                acts.append(a)
    elif integration_marks(b)["withdrawable_online"] and allowed(svc, actor, staff_function(b.role), "withdraw"):
        acts.append("withdraw")
    return acts


def list_pending(svc, actor: Actor, *, identity_type: str | None = None, name: str | None = None,
                 initiated_by: str | None = None, sort: str = "-created_at", limit: int = 50,
                 offset: int = 0) -> dict:
    """Pending bindings of this enterprise, each with its permission view and the actions the actor
    may take (withdraw an enterprise-initiated one; confirm or refuse a person's application).
    Applications are listed only where `ac.staff.applications view` allows."""
    require(svc, actor, PENDING, "view")
    role = check_filter_type(svc, identity_type)
    name = fuzzy(name, "name")
    q = binding_query().where((Binding.domain == actor.domain) & (Binding.state == "pending"))
    if not allowed(svc, actor, APPLICATIONS, "view"):
        q = q.where(Binding.initiated_by != "person")
    if initiated_by not in (None, ""):
        if initiated_by not in ("enterprise", "person", "integration", "hall"):
            raise AuthzError(E_FILTER, field="initiated_by")
        q = q.where(Binding.initiated_by == initiated_by)
    if role:
        q = q.where(Binding.role == role)
    if name:
        q = q.where(Person.name.contains(name))
    rows, total = page(q, sort, limit, offset)
    return _result(_views(svc, rows, lambda b: _pending_actions(svc, actor, b)), total, limit, offset)


def withdraw_staff(svc, actor: Actor, binding_id) -> dict:
    """Withdraw an enterprise-initiated pending binding → history "withdrawn" (R-BIND-5). Bindings added
    at a hall or by the core tax system cannot be withdrawn online (R-BIND-3)."""
    require(svc, actor, PENDING, "view")
    b = binding_in_domain(actor, binding_id)
    require(svc, actor, staff_function(b.role), "withdraw")
    if b.state != "pending" or b.initiated_by == "person":
        raise AuthzError(E_BAD_STATE)
    if not integration_marks(b)["withdrawable_online"]:
        raise AuthzError(E_NOT_WITHDRAWABLE)
    with flow_transaction(svc):
        bindings.transition(svc, b, "withdrawn", by=by_enterprise(actor))
    return _one(svc, actor, b.id, [])


def confirm_application(svc, actor: Actor, binding_id, *, functions: list[str] | None = None,
                        valid_until: dt.date | None = None) -> dict:
    """Confirm a person's application (R-BIND-7): the enterprise sets the function set (default: the
    ceiling) and validity end; the binding becomes active. The person's application is their consent."""
    require(svc, actor, APPLICATIONS, "confirm")
    b = binding_in_domain(actor, binding_id)
    require(svc, actor, staff_function(b.role), "add")
    if b.state != "pending" or b.initiated_by != "person":
        raise AuthzError(E_BAD_STATE)
    until = parse_valid_until(svc, valid_until)
    fs = (directory(svc).check_function_set(b.role, b.enterprise, functions) if functions is not None
          else ceiling(svc, b.role, b.enterprise))
    if not fs:
        raise AuthzError(E_FUNCTIONS_EMPTY)
    with flow_transaction(svc):
        bindings.transition(svc, b, "active", by=by_enterprise(actor), functions=fs, valid_until=until)
    return _one(svc, actor, b.id, _staff_actions(svc, actor, b.role))


def refuse_application(svc, actor: Actor, binding_id) -> dict:
    """Refuse a person's application → history "refused" on both sides (R-BIND-7)."""
    require(svc, actor, APPLICATIONS, "refuse")
    b = binding_in_domain(actor, binding_id)
    require(svc, actor, staff_function(b.role), "add")
    if b.state != "pending" or b.initiated_by != "person":
        raise AuthzError(E_BAD_STATE)
    with flow_transaction(svc):
        bindings.transition(svc, b, "refused", by=by_enterprise(actor))
    return _one(svc, actor, b.id, [])


def _one(svc, actor: Actor, binding_id: int, actions: list[str]) -> dict:
    b = binding_in_domain(actor, binding_id)
    return staff_view(svc, b, primary_documents([b.person_id]).get(b.person_id), actions)


# ---- existing staff (R-BIND-9, R-BIND-10, R-BIND-13)
def _staff_actions(svc, actor: Actor, role: str) -> list[str]:
    acts = [a for a in ("manage", "delete") if allowed(svc, actor, staff_function(role), a)]
    if allowed(svc, actor, ASSIST, "manage"):
        acts.append("assist_code")
    if allowed(svc, actor, SYNC, "push"):
        acts.append("sync")
    return acts


def list_staff(svc, actor: Actor, *, identity_type: str | None = None, name: str | None = None,
               status: str | None = None, sort: str = "created_at", limit: int = 50, offset: int = 0) -> dict:
    """Every identity of every person active in this enterprise, with status (enabled/disabled),
    validity end, function set and the actions the actor may take on each."""
    require(svc, actor, STAFF, "view")
    role = check_filter_type(svc, identity_type)
    name = fuzzy(name, "name")
    q = binding_query().where((Binding.domain == actor.domain) & (Binding.state == "active"))
    if role:
        q = q.where(Binding.role == role)
    if name:
        q = q.where(Person.name.contains(name))
    if status not in (None, ""):
        today = svc.clock.today()
        live = ((Binding.enabled == True)  # noqa: E712
                & (Binding.valid_until.is_null() | (Binding.valid_until >= today)))
        if status == "enabled":
            q = q.where(live)
        elif status == "disabled":
            q = q.where(~live)
        else:
            raise AuthzError(E_FILTER, field="status")
    rows, total = page(q, sort, limit, offset)
    acts = _role_actions_full(svc, actor, [b.role for b in rows])
    return _result(_views(svc, rows, lambda b: acts[b.role]), total, limit, offset)


def _role_actions_full(svc, actor, roles) -> dict[str, list[str]]:
    return {r: _staff_actions(svc, actor, r) for r in set(roles)}


def get_staff(svc, actor: Actor, binding_id) -> dict:
    """One staff member (the "manage" page): masked person, identity type, function set, validity end."""
    require(svc, actor, STAFF, "view")
    b = binding_in_domain(actor, binding_id)
    actions = _staff_actions(svc, actor, b.role) if b.state == "active" else _pending_actions(svc, actor, b)
    return _one(svc, actor, b.id, actions)


def manage_staff(svc, actor: Actor, binding_id, *, functions=UNSET, valid_until=UNSET,
                 version: int | None = None) -> dict:
    """Change an active staff member's function set and/or validity end (R-BIND-9). The identity type
    cannot change (add a new binding instead). `version` guards against a concurrent change."""
    require(svc, actor, STAFF, "view")
    b = binding_in_domain(actor, binding_id)
    require(svc, actor, staff_function(b.role), "manage")
    if b.state != "active":
        raise AuthzError(E_BAD_STATE)
    if version is not None and int(version) != b.version:
        raise AuthzError("conflict")
    changes: dict = {}
    if functions is not UNSET:
        fs = directory(svc).check_function_set(b.role, b.enterprise, functions) if functions is not None else None
        changes["functions"] = fs if fs is not None else ceiling(svc, b.role, b.enterprise)
        if not changes["functions"]:
            raise AuthzError(E_FUNCTIONS_EMPTY)
    if valid_until is not UNSET:
        changes["valid_until"] = parse_valid_until(svc, valid_until)
    if not changes:
        return _one(svc, actor, b.id, _staff_actions(svc, actor, b.role))
    with flow_transaction(svc):
        bindings.amend(svc, b, "terms", by=by_enterprise(actor), **changes)
    return _one(svc, actor, b.id, _staff_actions(svc, actor, b.role))


def delete_staff(svc, actor: Actor, binding_id) -> dict:
    """End an active binding at once → history "deleted" (R-BIND-10). Whether an identity type may be
    deleted at all (never the legal rep or finance officer) comes from rules.csv."""
    require(svc, actor, STAFF, "view")
    b = binding_in_domain(actor, binding_id)
    require(svc, actor, staff_function(b.role), "delete")
    if b.state != "active":
        raise AuthzError(E_BAD_STATE)
    with flow_transaction(svc):
        bindings.transition(svc, b, "deleted", by=by_enterprise(actor))
    return _one(svc, actor, b.id, [])


# ---- history (R-BIND-12)
def _history_query(svc, actor: Actor, identity_type, name, state):
    role = check_filter_type(svc, identity_type)
    states = check_filter_states(state, HISTORY_STATES)
    name = fuzzy(name, "name")
    q = binding_query().where((Binding.domain == actor.domain) & (Binding.state.in_(states))
                               & (Binding.hidden_for_enterprise == False))  # noqa: E712
    if role:
        q = q.where(Binding.role == role)
    if name:
        q = q.where(Person.name.contains(name))
    return q


def list_history(svc, actor: Actor, *, identity_type: str | None = None, name: str | None = None,
                 state: str | list[str] | None = None, sort: str = "-decided_at", limit: int = 50,
                 offset: int = 0) -> dict:
    """Deleted, withdrawn and refused staff (and bindings the person ended), filtered by identity type
    and name (fuzzy); entries cleared by the enterprise are not listed."""
    require(svc, actor, HISTORY, "view")
    rows, total = page(_history_query(svc, actor, identity_type, name, state), sort, limit, offset)
    return _result(_views(svc, rows, lambda b: []), total, limit, offset)


def clear_history(svc, actor: Actor, binding_ids: list | None = None, *, identity_type: str | None = None,
                  name: str | None = None, state: str | list[str] | None = None) -> int:
    """"Clear records": hide the given history entries (or every entry matching the filters) from the
    enterprise's list; the rows stay in the database (R-BIND-12). Returns how many were hidden."""
    require(svc, actor, HISTORY, "clear")
    q = _history_query(svc, actor, identity_type, name, state)
    if binding_ids is not None:
        if len(binding_ids) > MAX_BATCH:
            raise AuthzError(E_TOO_MANY)
        ids = sorted({as_id(i) for i in binding_ids})
        q = q.where(Binding.id.in_(ids))
        if q.count() != len(ids):
            raise AuthzError("not_found")
    ids = [b.id for b in q]
    if not ids:
        return 0
    with flow_transaction(svc):
        return bindings.hide(svc, ids, by=by_enterprise(actor))


# ---- assist code (R-BIND-16)
def assist_choices(svc, b: Binding) -> list[str]:
    """Functions an assist code may carry: the member's function set, plus "assist-code settings" for an
    identity type that itself holds it (legal rep, finance officer, admin in the default rule file)."""
    fs = effective_functions(svc, b)
    index = svc.enforcer.index
    kinds = index.kinds_of(f"kind:{b.enterprise.kind}")
    if any(r.role == b.role and (r.dom in ("*", b.domain) or r.dom in kinds)
           for r in index.by_obj_act.get((ASSIST, "manage"), ())):
        fs = fs + [ASSIST]
    return fs


def assist_code(svc, actor: Actor, binding_id) -> dict:
    """A staff member's assist-code settings: on/off, chosen functions and what may be chosen."""
    require(svc, actor, ASSIST, "manage")
    b = binding_in_domain(actor, binding_id)
    if b.state != "active":
        raise AuthzError(E_BAD_STATE)
    return _assist_view(svc, b)


def _assist_view(svc, b: Binding) -> dict:
    doc = primary_documents([b.person_id]).get(b.person_id)
    return {"id": b.id, "version": b.version, "name": mask_name(b.person.name),
            "doc_type": doc.doc_type if doc else "", "doc_number": mask_doc(doc.doc_number) if doc else "",
            **identity_label(svc, b.role), "enabled": bool(b.assist_code),
            "functions": function_views(svc, b.assist_functions or []),
            "choices": function_views(svc, assist_choices(svc, b))}


def set_assist_code(svc, actor: Actor, binding_id, *, enabled: bool, functions: list[str] | None = None,
                    version: int | None = None) -> dict:
    """Switch a staff member's assist code on or off and choose its functions (⊆ the member's function
    set; default: all of them when switching on)."""
    require(svc, actor, ASSIST, "manage")
    b = binding_in_domain(actor, binding_id)
    if b.state != "active":
        raise AuthzError(E_BAD_STATE)
    if version is not None and int(version) != b.version:
        raise AuthzError("conflict")
    choices = assist_choices(svc, b)
    if functions is None:
        fs = choices if enabled else (b.assist_functions or [])
    else:
        if not isinstance(functions, (list, tuple)) or not all(isinstance(f, str) for f in functions):
            raise AuthzError("validation_failed", errors={"functions": ["a list of function names"]})
        fs = sorted(set(functions))
        extra = [f for f in fs if f not in choices]
        if extra:
            raise AuthzError(E_ASSIST, extra=", ".join(extra[:10]), errors={"functions": extra[:10]})
    if enabled and not fs:
        raise AuthzError(E_FUNCTIONS_EMPTY)
    with flow_transaction(svc):
        b2 = bindings.amend(svc, b, "assist_code", by=by_enterprise(actor), assist_code=bool(enabled),
                            assist_functions=list(fs))
    return _assist_view(svc, b2)


# ---- data sync (R-BIND-15)
def sync_staff(svc, actor: Actor, binding_id) -> dict:
    """"Data sync": push an active staff member's binding to the downstream e-tax systems now (an outbound
    event through flows.integration.sync_binding; pressing again before it went out queues nothing new)."""
    require(svc, actor, SYNC, "push")
    b = binding_in_domain(actor, binding_id)
    if b.state != "active":
        raise AuthzError(E_BAD_STATE)
    out = sync_binding(svc, b, actor)
    return {"id": b.id, "event_id": out["event_id"], "queued_at": out["queued_at"], "reused": out["reused"]}


# ---- my own permission detail (R-BIND-14)
def my_permissions(svc, actor: Actor) -> dict:
    """What the actor's current identity holds here: function set, validity end, source. Every identity
    sees its own detail; the staff module is for those rules.csv lets in."""
    require(svc, actor, SELF_PERMISSIONS, "view")
    ent = enterprise_of(actor)
    index = svc.enforcer.index
    kinds = index.kinds_of(f"kind:{ent.kind}")
    now = svc.clock.time()
    out = []
    for g in svc.enforcer.grants.grants(actor.uid, actor.domain):
        if g.role != actor.role:
            continue
        fs = sorted(g.functions) if g.functions is not None else index.ceiling(g.role, kinds)
        until = None
        source = g.source.split(":", 1)[0]
        if source == "binding":
            b = Binding.get_or_none(Binding.id == int(g.source.split(":", 1)[1]))
            until = iso(b.valid_until) if b else None
        elif g.until is not None:  # an agreement's end: the last day is the one before the exclusive end
            until = dt.datetime.fromtimestamp(g.until - 1, tz=SHANGHAI).date().isoformat()
        out.append({**identity_label(svc, g.role), "source": source, "live": g.live(now),
                    "valid_until": until, "long_term": until is None, "functions": function_views(svc, fs)})
    return {**identity_label(svc, actor.role), "grants": out}


__all__ = [
    "add_staff", "staff_options", "list_pending", "withdraw_staff", "confirm_application", "refuse_application",
    "list_staff",
    "get_staff", "manage_staff", "delete_staff", "list_history", "clear_history", "assist_code",
    "set_assist_code", "sync_staff", "my_permissions",
]
