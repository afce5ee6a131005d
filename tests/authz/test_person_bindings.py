"""The person side of bindings (企业授权管理): R-BIND-2, R-BIND-6, R-BIND-7, R-BIND-8, R-BIND-11,
R-BIND-12, R-BIND-18, R-LOG-2, R-AUTHZ-1."""
from __future__ import annotations

import json

import pytest

from authz.actor import Actor
from authz.errors import AuthzError
from authz.flows import integration, staff
from authz.flows import person_bindings as pb
from authz.models import AuditLog, Binding, OutboxEvent
from authz.verification import Proof
from authz.vocab import Method
from tests.binding_support import face_proof

from .test_staff import E_USCC, PEOPLE, X_USCC, actor, assert_no_leak, build_world, person_actor, snapshot


@pytest.fixture
def w(svc, directory):
    return build_world(svc, directory)


def ids(out) -> set[int]:
    return {i["id"] for i in out["items"]}


# ---- R-BIND-6 confirm / refuse
def test_R_BIND_6_add_confirm_end_to_end(svc, w):
    """R-BIND-6: the enterprise adds, the person confirms with a face scan → active: the staff list and
    the person's authorised enterprises show it, and checks follow the function set."""
    v = staff.add_staff(svc, actor(w, "legal_rep"), name="岳不群英", doc_type="resident_id",
                        doc_number="360102198809099997", identity_type="tax_officer",
                        functions=["biz.query", "biz.declare_pay"], risk_confirmed=True)
    me = person_actor("p-out")
    assert v["id"] in ids(pb.list_pending(svc, me, nationwide=True))
    assert not svc.enforcer.can("p-out", w.dom["E"], "biz.query", "use")
    [out] = pb.confirm(svc, me, [v["id"]], proof=face_proof(me.uid))
    assert out["state"] == "active" and out["status"] == "enabled" and out["actions"] == ["end", "sync"]
    assert svc.enforcer.can("p-out", w.dom["E"], "biz.declare_pay", "use")
    assert not svc.enforcer.can("p-out", w.dom["E"], "biz.invoice_use", "use")
    assert v["id"] in ids(staff.list_staff(svc, actor(w, "legal_rep")))
    assert v["id"] in ids(pb.list_authorised(svc, me, nationwide=True))
    assert v["id"] not in ids(pb.list_pending(svc, me, nationwide=True))


def test_R_BIND_6_batch_confirm_needs_face_verification(svc, w):
    """R-BIND-6: batch confirm needs the face-verification proof; without it nothing changes."""
    me = person_actor("p-new2")
    batch = [w.b.pending_admin.id, w.b.hall.id]
    before = snapshot()
    for proof in (None, face_proof("p-other"), Proof("p-new2", Method.SMS, "sms", "x")):
        with pytest.raises(AuthzError) as e:
            pb.confirm(svc, me, batch, proof=proof)
        assert e.value.code == "face_verification_required"
    assert snapshot() == before
    out = pb.confirm(svc, me, batch, proof=face_proof(me.uid))
    assert [o["state"] for o in out] == ["active", "active"]
    assert svc.enforcer.can("p-new2", w.dom["E"], "ac.staff", "view")


def test_R_BIND_6_batch_confirm_is_all_or_nothing(svc, w):
    """R-BIND-6: one id that is not the person's pending authorisation (their own application, someone
    else's binding, a missing id) refuses the whole batch."""
    me = person_actor("p-new2")
    before = snapshot()
    for bad in (w.b.app_tax.id, w.b.pending_tax.id, 987654):
        with pytest.raises(AuthzError) as e:
            pb.confirm(svc, me, [w.b.pending_admin.id, bad], proof=face_proof(me.uid))
        assert e.value.code in ("binding_state", "not_found")
        assert snapshot() == before


def test_R_BIND_6_refuse_goes_to_history_on_both_sides(svc, w):
    """R-BIND-6: the person refuses → history "refused" for the person and for the enterprise."""
    me = person_actor("p-new")
    out = pb.refuse(svc, me, w.b.pending_tax.id)
    assert out["state"] == "refused"
    assert w.b.pending_tax.id in ids(pb.list_history(svc, me))
    assert w.b.pending_tax.id in ids(staff.list_history(svc, actor(w, "legal_rep"), state="refused"))
    with pytest.raises(AuthzError) as e:
        pb.confirm(svc, me, [w.b.pending_tax.id], proof=face_proof(me.uid))
    assert e.value.code == "binding_state"


