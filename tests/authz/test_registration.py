"""Registration (R-REG-1..8), hall collection and codes, with phone takeover (R-REG-4, R-PHONE-6)."""
from __future__ import annotations

import pytest

from authz import sessions
from authz.errors import AuthzError
from authz.factors.app_scan import confirm_face as confirm
from authz.flows import hall, login, registration
from authz.models import Binding, Person, Phone
from authz.sessions import Entry, Identity
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, USCC, last_code, rid

NEW_ID = rid("36010219920606006")


def err(fn, *a, **kw) -> AuthzError:
    with pytest.raises(AuthzError) as e:
        fn(*a, **kw)
    return e.value


def to_basic(svc, name="新用户", doc_type="resident_id", doc=NEW_ID, overseas=False):
    fid = registration.start(svc, agreement=True, overseas=overseas)["flow"]
    registration.submit_identity(svc, fid, name=name, doc_type=doc_type, doc_number=doc)
    return fid


def basic(svc, fid, phone="13700000001", **kw):
    registration.send_code(svc, fid, phone)
    return registration.submit_basic(svc, fid, password=PASSWORD, confirm_password=PASSWORD, phone=phone,
                                     code=last_code(phone), **kw)


def test_R_REG_1_R_REG_5_full_registration_with_face_scan(svc, world):
    """R-REG-1, R-REG-5: agreement -> identity -> basic info -> face scan -> registered at level 4, who
    can then log in with the ID number, the phone or the username."""
    assert err(registration.start, svc, agreement=False).code == "agreement_required"
    fid = to_basic(svc)
    out = basic(svc, fid, username="xinyonghu1")
    assert out["state"] == "face"
    t = registration.begin_face(svc, fid, "taxapp")
    assert err(registration.complete_face, svc, fid).code == "scan_pending"
    confirm(svc, t["ticket"], app="taxapp")
    done = registration.complete_face(svc, fid)
    p = Person.get(Person.uid == done["person"])
    assert (p.realname_level, p.registered, p.gender, p.nationality) == (4, True, "female", "CHN")
    for account in (NEW_ID, "13700000001", "xinyonghu1"):
        assert login.start(svc, entry="personal", account=account, password=PASSWORD).view["state"] == "second_factor"


def test_R_REG_1_no_second_account_for_a_registered_person(svc, world):
    """R-REG-1: a person already registered under the document cannot register again."""
    fid = registration.start(svc, agreement=True)["flow"]
    assert err(registration.submit_identity, svc, fid, name="张三", doc_type="resident_id",
               doc_number=rid("36010219800101001")).code == "already_registered"


def test_R_REG_1_face_must_match_and_steps_cannot_be_skipped(svc, world):
    """R-REG-1: a face that does not match does not register; basic info cannot precede the identity."""
    fid = registration.start(svc, agreement=True)["flow"]
    assert err(registration.send_code, svc, fid, "13700000001").code == "flow_state"
    registration.submit_identity(svc, fid, name="新用户", doc_type="resident_id", doc_number=NEW_ID)
    assert err(registration.begin_face, svc, fid, "taxapp").code == "flow_state"
    basic(svc, fid)
    t = registration.begin_face(svc, fid, "taxapp")
    confirm(svc, t["ticket"], app="taxapp", face_ok=False)
    assert err(registration.complete_face, svc, fid).code == "face_mismatch"
    assert not Person.select().where(Person.name == "新用户").exists()


