"""Forgot password (R-PWD-4): SMS to one of the person's phones or face scan; lifts the lockout and
ends every session (replay of an old session after the reset is refused)."""
from __future__ import annotations

import pytest

from authz import sessions
from authz.errors import AuthzError
from authz.factors.app_scan import confirm_face as confirm
from authz.flows import login, password_reset
from authz.sessions import Entry, Identity
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, last_code, rid

DOC = rid("36010220000404004")  # p-plain
NEW = "Xin#2026pw"


def err(fn, *a, **kw) -> AuthzError:
    with pytest.raises(AuthzError) as e:
        fn(*a, **kw)
    return e.value


def lock_password(svc):
    for _ in range(5):
        e = err(login.start, svc, entry="personal", account="13800000004", password="Wrong@2026x")
    assert e.code == "account_locked"


def test_R_PWD_4_reset_by_sms_lifts_the_lockout_and_ends_sessions(svc, world):
    """R-PWD-4 / R-LOGIN-11: a locked person resets by SMS: the lock is gone at once (no waiting for
    midnight), the old password is dead and every earlier session is refused on replay."""
    raw, _ = sessions.create(svc, world["plain"], Identity(Entry.PERSONAL, "person:p-plain", "self"))
    lock_password(svc)
    fid = password_reset.start(svc, doc_type="resident_id", doc_number=DOC)["flow"]
    assert err(password_reset.begin_factor, svc, fid, "sms", "13800000001").code == "phone_not_held"
    password_reset.begin_factor(svc, fid, "sms", "13800000004")
    assert err(password_reset.set_password, svc, fid, NEW, NEW).code == "flow_state"  # no skipping
    password_reset.complete_factor(svc, fid, "sms", last_code("13800000004"))
    assert err(password_reset.set_password, svc, fid, NEW, "other").code == "password_mismatch"
    password_reset.set_password(svc, fid, NEW, NEW)
    assert err(password_reset.set_password, svc, fid, NEW, NEW).code == "flow_state"  # no replay
    assert err(sessions.resolve, svc, raw).code == "session_expired"
    assert err(login.start, svc, entry="personal", account="13800000004", password=PASSWORD).code == "password_wrong"
    assert login.start(svc, entry="personal", account="13800000004", password=NEW).view["state"] == "second_factor"


def test_R_PWD_4_reset_by_face_scan(svc, world):
    """R-PWD-4: the face scan verifies the person instead of an SMS code (someone else's face fails)."""
    fid = password_reset.start(svc, doc_type="resident_id", doc_number=DOC)["flow"]
    t = password_reset.begin_factor(svc, fid, "taxapp")
    confirm(svc, t["ticket"], app="taxapp", person_uid="p-legal")
    assert err(password_reset.complete_factor, svc, fid, "taxapp").code == "face_mismatch"
    t = password_reset.begin_factor(svc, fid, "taxapp")
    confirm(svc, t["ticket"], app="taxapp", person_uid="p-plain")
    password_reset.complete_factor(svc, fid, "taxapp")
    password_reset.set_password(svc, fid, NEW, NEW)
    assert login.start(svc, entry="personal", account=DOC, password=NEW).view["flow"]


def test_R_PWD_4_unknown_document(svc, world):
    """R-PWD-4 / R-LOGIN-12: an unknown document says not registered, or with generic errors gets a flow
    that behaves like a real one and can never succeed."""
    unknown = rid("11010119990101001")
    assert err(password_reset.start, svc, doc_type="resident_id", doc_number=unknown).code == "not_registered"
    svc.settings = svc.settings.with_(generic_login_errors=True)
    fid = password_reset.start(svc, doc_type="resident_id", doc_number=unknown)["flow"]
    real = password_reset.start(svc, doc_type="resident_id", doc_number=DOC)["flow"]
    assert password_reset.begin_factor(svc, fid, "sms", "13800000004").keys() == \
        password_reset.begin_factor(svc, real, "sms", "13800000005").keys()
    assert err(password_reset.complete_factor, svc, fid, "sms", "123456").code == \
        err(password_reset.complete_factor, svc, real, "sms", "123456").code
