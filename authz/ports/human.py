"""Human-verification port (R-LOGIN-14): the slider check before a password login.

`off` (development) accepts everything. `hmac` accepts a token issued by the slider service that shares
`human_check_secret` with us: "<epoch>.<nonce>.<hex hmac-sha256(secret, epoch.nonce)>", valid 5 minutes.

Before an SMS to a number not yet proven (issue 10 finding 6) the check is `verify_once`: a token buys
one such send, so one solved slider is not five minutes of free sends."""
from __future__ import annotations

import hashlib
import hmac
from typing import Protocol

from ..errors import AuthzError, code

E_HUMAN = code("human_check_failed")


class HumanCheck(Protocol):
    def verify(self, token: str | None, now: float) -> None:
        """Raise human_check_failed unless the token proves a completed check."""


class Off:
    reusable = True  # nothing was solved, so nothing to spend

    def verify(self, token, now) -> None:
        return None


class HmacToken:
    reusable = False

    def __init__(self, secret: str, max_age: float = 300):
        if not secret:
            raise ValueError("AUTHZ_HUMAN_CHECK_SECRET is required with AUTHZ_HUMAN_CHECK=hmac")
        self.secret = secret.encode()
        self.max_age = max_age

    def sign(self, epoch: int, nonce: str) -> str:
        """What the slider service hands the browser (used by tests and the slider adapter)."""
        mac = hmac.new(self.secret, f"{epoch}.{nonce}".encode(), hashlib.sha256).hexdigest()
        return f"{epoch}.{nonce}.{mac}"

    def verify(self, token, now) -> None:
        try:
            epoch, nonce, mac = (token or "").split(".")
            ok = hmac.compare_digest(self.sign(int(epoch), nonce).rsplit(".", 1)[1], mac)
            fresh = 0 <= now - int(epoch) <= self.max_age
        except ValueError:
            ok = fresh = False
        if not (ok and fresh):
            raise AuthzError(E_HUMAN)


def verify_once(check, counters, token: str | None, now: float) -> None:
    """`verify`, then spend the token in the shared counters (atomic across workers): a second use inside
    its validity is refused like a missing check. Adapters marked `reusable` (off) only verify."""
    check.verify(token, now)
    if getattr(check, "reusable", False):
        return
    key = "human:" + hashlib.sha256((token or "").encode()).hexdigest()
    if counters.take(key, 1, getattr(check, "max_age", 300) + 60, now) is not None:
        raise AuthzError(E_HUMAN)
