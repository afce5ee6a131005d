"""The helpdesk (issue 13): what the tax bureau's hall staff and support desk see and do for a person or an
enterprise. The REST API (api/helpdesk.py, service keys of scope `helpdesk`, bulk export `helpdesk_export`)
and the CLI (`authz helpdesk …`) call these functions and nothing else.

* **Who.** Every call names an `Operator`: the caller (a service key's name, or the CLI) and the person at
  the desk (an operator id the caller must supply). Every call — reads included — writes one audit row
  (`helpdesk.<what>`, actor `service:<key name>` or `cli`, detail `operator`, the person or enterprise as
  target and domain, the request id from authz.logs), so "who looked at this person" has an answer.
* **Masked.** A person is found by an exact document number, phone or username, never by a fuzzy search
  (sent in a POST body, so the number never lands in a proxy's access log);
  the answer is masked (authz.masking, R-MASK-1): names, document numbers, phones, e-mail, username, USCC.
  The person id (`p-…`) is not personal data and names the person in the other calls.
* **One home each.** Lockout is read and lifted through authz.verification (`lockout_state`, `unlock`:
  the counters every factor check uses, R-LOGIN-11); sessions are listed and ended through authz.sessions;
  bindings are only read here (their writes stay in authz.bindings).
* **Logs.** Audit and login logs are searched with allow-listed filters (person, enterprise, action or
  login step / outcome, time range) and paged (`limit` / `offset`, with `total`); export streams every
  matching row as CSV or JSON lines in keyset batches of `BATCH` rows, so memory stays constant however
  many rows match. CSV cells that a spreadsheet would run as a formula are quoted (OWASP CSV injection).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from peewee import JOIN

from . import audit, bindings, sessions, verification
from .accounts import normalise_doc_number
from .clock import month_before, start_of_day_epoch
from .db import database
from .errors import AuthzError, code
from .flows.staff import primary_documents
from .ids import ENT_PREFIX, PERSON_UID_RE, USCC_RE, enterprise_domain, person_domain
from .masking import (mask_doc, mask_email, mask_enterprise_name, mask_name, mask_phone, mask_uscc,
                      mask_username)
from .models import AuditLog, Binding, Document, Enterprise, LoginLog, LoginSession, Person, Phone
from .vocab import ENTRIES

E_OPERATOR = code("operator_required")
E_RANGE = code("log_range_invalid")

OPERATOR_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}$")
LOOKUPS = ("document", "phone", "username")
LOOKUP_RE = re.compile(r"^[0-9A-Za-z()\-]{5,40}$")  # what a document number, phone or username is made of
ACTION_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
TOKEN_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
LIVE_STATES = tuple(s.value for s in bindings.LIVE)  # pending, active
HISTORY_STATES = tuple(s.value for s in bindings.HISTORY)  # deleted, withdrawn, refused, ended (R-BIND-12)
BINDING_VIEWS = {"live": LIVE_STATES, "history": HISTORY_STATES, "all": LIVE_STATES + HISTORY_STATES}
LOGIN_ENTRIES = ENTRIES
LOGIN_STEPS = ("password", "factor", "identity", "qr", "certificate", "signature")  # loginlog.record's callers
MAX_LIMIT = 200
MAX_OFFSET = 10_000  # deeper than this: export (a deep OFFSET re-reads every row before it)
BATCH = 500  # rows per keyset query of an export
FORMATS = ("csv", "jsonl")
KINDS = ("audit", "logins")


@dataclass(frozen=True)
class Operator:
    """Who acts: the calling service key (`client`, or "cli") and the person at the desk (`operator`)."""
    client: str
    operator: str

    @property
    def actor(self) -> str:
        return "cli" if self.client == "cli" else f"service:{self.client}"

    @classmethod
    def of(cls, client: str, operator: str | None) -> "Operator":
        """The operator, or 400 operator_required when the id is missing or not of the strict alphabet
        (letters, digits, `.`, `_`, `@`, `-`; 1-64, starting with a letter or digit)."""
        if not isinstance(operator, str) or not OPERATOR_RE.fullmatch(operator):
            raise AuthzError(E_OPERATOR, errors={"X-Operator-Id": ["1-64 letters, digits, . _ @ -"]})
        return cls(client, operator)


def _audit(svc, op: Operator, action: str, *, target: str = "", domain: str = "", outcome: str = "ok",
           **detail) -> None:
    audit.record(svc, actor=op.actor, action=f"helpdesk.{action}", target=target, domain=domain,
                 outcome=outcome, detail={"operator": op.operator, **detail})


CST = dt.timezone(dt.timedelta(hours=8))  # China Standard Time: Asia/Shanghai since 1991 (no LMT, no DST)


def rfc3339(epoch: float | None) -> str | None:
    """An epoch as an RFC 3339 time with its offset (+08:00), to the millisecond."""
    if epoch is None:
        return None
    return dt.datetime.fromtimestamp(epoch, tz=CST).isoformat(timespec="milliseconds")


def _bad(field: str, why: str) -> AuthzError:
    return AuthzError("validation_failed", errors={field: [why]})


# ---- people
def _person(svc, op: Operator, uid: str, action: str) -> Person:
    """The person `uid`, or 404 (the refused look-up is audited too)."""
    if not isinstance(uid, str) or not PERSON_UID_RE.fullmatch(uid):
        raise _bad("person", "a person id p-…")
    person = Person.get_or_none(Person.uid == uid)
    if person is None:
        _audit(svc, op, action, target=f"person:{uid}", outcome="not_found")
        raise AuthzError("not_found")
    return person


def person_view(person: Person) -> dict:
    """A person as the helpdesk sees them: every personal field masked (R-MASK-1)."""
    docs = Document.select().where(Document.person == person).order_by(Document.primary.desc(), Document.id)
    phones = Phone.select().where(Phone.person == person).order_by(Phone.is_default.desc(), Phone.id)
    return {
        "person": person.uid,
        "name_masked": mask_name(person.name),
        "status": person.status,
        "registered": bool(person.registered),
        "realname_level": person.realname_level,
        "must_change_password": bool(person.must_change_password),
        "agreement_signed": person.agreement_signed_at is not None,
        "username_masked": mask_username(person.username),
        "email_masked": mask_email(person.email),
        "documents": [{"doc_type": d.doc_type, "number_masked": mask_doc(d.doc_number), "primary": bool(d.primary)}
                      for d in docs],
        "phones": [{"number_masked": mask_phone(p.number), "default": bool(p.is_default)} for p in phones],
        "created_at": rfc3339(person.created_at),
    }


def find_persons(svc, op: Operator, *, by: str, value: str, doc_type: str | None = None) -> dict:
    """The people an exact document number, phone or username names (several only when one number is
    held under different document types), masked. A value of another shape simply matches nobody. The
    query itself is audited masked."""
    if by not in LOOKUPS:
        raise _bad("by", "one of " + ", ".join(LOOKUPS))
    value = value.strip() if isinstance(value, str) else ""
    if not LOOKUP_RE.fullmatch(value):
        raise _bad("value", "5-40 letters, digits, ( ) -: a whole document number, phone or username")
    if doc_type is not None and not TOKEN_RE.fullmatch(doc_type if isinstance(doc_type, str) else ""):
        raise _bad("doc_type", "a document type (it narrows by=document only)")
    if by == "document":
        q = Document.select(Document.person).where(Document.doc_number == normalise_doc_number(value))
        if doc_type:
            q = q.where(Document.doc_type == doc_type)
        ids = sorted({d.person_id for d in q})
        shown = mask_doc(normalise_doc_number(value))
    elif by == "phone":
        ids = [p.person_id for p in Phone.select(Phone.person).where(Phone.number == value)]
        shown = mask_phone(value)
    else:
        ids = [p.id for p in Person.select(Person.id).where(Person.username == value)]
        shown = mask_username(value)
    people = list(Person.select().where(Person.id.in_(ids)).order_by(Person.id)) if ids else []
    _audit(svc, op, "person.find", target=f"person:{people[0].uid}" if len(people) == 1 else "",
           domain=person_domain(people[0].uid) if len(people) == 1 else "", by=by, query=shown,
           persons=[p.uid for p in people])
    return {"items": [person_view(p) for p in people], "total": len(people)}


def get_person(svc, op: Operator, uid: str) -> dict:
    person = _person(svc, op, uid, "person.view")
    _audit(svc, op, "person.view", target=f"person:{uid}", domain=person_domain(uid))
    return person_view(person)


# ---- lockout (R-LOGIN-11): read and lifted through authz.verification only
def _lock_view(person: Person, states: list[verification.LockState]) -> dict:
    return {"person": person.uid, "methods": [
        {"method": s.method, "failures": s.failures, "limit": s.limit, "locked": s.locked_until is not None,
         "locked_until": rfc3339(s.locked_until)} for s in states]}


def lockout(svc, op: Operator, uid: str) -> dict:
    """Each method's consecutive failures today and its lock, as the login sees them (R-LOGIN-11)."""
    person = _person(svc, op, uid, "lockout.view")
    states = verification.lockout_state(svc, person.uid)
    _audit(svc, op, "lockout.view", target=f"person:{uid}", domain=person_domain(uid),
           locked=[s.method for s in states if s.locked_until])
    return _lock_view(person, states)


