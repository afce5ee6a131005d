"""Password login on every business entry, then a second factor, required actions and identity
resolution (R-LOGIN-1..6, R-LOGIN-10..12, R-LOGIN-14, R-PWD-2).

```
start (human check, password)  ──>  second_factor ──> sign_agreement ──> change_password ──┐
                                         │                 │                               │
                                         └─────────────────┴──> choose | confirm_pending ──┴──> done
```
(drawn in docs/login-flows.md). A step is accepted only in its state; the flow id is all the client holds.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .. import accounts, audit, bindings as bindings_mod, loginlog
from ..credentials import check_policy
from ..db import database
from ..errors import AuthzError, code
from .. import codes, verification
from ..factors.app_scan import E_TICKET_UNKNOWN
from ..factors.password import E_PASSWORD_WRONG
from ..factors.sms import mask_phone
from ..ids import USCC_RE, enterprise_domain, person_domain
from ..models import Agreement, AgreementAgent, Binding, CrossRegionProject, Enterprise, Person
from ..ports import ports_of
from ..ports.human import verify_once
from ..projects import acting_rank, is_handler_identity, sees_all
from ..sessions import Entry, Identity
from ..verification import bound_to
from ..vocab import BindingState, Party, Strength
from .. import sessions
from . import base

E_PHONE_NOT_FOUND = code("phone_not_found")
E_NOT_REGISTERED = code("not_registered")
E_GENERIC = code("login_failed")
E_PHONE_EMPTY = code("phone_empty")
E_NO_RELATION = code("no_relation")
E_CHOICE = code("choice_invalid")
E_APPLICATION_PENDING = code("application_pending")
E_CONFIRM_FACE = code("confirm_needs_face")
E_ENTRY_FIELDS = code("entry_fields")

GENERIC_CODES = {E_PHONE_NOT_FOUND, E_NOT_REGISTERED, E_PASSWORD_WRONG}
SECOND_FACTORS = ("sms", "taxapp", "iitapp")  # after the password (R-LOGIN-2): a code, or a face scan


class LoginState(str, Enum):
    SECOND_FACTOR = "second_factor"
    SIGN_AGREEMENT = "sign_agreement"
    CHANGE_PASSWORD = "change_password"
    CHOOSE = "choose"
    CONFIRM_PENDING = "confirm_pending"
    DONE = "done"


S = LoginState
_AFTER_FACTOR = {S.SIGN_AGREEMENT, S.CHANGE_PASSWORD, S.CHOOSE, S.CONFIRM_PENDING, S.DONE}
MACHINE = base.Machine(base.FlowKind.LOGIN, LoginState, {
    S.SECOND_FACTOR: _AFTER_FACTOR,
    S.SIGN_AGREEMENT: {S.CHANGE_PASSWORD, S.CHOOSE, S.CONFIRM_PENDING, S.DONE},
    S.CHANGE_PASSWORD: {S.CHOOSE, S.CONFIRM_PENDING, S.DONE},
    S.CHOOSE: {S.DONE},
    S.CONFIRM_PENDING: {S.DONE},
}, terminal=frozenset({S.DONE}))

SPECIAL_TYPES = {"inspection": "跨区域报验户", "tax_source": "跨区税源登记纳税人"}
ACCOUNT_TYPES = {Entry.NONRESIDENT: ("phone", "email", "username")}
DEFAULT_ACCOUNT_TYPES = ("phone", "document", "username")


@dataclass
class Step:
    """What a login step answers: the flow's public view; `session` (the new id) when the login is done."""
    view: dict
    session: str | None = None
    session_row: object = None


def unknown_subject(account: str) -> str:
    """The lockout subject of an account string that names nobody (generic-error mode only)."""
    import hashlib
    return "unknown:" + hashlib.sha256((account or "").strip().lower().encode()).hexdigest()[:32]


def _err(svc, code: str, **params) -> AuthzError:
    """R-LOGIN-12: the manuals' hints, or one generic message when the deployment chose that."""
    if svc.settings.generic_login_errors and code in GENERIC_CODES:
        return AuthzError(E_GENERIC)
    return AuthzError(code, **params)


