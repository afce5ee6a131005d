"""App scan factor (face verification through the tax app or the IIT app) and the confirmation of scan
tickets, shared by face verification and QR login (R-LOGIN-7, R-LOGIN-8).

A ticket is public (it is drawn in the QR image) and unlocks nothing by itself: it belongs to the flow
that created it, only that flow can consume it, and it is confirmed at most once (a conditional UPDATE
on state 'waiting'). Confirmations come from the development simulator (`authz dev scan`) or from the
apps' signed callbacks; both call `confirm` below.
"""
from __future__ import annotations

import secrets
from enum import Enum

from ..db import database
from ..errors import AuthzError, register
from ..models_login import ScanTicket
from ..ports.apps import APPS

E_PENDING = register("scan_pending", 409, "等待扫码确认", "Waiting for the scan to be confirmed")
E_TICKET_EXPIRED = register("ticket_expired", 410, "二维码已过期，请刷新", "The QR code has expired; refresh it")
E_TICKET_USED = register("ticket_used", 409, "二维码已被使用", "The QR code was already used")
E_TICKET_UNKNOWN = register("ticket_not_found", 404, "二维码无效", "Unknown QR code")
E_FACE = register("face_mismatch", 422, "人脸识别验证未通过", "Face verification failed")
E_APP_LOGIN = register("app_login_required", 422, "请先登录个人所得税APP后再扫脸验证",
                       "Log in to the IIT app before face verification")
E_APP_MISMATCH = register("app_mismatch", 422, "请使用所选的APP扫码", "Scan with the app you chose")
E_IIT_PERSONAL = register("iitapp_personal_only", 422, "个人所得税APP扫码仅支持登录个人业务",
                          "An IIT-app scan logs in to personal business only")


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


def confirm(svc, ticket: str, *, app: str, person_uid: str | None = None, face_ok: bool = True,
            app_login: bool = False, business: dict | None = None) -> ScanTicket:
    """The app reports a scan. Face tickets: did the face match the ticket's subject (R-LOGIN-8: the IIT
    app needs an app login first; the tax app does not). Login tickets: who is logged in on the app and
    in which business (the IIT app: personal only). A ticket is confirmed once; later reports are refused."""
    if app not in APPS:
        raise AuthzError("app_unknown")
    row = ScanTicket.get_or_none(ScanTicket.ticket == (ticket or ""))
    if row is None:
        raise AuthzError(E_TICKET_UNKNOWN)
    now = svc.clock.time()
    if row.state != TicketState.WAITING.value:
        raise AuthzError(E_TICKET_USED)
    if row.expires_at <= now:
        raise AuthzError(E_TICKET_EXPIRED)
    changes: dict = {"app": app, "confirmed_at": now}
    if row.kind == TicketKind.FACE.value:
        if row.app and row.app != app:
            raise AuthzError(E_APP_MISMATCH)
        if app == "iitapp" and not app_login:
            raise AuthzError(E_APP_LOGIN)
        matched = face_ok and (person_uid is None or person_uid == row.subject)
        changes.update(state=(TicketState.CONFIRMED if matched else TicketState.FAILED).value,
                       person_uid=person_uid or row.subject)
    else:
        if not person_uid:
            raise AuthzError("validation_failed", errors={"person": ["required for a QR login"]})
        business = dict(business or {"entry": "personal"})
        if app == "iitapp" and business.get("entry") != "personal":
            raise AuthzError(E_IIT_PERSONAL)
        changes.update(state=TicketState.CONFIRMED.value, person_uid=person_uid, business=business)
    n = (ScanTicket.update(**changes)
         .where((ScanTicket.id == row.id) & (ScanTicket.state == TicketState.WAITING.value)).execute())
    if n != 1:
        raise AuthzError(E_TICKET_USED)
    return ScanTicket.get_by_id(row.id)


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
    """Face verification by scanning with one app."""
    method = "face"

    def __init__(self, app: str):
        self.name = app
        self.app = app

    def begin(self, svc, flow_hash, *, purpose, person=None, phone=None, subject=None) -> dict:
        t = new_ticket(svc, TicketKind.FACE, flow_hash, subject=subject or (person.uid if person else ""), app=self.app)
        return {"factor": self.name, "ticket": t.ticket, "expires_at": t.expires_at}

    def complete(self, svc, flow_hash, *, purpose, code=None) -> ScanTicket:
        return consume(svc, flow_hash, TicketKind.FACE)
