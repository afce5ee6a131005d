"""Personal documents (个人证件管理, R-DOC-1) [000, 003].

```
add: start (name, type, number, validity) -> verify --(face scan through the tax app or the IIT app)--> done
```
A person sees their documents (numbers masked, R-MASK-1) and adds another of the seven types that may
register online (R-REG-2), after a face scan. The name must be the person's; a document already held by
another person is refused — the point of the function is that one person never holds two accounts — and
the database's unique (type, number) index keeps it so under concurrent requests.
"""
from __future__ import annotations

import datetime as dt
from enum import Enum

import peewee as pw

from .. import accounts, audit
from ..actor import Actor, require
from ..codes import Purpose
from ..db import database
from ..errors import AuthzError, code
from ..models import Document
from . import base, stepup
from .hall import E_NAME_MISMATCH, check_document
from .personal_info import check_validity, document_view

FUNCTION = "ac.person.documents"
FACTORS = stepup.FACE_APPS
ONLINE_TYPES = tuple(code for code, t in accounts.DOC_TYPES.items() if t.online)
E_NOT_ONLINE = code("document_type_not_online")
E_HELD_BY_OTHER = code("document_held_by_other")
E_ALREADY_MINE = code("document_already_yours")


class DocumentState(str, Enum):
    VERIFY = "verify"
    DONE = "done"


S = DocumentState
MACHINE = base.Machine(stepup.AccountFlowKind.DOCUMENT, DocumentState, {S.VERIFY: {S.DONE}},
                       terminal=frozenset({S.DONE}))


def list_documents(svc, actor: Actor) -> dict:
    require(svc, actor, FUNCTION, "view")
    person = stepup.person_of(actor)
    docs = Document.select().where(Document.person == person).order_by(Document.primary.desc(), Document.id)
    return {"documents": [document_view(d) for d in docs], "addable_types": [
        {"code": c, "name_zh": accounts.DOC_TYPES[c].zh, "name_en": accounts.DOC_TYPES[c].en} for c in ONLINE_TYPES]}


def _check_free(person, doc_type: str, number: str) -> None:
    holder = Document.get_or_none((Document.doc_type == doc_type) & (Document.doc_number == number))
    if holder is not None:
        raise AuthzError(E_ALREADY_MINE if holder.person_id == person.id else E_HELD_BY_OTHER)


def start(svc, actor: Actor, *, name: str, doc_type: str, doc_number: str, long_term: bool = False,
          valid_from: dt.date | None = None, valid_to: dt.date | None = None) -> dict:
    """Check the document and open the face-scan step."""
    require(svc, actor, FUNCTION, "add")
    person = stepup.person_of(actor)
    if doc_type in accounts.DOC_TYPES and doc_type not in ONLINE_TYPES:
        raise AuthzError(E_NOT_ONLINE)
    number = check_document(doc_type, doc_number)
    if (name or "").strip() != person.name:
        raise AuthzError(E_NAME_MISMATCH)
    if valid_from is not None or valid_to is not None:
        check_validity(svc, long_term, valid_from, valid_to)
    _check_free(person, doc_type, number)
    raw, flow = stepup.start(svc, MACHINE, actor, person, S.VERIFY, {
        "doc_type": doc_type, "doc_number": number, "long_term": bool(long_term),
        "valid_from": valid_from.isoformat() if valid_from else None,
        "valid_to": valid_to.isoformat() if valid_to else None})
    return {"flow": raw, **stepup.view(flow, person, factors=FACTORS)}


def load_view(svc, actor: Actor, flow_id: str) -> dict:
    require(svc, actor, FUNCTION, "add")
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    return stepup.view(flow, person, factors=FACTORS)


def begin_factor(svc, actor: Actor, flow_id: str, app: str) -> dict:
    require(svc, actor, FUNCTION, "add")
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    _, out = stepup.begin_factor(svc, flow, person, app, offered=FACTORS, purpose=Purpose.ACCOUNT)
    return out


def verify_factor(svc, actor: Actor, flow_id: str, app: str, code: str | None = None) -> dict:
    """Collect the confirmed face scan (`code` is unused) and add the document (still refused if someone took it meanwhile)."""
    require(svc, actor, FUNCTION, "add")
    flow, person = stepup.load(svc, MACHINE, actor, flow_id)
    base.require(MACHINE, flow, S.VERIFY)
    used = stepup.verify_factor(svc, flow, person, app, offered=FACTORS, purpose=Purpose.ACCOUNT)
    ctx = flow.context
    try:
        with database.atomic():
            base.transition(svc, MACHINE, flow, S.DONE)
            _check_free(person, ctx["doc_type"], ctx["doc_number"])
            doc = Document.create(person=person, doc_type=ctx["doc_type"], doc_number=ctx["doc_number"],
                                  long_term=ctx["long_term"],
                                  valid_from=dt.date.fromisoformat(ctx["valid_from"]) if ctx["valid_from"] else None,
                                  valid_to=dt.date.fromisoformat(ctx["valid_to"]) if ctx["valid_to"] else None,
                                  primary=False, created_at=svc.clock.time())
            audit.record(svc, actor=person.uid, identity=actor.role, domain=actor.domain, action="person.document.add",
                         target=f"person:{person.uid}", detail={"doc_type": doc.doc_type, "verified_by": used})
    except pw.IntegrityError:
        raise AuthzError(E_HELD_BY_OTHER) from None
    return {"state": S.DONE.value, "document": document_view(doc)}
