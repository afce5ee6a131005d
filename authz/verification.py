"""What a verification proved (the start of one verification mechanism, issue 10).

A `Proof` says: this person passed this method (sms, face, ...) through this factor for this flow. The
verification steps (`flows.stepup.verify`, `flows.login.verify_confirm`) make one only after the
factor's own check succeeded under the lockout (`factors.base.guarded`); the invariants that need a
verification (`bindings.transition`: a person's confirmation needs their face, R-BIND-6) take a Proof
and check its person and method, so a boolean can no longer stand in for a face.
"""
from __future__ import annotations

from dataclasses import dataclass

from .vocab import Method


@dataclass(frozen=True)
class Proof:
    person_uid: str
    method: Method
    factor: str  # sms | taxapp | iitapp | ...
    flow_hash: str

    def proves(self, person_uid: str, method: Method) -> bool:
        return self.person_uid == person_uid and self.method == method


def bound_to(flow_hash: str, purpose: str) -> str:
    """The key a factor's code or ticket is bound to for one purpose inside one flow: a face scan asked
    to confirm an authorisation during login is not the login's own second factor, and the reverse."""
    import hashlib
    return hashlib.sha256(f"{flow_hash}:{purpose}".encode()).hexdigest()