# ---- step 1: password
def password_step(svc, held: verification.Held, *, person, account: str, password: str, unknown_code: str, log: dict,
                  also: tuple[str, ...] = ()) -> None:
    """The personal-password check of every login (password login, certificate login): the one home of
    its answers (R-LOGIN-12); the check and its lockout (R-LOGIN-11) are the `password` factor through
    the one verification mechanism. Returns only when `person` is known and the password right;
    otherwise logs and raises.

    An evaluation of `password` (and of each method in `also` the caller checks next in the same request)
    is reserved atomically in `held` (verification.Held) before the argon2 verify, so at most the limit is ever evaluated
    however many requests arrive at once; the caller keeps the reservations until its own checks are
    counted. A refused reservation still costs one verify. With generic errors an unknown account is
    counted and locked under a subject derived from the account string, so the fifth wrong password
    answers 423 either way; without them an unknown account is answered `unknown_code`, uncounted."""
    ports = ports_of(svc)
    subject = person.uid if person is not None else (
        unknown_subject(account) if svc.settings.generic_login_errors else None)
    if subject is None:  # an unknown account without generic errors: nothing to count
        ports.hasher.verify_person(None, password or "")
        loginlog.record(svc, outcome=unknown_code, **log)
        raise _err(svc, unknown_code)
    try:
        verification.verify(svc, purpose=codes.Purpose.LOGIN, factor_name="password", offered=("password",),
                            person=person, lockout=subject, secret=password, held=held, also=also,
                            same_cost=True)
    except AuthzError as err:
        if not verification.counted(err):  # refused before the check (it still cost one verify)
            loginlog.record(svc, person=person, outcome="account_locked", **log)
            raise
        locked = err.code != E_PASSWORD_WRONG
        if person is None:
            loginlog.record(svc, outcome=unknown_code, **log)
            raise (err if locked else _err(svc, unknown_code)) from None
        loginlog.record(svc, person=person, outcome="account_locked" if locked else E_PASSWORD_WRONG, **log)
        raise (err if locked else _err(svc, E_PASSWORD_WRONG, limit=svc.settings.lockout_failures)) from None


def start(svc, *, entry: str, account: str, password: str, uscc: str | None = None, special_type: str | None = None,
          nonresident_code: str | None = None, human_token: str | None = None, ip: str = "",
          client: str = "browser") -> Step:
    """Human check, then account + password for an entry. Unknown accounts cost one argon2 verify like
    known ones (dummy hash), so neither the answer time nor (with generic errors) the answer differs."""
    entry = Entry(entry)
    ports = ports_of(svc)
    now = svc.clock.time()
    verify_once(ports.human, ports.counters, human_token, now)  # R-LOGIN-14, before anything about the account is said; one use per solved check
    ctx = {"entry": entry.value, "client": client, "ip": ip}
    if entry in (Entry.ENTERPRISE, Entry.AGENT, Entry.SPECIAL):
        if not uscc or not USCC_RE.fullmatch(uscc):
            raise AuthzError(E_ENTRY_FIELDS, errors={"uscc": ["required for this entry"]})
        ctx["uscc"] = uscc
    if entry == Entry.SPECIAL:
        if special_type not in SPECIAL_TYPES:
            raise AuthzError(E_ENTRY_FIELDS, errors={"special_type": list(SPECIAL_TYPES)})
        ctx["special_type"] = special_type
    if entry == Entry.NONRESIDENT:
        if not nonresident_code or not USCC_RE.fullmatch(nonresident_code):
            raise AuthzError(E_ENTRY_FIELDS, errors={"nonresident_code": ["required for this entry"]})
        ctx["nonresident_code"] = nonresident_code
    person, account_type = accounts.find_account(account, allow=ACCOUNT_TYPES.get(entry, DEFAULT_ACCOUNT_TYPES))
    if not accounts.can_log_in(person):
        person = None
    log = dict(entry=entry.value, step="password", account_type=account_type, ip=ip, uscc=ctx.get("uscc", ""))
    unknown = E_PHONE_NOT_FOUND if account_type == "phone" else E_NOT_REGISTERED
    with verification.Held() as held:
        password_step(svc, held, person=person, account=account, password=password, unknown_code=unknown, log=log)
    if account_type == "phone":
        ctx["account_phone"] = account.strip()
    ctx["account_type"] = account_type
    raw, flow = base.create(svc, MACHINE, S.SECOND_FACTOR, person=person, context=ctx)
    loginlog.record(svc, person=person, outcome="ok", **log)
    return Step(dict(view(svc, flow), flow=raw))


