"""Integration port flows and the outbound event port (R-BIND-1..3, R-BIND-15, R-BIND-18, R-AGT-1..2,
R-LOGIN-6 approval, R-RN-2 level 5). Every change must change the enforcer's next answer at once."""
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from authz import events
from authz.ports import events as event_port
from authz.errors import AuthzError
from authz.flows import integration as integ
from authz.models import Agreement, AuditLog, Binding, Enterprise, OutboxEvent, Person
from tests.binding_support import move

ACTOR = "service:tax-registration"
ENT = "91360100MA35ABCD1X"
DOM = "ent:" + ENT
AGENCY = "91360100MA35AGNC2Y"
ZHANG = {"doc_type": "resident_id", "doc_number": "36010219900101123X", "name": "张三"}
LI = {"doc_type": "resident_id", "doc_number": "360102199202021231", "name": "李四"}
WANG = {"doc_type": "resident_id", "doc_number": "360102199303031236", "name": "王五"}
ZHAO = {"doc_type": "resident_id", "doc_number": "360102199404041230", "name": "赵六"}


def uid(ref) -> str:
    return integ.find_person(ref).uid


def register(svc, rep=ZHANG, **kw):
    args = dict(uscc=ENT, name="示例科技有限公司", kind="ordinary", province="36", tax_authority="国家税务总局南昌市税务局",
                legal_rep=rep)
    args.update(kw)
    return integ.register_enterprise(svc, ACTOR, **args)


def counts():
    return (Enterprise.select().count(), Person.select().count(), Binding.select().count(),
            AuditLog.select().count(), OutboxEvent.select().count())


def events_about(binding_id):
    return [e for e in events.recent(100, subject=f"binding:{binding_id}")]


# ---- R-BIND-1 registration data

def test_R_BIND_1_registration_creates_enterprise_and_active_legal_rep(svc):
    """R-BIND-1: registration data creates the enterprise and an ACTIVE legal-rep binding (origin
    registration); an unknown legal rep becomes a stock person (no password, must change it, level 3)."""
    out = register(svc)
    assert out["changed"] and out["kind"] == "ordinary" and out["domain"] == DOM
    rep = out["legal_rep"]
    assert (rep["identity_type"], rep["state"], rep["origin"]) == ("legal_rep", "active", "registration")
    p = Person.get(Person.uid == rep["person"])
    assert p.password_hash is None and p.must_change_password and p.realname_level == 3 and not p.registered
    assert (p.gender, p.nationality, p.overseas) == ("male", "CHN", False), "derived from the document"
    e = svc.enforcer
    assert e.can(p.uid, DOM, "biz.declare_pay", "use")
    assert e.can(p.uid, DOM, "ac.staff:tax_officer", "add")
    actions = [a.action for a in AuditLog.select().order_by(AuditLog.id)]
    assert actions == ["enterprise.upsert", "person.create_stock", "binding.create"]
    assert {a.actor for a in AuditLog.select()} == {ACTOR}
    assert [ev["kind"] for ev in events_about(rep["binding_id"])] == ["binding.changed"]


def test_R_BIND_1_resend_changes_nothing(svc):
    """R-BIND-1: the source may resend; the same data again writes nothing (no audit, no event)."""
    register(svc)
    before = counts()
    out = register(svc)
    assert not out["changed"] and not out["legal_rep"]["changed"]
    assert counts() == before


def test_R_BIND_1_replacing_the_legal_rep_ends_the_old_binding_at_once(svc):
    """R-BIND-1: a new legal rep in the registration data ends the old binding (state ended) and creates
    the new one; the enforcer's answers follow immediately."""
    first = register(svc)["legal_rep"]
    e = svc.enforcer
    assert e.can(uid(ZHANG), DOM, "biz.declare_pay", "use")
    second = register(svc, rep=LI)["legal_rep"]
    assert Binding.get_by_id(first["binding_id"]).state == "ended"
    assert second["state"] == "active" and second["binding_id"] != first["binding_id"]
    assert not e.can(uid(ZHANG), DOM, "biz.declare_pay", "use")
    assert e.can(uid(LI), DOM, "biz.declare_pay", "use")
    live = Binding.select().where((Binding.role == "legal_rep") & (Binding.state == "active")).count()
    assert live == 1
    assert [ev["data"]["change"] for ev in events_about(first["binding_id"])] == ["ended", "created"]


def test_R_BIND_1_enterprise_update_keeps_the_binding_and_changes_kind(svc):
    """R-BIND-1: updated registration data updates the enterprise; its kind reaches the enforcer at once."""
    register(svc)
    out = register(svc, kind="agency", name="示例税务师事务所")
    assert out["changed"] and not out["legal_rep"]["changed"] and out["kind"] == "agency"
    e = svc.enforcer
    assert e.can(uid(ZHANG), DOM, "ac.agency.clients", "view")
    assert not e.can(uid(ZHANG), DOM, "ac.agency.mine", "view")


def test_R_BIND_1_no_enterprise_identity_may_edit_or_delete_a_legal_rep(svc, directory):
    """R-BIND-1 / R-BIND-10: the rule file gives no identity an edit or delete of a legal rep."""
    register(svc)
    ent = Enterprise.get(Enterprise.uscc == ENT)
    for role in ("finance_officer", "admin", "tax_officer"):
        p = directory.create_person("某人" + role, "resident_id", f"36010219900101{len(role):04d}")
        directory.bind(p, ent, role, state="active", origin="hall")
        for act in ("manage", "delete", "withdraw", "add"):
            assert not svc.enforcer.can(p.uid, DOM, "ac.staff:legal_rep", act)
    for act in ("manage", "delete", "withdraw", "add"):
        assert not svc.enforcer.can(uid(ZHANG), DOM, "ac.staff:legal_rep", act)


def test_R_BIND_1_a_document_on_record_under_another_name_is_refused(svc):
    """R-BIND-1: a document number on record under a different name is refused, not bound to that person."""
    register(svc)
    before = counts()
    with pytest.raises(AuthzError) as err:
        integ.register_enterprise(svc, ACTOR, uscc="91360100MA35OTHR3Z", name="另一家公司",
                                  legal_rep={**ZHANG, "name": "张三丰"})
    assert err.value.code == "identity_mismatch"
    assert counts() == before, "the whole feed item rolled back, enterprise included"


