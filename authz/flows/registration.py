"""Natural-person registration (R-REG-1..8, R-PWD-1, R-USR-1, R-PHONE-6).

```
start (agreement accepted) -> identity -> basic_info --(hall-collected, same phone | hall code)--> done
                                              └──> face (tax app / IIT app scan) ──────────────> done
```
* identity: one of the eleven document types; the four offline-only types need a prior hall collection;
  a person already holding an account under that document is refused (no second account); a
  deregistered person may register again and gets their row back, bindings included (R-REG-8).
* basic_info: password twice (policy), optional username, phone proven by an SMS code of this flow;
  the phone is not checked for uniqueness: whoever answers the code takes it over (R-REG-4). The number
  is not proven yet, so a send needs a human check and counts on the flow's, the client's and the
  registration purpose's own budgets, never the holder's login quota; wrong codes count toward a lock
  of registration for that phone, never the holder's SMS login (issue 10 finding 6, codes.spend).
* A hall-collected person registering with the collected phone, or with a hall registration code,
  skips face verification (R-REG-3, R-REG-7); everyone else verifies their face through an app.
* On completion the person is at real-name level 4 (R-REG-5).
"""
from __future__ import annotations

from enum import Enum

from peewee import IntegrityError

from .. import accounts, audit, codes, verification
from ..credentials import E_USERNAME_TAKEN, check_policy, check_username
from ..db import database
from ..errors import AuthzError, code
from ..models import Document, Person
from ..vocab import Strength
from ..ports import ports_of
from . import base, hall

E_AGREEMENT = code("agreement_required")
E_ALREADY = code("already_registered")
E_OFFLINE = code("offline_collection_required")
E_PHONE = code("phone_invalid")
E_PHONE_CHANGED = code("phone_not_verified")


class RegState(str, Enum):
    IDENTITY = "identity"
    BASIC_INFO = "basic_info"
    FACE = "face"
    DONE = "done"


S = RegState
P = codes.Purpose.REGISTER
FACE = verification.names(at_least=Strength.BIOMETRIC)  # the face scans a registrant may use
MACHINE = base.Machine(base.FlowKind.REGISTRATION, RegState, {
    S.IDENTITY: {S.BASIC_INFO},
    S.BASIC_INFO: {S.FACE, S.DONE},
    S.FACE: {S.DONE},
}, terminal=frozenset({S.DONE}))


def start(svc, *, agreement: bool, overseas: bool = False) -> dict:
    """Accept the user agreement (personal-information consent + face-recognition service agreement)."""
    if agreement is not True:
        raise AuthzError(E_AGREEMENT)
    raw, flow = base.create(svc, MACHINE, S.IDENTITY, context={"overseas": bool(overseas),
                                                             "agreement_at": svc.clock.time()})
    return {"flow": raw, **view(flow)}


def submit_identity(svc, flow_id: str, *, name: str, doc_type: str, doc_number: str) -> dict:
    """Name, document type and number; gender and nationality are derived where the document tells."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.IDENTITY)
    number = hall.check_document(doc_type, doc_number)
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise AuthzError("validation_failed", errors={"name": ["1-100 characters"]})
    existing = accounts.person_by_document(doc_type, number)
    if existing is not None:
        if existing.status == "active" and (existing.registered or accounts.can_log_in(existing)):
            raise AuthzError(E_ALREADY)
        if existing.name != name:
            raise AuthzError(hall.E_NAME_MISMATCH)
    if not accounts.DOC_TYPES[doc_type].online and not (existing and existing.collected_offline):
        raise AuthzError(E_OFFLINE)
    flow = base.transition(svc, MACHINE, flow, S.BASIC_INFO, person=existing, context={
        "name": name, "doc_type": doc_type, "doc_number": number,
        **accounts.derived_from_document(doc_type, number)})
    return view(flow)


def send_code(svc, flow_id: str, phone: str, *, client: str | None = None, human_token: str | None = None) -> dict:
    """SMS code to the phone being registered: human check, flow / client caps, R-SMS-1 per phone for
    registration (codes.spend)."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.BASIC_INFO)
    if not accounts.PHONE_RE.fullmatch(phone or ""):
        raise AuthzError(E_PHONE)
    flow = base.update_context(svc, flow, phone=phone)
    return verification.begin(svc, purpose=P, factor_name="sms", offered=("sms",), flow_hash=flow.id_hash,
                              anonymous=True, phone=phone, client=client, human_token=human_token)


