"""Step-up verification for the natural-person account centre: the stored flows of password change,
phone add / modify / delete, username change from enterprise business, deregistration, real-name
upgrade and document add share this one mechanism (R-PWD-3, R-PHONE-3..5, R-USR-1, R-INFO-3, R-RN-2,
R-DOC-1).

* Every operation is a stored flow (`flows.base`): its own kind and typed states, expiry, transitions
  through `base.transition` only, so a step cannot be skipped or replayed.
* A flow belongs to the person who started it and to the session that started it (the session row id,
  never the session token): another person's flow id, or the same person's from another session, is
  `flow_not_found`.
* SMS codes go through the one code process (`authz.codes`), bound to the flow's hash and to a purpose:
  phone operations use `Purpose.PHONE_CHANGE`, the others `Purpose.ACCOUNT`. A code issued for one flow
  (or purpose) verifies nothing in another.
* Face verification is an app scan ticket (`factors.app_scan`) for the flow, matched against the
  person's own uid; the tax app works without an app login, the IIT app needs one (R-LOGIN-8).
* Every factor is begun and checked through `authz.verification` (begin / verify): it refuses a factor
  the step does not offer, and counts failures of codes and faces toward the lockout of that method
  (R-SMS-2 -> R-LOGIN-11); no flow here branches on a factor's name.
"""
from __future__ import annotations

from enum import Enum

from .. import codes
from ..actor import Actor
from .. import verification
from ..errors import AuthzError, code
from ..factors.app_scan import TicketKind
from ..masking import mask_phone
from ..verification import Proof
from ..models import Flow, Person, Phone, ScanTicket
from ..vocab import Strength
from . import base

E_NO_PHONE = verification.E_NO_PHONE
E_FACTOR = verification.E_FACTOR
E_PERSON_GONE = code("person_inactive")

FACE_APPS = verification.names(at_least=Strength.BIOMETRIC)  # the face scans (tax app, IIT app)
SMS_OR_FACE = ("sms",) + FACE_APPS


class AccountFlowKind(str, Enum):
    """Kinds of the account-centre flows (stored in Flow.kind next to the login flows' kinds)."""
    PASSWORD_CHANGE = "ac_password"
    PHONE_CHANGE = "ac_phone"
    PHONE_DELETE = "ac_phone_delete"
    USERNAME = "ac_username"
    DEREGISTRATION = "ac_deregister"
    REALNAME = "ac_realname"
    DOCUMENT = "ac_document"


def person_of(actor: Actor) -> Person:
    """The actor's own person row; only an active person acts in the account centre."""
    p = Person.get_or_none(Person.uid == actor.uid)
    if p is None or p.status != "active":
        raise AuthzError(E_PERSON_GONE)
    return p


def default_phone(person: Person) -> str | None:
    """The person's default phone (R-PHONE-2: exactly one when there are phones)."""
    ph = (Phone.select().where((Phone.person == person) & (Phone.is_default == True))  # noqa: E712
          .order_by(Phone.id).first())
    return ph.number if ph else None


def start(svc, machine: base.Machine, actor: Actor, person: Person, state: Enum,
          context: dict | None = None) -> tuple[str, Flow]:
    """Open a flow of `machine` for the actor's person, bound to the actor's session."""
    ctx = {"session": actor.session_id, **(context or {})}
    return base.create(svc, machine, state, person=person, context=ctx)


def load(svc, machine: base.Machine, actor: Actor, flow_id: str) -> tuple[Flow, Person]:
    """The live flow if it is the actor's own (same person, same session); else flow_not_found."""
    flow = base.load(svc, machine, flow_id)
    person = person_of(actor)
    if flow.person_id != person.id or (flow.context or {}).get("session") != actor.session_id:
        raise AuthzError(base.E_FLOW_NOT_FOUND)
    return flow, person


MAX_ID = 2**31 - 1  # row ids are 32-bit integers on PostgreSQL


def row_id(value) -> int | None:
    """A client-supplied row id as an int in the column's range, else None (treated as not found)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return None
    return n if 1 <= n <= MAX_ID else None


def begin_factor(svc, flow: Flow, person: Person, factor_name: str, *, offered: tuple[str, ...],
                 purpose: codes.Purpose, phone: str | None = None) -> tuple[Flow, dict]:
    """Start the chosen factor through the one mechanism (a code to `phone`, or a face-scan ticket for the
    person); remembers which factor (and which phone) this flow waits for. Returns (flow, client view)."""
    # the session person's own phone: their own quota (R-SMS-1), as for a login
    out = verification.begin(svc, purpose=purpose, factor_name=factor_name, flow_hash=flow.id_hash, offered=offered,
                             person=person, subject=person.uid, phone=phone, proven=True)
    flow = base.update_context(svc, flow, factor=factor_name, factor_phone=phone if "phone" in out else None)
    if "phone" in out:
        out["phone"] = mask_phone(phone)
    return flow, out


def verify_factor(svc, flow: Flow, person: Person, factor_name: str, *, offered: tuple[str, ...],
                  purpose: codes.Purpose, code: str | None = None) -> str:
    """`verify`, returning only the factor name (for flows that record which factor was used)."""
    return verify(svc, flow, person, factor_name, offered=offered, purpose=purpose, code=code).factor


def verify(svc, flow: Flow, person: Person, factor_name: str, *, offered: tuple[str, ...],
           purpose: codes.Purpose, code: str | None = None) -> Proof:
    """Check the factor the flow is waiting for (the code, or collect the confirmed scan) through the one
    mechanism (lockout included); the Proof of what this person passed. scan_pending while the app has
    not answered."""
    ctx = flow.context or {}
    proof = verification.verify(svc, purpose=purpose, factor_name=factor_name, flow_hash=flow.id_hash,
                                offered=offered, person=person, code=code, begun=ctx.get("factor"))
    if proof.phone is not None and proof.phone != ctx.get("factor_phone"):
        raise AuthzError(codes.E_CODE_WRONG)  # defensive: the code must be the one sent for this step
    return proof


def scan_state(flow: Flow) -> str | None:
    """The newest face ticket's state for polling (waiting, confirmed, failed, consumed), or None."""
    t = (ScanTicket.select().where((ScanTicket.flow_hash == flow.id_hash) & (ScanTicket.kind == TicketKind.FACE.value))
         .order_by(ScanTicket.id.desc()).first())
    return t.state if t else None


def view(flow: Flow, person: Person, *, factors: tuple[str, ...] = (), **extra) -> dict:
    """What the client may see of a flow: kind, state, expiry, offered factors, the masked SMS target."""
    out = {"kind": flow.kind, "state": flow.state, "expires_at": flow.expires_at}
    if factors:
        out["factors"] = list(factors)
        if "sms" in factors:
            out["sms_phone"] = mask_phone(default_phone(person)) or None
    scan = scan_state(flow)
    if scan:
        out["scan"] = scan
    out.update(extra)
    return out