def test_R_BIND_1_lower_case_document_letters_find_the_same_person(svc):
    """R-BIND-1: document numbers are compared upper-cased (the check letter X)."""
    register(svc)
    assert not register(svc, rep={**ZHANG, "doc_number": ZHANG["doc_number"].lower()})["changed"]


def test_R_BIND_1_concurrent_resends_make_one_binding(svc):
    """R-BIND-1: the same registration data sent by several workers at once yields one enterprise, one
    person and one active legal-rep binding."""
    from authz.db import database
    errors = []
    start = threading.Barrier(6)

    def send():
        try:
            start.wait()
            with database.connection_context():
                register(svc)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
    threads = [threading.Thread(target=send) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    assert Enterprise.select().count() == 1 and Person.select().count() == 1
    assert Binding.select().where(Binding.state == "active").count() == 1


# ---- R-BIND-2 finance officer

def test_R_BIND_2_finance_officer_arrives_pending_and_cannot_be_refused(svc, directory):
    """R-BIND-2: the tax information report makes a PENDING finance-officer binding (origin tax_report)
    that the person must confirm and cannot refuse; it grants nothing until confirmed."""
    register(svc)
    out = integ.report_finance_officer(svc, ACTOR, uscc=ENT, person=LI, reference="TR-2026-0001")
    assert (out["identity_type"], out["state"], out["origin"]) == ("finance_officer", "pending", "tax_report")
    assert out["refusable"] is False and out["withdrawable_online"] is False
    c = integ.binding_constraints(out["binding_id"])
    assert (c.refusable, c.withdrawable_online, c.source_ref) == (False, False, "TR-2026-0001")
    e, who = svc.enforcer, uid(LI)
    assert not e.can(who, DOM, "biz.declare_pay", "use")
    move(directory.svc, Binding.get_by_id(out["binding_id"]), "active")  # the person confirms
    assert e.can(who, DOM, "biz.declare_pay", "use")


def test_R_BIND_2_resend_and_replacement(svc):
    """R-BIND-2: a resend changes nothing; a new report naming someone else withdraws the pending one
    (or ends an active one); a late resend of the old report does not bring it back."""
    register(svc)
    first = integ.report_finance_officer(svc, ACTOR, uscc=ENT, person=LI, reference="TR-1")
    before = counts()
    assert not integ.report_finance_officer(svc, ACTOR, uscc=ENT, person=LI, reference="TR-1")["changed"]
    assert not integ.report_finance_officer(svc, ACTOR, uscc=ENT, person=LI)["changed"]
    assert counts() == before
    second = integ.report_finance_officer(svc, ACTOR, uscc=ENT, person=WANG, reference="TR-2")
    assert second["changed"] and Binding.get_by_id(first["binding_id"]).state == "withdrawn"
    late = integ.report_finance_officer(svc, ACTOR, uscc=ENT, person=LI, reference="TR-1")
    assert not late["changed"] and late["state"] == "withdrawn"
    live = Binding.select().where((Binding.role == "finance_officer") & Binding.state.in_(("pending", "active")))
    assert [b.id for b in live] == [second["binding_id"]]


def test_R_BIND_2_unknown_enterprise_is_refused(svc):
    """R-BIND-2: a report for an enterprise the registration data never sent is refused."""
    with pytest.raises(AuthzError) as err:
        integ.report_finance_officer(svc, ACTOR, uscc=ENT, person=LI)
    assert err.value.code == "integ_enterprise_unknown" and err.value.status == 404
    assert Person.select().count() == 0


# ---- R-BIND-3 core tax system and tax hall

def test_R_BIND_3_core_tax_officers_arrive_pending(svc, directory):
    """R-BIND-3 / R-BIND-18: tax officers from the core tax system are PENDING (origin core_tax) with their
    function set; they grant nothing until the person confirms."""
    register(svc)
    out = integ.report_tax_officers(svc, ACTOR, uscc=ENT, reference="CT-9", officers=[
        {"person": LI, "functions": ["biz.query", "biz.invoice_use"], "valid_until": "2026-12-31"},
        {"person": WANG, "sub_identity": True}])
    a, b = out["results"]
    assert out["changed"] and a["state"] == b["state"] == "pending" and a["origin"] == "core_tax"
    assert a["functions"] == ["biz.invoice_use", "biz.query"] and a["valid_until"] == "2026-12-31"
    assert b["sub_identity"] and b["refusable"] and not b["withdrawable_online"], "added offline in core tax"
    e = svc.enforcer
    assert not e.can(uid(LI), DOM, "biz.query", "use")
    move(directory.svc, Binding.get_by_id(a["binding_id"]), "active")
    assert e.can(uid(LI), DOM, "biz.query", "use") and not e.can(uid(LI), DOM, "biz.declare_pay", "use")


def test_R_BIND_3_resend_does_not_reopen_a_refused_binding(svc, directory):
    """R-BIND-3: resending the same core-tax record changes nothing, even after the person refused;
    a new record may ask again."""
    register(svc)
    first = integ.report_tax_officers(svc, ACTOR, uscc=ENT, reference="CT-1", officers=[{"person": LI}])
    bid = first["results"][0]["binding_id"]
    assert not integ.report_tax_officers(svc, ACTOR, uscc=ENT, reference="CT-1",
                                         officers=[{"person": LI}])["changed"]
    move(directory.svc, Binding.get_by_id(bid), "refused")
    again = integ.report_tax_officers(svc, ACTOR, uscc=ENT, reference="CT-1", officers=[{"person": LI}])
    assert not again["changed"] and again["results"][0]["state"] == "refused"
    fresh = integ.report_tax_officers(svc, ACTOR, uscc=ENT, reference="CT-2", officers=[{"person": LI}])
    assert fresh["changed"] and fresh["results"][0]["state"] == "pending"


def test_R_BIND_3_one_bad_item_rolls_back_the_whole_report(svc):
    """R-BIND-3: a report is one transaction: an invalid function set in any item leaves no binding,
    no stock person, no audit row and no event behind."""
    register(svc)
    before = counts()
    with pytest.raises(AuthzError) as err:
        integ.report_tax_officers(svc, ACTOR, uscc=ENT, officers=[
            {"person": LI}, {"person": WANG, "functions": ["biz.person.declare"]}])
    assert err.value.code == "function_set_exceeds"
    assert counts() == before


def test_R_BIND_3_hall_bindings_cannot_be_withdrawn_online(svc, directory):
    """R-BIND-3: a binding added at the hall is pending and marked not withdrawable online; the hall
    itself withdraws it; a resend changes nothing."""
    register(svc)
    directory.create_person("李四", "resident_id", LI["doc_number"], registered=True)
    out = integ.hall_add_binding(svc, "service:hall-3601", uscc=ENT, person=LI, identity_type="invoice_officer",
                                 functions=["biz.invoice_use"], operator="H007")
    assert (out["state"], out["origin"], out["withdrawable_online"], out["refusable"]) == \
        ("pending", "hall", False, True)
    assert not integ.binding_constraints(out["binding_id"]).withdrawable_online
    assert not integ.hall_add_binding(svc, "service:hall-3601", uscc=ENT, person=LI,
                                      identity_type="invoice_officer", operator="H007")["changed"]
    w = integ.hall_withdraw_binding(svc, "service:hall-3601", out["binding_id"], operator="H007")
    assert w["state"] == "withdrawn" and w["changed"]
    assert not integ.hall_withdraw_binding(svc, "service:hall-3601", out["binding_id"], operator="H007")["changed"]
    audit = AuditLog.select().where(AuditLog.action == "binding.withdrawn").get()
    assert audit.detail["operator"] == "H007" and audit.actor == "service:hall-3601"


def test_R_BIND_3_hall_needs_a_known_person_and_ends_bindings_at_once(svc, directory):
    """R-BIND-3: the hall adds staff only for persons known here ("尚未注册"); ending an active binding at
    the hall denies the next check; legal rep and finance officer are not hall business."""
    out = register(svc)
    with pytest.raises(AuthzError) as err:
        integ.hall_add_binding(svc, ACTOR, uscc=ENT, person=LI, identity_type="tax_officer", operator="H1")
    assert err.value.code == "integ_person_unknown"
    p = directory.create_person("李四", "resident_id", LI["doc_number"], registered=True)
    b = integ.hall_add_binding(svc, ACTOR, uscc=ENT, person=LI, identity_type="tax_officer", operator="H1")
    move(directory.svc, Binding.get_by_id(b["binding_id"]), "active")
    assert svc.enforcer.can(p.uid, DOM, "biz.query", "use")
    ended = integ.hall_end_binding(svc, ACTOR, b["binding_id"], operator="H1")
    assert ended["state"] == "ended" and not svc.enforcer.can(p.uid, DOM, "biz.query", "use")
    with pytest.raises(AuthzError) as err:
        integ.hall_end_binding(svc, ACTOR, out["legal_rep"]["binding_id"], operator="H1")
    assert err.value.code == "integ_hall_role"
    with pytest.raises(AuthzError) as err:
        integ.hall_add_binding(svc, ACTOR, uscc=ENT, person=LI, identity_type="legal_rep", operator="H1")
    assert err.value.code == "integ_hall_role"
    with pytest.raises(AuthzError) as err:
        integ.hall_withdraw_binding(svc, ACTOR, 999_999, operator="H1")
    assert err.value.code == "integ_binding_unknown"


def test_R_AUTHZ_4_which_identity_types_the_hall_handles_is_the_rule_files_answer(svc, directory):
    """R-AUTHZ-4, R-BIND-3 (issue 10): "the hall adds, withdraws and ends tax officer, invoice officer and
    admin bindings" is `p, service:hall, kind:enterprise, svc.binding:<type>, add|withdraw|end` in
    policies/rules.csv, asked through the enforcer; a policy author who edits those lines and reloads
    changes what the hall may do, with no code change."""
    from pathlib import Path

    from authz import policystore
    out = register(svc)
    directory.create_person("李四", "resident_id", LI["doc_number"], registered=True)
    src = Path(svc.settings.rules_path).read_text(encoding="utf-8")
    admin_add = "p, service:hall, kind:enterprise, svc.binding:admin, add\n"
    assert admin_add in src
    assert integ.hall_may(svc, DOM, "admin", "add") and not integ.hall_may(svc, DOM, "legal_rep", "end")
    index, _ = policystore.install(svc.settings.model_path, src.replace(admin_add, "") + (
        "fn, svc.binding:legal_rep, add|withdraw|end, 办税服务厅, 法定代表人关联, Legal representative binding\n"
        "p, service:hall, ent:" + ENT + ", svc.binding:legal_rep, end\n"), by="test")
    svc.enforcer.reload(index)
    with pytest.raises(AuthzError) as err:
        integ.hall_add_binding(svc, ACTOR, uscc=ENT, person=LI, identity_type="admin", operator="H1")
    assert err.value.code == "integ_hall_role"
    assert integ.hall_add_binding(svc, ACTOR, uscc=ENT, person=LI, identity_type="invoice_officer",
                                  operator="H1")["changed"]
    ended = integ.hall_end_binding(svc, ACTOR, out["legal_rep"]["binding_id"], operator="H1")
    assert ended["state"] == "ended"
    register(svc, uscc="91360100MA35OTHR9Z", legal_rep=None)
    assert integ.hall_may(svc, "ent:91360100MA35OTHR9Z", "tax_officer", "add")
    assert not integ.hall_may(svc, "ent:91360100MA35OTHR9Z", "legal_rep", "end"), "that line names one enterprise"


def test_R_AUTHZ_1_only_service_subjects_hold_svc_functions(svc, directory):
    """R-AUTHZ-1 (issue 10): a service:<scope> subject is never an identity type, so no person's binding
    reaches the hall's svc.binding:* functions, and no session entry reaches svc. functions at all."""
    register(svc)
    legal = uid(ZHANG)
    e = svc.enforcer
    for obj in ("svc.binding:tax_officer", "svc.binding:admin"):
        assert e.service_can("hall", DOM, obj, "add")
        assert not e.can(legal, DOM, obj, "add")
        assert not e.service_can("integration", DOM, obj, "add")
        assert not any(e.entry_allows(entry, obj, "add") for entry in ("enterprise", "personal", "agent"))
    assert not e.service_can("hall", DOM, "biz.query", "use")


def test_R_BIND_3_constraints_of_account_centre_bindings_follow_their_origin(svc, directory):
    """R-BIND-2 / R-BIND-3: without a source's word, an enterprise-added binding is refusable and
    withdrawable online; a tax-report one is neither; a hall one is not withdrawable online."""
    register(svc)
    ent = Enterprise.get(Enterprise.uscc == ENT)
    p = directory.create_person("李四", "resident_id", LI["doc_number"], registered=True)
    made = {o: directory.bind(p, ent, r, state="pending", origin=o)
            for o, r in (("enterprise", "tax_officer"), ("tax_report", "finance_officer"), ("hall", "invoice_officer"))}
    got = {o: integ.binding_constraints(b) for o, b in made.items()}
    assert (got["enterprise"].refusable, got["enterprise"].withdrawable_online) == (True, True)
    assert (got["tax_report"].refusable, got["tax_report"].withdrawable_online) == (False, False)
    assert (got["hall"].refusable, got["hall"].withdrawable_online) == (True, False)


def test_R_BIND_18_no_integration_path_makes_an_active_tax_or_invoice_officer(svc, directory):
    """R-BIND-18: core tax and hall bindings of tax and invoice officers are always pending."""
    register(svc)
    directory.create_person("李四", "resident_id", LI["doc_number"], registered=True)
    integ.report_tax_officers(svc, ACTOR, uscc=ENT, officers=[{"person": LI}, {"person": WANG}])
    integ.hall_add_binding(svc, ACTOR, uscc=ENT, person=LI, identity_type="invoice_officer", operator="H1")
    officers = Binding.select().where(Binding.role.in_(("tax_officer", "invoice_officer")))
    assert officers.count() == 3 and {b.state for b in officers} == {"pending"}


# ---- R-RN-2 level 5

def test_R_RN_2_level_5_only_through_the_hall(svc, directory):
    """R-RN-1 / R-RN-2: hall staff raise a person to real-name level 5 (ID-card reader or NFC); a resend
    changes nothing; the change is audited with the operator."""
    p = directory.create_person("李四", "resident_id", LI["doc_number"], realname_level=4, registered=True)
    out = integ.set_realname_level_5(svc, "service:hall-3601", person=LI, method="id_card_reader", operator="H7")
    assert out == {"person": p.uid, "realname_level": 5, "previous": 4, "changed": True}
    assert Person.get_by_id(p.id).realname_level == 5
    assert not integ.set_realname_level_5(svc, "service:hall-3601", person=LI, method="nfc", operator="H7")["changed"]
    row = AuditLog.get(AuditLog.action == "person.realname_level")
    assert row.detail == {"previous": 4, "level": 5, "method": "id_card_reader", "operator": "H7"}
    with pytest.raises(AuthzError) as err:
        integ.set_realname_level_5(svc, ACTOR, person=WANG, method="nfc", operator="H7")
    assert err.value.code == "integ_person_unknown"
    with pytest.raises(AuthzError) as err:
        integ.set_realname_level_5(svc, ACTOR, person=LI, method="face", operator="H7")
    assert err.value.code == "validation_failed"


# ---- R-AGT-1, R-AGT-2 agencies

def _agency_world(svc):
    register(svc)
    integ.register_enterprise(svc, ACTOR, uscc=AGENCY, name="示例税务师事务所", kind="agency", legal_rep=ZHAO)
    staff = integ.file_agency_staff(svc, ACTOR, uscc=AGENCY, agents=[LI, WANG])
    assert staff["changed"] and len(staff["added"]) == 2
    ag = integ.file_agreement(svc, ACTOR, number="AG-2026-001", agency_uscc=AGENCY, client_uscc=ENT, agents=[LI],
                              start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31),
                              permissions=["biz.declare_pay", "biz.query"])
    return staff, ag