def test_R_BIND_2_finance_officer_binding_cannot_be_refused(svc, w, directory):
    """R-BIND-2: a finance officer binding from the tax information report must be confirmed; refusing
    it is refused, and the pending list says so."""
    b = directory.bind(w.p["p-new"], w.E, "finance_officer", state="pending", origin="tax_report",
                       initiated_by="integration")
    me = person_actor("p-new")
    entry = next(i for i in pb.list_pending(svc, me, nationwide=True)["items"] if i["id"] == b.id)
    assert entry["refusable"] is False and entry["actions"] == ["confirm"]
    with pytest.raises(AuthzError) as e:
        pb.refuse(svc, me, b.id)
    assert e.value.code == "binding_not_refusable"
    assert pb.confirm(svc, me, [b.id], proof=face_proof(me.uid))[0]["state"] == "active"


# ---- R-BIND-7 applications
def test_R_BIND_7_apply_then_enterprise_confirms(svc, w):
    """R-BIND-7: the person applies (USCC + identity type) → pending, listed for the enterprise with
    confirm/refuse; the person cannot confirm their own application; the legal rep confirms → active."""
    me = person_actor("p-out")
    out = pb.apply(svc, me, uscc=E_USCC.lower(), identity_type="invoice_officer")
    assert (out["state"], out["initiated_by"], out["actions"]) == ("pending", "person", ["withdraw"])
    entry = next(i for i in staff.list_pending(svc, actor(w, "legal_rep"))["items"] if i["id"] == out["id"])
    assert entry["actions"] == ["confirm", "refuse"]
    with pytest.raises(AuthzError) as e:
        pb.confirm(svc, me, [out["id"]], proof=face_proof(me.uid))
    assert e.value.code == "binding_state"
    staff.confirm_application(svc, actor(w, "finance_officer"), out["id"], functions=["biz.query"])
    assert svc.enforcer.can("p-out", w.dom["E"], "biz.query", "use")


def test_R_BIND_7_withdraw_own_application(svc, w):
    """R-BIND-7: the person withdraws their own application → history "withdrawn"; the enterprise can
    no longer confirm it."""
    me = person_actor("p-new2")
    assert pb.withdraw_application(svc, me, w.b.app_tax.id)["state"] == "withdrawn"
    with pytest.raises(AuthzError) as e:
        staff.confirm_application(svc, actor(w, "legal_rep"), w.b.app_tax.id)
    assert e.value.code == "binding_state"
    with pytest.raises(AuthzError) as e:  # an enterprise-initiated pending binding is refused, not withdrawn
        pb.withdraw_application(svc, me, w.b.pending_admin.id)
    assert e.value.code == "binding_state"


def test_R_BIND_7_apply_rules(svc, w):
    """R-BIND-7 / R-BIND-1: no application as legal rep or finance officer (rules.csv); no duplicate of a
    pending or active identity; unknown or malformed USCC."""
    me = person_actor("p-out")
    for role in ("legal_rep", "finance_officer", "tax_agent"):
        with pytest.raises(AuthzError) as e:
            pb.apply(svc, me, uscc=E_USCC, identity_type=role)
        assert e.value.code == "forbidden"
    pb.apply(svc, me, uscc=E_USCC, identity_type="tax_officer")
    with pytest.raises(AuthzError) as e:
        pb.apply(svc, me, uscc=E_USCC, identity_type="tax_officer")
    assert e.value.code == "binding_exists"
    with pytest.raises(AuthzError) as e:
        pb.apply(svc, person_actor("p-tax"), uscc=E_USCC, identity_type="tax_officer")
    assert e.value.code == "binding_exists"
    with pytest.raises(AuthzError) as e:
        pb.apply(svc, me, uscc="91360100MA35ZZZZ9Z", identity_type="tax_officer")
    assert e.value.code == "enterprise_not_found"
    with pytest.raises(AuthzError) as e:
        pb.apply(svc, me, uscc="ent:1; drop", identity_type="tax_officer")
    assert e.value.code == "bad_uscc"


