"""Server-side sessions (R-LOGIN-13, R-SW-3, R-SW-6): opaque hashed ids, timeouts, rotation, ending,
and the enforcer re-check that refuses a session whose identity was taken away."""
from __future__ import annotations

import pytest

from authz import sessions
from authz.errors import AuthzError
from authz.models import Binding, LoginSession
from authz.sessions import EndReason, Entry, Identity
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import USCC
from tests.binding_support import move

ENT = f"ent:{USCC}"


def err(fn, *a, **kw) -> AuthzError:
    with pytest.raises(AuthzError) as e:
        fn(*a, **kw)
    return e.value


def open_session(svc, person, role="legal_rep", domain=ENT, entry=Entry.ENTERPRISE, **kw):
    return sessions.create(svc, person, Identity(entry, domain, role, **kw))


def test_R_LOGIN_13_ids_are_opaque_long_and_stored_hashed(svc, world):
    """R-LOGIN-13: azs_ + 256 random bits; the table holds only a SHA-256 of it."""
    raw, row = open_session(svc, world["legal"])
    assert raw.startswith("azs_") and len(raw) >= 4 + 43
    assert raw not in repr(LoginSession.get_by_id(row.id).__data__)
    assert sessions.resolve(svc, raw).id == row.id
    assert err(sessions.resolve, svc, "azs_" + "A" * 43).code == "session_required"
    assert err(sessions.resolve, svc, None).code == "session_required"


def test_R_LOGIN_13_idle_timeout(svc, world, clock):
    """R-LOGIN-13: 30 idle minutes end the session; activity keeps it alive."""
    raw, _ = open_session(svc, world["legal"])
    clock.advance(minutes=29)
    sessions.resolve(svc, raw)
    clock.advance(minutes=29)
    sessions.resolve(svc, raw)
    clock.advance(minutes=30)
    assert err(sessions.resolve, svc, raw).code == "session_expired"
    assert LoginSession.get(LoginSession.id_hash == sessions.digest(raw)).end_reason == "idle"


def test_R_LOGIN_13_absolute_timeout_survives_rotation(svc, world, clock):
    """R-LOGIN-13: 8 hours after login the session ends however active, also across identity switches."""
    raw, row = open_session(svc, world["legal"])
    for _ in range(15):
        clock.advance(minutes=25)
        sessions.resolve(svc, raw)
    raw, row = sessions.rotate(svc, sessions.resolve(svc, raw), Identity(Entry.ENTERPRISE, ENT, "finance_officer"))
    for _ in range(4):
        clock.advance(minutes=25)
        sessions.resolve(svc, raw)  # 7h55 after login
    clock.advance(minutes=5)
    assert err(sessions.resolve, svc, raw).code == "session_expired"


def test_R_LOGIN_13_rotation_gives_a_new_id_and_kills_the_old(svc, world):
    """Session fixation: every identity switch issues a new id; the old one is refused (R-SW-6)."""
    raw, row = open_session(svc, world["legal"])
    new_raw, new_row = sessions.rotate(svc, row, Identity(Entry.ENTERPRISE, ENT, "finance_officer"))
    assert new_raw != raw
    assert err(sessions.resolve, svc, raw).code == "session_expired"
    assert sessions.resolve(svc, new_raw).role == "finance_officer"
    assert err(sessions.rotate, svc, row, Identity(Entry.ENTERPRISE, ENT, "legal_rep")).code == "session_expired"


def test_R_SW_3_personal_never_becomes_enterprise_in_one_session(svc, world):
    """R-SW-3: enterprise -> personal is allowed; afterwards (or from a personal login) never enterprise."""
    raw, row = open_session(svc, world["legal"])
    personal = Identity(Entry.PERSONAL, "person:p-legal", "self")
    raw2, row2 = sessions.rotate(svc, row, personal)
    assert row2.enterprise_allowed is False
    assert err(sessions.rotate, svc, row2, Identity(Entry.ENTERPRISE, ENT, "legal_rep")).code == \
        "switch_to_enterprise_refused"
    raw3, row3 = sessions.create(svc, world["plain"], Identity(Entry.PERSONAL, "person:p-plain", "self"))
    assert row3.enterprise_allowed is False


def test_R_LOGIN_13_a_session_is_only_for_an_identity_the_person_holds(svc, world):
    """Sessions are opened only for identities the enforcer gives the person (no role by assertion)."""
    assert err(open_session, svc, world["officer"], role="legal_rep").code == "identity_not_held"
    assert err(open_session, svc, world["pending"], role="tax_officer").code == "identity_not_held"


def test_R_BIND_10_deleting_staff_refuses_their_session_at_once(svc, world, directory):
    """R-BIND-10 / R-SW-6: the officer's binding is deleted -> their enterprise session answers
    identity_revoked (401) on its next use and every use after (the session check's callers learn why, not
    just "expired"); their personal session is unaffected."""
    b = Binding.get((Binding.person == world["officer"]) & (Binding.role == "tax_officer"))
    raw, _ = open_session(svc, world["officer"], role="tax_officer", binding_id=b.id)
    mine, _ = sessions.create(svc, world["officer"], Identity(Entry.PERSONAL, "person:p-officer", "self"))
    move(directory.svc, b, "deleted")
    e = err(sessions.resolve, svc, raw)
    assert e.code == "identity_revoked" and e.status == 401
    assert err(sessions.resolve, svc, raw).code == "identity_revoked"  # it stays ended, and says why
    assert sessions.resolve(svc, mine).role == "self"


def test_R_LOGIN_13_end_list_and_end_all(svc, world):
    """R-LOGIN-13: a person lists their sessions and ends one by handle (not another person's);
    end_all_for_person ends every session (password reset, deregistration)."""
    a, ra = open_session(svc, world["legal"])
    b, rb = open_session(svc, world["legal"], role="finance_officer")
    other, ro = open_session(svc, world["officer"], role="tax_officer")
    assert {r.handle for r in sessions.list_for_person(svc, world["legal"])} == {ra.handle, rb.handle}
    assert not sessions.end_by_handle(svc, world["legal"], ro.handle)
    assert sessions.end_by_handle(svc, world["legal"], rb.handle)
    assert err(sessions.resolve, svc, b).code == "session_expired"
    assert sessions.end_all_for_person(svc, world["legal"], EndReason.PASSWORD_RESET) == 1
    assert err(sessions.resolve, svc, a).code == "session_expired"
    assert sessions.resolve(svc, other)