def test_R_AGT_1_agency_staff_and_agreement_grant_the_agent(svc):
    """R-AGT-1: agency staff are active tax_agent bindings (origin registration); a filed agreement gives
    its agents exactly its permissions in the client."""
    staff, ag = _agency_world(svc)
    assert {(b["identity_type"], b["state"], b["origin"]) for b in staff["added"]} == \
        {("tax_agent", "active", "registration")}
    assert ag["changed"] and ag["agents"] == [uid(LI)] and ag["status"] == "active"
    e = svc.enforcer
    assert e.can(uid(LI), DOM, "biz.declare_pay", "use", role="tax_agent")
    assert not e.can(uid(LI), DOM, "biz.invoice_use", "use")
    assert not e.can(uid(WANG), DOM, "biz.query", "use"), "staff not named in the agreement"
    assert [ev["kind"] for ev in events.recent(5, subject="agreement:AG-2026-001")] == ["agreement.changed"]


def test_R_AGT_1_resend_is_idempotent(svc):
    """R-AGT-1: resending the same staff list or agreement changes nothing."""
    _agency_world(svc)
    before = counts()
    again = integ.file_agency_staff(svc, ACTOR, uscc=AGENCY, agents=[WANG, LI, LI])
    assert not again["changed"] and len(again["unchanged"]) == 2
    ag = integ.file_agreement(svc, ACTOR, number="AG-2026-001", agency_uscc=AGENCY, client_uscc=ENT, agents=[LI],
                              start="2026-01-01", end="2026-12-31", permissions=["biz.query", "biz.declare_pay"])
    assert not ag["changed"]
    assert not integ.set_agreement_status(svc, ACTOR, "AG-2026-001", "active")["changed"]
    assert counts() == before


