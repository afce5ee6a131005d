"""App scan factor (face verification through the tax app or the IIT app) and the confirmation of scan
tickets, shared by face verification and QR login (R-LOGIN-7, R-LOGIN-8).

A ticket is public (it is drawn in the QR image) and unlocks nothing by itself: it belongs to the flow
that created it, only that flow can consume it, and it is confirmed at most once (a conditional UPDATE
on state 'waiting'). Confirmations come from the development simulator (`authz dev scan`) or from the
apps' signed callbacks; both reach `confirm_face` / `confirm_login` below, one per ticket kind, and
neither accepts the other kind's ticket (issue 10 finding 2). A logged-in app session may confirm a
QR-login ticket (qr_login.confirm_with_app_session) and nothing else.
"""
from __future__ import annotations

import secrets
from enum import Enum

from ..db import database
from ..errors import AuthzError, code
from ..models import ScanTicket
from ..ports.apps import APPS
from ..vocab import Method, Strength

E_PENDING = code("scan_pending")
E_TICKET_EXPIRED = code("ticket_expired")
E_TICKET_USED = code("ticket_used")
E_TICKET_UNKNOWN = code("ticket_not_found")
E_FACE = code("face_mismatch")
E_APP_LOGIN = code("app_login_required")
E_APP_MISMATCH = code("app_mismatch")
E_IIT_PERSONAL = code("iitapp_personal_only")


class TicketKind(str, Enum):
    FACE = "face"
    LOGIN = "login"


class TicketState(str, Enum):
    WAITING = "waiting"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    CONSUMED = "consumed"


def new_ticket(svc, kind: TicketKind, flow_hash: str, *, subject: str = "", app: str | None = None) -> ScanTicket:
    """A fresh ticket for a flow; earlier waiting tickets of the flow stop being confirmable."""
    now = svc.clock.time()
    with database.atomic():
        (ScanTicket.update(expires_at=now)
         .where((ScanTicket.flow_hash == flow_hash) & (ScanTicket.state == TicketState.WAITING.value)).execute())
        return ScanTicket.create(ticket="qr_" + secrets.token_urlsafe(18), kind=TicketKind(kind).value,
                                 flow_hash=flow_hash, subject=subject, app=app, created_at=now,
                                 expires_at=now + svc.settings.qr_ticket_seconds)


def _waiting(svc, ticket: str, kind: TicketKind, app: str) -> ScanTicket:
    """The waiting, unexpired ticket of exactly this kind, or why not. A ticket of the other kind is
    unknown here: a face ticket is never confirmed where a QR login is, and the reverse."""
    if app not in APPS:
        raise AuthzError("app_unknown")
    row = ScanTicket.get_or_none((ScanTicket.ticket == (ticket or "")) & (ScanTicket.kind == kind.value))
    if row is None:
        raise AuthzError(E_TICKET_UNKNOWN)
    if row.state != TicketState.WAITING.value:
        raise AuthzError(E_TICKET_USED)
    if row.expires_at <= svc.clock.time():
        raise AuthzError(E_TICKET_EXPIRED)
    return row


def _settle(row: ScanTicket, changes: dict) -> ScanTicket:
    """Confirm once: a conditional UPDATE on state 'waiting' (a concurrent second report loses)."""
    n = (ScanTicket.update(**changes)
         .where((ScanTicket.id == row.id) & (ScanTicket.state == TicketState.WAITING.value)).execute())
    if n != 1:
        raise AuthzError(E_TICKET_USED)
    return ScanTicket.get_by_id(row.id)


def confirm_face(svc, ticket: str, *, app: str, person_uid: str | None = None, face_ok: bool = True,
                 app_login: bool = False) -> ScanTicket:
    """The app's face check of a FACE ticket: did the face match the ticket's subject (R-LOGIN-8: the IIT
    app needs an app login first; the tax app does not)? Only the app back end's signed callback and the
    development simulator call this (both through qr_login.confirm_by_callback): never a user session."""
    row = _waiting(svc, ticket, TicketKind.FACE, app)
    if row.app and row.app != app:
        raise AuthzError(E_APP_MISMATCH)
    if app == "iitapp" and not app_login:
        raise AuthzError(E_APP_LOGIN)
    matched = face_ok and (person_uid is None or person_uid == row.subject)
    return _settle(row, {"app": app, "confirmed_at": svc.clock.time(),
                         "state": (TicketState.CONFIRMED if matched else TicketState.FAILED).value,
                         "person_uid": person_uid or row.subject})


def confirm_login(svc, ticket: str, *, app: str, person_uid: str, business: dict) -> ScanTicket:
    """The app reports who is logged in on it and in which business for a QR-LOGIN ticket (R-LOGIN-7;
    the IIT app: personal only)."""
    row = _waiting(svc, ticket, TicketKind.LOGIN, app)
    if not person_uid:
        raise AuthzError("validation_failed", errors={"person": ["required for a QR login"]})
    business = dict(business or {"entry": "personal"})
    if app == "iitapp" and business.get("entry") != "personal":
        raise AuthzError(E_IIT_PERSONAL)
    return _settle(row, {"app": app, "confirmed_at": svc.clock.time(), "state": TicketState.CONFIRMED.value,
                         "person_uid": person_uid, "business": business})


def consume(svc, flow_hash: str, kind: TicketKind) -> ScanTicket:
    """Take the flow's newest ticket if it was confirmed (once); raise scan_pending while it waits,
    face_mismatch when the face did not match, ticket_expired when nobody scanned in time."""
    row = (ScanTicket.select().where((ScanTicket.flow_hash == flow_hash) & (ScanTicket.kind == TicketKind(kind).value))
           .order_by(ScanTicket.id.desc()).first())
    if row is None:
        raise AuthzError(E_TICKET_UNKNOWN)
    if row.state == TicketState.WAITING.value:
        raise AuthzError(E_TICKET_EXPIRED if row.expires_at <= svc.clock.time() else E_PENDING)
    if row.state == TicketState.CONSUMED.value:
        raise AuthzError(E_TICKET_USED)
    n = (ScanTicket.update(state=TicketState.CONSUMED.value)
         .where((ScanTicket.id == row.id) & (ScanTicket.state == row.state)).execute())
    if n != 1:
        raise AuthzError(E_TICKET_USED)
    if row.state == TicketState.FAILED.value:
        raise AuthzError(E_FACE)
    return row


class AppScan:
    """Face verification by scanning with one app: a FACE ticket for the flow key, matched by the app
    against the ticket's subject (the person, or the registrant's document)."""
    method = Method.FACE
    strength = Strength.BIOMETRIC
    resets = True
    needs_phone = False
    not_begun = E_TICKET_UNKNOWN

    def __init__(self, app: str):
        self.name = app
        self.app = app

    def begin(self, svc, key, *, purpose, person=None, phone=None, subject=None, **send) -> dict:
        t = new_ticket(svc, TicketKind.FACE, key, subject=subject or (person.uid if person else ""), app=self.app)
        return {"factor": self.name, "ticket": t.ticket, "expires_at": t.expires_at}

    def complete(self, svc, key, *, purpose, person=None, code=None, secret=None, against=None) -> None:
        consume(svc, key, TicketKind.FACE)

    def refused(self, svc, secret) -> None:
        pass

    def lockout_key(self, *, phone, subject) -> str:
        return subject or ""
