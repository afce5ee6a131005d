"""Personal information in the account centre: the basic view (R-INFO-1, R-MASK-1) and its maintenance
(R-INFO-2, R-USR-1) [001 个人基本信息 / 个人信息维护, 003].

* The view is masked: name, document numbers and phones never leave in full; it carries the real-name
  level and the completeness of phone, email and address (the manual's 信息完整度).
* Username (R-USR-1): 6-20 letters or digits starting with a letter, case-sensitive, unique. Setting a
  first username is free; changing an existing one is allowed once per calendar year in Asia/Shanghai
  (the next change opens on 1 January). From enterprise business the change is confirmed by an SMS code
  to the default phone or a face scan [001]; from natural-person business it is not [003]. The database
  enforces both rules (`claim_username`: one conditional UPDATE, and the unique index), so concurrent
  requests get one winner and a 409 for the rest (issue 10 finding 10).

```
username (enterprise business): request -> verify --(SMS to the default phone | face scan)--> done
```
* Email (a login account for non-resident enterprises, R-LOGIN-6): a well-formed address, lower-cased;
  **Decision:** an address another person uses is refused, so an email login finds one person. Empty
  clears it.
* Name (natural person) and address: free text within limits. Document validity: "custom" (start and
  end) or "long-term" (start only), on one of the person's own documents (the primary by default).
Every change is audited without the new values of masked fields.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum

import peewee as pw

from .. import accounts, audit
from ..actor import Actor, require
from ..clock import SHANGHAI
from ..codes import Purpose
from ..credentials import E_USERNAME_TAKEN, check_username
from ..db import database
from ..enforcer import is_person_domain
from ..errors import AuthzError, code
from ..masking import mask_doc, mask_name, mask_phone
from ..models import Document, Person, Phone
from . import base, stepup

FUNCTION = "ac.person.info"
E_USERNAME_YEARLY = code("username_change_yearly")
E_USERNAME_SAME = code("username_unchanged")
E_EMAIL = code("email_invalid")
E_EMAIL_TAKEN = code("email_taken")
E_NAME = code("name_invalid")
E_ADDRESS = code("address_invalid")
E_VALIDITY = code("document_validity_invalid")
E_DOC_NOT_FOUND = code("document_not_found")
E_NOTHING = code("nothing_to_change")

FACTORS = stepup.SMS_OR_FACE


class UsernameState(str, Enum):
    VERIFY = "verify"
    DONE = "done"


U = UsernameState
USERNAME = base.Machine(stepup.AccountFlowKind.USERNAME, UsernameState, {U.VERIFY: {U.DONE}},
                        terminal=frozenset({U.DONE}))


# ---- R-INFO-1: the view
def document_view(d: Document) -> dict:
    t = accounts.DOC_TYPES.get(d.doc_type)
    return {"id": d.id, "doc_type": d.doc_type, "doc_type_name": t.zh if t else d.doc_type,
            "doc_number": mask_doc(d.doc_number), "primary": d.primary, "long_term": d.long_term,
            "valid_from": d.valid_from.isoformat() if d.valid_from else None,
            "valid_to": d.valid_to.isoformat() if d.valid_to else None}


def completeness(person: Person, has_phone: bool) -> dict:
    items = {"phone": has_phone, "email": bool(person.email), "address": bool(person.address)}
    return {"items": items, "percent": round(100 * sum(items.values()) / len(items))}


def view(svc, actor: Actor) -> dict:
    """Masked basic information, documents, phones, real-name level and completeness."""
    require(svc, actor, FUNCTION, "view")
    person = stepup.person_of(actor)
    docs = Document.select().where(Document.person == person).order_by(Document.primary.desc(), Document.id)
    phones = list(Phone.select().where(Phone.person == person).order_by(Phone.is_default.desc(), Phone.id))
    return {
        "person": person.uid,
        "name": mask_name(person.name),
        "gender": person.gender or None,
        "nationality": person.nationality or None,
        "overseas": person.overseas,
        "username": person.username,
        "username_next_change": _next_change(svc, person),
        "email": person.email or None,
        "address": person.address or None,
        "realname_level": person.realname_level,
        "documents": [document_view(d) for d in docs],
        "phones": [{"id": p.id, "phone": mask_phone(p.number), "is_default": p.is_default} for p in phones],
        "completeness": completeness(person, bool(phones)),
    }


# ---- R-USR-1: username
def _year(t: float) -> int:
    return dt.datetime.fromtimestamp(t, tz=SHANGHAI).year


def _next_change(svc, person: Person) -> str | None:
    """The first day a change is allowed again (None: allowed now)."""
    if person.username and person.username_changed_at is not None:
        year = _year(person.username_changed_at)
        if year >= svc.clock.local().year:
            return dt.date(year + 1, 1, 1).isoformat()
    return None


def _check_username(svc, person: Person, username: str) -> str:
    check_username(username)
    if username == person.username:
        raise AuthzError(E_USERNAME_SAME)
    nxt = _next_change(svc, person)
    if nxt:
        raise AuthzError(E_USERNAME_YEARLY, next=nxt, errors={"next_change": nxt})
    holder = Person.get_or_none(Person.username == username)
    if holder is not None and holder.id != person.id:
        raise AuthzError(E_USERNAME_TAKEN)
    return username


def needs_confirmation(actor: Actor) -> bool:
    """R-USR-1: changes made from enterprise (or agent) business are confirmed by SMS or face [001]."""
    return not is_person_domain(actor.domain)


def change_username(svc, actor: Actor, username: str) -> dict:
    """Set or change the username: at once from personal business, after a verification otherwise."""
    require(svc, actor, FUNCTION, "edit")
    person = stepup.person_of(actor)
    _check_username(svc, person, username)
    if needs_confirmation(actor):
        raw, flow = stepup.start(svc, USERNAME, actor, person, U.VERIFY, {"username": username})
        return {"flow": raw, **stepup.view(flow, person, factors=FACTORS)}
    return _apply_username(svc, actor, person, username, "none")


def username_flow(svc, actor: Actor, flow_id: str) -> dict:
    require(svc, actor, FUNCTION, "edit")
    flow, person = stepup.load(svc, USERNAME, actor, flow_id)
    return stepup.view(flow, person, factors=FACTORS)


def begin_username_factor(svc, actor: Actor, flow_id: str, factor_name: str) -> dict:
    require(svc, actor, FUNCTION, "edit")
    flow, person = stepup.load(svc, USERNAME, actor, flow_id)
    base.require(USERNAME, flow, U.VERIFY)
    _, out = stepup.begin_factor(svc, flow, person, factor_name, offered=FACTORS, purpose=Purpose.ACCOUNT,
                                 phone=stepup.default_phone(person))
    return out


def verify_username_factor(svc, actor: Actor, flow_id: str, factor_name: str, code: str | None = None) -> dict:
    require(svc, actor, FUNCTION, "edit")
    flow, person = stepup.load(svc, USERNAME, actor, flow_id)
    base.require(USERNAME, flow, U.VERIFY)
    used = stepup.verify_factor(svc, flow, person, factor_name, offered=FACTORS, purpose=Purpose.ACCOUNT, code=code)
    return _apply_username(svc, actor, person, flow.context["username"], used, flow=flow)


def _apply_username(svc, actor: Actor, person: Person, username: str, verified_by: str, *, flow=None) -> dict:
    try:
        return _apply_username_tx(svc, actor, person, username, verified_by, flow)
    except pw.IntegrityError:  # the unique index: a concurrent request took the name first
        raise AuthzError(E_USERNAME_TAKEN) from None


def _year_start(svc) -> float:
    """Epoch seconds of 1 January 00:00 (Asia/Shanghai) of the current year: a change before it is last year's."""
    return dt.datetime(svc.clock.local().year, 1, 1, tzinfo=SHANGHAI).timestamp()