def test_R_AGT_2_ending_or_changing_an_agreement_takes_effect_at_once(svc):
    """R-AGT-2: ending an agreement denies the agent's next check; resuming restores it; narrowing the
    permissions narrows the next answer."""
    _agency_world(svc)
    e, agent = svc.enforcer, uid(LI)
    assert e.can(agent, DOM, "biz.declare_pay", "use")
    assert integ.set_agreement_status(svc, ACTOR, "AG-2026-001", "ended")["status"] == "ended"
    assert not e.can(agent, DOM, "biz.declare_pay", "use")
    integ.set_agreement_status(svc, ACTOR, "AG-2026-001", "active")
    assert e.can(agent, DOM, "biz.declare_pay", "use")
    integ.set_agreement_status(svc, ACTOR, "AG-2026-001", "suspended")
    assert not e.can(agent, DOM, "biz.query", "use")
    integ.file_agreement(svc, ACTOR, number="AG-2026-001", agency_uscc=AGENCY, client_uscc=ENT, agents=[LI, WANG],
                         start="2026-01-01", end="2026-12-31", permissions=["biz.query"])
    assert not e.can(agent, DOM, "biz.declare_pay", "use") and e.can(agent, DOM, "biz.query", "use")
    assert e.can(uid(WANG), DOM, "biz.query", "use")
    changes = [ev["data"]["change"] for ev in events.recent(10, subject="agreement:AG-2026-001")]
    assert changes == ["filed", "status_suspended", "status_active", "status_ended", "filed"]


