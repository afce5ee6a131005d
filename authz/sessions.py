"""Server-side sessions (R-LOGIN-13, R-SW-3, R-SW-6, R-AUTHZ-2).

* The id handed out is `azs_` + 256 random bits; only its SHA-256 is stored, so a database leak yields no
  usable session. A short public `handle` names a session in lists ("end that one").
* A new id at login and at every identity switch (`rotate`): an id seen before login is never honoured.
* Idle and absolute timeouts from Settings; the absolute one counts from the original login across
  rotations. Logout, password reset, deregistration and staff removal end sessions on the server.
* A session records its business entry, current domain and identity type (with the binding, agreement
  or project), and whether switching to an enterprise is still allowed (R-SW-3).
* `resolve` re-asks the enforcer that the current identity is still live, so deleting staff or ending an
  agreement refuses that session at once with `identity_revoked`; a session in a cross-region project
  is refused the same way once the project ends or stops naming its handler (`projects.open_to`).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from enum import Enum

from . import projects
from .db import database
from .errors import AuthzError, code
from .models import LoginSession, Person
from .vocab import Entry

SESSION_PREFIX = "azs_"
COOKIE_NAME = "authz_session"

E_REVOKED = code("identity_revoked")
E_SWITCH_REFUSED = code("switch_to_enterprise_refused")
E_IDENTITY_NOT_HELD = code("identity_not_held")


class EndReason(str, Enum):
    LOGOUT = "logout"
    ROTATED = "rotated"
    IDLE = "idle"
    ABSOLUTE = "absolute"
    ENDED_BY_USER = "ended_by_user"
    HELPDESK = "helpdesk"  # ended by the bureau's support desk at the person's request (authz.helpdesk)
    PASSWORD_RESET = "password_reset"
    PASSWORD_CHANGED = "password_changed"
    DEREGISTERED = "deregistered"
    IDENTITY_REVOKED = "identity_revoked"
    PERSON_INACTIVE = "person_inactive"


@dataclass(frozen=True)
class Identity:
    """What a session acts as: entry, domain, identity type, and where that identity comes from."""
    entry: Entry
    domain: str
    role: str
    binding_id: int | None = None
    agreement: str | None = None
    project: str | None = None


def digest(raw: str) -> str:
    return hashlib.sha256((raw or "").encode()).hexdigest()


def identity_of(row: LoginSession) -> Identity:
    return Identity(Entry(row.entry), row.domain, row.role, row.binding_id, row.agreement, row.project)


def live(svc, uid: str, ident: Identity) -> bool:
    """Does the enforcer still give `uid` this identity in its domain? In a cross-region project, is the
    project still active and open to this identity (R-LOGIN-4, R-SW-4)?"""
    for g in svc.enforcer.roles_in(uid, ident.domain):
        if g.role != ident.role:
            continue
        if ident.binding_id is not None and g.source != f"binding:{ident.binding_id}":
            continue
        if ident.agreement is not None and g.source != f"agreement:{ident.agreement}":
            continue
        return ident.project is None or _project_open(svc, uid, ident)
    return False


def _project_open(svc, uid: str, ident: Identity) -> bool:
    person = Person.get_or_none(Person.uid == uid)
    return person is not None and projects.open_to(svc, uid, person.id, ident.binding_id, ident.domain,
                                                   ident.project)


def create(svc, person: Person, ident: Identity, *, client: str = "browser", ip: str = "", user_agent: str = "",
           login_at: float | None = None, enterprise_allowed: bool | None = None,
           factors: tuple[str, ...] = ()) -> tuple[str, LoginSession]:
    """Open a session with a fresh id; returns (the id for the client, the row). `factors` names what the
    login verified (password, sms, taxapp, certificate, ...): the OpenID Connect `amr` of the session."""
    if not live(svc, person.uid, ident):
        raise AuthzError(E_IDENTITY_NOT_HELD)
    now = svc.clock.time()
    raw = SESSION_PREFIX + secrets.token_urlsafe(32)
    allowed = ident.entry != Entry.PERSONAL if enterprise_allowed is None else enterprise_allowed
    row = LoginSession.create(id_hash=digest(raw), handle=secrets.token_hex(8), person=person,
                              client=client if client in ("browser", "app") else "browser",
                              entry=ident.entry.value, domain=ident.domain, role=ident.role,
                              binding_id=ident.binding_id, agreement=ident.agreement, project=ident.project,
                              enterprise_allowed=allowed, login_at=login_at or now, created_at=now,
                              last_seen_at=now, ip=(ip or "")[:64], user_agent=(user_agent or "")[:200],
                              factors=",".join(f for f in dict.fromkeys(factors) if f)[:64])
    svc.session_opened(person.uid, ident.domain)  # every worker reads its grants before the first check
    return raw, row


def end(svc, row: LoginSession, reason: EndReason) -> bool:
    """End one session on the server; False if it had already ended."""
    return (LoginSession.update(ended_at=svc.clock.time(), end_reason=EndReason(reason).value)
            .where((LoginSession.id == row.id) & LoginSession.ended_at.is_null()).execute()) == 1


def resolve(svc, raw: str | None, *, touch: bool = True) -> LoginSession:
    """The live session for this id, or 401: session_required (no or unknown id), session_expired
    (ended, idle, absolute, person gone) or identity_revoked (the enforcer no longer gives the identity).

    touch=True (the person's own request) restarts the idle timer; touch=False is a read for services
    (check/session) that never moves last_seen_at but still refuses an idle-expired session
    (R-LOGIN-13, issue 10 finding 12)."""
    if not raw or not isinstance(raw, str) or not raw.startswith(SESSION_PREFIX) or len(raw) > 100:
        raise AuthzError("session_required")
    # the person in the same query: every check of a session reads it (status, uid)
    row = (LoginSession.select(LoginSession, Person).join(Person)
           .where(LoginSession.id_hash == digest(raw)).get_or_none())
    if row is None:
        raise AuthzError("session_required")
    return check(svc, row, touch=touch)


def check(svc, row: LoginSession, *, touch: bool = True) -> LoginSession:
    """The row itself if that session is still live (the rules of `resolve`, which calls this), else
    session_expired / identity_revoked. The OpenID Connect provider asks this of the session a token is
    bound to (authz.oidc.grants.subject), so a token lives exactly as long as its portal session."""
    if row.ended_at is not None:  # keep telling why: a revoked identity stays "revoked", not "expired"
        raise AuthzError(E_REVOKED if row.end_reason == EndReason.IDENTITY_REVOKED.value else "session_expired")
    now = svc.clock.time()
    st = svc.settings
    if now - row.last_seen_at >= st.session_idle_minutes * 60:
        end(svc, row, EndReason.IDLE)
        raise AuthzError("session_expired")
    if now - row.login_at >= st.session_absolute_hours * 3600:
        end(svc, row, EndReason.ABSOLUTE)
        raise AuthzError("session_expired")
    person = row.person
    if person.status != "active":
        end(svc, row, EndReason.PERSON_INACTIVE)
        raise AuthzError("session_expired")
    if not live(svc, person.uid, identity_of(row)):
        end(svc, row, EndReason.IDENTITY_REVOKED)
        raise AuthzError(E_REVOKED)
    if touch:
        LoginSession.update(last_seen_at=now).where(LoginSession.id == row.id).execute()
        row.last_seen_at = now
    return row


def rotate(svc, row: LoginSession, ident: Identity) -> tuple[str, LoginSession]:
    """Switch identity (issue 4's switching flows): the old id dies, a new one carries the new identity.
    R-SW-3: once a session has been personal, it can never become an enterprise session."""
    if ident.entry != Entry.PERSONAL and not row.enterprise_allowed:
        raise AuthzError(E_SWITCH_REFUSED)
    with database.atomic():
        if not end(svc, row, EndReason.ROTATED):
            raise AuthzError("session_expired")
        return create(svc, row.person, ident, client=row.client, ip=row.ip, user_agent=row.user_agent,
                      login_at=row.login_at, factors=tuple((row.factors or "").split(",")),
                      enterprise_allowed=row.enterprise_allowed and ident.entry != Entry.PERSONAL)


def end_all_for_person(svc, person: Person, reason: EndReason, *, except_id: int | None = None) -> int:
    """End every open session of the person (password reset, deregistration, ...); returns how many."""
    q = LoginSession.update(ended_at=svc.clock.time(), end_reason=EndReason(reason).value).where(
        (LoginSession.person == person) & LoginSession.ended_at.is_null())
    if except_id is not None:
        q = q.where(LoginSession.id != except_id)
    return q.execute()


def list_for_person(svc, person: Person) -> list[LoginSession]:
    """Open sessions of the person that have not timed out, newest first."""
    now = svc.clock.time()
    st = svc.settings
    rows = (LoginSession.select().where((LoginSession.person == person) & LoginSession.ended_at.is_null())
            .order_by(LoginSession.created_at.desc()))
    return [r for r in rows if now - r.last_seen_at < st.session_idle_minutes * 60
            and now - r.login_at < st.session_absolute_hours * 3600]


def end_by_handle(svc, person: Person, handle: str) -> bool:
    """End one of the person's own sessions by its handle (another person's handle ends nothing)."""
    row = LoginSession.get_or_none((LoginSession.handle == handle) & (LoginSession.person == person))
    return bool(row) and end(svc, row, EndReason.ENDED_BY_USER)
