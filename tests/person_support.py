"""Helpers for the natural-person account-centre tests (issue 4 item 2). Import with
`from tests.person_support import *` to get the login-support fixtures (`settings` with a cheap argon2,
`world`) as well."""
from __future__ import annotations

import pytest

from authz import sessions
from authz.actor import Actor
from authz.errors import AuthzError
from authz.factors.app_scan import confirm_face as confirm
from authz.ids import enterprise_domain, person_domain
from authz.sessions import Entry, Identity
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, USCC, last_code, rid  # noqa: F401


def err(fn, *a, **kw) -> AuthzError:
    with pytest.raises(AuthzError) as e:
        fn(*a, **kw)
    return e.value


def personal(svc, person) -> Actor:
    """An Actor for a new natural-person-business session of `person` (identity self, person:<uid>)."""
    _, row = sessions.create(svc, person, Identity(Entry.PERSONAL, person_domain(person.uid), "self"))
    return Actor(person.uid, row.domain, row.role, row.id)


def in_enterprise(svc, person, uscc: str, role: str) -> Actor:
    """An Actor for a new enterprise-business session of `person` acting as `role` in the enterprise."""
    _, row = sessions.create(svc, person, Identity(Entry.ENTERPRISE, enterprise_domain(uscc), role))
    return Actor(person.uid, row.domain, row.role, row.id)


def face(svc, ticket: dict, uid: str, app: str = "taxapp", **kw):
    """The app reports a scan of `uid`'s face for the ticket (the development simulator's path)."""
    return confirm(svc, ticket["ticket"], app=app, person_uid=uid, app_login=True, **kw)


def expected(svc, domain_kind: str, role: str, obj: str, act: str, domain: str = "") -> bool:
    """What the rule file says, computed from the compiled index (never a hand-written table): does a
    rule give `role` (obj, act) in a domain of this kind?"""
    index = svc.enforcer.index
    kinds = index.kinds_of(domain_kind)
    return any(r.role == role and (r.dom == "*" or r.dom in kinds or r.dom == domain)
               for r in index.by_obj_act.get((obj, act), ()))