def unlock(svc, op: Operator, uid: str, *, methods: Iterable[str] | None = None, reason: str) -> dict:
    """Lift the person's lock of `methods` (default every method) through authz.verification.unlock, the
    password reset's own path (R-LOGIN-11, R-PWD-4); audited with the reason and what was locked."""
    person = _person(svc, op, uid, "lockout.unlock")
    reason = _reason(reason)
    chosen = tuple(methods) if methods else None
    with database.atomic():  # the database record of the locks and the audit row commit together
        lifted = verification.unlock(svc, person.uid, chosen)
        _audit(svc, op, "lockout.unlock", target=f"person:{uid}", domain=person_domain(uid), reason=reason,
               methods=list(chosen or ()) or "all", lifted=lifted)
    return {**_lock_view(person, verification.lockout_state(svc, person.uid)), "unlocked": lifted}


def _reason(reason) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not 1 <= len(text) <= 200:
        raise _bad("reason", "1-200 characters: why (a ticket number, the person's request)")
    return text


# ---- sessions (R-LOGIN-13): listed and ended through authz.sessions
def _domain_view(domain: str) -> str:
    """A session's domain with its USCC masked (person:<uid> is shown as it is)."""
    return ENT_PREFIX + mask_uscc(domain[len(ENT_PREFIX):]) if domain.startswith(ENT_PREFIX) else domain