# ---- step 2: second factor
def _sms_target(flow) -> str:
    """R-LOGIN-2: the phone typed as the account if it still belongs to the person, else the default."""
    person = flow.person
    typed = (flow.context or {}).get("account_phone")
    if typed and typed in accounts.phones_of(person):
        return typed
    phone = accounts.default_phone(person)
    if not phone:
        raise AuthzError(E_PHONE_EMPTY)
    return phone


def begin_factor(svc, flow_id: str, factor_name: str) -> dict:
    """Send the SMS code or show a face-scan ticket for this flow."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.SECOND_FACTOR)
    # the correct password is proven: the code spends the phone's own quota (R-SMS-1), no client cap
    out = verification.begin(svc, purpose=codes.Purpose.LOGIN, factor_name=factor_name, flow_hash=flow.id_hash,
                             offered=SECOND_FACTORS, person=flow.person, phone=lambda: _sms_target(flow),
                             proven=True)
    if out.get("factor") == "sms":  # what the page shows beside the resend button (issue 11)
        out["sends_left"] = codes.sends_left(svc, flow.id_hash)
    return out


def complete_factor(svc, flow_id: str, factor_name: str, code: str | None = None) -> Step:
    """Check the code or collect the scan; then required actions or identity resolution."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.SECOND_FACTOR)
    name = verification.offered_factor(factor_name, offered=SECOND_FACTORS).name
    ctx = flow.context or {}
    log = dict(entry=ctx.get("entry", ""), step="factor", factor=name, account_type=ctx.get("account_type", ""),
               ip=ctx.get("ip", ""), uscc=ctx.get("uscc", ""))
    try:
        verification.verify(svc, purpose=codes.Purpose.LOGIN, factor_name=name, flow_hash=flow.id_hash,
                            offered=SECOND_FACTORS, person=flow.person, code=code)
    except AuthzError as err:
        if err.code != "scan_pending":
            loginlog.record(svc, person=flow.person, outcome=err.code, **log)
        raise
    loginlog.record(svc, person=flow.person, outcome="ok", **log)
    return _advance(svc, flow, factor=name)


# ---- required actions (stock persons, R-LOGIN-10, R-PWD-2)
def sign_agreement(svc, flow_id: str) -> Step:
    """The user agreement (personal-information consent + face-recognition service agreement)."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.SIGN_AGREEMENT)
    Person.update(agreement_signed_at=svc.clock.time(), updated_at=svc.clock.time()).where(
        Person.id == flow.person_id).execute()
    audit.record(svc, actor=flow.person.uid, action="agreement.sign", target=flow.person.uid)
    return _advance(svc, base.load(svc, MACHINE, flow_id))


def change_password(svc, flow_id: str, new_password: str, confirm: str) -> Step:
    """Replace the initial password before anything else."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CHANGE_PASSWORD)
    check_policy(new_password, svc.settings, confirm)
    person = flow.person
    doc = accounts.primary_document(person)
    if doc and new_password.upper() == doc.doc_number[-6:].upper():
        raise AuthzError("password_unchanged")
    Person.update(password_hash=ports_of(svc).hasher.hash(new_password), must_change_password=False,
                  registered=True, updated_at=svc.clock.time()).where(Person.id == person.id).execute()
    audit.record(svc, actor=person.uid, action="password.initial_change", target=person.uid)
    return _advance(svc, base.load(svc, MACHINE, flow_id))


