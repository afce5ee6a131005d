"""The product's vocabulary, one definition each: business entries, binding states, the parties that
move a binding, verification methods and their strengths. Modules import these enums; nothing spells the values as
scattered string literals in a decision."""
from __future__ import annotations

from enum import Enum, IntEnum


class Entry(str, Enum):
    """Business entries (登录入口, R-LOGIN-1..6). What each may reach is the rule file's `p2` lines."""
    ENTERPRISE = "enterprise"
    PERSONAL = "personal"
    AGENT = "agent"
    SPECIAL = "special"
    NONRESIDENT = "nonresident"


ENTRIES = tuple(e.value for e in Entry)


class BindingState(str, Enum):
    """A binding's state (R-BIND-2..13); transitions in authz/bindings.py."""
    PENDING = "pending"
    ACTIVE = "active"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    DELETED = "deleted"
    ENDED = "ended"


class Party(str, Enum):
    """Who moves a binding (two-way confirmation, R-BIND-18)."""
    PERSON = "person"          # the bound person, with a face verification where R-BIND-6 asks one
    ENTERPRISE = "enterprise"  # the enterprise through its account centre (the enforcer decides which identity)
    SOURCE = "source"          # an authoritative source: registration data, tax report, core tax system, hall,
    #                            agency filings (the integration API)


class Method(str, Enum):
    """Verification methods; each counts its own failures toward the lockout (R-LOGIN-11)."""
    PASSWORD = "password"
    SMS = "sms"
    FACE = "face"
    CERTIFICATE = "certificate"


class Strength(IntEnum):
    """How much a verification proves, weakest first; each factor declares one (authz/factors/) and a
    flow may ask for at least one (`verification.begin(..., at_least=...)`)."""
    KNOWLEDGE = 1   # a secret the person types: the password, a certificate password
    POSSESSION = 2  # something the person holds: a code sent to their phone, a certificate's private key
    BIOMETRIC = 3   # the person's own face, scanned through the tax app or the IIT app