# ---- R-BIND-8 filters
def test_R_BIND_8_pending_filters_province_nationwide_uscc_name_type(svc, w, directory):
    """R-BIND-8: pending lists filter by province (default) or nationwide, USCC, taxpayer name, type."""
    directory.bind(w.p["p-new2"], w.X, "tax_officer", state="pending", origin="enterprise")
    me = person_actor("p-new2")
    everything = ids(pb.list_pending(svc, me, nationwide=True))
    assert len(everything) == 4
    in_36 = ids(pb.list_pending(svc, me, province="36"))
    assert in_36 == {w.b.pending_admin.id, w.b.app_tax.id, w.b.hall.id}
    assert len(ids(pb.list_pending(svc, me, province="44"))) == 1
    assert len(ids(pb.list_pending(svc, me, nationwide=True, uscc=X_USCC))) == 1
    assert ids(pb.list_pending(svc, me, nationwide=True, taxpayer_name="赣江示例")) == in_36
    assert ids(pb.list_pending(svc, me, nationwide=True, identity_type="admin")) == {w.b.pending_admin.id}
    with pytest.raises(AuthzError) as e:
        pb.list_pending(svc, me, nationwide=True, uscc="not a uscc")
    assert e.value.code == "bad_filter"
    with pytest.raises(AuthzError) as e:
        pb.list_pending(svc, me, nationwide=True, sort="person.password_hash")
    assert e.value.code == "bad_sort"


# ---- R-BIND-11 end own binding
def test_R_BIND_11_end_own_binding_except_as_legal_rep(svc, w):
    """R-BIND-11: a person ends their own binding from "authorised enterprises" (checks deny at once),
    except as legal representative (no rule for it in rules.csv)."""
    me = person_actor("p-tax")
    listed = pb.list_authorised(svc, me, nationwide=True)
    assert listed["items"][0]["actions"] == ["end", "sync"]
    assert pb.end_binding(svc, me, w.b.tax.id)["state"] == "ended"
    assert not svc.enforcer.can("p-tax", w.dom["E"], "biz.query", "use")
    legal = person_actor("p-legal")
    assert pb.list_authorised(svc, legal, nationwide=True)["items"][0]["actions"] == ["sync"]
    with pytest.raises(AuthzError) as e:
        pb.end_binding(svc, legal, w.b.legal.id)
    assert e.value.code == "forbidden"
    assert Binding.get_by_id(w.b.legal.id).state == "active"
    assert pb.end_binding(svc, person_actor("p-fin"), w.b.fin.id)["state"] == "ended"


# ---- R-BIND-12 history
def test_R_BIND_12_person_history_soft_clear(svc, w):
    """R-BIND-12: the person's history (deleted / withdrawn / refused / ended) with filters; "clear
    records" hides entries from the person's list only and keeps the rows."""
    me = person_actor("p-new")
    pb.refuse(svc, me, w.b.pending_tax.id)
    assert ids(pb.list_history(svc, me)) == {w.b.hist.id, w.b.pending_tax.id}
    assert ids(pb.list_history(svc, me, state="deleted")) == {w.b.hist.id}
    assert ids(pb.list_history(svc, me, identity_type="tax_officer")) == {w.b.pending_tax.id}
    assert pb.clear_history(svc, me, [w.b.hist.id]) == 1
    assert ids(pb.list_history(svc, me)) == {w.b.pending_tax.id}
    row = Binding.get_by_id(w.b.hist.id)
    assert row.state == "deleted" and row.hidden_for_person and not row.hidden_for_enterprise
    assert w.b.hist.id in ids(staff.list_history(svc, actor(w, "legal_rep")))
    assert pb.clear_history(svc, me) == 1
    assert ids(pb.list_history(svc, me)) == set()
    with pytest.raises(AuthzError) as e:
        pb.clear_history(svc, me, [w.b.xtax.id])  # active, not a history entry
    assert e.value.code == "not_found"


