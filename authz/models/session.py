"""The session aggregate: server-side sessions (id digests only), the login log (R-LOG-1; never a
password, code or session id), and the durable counter rows behind lockouts and SMS quotas."""
from __future__ import annotations

import peewee as pw

from .base import Base
from .enterprise import Enterprise
from .person import Person


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
    created_at = pw.DoubleField(index=True)  # newest first: the sessions a starting worker warms (issue 14)
    last_seen_at = pw.DoubleField()
    ended_at = pw.DoubleField(null=True)
    end_reason = pw.CharField(max_length=24, null=True)
    ip = pw.CharField(max_length=64, default="")
    user_agent = pw.CharField(max_length=200, default="")
    factors = pw.CharField(max_length=64, default="")  # comma-separated factors the login used (OIDC amr)

    class Meta:
        indexes = ((("person", "ended_at"), False),)


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


class CounterRow(Base):
    """Database backend of counters: lockout per (person, method) and SMS quota per phone."""
    key = pw.CharField(max_length=120, unique=True)
    count = pw.IntegerField(default=0)
    window_end = pw.DoubleField(default=0)  # when the current counting window closes
    locked_until = pw.DoubleField(default=0)
