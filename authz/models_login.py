"""Tables of login and identity (issue 3): flows, codes, scan tickets, sessions, counters, logs, hall data.

Secrets never reach a column in clear: session ids, flow ids and hall registration codes are stored as
SHA-256 digests, verification codes as a keyed digest. Times are UTC epoch seconds (float).
"""
from __future__ import annotations

import peewee as pw

from .models import Base, Enterprise, JSONField, Person


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


class SmsOutbox(Base):
    """Development SMS gateway: messages land here instead of on a phone (`authz dev outbox`)."""
    phone = pw.CharField(max_length=20, index=True)
    text = pw.TextField()
    sent_at = pw.DoubleField()


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


class LoginSession(Base):
    """A server-side session. Only a digest of its id is kept; `handle` is a public name for listing."""
    id_hash = pw.CharField(max_length=64, unique=True)
    handle = pw.CharField(max_length=24, unique=True)
    person = pw.ForeignKeyField(Person, backref="sessions", on_delete="CASCADE")
    client = pw.CharField(max_length=8, default="browser")  # browser | app
    entry = pw.CharField(max_length=16)  # enterprise | personal | agent | special | nonresident
    domain = pw.CharField(max_length=64)
    role = pw.CharField(max_length=32)
    binding_id = pw.IntegerField(null=True)
    agreement = pw.CharField(max_length=64, null=True)
    project = pw.CharField(max_length=64, null=True)
    enterprise_allowed = pw.BooleanField(default=True)  # R-SW-3: false once personal in this session
    login_at = pw.DoubleField()  # the absolute timeout counts from the original login, across rotations
    created_at = pw.DoubleField()
    last_seen_at = pw.DoubleField()
    ended_at = pw.DoubleField(null=True)
    end_reason = pw.CharField(max_length=24, null=True)
    ip = pw.CharField(max_length=64, default="")
    user_agent = pw.CharField(max_length=200, default="")

    class Meta:
        indexes = ((("person", "ended_at"), False),)


class CounterRow(Base):
    """Database backend of counters: lockout per (person, method) and SMS quota per phone."""
    key = pw.CharField(max_length=120, unique=True)
    count = pw.IntegerField(default=0)
    window_end = pw.DoubleField(default=0)  # when the current counting window closes
    locked_until = pw.DoubleField(default=0)


class LoginLog(Base):
    """Every login attempt and its outcome (R-LOG-1). Never a password, code or session id."""
    id = pw.BigAutoField()
    at = pw.DoubleField(index=True)
    entry = pw.CharField(max_length=16)
    account_type = pw.CharField(max_length=16, default="")  # document | phone | username | email | qr
    step = pw.CharField(max_length=16)  # password | sms | taxapp | iitapp | identity | qr
    factor = pw.CharField(max_length=16, default="")
    person = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    person_name = pw.CharField(max_length=100, default="")
    identity = pw.CharField(max_length=32, default="")
    enterprise = pw.ForeignKeyField(Enterprise, null=True, on_delete="SET NULL")
    uscc = pw.CharField(max_length=20, default="", index=True)
    ip = pw.CharField(max_length=64, default="")
    outcome = pw.CharField(max_length=32)  # ok | an error code


class HallRegistrationCode(Base):
    """A registration code issued at a tax hall (R-REG-7): 6 letters/digits, valid 7 days, single use."""
    person = pw.ForeignKeyField(Person, on_delete="CASCADE")
    code_digest = pw.CharField(max_length=64, index=True)
    attempts = pw.IntegerField(default=0)  # wrong codes tried for this person while it lived
    issued_by = pw.CharField(max_length=64, default="")
    created_at = pw.DoubleField()
    expires_at = pw.DoubleField()
    used_at = pw.DoubleField(null=True)


class CrossRegionProject(Base):
    """An inspection project (跨区域报验) or tax-source registration (跨区税源登记) of an enterprise
    outside its home region, with its handler (the sub-identity tax officer named on it) (R-LOGIN-4)."""
    management_no = pw.CharField(max_length=40, unique=True)
    kind = pw.CharField(max_length=16)  # inspection | tax_source
    enterprise = pw.ForeignKeyField(Enterprise, backref="projects", on_delete="CASCADE")
    name = pw.CharField(max_length=200, default="")
    region = pw.CharField(max_length=40, default="")
    handler = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    status = pw.CharField(max_length=16, default="active")
    created_at = pw.DoubleField()


LOGIN_MODELS = [Flow, VerificationCode, SmsOutbox, ScanTicket, LoginSession, CounterRow, LoginLog,
                HallRegistrationCode, CrossRegionProject]


def create(db: pw.Database) -> None:
    """Migration step 2: create the login tables (safe if present)."""
    db.create_tables(LOGIN_MODELS, safe=True)