def test_R_AGT_2_agreement_window_is_decided_by_the_clock(svc, clock):
    """R-AGT-2 / R-LOGIN-5: an agreement grants from its start to its end day (inclusive)."""
    _agency_world(svc)
    integ.file_agreement(svc, ACTOR, number="AG-SHORT", agency_uscc=AGENCY, client_uscc=ENT, agents=[WANG],
                         start="2026-03-03", end="2026-03-03", permissions=["biz.query"])
    e, agent = svc.enforcer, uid(WANG)
    assert not e.can(agent, DOM, "biz.query", "use")
    clock.advance(days=1)
    assert e.can(agent, DOM, "biz.query", "use")
    clock.advance(days=1)
    assert not e.can(agent, DOM, "biz.query", "use")


def test_R_AGT_2_staff_left_off_the_filing_lose_client_access_at_once(svc):
    """R-AGT-1 / R-AGT-2: staff no longer filed end (binding ended) and leave every live agreement of the
    agency, so their checks in the client are denied at once."""
    _agency_world(svc)
    e, agent = svc.enforcer, uid(LI)
    out = integ.file_agency_staff(svc, ACTOR, uscc=AGENCY, agents=[WANG])
    assert [b["person"] for b in out["ended"]] == [agent] and out["ended"][0]["state"] == "ended"
    assert integ.get_agreement("AG-2026-001")["agents"] == []
    assert not e.can(agent, DOM, "biz.declare_pay", "use")


def test_R_AGT_1_agreement_rules(svc):
    """R-AGT-1: agents must be filed staff of the agency; the agency must be an agency; dates in order;
    permissions within the tax agent's ceiling; an agreement number keeps its parties."""
    _agency_world(svc)
    base = dict(number="AG-2", agency_uscc=AGENCY, client_uscc=ENT, agents=[LI], start="2026-01-01",
                end="2026-12-31", permissions=["biz.query"])
    cases = [
        (dict(agents=[ZHANG]), "integ_agent_not_staff"),
        (dict(agency_uscc=ENT, client_uscc=AGENCY), "integ_not_agency"),
        (dict(end="2025-12-31"), "integ_agreement_dates"),
        (dict(permissions=["biz.person.declare"]), "function_set_exceeds"),
        (dict(number="AG-2026-001", client_uscc="91360100MA35OTHR3Z"), "integ_enterprise_unknown"),
        (dict(number="bad number"), "validation_failed"),
    ]
    before = counts()
    for change, code in cases:
        with pytest.raises(AuthzError) as err:
            integ.file_agreement(svc, ACTOR, **{**base, **change})
        assert err.value.code == code, change
    integ.register_enterprise(svc, ACTOR, uscc="91360100MA35OTHR3Z", name="另一家公司")
    with pytest.raises(AuthzError) as err:
        integ.file_agreement(svc, ACTOR, **{**base, "number": "AG-2026-001", "client_uscc": "91360100MA35OTHR3Z"})
    assert err.value.code == "integ_agreement_parties"
    with pytest.raises(AuthzError) as err:
        integ.file_agency_staff(svc, ACTOR, uscc=ENT, agents=[LI])
    assert err.value.code == "integ_not_agency"
    assert counts()[2] == before[2] and Agreement.select().count() == 1


# ---- R-LOGIN-6 non-resident approval

def test_R_LOGIN_6_approval_creates_the_nonresident_enterprise_and_binding(svc, directory):
    """R-LOGIN-6: approving the information a registered overseas person filed creates the non-resident
    enterprise (identity code) with that person as its active legal rep; a resend changes nothing."""
    p = directory.create_person("John Smith", "foreign_passport", "E12345678", overseas=True, registered=True,
                                password_hash="argon2-placeholder")
    ref = {"doc_type": "foreign_passport", "doc_number": "E12345678", "name": "John Smith"}
    out = integ.approve_nonresident(svc, ACTOR, nonresident_code="NR3601000000000001", name="Example Ltd",
                                    person=ref, filing_ref="NRF-1")
    assert out["kind"] == "nonresident" and out["nonresident_code"] == "NR3601000000000001"
    assert out["uscc"] == "NR3601000000000001", "decision: without a taxpayer id the code is the USCC"
    assert (out["legal_rep"]["person"], out["legal_rep"]["state"]) == (p.uid, "active")
    dom = out["domain"]
    assert svc.enforcer.can(p.uid, dom, "biz.declare_pay", "use")
    assert svc.enforcer.can(p.uid, dom, "ac.agency.mine", "view"), "nonresident kind rules apply"
    before = counts()
    assert not integ.approve_nonresident(svc, ACTOR, nonresident_code="NR3601000000000001", name="Example Ltd",
                                         person=ref, filing_ref="NRF-1")["changed"]
    assert counts() == before


def test_R_LOGIN_6_approval_rules(svc, directory):
    """R-LOGIN-6: the filer must be a registered person; a code belongs to one taxpayer; an ordinary
    enterprise is not turned into a non-resident one."""
    directory.create_person("Jane Roe", "foreign_passport", "E0000001", overseas=True)
    jane = {"doc_type": "foreign_passport", "doc_number": "E0000001", "name": "Jane Roe"}
    with pytest.raises(AuthzError) as err:
        integ.approve_nonresident(svc, ACTOR, nonresident_code="NR3601000000000002", name="X", person=jane)
    assert err.value.code == "integ_person_not_registered"
    with pytest.raises(AuthzError) as err:
        integ.approve_nonresident(svc, ACTOR, nonresident_code="NR3601000000000002", name="X",
                                  person={**jane, "doc_number": "E0000009"})
    assert err.value.code == "integ_person_unknown"
    Person.update(registered=True).execute()
    integ.approve_nonresident(svc, ACTOR, nonresident_code="NR3601000000000002", name="X", person=jane,
                              uscc="91360100MA35NONR9Q")
    with pytest.raises(AuthzError) as err:
        integ.approve_nonresident(svc, ACTOR, nonresident_code="NR3601000000000002", name="X", person=jane,
                                  uscc="91360100MA35NONR9R")
    assert err.value.code == "integ_nonresident_code_taken"
    register(svc)
    with pytest.raises(AuthzError) as err:
        integ.approve_nonresident(svc, ACTOR, nonresident_code="NR3601000000000003", name="X", person=jane,
                                  uscc=ENT)
    assert err.value.code == "integ_not_nonresident"


