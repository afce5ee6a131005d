"""Personal information (R-INFO-1 view with masking and completeness, R-MASK-1) and its maintenance
(R-INFO-2: username R-USR-1, email, name, document validity, address)."""
from __future__ import annotations

import datetime as dt
import json

from authz.clock import SHANGHAI
from authz.flows import login, personal_info
from authz.models import AuditLog, Document, Person
from tests.person_support import *  # noqa: F401,F403
from tests.person_support import PASSWORD, USCC, err, face, in_enterprise, last_code, personal, rid


def test_R_INFO_1_basic_view_is_masked_with_level_and_completeness(svc, world):
    """R-INFO-1 / R-MASK-1: name, document number and phones are masked; the level and the completeness
    of phone, email and address are shown; nothing unmasked anywhere in the answer."""
    me = personal(svc, world["legal"])
    out = personal_info.view(svc, me)
    text = json.dumps(out, ensure_ascii=False)
    for secret in ("张三", rid("36010219800101001"), "13800000001"):
        assert secret not in text
    assert out["name"] == "*三" and out["phones"][0]["phone"] == "138****0001"
    assert out["documents"][0]["doc_number"].startswith("36") and "*" in out["documents"][0]["doc_number"]
    assert out["realname_level"] == 4 and out["username"] == "zhangsan01"
    assert out["completeness"] == {"items": {"phone": True, "email": False, "address": False}, "percent": 33}
    personal_info.update(svc, me, email="Zhang@Example.com", address="南昌市红谷滩区")
    assert personal_info.view(svc, me)["completeness"]["percent"] == 100


