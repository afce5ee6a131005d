"""The flow aggregate: a multi-request flow (login, registration, reset, recovery, step-ups) and the
verifications issued for it: SMS codes (keyed digests only), app scan tickets, and the development SMS
outbox. The client holds only the flow id; its digest is the key."""
from __future__ import annotations

import peewee as pw

from .base import Base, JSONField
from .person import Person


class Flow(Base):
    """A multi-request flow (login, registration, password reset, phone recovery, QR login).
    The client holds only the flow id; its digest is the key here."""
    id_hash = pw.CharField(max_length=64, unique=True)
    kind = pw.CharField(max_length=24)
    state = pw.CharField(max_length=32)
    person = pw.ForeignKeyField(Person, null=True, on_delete="CASCADE")
    context = JSONField(null=True)  # private to the server: never returned as is
    version = pw.IntegerField(default=1)
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()
    expires_at = pw.DoubleField(index=True)


class VerificationCode(Base):
    """One SMS code: bound to a purpose and a flow, single use, capped attempts (R-SMS-2)."""
    purpose = pw.CharField(max_length=24)
    flow_hash = pw.CharField(max_length=64)
    phone = pw.CharField(max_length=20)
    code_digest = pw.CharField(max_length=64)
    attempts = pw.IntegerField(default=0)
    max_attempts = pw.IntegerField(default=5)
    created_at = pw.DoubleField()
    expires_at = pw.DoubleField()
    used_at = pw.DoubleField(null=True)
    superseded = pw.BooleanField(default=False)

    class Meta:
        indexes = ((("flow_hash", "purpose"), False),)


class ScanTicket(Base):
    """A QR ticket shown on a web page and scanned by the tax app or the IIT app: either a face
    verification for a flow (kind face) or a QR login (kind login). The ticket is public (it is in the
    QR image); what it unlocks stays with the flow that created it."""
    ticket = pw.CharField(max_length=64, unique=True)
    kind = pw.CharField(max_length=8)  # face | login
    flow_hash = pw.CharField(max_length=64, index=True)
    subject = pw.CharField(max_length=80, default="")  # face: the person uid (or doc:<type>:<number>) to match
    state = pw.CharField(max_length=16, default="waiting")  # waiting | confirmed | failed | consumed
    app = pw.CharField(max_length=16, null=True)  # taxapp | iitapp, recorded on confirmation
    person_uid = pw.CharField(max_length=48, null=True)
    business = JSONField(null=True)  # login: {"entry", "domain", "role", ...} carried from the app
    created_at = pw.DoubleField()
    expires_at = pw.DoubleField()
    confirmed_at = pw.DoubleField(null=True)


class SmsOutbox(Base):
    """Development SMS gateway: messages land here instead of on a phone (`authz dev outbox`)."""
    phone = pw.CharField(max_length=20, index=True)
    text = pw.TextField()
    sent_at = pw.DoubleField()
