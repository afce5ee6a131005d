"""Enterprise information and agency views: R-ENT-1, R-ENT-2, R-MASK-1, R-LOG-2, R-AGT-3, R-AGT-4."""
from __future__ import annotations

import datetime as dt

import pytest

from authz.actor import Actor
from authz.errors import AuthzError
from authz.flows import agency_views, enterprise_info, person_bindings, staff
from authz.masking import mask_doc, mask_email, mask_enterprise_name, mask_name, mask_phone, mask_uscc
from authz.models import AuditLog

from .test_staff import (E_NAME, E_USCC, G_NAME, G_USCC, PEOPLE, actor, assert_no_leak, build_world,
                         person_actor)


@pytest.fixture
def w(svc, directory):
    return build_world(svc, directory)


# ---- R-MASK-1 masking functions
@pytest.mark.parametrize("fn,value", [
    (mask_name, "张三"), (mask_name, "欧阳明远"), (mask_name, "John Smith"),
    (mask_doc, "360102198001011112"), (mask_doc, "E12345678"), (mask_doc, "A1"),
    (mask_phone, "13800000001"), (mask_phone, "85291234567"), (mask_phone, "912345"),
    (mask_uscc, E_USCC), (mask_uscc, "360102123456789"),
    (mask_enterprise_name, E_NAME), (mask_enterprise_name, "某某公司"), (mask_enterprise_name, "某司"),
    (mask_email, "alice@example.com"),
])
def test_R_MASK_1_masked_value_never_contains_the_full_value(fn, value):
    """R-MASK-1: a masked value has at least one star and never contains the full value."""
    out = fn(value)
    assert "*" in out and value not in out and len(out) >= 1


def test_R_MASK_1_masks_keep_recognisable_parts():
    """R-MASK-1: enough stays visible to recognise one's own data."""
    assert mask_phone("13800000001") == "138****0001"
    assert mask_uscc(E_USCC) == "9136**********CD1X"
    assert mask_name("欧阳明远") == "***远"
    assert mask_doc("360102198001011112") == "36**************12"
    assert mask_enterprise_name(E_NAME) == "赣江******公司"
    assert mask_name("") == mask_doc(None) == ""


# ---- R-ENT-1 basic information
def test_R_ENT_1_basic_info_masked_with_current_and_other_identities(svc, w, directory):
    """R-ENT-1: masked USCC, name and legal rep; real-name status; competent tax authority; the current
    identity (emphasised) and the person's other identities in this enterprise; main personnel."""
    # the legal rep also holds a tax officer identity in E
    directory.bind(w.p["p-legal"], w.E, "tax_officer", state="active", origin="core_tax")
    out = enterprise_info.basic_info(svc, actor(w, "legal_rep"))
    assert out["uscc"] == mask_uscc(E_USCC) and out["name"] == mask_enterprise_name(E_NAME)
    assert out["legal_rep_name"] == mask_name("欧阳明远")
    assert out["realname_status"] == "verified" and out["tax_authority"] == "国家税务总局南昌市东湖区税务局"
    assert out["current_identity"] == {"identity_type": "legal_rep", "identity_type_name": "法定代表人",
                                       "identity_type_name_en": "Legal representative", "current": True}
    assert [i["identity_type"] for i in out["other_identities"]] == ["tax_officer"]
    assert {p["identity_type"] for p in out["main_personnel"]} == {"legal_rep", "finance_officer"}
    fin = next(p for p in out["main_personnel"] if p["identity_type"] == "finance_officer")
    assert fin["phone"] == "138****0002" and fin["doc_number"] == mask_doc(PEOPLE["p-fin"][1])
    assert "tax_info" not in out and "investors" not in out
    assert_no_leak(w, out)