def session_view(row: LoginSession) -> dict:
    return {"handle": row.handle, "client": row.client, "entry": row.entry, "domain_masked": _domain_view(row.domain),
            "identity_type": row.role, "login_at": rfc3339(row.login_at), "last_seen_at": rfc3339(row.last_seen_at),
            "ip": row.ip, "user_agent": row.user_agent}


def list_sessions(svc, op: Operator, uid: str) -> dict:
    """The person's open sessions, newest first (never an id: only the public handle)."""
    person = _person(svc, op, uid, "sessions.view")
    rows = sessions.list_for_person(svc, person)
    _audit(svc, op, "sessions.view", target=f"person:{uid}", domain=person_domain(uid), open=len(rows))
    return {"person": uid, "items": [session_view(r) for r in rows], "total": len(rows)}


# The person asked the desk to end it (the audit row names the operator and the reason)
END_REASON = sessions.EndReason.HELPDESK


def end_session(svc, op: Operator, uid: str, handle: str, *, reason: str) -> dict:
    """End one open session of the person by its handle (another person's handle: 404)."""
    person = _person(svc, op, uid, "sessions.end")
    reason = _reason(reason)
    row = next((r for r in sessions.list_for_person(svc, person) if r.handle == handle), None)
    if row is None:
        _audit(svc, op, "sessions.end", target=f"person:{uid}", domain=person_domain(uid), outcome="not_found",
               handle=handle, reason=reason)
        raise AuthzError("not_found")
    with database.atomic():
        ended = sessions.end(svc, row, END_REASON)
        _audit(svc, op, "sessions.end", target=f"person:{uid}", domain=person_domain(uid), reason=reason,
               handle=handle, ended=int(ended))
    return {"person": uid, "ended": int(ended)}