# ---- R-LOGIN-4, R-SW-4 cross-region projects from the core tax system

PROJECT = "BY360100202600011234"


def _project_world(svc, directory):
    """The enterprise with LI as a confirmed sub-identity tax officer and WANG as a main tax officer."""
    register(svc)
    out = integ.report_tax_officers(svc, ACTOR, uscc=ENT, reference="CT-P", officers=[
        {"person": LI, "sub_identity": True}, {"person": WANG}])
    for r in out["results"]:
        move(directory.svc, Binding.get_by_id(r["binding_id"]), "active")
    return {r["person"]: r["binding_id"] for r in out["results"]}


def file(svc, no=PROJECT, **kw):
    args = dict(management_no=no, uscc=ENT, kind="inspection", name="长沙办公楼项目", region="湖南省长沙市", handler=LI)
    args.update(kw)
    return integ.file_project(svc, ACTOR, **args)


def special_ids(svc, person_uid, kind="inspection"):
    from authz.flows import login
    from authz.sessions import Entry
    c = login.identity_choices(svc, Person.get(Person.uid == person_uid), Entry.SPECIAL,
                               Enterprise.get(Enterprise.uscc == ENT), kind)
    return [p["id"] for p in c.get("projects", [])]


def test_R_LOGIN_4_project_filing_is_idempotent_and_audited(svc, directory):
    """R-LOGIN-4: the core tax system files an inspection project naming its handler; a resend changes
    nothing (no audit row); a changed field is a change, audited as the source service."""
    _project_world(svc, directory)
    out = file(svc)
    assert out == {"management_no": PROJECT, "kind": "inspection", "uscc": ENT, "domain": DOM, "name": "长沙办公楼项目",
                   "region": "湖南省长沙市", "handler": uid(LI), "status": "active", "changed": True}
    before = counts()
    assert file(svc)["changed"] is False and counts() == before
    assert integ.get_project(PROJECT) == {**out, "changed": False}
    moved = file(svc, region="湖南省长沙市岳麓区", handler=None)
    assert moved["changed"] and moved["handler"] is None and moved["region"] == "湖南省长沙市岳麓区"
    rows = list(AuditLog.select().where(AuditLog.action == "project.file").order_by(AuditLog.id))
    assert [(r.target, r.actor, r.domain, r.detail["created"]) for r in rows] == [
        (f"project:{PROJECT}", ACTOR, DOM, True), (f"project:{PROJECT}", ACTOR, DOM, False)]
    details = json.dumps([r.detail for r in rows], ensure_ascii=False)
    assert LI["doc_number"] not in details and "李四" not in details, "audit carries ids, never names or documents"


def test_R_LOGIN_4_project_rules(svc, directory):
    """R-LOGIN-4: strict input (management number alphabet, kind, status, name, region); the enterprise
    must be on record; the handler must be a person on record (same name) and a tax officer of the
    enterprise; a management number keeps its enterprise and kind. A refused filing writes nothing."""
    _project_world(svc, directory)
    file(svc)
    integ.register_enterprise(svc, ACTOR, uscc="91360100MA35OTHR3Z", name="另一家公司")
    cases = [
        (dict(no="by-2026 1"), "validation_failed", "management_no"),
        (dict(no="BY1"), "validation_failed", "management_no"),
        (dict(no="BY360100202600019999\n"), "validation_failed", "management_no"),  # no trailing newline
        (dict(region="长沙\n"), "validation_failed", "region"),
        (dict(kind="building"), "validation_failed", "kind"),
        (dict(status="paused"), "validation_failed", "status"),
        (dict(name=""), "validation_failed", "name"),
        (dict(region=" 长沙"), "validation_failed", "region"),
        (dict(no="BY2", uscc="bad"), "validation_failed", "management_no"),
        (dict(no="BY3601000002", uscc="91360100MA35NONE0Z"), "integ_enterprise_unknown", None),
        (dict(no="BY3601000002", uscc="not-a-uscc"), "bad_uscc", None),
        (dict(no="BY3601000002", handler={**ZHAO}), "integ_person_unknown", "handler"),
        (dict(no="BY3601000002", handler={**LI, "name": "李四四"}), "identity_mismatch", None),
        (dict(no="BY3601000002", handler=ZHANG), "integ_handler_not_officer", "handler"),  # legal rep, no officer
        (dict(kind="tax_source"), "integ_project_parties", None),
        (dict(uscc="91360100MA35OTHR3Z"), "integ_project_parties", None),
    ]
    before = counts()
    for change, code, field in cases:
        kw = dict(change)
        no = kw.pop("no", PROJECT)
        with pytest.raises(AuthzError) as err:
            file(svc, no, **kw)
        assert err.value.code == code, change
        if field:
            assert field in err.value.errors, change
    assert counts() == before
    assert integ.get_project(PROJECT)["kind"] == "inspection"
    for bad in ("BY3601000002", "bad number"):
        with pytest.raises(AuthzError) as err:
            integ.get_project(bad)
        assert err.value.code == "integ_project_unknown"
    with pytest.raises(AuthzError) as err:
        integ.set_project_status(svc, ACTOR, "BY3601000002", "ended")
    assert err.value.code == "integ_project_unknown"


def test_R_LOGIN_4_handler_sees_only_own_projects_and_main_identities_see_all(svc, directory):
    """R-LOGIN-4: a sub-identity tax officer lists only the projects naming them as handler; a main tax
    officer and the legal rep list every project of the kind; a tax-source registration is listed
    under its own type."""
    _project_world(svc, directory)
    file(svc)
    file(svc, "BY360100202600025678", name="赣州厂房项目", region="江西省赣州市", handler=None)
    file(svc, "SY360100202600049999", kind="tax_source", name="九江税源登记", region="江西省九江市", handler=LI)
    both = [PROJECT, "BY360100202600025678"]
    assert special_ids(svc, uid(LI)) == [PROJECT]
    assert special_ids(svc, uid(WANG)) == both and special_ids(svc, uid(ZHANG)) == both
    assert special_ids(svc, uid(LI), "tax_source") == ["SY360100202600049999"]