# ---- scoping and identity
def test_R_AUTHZ_1_person_flows_need_the_personal_identity_and_own_ids(svc, w):
    """R-AUTHZ-1: the person flows are for natural-person business (identity self in one's own personal
    domain); an enterprise identity is refused; another person's binding ids are not_found; nothing
    changes."""
    before = snapshot()
    ent_identity = Actor("p-new", w.dom["X"], "tax_officer")
    for call in (lambda a: pb.list_pending(svc, a), lambda a: pb.confirm(svc, a, [w.b.pending_tax.id], proof=face_proof(a.uid)),
                 lambda a: pb.refuse(svc, a, w.b.pending_tax.id), lambda a: pb.end_binding(svc, a, w.b.xtax.id),
                 lambda a: pb.apply(svc, a, uscc=E_USCC, identity_type="tax_officer"),
                 lambda a: pb.clear_history(svc, a)):
        with pytest.raises(AuthzError) as e:
            call(ent_identity)
        assert e.value.code == "forbidden"
        with pytest.raises(AuthzError) as e:  # someone else's personal domain
            call(Actor("p-new", "person:p-out", "self"))
        assert e.value.code == "forbidden"
    other = person_actor("p-out")
    for call in (lambda: pb.confirm(svc, other, [w.b.pending_tax.id], proof=face_proof(other.uid)),
                 lambda: pb.refuse(svc, other, w.b.pending_tax.id),
                 lambda: pb.withdraw_application(svc, other, w.b.app_tax.id),
                 lambda: pb.end_binding(svc, other, w.b.tax.id),
                 lambda: pb.clear_history(svc, other, [w.b.hist.id])):
        with pytest.raises(AuthzError) as e:
            call()
        assert e.value.code == "not_found"
    assert snapshot() == before


def test_R_LOG_2_person_binding_actions_audited_under_the_enterprise(svc, w):
    """R-LOG-2: confirm, refuse, apply, withdraw and end are audited with the person as actor and the
    enterprise's domain, so both the person's and the enterprise's audit views show them."""
    pb.confirm(svc, person_actor("p-new2"), [w.b.pending_admin.id], proof=face_proof("p-new2"))
    pb.withdraw_application(svc, person_actor("p-new2"), w.b.app_tax.id)
    pb.refuse(svc, person_actor("p-new"), w.b.pending_tax.id)
    out = pb.apply(svc, person_actor("p-out"), uscc=E_USCC, identity_type="tax_officer")
    pb.end_binding(svc, person_actor("p-inv"), w.b.inv.id)
    rows = list(AuditLog.select().where(AuditLog.action.startswith("authorisation.")).order_by(AuditLog.id))
    assert [(r.actor, r.action, r.target) for r in rows] == [
        ("p-new2", "authorisation.confirm", f"binding:{w.b.pending_admin.id}"),
        ("p-new2", "authorisation.withdraw", f"binding:{w.b.app_tax.id}"),
        ("p-new", "authorisation.refuse", f"binding:{w.b.pending_tax.id}"),
        ("p-out", "authorisation.apply", f"binding:{out['id']}"),
        ("p-inv", "authorisation.end", f"binding:{w.b.inv.id}"),
    ]
    assert {r.domain for r in rows} == {w.dom["E"]} and {r.identity for r in rows} == {"self"}
    assert_no_leak(w, [(r.detail, r.target) for r in rows])


# ---- the integration port's constraints (R-BIND-2, R-BIND-3) and data sync (R-BIND-15)
def _ref(uid):
    name, doc, _ = PEOPLE[uid]
    return {"doc_type": "resident_id", "doc_number": doc, "name": name}


def test_R_BIND_2_tax_report_finance_officer_through_the_integration_port(svc, w):
    """R-BIND-2: the finance officer named by the tax information report arrives pending; the person
    cannot refuse it (the integration port's constraint), only confirm; the enterprise cannot withdraw it."""
    out = integration.report_finance_officer(svc, "service:tax-report", uscc=E_USCC, person=_ref("p-new"))
    bid = out["binding_id"]
    me = person_actor("p-new")
    entry = next(i for i in pb.list_pending(svc, me, nationwide=True)["items"] if i["id"] == bid)
    assert entry["refusable"] is False and entry["actions"] == ["confirm"]
    with pytest.raises(AuthzError) as e:
        pb.refuse(svc, me, bid)
    assert e.value.code == "binding_not_refusable"
    with pytest.raises(AuthzError) as e:
        staff.withdraw_staff(svc, actor(w, "legal_rep"), bid)
    assert e.value.code == "forbidden", "no withdraw rule for a finance officer in rules.csv"
    assert pb.confirm(svc, me, [bid], proof=face_proof(me.uid))[0]["state"] == "active"


