"""Finding a person by what they type, document types (R-REG-2) and phone ownership (R-PHONE-1, R-PHONE-6)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .db import database
from .models import Document, Person, Phone

PHONE_RE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class DocType:
    code: str
    zh: str
    en: str
    online: bool  # may register online; otherwise only after offline collection at a hall
    overseas: bool  # typical holder registers as an overseas (境外) person
    pattern: str


# R-REG-2: eleven types, seven online, four only after hall collection.
DOC_TYPES: dict[str, DocType] = {d.code: d for d in [
    DocType("resident_id", "居民身份证", "Resident identity card", True, False, r"^[0-9]{17}[0-9X]$"),
    DocType("tw_residence", "中华人民共和国台湾居民居住证", "Taiwan residence permit", True, False, r"^830000[0-9]{11}[0-9X]$"),
    DocType("hkmo_residence", "中华人民共和国港澳居民居住证", "HK/Macau residence permit", True, False, r"^8[12]0000[0-9]{11}[0-9X]$"),
    DocType("hkmo_travel", "港澳居民来往内地通行证", "HK/Macau travel permit to the mainland", True, True, r"^[HM][0-9]{8,10}$"),
    DocType("tw_travel", "台湾居民来往大陆通行证", "Taiwan travel permit to the mainland", True, True, r"^[0-9]{8,10}$"),
    DocType("cn_passport", "中华人民共和国护照", "Chinese passport", True, True, r"^[EGDSP][A-Z0-9][0-9]{7}$"),
    DocType("foreign_pr", "外国人永久居留身份证", "Foreigner permanent residence ID", True, True, r"^[A-Z0-9]{15,18}$"),
    DocType("foreign_passport", "外国护照", "Foreign passport", False, True, r"^[A-Z0-9]{5,20}$"),
    DocType("work_permit_a", "中华人民共和国外国人工作许可证(A类)", "Foreigner work permit (A)", False, True, r"^[A-Z0-9]{9,20}$"),
    DocType("work_permit_b", "中华人民共和国外国人工作许可证(B类)", "Foreigner work permit (B)", False, True, r"^[A-Z0-9]{9,20}$"),
    DocType("work_permit_c", "中华人民共和国外国人工作许可证(C类)", "Foreigner work permit (C)", False, True, r"^[A-Z0-9]{9,20}$"),
]}

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of an 18-digit resident ID number."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def document_valid(doc_type: str, number: str) -> bool:
    t = DOC_TYPES.get(doc_type)
    if t is None or not re.fullmatch(t.pattern, number or ""):
        return False
    if doc_type in ("resident_id", "tw_residence", "hkmo_residence"):
        return id_check_char(number[:17]) == number[17]
    return True


def derived_from_document(doc_type: str, number: str) -> dict:
    """Gender and nationality where the document tells them (18-digit numbers: 17th digit odd = male)."""
    out: dict = {}
    if doc_type in ("resident_id", "tw_residence", "hkmo_residence") and len(number) == 18:
        out["gender"] = "male" if int(number[16]) % 2 else "female"
    if doc_type in ("resident_id", "cn_passport"):
        out["nationality"] = "CHN"
    elif doc_type in ("tw_residence", "tw_travel"):
        out["nationality"] = "TWN"
    elif doc_type in ("hkmo_residence", "hkmo_travel"):
        out["nationality"] = "HKG" if number[:1] in ("8", "H") and not number.startswith("82") else "MAC"
    return out


def normalise_doc_number(number: str) -> str:
    return (number or "").strip().upper()


def person_by_document(doc_type: str | None, number: str) -> Person | None:
    """The person holding this document (any type when doc_type is None and the number is unique)."""
    q = Document.select(Document.person).where(Document.doc_number == normalise_doc_number(number))
    if doc_type:
        q = q.where(Document.doc_type == doc_type)
    ids = {d.person_id for d in q}
    return Person.get_by_id(ids.pop()) if len(ids) == 1 else None


def primary_document(person: Person) -> Document | None:
    return (Document.select().where(Document.person == person)
            .order_by(Document.primary.desc(), Document.id).first())


def can_log_in(person: Person | None) -> bool:
    """An active person with a password, or a stock person still on the initial password (R-PWD-2)."""
    return bool(person and person.status == "active" and (person.password_hash or person.must_change_password))


def find_account(account: str, *, allow: tuple[str, ...] = ("phone", "document", "username")) -> tuple[Person | None, str]:
    """(person or None, account type) for what was typed at login (R-LOGIN-1, R-LOGIN-6)."""
    account = (account or "").strip()
    if "phone" in allow and PHONE_RE.fullmatch(account):
        ph = Phone.get_or_none(Phone.number == account)
        return (ph.person if ph else None), "phone"
    if "email" in allow and "@" in account:
        return Person.get_or_none(Person.email == account.lower()), "email"
    if "document" in allow:
        p = person_by_document(None, account)
        if p is not None:
            return p, "document"
    if "username" in allow:
        p = Person.get_or_none(Person.username == account)
        if p is not None:
            return p, "username"
    kind = "document" if "document" in allow and re.match(r"^[0-9]", account) else (
        "username" if "username" in allow else allow[0])
    return None, kind


def default_phone(person: Person) -> str | None:
    ph = (Phone.select().where(Phone.person == person).order_by(Phone.is_default.desc(), Phone.id).first())
    return ph.number if ph else None


def phones_of(person: Person) -> list[str]:
    return [p.number for p in Phone.select().where(Phone.person == person).order_by(Phone.id)]


def take_over_phone(svc, person: Person, number: str, *, make_default: bool = False) -> list[str]:
    """R-REG-4 / R-PHONE-6: the person who answered the SMS code gets the number; anyone else holding it
    loses it (their next phone becomes default, R-PHONE-2). Returns the uids that lost it."""
    lost = []
    with database.atomic():
        other = Phone.get_or_none((Phone.number == number) & (Phone.person != person))
        if other is not None:
            loser = other.person
            was_default = other.is_default
            other.delete_instance()
            lost.append(loser.uid)
            if was_default:
                nxt = Phone.select().where(Phone.person == loser).order_by(Phone.id).first()
                if nxt:
                    Phone.update(is_default=True).where(Phone.id == nxt.id).execute()
        mine = Phone.get_or_none((Phone.number == number) & (Phone.person == person))
        has_default = Phone.select().where((Phone.person == person) & (Phone.is_default == True)).exists()  # noqa: E712
        if mine is None:
            mine = Phone.create(person=person, number=number, is_default=not has_default,
                                created_at=svc.clock.time())
        if make_default and not mine.is_default:
            Phone.update(is_default=False).where(Phone.person == person).execute()
            Phone.update(is_default=True).where(Phone.id == mine.id).execute()
    return lost
