"""Deregistration (R-INFO-3): read the notice, SMS or face, then the login identity is closed, real-name
data and documents kept, bindings kept (R-BIND-17), all sessions ended; re-registration brings the
account and the bindings back (R-REG-8)."""
from __future__ import annotations

from authz import sessions
from authz.factors.app_scan import confirm_face as confirm
from authz.flows import deregistration, login, registration
from authz.models import AuditLog, Binding, Document, Person, Phone
from tests.person_support import *  # noqa: F401,F403
from tests.person_support import PASSWORD, USCC, err, expected, face, in_enterprise, last_code, personal, rid

OFFICER_DOC = rid("36010219900202002")


def deregister_by_sms(svc, actor, phone):
    f = deregistration.start(svc, actor, True)["flow"]
    deregistration.begin_factor(svc, actor, f, "sms")
    return deregistration.verify_factor(svc, actor, f, "sms", last_code(phone))


def test_R_INFO_3_deregistration_closes_the_login_identity_and_keeps_the_rest(svc, world):
    """R-INFO-3 / R-BIND-17: after the notice and an SMS code: phones, username, password (and email)
    are gone, status deregistered; name, documents and real-name level kept; bindings unchanged in the
    database; every session of the person ends."""
    officer = world["officer"]
    Person.update(username="lisi0001", email="lisi@example.com").where(Person.id == officer.id).execute()
    ent_raw, _ = sessions.create(svc, officer, sessions.Identity(sessions.Entry.ENTERPRISE, f"ent:{USCC}", "tax_officer"))
    me = personal(svc, officer)
    notice = deregistration.notice(svc, me)
    assert "重新注册" in notice["notice_zh"] and notice["name"] == "*四" and notice["sms_phone"] == "138****0002"
    assert err(deregistration.start, svc, me, False).code == "deregistration_notice_required"
    bindings_before = [(b.id, b.state, b.role, b.enabled) for b in Binding.select().where(Binding.person == officer)]
    out = deregister_by_sms(svc, me, "13800000002")
    assert out == {"state": "done", "sessions_ended": 2}
    p = Person.get_by_id(officer.id)
    assert (p.status, p.registered, p.username, p.password_hash, p.email) == ("deregistered", False, None, None, "")
    assert p.name == "李四" and p.realname_level == 4
    assert Phone.select().where(Phone.person == officer).count() == 0
    assert Document.select().where(Document.person == officer).count() == 1
    assert [(b.id, b.state, b.role, b.enabled) for b in Binding.select().where(Binding.person == officer)] == bindings_before
    assert sessions.list_for_person(svc, officer) == []
    row = AuditLog.get(AuditLog.action == "person.deregister")
    assert row.detail == {"verified_by": "sms", "phones_removed": 1, "sessions_ended": 2}


def test_R_INFO_3_old_sessions_and_logins_are_refused_and_bindings_grant_nothing(svc, world):
    """R-INFO-3: the deregistered person's old session is refused, every login is refused (phone,
    document, username), and their kept bindings grant nothing while they are deregistered."""
    officer = world["officer"]
    raw, _ = sessions.create(svc, officer, sessions.Identity(sessions.Entry.ENTERPRISE, f"ent:{USCC}", "tax_officer"))
    assert svc.enforcer.can("p-officer", f"ent:{USCC}", "biz.declare_pay", "use")
    deregister_by_sms(svc, personal(svc, officer), "13800000002")
    assert err(sessions.resolve, svc, raw).code == "session_expired"
    assert err(login.start, svc, entry="personal", account="13800000002", password=PASSWORD).code == "phone_not_found"
    assert err(login.start, svc, entry="personal", account=OFFICER_DOC, password=PASSWORD).code == "not_registered"
    assert err(login.start, svc, entry="enterprise", account=OFFICER_DOC, password=PASSWORD,
               uscc=USCC).code == "not_registered"
    assert not svc.enforcer.can("p-officer", f"ent:{USCC}", "biz.declare_pay", "use")
    assert not svc.enforcer.can("p-officer", "person:p-officer", "biz.person.declare", "use")


