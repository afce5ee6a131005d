"""Who is acting: a person, as one identity type, in one domain (from the server-side session).

Account-centre flows take an Actor and ask the enforcer through `require`; they never read roles from
the request and never branch on an identity type themselves (R-AUTHZ-1)."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import AuthzError


@dataclass(frozen=True)
class Actor:
    """The session's current identity."""
    uid: str  # person uid
    domain: str  # ent:<USCC> or person:<uid>
    role: str  # identity type the session acts as
    session_id: int | None = None  # the session row (never the token), for audit and switching

    @property
    def label(self) -> str:
        return self.uid


def allowed(svc, actor: Actor, obj: str, act: str) -> bool:
    """The enforcer's answer for this actor's current identity."""
    return svc.enforcer.can(actor.uid, actor.domain, obj, act, actor.role)


def require(svc, actor: Actor, obj: str, act: str) -> None:
    """Raise forbidden unless the enforcer allows `act` on `obj` for the actor's current identity."""
    if not allowed(svc, actor, obj, act):
        raise AuthzError("forbidden", errors={"function": obj, "action": act})