def test_R_ENT_2_officers_see_basic_and_main_personnel_only(svc, w):
    """R-ENT-2: tax and invoice officers see basic information and main personnel; the full view (basic
    tax information, investors) is refused — decided by rules.csv."""
    for role in ("tax_officer", "invoice_officer"):
        out = enterprise_info.basic_info(svc, actor(w, role))
        assert out["main_personnel"] and out["current_identity"]["identity_type"] == role
        with pytest.raises(AuthzError) as e:
            enterprise_info.full_info(svc, actor(w, role))
        assert e.value.code == "forbidden"


def test_R_ENT_2_legal_rep_and_finance_officer_see_everything(svc, w):
    """R-ENT-2: legal rep and finance officer see basic, main personnel, basic tax info and investors;
    what no source provides yet is named, not invented."""
    for role in ("legal_rep", "finance_officer"):
        out = enterprise_info.full_info(svc, actor(w, role))
        assert out["scope"] == "full" and out["main_personnel"]
        assert out["tax_info"]["competent_tax_authority"] == "国家税务总局南昌市东湖区税务局"
        assert out["tax_info"]["taxpayer_kind"] == "ordinary"
        assert out["investors"] == [] and "investors" in out["not_provided"]
        assert_no_leak(w, out)


def test_R_MASK_1_reveal_full_name_is_explicit_and_audited(svc, w):
    """R-MASK-1 / R-LOG-2: the "eye" returns the full taxpayer name and writes an audit row; an identity
    without ac.ent.reveal (or an outsider) gets forbidden and nothing is written."""
    before = AuditLog.select().count()
    out = enterprise_info.reveal_name(svc, actor(w, "tax_officer"))
    assert out == {"name": E_NAME}
    row = AuditLog.select().order_by(AuditLog.id.desc()).first()
    assert (row.actor, row.identity, row.domain, row.action, row.detail) == (
        "p-tax", "tax_officer", w.dom["E"], "ent.reveal", {"field": "name"})
    assert AuditLog.select().count() == before + 1
    for a in (actor(w, "tax_agent"), Actor("p-out", w.dom["E"], "legal_rep")):
        with pytest.raises(AuthzError) as e:
            enterprise_info.reveal_name(svc, a)
        assert e.value.code == "forbidden"
    assert AuditLog.select().count() == before + 1


def test_R_ENT_1_personal_session_has_no_enterprise_info(svc, w):
    """R-AUTHZ-1: the enterprise views need an enterprise identity; a personal session is refused."""
    with pytest.raises(AuthzError) as e:
        enterprise_info.basic_info(svc, person_actor("p-legal"))
    assert e.value.code == "forbidden"


# ---- R-AGT-3, R-AGT-4
def test_R_AGT_3_my_agency_for_client_legal_rep_and_finance_officer(svc, w):
    """R-AGT-3: agency name and USCC (masked), agreement number, agent persons (masked) with identity
    type, service start/end, status and each agent's permissions."""
    for role in ("legal_rep", "finance_officer"):
        out = agency_views.my_agency(svc, actor(w, role))
        assert out["total"] == 1
        ag = out["items"][0]
        assert ag["agreement_number"] == "DL-2026-0001"
        assert ag["agency_name"] == mask_enterprise_name(G_NAME) and ag["agency_uscc"] == mask_uscc(G_USCC)
        assert (ag["service_start"], ag["service_end"], ag["status"]) == ("2026-01-01", "2026-12-31", "active")
        agent = ag["agents"][0]
        assert agent["name"] == mask_name("慕容长风") and agent["identity_type"] == "tax_agent"
        assert [p["function"] for p in agent["permissions"]] == ["biz.declare_pay", "biz.query"]
        assert_no_leak(w, out)
    for role in ("tax_officer", "invoice_officer", "tax_agent"):
        with pytest.raises(AuthzError):
            agency_views.my_agency(svc, actor(w, role))