def _advance(svc, flow, factor: str | None = None) -> Step:
    """After the factor or a required action: the next required action, else identity resolution."""
    person = Person.get_by_id(flow.person_id)
    if factor:
        flow = base.update_context(svc, flow, factor=factor)
    state = base.require(MACHINE, flow, S.SECOND_FACTOR, S.SIGN_AGREEMENT, S.CHANGE_PASSWORD)
    if person.agreement_signed_at is None and state == S.SECOND_FACTOR:
        flow = base.transition(svc, MACHINE, flow, S.SIGN_AGREEMENT)
        return Step(view(svc, flow))
    if person.must_change_password and state != S.CHANGE_PASSWORD:
        flow = base.transition(svc, MACHINE, flow, S.CHANGE_PASSWORD)
        return Step(view(svc, flow))
    return _resolve(svc, flow)


# ---- identity resolution (R-LOGIN-3..6)
def choices(svc, flow, query: str | None = None) -> dict:
    """What this person may enter through this flow's entry: live identities, pending ones, projects
    or clients. Computed afresh every time from the enforcer and the directory."""
    ctx = flow.context or {}
    return identity_choices(svc, flow.person, Entry(ctx["entry"]), _enterprise(ctx), ctx.get("special_type"), query)


def identity_choices(svc, person, entry: Entry, ent: Enterprise | None, special_type: str | None = None,
                     query: str | None = None) -> dict:
    """The identities `person` may take through `entry` at `ent` (the agency, for the agent entry);
    shared by login (R-LOGIN-3..6) and identity switching (R-SW-1..5)."""
    if entry == Entry.PERSONAL:
        return {"identities": [{"id": "self", "identity_type": "self", "domain": person_domain(person.uid)}]}
    if ent is None:
        return {}
    domain = enterprise_domain(ent.uscc)
    live = {g.source: g for g in svc.enforcer.roles_in(person.uid, domain) if g.source.startswith("binding:")}
    bindings = {b.id: b for b in Binding.select().where((Binding.person == person) & (Binding.domain == domain)
                                                        & (Binding.state.in_(["active", "pending"])))}
    if entry in (Entry.ENTERPRISE, Entry.NONRESIDENT):
        ids = [{"id": f"b{bid}", "identity_type": b.role, "domain": domain, "enterprise": ent.name,
                "sub_identity": b.sub_identity}
               for bid, b in sorted(bindings.items()) if f"binding:{bid}" in live]
        # only what the enterprise or a source created is the person's to confirm (R-BIND-2/3/6); the
        # person's own applications wait for the enterprise (R-BIND-7, bindings.TRANSITIONS)
        pending = [{"id": f"b{bid}", "identity_type": b.role, "domain": domain, "enterprise": ent.name}
                   for bid, b in sorted(bindings.items())
                   if b.state == "pending" and bindings_mod.may(b, BindingState.ACTIVE, Party.PERSON)]
        applied = [bid for bid, b in bindings.items() if b.state == "pending" and bindings_mod.applied_by_person(b)]
        return {"identities": ids, "pending": pending, "applications": len(applied)}
    if entry == Entry.SPECIAL:
        held = [bindings[int(s.split(":")[1])] for s in live if int(s.split(":")[1]) in bindings]
        main = sorted((b for b in held if sees_all(svc, person.uid, b)), key=acting_rank)
        subs = [b for b in held if is_handler_identity(b)]
        if not main and not subs:
            return {}
        acting = main[0] if main else subs[0]
        q = CrossRegionProject.select().where((CrossRegionProject.enterprise == ent)
                                              & (CrossRegionProject.kind == special_type)
                                              & (CrossRegionProject.status == "active"))
        if not main:
            q = q.where(CrossRegionProject.handler == person)
        if query:
            q = q.where(CrossRegionProject.management_no.endswith(query) if len(query) <= 4
                        else CrossRegionProject.management_no == query)
        projects = [{"id": p.management_no, "identity_type": acting.role, "domain": domain, "name": p.name,
                     "region": p.region, "kind": p.kind} for p in q.order_by(CrossRegionProject.management_no)]
        return {"projects": projects, "acting": f"b{acting.id}"}
    # agent (R-LOGIN-5): clients with an active agreement covering today that names this agent
    today = svc.clock.today()
    rows = (Agreement.select(Agreement, Enterprise).join(AgreementAgent).switch(Agreement)
            .join(Enterprise, on=(Agreement.client == Enterprise.id))
            .where((Agreement.agency == ent) & (AgreementAgent.person == person) & (Agreement.status == "active")
                   & (Agreement.start <= today) & (Agreement.end >= today)))
    clients = []
    for a in rows:
        grants = svc.enforcer.roles_in(person.uid, a.client_domain)
        if any(g.role == "tax_agent" and g.source == f"agreement:{a.number}" for g in grants):
            clients.append({"id": a.number, "identity_type": "tax_agent", "domain": a.client_domain,
                            "enterprise": a.client.name, "until": str(a.end)})
    return {"clients": clients}