def submit_basic(svc, flow_id: str, *, password: str, confirm_password: str, phone: str, code: str,
                 username: str | None = None, registration_code: str | None = None) -> dict:
    """Password twice, phone with its code, optional username; then a shortcut or face verification."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.BASIC_INFO)
    ctx = flow.context or {}
    check_policy(password, svc.settings, confirm_password)
    if username:
        check_username(username)
        holder = Person.get_or_none(Person.username == username)
        if holder is not None and holder.id != flow.person_id:
            raise AuthzError(E_USERNAME_TAKEN)
    if phone != ctx.get("phone"):
        raise AuthzError(E_PHONE_CHANGED)
    verification.verify(svc, purpose=P, factor_name="sms", offered=("sms",), flow_hash=flow.id_hash, anonymous=True,
                        phone=phone, code=code)
    person = Person.get_by_id(flow.person_id) if flow.person_id else None
    shortcut = None
    if registration_code:
        if person is None:
            raise AuthzError(hall.E_HALL_CODE)
        hall.use_code(svc, person, registration_code)
        shortcut = "hall_code"
    elif person is not None and person.collected_offline and person.collected_phone == phone:
        shortcut = "hall_collected_phone"
    flow = base.update_context(svc, flow, password_hash=ports_of(svc).hasher.hash(password), username=username,
                               verified_phone=phone, shortcut=shortcut)
    if shortcut:
        return _finish(svc, flow)
    flow = base.transition(svc, MACHINE, flow, S.FACE)
    return view(flow)


def begin_face(svc, flow_id: str, app: str) -> dict:
    """A face-verification ticket for the tax app or the IIT app."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.FACE)
    out = verification.begin(svc, purpose=P, factor_name=app, flow_hash=flow.id_hash, offered=FACE, anonymous=True,
                             subject=face_subject(flow))
    base.update_context(svc, flow, factor=app)
    return out


def face_subject(flow) -> str:
    """Whose face the app must match: the registering person's document."""
    ctx = flow.context or {}
    if flow.person_id:
        return Person.get_by_id(flow.person_id).uid
    return f"doc:{ctx.get('doc_type')}:{ctx.get('doc_number')}"


def complete_face(svc, flow_id: str) -> dict:
    """Collect the confirmed face scan and finish (scan_pending while the app has not answered)."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, S.FACE)
    factor_name = (flow.context or {}).get("factor") or FACE[0]
    verification.verify(svc, purpose=P, factor_name=factor_name, flow_hash=flow.id_hash, offered=FACE, anonymous=True,
                        subject=face_subject(flow))
    flow = base.update_context(svc, flow, shortcut="face")
    return _finish(svc, flow)


def _finish(svc, flow) -> dict:
    """Create or reactivate the person at level 4, take over the phone, and close the flow, atomically."""
    try:
        return _create_person(svc, flow)
    except IntegrityError:
        # the username was free at basic_info but someone took it before this last step (R-USR-1): the
        # whole registration rolled back; the flow stays where it was
        if (flow.context or {}).get("username"):
            raise AuthzError(E_USERNAME_TAKEN) from None
        raise


def _create_person(svc, flow) -> dict:
    ctx = flow.context or {}
    now = svc.clock.time()
    with database.atomic():
        flow = base.transition(svc, MACHINE, flow, S.DONE)
        person = Person.get_by_id(flow.person_id) if flow.person_id else None
        fields = dict(registered=True, status="active", password_hash=ctx["password_hash"], must_change_password=False,
                      agreement_signed_at=ctx.get("agreement_at", now), updated_at=now,
                      overseas=bool(ctx.get("overseas")), username=ctx.get("username"))
        fields.update({k: ctx[k] for k in ("gender", "nationality") if k in ctx})
        if person is None:
            person = Person.create(uid=_new_uid(), name=ctx["name"], realname_level=4, created_at=now, **fields)
            Document.create(person=person, doc_type=ctx["doc_type"], doc_number=ctx["doc_number"], primary=True,
                            created_at=now)
        else:
            fields["realname_level"] = max(4, person.realname_level)
            if not fields["username"]:
                fields.pop("username")
            Person.update(**fields).where(Person.id == person.id).execute()
            person = Person.get_by_id(person.id)
        lost = accounts.take_over_phone(svc, person, ctx["verified_phone"], make_default=True)
        svc.changed("grant", f"{person.uid}|")  # an active person again: their bindings count again
        audit.record(svc, actor=person.uid, action="person.register", target=person.uid,
                     detail={"via": ctx.get("shortcut"), "phone_taken_from": lost})
    return {"state": S.DONE.value, "person": person.uid, "realname_level": person.realname_level,
            "verified_by": ctx.get("shortcut")}


def _new_uid() -> str:
    from ..ids import new_person_uid
    return new_person_uid()


def view(flow) -> dict:
    ctx = flow.context or {}
    out = {"kind": flow.kind, "state": flow.state, "expires_at": flow.expires_at}
    if flow.state in (S.BASIC_INFO.value, S.FACE.value):
        out.update(gender=ctx.get("gender"), nationality=ctx.get("nationality"))
    if flow.state == S.FACE.value:
        out["factors"] = list(FACE)
    return out


def load_view(svc, flow_id: str) -> dict:
    """The flow as the page shows it; a finished registration shows `done` (reloading the last page)."""
    return view(base.load(svc, MACHINE, flow_id, finished_ok=True))