def end_all_sessions(svc, op: Operator, uid: str, *, reason: str) -> dict:
    """End every open session of the person."""
    person = _person(svc, op, uid, "sessions.end_all")
    reason = _reason(reason)
    with database.atomic():
        n = sessions.end_all_for_person(svc, person, END_REASON)
        _audit(svc, op, "sessions.end_all", target=f"person:{uid}", domain=person_domain(uid), reason=reason, ended=n)
    return {"person": uid, "ended": n}


# ---- enterprises and their bindings (read only: writes stay in authz.bindings)
def _enterprise(svc, op: Operator, uscc: str, action: str) -> Enterprise:
    if not isinstance(uscc, str) or not USCC_RE.fullmatch(uscc):
        raise _bad("uscc", "15-20 digits or capital letters")
    ent = Enterprise.get_or_none(Enterprise.uscc == uscc)
    if ent is None:
        _audit(svc, op, action, target=f"enterprise:{uscc}", outcome="not_found")
        raise AuthzError("not_found")
    return ent


def enterprise_view(ent: Enterprise) -> dict:
    return {"uscc_masked": mask_uscc(ent.uscc), "name_masked": mask_enterprise_name(ent.name), "kind": ent.kind,
            "province": ent.province, "tax_authority": ent.tax_authority, "realname_status": ent.realname_status,
            "created_at": rfc3339(ent.created_at)}


def get_enterprise(svc, op: Operator, uscc: str) -> dict:
    ent = _enterprise(svc, op, uscc, "enterprise.view")
    _audit(svc, op, "enterprise.view", target=f"enterprise:{uscc}", domain=enterprise_domain(uscc))
    return enterprise_view(ent)


def _paging(limit, offset) -> tuple[int, int]:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise _bad("limit", f"1-{MAX_LIMIT}")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise _bad("offset", f"0-{MAX_OFFSET}; export for more")
    return limit, offset


def binding_view(b: Binding, doc: Document | None) -> dict:
    return {"binding_id": b.id, "person": b.person.uid, "name_masked": mask_name(b.person.name),
            "doc_type": doc.doc_type if doc else None, "doc_number_masked": mask_doc(doc.doc_number) if doc else None,
            "identity_type": b.role, "state": b.state, "enabled": bool(b.enabled), "origin": b.origin,
            "initiated_by": b.initiated_by, "functions": b.functions,
            "valid_until": b.valid_until.isoformat() if isinstance(b.valid_until, dt.date) else b.valid_until,
            "created_at": rfc3339(b.created_at), "decided_at": rfc3339(b.decided_at),
            "updated_at": rfc3339(b.updated_at)}


