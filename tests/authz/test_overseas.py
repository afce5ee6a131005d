"""R-REG-6: an overseas (境外) natural person registers online, files non-resident enterprise information,
and once the tax authority approves it (integration port) logs in through the non-resident entry."""
from __future__ import annotations

from authz import sessions
from authz.factors.app_scan import confirm_face as confirm
from authz.flows import integration, login, registration
from authz.models import Person
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, last_code

PERMIT = "H12345678"  # HK/Macau travel permit: one of the seven online document types


def test_R_REG_6_overseas_registration_then_nonresident_login(svc, world):
    """R-REG-6 / R-LOGIN-6: overseas registration with an online document type, face scan, level 4; the
    approved non-resident enterprise then admits that person through its identity code."""
    fid = registration.start(svc, agreement=True, overseas=True)["flow"]
    registration.submit_identity(svc, fid, name="陈境外", doc_type="hkmo_travel", doc_number=PERMIT)
    registration.send_code(svc, fid, "13700000066")
    out = registration.submit_basic(svc, fid, password=PASSWORD, confirm_password=PASSWORD, phone="13700000066",
                                    code=last_code("13700000066"), username="chenjingwai")
    assert out["state"] == "face"
    confirm(svc, registration.begin_face(svc, fid, "taxapp")["ticket"], app="taxapp")
    person = Person.get(Person.uid == registration.complete_face(svc, fid)["person"])
    assert (person.overseas, person.realname_level, person.registered) == (True, 4, True)

    approved = integration.approve_nonresident(
        svc, "service:tax-registration", nonresident_code="FJM36010000000066", name="境外示例有限公司",
        person={"doc_type": "hkmo_travel", "doc_number": PERMIT, "name": "陈境外"}, filing_ref="NRF-66")
    assert approved["kind"] == "nonresident"

    st = login.start(svc, entry="nonresident", account="chenjingwai", password=PASSWORD,
                     nonresident_code="FJM36010000000066")
    login.begin_factor(svc, st.view["flow"], "sms")
    step = login.complete_factor(svc, st.view["flow"], "sms", last_code("13700000066"))
    row = sessions.resolve(svc, step.session)
    assert (row.entry, row.role) == ("nonresident", "legal_rep")
    assert svc.enforcer.can(person.uid, row.domain, "biz.declare_pay", "use", row.role)