def at(year, month, day, hour=10, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def test_R_USR_1_username_changes_once_per_calendar_year_in_shanghai(svc, world, clock):
    """R-USR-1: an existing username changes once per calendar year; a second change that year is refused
    (even at 23:59 on 31 December, Asia/Shanghai), and allowed again from 1 January 00:00 Asia/Shanghai."""
    me = personal(svc, world["legal"])
    out = personal_info.change_username(svc, me, "zhangsan02")
    assert out["state"] == "done" and out["username_next_change"] == "2027-01-01"
    e = err(personal_info.change_username, svc, me, "zhangsan03")
    assert e.code == "username_change_yearly" and "2027-01-01" in e.message("en")
    clock.set(at(2026, 12, 31, 23, 59))
    me = personal(svc, world["legal"])
    assert err(personal_info.change_username, svc, me, "zhangsan03").code == "username_change_yearly"
    clock.set(at(2027, 1, 1, 0, 0))  # 2026-12-31 16:00 UTC: a new year in Shanghai
    me = personal(svc, world["legal"])
    assert personal_info.change_username(svc, me, "zhangsan03")["username"] == "zhangsan03"
    assert err(personal_info.change_username, svc, me, "zhangsan04").code == "username_change_yearly"
    # logging in with the new username works, the old does not
    assert login.start(svc, entry="personal", account="zhangsan03", password=PASSWORD).view["flow"]
    assert err(login.start, svc, entry="personal", account="zhangsan02", password=PASSWORD).code == "not_registered"


def test_R_USR_1_a_first_username_is_set_freely(svc, world):
    """R-USR-1: a person without a username sets one without using up the year's change."""
    me = personal(svc, world["plain"])
    out = personal_info.change_username(svc, me, "zhaoliu01")
    assert out["username_next_change"] is None
    assert personal_info.change_username(svc, me, "zhaoliu02")["username_next_change"] == "2027-01-01"
    assert AuditLog.select().where(AuditLog.action == "person.username.change").count() == 2


def test_R_USR_1_format_uniqueness_and_case(svc, world):
    """R-USR-1: 6-20 letters or digits starting with a letter; unique; case-sensitive."""
    me = personal(svc, world["plain"])
    for bad in ("1abcdef", "abc", "a" * 21, "abc_def1", "张三abcdef"):
        assert err(personal_info.change_username, svc, me, bad).code == "username_invalid"
    assert err(personal_info.change_username, svc, me, "zhangsan01").code == "username_taken"
    assert personal_info.change_username(svc, me, "ZhangSan01")["username"] == "ZhangSan01"
    assert err(personal_info.change_username, svc, personal(svc, world["legal"]), "zhangsan01").code == "username_unchanged"


def test_R_USR_1_enterprise_side_changes_are_confirmed_by_sms_or_face(svc, world):
    """R-USR-1: from enterprise business the change waits for an SMS code to the default phone (or a face
    scan); nothing changes before; the yearly rule is checked again at the end."""
    me = in_enterprise(svc, world["officer"], USCC, "tax_officer")
    f = personal_info.change_username(svc, me, "lisi0001")
    assert f["state"] == "verify" and f["flow"].startswith("azf_")
    assert Person.get(Person.uid == "p-officer").username is None
    personal_info.begin_username_factor(svc, me, f["flow"], "sms")
    out = personal_info.verify_username_factor(svc, me, f["flow"], "sms", last_code("13800000002"))
    assert out["username"] == "lisi0001"
    f = personal_info.change_username(svc, me, "lisi0002")
    face(svc, personal_info.begin_username_factor(svc, me, f["flow"], "taxapp"), "p-officer")
    assert personal_info.verify_username_factor(svc, me, f["flow"], "taxapp")["username"] == "lisi0002"
    assert err(personal_info.change_username, svc, me, "lisi0003").code == "username_change_yearly"


def test_R_USR_1_two_pending_confirmations_cannot_both_change(svc, world):
    """R-USR-1 under two flows opened before either finished: the second is refused at completion."""
    svc_me = in_enterprise(svc, world["legal"], USCC, "legal_rep")
    a = personal_info.change_username(svc, svc_me, "zhangsanA1")["flow"]
    b = personal_info.change_username(svc, svc_me, "zhangsanB1")["flow"]
    face(svc, personal_info.begin_username_factor(svc, svc_me, a, "taxapp"), "p-legal")
    face(svc, personal_info.begin_username_factor(svc, svc_me, b, "taxapp"), "p-legal")
    personal_info.verify_username_factor(svc, svc_me, a, "taxapp")
    assert err(personal_info.verify_username_factor, svc, svc_me, b, "taxapp").code == "username_change_yearly"
    assert Person.get(Person.uid == "p-legal").username == "zhangsanA1"


# ---- the atomic guard (issue 10 finding 10): what the database refuses, whatever the caller read
def test_R_USR_1_guard_refuses_a_change_on_a_stale_read(svc, world, clock):
    """R-USR-1 (issue 10 finding 10): claim_username writes only if the row still allows it. A caller that
    read the row before another change landed this year cannot change it again; last year's change
    (FrozenClock moved into a new year) no longer counts."""
    stale = Person.get(Person.uid == "p-legal")  # zhangsan01, never changed
    assert personal_info.claim_username(svc, Person.get_by_id(stale.id), "zhangsan02")
    assert not personal_info.claim_username(svc, stale, "zhangsan03")  # the stale read says "never changed"
    assert Person.get_by_id(stale.id).username == "zhangsan02"
    clock.set(at(2027, 1, 1, 0, 0))  # 1 January in Shanghai: last year's change is spent
    assert personal_info.claim_username(svc, Person.get_by_id(stale.id), "zhangsan03")
    assert not personal_info.claim_username(svc, Person.get_by_id(stale.id), "zhangsan04")
    assert Person.get_by_id(stale.id).username_changed_at == clock.time()


def test_R_USR_1_guard_a_first_username_only_while_there_is_none(svc, world):
    """R-USR-1 (issue 10 finding 10): a first username is free only while the person has none: a caller
    that read "no username" after another request set one cannot overwrite it as if it were first (that
    was the second winner whose change did not use up the year)."""
    stale = Person.get(Person.uid == "p-plain")
    assert stale.username is None
    assert personal_info.claim_username(svc, Person.get_by_id(stale.id), "zhaoliu01")
    assert not personal_info.claim_username(svc, stale, "zhaoliu02")
    row = Person.get_by_id(stale.id)
    assert (row.username, row.username_changed_at) == ("zhaoliu01", None)


def test_R_USR_1_change_racing_a_change_gets_the_yearly_code(svc, world, monkeypatch):
    """R-USR-1 (issue 10 finding 10), the PostgreSQL interleaving replayed in one process: another change
    commits between this request's read and its write. The refused claim is re-read and answered with the
    once-a-year code (409 username_change_yearly), not a generic conflict. (Replayed in one process the
    other change shares this transaction and rolls back with it; what matters is that this one is not
    written.)"""
    real = personal_info.claim_username
    me = personal(svc, world["legal"])

    def concurrent_first(svc_, person, username):
        monkeypatch.setattr(personal_info, "claim_username", real)
        assert real(svc_, Person.get_by_id(person.id), "zhangsanZZ")  # the other request wins
        return real(svc_, person, username)

    monkeypatch.setattr(personal_info, "claim_username", concurrent_first)
    e = err(personal_info.change_username, svc, me, "zhangsan02")
    assert (e.code, e.status, e.errors) == ("username_change_yearly", 409, {"next_change": "2027-01-01"})
    assert Person.get(Person.uid == "p-legal").username != "zhangsan02"


def test_R_USR_1_first_set_racing_a_first_set_becomes_the_years_change(svc, world, monkeypatch):
    """R-USR-1 (issue 10 finding 10): two first-username requests interleave; the later one, re-read, is a
    change of the name the other set, and it counts as this year's change (once serialised, exactly what
    two requests in a row would do); a third is refused."""
    real = personal_info.claim_username
    me = personal(svc, world["plain"])

    def concurrent_first(svc_, person, username):
        monkeypatch.setattr(personal_info, "claim_username", real)
        assert real(svc_, Person.get_by_id(person.id), "zhaoliuA1")
        return real(svc_, person, username)

    monkeypatch.setattr(personal_info, "claim_username", concurrent_first)
    out = personal_info.change_username(svc, me, "zhaoliuB1")
    assert (out["username"], out["username_next_change"]) == ("zhaoliuB1", "2027-01-01")
    assert err(personal_info.change_username, svc, me, "zhaoliuC1").code == "username_change_yearly"


def test_R_USR_1_name_taken_at_the_write_is_username_taken(svc, world, monkeypatch):
    """R-USR-1 (issue 10 finding 10): another person takes the name between the check and the write: the
    unique index refuses it and the answer is 409 username_taken, not an IntegrityError."""
    real = personal_info.claim_username
    me = personal(svc, world["plain"])

    def concurrent_first(svc_, person, username):
        monkeypatch.setattr(personal_info, "claim_username", real)
        Person.update(username=username).where(Person.uid == "p-officer").execute()
        return real(svc_, person, username)

    monkeypatch.setattr(personal_info, "claim_username", concurrent_first)
    assert err(personal_info.change_username, svc, me, "takenName1").code == "username_taken"
    assert Person.get(Person.uid == "p-plain").username is None


def test_R_INFO_2_email_name_address(svc, world):
    """R-INFO-2: email (well-formed, lower-cased, not another person's), name and address; audited by
    field name only."""
    me = personal(svc, world["plain"])
    out = personal_info.update(svc, me, email="Zhao@Example.COM", name="赵六六", address="江西省南昌市")
    assert out["email"] == "zhao@example.com" and out["name"] == "**六" and out["address"] == "江西省南昌市"
    assert err(personal_info.update, svc, me, email="not-an-email").code == "email_invalid"
    assert err(personal_info.update, svc, personal(svc, world["legal"]), email="zhao@example.com").code == "email_taken"
    assert err(personal_info.update, svc, me, name=" ").code == "name_invalid"
    assert err(personal_info.update, svc, me, address="x" * 301).code == "address_invalid"
    assert err(personal_info.update, svc, me).code == "nothing_to_change"
    assert personal_info.update(svc, me, email="")["email"] is None
    row = AuditLog.select().where(AuditLog.action == "person.info.update").order_by(AuditLog.id).first()
    assert row.detail == {"fields": ["address", "email", "name"]} and "赵六六" not in str(row.detail)


def test_R_INFO_2_document_validity_custom_or_long_term(svc, world):
    """R-INFO-2: custom validity needs a start and a later end; long-term has a start only."""
    me = personal(svc, world["plain"])
    d0, d1 = dt.date(2020, 1, 1), dt.date(2040, 1, 1)
    out = personal_info.set_document_validity(svc, me, long_term=False, valid_from=d0, valid_to=d1)
    assert out["valid_from"] == "2020-01-01" and out["valid_to"] == "2040-01-01" and not out["long_term"]
    out = personal_info.set_document_validity(svc, me, long_term=True, valid_from=d0)
    assert out["long_term"] and out["valid_to"] is None
    doc = Document.get(Document.person == world["plain"])
    assert doc.long_term and doc.valid_to is None
    assert err(personal_info.set_document_validity, svc, me, long_term=False, valid_from=d0).code == "document_validity_invalid"
    assert err(personal_info.set_document_validity, svc, me, long_term=False, valid_from=d1, valid_to=d0).code == "document_validity_invalid"
    assert err(personal_info.set_document_validity, svc, me, long_term=True, valid_from=d0, valid_to=d1).code == "document_validity_invalid"
    assert err(personal_info.set_document_validity, svc, me, long_term=True, valid_from=dt.date(2030, 1, 1)).code == "document_validity_invalid"
    other = Document.get(Document.person == world["legal"])
    assert err(personal_info.set_document_validity, svc, me, long_term=True, valid_from=d0,
               document_id=other.id).code == "document_not_found"
