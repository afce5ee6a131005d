"""The factor interface and the lockout guard every factor check runs under (R-LOGIN-11)."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Callable, Protocol, TypeVar

from ..clock import SHANGHAI
from ..errors import AuthzError, code
from ..ports import ports_of

T = TypeVar("T")

E_LOCKED = code("account_locked")
# failures of these codes count toward the lockout; others (expired, not requested, pending) do not
COUNTED = {"code_invalid", "code_attempts_exhausted", "face_mismatch", "password_wrong"}
E_PURPOSE_LOCKED = code("code_purpose_locked")
E_BUSY = code("attempts_in_progress")


class Factor(Protocol):
    name: str
    method: str  # the lockout method: sms | face

    def begin(self, svc, flow_hash: str, *, purpose: str, person=None, phone: str | None = None,
              subject: str | None = None, **send) -> dict:
        """Start the factor for a flow (send a code, show a ticket); returns what the client may see.
        `send` (proven, client, human_token) says how an SMS is budgeted (codes.spend); others ignore it."""

    def complete(self, svc, flow_hash: str, *, purpose: str, code: str | None = None) -> None:
        """Finish it, or raise: a counted failure, or a not-yet state (scan_pending)."""


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


def attempt(svc, uid: str, method: str, check: Callable[[], bool]) -> tuple[bool, float | None]:
    """One evaluation of a secret the person types (old password, certificate password) under the lockout:
    reserved first (refused while locked or while the limit is in flight), then counted. Returns
    (right, lock end if this failure locked the method)."""
    with reserved(svc, uid, method) as counters:
        if check():
            counters.succeed(uid, method)
            return True, None
        return False, counters.fail(uid, method, svc.clock.time())


def guarded(svc, uid: str | None, method: str, fn: Callable[[], T]) -> T:
    """Run one check of `method` for person `uid` under the lockout: refused while locked, a counted
    failure adds to the count (and may lock), a success resets it."""
    if uid is None:
        return fn()
    with reserved(svc, uid, method) as counters:
        try:
            out = fn()
        except AuthzError as err:
            if err.code in COUNTED:
                until = counters.fail(uid, method, svc.clock.time())
                if until:
                    raise locked_error(until, uid) from None
            raise
        counters.succeed(uid, method)
        return out
