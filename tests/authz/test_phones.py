"""Phones in the account centre (R-PHONE-1..6): add, modify the default, delete, set default; every
verification step, flow binding, and one number per person."""
from __future__ import annotations

from authz.flows import phones
from authz.models import AuditLog, Phone
from tests.person_support import *  # noqa: F401,F403
from tests.person_support import err, face, last_code, personal

NEW = "13900000001"


def numbers(person):
    return [(p.number, p.is_default) for p in Phone.select().where(Phone.person == person).order_by(Phone.id)]


def add(svc, actor, number, *, old_phone="13800000004"):
    f = phones.start(svc, actor, "add")["flow"]
    phones.begin_factor(svc, actor, "add", f, "sms")
    assert phones.verify_factor(svc, actor, "add", f, "sms", last_code(old_phone))["state"] == "new_phone"
    phones.send_new_code(svc, actor, "add", f, number)
    return phones.verify_new(svc, actor, "add", f, last_code(number))


def test_R_PHONE_3_add_verifies_the_default_phone_then_the_new_one(svc, world):
    """R-PHONE-3: SMS to the default phone, then the new number by its own SMS code; the new number is
    the person's, the default does not move (R-PHONE-2)."""
    me = personal(svc, world["plain"])
    out = add(svc, me, NEW)
    assert out["state"] == "done" and numbers(world["plain"]) == [("13800000004", True), (NEW, False)]
    assert "13800000004" not in str(out) and NEW not in str(out)  # masked (R-MASK-1)
    row = AuditLog.select().where(AuditLog.action == "person.phone.add").get()
    assert row.actor == "p-plain" and NEW not in str(row.detail)


def test_R_PHONE_3_the_verify_old_step_cannot_be_skipped(svc, world):
    """R-PHONE-3 (attacker's view): without verifying the default phone, no code can be sent to the new
    number and no code completes the flow; replaying a finished flow is refused."""
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "add")["flow"]
    assert err(phones.send_new_code, svc, me, "add", f, NEW).code == "flow_state"
    assert err(phones.verify_new, svc, me, "add", f, "123456").code == "flow_state"
    phones.begin_factor(svc, me, "add", f, "sms")
    assert err(phones.verify_factor, svc, me, "add", f, "sms", "000000").code in ("code_invalid",)
    phones.verify_factor(svc, me, "add", f, "sms", last_code("13800000004"))
    assert err(phones.verify_new, svc, me, "add", f, "123456").code == "phone_code_not_sent"
    phones.send_new_code(svc, me, "add", f, NEW)
    phones.verify_new(svc, me, "add", f, last_code(NEW))
    assert err(phones.verify_new, svc, me, "add", f, last_code(NEW)).code == "flow_state"


def test_R_PHONE_3_only_the_code_sent_to_the_final_number_proves_it(svc, world):
    """R-PHONE-3: after asking codes for A and then B, A's code does not add B (nor A)."""
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "add")["flow"]
    phones.begin_factor(svc, me, "add", f, "sms")
    phones.verify_factor(svc, me, "add", f, "sms", last_code("13800000004"))
    phones.send_new_code(svc, me, "add", f, "13900000002")
    code_a = last_code("13900000002")
    phones.send_new_code(svc, me, "add", f, NEW)
    if code_a != last_code(NEW):
        assert err(phones.verify_new, svc, me, "add", f, code_a).code == "code_invalid"
    phones.verify_new(svc, me, "add", f, last_code(NEW))
    assert ("13900000002", False) not in numbers(world["plain"])


def test_R_PHONE_3_face_scan_when_the_default_phone_is_unreachable(svc, world):
    """R-PHONE-3: the first step by a face scan of the person; someone else's face fails."""
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "add")["flow"]
    t = phones.begin_factor(svc, me, "add", f, "taxapp")
    face(svc, t, "p-legal")
    assert err(phones.verify_factor, svc, me, "add", f, "taxapp").code == "face_mismatch"
    t = phones.begin_factor(svc, me, "add", f, "taxapp")
    assert err(phones.verify_factor, svc, me, "add", f, "taxapp").code == "scan_pending"
    face(svc, t, "p-plain")
    assert phones.verify_factor(svc, me, "add", f, "taxapp")["state"] == "new_phone"


