"""The factor interface, and the lockout primitives the one verification mechanism (authz/verification.py)
applies around every factor check (R-LOGIN-11)."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Protocol

from ..clock import SHANGHAI
from ..errors import AuthzError, code
from ..ports import ports_of
from ..vocab import Method, Strength

E_LOCKED = code("account_locked")
# failures of these codes count toward the lockout; others (expired, not requested, pending) do not
COUNTED = {"code_invalid", "code_attempts_exhausted", "face_mismatch", "password_wrong", "certificate_invalid",
           "certificate_signature_invalid"}
E_PURPOSE_LOCKED = code("code_purpose_locked")
E_BUSY = code("attempts_in_progress")


class Factor(Protocol):
    """One way of verifying a person: a strategy behind `authz.verification` (begin / verify). The
    mechanism applies the lockout around `complete`; a factor never counts anything itself."""
    name: str               # what a client names it by: sms | taxapp | iitapp | password | ...
    method: Method          # whose failures it counts toward (R-LOGIN-11)
    strength: Strength      # what it proves (a flow may ask for at least a strength)
    needs_phone: bool       # begin needs the phone to send to
    not_begun: str          # the error code when the flow never began this factor
    resets: bool            # a success resets the method's failure count (False: part of a longer check)

    def begin(self, svc, key: str, *, purpose: str, person=None, phone: str | None = None,
              subject: str | None = None, **send) -> dict:
        """Start the factor for a flow key (send a code, show a ticket); returns what the client may see.
        `send` (proven, client, human_token) says how an SMS is budgeted (codes.spend); others ignore it."""

    def complete(self, svc, key: str, *, purpose: str, person=None, code: str | None = None,
                 secret: str | None = None, against=None) -> str | None:
        """Check it, or raise: a counted failure (COUNTED), or a not-yet state (scan_pending). Returns the
        phone a code was sent to, when there is one."""

    def refused(self, svc, secret: str | None) -> None:
        """The lockout refused before the check: spend what a check costs (a typed secret: one verify)."""

    def lockout_key(self, *, phone: str | None, subject: str | None) -> str:
        """The key an anonymous flow's own count of this factor is kept under (anonymous_subject)."""


def anonymous_subject(purpose: str, key: str) -> str:
    """The lockout subject of the checks in an anonymous flow (registration, password reset, phone
    recovery): a count of its own per purpose and phone (or person, for a face scan), never the
    person's login count, so an anonymous party cannot lock another person's login (issue 10 finding 6).
    Locking it answers code_purpose_locked; only that purpose for that phone is paused."""
    return f"{ANON}{purpose}:{key}"


ANON = "anon:"


def _lock_code(subject: str) -> str:
    return E_PURPOSE_LOCKED if subject.startswith(ANON) else E_LOCKED


def locked_error(until: float, subject: str = "") -> AuthzError:
    when = dt.datetime.fromtimestamp(until, tz=SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return AuthzError(_lock_code(subject), until=when, errors={"locked_until": until})


def ensure_unlocked(svc, uid: str, method: str) -> None:
    until = ports_of(svc).counters.locked_until(uid, method, svc.clock.time())
    if until:
        raise locked_error(until, uid)


@contextmanager
def reserved(svc, uid: str, method: str):
    """The one home of "at most the limit is ever evaluated" (R-LOGIN-11, issue 10 finding 4): an
    evaluation slot is reserved atomically before the slow check, across workers and instances, and
    released once its outcome is counted. Refused: locked (423), or the failures plus the checks in
    flight already reach the limit (429 attempts_in_progress, Retry-After 1)."""
    counters = ports_of(svc).counters
    until = counters.reserve(uid, method, svc.clock.time())
    if until:
        raise locked_error(until, uid)
    if until is not None:
        raise AuthzError(E_BUSY, headers={"Retry-After": "1"})
    try:
        yield counters
    finally:
        counters.release(uid, method)