def _enterprise(ctx) -> Enterprise | None:
    if ctx.get("nonresident_code"):
        return Enterprise.get_or_none(Enterprise.nonresident_code == ctx["nonresident_code"])
    return Enterprise.get_or_none(Enterprise.uscc == ctx.get("uscc", ""))


def _resolve(svc, flow) -> Step:
    ctx = flow.context or {}
    entry = Entry(ctx["entry"])
    c = choices(svc, flow)
    if entry == Entry.PERSONAL:
        return _finish(svc, flow, Identity(Entry.PERSONAL, person_domain(flow.person.uid), "self"))
    if entry in (Entry.ENTERPRISE, Entry.NONRESIDENT):
        ids, pending = c.get("identities", []), c.get("pending", [])
        if len(ids) == 1:
            return _finish(svc, flow, identity_for(entry, ids[0]))
        if ids:
            flow = base.transition(svc, MACHINE, flow, S.CHOOSE)
            return Step(view(svc, flow))
        if pending:
            flow = base.transition(svc, MACHINE, flow, S.CONFIRM_PENDING)
            return Step(view(svc, flow))
        if c.get("applications"):
            _log_identity(svc, flow, E_APPLICATION_PENDING)
            raise AuthzError(E_APPLICATION_PENDING)
        _log_identity(svc, flow, E_NO_RELATION)
        raise AuthzError(E_NO_RELATION)
    if not c:
        _log_identity(svc, flow, E_NO_RELATION)
        raise AuthzError(E_NO_RELATION)
    flow = base.transition(svc, MACHINE, flow, S.CHOOSE)
    return Step(view(svc, flow))


def identity_for(entry: Entry, item: dict, acting: str | None = None) -> Identity:
    if entry == Entry.AGENT:
        return Identity(entry, item["domain"], "tax_agent", agreement=item["id"])
    if entry == Entry.SPECIAL:
        return Identity(entry, item["domain"], item["identity_type"], binding_id=int(acting[1:]), project=item["id"])
    return Identity(entry, item["domain"], item["identity_type"], binding_id=int(item["id"][1:]))


def choose(svc, flow_id: str, choice: str) -> Step:
    """Enter one of the listed identities, projects or clients."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CHOOSE)
    entry = Entry(flow.context["entry"])
    c = choices(svc, flow)
    items = c.get("identities") or c.get("projects") or c.get("clients") or []
    item = next((i for i in items if i["id"] == choice), None)
    if item is None:
        raise AuthzError(E_CHOICE)
    return _finish(svc, flow, identity_for(entry, item, c.get("acting")))


CONFIRM_PURPOSE = "binding.confirm"
CONFIRM_FACTORS = verification.names(at_least=Strength.BIOMETRIC)  # R-BIND-6: a face, through either app


def confirm_pending(svc, flow_id: str, choice: str, factor_name: str) -> dict:
    """R-LOGIN-3 with R-BIND-6: only pending identities. The person picks the authorisation to confirm
    and a face scan (the same app scan the account-centre confirm asks) is shown for it; nothing is
    confirmed until `verify_confirm` collects the scan of this very person."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CONFIRM_PENDING)
    if factor_name not in CONFIRM_FACTORS:
        raise AuthzError(E_CONFIRM_FACE, errors={"factor": list(CONFIRM_FACTORS)})
    if not any(i["id"] == choice for i in choices(svc, flow).get("pending", [])):
        raise AuthzError(E_CHOICE)
    out = verification.begin(svc, purpose=CONFIRM_PURPOSE, factor_name=factor_name,
                             flow_hash=bound_to(flow.id_hash, CONFIRM_PURPOSE), at_least=Strength.BIOMETRIC,
                             person=flow.person)
    base.update_context(svc, flow, confirm_choice=choice, confirm_factor=factor_name)
    return out