def test_R_LOGIN_4_who_sees_every_project_is_the_rule_files_answer(svc, directory):
    """R-LOGIN-4, R-AUTHZ-1, R-AUTHZ-4: "legal rep, finance officer and main tax officer see every project"
    is `ac.special.projects_all, view` in policies/rules.csv; a policy author who takes it from tax officers
    leaves the main tax officer with nothing here, the legal rep with everything, the handler with their own."""
    from pathlib import Path

    from authz import policystore
    _project_world(svc, directory)
    file(svc)
    file(svc, "BY360100202600025678", name="赣州厂房项目", region="江西省赣州市", handler=None)
    src = Path(svc.settings.rules_path).read_text(encoding="utf-8")
    line = "p, tax_officer, kind:enterprise, ac.special.projects_all, view\n"
    assert line in src
    index, _ = policystore.install(svc.settings.model_path, src.replace(line, ""), by="test")
    svc.enforcer.reload(index)
    assert special_ids(svc, uid(WANG)) == []
    assert special_ids(svc, uid(ZHANG)) == [PROJECT, "BY360100202600025678"]
    assert special_ids(svc, uid(LI)) == [PROJECT]


def test_R_SW_4_ending_a_project_takes_effect_at_once(svc, directory):
    """R-SW-4 / R-AUTHZ-5: ending a project removes it from special-subject login at once and refuses a
    session already inside it (identity_revoked, as an ended agreement does, R-AGT-2); reopening lists it
    again. Dropping the handler from a project refuses the handler's session in it, not the others'."""
    from authz import sessions
    from authz.sessions import Entry, Identity
    officers = _project_world(svc, directory)
    file(svc)
    li, wang = Person.get(Person.uid == uid(LI)), Person.get(Person.uid == uid(WANG))
    raw_li, _ = sessions.create(svc, li, Identity(Entry.SPECIAL, DOM, "tax_officer", officers[li.uid], project=PROJECT))
    raw_wang, _ = sessions.create(svc, wang, Identity(Entry.SPECIAL, DOM, "tax_officer", officers[wang.uid],
                                                      project=PROJECT))
    file(svc, handler=None)  # the report no longer names LI
    assert special_ids(svc, li.uid) == []
    with pytest.raises(AuthzError) as err:
        sessions.resolve(svc, raw_li)
    assert err.value.code == "identity_revoked"
    assert sessions.resolve(svc, raw_wang).project == PROJECT, "a main identity still sees it"
    out = integ.set_project_status(svc, ACTOR, PROJECT, "ended")
    assert out["changed"] and out["status"] == "ended"
    assert not integ.set_project_status(svc, ACTOR, PROJECT, "ended")["changed"]
    assert special_ids(svc, wang.uid) == []
    with pytest.raises(AuthzError) as err:
        sessions.resolve(svc, raw_wang)
    assert err.value.code == "identity_revoked"
    with pytest.raises(AuthzError) as err:  # and no new entry into it
        sessions.create(svc, wang, Identity(Entry.SPECIAL, DOM, "tax_officer", officers[wang.uid], project=PROJECT))
    assert err.value.code == "identity_not_held"
    integ.set_project_status(svc, ACTOR, PROJECT, "active")
    assert special_ids(svc, wang.uid) == [PROJECT]
    reasons = [r.detail["reason"] for r in AuditLog.select().where(AuditLog.action == "project.file")
               .order_by(AuditLog.id)]
    assert reasons == ["filed", "filed", "status_ended", "status_active"]


# ---- R-BIND-15 outbound events

def test_R_BIND_15_every_binding_change_is_published(svc, directory):
    """R-BIND-15: each binding the integration port creates, ends or withdraws yields a binding.changed
    event carrying ids only (no names or document numbers)."""
    register(svc)
    register(svc, rep=LI)
    integ.report_finance_officer(svc, ACTOR, uscc=ENT, person=WANG)
    kinds = [(e["kind"], e["data"]["identity_type"], e["data"]["change"]) for e in reversed(events.recent(10))]
    assert kinds == [("binding.changed", "legal_rep", "created"), ("binding.changed", "legal_rep", "ended"),
                     ("binding.changed", "legal_rep", "created"), ("binding.changed", "finance_officer", "created")]
    text = json.dumps(events.recent(10), ensure_ascii=False)
    for ref in (ZHANG, LI, WANG):
        assert ref["name"] not in text and ref["doc_number"].upper() not in text


def test_R_BIND_15_data_sync_pushes_a_binding(svc):
    """R-BIND-15: the "data sync" button queues a binding.sync event with the binding as it is now;
    pressing again before delivery queues nothing new; after delivery it queues again."""
    b = register(svc)["legal_rep"]["binding_id"]
    first = integ.sync_binding(svc, b, "p-someone")
    again = integ.sync_binding(svc, Binding.get_by_id(b), "p-someone")
    assert again["event_id"] == first["event_id"] and again["reused"]
    ev = events.recent(1, subject=f"binding:{b}")[0]
    assert ev["kind"] == "binding.sync" and ev["data"]["state"] == "active" and ev["data"]["uscc"] == ENT
    result = events.drain(svc, 100)
    assert first["event_id"] in result.delivered and not result.retrying
    third = integ.sync_binding(svc, b, "p-someone")
    assert third["event_id"] != first["event_id"] and not third["reused"]
    assert AuditLog.select().where(AuditLog.action == "binding.sync").count() == 3
    with pytest.raises(AuthzError) as err:
        integ.sync_binding(svc, 999_999, "p-someone")
    assert err.value.code == "integ_binding_unknown"


def test_R_BIND_15_sync_by_a_session_actor_is_audited_as_that_identity(svc):
    """R-BIND-15 / R-LOG-2: a push from the account centre is audited with the person, identity and domain."""
    from authz.actor import Actor
    out = register(svc)
    rep = out["legal_rep"]
    integ.sync_binding(svc, rep["binding_id"], Actor(rep["person"], DOM, "legal_rep"))
    row = AuditLog.get(AuditLog.action == "binding.sync")
    assert (row.actor, row.identity, row.domain) == (rep["person"], "legal_rep", DOM)