def test_R_BIND_3_hall_and_core_tax_bindings_not_withdrawable_online(svc, w):
    """R-BIND-3: tax officers from the core tax system and bindings added at a tax hall arrive pending for
    the person to confirm; the enterprise cannot withdraw them online; the person may refuse."""
    core = integration.report_tax_officers(svc, "service:core-tax", uscc=E_USCC,
                                           officers=[{"person": _ref("p-out")}])["results"][0]["binding_id"]
    hall = integration.hall_add_binding(svc, "service:hall", uscc=E_USCC, person=_ref("p-new"),
                                        identity_type="admin")["binding_id"]
    legal = actor(w, "legal_rep")
    listed = {i["id"]: i for i in staff.list_pending(svc, legal)["items"]}
    assert listed[core]["actions"] == [] and listed[hall]["actions"] == []
    for bid in (core, hall):
        with pytest.raises(AuthzError) as e:
            staff.withdraw_staff(svc, legal, bid)
        assert e.value.code == "binding_not_withdrawable"
    assert pb.refuse(svc, person_actor("p-out"), core)["state"] == "refused"
    assert pb.confirm(svc, person_actor("p-new"), [hall], proof=face_proof("p-new"))[0]["state"] == "active"


def assert_no_personal_data(payload) -> None:
    """Events carry ids (person uid, USCC, binding id) for downstream systems, never names, documents or
    phones."""
    text = json.dumps(payload, ensure_ascii=False)
    assert not [v for name, doc, phone in PEOPLE.values() for v in (name, doc, phone) if v in text]


def test_R_BIND_15_data_sync_pushes_an_outbound_event(svc, w):
    """R-BIND-15: "data sync" (enterprise staff list, or the person's authorised enterprises) queues one
    outbound binding.sync event carrying ids only; where rules.csv does not allow it, nothing is queued."""
    out = staff.sync_staff(svc, actor(w, "finance_officer"), w.b.tax.id)
    again = staff.sync_staff(svc, actor(w, "legal_rep"), w.b.tax.id)
    assert again["event_id"] == out["event_id"] and again["reused"]
    ev = OutboxEvent.get(OutboxEvent.event_id == out["event_id"])
    assert ev.kind == "binding.sync" and ev.subject == f"binding:{w.b.tax.id}" and ev.payload["person"] == "p-tax"
    assert_no_personal_data(ev.payload)
    before = OutboxEvent.select().count()
    with pytest.raises(AuthzError) as e:
        staff.sync_staff(svc, actor(w, "tax_officer"), w.b.tax.id)
    assert e.value.code == "forbidden"
    with pytest.raises(AuthzError) as e:
        staff.sync_staff(svc, actor(w, "legal_rep"), w.b.pending_tax.id)
    assert e.value.code == "binding_state"
    with pytest.raises(AuthzError) as e:
        pb.sync(svc, person_actor("p-out"), w.b.tax.id)
    assert e.value.code == "not_found"
    assert OutboxEvent.select().count() == before
    mine = pb.sync(svc, person_actor("p-inv"), w.b.inv.id)
    assert OutboxEvent.get(OutboxEvent.event_id == mine["event_id"]).subject == f"binding:{w.b.inv.id}"


def test_R_BIND_15_every_binding_change_publishes_binding_changed(svc, w):
    """R-BIND-15: account-centre changes reach downstream systems as binding.changed events (as the
    integration port's own changes do), in the same transaction, with ids and no personal data."""
    legal = actor(w, "legal_rep")
    v = staff.add_staff(svc, legal, name="岳不群英", doc_type="resident_id", doc_number="360102198809099997",
                        identity_type="tax_officer", risk_confirmed=True)
    pb.confirm(svc, person_actor("p-out"), [v["id"]], proof=face_proof("p-out"))
    staff.manage_staff(svc, legal, v["id"], functions=["biz.query"])
    staff.delete_staff(svc, legal, v["id"])
    evs = list(OutboxEvent.select().where((OutboxEvent.kind == "binding.changed")
                                          & (OutboxEvent.subject == f"binding:{v['id']}")).order_by(OutboxEvent.id))
    assert [e.payload["change"] for e in evs] == ["created", "active", "updated", "deleted"]
    assert evs[2].payload["functions"] == ["biz.query"]
    assert_no_personal_data([e.payload for e in evs])