def test_R_PHONE_3_a_person_without_phones_adds_one_after_a_face_scan(svc, world):
    """R-PHONE-3 / R-REG-4: a person whose phone was blanked cannot get an SMS; the face scan works,
    and the first phone becomes the default (R-PHONE-2)."""
    Phone.delete().where(Phone.person == world["plain"]).execute()
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "add")["flow"]
    assert err(phones.begin_factor, svc, me, "add", f, "sms").code == "phone_missing_use_face"
    face(svc, phones.begin_factor(svc, me, "add", f, "iitapp"), "p-plain", app="iitapp")
    phones.verify_factor(svc, me, "add", f, "iitapp")
    phones.send_new_code(svc, me, "add", f, NEW)
    phones.verify_new(svc, me, "add", f, last_code(NEW))
    assert numbers(world["plain"]) == [(NEW, True)]


def test_R_PHONE_6_another_persons_number_needs_its_code_then_leaves_them(svc, world):
    """R-PHONE-6 / R-PHONE-1: adding a number held by someone else needs the code sent to that number
    (a guess fails and changes nothing); once proven, the number is removed from the old holder, who
    sees it in their own audit trail."""
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "add")["flow"]
    phones.begin_factor(svc, me, "add", f, "sms")
    phones.verify_factor(svc, me, "add", f, "sms", last_code("13800000004"))
    phones.send_new_code(svc, me, "add", f, "13800000001")  # p-legal's only phone
    real = last_code("13800000001")
    guess = "000000" if real != "000000" else "111111"
    assert err(phones.verify_new, svc, me, "add", f, guess).code == "code_invalid"
    assert numbers(world["legal"]) == [("13800000001", True)]
    phones.verify_new(svc, me, "add", f, real)
    assert numbers(world["legal"]) == []
    assert ("13800000001", False) in numbers(world["plain"])
    lost = AuditLog.get(AuditLog.action == "person.phone.taken_over")
    assert lost.target == "person:p-legal" and "13800000001" not in str(lost.detail)


def test_R_PHONE_6_the_old_holder_keeps_a_default(svc, world, directory):
    """R-PHONE-6 with R-PHONE-2: when the holder's default number is taken, their next phone becomes default."""
    Phone.create(person=world["legal"], number="13800000011", is_default=False, created_at=svc.clock.time())
    add(svc, personal(svc, world["plain"]), "13800000001")
    assert numbers(world["legal"]) == [("13800000011", True)]


def test_R_PHONE_1_a_number_already_mine_is_refused(svc, world):
    """R-PHONE-1: adding one's own number again is refused before any code is sent."""
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "add")["flow"]
    phones.begin_factor(svc, me, "add", f, "sms")
    phones.verify_factor(svc, me, "add", f, "sms", last_code("13800000004"))
    assert err(phones.send_new_code, svc, me, "add", f, "13800000004").code == "phone_already_yours"
    assert err(phones.send_new_code, svc, me, "add", f, "12345").code == "phone_invalid"


def test_R_PHONE_4_modify_replaces_the_default_and_removes_the_old_number(svc, world):
    """R-PHONE-4: verify the old default (SMS), then the new number (SMS): the new is the default and the
    old number is gone."""
    Phone.create(person=world["plain"], number="13800000044", is_default=False, created_at=svc.clock.time())
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "modify")["flow"]
    phones.begin_factor(svc, me, "modify", f, "sms")
    phones.verify_factor(svc, me, "modify", f, "sms", last_code("13800000004"))
    phones.send_new_code(svc, me, "modify", f, NEW)
    out = phones.verify_new(svc, me, "modify", f, last_code(NEW))
    assert out["op"] == "modify"
    assert numbers(world["plain"]) == [("13800000044", False), (NEW, True)]


def test_R_PHONE_4_modify_by_face_scan(svc, world):
    """R-PHONE-4: the old default verified by a face scan instead of SMS."""
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "modify")["flow"]
    face(svc, phones.begin_factor(svc, me, "modify", f, "taxapp"), "p-plain")
    phones.verify_factor(svc, me, "modify", f, "taxapp")
    phones.send_new_code(svc, me, "modify", f, NEW)
    phones.verify_new(svc, me, "modify", f, last_code(NEW))
    assert numbers(world["plain"]) == [(NEW, True)]