def verify_confirm(svc, flow_id: str) -> Step:
    """Collect the face scan shown by `confirm_pending` (scan_pending while the app has not answered),
    confirm the chosen authorisation as the person (bindings.transition checks the proof), then enter."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.CONFIRM_PENDING)
    ctx = flow.context or {}
    choice, factor_name = ctx.get("confirm_choice"), ctx.get("confirm_factor")
    if not choice or factor_name not in CONFIRM_FACTORS:
        raise AuthzError(E_TICKET_UNKNOWN)
    item = next((i for i in choices(svc, flow).get("pending", []) if i["id"] == choice), None)
    if item is None:
        raise AuthzError(E_CHOICE)
    proof = verification.verify(svc, purpose=CONFIRM_PURPOSE, factor_name=factor_name,
                                flow_hash=bound_to(flow.id_hash, CONFIRM_PURPOSE), at_least=Strength.BIOMETRIC,
                                person=flow.person)
    entry = Entry(ctx["entry"])
    binding = Binding.get_by_id(int(choice[1:]))
    # bindings.transition writes the audit row ("binding.confirm", via enterprise_login), the outbound
    # binding.changed event and the cache invalidation with the state, as the account-centre confirm does.
    by = bindings_mod.Who(Party.PERSON, flow.person.uid, identity=binding.role, via="enterprise_login")
    with database.atomic():
        bindings_mod.transition(svc, binding, BindingState.ACTIVE, by=by, proof=proof)
    return _finish(svc, base.load(svc, MACHINE, flow_id), identity_for(entry, item))


def _finish(svc, flow, ident: Identity) -> Step:
    """Flow done and a new session, in one transaction (a replayed step finds the flow done)."""
    ctx = flow.context or {}
    with database.atomic():
        flow = base.transition(svc, MACHINE, flow, S.DONE)
        raw, row = sessions.create(svc, flow.person, ident, client=ctx.get("client", "browser"), ip=ctx.get("ip", ""),
                                   factors=("password", ctx.get("factor", "")))
    _log_identity(svc, flow, "ok", ident)
    audit.record(svc, actor=flow.person.uid, identity=ident.role, domain=ident.domain, action="login",
                 target=ident.entry.value, detail={"factor": ctx.get("factor", ""), "entry": ident.entry.value})
    return Step(view(svc, flow), session=raw, session_row=row)


def _log_identity(svc, flow, outcome: str, ident: Identity | None = None) -> None:
    ctx = flow.context or {}
    ent = None
    if ident and ident.domain.startswith("ent:"):
        ent = Enterprise.get_or_none(Enterprise.uscc == ident.domain[4:])
    loginlog.record(svc, entry=ctx.get("entry", ""), step="identity", factor=ctx.get("factor", ""),
                    account_type=ctx.get("account_type", ""), person=flow.person,
                    identity=ident.role if ident else "", enterprise=ent, uscc=ctx.get("uscc", ""),
                    ip=ctx.get("ip", ""), outcome=outcome)


# ---- views
def view(svc, flow, query: str | None = None) -> dict:
    """The public view of a flow: never the person's data beyond masks, never a code."""
    state = MACHINE.state_of(flow)
    ctx = flow.context or {}
    out = {"kind": flow.kind, "state": state.value, "entry": ctx.get("entry"), "expires_at": flow.expires_at}
    if state == S.SECOND_FACTOR:
        out["factors"] = list(SECOND_FACTORS)
        try:
            out["sms_phone"] = mask_phone(_sms_target(flow))
        except AuthzError:
            out["sms_phone"] = None
    elif state == S.CHOOSE:
        c = choices(svc, flow, query)
        out["choices"] = c.get("identities") or c.get("projects") or c.get("clients") or []
    elif state == S.CONFIRM_PENDING:
        out["pending"] = choices(svc, flow).get("pending", [])
        out["factors"] = list(CONFIRM_FACTORS)
    return out


def load_view(svc, flow_id: str, query: str | None = None) -> dict:
    flow = base.load(svc, MACHINE, flow_id)
    return view(svc, flow, query)
