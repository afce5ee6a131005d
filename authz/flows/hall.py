"""Tax-hall side of registration: offline real-name collection (R-REG-2, R-REG-3) and hall registration
codes (R-REG-7: 6 random letters/digits, valid 7 days, single use). Called by service-authenticated hall
endpoints (scope `hall`)."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from .. import accounts, audit
from ..db import database
from ..errors import AuthzError, code
from ..models import Document, HallRegistrationCode, Person

E_DOC_TYPE = code("document_type_unknown")
E_DOC_INVALID = code("document_invalid")
E_NAME_MISMATCH = code("identity_mismatch")
E_HALL_CODE = code("registration_code_invalid")

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a counter
MAX_CODE_ATTEMPTS = 5


def check_document(doc_type: str, doc_number: str) -> str:
    """The normalised number if the type is one of the eleven and the number has its shape."""
    if doc_type not in accounts.DOC_TYPES:
        raise AuthzError(E_DOC_TYPE, errors={"doc_type": sorted(accounts.DOC_TYPES)})
    number = accounts.normalise_doc_number(doc_number)
    if not accounts.document_valid(doc_type, number):
        raise AuthzError(E_DOC_INVALID)
    return number


def _person_for(svc, name: str, doc_type: str, number: str, **fields) -> Person:
    person = accounts.person_by_document(doc_type, number)
    if person is None:
        now = svc.clock.time()
        derived = accounts.derived_from_document(doc_type, number)
        person = Person.create(uid=_uid(), name=name, realname_level=3, created_at=now, updated_at=now,
                               overseas=accounts.DOC_TYPES[doc_type].overseas, **derived, **fields)
        Document.create(person=person, doc_type=doc_type, doc_number=number, primary=True, created_at=now)
    elif person.name != name:
        raise AuthzError(E_NAME_MISMATCH)
    return person


def _uid() -> str:
    from ..ids import new_person_uid
    return new_person_uid()


def collect(svc, *, operator: str, name: str, doc_type: str, doc_number: str, phone: str) -> Person:
    """Offline real-name collection at a hall: the person (created if new) is marked collected, with the
    phone given at the counter (R-REG-3 compares it at registration)."""
    number = check_document(doc_type, doc_number)
    if not accounts.PHONE_RE.fullmatch(phone or ""):
        raise AuthzError("validation_failed", errors={"phone": ["a mainland mobile number"]})
    with database.atomic():
        person = _person_for(svc, name, doc_type, number)
        Person.update(collected_offline=True, collected_phone=phone, updated_at=svc.clock.time()).where(
            Person.id == person.id).execute()
        audit.record(svc, actor=f"service:{operator}", action="hall.collect", target=person.uid)
    return Person.get_by_id(person.id)


def _digest(person_id: int, code: str) -> str:
    return hmac.new(f"hall|{person_id}".encode(), code.upper().encode(), hashlib.sha256).hexdigest()


def issue_code(svc, *, operator: str, name: str, doc_type: str, doc_number: str) -> tuple[str, HallRegistrationCode]:
    """A registration code for the person holding the document (collected now if new); shown once."""
    number = check_document(doc_type, doc_number)
    now = svc.clock.time()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
    with database.atomic():
        person = _person_for(svc, name, doc_type, number)
        if not person.collected_offline:
            Person.update(collected_offline=True, updated_at=now).where(Person.id == person.id).execute()
        row = HallRegistrationCode.create(person=person, code_digest=_digest(person.id, code), issued_by=operator,
                                          created_at=now, expires_at=now + svc.settings.hall_code_days * 86400)
        audit.record(svc, actor=f"service:{operator}", action="hall.registration_code", target=person.uid)
    return code, row


def use_code(svc, person: Person, code: str) -> None:
    """Consume one live code of the person matching `code`, or raise (wrong tries are capped per person)."""
    now = svc.clock.time()
    live = list(HallRegistrationCode.select().where(
        (HallRegistrationCode.person == person) & HallRegistrationCode.used_at.is_null()
        & (HallRegistrationCode.expires_at > now) & (HallRegistrationCode.attempts < MAX_CODE_ATTEMPTS)))
    given = _digest(person.id, code or "")
    match = next((r for r in live if hmac.compare_digest(r.code_digest, given)), None)
    if match is None:
        ids = [r.id for r in live]
        if ids:
            HallRegistrationCode.update(attempts=HallRegistrationCode.attempts + 1).where(
                HallRegistrationCode.id.in_(ids)).execute()
        raise AuthzError(E_HALL_CODE)
    n = (HallRegistrationCode.update(used_at=now)
         .where((HallRegistrationCode.id == match.id) & HallRegistrationCode.used_at.is_null()).execute())
    if n != 1:
        raise AuthzError(E_HALL_CODE)