def test_R_PHONE_5_delete_a_non_default_phone_after_verification(svc, world):
    """R-PHONE-5 / R-PHONE-2: a non-default phone is deleted after an SMS code; the default and the only
    phone cannot be deleted, even if that became true after the flow started."""
    me = personal(svc, world["plain"])
    default = Phone.get(Phone.number == "13800000004")
    assert err(phones.start, svc, me, "delete", default.id).code == "phone_is_default"
    other = Phone.create(person=world["plain"], number="13800000044", is_default=False, created_at=svc.clock.time())
    assert err(phones.start, svc, me, "delete", default.id).code == "phone_is_default"
    f = phones.start(svc, me, "delete", other.id)["flow"]
    phones.begin_factor(svc, me, "delete", f, "sms")
    out = phones.verify_factor(svc, me, "delete", f, "sms", last_code("13800000004"))
    assert out["state"] == "done" and numbers(world["plain"]) == [("13800000004", True)]
    # the only phone
    Phone.update(is_default=False).where(Phone.id == default.id).execute()
    assert err(phones.start, svc, me, "delete", default.id).code == "phone_only_one"


def test_R_PHONE_2_the_default_rechecked_when_the_deletion_completes(svc, world):
    """R-PHONE-2: a phone made default after its deletion started is not deleted."""
    me = personal(svc, world["plain"])
    other = Phone.create(person=world["plain"], number="13800000044", is_default=False, created_at=svc.clock.time())
    f = phones.start(svc, me, "delete", other.id)["flow"]
    face(svc, phones.begin_factor(svc, me, "delete", f, "taxapp"), "p-plain")
    phones.set_default(svc, me, other.id)
    assert err(phones.verify_factor, svc, me, "delete", f, "taxapp").code == "phone_is_default"
    assert len(numbers(world["plain"])) == 2


def test_R_PHONE_2_set_default_moves_the_single_default(svc, world):
    """R-PHONE-2: set as default moves it; exactly one default remains."""
    me = personal(svc, world["plain"])
    other = Phone.create(person=world["plain"], number="13800000044", is_default=False, created_at=svc.clock.time())
    listed = phones.set_default(svc, me, other.id)["phones"]
    assert [p["is_default"] for p in listed] == [True, False] and listed[0]["phone"] == "138****0044"
    assert numbers(world["plain"]) == [("13800000004", False), ("13800000044", True)]


def test_R_PHONE_flows_belong_to_their_person_session_and_operation(svc, world):
    """Flow binding: another person's flow id, the same person's flow from another session, and an add
    flow driven through the delete or modify operation are all not found; another person's phone id is
    not found either."""
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "add")["flow"]
    assert err(phones.begin_factor, svc, personal(svc, world["legal"]), "add", f, "sms").code == "flow_not_found"
    assert err(phones.begin_factor, svc, personal(svc, world["plain"]), "add", f, "sms").code == "flow_not_found"
    assert err(phones.begin_factor, svc, me, "modify", f, "sms").code == "flow_not_found"
    assert err(phones.begin_factor, svc, me, "delete", f, "sms").code == "flow_not_found"
    legal_phone = Phone.get(Phone.number == "13800000001")
    assert err(phones.set_default, svc, me, legal_phone.id).code == "phone_not_found_for_person"
    assert err(phones.start, svc, me, "delete", legal_phone.id).code == "phone_not_found_for_person"


def test_R_PHONE_flow_expires(svc, world, clock):
    """Stored flows expire (flow_ttl_minutes)."""
    me = personal(svc, world["plain"])
    f = phones.start(svc, me, "add")["flow"]
    clock.advance(minutes=16)
    assert err(phones.begin_factor, svc, me, "add", f, "sms").code == "flow_expired"


def test_R_SMS_2_wrong_codes_count_toward_the_lockout(svc, world):
    """R-SMS-2 -> R-LOGIN-11: five wrong codes in account-centre steps lock the SMS method."""
    me = personal(svc, world["plain"])
    codes_seen = []
    for _ in range(5):
        f = phones.start(svc, me, "add")["flow"]
        phones.begin_factor(svc, me, "add", f, "sms")
        wrong = "000000" if last_code("13800000004") != "000000" else "111111"
        codes_seen.append(err(phones.verify_factor, svc, me, "add", f, "sms", wrong).code)
    assert codes_seen[-1] == "account_locked"
    f = phones.start(svc, me, "add")["flow"]
    assert err(phones.begin_factor, svc, me, "add", f, "sms").code == "account_locked"