def test_R_AGT_3_agreement_status_follows_dates_and_filings(svc, w, directory, clock):
    """R-AGT-3 / R-AGT-2: status is active within the service period, expired after it, or the filed
    status; filtering by status is allow-listed."""
    directory.file_agreement("DL-2025-0009", w.G, w.E, [w.p["p-agent"]], dt.date(2025, 1, 1),
                             dt.date(2025, 12, 31), ["biz.query"])
    directory.file_agreement("DL-2026-0010", w.G, w.E, [w.p["p-agent"]], dt.date(2026, 1, 1),
                             dt.date(2026, 12, 31), ["biz.query"], status="ended")
    out = agency_views.my_agency(svc, actor(w, "legal_rep"))
    assert {a["agreement_number"]: a["status"] for a in out["items"]} == {
        "DL-2026-0001": "active", "DL-2025-0009": "expired", "DL-2026-0010": "ended"}
    only = agency_views.my_agency(svc, actor(w, "legal_rep"), status="expired")
    assert [a["agreement_number"] for a in only["items"]] == ["DL-2025-0009"]
    with pytest.raises(AuthzError) as e:
        agency_views.my_agency(svc, actor(w, "legal_rep"), status="anything")
    assert e.value.code == "bad_filter"


def test_R_AGT_4_agency_sees_clients_and_agent_staff_instead_of_my_agency(svc, w):
    """R-AGT-4: an agency's legal rep and finance officer see "clients" and "agent staff"; "my agency"
    is not theirs (rules.csv kind:agency); an ordinary enterprise has no clients view."""
    g = actor(w, "legal_rep", "G")
    out = agency_views.clients(svc, g)
    assert [c["agreement_number"] for c in out["items"]] == ["DL-2026-0001"]
    assert out["items"][0]["client_name"] == mask_enterprise_name(E_NAME)
    agents = agency_views.agent_staff(svc, actor(w, "finance_officer", "G"))
    assert agents["total"] == 1 and agents["items"][0]["name"] == mask_name("慕容长风")
    assert [c["agreement_number"] for c in agents["items"][0]["clients"]] == ["DL-2026-0001"]
    with pytest.raises(AuthzError):
        agency_views.my_agency(svc, g)
    with pytest.raises(AuthzError):
        agency_views.clients(svc, actor(w, "legal_rep"))
    assert_no_leak(w, out, agents)


# ---- R-MASK-1 across every view
def test_R_MASK_1_no_full_value_in_any_list_or_view(svc, w):
    """R-MASK-1: search the serialized output of every enterprise and person view for every full name,
    document number, phone, USCC and taxpayer name."""
    legal, g = actor(w, "legal_rep"), actor(w, "legal_rep", "G")
    outputs = [
        staff.list_pending(svc, legal), staff.list_staff(svc, legal), staff.list_history(svc, legal),
        staff.get_staff(svc, legal, w.b.tax.id), staff.assist_code(svc, legal, w.b.tax.id),
        staff.my_permissions(svc, actor(w, "tax_officer")),
        enterprise_info.basic_info(svc, legal), enterprise_info.full_info(svc, legal),
        agency_views.my_agency(svc, legal), agency_views.clients(svc, g), agency_views.agent_staff(svc, g),
    ]
    for uid in ("p-new", "p-new2", "p-tax", "p-legal"):
        me = person_actor(uid)
        outputs += [person_bindings.list_pending(svc, me, nationwide=True),
                    person_bindings.list_authorised(svc, me, nationwide=True),
                    person_bindings.list_history(svc, me)]
    outputs.append(staff.add_staff(svc, legal, name="岳不群英", doc_type="resident_id",
                                   doc_number="360102198809099997", identity_type="tax_officer", risk_confirmed=True))
    outputs.append(person_bindings.apply(svc, person_actor("p-out"), uscc=E_USCC, identity_type="invoice_officer"))
    assert sum(len(o.get("items", [])) for o in outputs if isinstance(o, dict)) > 20
    assert_no_leak(w, outputs)