def enterprise_bindings(svc, op: Operator, uscc: str, *, view: str = "all", state: str | None = None,
                        identity_type: str | None = None, limit: int = 50, offset: int = 0) -> dict:
    """The enterprise's bindings, live (pending, active) and history (deleted, withdrawn, refused, ended,
    R-BIND-12, hidden ones included: hiding is the account centre's view), newest first."""
    ent = _enterprise(svc, op, uscc, "bindings.view")
    if view not in BINDING_VIEWS:
        raise _bad("view", "one of " + ", ".join(BINDING_VIEWS))
    states = BINDING_VIEWS[view]
    if state is not None:
        if state not in states:
            raise _bad("state", "one of " + ", ".join(states))
        states = (state,)
    limit, offset = _paging(limit, offset)
    q = (Binding.select(Binding, Person).join(Person).where((Binding.enterprise == ent) & Binding.state.in_(states)))
    if identity_type is not None:
        if not TOKEN_RE.fullmatch(identity_type or ""):
            raise _bad("identity_type", "an identity type")
        q = q.where(Binding.role == identity_type)
    total = q.count()
    rows = list(q.order_by(Binding.updated_at.desc(), Binding.id.desc()).limit(limit).offset(offset))
    docs = primary_documents(r.person_id for r in rows)
    _audit(svc, op, "bindings.view", target=f"enterprise:{uscc}", domain=enterprise_domain(uscc), view=view,
           state=state, identity_type=identity_type, total=total)
    return {"total": total, "limit": limit, "offset": offset,
            "items": [binding_view(b, docs.get(b.person_id)) for b in rows]}


# ---- the audit and login logs: one filter set, searched (paged) or exported (streamed)
@dataclass(frozen=True)
class LogFilter:
    """Allow-listed filters of a log search or export; `since` / `until` epoch seconds (default: the last
    month up to now, R-LOG-1)."""
    since: float
    until: float
    person: str | None = None
    enterprise: str | None = None
    action: str | None = None  # audit: an action or action prefix
    entry: str | None = None  # logins
    step: str | None = None  # logins
    outcome: str | None = None

    def detail(self) -> dict:
        return {k: v for k, v in {"since": rfc3339(self.since), "until": rfc3339(self.until), "person": self.person,
                                  "enterprise": mask_uscc(self.enterprise) if self.enterprise else None,
                                  "action": self.action, "entry": self.entry, "step": self.step,
                                  "outcome": self.outcome}.items() if v is not None}


def log_filter(svc, kind: str, *, since: float | None = None, until: float | None = None, person: str | None = None,
               enterprise: str | None = None, action: str | None = None, entry: str | None = None,
               step: str | None = None, outcome: str | None = None) -> LogFilter:
    """Check every filter against its allow-list or alphabet (never passed to SQL unchecked)."""
    if kind not in KINDS:
        raise _bad("kind", "audit or logins")
    if person is not None and not PERSON_UID_RE.fullmatch(person if isinstance(person, str) else ""):
        raise _bad("person", "a person id p-…")
    if enterprise is not None and not USCC_RE.fullmatch(enterprise if isinstance(enterprise, str) else ""):
        raise _bad("enterprise", "a USCC: 15-20 digits or capital letters")
    if kind == "audit":
        if entry is not None or step is not None:
            raise _bad("entry" if entry is not None else "step", "login-log filters only")
        if action is not None and not ACTION_RE.fullmatch(action if isinstance(action, str) else ""):
            raise _bad("action", "an action or action prefix: lower-case letters, digits, _ .")
    else:
        if action is not None:
            raise _bad("action", "audit-log filter only; logins filter by entry, step and outcome")
        if entry is not None and entry not in LOGIN_ENTRIES:
            raise _bad("entry", "one of " + ", ".join(LOGIN_ENTRIES))
        if step is not None and step not in LOGIN_STEPS:
            raise _bad("step", "one of " + ", ".join(LOGIN_STEPS))
    if outcome is not None and not TOKEN_RE.fullmatch(outcome if isinstance(outcome, str) else ""):
        raise _bad("outcome", "ok or an error code")
    now = svc.clock.time()  # nothing is logged before 1970 or after now: the window is clamped to that
    lo = start_of_day_epoch(month_before(svc.clock.today())) if since is None else max(0.0, float(since))
    hi = now if until is None else min(now, float(until))
    if lo > hi:
        raise AuthzError(E_RANGE)
    return LogFilter(lo, hi, person, enterprise, action, entry, step, outcome)


