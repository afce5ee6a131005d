"""Every binding write — creation, state transition, amendment — with its guard and its effects
(R-BIND-2..13, R-BIND-15, R-BIND-18: two-way confirmation; R-LOG-2: audited; issue 10 "one home").

The state machine is drawn in `docs/bindings.md`, generated from the tables below by
`python -m authz.bindings > docs/bindings.md`; a test holds the two equal.

The invariant "who may move a binding" has exactly this home: `transition` refuses a transition the
table does not give the party, and a person's confirmation without a face proof of that very person.
So the person's own application (initiated_by person) can only become active by the enterprise's
decision, and nothing the enterprise or a source created becomes active without the person's face
(R-BIND-6, R-BIND-18).

Every write of a binding row is one of three verbs here, and each does, in one transaction with the
write: the audit row (`audit.record`, action named by the tables below from the party and the change),
the outbound `binding.changed` event (`events.publish`, a transactional outbox row, R-BIND-15) where the
change touches what downstream systems see, and the grant-cache invalidation (`svc.grant_changed`,
again after commit) where the enforcer's answer may change (R-AUTHZ-5):

* `create`: the enterprise adds staff (R-BIND-4), the person applies (R-BIND-7), a source files
  (integration API, tax hall, R-BIND-1/2/3), seeding (`Directory.bind`, demo and tests);
* `transition`: confirm, refuse, withdraw, decide, delete, end (the `TRANSITIONS` table);
* `amend`: the function set / validity end / enabled flag (R-BIND-9), the assist code (R-BIND-16);
  `hide`: the soft "clear records" of history (R-BIND-12).

Flows (staff, person_bindings, login, integration) decide *whether* the actor may act (the enforcer)
and call these; no other code writes the binding table (a test scans the source). The state write is
one conditional UPDATE (... RETURNING where the database has it).
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from typing import Callable

import peewee

from . import audit, events, metrics
from .db import database
from .directory import E_BAD_STATE
from .errors import AuthzError, code
from .ids import ENT_PREFIX, enterprise_domain
from .models import Binding, BindingConstraint, Enterprise, Person
from .verification import Proof
from .vocab import BindingState as S, Method, Party

E_FACE = code("face_verification_required")
E_EXISTS = code("binding_exists")
LIVE = (S.PENDING, S.ACTIVE)  # at most one live binding per (person, enterprise, identity type), R-BIND-4
# how the partial unique index binding_live_uniq (migration 4) names itself in an IntegrityError:
# PostgreSQL by name, SQLite by its columns
LIVE_INDEX_MARKS = ("binding_live_uniq", "binding.person_id, binding.enterprise_id, binding.role")

UNSET = ...
EVENT = "binding.changed"


@dataclass(frozen=True)
class Who:
    """Who writes a binding, as the audit row names them: the party the tables know, the actor (a person
    uid, or "service:<name>" for a source), the identity the actor acted in ("self" in personal business),
    the audit domain of a batch (single-binding rows are written under the binding's domain, so the
    enterprise's audit view shows what the person did), and the channel where it names the audit action."""
    party: Party
    actor: str
    identity: str = ""
    domain: str = ""
    via: str = ""

    @classmethod
    def of(cls, party: Party, actor, *, via: str = "") -> "Who":
        """From a session `authz.actor.Actor` (uid, domain, role) or a service name."""
        if isinstance(actor, str):
            return cls(Party(party), actor, via=via)
        return cls(Party(party), actor.uid, getattr(actor, "role", "") or "", getattr(actor, "domain", "") or "",
                   via)


SEED = Who(Party.SOURCE, "system:seed")  # Directory.bind / update_binding without an actor (tests, bench)


def applied_by_person(b: Binding) -> bool:
    """The person's own application (R-BIND-7): the enterprise decides it, not the person."""
    return b.initiated_by == "person"


def not_applied_by_person(b: Binding) -> bool:
    """Added by the enterprise or filed by a source: the person decides it (R-BIND-2/3/6)."""
    return b.initiated_by != "person"


def always(b: Binding) -> bool:
    return True


# (from, to) -> {party: predicate(binding)}: which party may take this transition for this binding.
TRANSITIONS: dict[tuple[S, S], dict[Party, Callable[[Binding], bool]]] = {
    (S.PENDING, S.ACTIVE): {Party.PERSON: not_applied_by_person, Party.ENTERPRISE: applied_by_person},
    (S.PENDING, S.REFUSED): {Party.PERSON: not_applied_by_person, Party.ENTERPRISE: applied_by_person},
    (S.PENDING, S.WITHDRAWN): {Party.PERSON: applied_by_person, Party.ENTERPRISE: not_applied_by_person,
                               Party.SOURCE: always},
    (S.ACTIVE, S.DELETED): {Party.ENTERPRISE: always},
    (S.ACTIVE, S.ENDED): {Party.PERSON: always, Party.SOURCE: always},
}
PREDICATE_TEXT = {not_applied_by_person: "not own application", applied_by_person: "own application",
                  always: ""}

# (to, party) -> the audit action of that transition; the event's "change" is the new state.
TRANSITION_ACTIONS: dict[tuple[S, Party], str] = {
    (S.ACTIVE, Party.PERSON): "authorisation.confirm",
    (S.REFUSED, Party.PERSON): "authorisation.refuse",
    (S.WITHDRAWN, Party.PERSON): "authorisation.withdraw",
    (S.ENDED, Party.PERSON): "authorisation.end",
    (S.ACTIVE, Party.ENTERPRISE): "staff.application.confirm",
    (S.REFUSED, Party.ENTERPRISE): "staff.application.refuse",
    (S.WITHDRAWN, Party.ENTERPRISE): "staff.withdraw",
    (S.DELETED, Party.ENTERPRISE): "staff.delete",
    (S.WITHDRAWN, Party.SOURCE): "binding.withdrawn",
    (S.ENDED, Party.SOURCE): "binding.ended",
}
# A channel that names the action differently: the confirm step of the enterprise login (R-LOGIN-3).
VIA_ACTIONS: dict[tuple[str, S, Party], str] = {
    ("enterprise_login", S.ACTIVE, Party.PERSON): "binding.confirm",
}
# Fields a transition may set together with the state: the enterprise's decision on an application
# carries the function set and validity end it grants (R-BIND-7).
TRANSITION_FIELDS: dict[tuple[S, Party], tuple[str, ...]] = {
    (S.ACTIVE, Party.ENTERPRISE): ("functions", "valid_until"),
}


@dataclass(frozen=True)
class Creation:
    """Who may create a binding, in which states, and how it is recorded."""
    states: tuple[S, ...]
    action: str
    origin: str | None  # fixed origin, or None: the source names it
    initiated_by: str | None  # fixed, or None: the source names it


CREATIONS: dict[Party, Creation] = {
    Party.ENTERPRISE: Creation((S.PENDING,), "staff.add", "enterprise", "enterprise"),
    Party.PERSON: Creation((S.PENDING,), "authorisation.apply", "application", "person"),
    Party.SOURCE: Creation((S.PENDING, S.ACTIVE), "binding.create", None, None),
}


@dataclass(frozen=True)
class Amendment:
    """A change of a binding's fields (never its person, enterprise, identity type or state)."""
    fields: tuple[str, ...]
    states: tuple[S, ...]  # the states it may be made in
    actions: dict[Party, str]  # who may make it, and its audit action
    event: bool  # publishes binding.changed "updated" (it changes what downstream systems see)
    grants: bool  # the enforcer's answer may change (grant-cache invalidation)
    labels: dict[str, str] = field(default_factory=dict)  # audit detail keys, where they differ from the field


HISTORY = (S.DELETED, S.WITHDRAWN, S.REFUSED, S.ENDED)
AMENDMENTS: dict[str, Amendment] = {
    # R-BIND-9: function set and validity end (identity type never); enabled (R-BIND-13).
    "terms": Amendment(("functions", "valid_until", "enabled"), (S.ACTIVE,),
                       {Party.ENTERPRISE: "staff.manage", Party.SOURCE: "binding.update"}, True, True),
    # R-BIND-16: the assist code and its functions (no enforcer answer depends on them).
    "assist_code": Amendment(("assist_code", "assist_functions"), (S.ACTIVE,),
                             {Party.ENTERPRISE: "staff.assist.set"}, False, False,
                             {"assist_code": "assist_enabled", "assist_functions": "functions"}),
    # R-BIND-12: "clear records" hides history entries from one side's list; the rows stay.
    "hide": Amendment(("hidden_for_enterprise", "hidden_for_person"), HISTORY,
                      {Party.ENTERPRISE: "staff.history.clear", Party.PERSON: "authorisation.history.clear"},
                      False, False),
}
HIDE_FIELD = {Party.ENTERPRISE: "hidden_for_enterprise", Party.PERSON: "hidden_for_person"}


def _check_tables() -> None:
    for (frm, to), parties in TRANSITIONS.items():
        for party in parties:
            assert (to, party) in TRANSITION_ACTIONS, f"no audit action for {frm}->{to} by {party}"


_check_tables()


def may(b: Binding, to: S, by: Party | Who) -> bool:
    """Does the table give `by` the transition of `b` from its state to `to`?"""
    party = by.party if isinstance(by, Who) else by
    try:
        key = (S(b.state), S(to))
    except ValueError:
        return False
    rule = TRANSITIONS.get(key, {}).get(Party(party))
    return bool(rule and rule(b))


# ---- effects (called inside the write's transaction)

def _iso(d) -> str | None:
    if d is None:
        return None
    return d.isoformat() if isinstance(d, (dt.date, dt.datetime)) else str(d)


def binding_snapshot(b: Binding, change: str, person_uid: str | None = None) -> dict:
    """A binding as downstream systems see it (ids, never names or document numbers)."""
    uscc = b.domain[len(ENT_PREFIX):] if b.domain.startswith(ENT_PREFIX) else b.enterprise.uscc
    return {"binding_id": b.id, "change": change, "person": person_uid or b.person.uid, "domain": b.domain,
            "uscc": uscc, "identity_type": b.role, "state": b.state, "enabled": b.enabled,
            "functions": b.functions, "valid_until": _iso(b.valid_until), "origin": b.origin,
            "sub_identity": b.sub_identity, "version": b.version, "updated_at": b.updated_at}


def _publish(svc, b: Binding, change: str, person_uid: str | None = None) -> None:
    events.publish(svc, EVENT, binding_snapshot(b, change, person_uid), subject=f"binding:{b.id}")


def _audit(svc, by: Who, action: str, b: Binding, person_uid: str, detail: dict) -> None:
    metrics.inc("authz_binding_changes_total", action=action)
    audit.record(svc, actor=by.actor, identity=by.identity, domain=b.domain, action=action,
                 target=f"binding:{b.id}", detail={"person": person_uid, "identity_type": b.role, **detail})


def _grants_changed(svc, person_uid: str, domain: str) -> None:
    """Drop the cached grants of (person, domain) now, in every worker through the change log, and again
    once the transaction commits (a check between the two could re-cache the old answer)."""
    svc.grant_changed(person_uid, domain)

    def drop():
        if svc.enforcer is not None:
            svc.enforcer.grants.invalidate(person_uid, domain)
    database.after_commit(drop)


def _who(by) -> Who:
    if not isinstance(by, Who):
        raise TypeError("bindings: `by` must be a bindings.Who (party and actor), for the audit row")
    return by


# ---- the three verbs

def create(svc, person: Person, enterprise: Enterprise, role: str, *, by: Who, state: S | str = S.PENDING,
           origin: str | None = None, functions: list[str] | None = None, valid_until: dt.date | None = None,
           initiated_by: str | None = None, sub_identity: bool = False, constraint: dict | None = None,
           detail: dict | None = None) -> Binding:
    """Create a binding as `by`: the enterprise and the person only pending ones (R-BIND-4, R-BIND-7,
    R-BIND-18), a source pending or active ones (R-BIND-1/2/3). `constraint` (refusable,
    withdrawable_online, source_ref) is the source's word on it (flows.integration.binding_constraints).
    The function set is checked against the identity type's ceiling, and a second live (pending or
    active) binding of the same person, enterprise and identity type is refused with binding_exists —
    also when a concurrent create passed the check first (the partial unique index; R-BIND-4)."""
    from .directory import Directory
    by = _who(by)
    rule = CREATIONS[by.party]
    try:
        state = S(state)
    except ValueError:
        raise AuthzError(E_BAD_STATE) from None
    if state not in rule.states:
        raise AuthzError(E_BAD_STATE)
    origin = rule.origin or origin
    initiated_by = rule.initiated_by or initiated_by or "enterprise"
    if not origin:
        raise ValueError("a source names the binding's origin")
    fs = Directory(svc).check_function_set(role, enterprise, functions)
    if live_binding(person, enterprise, role) is not None:
        raise AuthzError(E_EXISTS)
    now = svc.clock.time()
    try:
        with database.atomic():
            b = Binding.create(person=person, enterprise=enterprise, domain=enterprise_domain(enterprise.uscc),
                               role=role, functions=fs, valid_until=valid_until, state=state.value, origin=origin,
                               initiated_by=initiated_by, sub_identity=sub_identity, created_at=now, updated_at=now,
                               decided_at=now if state is S.ACTIVE else None)
            if constraint is not None:
                BindingConstraint.create(binding=b, created_at=now, **constraint)
            b = Binding.get_by_id(b.id)
            _audit(svc, by, rule.action, b, person.uid,
                   {"state": state.value, "origin": origin, "functions": fs, "valid_until": _iso(valid_until),
                    **(constraint or {}), **(detail or {})})
            _publish(svc, b, "created", person.uid)
            if state is S.ACTIVE:
                _grants_changed(svc, person.uid, b.domain)
    except peewee.IntegrityError as exc:
        if not any(mark in str(exc) for mark in LIVE_INDEX_MARKS):
            raise
        raise AuthzError(E_EXISTS) from None  # a concurrent create won: the index backs the check (migration 4)
    return b


def live_binding(person: Person, enterprise: Enterprise, role: str) -> Binding | None:
    """The person's pending or active binding of this identity type in this enterprise, if any (R-BIND-4)."""
    return (Binding.select().where((Binding.person == person.id) & (Binding.enterprise == enterprise.id)
                                   & (Binding.role == role) & (Binding.state.in_([x.value for x in LIVE])))
            .order_by(Binding.id).first())


def transition(svc, b: Binding, to: S | str, *, by: Who, proof: Proof | None = None, reason: str = "",
               detail: dict | None = None, **fields) -> Binding:
    """Move binding `b` to `to` as `by`. The person's confirmation (pending -> active by the person) needs
    a face `proof` of that person (R-BIND-6). Atomic against races: the row changes only if it is still
    in the state read. With the audit row, the binding.changed event and the grant-cache invalidation
    in the same transaction. `fields` (TRANSITION_FIELDS) are set in the same UPDATE. Returns the row as
    written."""
    by = _who(by)
    to = S(to)
    if not may(b, to, by.party):
        raise AuthzError(E_BAD_STATE)
    if by.party is Party.PERSON and to is S.ACTIVE:
        if proof is None or not proof.proves(b.person.uid, Method.FACE):
            raise AuthzError(E_FACE)
    extra = set(fields) - set(TRANSITION_FIELDS.get((to, by.party), ()))
    if extra:
        raise ValueError(f"transition {to.value} by {by.party.value} cannot set {sorted(extra)}")
    if "functions" in fields:
        from .directory import Directory
        fields["functions"] = Directory(svc).check_function_set(b.role, b.enterprise, fields["functions"])
    action = VIA_ACTIONS.get((by.via, to, by.party)) or TRANSITION_ACTIONS[(to, by.party)]
    now = svc.clock.time()
    query = (Binding.update(state=to.value, updated_at=now, decided_at=now, version=Binding.version + 1, **fields)
             .where((Binding.id == b.id) & (Binding.state == b.state)))
    with database.atomic():
        if _has_returning(database.obj):
            # One round trip: the row as written, and the person's uid, come back with the UPDATE.
            uid_col = Person.select(Person.uid).where(Person.id == Binding.person).alias("person_uid")
            rows = list(query.returning(Binding, uid_col).objects(Binding).execute())
            if len(rows) != 1:
                raise AuthzError(E_BAD_STATE)
            updated = rows[0]
            uid = updated.__dict__.pop("person_uid")
        else:  # SQLite before 3.35: update, then re-read
            if query.execute() != 1:
                raise AuthzError(E_BAD_STATE)
            updated = Binding.get_by_id(b.id)
            uid = b.person.uid
        _grants_changed(svc, uid, b.domain)
        _audit(svc, by, action, updated, uid, {
            **({"via": by.via} if by.via else {}),
            **({"reason": reason} if reason else {}),
            **({"face_verified": True, "factor": proof.factor} if proof is not None and to is S.ACTIVE else {}),
            **({"functions": fields["functions"]} if "functions" in fields else {}),
            **({"valid_until": _iso(fields["valid_until"])} if "valid_until" in fields else {}),
            **(detail or {})})
        _publish(svc, updated, to.value, uid)
    return updated


def amend(svc, b: Binding, kind: str, *, by: Who, detail: dict | None = None, **changes) -> Binding:
    """Change fields of `b` (an `AMENDMENTS` kind) as `by`, guarded by the version read (a concurrent
    change answers `conflict`) and the states the kind allows. A narrower function set also drops
    assist-code functions outside it (R-BIND-16). Audit row, event and cache invalidation as the kind
    says, in one transaction."""
    by = _who(by)
    if kind == "hide":
        raise ValueError("hiding history is a batch: bindings.hide")
    rule = AMENDMENTS[kind]
    action = rule.actions.get(by.party)
    if action is None:
        raise AuthzError("forbidden")
    unknown = set(changes) - set(rule.fields)
    if unknown:
        raise ValueError(f"amendment {kind} cannot change {sorted(unknown)}")
    changes = {k: v for k, v in changes.items() if v is not UNSET}
    if not changes:
        return b
    if S(b.state) not in rule.states:
        raise AuthzError(E_BAD_STATE)
    written = dict(changes)
    if "functions" in changes:
        from .directory import Directory
        written["functions"] = changes["functions"] = Directory(svc).check_function_set(
            b.role, b.enterprise, changes["functions"])
        fs = changes["functions"]
        if b.assist_functions and fs is not None:
            keep = [f for f in b.assist_functions if f in fs or not f.startswith("biz.")]
            if keep != b.assist_functions:
                written["assist_functions"] = keep
    if "enabled" in written:
        written["enabled"] = changes["enabled"] = bool(written["enabled"])
    with database.atomic():
        n = (Binding.update(updated_at=svc.clock.time(), version=Binding.version + 1, **written)
             .where((Binding.id == b.id) & (Binding.version == b.version)
                    & Binding.state.in_([s.value for s in rule.states])).execute())
        if n != 1:
            raise AuthzError("conflict")
        updated = Binding.get_by_id(b.id)
        uid = b.person.uid
        shown = {rule.labels.get(k, k): (_iso(v) if k == "valid_until" else v) for k, v in changes.items()}
        _audit(svc, by, action, updated, uid, {**shown, **(detail or {})})
        if rule.event:
            _publish(svc, updated, "updated", uid)
        if rule.grants:
            _grants_changed(svc, uid, b.domain)
    return updated


def hide(svc, ids: list[int], *, by: Who) -> int:
    """"Clear records" (R-BIND-12): hide history entries from `by`'s side's list (the enterprise's: its
    domain's bindings; the person's: their own); the rows stay. One audit row for the batch, under the
    actor's domain. Returns how many were hidden."""
    by = _who(by)
    rule = AMENDMENTS["hide"]
    action, field = rule.actions.get(by.party), HIDE_FIELD.get(by.party)
    if action is None or field is None:
        raise AuthzError("forbidden")
    if by.party is Party.ENTERPRISE:
        scope = Binding.domain == by.domain
    else:
        scope = Binding.person.in_(Person.select(Person.id).where(Person.uid == by.actor))
    ids = sorted(set(ids))
    with database.atomic():
        n = (Binding.update(**{field: True}, updated_at=svc.clock.time(), version=Binding.version + 1)
             .where(Binding.id.in_(ids) & scope & Binding.state.in_([s.value for s in rule.states])).execute())
        audit.record(svc, actor=by.actor, identity=by.identity, domain=by.domain, action=action,
                     target=f"bindings:{len(ids)}", detail={"bindings": ids})
    return n


def _has_returning(db) -> bool:
    """UPDATE ... RETURNING: PostgreSQL, and SQLite from 3.35 on."""
    return not isinstance(db, peewee.SqliteDatabase) or sqlite3.sqlite_version_info >= (3, 35, 0)


# ---- docs/bindings.md

def _event_text(change: str | None) -> str:
    return f"`{EVENT}` ({change})" if change else "none"


def document() -> str:
    """docs/bindings.md: the tables as a diagram and as lists, with the effects each write has."""
    rows = []
    for (frm, to), parties in TRANSITIONS.items():
        for party, pred in parties.items():
            cond = PREDICATE_TEXT[pred] or "any binding"
            proof = "face scan of the binding's person" if party is Party.PERSON and to is S.ACTIVE else ""
            action = f"`{TRANSITION_ACTIONS[(to, party)]}`"
            action += "".join(f"; `{a}` ({via.replace('_', ' ')})" for (via, t, p), a in VIA_ACTIONS.items()
                              if (t, p) == (to, party))
            sets = ", ".join(TRANSITION_FIELDS.get((to, party), ()))
            rows.append(f"| {frm.value} | {to.value} | {party.value} | {cond} | {proof} | {action} | "
                        f"{_event_text(to.value)} | {sets} |")
    creations = [f"| {party.value} | {', '.join(s.value for s in c.states)} | {c.origin or '(the source names it)'} "
                 f"| {c.initiated_by or '(the source names it)'} | `{c.action}` | {_event_text('created')} |"
                 for party, c in CREATIONS.items()]
    amendments = [f"| {kind} | {', '.join(a.fields)} | {', '.join(s.value for s in a.states)} | "
                  f"{'; '.join(f'{p.value}: `{act}`' for p, act in a.actions.items())} | "
                  f"{_event_text('updated' if a.event else None)} | {'yes' if a.grants else 'no'} |"
                  for kind, a in AMENDMENTS.items()]
    return "\n".join([
        "# Binding state machine",
        "",
        "Generated from `authz/bindings.py` (`TRANSITIONS`, `TRANSITION_ACTIONS`, `CREATIONS`, `AMENDMENTS`) by",
        "`python -m authz.bindings > docs/bindings.md`; `tests/test_docs.py` fails when this file and the code",
        "disagree. `authz/bindings.py` is the only code that writes a binding row (a test scans the source):",
        "`create`, `transition`, `amend` and `hide`. `transition` refuses any transition the table does not",
        "give the party, and a person's confirmation without a face proof of that person (R-BIND-6).",
        "",
        "Each write takes who acted (`bindings.Who`: party, actor, identity) and, in the transaction of the",
        "write, records the audit row, publishes the outbound event (a transactional outbox row, R-BIND-15)",
        "and drops the enforcer's cached grants of the person in the enterprise (R-AUTHZ-5) as listed below.",
        "Every audit row's detail carries the person (uid) and identity type, never a name or document number.",
        "",
        "\"Own application\" is a binding the person applied for (R-BIND-7, `initiated_by = person`); every",
        "other pending binding was added by the enterprise (R-BIND-2) or filed by a source (R-BIND-3).",
        "",
        "```mermaid",
        mermaid().rstrip("\n"),
        "```",
        "",
        "## Transitions",
        "",
        "Every transition drops the cached grants of the binding's person in its enterprise.",
        "",
        "| from | to | party | for which bindings | proof | audit action | event | also sets |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "## Creation",
        "",
        "An active binding drops the person's cached grants in the enterprise.",
        "",
        "| party | states | origin | initiated by | audit action | event |",
        "|---|---|---|---|---|---|",
        *creations,
        "",
        "## Amendments",
        "",
        "Guarded by the version read (a concurrent change answers `conflict`). A narrower function set also",
        "drops assist-code functions outside it (R-BIND-16). `hide` writes one audit row for the whole batch.",
        "",
        "| kind | fields | in states | party: audit action | event | drops cached grants |",
        "|---|---|---|---|---|---|",
        *amendments,
        "",
        "Parties: `person` (the binding's own person, from the personal account centre or the enterprise",
        "login's confirm step), `enterprise` (legal representative, finance officer or admin, as",
        "`policies/rules.csv` grants `ac.staff`), `source` (the integration API: core tax system, hall,",
        "agency filings; seeding through `Directory.bind` is a source too).",
        "",
    ])


def mermaid() -> str:
    """The state machine drawn from TRANSITIONS (docs/bindings.md holds this text; a test compares)."""
    lines = ["stateDiagram-v2",
             "    [*] --> pending: enterprise adds, source files, person applies",
             "    [*] --> active: authoritative source (registration data, agency filing)"]
    for (frm, to), parties in TRANSITIONS.items():
        who = []
        for party, pred in parties.items():
            cond = PREDICATE_TEXT[pred]
            face = " + face" if party is Party.PERSON and to is S.ACTIVE else ""
            who.append(f"{party.value}{face}" + (f" ({cond})" if cond else ""))
        lines.append(f"    {frm.value} --> {to.value}: {' / '.join(who)}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(document(), end="")