def claim_username(svc, person: Person, username: str) -> bool:
    """R-USR-1 enforced by the database in one statement (issue 10 finding 10): write the name only if the
    row still allows it. A first username only while the person has none (it does not use the year's
    change); a change only while the username is still the one read and no change happened since this
    year's 1 January. Uniqueness is the unique index (IntegrityError). False: a concurrent request got
    there first -- re-read and check again."""
    now = svc.clock.time()
    if person.username is None:
        guard = Person.username.is_null()
        changed_at = person.username_changed_at
    else:
        guard = ((Person.username == person.username)
                 & (Person.username_changed_at.is_null() | (Person.username_changed_at < _year_start(svc))))
        changed_at = now
    return (Person.update(username=username, username_changed_at=changed_at, updated_at=now)
            .where((Person.id == person.id) & guard).execute()) == 1


def _apply_username_tx(svc, actor: Actor, person: Person, username: str, verified_by: str, flow) -> dict:
    with database.atomic():
        if flow is not None:
            base.transition(svc, USERNAME, flow, U.DONE)
        # On SQLite the transaction holds the write lock (authz/db.py), so the first read is current; on
        # PostgreSQL (read committed) a concurrent winner shows up as a refused claim, and the re-read
        # sees it: the check then gives the precise answer (changed this year, taken, unchanged). A
        # claim refused again means the row keeps moving: answer as for this year's change.
        for _ in range(3):
            person = Person.get_by_id(person.id)
            _check_username(svc, person, username)
            if claim_username(svc, person, username):
                break
        else:
            nxt = dt.date(svc.clock.local().year + 1, 1, 1).isoformat()
            raise AuthzError(E_USERNAME_YEARLY, next=nxt, errors={"next_change": nxt})
        audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action="person.username.change",
                     target=f"person:{person.uid}",
                     detail={"first": person.username is None, "verified_by": verified_by})
    person = Person.get_by_id(person.id)
    return {"state": U.DONE.value, "username": person.username, "username_next_change": _next_change(svc, person)}