def test_R_BIND_15_no_event_for_a_rolled_back_change(svc):
    """R-BIND-15: events are written in the change's transaction: a failed feed leaves none."""
    with pytest.raises(AuthzError):
        integ.register_enterprise(svc, ACTOR, uscc=ENT, name="x", kind="spaceship", legal_rep=ZHANG)
    assert OutboxEvent.select().count() == 0 and Person.select().count() == 0


def test_R_BIND_15_dev_outbox_drain_marks_events_delivered(svc):
    """R-BIND-15: with the development adapter the outbox table is the destination; drain marks due rows
    delivered, oldest first, up to the limit."""
    register(svc)
    register(svc, rep=LI)
    assert OutboxEvent.select().where(OutboxEvent.status == "pending").count() == 3
    first = events.drain(svc, limit=2)
    assert len(first.delivered) == 2
    assert len(events.drain(svc, limit=10).delivered) == 1
    assert events.drain(svc).as_dict() == {"delivered": [], "retrying": [], "dead": []}
    assert {e["status"] for e in events.recent(10)} == {"delivered"}


# ---- webhook adapter against a real local HTTP server

class _Receiver:
    """A local webhook receiver: answers each POST with the next planned status."""

    def __init__(self, plan):
        self.plan = list(plan)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status, headers = receiver.plan.pop(0) if receiver.plan else (200, {})
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/authz"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


SECRET = "whsec-0123456789abcdef"


@pytest.fixture
def receiver():
    holder = {}

    def make(plan=()):
        holder["r"] = _Receiver(plan)
        return holder["r"]
    yield make
    if "r" in holder:
        holder["r"].close()


def test_R_BIND_15_webhook_posts_signed_json(svc, receiver):
    """R-BIND-15: the production adapter POSTs each event as JSON with an HMAC-SHA256 signature over
    "<timestamp>.<body>" that the receiver can verify; the event id is the de-duplication key."""
    rx = receiver()
    b = register(svc)["legal_rep"]["binding_id"]
    pub = event_port.publisher_for(svc.settings.with_(events_adapter="http", events_webhook_url=rx.url,
                                                  events_webhook_secret=SECRET))
    out = events.drain(svc, 10, publisher=pub)
    assert len(out.delivered) == 1 and len(rx.requests) == 1
    headers, body = rx.requests[0]
    doc = json.loads(body)
    assert doc["id"] == out.delivered[0] == headers["X-Authz-Event-Id"]
    assert doc["kind"] == headers["X-Authz-Event-Kind"] == "binding.changed"
    assert doc["data"]["binding_id"] == b and doc["subject"] == f"binding:{b}" and doc["attempt"] == 1
    assert headers["Content-Type"].startswith("application/json")
    now = svc.clock.time()
    assert event_port.verify_signature(SECRET, headers["X-Authz-Timestamp"], headers["X-Authz-Signature"], body, now)
    assert not event_port.verify_signature("another-secret-xx", headers["X-Authz-Timestamp"],
                                       headers["X-Authz-Signature"], body, now)
    assert not event_port.verify_signature(SECRET, headers["X-Authz-Timestamp"], headers["X-Authz-Signature"],
                                       body + b" ", now)
    assert not event_port.verify_signature(SECRET, headers["X-Authz-Timestamp"], headers["X-Authz-Signature"], body,
                                       now + 3600), "stale timestamps are replays"


def test_R_BIND_15_webhook_failures_retry_with_backoff_then_give_up(svc, clock, receiver, monkeypatch):
    """R-BIND-15: a failed delivery stays pending with exponential backoff (a numeric Retry-After is
    honoured); after MAX_ATTEMPTS it is dead; requeue revives it; a redirect counts as a failure."""
    rx = receiver([(500, {}), (503, {"Retry-After": "600"}), (302, {"Location": "http://127.0.0.1:9/"})])
    register(svc)
    pub = event_port.WebhookPublisher(rx.url, SECRET, timeout=2)
    r1 = events.drain(svc, 10, publisher=pub)
    assert r1.retrying and not r1.delivered
    ev = OutboxEvent.get()
    assert (ev.status, ev.attempts, ev.last_error) == ("pending", 1, "HTTP 500")
    assert ev.next_attempt_at == pytest.approx(clock.time() + events.BACKOFF_BASE_S)
    assert events.drain(svc, 10, publisher=pub).as_dict() == {"delivered": [], "retrying": [], "dead": []}, \
        "not due yet"
    clock.advance(events.BACKOFF_BASE_S)
    events.drain(svc, 10, publisher=pub)
    ev = OutboxEvent.get()
    assert ev.attempts == 2 and ev.next_attempt_at == pytest.approx(clock.time() + 600), "Retry-After wins"
    clock.advance(600)
    events.drain(svc, 10, publisher=pub)
    ev = OutboxEvent.get()
    assert ev.attempts == 3 and ev.last_error == "HTTP 302" and len(rx.requests) == 3
    monkeypatch.setattr(events, "MAX_ATTEMPTS", 4)
    rx.plan = [(500, {})]
    clock.advance(days=1)
    r4 = events.drain(svc, 10, publisher=pub)
    assert r4.dead == [ev.event_id] and OutboxEvent.get().status == "dead"
    assert events.requeue(svc) == 1
    r5 = events.drain(svc, 10, publisher=pub)
    assert r5.delivered == [ev.event_id] and json.loads(rx.requests[-1][1])["attempt"] == 1


def test_R_BIND_15_webhook_unreachable_is_a_retry_not_a_crash(svc):
    """R-BIND-15: a refused connection is recorded as a failure and retried later."""
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    register(svc)
    out = events.drain(svc, 10, publisher=event_port.WebhookPublisher(f"http://127.0.0.1:{port}/", SECRET, timeout=2))
    assert out.retrying and OutboxEvent.get().last_error.startswith("URLError")


def test_R_BIND_15_adapter_is_chosen_by_settings(svc):
    """R-BIND-15: dev -> Outbox; http -> WebhookPublisher, which refuses to start without URL or secret."""
    assert isinstance(event_port.publisher_for(svc.settings), event_port.Outbox)
    with pytest.raises(ValueError):
        event_port.publisher_for(svc.settings.with_(events_adapter="http"))
    with pytest.raises(ValueError):
        event_port.publisher_for(svc.settings.with_(events_adapter="http", events_webhook_url="https://x.test/h"))
    with pytest.raises(ValueError):
        event_port.publisher_for(svc.settings.with_(events_adapter="carrier-pigeon"))