def _audit_query(f: LogFilter):
    q = AuditLog.select().where((AuditLog.at >= f.since) & (AuditLog.at <= f.until))
    if f.person:
        targets = [f.person, f"person:{f.person}"] + [
            f"binding:{b.id}" for b in Binding.select(Binding.id).join(Person).where(Person.uid == f.person)]
        q = q.where((AuditLog.actor == f.person) | AuditLog.target.in_(targets)
                    | (AuditLog.domain == person_domain(f.person)))
    if f.enterprise:
        ent = Enterprise.get_or_none(Enterprise.uscc == f.enterprise)
        targets = [f"enterprise:{f.enterprise}"] + ([f"enterprise:{ent.id}"] if ent else [])
        q = q.where((AuditLog.domain == enterprise_domain(f.enterprise)) | AuditLog.target.in_(targets))
    if f.action:
        q = q.where((AuditLog.action == f.action) | AuditLog.action.startswith(f.action + "."))
    if f.outcome:
        q = q.where(AuditLog.outcome == f.outcome)
    return q


def _login_query(f: LogFilter):
    q = LoginLog.select(LoginLog, Person.uid).join(Person, JOIN.LEFT_OUTER, on=(LoginLog.person == Person.id)) \
        .where((LoginLog.at >= f.since) & (LoginLog.at <= f.until))
    if f.person:
        q = q.where(Person.uid == f.person)
    if f.enterprise:
        q = q.where(LoginLog.uscc == f.enterprise)
    for field, value in ((LoginLog.entry, f.entry), (LoginLog.step, f.step), (LoginLog.outcome, f.outcome)):
        if value:
            q = q.where(field == value)
    return q


def _names(uids: set[str]) -> dict[str, str]:
    uids = {u for u in uids if u and u.startswith("p-")}
    return {p.uid: p.name for p in Person.select(Person.uid, Person.name).where(Person.uid.in_(uids))} if uids else {}


AUDIT_COLUMNS = ("id", "at", "actor", "actor_name_masked", "identity", "domain_masked", "action", "target",
                 "outcome", "request_id", "detail")
LOGIN_COLUMNS = ("id", "at", "entry", "account_type", "step", "factor", "person", "name_masked", "identity",
                 "uscc_masked", "ip", "outcome")


_ID_NUMBER_RE = re.compile(r"^[0-9]{15}$|^[0-9]{17}[0-9X]$")  # a resident ID number (15 or 18)
_USCC_OR_CODE_RE = re.compile(r"^[0-9A-Z]{15,20}$")  # a USCC, taxpayer id or non-resident code
_PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def mask_value(value):
    """What a writer put in an audit row, as the helpdesk may see it: every string that is a resident ID
    number, a phone, or a USCC / taxpayer code is masked, inside lists and objects too (writers mask what
    they know is personal; this catches what they did not, e.g. an agency's USCC)."""
    if isinstance(value, str):
        if _PHONE_RE.fullmatch(value):
            return mask_phone(value)
        if _ID_NUMBER_RE.fullmatch(value):
            return mask_doc(value)
        if _USCC_OR_CODE_RE.fullmatch(value):
            return mask_uscc(value)
        return value
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    return value


def _target_view(target: str) -> str:
    """An audit target with the identifier after its kind masked like a value (enterprise:<USCC>)."""
    kind, sep, ident = target.partition(":")
    return kind + sep + mask_value(ident) if sep else mask_value(target)