# ---- R-INFO-2: email, name, address
def update(svc, actor: Actor, *, email: str | None = None, name: str | None = None,
           address: str | None = None) -> dict:
    """Change any of email, name and address (None: unchanged; "" clears email or address)."""
    require(svc, actor, FUNCTION, "edit")
    person = stepup.person_of(actor)
    changes: dict = {}
    if email is not None:
        email = email.strip().lower()
        if email and not accounts.EMAIL_RE.fullmatch(email):
            raise AuthzError(E_EMAIL)
        if email and Person.select().where((Person.email == email) & (Person.id != person.id)).exists():
            raise AuthzError(E_EMAIL_TAKEN)
        changes["email"] = email
    if name is not None:
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise AuthzError(E_NAME)
        changes["name"] = name
    if address is not None:
        address = address.strip()
        if len(address) > 300:
            raise AuthzError(E_ADDRESS)
        changes["address"] = address
    if not changes:
        raise AuthzError(E_NOTHING)
    with database.atomic():
        Person.update(updated_at=svc.clock.time(), **changes).where(Person.id == person.id).execute()
        audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action="person.info.update",
                     target=f"person:{person.uid}", detail={"fields": sorted(changes)})
    return view(svc, actor)


def set_document_validity(svc, actor: Actor, *, long_term: bool, valid_from: dt.date,
                          valid_to: dt.date | None = None, document_id=None) -> dict:
    """"custom": start and end; "long-term": start only (R-INFO-2)."""
    require(svc, actor, FUNCTION, "edit")
    person = stepup.person_of(actor)
    q = Document.select().where(Document.person == person)
    if document_id is not None:
        did = stepup.row_id(document_id)
        if did is None:
            raise AuthzError(E_DOC_NOT_FOUND)
        q = q.where(Document.id == did)
    doc = q.order_by(Document.primary.desc(), Document.id).first()
    if doc is None:
        raise AuthzError(E_DOC_NOT_FOUND)
    check_validity(svc, long_term, valid_from, valid_to)
    with database.atomic():
        Document.update(long_term=bool(long_term), valid_from=valid_from,
                        valid_to=None if long_term else valid_to).where(Document.id == doc.id).execute()
        audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain,
                     action="person.document.validity", target=f"person:{person.uid}",
                     detail={"document": doc.id, "long_term": bool(long_term)})
    return document_view(Document.get_by_id(doc.id))


def check_validity(svc, long_term: bool, valid_from, valid_to) -> None:
    """Validity rules shared with adding a document."""
    if not isinstance(valid_from, dt.date):
        raise AuthzError(E_VALIDITY, reason="valid_from", errors={"valid_from": ["required"]})
    if valid_from > svc.clock.today():
        raise AuthzError(E_VALIDITY, reason="valid_from", errors={"valid_from": ["not after today"]})
    if long_term:
        if valid_to is not None:
            raise AuthzError(E_VALIDITY, reason="valid_to", errors={"valid_to": ["none for long-term"]})
    elif not isinstance(valid_to, dt.date) or valid_to <= valid_from:
        raise AuthzError(E_VALIDITY, reason="valid_to", errors={"valid_to": ["after valid_from"]})
