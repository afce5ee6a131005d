"""Who is acting: a person, as one identity type, in one domain, through one business entry (from the
server-side session).

This module is the one home of "may this session do (obj, act)?": the enforcer decides for the actor's
current identity (the model's m: identity type in its domain, function set, validity) AND for its
business entry (the model's m2: what a session of that entry may reach at all, e.g. a special subject
reaches no account centre, R-LOGIN-4 / R-SW-4). Account-centre flows take an Actor and ask through
`require`; the API builds every session's Actor with `of_session`; the session check endpoint asks
`allowed`. Nothing reads roles from the request or branches on an identity type or entry (R-AUTHZ-1)."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import AuthzError
from .ids import PERSON_PREFIX
from .vocab import Entry


@dataclass(frozen=True)
class Actor:
    """The session's current identity. `entry` defaults from the domain for actors that are not built
    from a session (tests, CLI); every session's actor comes from `of_session` with its real entry."""
    uid: str  # person uid
    domain: str  # ent:<USCC> or person:<uid>
    role: str  # identity type the session acts as
    session_id: int | None = None  # the session row (never the token), for audit and switching
    entry: Entry | None = None

    def __post_init__(self):
        if self.entry is None:
            object.__setattr__(self, "entry", Entry.PERSONAL if self.domain.startswith(PERSON_PREFIX)
                               else Entry.ENTERPRISE)
        else:
            object.__setattr__(self, "entry", Entry(self.entry))

    @property
    def label(self) -> str:
        return self.uid


def of_session(row) -> Actor:
    """The Actor of a live login session row: its person, domain, identity type and business entry."""
    return Actor(row.person.uid, row.domain, row.role, row.id, Entry(row.entry))


def allowed(svc, actor: Actor, obj: str, act: str) -> bool:
    """The enforcer's answer for this actor's current identity and business entry."""
    return (svc.enforcer.entry_allows(actor.entry.value, obj, act)
            and svc.enforcer.can(actor.uid, actor.domain, obj, act, actor.role))


def require(svc, actor: Actor, obj: str, act: str) -> None:
    """Raise forbidden unless the enforcer allows `act` on `obj` for the actor's current identity."""
    if not allowed(svc, actor, obj, act):
        raise AuthzError("forbidden", errors={"function": obj, "action": act})