def _audit_row(r: AuditLog, names: dict[str, str]) -> dict:
    return {"id": r.id, "at": rfc3339(r.at), "actor": r.actor,
            "actor_name_masked": mask_name(names[r.actor]) if r.actor in names else None,
            "identity": r.identity, "domain_masked": _domain_view(r.domain), "action": r.action,
            "target": _target_view(r.target), "outcome": r.outcome, "request_id": r.request_id,
            "detail": mask_value(r.detail)}


def _login_row(r: LoginLog) -> dict:
    return {"id": r.id, "at": rfc3339(r.at), "entry": r.entry, "account_type": r.account_type, "step": r.step,
            "factor": r.factor, "person": r.person.uid if r.person_id else None,
            "name_masked": mask_name(r.person_name), "identity": r.identity, "uscc_masked": mask_uscc(r.uscc),
            "ip": r.ip, "outcome": r.outcome}


def _rows(kind: str, rows: list) -> list[dict]:
    if kind == "audit":
        names = _names({r.actor for r in rows})
        return [_audit_row(r, names) for r in rows]
    return [_login_row(r) for r in rows]


def _query(kind: str, f: LogFilter):
    return _audit_query(f) if kind == "audit" else _login_query(f)


def _model(kind: str):
    return AuditLog if kind == "audit" else LoginLog


def _target(f: LogFilter) -> tuple[str, str]:
    if f.person:
        return f"person:{f.person}", person_domain(f.person)
    if f.enterprise:
        return f"enterprise:{f.enterprise}", enterprise_domain(f.enterprise)
    return "", ""


def search(svc, op: Operator, kind: str, f: LogFilter, *, limit: int = 50, offset: int = 0) -> dict:
    """One page of the audit log (`kind` audit) or login log (logins), newest first, with the total."""
    limit, offset = _paging(limit, offset)
    q = _query(kind, f)
    m = _model(kind)
    total = q.count()
    rows = list(q.order_by(m.at.desc(), m.id.desc()).limit(limit).offset(offset))
    target, domain = _target(f)
    _audit(svc, op, f"{kind}.search", target=target, domain=domain, filters=f.detail(), total=total)
    return {"total": total, "limit": limit, "offset": offset, "since": rfc3339(f.since), "until": rfc3339(f.until),
            "items": _rows(kind, rows)}


def export(svc, op: Operator, kind: str, f: LogFilter, fmt: str) -> Iterator[str]:
    """Every matching row, newest first, as CSV (a header line first) or JSON lines: audited now, before
    the first row, and streamed lazily in keyset batches of BATCH rows (constant memory)."""
    if fmt not in FORMATS:
        raise _bad("format", "csv or jsonl")
    target, domain = _target(f)
    _audit(svc, op, f"{kind}.export", target=target, domain=domain, filters=f.detail(), format=fmt)
    return _stream(kind, f, fmt)


def _stream(kind: str, f: LogFilter, fmt: str) -> Iterator[str]:
    columns = AUDIT_COLUMNS if kind == "audit" else LOGIN_COLUMNS
    m = _model(kind)
    if fmt == "csv":
        yield _csv_line(columns)
    last = None
    while True:  # keyset on (at, id), the search's order: each batch starts after the last row sent
        q = _query(kind, f)
        if last is not None:
            q = q.where((m.at < last[0]) | ((m.at == last[0]) & (m.id < last[1])))
        batch = list(q.order_by(m.at.desc(), m.id.desc()).limit(BATCH))
        if not batch:
            return
        last = (batch[-1].at, batch[-1].id)
        rows = _rows(kind, batch)
        if fmt == "csv":
            yield "".join(_csv_line([_cell(r[c]) for c in columns]) for r in rows)
        else:
            yield "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in rows)
        if len(batch) < BATCH:
            return


def _csv_line(values) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A CSV cell: JSON for structures, "" for none, and a leading ' before what a spreadsheet would run
    as a formula (=, +, -, @, tab, CR)."""
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True) if isinstance(value, (dict, list)) else str(value)
    return "'" + text if text.startswith(_FORMULA) else text
