"""QR login (R-LOGIN-7): the web page opens a flow and shows its ticket; a person logged in on the tax app
(or the IIT app) scans and confirms; the page's next poll gets a new session with the app's business
type: enterprise stays enterprise, personal stays personal, and an IIT-app scan is always personal.

```
waiting ──(app confirms the current ticket, page polls)──> done
   └── the ticket expires after qr_ticket_seconds; `refresh` shows a new one (the old one dies)
```
"""
from __future__ import annotations

from enum import Enum

from .. import loginlog, sessions
from ..db import database
from ..errors import AuthzError, code
from ..factors.app_scan import TicketKind, TicketState, confirm_face, confirm_login, new_ticket
from ..ids import enterprise_domain, person_domain
from ..models import Person, ScanTicket
from ..sessions import Entry, Identity
from . import base


E_APP_SESSION = code("app_session_required")


class QrState(str, Enum):
    WAITING = "waiting"
    DONE = "done"


MACHINE = base.Machine(base.FlowKind.QR_LOGIN, QrState, {QrState.WAITING: {QrState.DONE}},
                       terminal=frozenset({QrState.DONE}))


def start(svc, *, client: str = "browser", ip: str = "") -> dict:
    """Open a QR-login flow; returns the flow id (kept by the page) and the ticket (drawn as the QR)."""
    raw, flow = base.create(svc, MACHINE, QrState.WAITING, context={"client": client, "ip": ip})
    t = new_ticket(svc, TicketKind.LOGIN, flow.id_hash)
    return {"flow": raw, "state": QrState.WAITING.value, "ticket": t.ticket, "ticket_expires_at": t.expires_at,
            "expires_at": flow.expires_at}


def refresh(svc, flow_id: str) -> dict:
    """A new ticket for the same flow (the page's "refresh" on an expired QR)."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, QrState.WAITING)
    t = new_ticket(svc, TicketKind.LOGIN, flow.id_hash)
    return {"flow": flow_id, "state": QrState.WAITING.value, "ticket": t.ticket, "ticket_expires_at": t.expires_at,
            "expires_at": flow.expires_at}


def poll(svc, flow_id: str) -> tuple[dict, str | None, object]:
    """The page asks: waiting, expired (refresh), or done with a session (returned once)."""
    flow = base.load(svc, MACHINE, flow_id)
    base.require(MACHINE, flow, QrState.WAITING)
    t = (ScanTicket.select().where((ScanTicket.flow_hash == flow.id_hash) & (ScanTicket.kind == TicketKind.LOGIN.value))
         .order_by(ScanTicket.id.desc()).first())
    now = svc.clock.time()
    if t is None or t.state == TicketState.WAITING.value:
        expired = t is None or t.expires_at <= now
        return {"flow": flow_id, "state": "expired" if expired else "waiting",
                "ticket_expires_at": t.expires_at if t else None}, None, None
    if t.state != TicketState.CONFIRMED.value:
        raise AuthzError("ticket_used")
    b = t.business or {}
    ident = Identity(Entry(b.get("entry", "personal")), b["domain"], b["role"], binding_id=b.get("binding_id"),
                     agreement=b.get("agreement"), project=b.get("project"))
    person = Person.get(Person.uid == t.person_uid)
    ctx = flow.context or {}
    with database.atomic():
        n = (ScanTicket.update(state=TicketState.CONSUMED.value)
             .where((ScanTicket.id == t.id) & (ScanTicket.state == TicketState.CONFIRMED.value)).execute())
        if n != 1:
            raise AuthzError("ticket_used")
        base.transition(svc, MACHINE, flow, QrState.DONE)
        raw, row = sessions.create(svc, person, ident, client=ctx.get("client", "browser"), ip=ctx.get("ip", ""),
                                   factors=("qr",))
    loginlog.record(svc, entry=ident.entry.value, step="qr", factor=t.app or "", account_type="qr", person=person,
                    identity=ident.role, uscc=ident.domain[4:] if ident.domain.startswith("ent:") else "",
                    ip=ctx.get("ip", ""), outcome="ok")
    return {"flow": flow_id, "state": QrState.DONE.value, "identity": {
        "entry": ident.entry.value, "domain": ident.domain, "identity_type": ident.role}}, raw, row


def _check_business(svc, uid: str, business: dict) -> None:
    """The person exists, is active and holds the identity the app claims (checked with the enforcer)."""
    person = Person.get_or_none(Person.uid == uid)
    ident = Identity(Entry(business.get("entry", "personal")), business.get("domain", ""), business.get("role", ""),
                     binding_id=business.get("binding_id"), agreement=business.get("agreement"))
    if person is None or person.status != "active" or not sessions.live(svc, uid, ident):
        raise AuthzError(sessions.E_IDENTITY_NOT_HELD)


def business_of_session(row) -> dict:
    """What an app session carries over to the web (its entry, domain, identity and origin)."""
    return {"entry": row.entry, "domain": row.domain, "role": row.role, "binding_id": row.binding_id,
            "agreement": row.agreement, "project": row.project}


def confirm_with_app_session(svc, ticket: str, app: str, app_session) -> dict:
    """The app, authenticated by its own app session (bearer, client=app), confirms a QR-login ticket.
    A browser session confirms nothing, and a face ticket is unknown here (issue 10 finding 2)."""
    if app_session.client != "app":
        raise AuthzError(E_APP_SESSION)
    business = business_of_session(app_session)
    if app == "iitapp":
        uid = app_session.person.uid
        business = {"entry": "personal", "domain": person_domain(uid), "role": "self"}
    _check_business(svc, app_session.person.uid, business)
    t = confirm_login(svc, ticket, app=app, person_uid=app_session.person.uid, business=business)
    return {"ticket": t.ticket, "state": t.state}


def confirm_by_callback(svc, app: str, payload: dict) -> dict:
    """Production: the app's back end reports the scan (already signature-checked by the API layer).
    payload: {ticket, person, entry: personal|enterprise, uscc?, identity_type?} or for a face ticket
    {ticket, face_ok, person?, app_login?}."""
    t = ScanTicket.get_or_none(ScanTicket.ticket == payload.get("ticket", ""))
    if t is None:
        raise AuthzError("ticket_not_found")
    if t.kind == TicketKind.FACE.value:
        t = confirm_face(svc, t.ticket, app=app, person_uid=payload.get("person"),
                         face_ok=bool(payload.get("face_ok")), app_login=bool(payload.get("app_login")))
        return {"ticket": t.ticket, "state": t.state}
    uid = payload.get("person") or ""
    entry = payload.get("entry", "personal")
    if entry == "personal" or app == "iitapp":
        business = {"entry": "personal" if app == "iitapp" else entry, "domain": person_domain(uid), "role": "self"}
        if app == "iitapp" and entry != "personal":
            business["entry"] = entry  # refused by confirm(): the IIT app is personal only
    else:
        business = {"entry": entry, "domain": enterprise_domain(payload.get("uscc", "")),
                    "role": payload.get("identity_type", "")}
    if not (app == "iitapp" and entry != "personal"):
        _check_business(svc, uid, business)
    t = confirm_login(svc, t.ticket, app=app, person_uid=uid, business=business)
    return {"ticket": t.ticket, "state": t.state}