def test_R_REG_2_document_types_online_and_offline(svc, world):
    """R-REG-2: eleven types; the seven online ones register directly, the four others only after a
    hall collection; malformed numbers (bad ID check digit) are refused."""
    from authz.accounts import DOC_TYPES
    assert len(DOC_TYPES) == 11 and sum(t.online for t in DOC_TYPES.values()) == 7
    fid = registration.start(svc, agreement=True, overseas=True)["flow"]
    assert err(registration.submit_identity, svc, fid, name="Anna Berg", doc_type="foreign_passport",
               doc_number="P1234567").code == "offline_collection_required"
    assert err(registration.submit_identity, svc, fid, name="x", doc_type="resident_id",
               doc_number=NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")).code == "document_invalid"
    hall.collect(svc, operator="hall-1", name="Anna Berg", doc_type="foreign_passport", doc_number="P1234567",
                 phone="13700000002")
    assert registration.submit_identity(svc, fid, name="Anna Berg", doc_type="foreign_passport",
                                        doc_number="P1234567")["state"] == "basic_info"


def test_R_REG_3_hall_collected_with_the_same_phone_skips_the_face_scan(svc, world):
    """R-REG-3: collected at a hall and registering with the collected phone -> done without a face scan;
    with another phone -> face scan required."""
    hall.collect(svc, operator="hall-1", name="采集甲", doc_type="resident_id", doc_number=NEW_ID,
                 phone="13700000003")
    done = basic(svc, to_basic(svc, name="采集甲"), phone="13700000003")
    assert done["state"] == "done" and done["verified_by"] == "hall_collected_phone"
    other = rid("36010219930909009")
    hall.collect(svc, operator="hall-1", name="采集乙", doc_type="resident_id", doc_number=other, phone="13700000004")
    assert basic(svc, to_basic(svc, name="采集乙", doc=other), phone="13700000005")["state"] == "face"


def test_R_REG_7_hall_registration_code_replaces_the_face_scan(svc, world, clock):
    """R-REG-7: a hall code (6 letters/digits, valid 7 days, single use) proves the identity; a wrong
    or expired code does not."""
    code, row = hall.issue_code(svc, operator="hall-1", name="码用户", doc_type="resident_id", doc_number=NEW_ID)
    assert len(code) == 6 and code.isalnum() and row.expires_at - svc.clock.time() == 7 * 86400
    assert code not in repr(row.__data__)
    fid = to_basic(svc, name="码用户")
    registration.send_code(svc, fid, "13700000006")
    assert err(registration.submit_basic, svc, fid, password=PASSWORD, confirm_password=PASSWORD,
               phone="13700000006", code=last_code("13700000006"), registration_code="ZZZZZZ").code == \
        "registration_code_invalid"
    registration.send_code(svc, fid, "13700000006")
    done = registration.submit_basic(svc, fid, password=PASSWORD, confirm_password=PASSWORD, phone="13700000006",
                                     code=last_code("13700000006"), registration_code=code.lower())
    assert done["verified_by"] == "hall_code"
    other = rid("36010219930909009")
    code2, _ = hall.issue_code(svc, operator="hall-1", name="过期", doc_type="resident_id", doc_number=other)
    clock.advance(days=7)
    fid = to_basic(svc, name="过期", doc=other)
    registration.send_code(svc, fid, "13700000007")
    assert err(registration.submit_basic, svc, fid, password=PASSWORD, confirm_password=PASSWORD,
               phone="13700000007", code=last_code("13700000007"), registration_code=code2).code == \
        "registration_code_invalid"


def test_R_REG_4_R_PHONE_6_the_phone_goes_to_who_answered_the_code(svc, world):
    """R-REG-4 / R-PHONE-6: registering with a phone another person holds takes it from them (their next
    phone becomes default); they can still log in by ID number."""
    Phone.create(person=world["plain"], number="13900000010", is_default=False, created_at=svc.clock.time())
    fid = to_basic(svc)
    basic(svc, fid, phone="13800000004")  # p-plain's default phone
    t = registration.begin_face(svc, fid, "taxapp")
    confirm(svc, t["ticket"], app="taxapp")
    uid = registration.complete_face(svc, fid)["person"]
    holder = Phone.get(Phone.number == "13800000004").person
    assert holder.uid == uid and Phone.get(Phone.number == "13800000004").is_default
    assert Phone.get(Phone.number == "13900000010").is_default  # p-plain's remaining phone
    st = login.start(svc, entry="personal", account="13800000004", password=PASSWORD)
    login.begin_factor(svc, st.view["flow"], "sms")
    row = login.complete_factor(svc, st.view["flow"], "sms", last_code("13800000004")).session_row
    assert row.person.uid == uid  # the phone now names the new person
    assert login.start(svc, entry="personal", account=rid("36010220000404004"), password=PASSWORD)


def test_R_REG_8_reregistration_after_deregistration_restores_bindings(svc, world):
    """R-REG-8: a deregistered person registering again gets the same person back, bindings included;
    enterprise login works again at once."""
    officer = world["officer"]
    raw, _ = sessions.create(svc, officer, Identity(Entry.ENTERPRISE, f"ent:{USCC}", "tax_officer"))
    # deregistration (issue 5 owns the flow): identity closed, phones/username/password removed
    Person.update(status="deregistered", password_hash=None, username=None).where(Person.id == officer.id).execute()
    Phone.delete().where(Phone.person == officer).execute()
    sessions.end_all_for_person(svc, officer, sessions.EndReason.DEREGISTERED)
    svc.changed("grant", f"{officer.uid}|")
    assert not svc.enforcer.can(officer.uid, f"ent:{USCC}", "biz.declare_pay", "use")
    assert err(sessions.resolve, svc, raw).code == "session_expired"  # replay after deregistration
    assert err(login.start, svc, entry="personal", account=rid("36010219900202002"), password=PASSWORD).code == \
        "not_registered"
    fid = to_basic(svc, name="李四", doc=rid("36010219900202002"))
    basic(svc, fid, phone="13700000008")
    t = registration.begin_face(svc, fid, "iitapp")
    confirm(svc, t["ticket"], app="iitapp", person_uid=officer.uid, app_login=True)
    done = registration.complete_face(svc, fid)
    assert done["person"] == officer.uid
    assert Binding.get(Binding.person == officer).state == "active"
    assert svc.enforcer.can(officer.uid, f"ent:{USCC}", "biz.declare_pay", "use")
    st = login.start(svc, entry="enterprise", account="13700000008", password=PASSWORD, uscc=USCC)
    login.begin_factor(svc, st.view["flow"], "sms")
    assert login.complete_factor(svc, st.view["flow"], "sms", last_code("13700000008")).session


def test_R_USR_1_R_PWD_1_rules_at_registration(svc, world):
    """R-USR-1 / R-PWD-1: username shape and uniqueness, password policy and the common list."""
    fid = to_basic(svc)
    registration.send_code(svc, fid, "13700000009")
    code = last_code("13700000009")
    for kw, expected in ((dict(username="1abcdef"), "username_invalid"), (dict(username="zhangsan01"), "username_taken"),
                         (dict(password="Password123", confirm_password="Password123"), "password_common"),
                         (dict(password="abcdefgh1", confirm_password="abcdefgh1"), "password_classes"),
                         (dict(password="Abc 12345", confirm_password="Abc 12345"), "password_whitespace")):
        args = dict(password=PASSWORD, confirm_password=PASSWORD, phone="13700000009", code=code) | kw
        assert err(registration.submit_basic, svc, fid, **args).code == expected


def test_R_USR_1_a_username_taken_during_the_face_step_answers_409_not_500(svc, world, directory):
    """R-USR-1 (issue 10 finding 10, concurrency): the username was free at basic info, another person
    takes it while this one scans their face; the finish answers 409 username_taken, nothing is created,
    and the name stays with whoever took it first."""
    fid = to_basic(svc)
    assert basic(svc, fid, username="xinyonghu2")["state"] == "face"
    other = Person.get(Person.uid == "p-plain")
    Person.update(username="xinyonghu2").where(Person.id == other.id).execute()
    t = registration.begin_face(svc, fid, "taxapp")
    confirm(svc, t["ticket"], app="taxapp")
    before = Person.select().count()
    assert err(registration.complete_face, svc, fid).code == "username_taken"
    assert Person.select().count() == before
    assert Person.get(Person.username == "xinyonghu2").uid == "p-plain"
