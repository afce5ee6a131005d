"""Personal documents (R-DOC-1): list (masked) and add one of the seven online types after an app face
scan; a document held by another person is refused."""
from __future__ import annotations

import datetime as dt
import json

from authz.flows import documents
from authz.models import AuditLog, Document
from tests.person_support import *  # noqa: F401,F403
from tests.person_support import err, face, personal, rid

HK = "H12345678"


def test_R_DOC_1_list_is_masked_with_the_seven_online_types(svc, world):
    """R-DOC-1 / R-MASK-1: my documents with masked numbers; the addable types are the seven online ones."""
    out = documents.list_documents(svc, personal(svc, world["plain"]))
    assert rid("36010220000404004") not in json.dumps(out)
    assert len(out["documents"]) == 1 and out["documents"][0]["primary"]
    assert {t["code"] for t in out["addable_types"]} == {"resident_id", "tw_residence", "hkmo_residence", "hkmo_travel",
                                                          "tw_travel", "cn_passport", "foreign_pr"}


def test_R_DOC_1_add_a_document_after_a_face_scan(svc, world):
    """R-DOC-1: the document is added only after the person's face scan (pending before)."""
    me = personal(svc, world["plain"])
    f = documents.start(svc, me, name="赵六", doc_type="hkmo_travel", doc_number=HK, long_term=False,
                        valid_from=dt.date(2020, 5, 1), valid_to=dt.date(2030, 4, 30))["flow"]
    t = documents.begin_factor(svc, me, f, "taxapp")
    assert err(documents.verify_factor, svc, me, f, "taxapp").code == "scan_pending"
    assert Document.select().where(Document.person == world["plain"]).count() == 1
    face(svc, t, "p-plain")
    out = documents.verify_factor(svc, me, f, "taxapp")
    assert out["document"]["doc_type"] == "hkmo_travel" and HK not in json.dumps(out)
    assert Document.get(Document.doc_number == HK).person_id == world["plain"].id
    assert AuditLog.get(AuditLog.action == "person.document.add").detail == {"doc_type": "hkmo_travel", "verified_by": "taxapp"}
    assert err(documents.start, svc, me, name="赵六", doc_type="hkmo_travel", doc_number=HK).code == "document_already_yours"


def test_R_DOC_1_a_document_held_by_another_person_is_refused(svc, world):
    """R-DOC-1: another person's document cannot be added (no double registration), at the start and at
    the end (someone took it while the scan was pending)."""
    me = personal(svc, world["plain"])
    e = err(documents.start, svc, me, name="赵六", doc_type="resident_id", doc_number=rid("36010219800101001"))
    assert e.code == "document_held_by_other" and rid("36010219800101001") not in e.message("zh")
    f = documents.start(svc, me, name="赵六", doc_type="hkmo_travel", doc_number=HK)["flow"]
    face(svc, documents.begin_factor(svc, me, f, "taxapp"), "p-plain")
    Document.create(person=world["legal"], doc_type="hkmo_travel", doc_number=HK, created_at=svc.clock.time())
    assert err(documents.verify_factor, svc, me, f, "taxapp").code == "document_held_by_other"
    assert Document.get(Document.doc_number == HK).person_id == world["legal"].id


def test_R_DOC_1_only_online_types_own_name_valid_numbers(svc, world):
    """R-DOC-1 / R-REG-2: the four hall-only types are refused online; the name must be mine; numbers
    are checked; a face that does not match adds nothing."""
    me = personal(svc, world["plain"])
    assert err(documents.start, svc, me, name="赵六", doc_type="foreign_passport", doc_number="X1234567").code == "document_type_not_online"
    assert err(documents.start, svc, me, name="张三", doc_type="hkmo_travel", doc_number=HK).code == "identity_mismatch"
    assert err(documents.start, svc, me, name="赵六", doc_type="resident_id", doc_number="360102200004040041").code == "document_invalid"
    f = documents.start(svc, me, name="赵六", doc_type="hkmo_travel", doc_number=HK)["flow"]
    face(svc, documents.begin_factor(svc, me, f, "taxapp"), "p-legal")
    assert err(documents.verify_factor, svc, me, f, "taxapp").code == "face_mismatch"
    assert not Document.select().where(Document.doc_number == HK).exists()