def test_R_REG_8_registering_again_restores_the_account_and_the_bindings(svc, world):
    """R-REG-8 / R-BIND-17 round trip: deregister, register again with the registration flow (new phone,
    face scan): the same person row is active, the earlier binding is unchanged and grants again, and
    enterprise login works with the new password."""
    officer = world["officer"]
    deregister_by_sms(svc, personal(svc, officer), "13800000002")
    f = registration.start(svc, agreement=True)["flow"]
    registration.submit_identity(svc, f, name="李四", doc_type="resident_id", doc_number=OFFICER_DOC)
    registration.send_code(svc, f, "13700000022")
    out = registration.submit_basic(svc, f, password="Zai#2026ok", confirm_password="Zai#2026ok", phone="13700000022",
                                    code=last_code("13700000022"), username="lisi0009")
    assert out["state"] == "face"
    t = registration.begin_face(svc, f, "taxapp")
    confirm(svc, t["ticket"], app="taxapp")
    done = registration.complete_face(svc, f)
    assert done["person"] == "p-officer"
    p = Person.get_by_id(officer.id)
    assert p.status == "active" and p.username == "lisi0009"
    b = Binding.get((Binding.person == officer) & (Binding.role == "tax_officer"))
    assert b.state == "active"
    assert svc.enforcer.can("p-officer", f"ent:{USCC}", "biz.declare_pay", "use")
    step = login.start(svc, entry="enterprise", account="13700000022", password="Zai#2026ok", uscc=USCC)
    assert step.view["state"] == "second_factor"


def test_R_INFO_3_deregistration_by_face_scan(svc, world):
    """R-INFO-3: the face scan (IIT app, logged in) instead of the SMS code; someone else's face fails."""
    me = personal(svc, world["plain"])
    f = deregistration.start(svc, me, True)["flow"]
    face(svc, deregistration.begin_factor(svc, me, f, "iitapp"), "p-legal", app="iitapp")
    assert err(deregistration.verify_factor, svc, me, f, "iitapp").code == "face_mismatch"
    assert Person.get_by_id(world["plain"].id).status == "active"
    face(svc, deregistration.begin_factor(svc, me, f, "iitapp"), "p-plain", app="iitapp")
    deregistration.verify_factor(svc, me, f, "iitapp")
    assert Person.get_by_id(world["plain"].id).status == "deregistered"


def test_R_INFO_3_only_from_natural_person_business(svc, world):
    """R-INFO-3 / R-AUTHZ-1: deregistration is offered where the rule file puts ac.person.deregister
    execute; an enterprise-business session of the legal rep gets exactly what the file says."""
    me = in_enterprise(svc, world["legal"], USCC, "legal_rep")
    allowed_here = expected(svc, "kind:ordinary", "legal_rep", "ac.person.deregister", "execute", me.domain)
    if allowed_here:
        assert deregistration.notice(svc, me)["factors"]
    else:
        assert err(deregistration.notice, svc, me).code == "forbidden"
        assert err(deregistration.start, svc, me, True).code == "forbidden"
    assert expected(svc, "kind:personal", "self", "ac.person.deregister", "execute")
    assert deregistration.notice(svc, personal(svc, world["legal"]))["factors"]


def test_R_INFO_3_the_code_must_be_the_flows_own(svc, world):
    """R-INFO-3 (attacker's view): no code, a wrong code, or a flow of another session does not deregister."""
    me = personal(svc, world["plain"])
    f = deregistration.start(svc, me, True)["flow"]
    assert err(deregistration.verify_factor, svc, me, f, "sms", "123456").code == "code_not_requested"
    deregistration.begin_factor(svc, me, f, "sms")
    wrong = "000000" if last_code("13800000004") != "000000" else "111111"
    assert err(deregistration.verify_factor, svc, me, f, "sms", wrong).code == "code_invalid"
    other = personal(svc, world["plain"])
    assert err(deregistration.verify_factor, svc, other, f, "sms", last_code("13800000004")).code == "flow_not_found"
    assert Person.get_by_id(world["plain"].id).status == "active"
