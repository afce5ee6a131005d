"""Enterprise staff module (人员权限管理): R-BIND-3,4,5,7,9,10,12,13,14,16, R-LOG-2, R-MASK-1, R-AUTHZ-1.

`build_world` is shared by the other binding tests (person side, enterprise info, state machine, matrix)."""
from __future__ import annotations

import datetime as dt
import inspect
import json
from types import SimpleNamespace

import pytest

from authz.actor import Actor
from authz.errors import AuthzError
from authz.flows import staff
from authz.ids import enterprise_domain, person_domain
from authz.models import AuditLog, Binding
from tests.binding_support import move

E_USCC = "91360100MA35ABCD1X"
G_USCC = "91360100MA35AGNC2Y"
H_USCC = "91360100MA35AGNC3H"
X_USCC = "91360100MA35OTHR3Z"
E_NAME = "赣江示例科技有限公司"
G_NAME = "洪都税务师事务所有限公司"
H_NAME = "滕王阁涉税服务有限公司"
X_NAME = "庐山其他实业有限公司"

# uid: (name, document number, phone)
PEOPLE = {
    "p-legal": ("欧阳明远", "360102198001011112", "13800000001"),
    "p-fin": ("司马青衫", "360102198102022224", "13800000002"),
    "p-admin": ("上官云霄", "360102198203033336", "13800000003"),
    "p-tax": ("诸葛孔明", "360102198304044448", "13800000004"),
    "p-inv": ("东方既白", "36010219840505555X", "13800000005"),
    "p-agent": ("慕容长风", "360102198506066661", "13800000006"),
    "p-new": ("令狐冲霄", "360102198607077773", "13800000007"),
    "p-new2": ("任盈如意", "360102198708088885", "13800000008"),
    "p-out": ("岳不群英", "360102198809099997", "13800000009"),
    "p-xlegal": ("林平之远", "360102198910101019", "13800000010"),
    "p-glegal": ("左冷禅心", "360102199011111218", "13800000011"),
    "p-gfin": ("风清扬帆", "360102199112121319", "13800000012"),
    "p-unreg": ("田伯光明", "360102199201011410", "13800000013"),
}
ROLES = ("legal_rep", "finance_officer", "tax_officer", "invoice_officer", "admin", "tax_agent")
# who holds which identity type, in E and in G (the agency)
HOLDERS = {
    "legal_rep": ("p-legal", "p-glegal"),
    "finance_officer": ("p-fin", "p-gfin"),
    "tax_officer": ("p-tax", "p-tax"),
    "invoice_officer": ("p-inv", "p-inv"),
    "admin": ("p-admin", "p-admin"),
    "tax_agent": ("p-agent", "p-agent"),
}


def build_world(svc, directory) -> SimpleNamespace:
    """E (ordinary) with every identity type, G (agency serving E) with every identity type, H (agency
    serving G), X (another ordinary enterprise). Targets in E: pending adds, an application, history."""
    w = SimpleNamespace()
    w.E = directory.upsert_enterprise(E_USCC, E_NAME, "ordinary", province="36", tax_authority="国家税务总局南昌市东湖区税务局")
    w.G = directory.upsert_enterprise(G_USCC, G_NAME, "agency", province="36", tax_authority="国家税务总局南昌市西湖区税务局")
    w.H = directory.upsert_enterprise(H_USCC, H_NAME, "agency", province="44", tax_authority="国家税务总局广州市税务局")
    w.X = directory.upsert_enterprise(X_USCC, X_NAME, "ordinary", province="44", tax_authority="国家税务总局广州市天河区税务局")
    w.p = {}
    for uid, (name, doc, phone) in PEOPLE.items():
        w.p[uid] = directory.create_person(name, "resident_id", doc, uid=uid, phones=[phone],
                                           registered=(uid != "p-unreg"), realname_level=4)
    b = directory.bind
    w.b = SimpleNamespace()
    w.b.legal = b(w.p["p-legal"], w.E, "legal_rep", state="active", origin="registration", initiated_by="integration")
    w.b.fin = b(w.p["p-fin"], w.E, "finance_officer", state="active", origin="tax_report", initiated_by="integration")
    w.b.admin = b(w.p["p-admin"], w.E, "admin", state="active", origin="enterprise")
    w.b.tax = b(w.p["p-tax"], w.E, "tax_officer", state="active", origin="enterprise",
                functions=["biz.declare_pay", "biz.invoice_use", "biz.query"])
    w.b.inv = b(w.p["p-inv"], w.E, "invoice_officer", state="active", origin="enterprise")
    w.b.pending_tax = b(w.p["p-new"], w.E, "tax_officer", state="pending", origin="enterprise",
                        functions=["biz.query"], valid_until=dt.date(2026, 12, 31))
    w.b.pending_admin = b(w.p["p-new2"], w.E, "admin", state="pending", origin="enterprise", functions=["biz.query"])
    w.b.app_tax = b(w.p["p-new2"], w.E, "tax_officer", state="pending", origin="application", initiated_by="person")
    w.b.hall = b(w.p["p-new2"], w.E, "invoice_officer", state="pending", origin="hall", initiated_by="hall")
    w.b.hist = b(w.p["p-new"], w.E, "invoice_officer", state="active", origin="enterprise")
    move(directory.svc, w.b.hist, "deleted")
    for role in ("legal_rep", "finance_officer", "tax_officer", "invoice_officer", "admin"):
        b(w.p[HOLDERS[role][1]], w.G, role, state="active", origin="registration" if role == "legal_rep" else "enterprise")
    w.b.xlegal = b(w.p["p-xlegal"], w.X, "legal_rep", state="active", origin="registration")
    w.b.xtax = b(w.p["p-new"], w.X, "tax_officer", state="active", origin="enterprise")
    w.ag = directory.file_agreement("DL-2026-0001", w.G, w.E, [w.p["p-agent"]], dt.date(2026, 1, 1),
                                    dt.date(2026, 12, 31), ["biz.declare_pay", "biz.query"])
    w.ag2 = directory.file_agreement("DL-2026-0002", w.H, w.G, [w.p["p-agent"]], dt.date(2026, 1, 1),
                                     dt.date(2026, 12, 31), ["biz.query"])
    w.dom = {"E": enterprise_domain(E_USCC), "G": enterprise_domain(G_USCC), "X": enterprise_domain(X_USCC)}
    return w


def actor(w, role: str, where: str = "E") -> Actor:
    """The holder of `role` in E or G, acting as that identity."""
    uid = HOLDERS[role][0 if where == "E" else 1]
    return Actor(uid, w.dom[where], role)


def person_actor(uid: str) -> Actor:
    return Actor(uid, person_domain(uid), "self")


def full_values(w) -> list[str]:
    """Every value that must only ever appear masked."""
    out = [E_USCC, G_USCC, H_USCC, X_USCC, E_NAME, G_NAME, H_NAME, X_NAME]
    for name, doc, phone in PEOPLE.values():
        out += [name, doc, phone]
    return out


def assert_no_leak(w, *outputs) -> None:
    text = json.dumps(outputs, ensure_ascii=False, default=str)
    leaked = [v for v in full_values(w) if v in text]
    assert not leaked, f"R-MASK-1: full values leaked: {leaked}"


def codes(exc_info) -> str:
    return exc_info.value.code


@pytest.fixture
def w(svc, directory):
    return build_world(svc, directory)


# ---- R-BIND-4 add
def test_R_BIND_4_add_staff_pending_with_ceiling_default(svc, w):
    """R-BIND-4: name + document of a registered person, identity type, function set defaulting to the
    type's ceiling, long-term validity, risk confirmed → pending; it grants nothing yet (R-BIND-18)."""
    legal = actor(w, "legal_rep")
    v = staff.add_staff(svc, legal, name="岳不群英", doc_type="resident_id", doc_number="360102198809099997",
                        identity_type="invoice_officer", risk_confirmed=True)
    assert v["state"] == "pending" and v["identity_type"] == "invoice_officer" and v["long_term"]
    ceiling = svc.enforcer.index.ceiling("invoice_officer", svc.enforcer.index.kinds_of("kind:ordinary"))
    assert [f["function"] for f in v["functions"]] == sorted(ceiling)
    assert v["name"] == "***英" and "360102198809099997" not in json.dumps(v)
    b = Binding.get_by_id(v["id"])
    assert (b.origin, b.initiated_by, b.functions) == ("enterprise", "enterprise", sorted(ceiling))
    assert not svc.enforcer.can("p-out", w.dom["E"], "biz.invoice_use", "use")
    assert v["actions"] == ["withdraw"]


def test_R_BIND_4_narrowed_function_set_and_date(svc, w, clock):
    """R-BIND-4: a chosen function set (subset of the ceiling) and a validity end of today or later."""
    fin = actor(w, "finance_officer")
    v = staff.add_staff(svc, fin, name="岳不群英", doc_type="resident_id", doc_number="360102198809099997",
                        identity_type="invoice_officer", functions=["biz.query"], valid_until=clock.today(),
                        risk_confirmed=True)
    assert [f["function"] for f in v["functions"]] == ["biz.query"]
    assert v["functions"][0]["name"] == "我要查询"
    assert v["valid_until"] == "2026-03-02"


@pytest.mark.parametrize("name,doc,uid", [
    ("田伯光明", "360102199201011410", "p-unreg"),  # known document, never registered
    ("任盈如", "360102198708088885", None),  # wrong name for the document
    ("无名氏", "360102199912310003", None),  # unknown document
])
def test_R_BIND_4_person_must_be_registered(svc, w, name, doc, uid):
    """R-BIND-4: "该办税人员尚未注册" for an unregistered person, a name that does not match, an unknown
    document: one answer for every mismatch; nothing is written."""
    before = Binding.select().count()
    with pytest.raises(AuthzError) as e:
        staff.add_staff(svc, actor(w, "legal_rep"), name=name, doc_type="resident_id", doc_number=doc,
                        identity_type="tax_officer", risk_confirmed=True)
    assert codes(e) == "staff_not_registered" and e.value.message() == "该办税人员尚未注册"
    assert Binding.select().count() == before


def test_R_BIND_4_deregistered_person_cannot_be_added(svc, w):
    """R-BIND-4 / R-INFO-3: a deregistered person is not an active registered person."""
    p = w.p["p-out"]
    p.status = "deregistered"
    p.save()
    with pytest.raises(AuthzError) as e:
        staff.add_staff(svc, actor(w, "legal_rep"), name="岳不群英", doc_type="resident_id",
                        doc_number="360102198809099997", identity_type="tax_officer", risk_confirmed=True)
    assert codes(e) == "staff_not_registered"


def test_R_BIND_4_function_set_non_empty_subset_of_ceiling(svc, w):
    """R-BIND-4: an empty function set, or one beyond the identity type's ceiling, is refused."""
    legal = actor(w, "legal_rep")
    kw = dict(name="岳不群英", doc_type="resident_id", doc_number="360102198809099997", risk_confirmed=True)
    with pytest.raises(AuthzError) as e:
        staff.add_staff(svc, legal, identity_type="invoice_officer", functions=[], **kw)
    assert codes(e) == "function_set_empty"
    with pytest.raises(AuthzError) as e:
        staff.add_staff(svc, legal, identity_type="invoice_officer", functions=["biz.declare_pay"], **kw)
    assert codes(e) == "function_set_exceeds" and e.value.errors == {"functions": ["biz.declare_pay"]}


def test_R_BIND_4_validity_end_not_in_the_past(svc, w, clock):
    """R-BIND-4: the validity end is long-term or a date not before today (Asia/Shanghai)."""
    with pytest.raises(AuthzError) as e:
        staff.add_staff(svc, actor(w, "legal_rep"), name="岳不群英", doc_type="resident_id",
                        doc_number="360102198809099997", identity_type="invoice_officer",
                        valid_until=clock.today() - dt.timedelta(days=1), risk_confirmed=True)
    assert codes(e) == "validity_end_past"


def test_R_BIND_4_risk_confirmation_required(svc, w):
    """R-BIND-4: the risk notice must be confirmed before the add is submitted."""
    for flag in (False, None, "yes", 1):
        with pytest.raises(AuthzError) as e:
            staff.add_staff(svc, actor(w, "legal_rep"), name="岳不群英", doc_type="resident_id",
                            doc_number="360102198809099997", identity_type="invoice_officer", risk_confirmed=flag)
        assert codes(e) == "risk_not_confirmed"


def test_R_BIND_4_person_already_pending_or_active_in_that_type_conflicts(svc, w):
    """R-BIND-4: adding a person who already awaits (pending) or holds (active) that type → conflict;
    another type in the same enterprise is fine."""
    legal = actor(w, "legal_rep")
    kw = dict(doc_type="resident_id", risk_confirmed=True)
    with pytest.raises(AuthzError) as e:  # p-new has a pending tax_officer binding
        staff.add_staff(svc, legal, name="令狐冲霄", doc_number="360102198607077773", identity_type="tax_officer", **kw)
    assert codes(e) == "binding_exists"
    with pytest.raises(AuthzError) as e:  # p-tax is an active tax officer
        staff.add_staff(svc, legal, name="诸葛孔明", doc_number="360102198304044448", identity_type="tax_officer", **kw)
    assert codes(e) == "binding_exists"
    v = staff.add_staff(svc, legal, name="诸葛孔明", doc_number="360102198304044448",
                        identity_type="invoice_officer", **kw)
    assert v["state"] == "pending"
    # after the old one is deleted, the person may be added again (history keeps the old row)
    v = staff.add_staff(svc, legal, name="令狐冲霄", doc_number="360102198607077773",
                        identity_type="invoice_officer", **kw)
    assert v["state"] == "pending"


def test_R_BIND_1_legal_rep_and_finance_officer_cannot_be_added(svc, w):
    """R-BIND-1 / R-BIND-2 / R-BIND-4: nobody adds a legal rep or finance officer in the account centre
    (rules.csv has no add rule for them)."""
    for role in ("legal_rep", "finance_officer"):
        with pytest.raises(AuthzError) as e:
            staff.add_staff(svc, actor(w, "legal_rep"), name="任盈如意", doc_type="resident_id",
                            doc_number="360102198708088885", identity_type=role, risk_confirmed=True)
        assert codes(e) == "forbidden"


def test_R_BIND_4_admin_added_only_where_rules_allow(svc, w):
    """R-BIND-4 / R-BIND-10: the legal rep may add an admin; an admin may not (rules.csv)."""
    kw = dict(name="岳不群英", doc_type="resident_id", doc_number="360102198809099997", identity_type="admin",
              risk_confirmed=True)
    with pytest.raises(AuthzError) as e:
        staff.add_staff(svc, actor(w, "admin"), **kw)
    assert codes(e) == "forbidden"
    assert staff.add_staff(svc, actor(w, "legal_rep"), **kw)["state"] == "pending"


@pytest.mark.parametrize("role", ["legal_rep", "finance_officer", "admin"])
def test_R_BIND_4_staff_options_offer_exactly_what_add_and_manage_accept(svc, w, role):
    """R-BIND-4 / R-BIND-9 / R-BIND-14 (the add form's choices, issue 11): the options list every identity
    type the actor may act on, with exactly the actions rules.csv allows and the type's ceiling as the
    default function set; each type offered for "add" is accepted by add_staff with that ceiling, and
    each type not offered for "add" is refused."""
    a = actor(w, role)
    out = staff.staff_options(svc, a)
    index = svc.enforcer.index
    kinds = index.kinds_of("kind:ordinary")
    offered = {t["identity_type"]: t for t in out["identity_types"]}
    for r in index.roles:
        fn = index.functions.get(f"ac.staff:{r}")
        expected = [x for x in (fn.actions if fn else ()) if rules_allow(svc, role, w.dom["E"], [(fn.obj, x)])]
        assert offered.get(r, {}).get("actions", []) == expected, r
    assert "add" in offered["tax_officer"]["actions"]  # not vacuous: something to add
    assert offered["legal_rep"]["actions"] == ["view"]  # R-BIND-1: never added or deleted here
    for i, (r, t) in enumerate(offered.items()):
        assert [f["function"] for f in t["functions"]] == sorted(index.ceiling(r, kinds))
        kw = dict(name="岳不群英", doc_type="resident_id", doc_number="360102198809099997", identity_type=r,
                  functions=[f["function"] for f in t["functions"]], risk_confirmed=True)
        if "add" in t["actions"]:
            assert staff.add_staff(svc, a, **kw)["state"] == "pending"
        else:
            with pytest.raises(AuthzError) as e:
                staff.add_staff(svc, a, **kw)
            assert codes(e) == "forbidden"
    assert {d["code"] for d in out["doc_types"]} >= {"resident_id"}
    assert_no_leak(w, out)


def test_R_BIND_14_staff_options_refused_outside_the_staff_module(svc, w):
    """R-BIND-14: a tax officer (own permission detail only) gets no staff options."""
    with pytest.raises(AuthzError) as e:
        staff.staff_options(svc, actor(w, "tax_officer"))
    assert codes(e) == "forbidden"


# ---- R-BIND-5 pending list and withdraw
def test_R_BIND_5_pending_list_with_permission_view_and_filters(svc, w):
    """R-BIND-5 / R-BIND-8: the pending list shows each entry's permission view; filters by identity type
    and name; the legal rep sees applications with confirm/refuse, enterprise adds with withdraw."""
    out = staff.list_pending(svc, actor(w, "legal_rep"))
    by_id = {i["id"]: i for i in out["items"]}
    assert set(by_id) == {w.b.pending_tax.id, w.b.pending_admin.id, w.b.app_tax.id, w.b.hall.id}
    assert by_id[w.b.pending_tax.id]["functions"] == [
        {"function": "biz.query", "name": "我要查询", "name_en": "Queries", "group": "我要办税"}]
    assert by_id[w.b.pending_tax.id]["actions"] == ["withdraw"]
    assert by_id[w.b.app_tax.id]["actions"] == ["confirm", "refuse"]
    assert by_id[w.b.hall.id]["actions"] == [], "R-BIND-3: a hall binding cannot be withdrawn online"
    only = staff.list_pending(svc, actor(w, "legal_rep"), identity_type="admin")
    assert [i["id"] for i in only["items"]] == [w.b.pending_admin.id]
    fuzzy = staff.list_pending(svc, actor(w, "legal_rep"), name="令狐")
    assert [i["id"] for i in fuzzy["items"]] == [w.b.pending_tax.id]
    assert_no_leak(w, out, only, fuzzy)


def test_R_BIND_7_applications_listed_only_where_rules_allow(svc, w):
    """R-BIND-7 / R-AUTHZ-1: the admin sees pending adds but not applications (no
    ac.staff.applications view in rules.csv)."""
    ids = {i["id"] for i in staff.list_pending(svc, actor(w, "admin"))["items"]}
    assert w.b.app_tax.id not in ids and w.b.pending_tax.id in ids


def test_R_BIND_5_withdraw_moves_to_history_withdrawn(svc, w):
    """R-BIND-5: before confirmation the enterprise withdraws → history "withdrawn"; the person can no
    longer confirm it."""
    v = staff.withdraw_staff(svc, actor(w, "finance_officer"), w.b.pending_tax.id)
    assert v["state"] == "withdrawn"
    hist = staff.list_history(svc, actor(w, "legal_rep"), state="withdrawn")
    assert [i["id"] for i in hist["items"]] == [w.b.pending_tax.id]
    with pytest.raises(AuthzError) as e:
        staff.withdraw_staff(svc, actor(w, "legal_rep"), w.b.pending_tax.id)
    assert codes(e) == "binding_state"


def test_R_BIND_3_hall_binding_not_withdrawable_online(svc, w):
    """R-BIND-3: a pending binding added at a hall (or by the core tax system) cannot be withdrawn online."""
    with pytest.raises(AuthzError) as e:
        staff.withdraw_staff(svc, actor(w, "legal_rep"), w.b.hall.id)
    assert codes(e) == "binding_not_withdrawable"
    assert Binding.get_by_id(w.b.hall.id).state == "pending"


def test_R_BIND_5_application_is_not_withdrawn_by_the_enterprise(svc, w):
    """R-BIND-7: the enterprise refuses a person's application; withdrawing is the person's."""
    with pytest.raises(AuthzError) as e:
        staff.withdraw_staff(svc, actor(w, "legal_rep"), w.b.app_tax.id)
    assert codes(e) == "binding_state"


# ---- R-BIND-7 applications (enterprise side)
def test_R_BIND_7_confirm_application_with_function_set(svc, w, clock):
    """R-BIND-7: the legal rep confirms a person's application with a function set and validity end; the
    binding is active and the next check follows the function set."""
    e = svc.enforcer
    assert not e.can("p-new2", w.dom["E"], "biz.query", "use")
    v = staff.confirm_application(svc, actor(w, "legal_rep"), w.b.app_tax.id, functions=["biz.query"],
                                  valid_until=dt.date(2026, 6, 30))
    assert v["state"] == "active" and v["valid_until"] == "2026-06-30"
    assert e.can("p-new2", w.dom["E"], "biz.query", "use")
    assert not e.can("p-new2", w.dom["E"], "biz.declare_pay", "use")


def test_R_BIND_7_refuse_application(svc, w):
    """R-BIND-7 / R-BIND-6: the finance officer refuses → history "refused" on both sides."""
    staff.refuse_application(svc, actor(w, "finance_officer"), w.b.app_tax.id)
    assert Binding.get_by_id(w.b.app_tax.id).state == "refused"
    assert w.b.app_tax.id in {i["id"] for i in staff.list_history(svc, actor(w, "legal_rep"))["items"]}


def test_R_BIND_18_enterprise_cannot_confirm_its_own_add(svc, w):
    """R-BIND-18: "confirm application" does not apply to an enterprise-initiated binding — only the
    person confirms that."""
    with pytest.raises(AuthzError) as e:
        staff.confirm_application(svc, actor(w, "legal_rep"), w.b.pending_tax.id)
    assert codes(e) == "binding_state"
    assert Binding.get_by_id(w.b.pending_tax.id).state == "pending"


# ---- R-BIND-9 manage, R-BIND-13 status
def test_R_BIND_9_manage_function_set_and_validity_next_check_follows(svc, w):
    """R-BIND-9 / R-AUTHZ-5: the enterprise narrows the function set and sets a validity end; the next
    check follows at once. The identity type is not a parameter at all."""
    e, dom = svc.enforcer, w.dom["E"]
    assert e.can("p-tax", dom, "biz.declare_pay", "use")
    v = staff.manage_staff(svc, actor(w, "legal_rep"), w.b.tax.id, functions=["biz.query"],
                           valid_until=dt.date(2026, 3, 31))
    assert [f["function"] for f in v["functions"]] == ["biz.query"] and v["valid_until"] == "2026-03-31"
    assert v["identity_type"] == "tax_officer"
    assert not e.can("p-tax", dom, "biz.declare_pay", "use") and e.can("p-tax", dom, "biz.query", "use")
    assert "identity_type" not in inspect.signature(staff.manage_staff).parameters
    v = staff.manage_staff(svc, actor(w, "legal_rep"), w.b.tax.id, valid_until=None)
    assert v["long_term"] and [f["function"] for f in v["functions"]] == ["biz.query"]


def test_R_BIND_9_manage_refuses_bad_sets_and_stale_versions(svc, w):
    """R-BIND-9: the same function-set rules as adding; a stale version is a conflict."""
    legal = actor(w, "legal_rep")
    with pytest.raises(AuthzError) as e:
        staff.manage_staff(svc, legal, w.b.inv.id, functions=["biz.refund"])
    assert codes(e) == "function_set_exceeds"
    with pytest.raises(AuthzError) as e:
        staff.manage_staff(svc, legal, w.b.inv.id, functions=[])
    assert codes(e) == "function_set_empty"
    with pytest.raises(AuthzError) as e:
        staff.manage_staff(svc, legal, w.b.inv.id, version=w.b.inv.version + 5, functions=["biz.query"])
    assert codes(e) == "conflict"
    with pytest.raises(AuthzError) as e:
        staff.manage_staff(svc, legal, w.b.pending_tax.id, functions=["biz.query"])
    assert codes(e) == "binding_state", "only active staff are managed"


def test_R_BIND_9_nobody_manages_legal_rep_or_finance_officer(svc, w):
    """R-BIND-1 / R-BIND-9: rules.csv has no manage rule for legal rep or finance officer."""
    for target in (w.b.legal, w.b.fin):
        for who in ("legal_rep", "finance_officer", "admin"):
            with pytest.raises(AuthzError) as e:
                staff.manage_staff(svc, actor(w, who), target.id, functions=["biz.query"])
            assert codes(e) == "forbidden"


def test_R_BIND_13_staff_list_every_identity_with_status(svc, w, clock):
    """R-BIND-13 / R-BIND-9: the existing staff list shows every identity of every person with status
    enabled/disabled, validity end and function set; a binding past its end shows disabled."""
    staff.manage_staff(svc, actor(w, "legal_rep"), w.b.inv.id, valid_until=clock.today())
    out = staff.list_staff(svc, actor(w, "legal_rep"))
    by_id = {i["id"]: i for i in out["items"]}
    assert set(by_id) == {w.b.legal.id, w.b.fin.id, w.b.admin.id, w.b.tax.id, w.b.inv.id}
    assert all(i["status"] == "enabled" for i in by_id.values())
    assert by_id[w.b.legal.id]["actions"] == ["assist_code", "sync"]
    assert by_id[w.b.tax.id]["actions"] == ["manage", "delete", "assist_code", "sync"]
    clock.advance(days=1)
    by_id = {i["id"]: i for i in staff.list_staff(svc, actor(w, "legal_rep"))["items"]}
    assert by_id[w.b.inv.id]["status"] == "disabled"
    assert [i["id"] for i in staff.list_staff(svc, actor(w, "legal_rep"), status="disabled")["items"]] == [w.b.inv.id]
    assert_no_leak(w, out)


def test_list_sort_and_filter_fields_are_allow_listed(svc, w):
    """Security baseline: list endpoints accept only allow-listed sort and filter fields."""
    legal = actor(w, "legal_rep")
    names = [i["identity_type"] for i in staff.list_staff(svc, legal, sort="identity_type")["items"]]
    assert names == sorted(names)
    for bad in ("password_hash", "person.name; drop", "-uid", ""):
        with pytest.raises(AuthzError) as e:
            staff.list_staff(svc, legal, sort=bad)
        assert codes(e) == "bad_sort"
    with pytest.raises(AuthzError) as e:
        staff.list_staff(svc, legal, identity_type="root")
    assert codes(e) == "bad_filter"
    with pytest.raises(AuthzError) as e:
        staff.list_history(svc, legal, state="active")
    assert codes(e) == "bad_filter"
    with pytest.raises(AuthzError) as e:
        staff.list_staff(svc, legal, limit=10_000)
    assert codes(e) == "bad_page"
    # LIKE wildcards in a fuzzy filter are literal
    assert staff.list_staff(svc, legal, name="%")["total"] == 0


# ---- R-BIND-10 delete
def test_R_BIND_10_delete_ends_binding_at_once(svc, w):
    """R-BIND-10: deleting staff ends the binding at once (checks deny) → history "deleted"."""
    e, dom = svc.enforcer, w.dom["E"]
    assert e.can("p-tax", dom, "biz.query", "use")
    v = staff.delete_staff(svc, actor(w, "admin"), w.b.tax.id)
    assert v["state"] == "deleted"
    assert not e.can("p-tax", dom, "biz.query", "use")
    assert not e.can("p-tax", dom, "ac.self.permissions", "view")
    hist = staff.list_history(svc, actor(w, "legal_rep"), state="deleted")
    assert w.b.tax.id in {i["id"] for i in hist["items"]}


def test_R_BIND_10_legal_rep_and_finance_officer_never_deleted_admin_by_legal_rep_only(svc, w):
    """R-BIND-10: legal rep and finance officer cannot be deleted; an admin may be deleted by the legal
    rep or finance officer, not by an admin (all from rules.csv)."""
    for target in (w.b.legal, w.b.fin):
        for who in ("legal_rep", "finance_officer", "admin"):
            with pytest.raises(AuthzError) as e:
                staff.delete_staff(svc, actor(w, who), target.id)
            assert codes(e) == "forbidden"
            assert Binding.get_by_id(target.id).state == "active"
    with pytest.raises(AuthzError) as e:
        staff.delete_staff(svc, actor(w, "admin"), w.b.admin.id)
    assert codes(e) == "forbidden"
    assert staff.delete_staff(svc, actor(w, "finance_officer"), w.b.admin.id)["state"] == "deleted"


def test_R_BIND_10_staff_of_another_enterprise_see_not_found(svc, w):
    """R-AUTHZ-1 / scoping: a binding id of another enterprise looks exactly like a missing one."""
    xlegal = Actor("p-xlegal", w.dom["X"], "legal_rep")
    for fn in (staff.delete_staff, staff.withdraw_staff, staff.get_staff, staff.assist_code):
        for bid in (w.b.tax.id, w.b.pending_tax.id, 999_999):
            with pytest.raises(AuthzError) as e:
                fn(svc, xlegal, bid)
            assert codes(e) == "not_found" and e.value.errors is None


# ---- R-BIND-12 history
def test_R_BIND_12_history_filters_and_soft_clear(svc, w):
    """R-BIND-12: history (deleted / withdrawn / refused) filters by identity type and fuzzy name;
    "clear records" hides entries from the list but keeps the rows."""
    legal = actor(w, "legal_rep")
    staff.withdraw_staff(svc, legal, w.b.pending_tax.id)
    staff.refuse_application(svc, legal, w.b.app_tax.id)
    staff.delete_staff(svc, legal, w.b.inv.id)
    hist = staff.list_history(svc, legal)
    states = {i["id"]: i["state"] for i in hist["items"]}
    assert states == {w.b.hist.id: "deleted", w.b.pending_tax.id: "withdrawn", w.b.app_tax.id: "refused",
                      w.b.inv.id: "deleted"}
    assert {i["id"] for i in staff.list_history(svc, legal, identity_type="invoice_officer")["items"]} == \
        {w.b.hist.id, w.b.inv.id}
    assert {i["id"] for i in staff.list_history(svc, legal, name="狐冲")["items"]} == {w.b.hist.id, w.b.pending_tax.id}
    assert staff.clear_history(svc, legal, [w.b.hist.id]) == 1
    assert w.b.hist.id not in {i["id"] for i in staff.list_history(svc, legal)["items"]}
    assert Binding.get_by_id(w.b.hist.id).state == "deleted", "the row stays"
    assert staff.clear_history(svc, legal, name="如意") == 1  # the refused application of 任盈如意
    assert {i["id"] for i in staff.list_history(svc, legal)["items"]} == {w.b.pending_tax.id, w.b.inv.id}
    with pytest.raises(AuthzError) as e:  # an active binding is not a history entry
        staff.clear_history(svc, legal, [w.b.tax.id])
    assert codes(e) == "not_found"
    assert not Binding.get_by_id(w.b.tax.id).hidden_for_enterprise


# ---- R-BIND-14 who sees the module
def test_R_BIND_14_officers_see_only_their_own_permission_detail(svc, w):
    """R-BIND-14: tax and invoice officers cannot open the staff module; every identity sees its own
    permission detail (the function set of its own binding or agreement)."""
    for role in ("tax_officer", "invoice_officer", "tax_agent"):
        with pytest.raises(AuthzError) as e:
            staff.list_staff(svc, actor(w, role))
        assert codes(e) == "forbidden"
    mine = staff.my_permissions(svc, actor(w, "tax_officer"))
    assert [f["function"] for f in mine["grants"][0]["functions"]] == ["biz.declare_pay", "biz.invoice_use", "biz.query"]
    agent = staff.my_permissions(svc, actor(w, "tax_agent"))
    assert agent["grants"][0]["source"] == "agreement" and agent["grants"][0]["valid_until"] == "2026-12-31"
    assert [f["function"] for f in agent["grants"][0]["functions"]] == ["biz.declare_pay", "biz.query"]


# ---- R-BIND-16 assist code
def test_R_BIND_16_assist_code_on_off_and_functions(svc, w):
    """R-BIND-16: per staff member, switch the assist code on/off and choose its functions within the
    member's function set; the legal rep, finance officer and admin have the extra "assist-code settings"
    item; narrowing the function set trims the assist functions."""
    legal = actor(w, "legal_rep")
    view = staff.assist_code(svc, legal, w.b.tax.id)
    assert view["enabled"] is False
    assert [c["function"] for c in view["choices"]] == ["biz.declare_pay", "biz.invoice_use", "biz.query"]
    assert "ac.staff.assist_code" in [c["function"] for c in staff.assist_code(svc, legal, w.b.admin.id)["choices"]]
    assert "ac.staff.assist_code" in [c["function"] for c in staff.assist_code(svc, legal, w.b.fin.id)["choices"]]
    v = staff.set_assist_code(svc, legal, w.b.tax.id, enabled=True, functions=["biz.declare_pay", "biz.query"])
    assert v["enabled"] and [f["function"] for f in v["functions"]] == ["biz.declare_pay", "biz.query"]
    with pytest.raises(AuthzError) as e:
        staff.set_assist_code(svc, legal, w.b.tax.id, enabled=True, functions=["biz.refund"])
    assert codes(e) == "assist_functions_exceed"
    with pytest.raises(AuthzError) as e:
        staff.set_assist_code(svc, legal, w.b.tax.id, enabled=True, functions=["ac.staff.assist_code"])
    assert codes(e) == "assist_functions_exceed", "a tax officer does not hold assist-code settings"
    staff.manage_staff(svc, legal, w.b.tax.id, functions=["biz.query", "biz.invoice_use"])
    assert [f["function"] for f in staff.assist_code(svc, legal, w.b.tax.id)["functions"]] == ["biz.query"]
    v = staff.set_assist_code(svc, legal, w.b.tax.id, enabled=False)
    assert v["enabled"] is False
    with pytest.raises(AuthzError) as e:
        staff.set_assist_code(svc, actor(w, "tax_officer"), w.b.tax.id, enabled=True)
    assert codes(e) == "forbidden"


# ---- R-LOG-2
def test_R_LOG_2_every_staff_change_is_audited(svc, w):
    """R-LOG-2: every change writes an audit row with actor, identity, domain, action and target; no
    document number or name in it."""
    legal = actor(w, "legal_rep")
    start = AuditLog.select().count()
    staff.add_staff(svc, legal, name="岳不群英", doc_type="resident_id", doc_number="360102198809099997",
                    identity_type="tax_officer", risk_confirmed=True)
    staff.withdraw_staff(svc, legal, w.b.pending_tax.id)
    staff.confirm_application(svc, legal, w.b.app_tax.id)
    staff.manage_staff(svc, legal, w.b.tax.id, functions=["biz.query"])
    staff.set_assist_code(svc, legal, w.b.tax.id, enabled=True)
    staff.delete_staff(svc, legal, w.b.inv.id)
    staff.clear_history(svc, legal, [w.b.hist.id])
    rows = list(AuditLog.select().where(AuditLog.id > 0).order_by(AuditLog.id))[start:]
    assert [r.action for r in rows] == ["staff.add", "staff.withdraw", "staff.application.confirm", "staff.manage",
                                        "staff.assist.set", "staff.delete", "staff.history.clear"]
    assert all((r.actor, r.identity, r.domain) == ("p-legal", "legal_rep", w.dom["E"]) for r in rows)
    assert rows[1].target == f"binding:{w.b.pending_tax.id}"
    assert_no_leak(w, [r.detail for r in rows], [r.target for r in rows])


def test_R_MASK_1_errors_never_carry_full_values(svc, w):
    """R-MASK-1: error texts and details never carry a name, document number or USCC."""
    legal = actor(w, "legal_rep")
    errs = []
    for kw in (dict(name="令狐冲霄", doc_number="360102198607077773", identity_type="tax_officer"),
               dict(name="田伯光明", doc_number="360102199201011410", identity_type="tax_officer"),
               dict(name="令狐冲霄", doc_number="360102198607077773", identity_type="invoice_officer",
                    functions=["biz.refund"])):
        with pytest.raises(AuthzError) as e:
            staff.add_staff(svc, legal, doc_type="resident_id", risk_confirmed=True, **kw)
        errs.append([str(e.value), e.value.message("zh"), e.value.message("en"), e.value.errors, e.value.params])
    assert_no_leak(w, errs)


# ---- R-AUTHZ-1 matrix: every staff / enterprise-information / agency flow × every identity type, an
# outsider, and staff of another enterprise using this enterprise's ids. The expectation is computed from
# the loaded rule file (svc.enforcer.index), never from a hand-written table: each flow names the
# (function, action) pairs it requires, and the rule file says which identity types hold them.
from authz.db import database  # noqa: E402
from authz.flows import agency_views, enterprise_info  # noqa: E402
from authz.models import (Agreement, AgreementAgent, ChangeLog, Document, Enterprise, Person,  # noqa: E402
                          Phone)
from authz.models import BindingConstraint, OutboxEvent  # noqa: E402

NEW = dict(name="岳不群英", doc_type="resident_id", doc_number="360102198809099997", risk_confirmed=True)


def _flows():
    """(name, where, requirements(w) -> [(obj, act)], call(svc, actor, w), takes an object id of E)."""
    f = []
    for t in ("tax_officer", "invoice_officer", "admin", "legal_rep", "finance_officer"):
        f.append((f"add:{t}", "E", [(f"ac.staff:{t}", "add")],
                  lambda svc, a, w, t=t: staff.add_staff(svc, a, identity_type=t, **NEW), False))
    f += [
        ("list_pending", "E", [("ac.staff.pending", "view")], lambda svc, a, w: staff.list_pending(svc, a), False),
        ("withdraw:tax_officer", "E", [("ac.staff.pending", "view"), ("ac.staff:tax_officer", "withdraw")],
         lambda svc, a, w: staff.withdraw_staff(svc, a, w.b.pending_tax.id), True),
        ("withdraw:admin", "E", [("ac.staff.pending", "view"), ("ac.staff:admin", "withdraw")],
         lambda svc, a, w: staff.withdraw_staff(svc, a, w.b.pending_admin.id), True),
        ("confirm_application", "E", [("ac.staff.applications", "confirm"), ("ac.staff:tax_officer", "add")],
         lambda svc, a, w: staff.confirm_application(svc, a, w.b.app_tax.id), True),
        ("refuse_application", "E", [("ac.staff.applications", "refuse"), ("ac.staff:tax_officer", "add")],
         lambda svc, a, w: staff.refuse_application(svc, a, w.b.app_tax.id), True),
        ("list_staff", "E", [("ac.staff", "view")], lambda svc, a, w: staff.list_staff(svc, a), False),
        ("staff_options", "E", [("ac.staff", "view")], lambda svc, a, w: staff.staff_options(svc, a), False),
        ("get_staff", "E", [("ac.staff", "view")], lambda svc, a, w: staff.get_staff(svc, a, w.b.tax.id), True),
    ]
    targets = {"tax_officer": "tax", "invoice_officer": "inv", "admin": "admin", "legal_rep": "legal",
               "finance_officer": "fin"}
    for t, attr in targets.items():
        f.append((f"manage:{t}", "E", [("ac.staff", "view"), (f"ac.staff:{t}", "manage")],
                  lambda svc, a, w, attr=attr: staff.manage_staff(svc, a, getattr(w.b, attr).id,
                                                                  functions=["biz.query"]), True))
        f.append((f"delete:{t}", "E", [("ac.staff", "view"), (f"ac.staff:{t}", "delete")],
                  lambda svc, a, w, attr=attr: staff.delete_staff(svc, a, getattr(w.b, attr).id), True))
    f += [
        ("list_history", "E", [("ac.staff.history", "view")], lambda svc, a, w: staff.list_history(svc, a), False),
        ("clear_history", "E", [("ac.staff.history", "clear")],
         lambda svc, a, w: staff.clear_history(svc, a, [w.b.hist.id]), True),
        ("assist_code", "E", [("ac.staff.assist_code", "manage")],
         lambda svc, a, w: staff.assist_code(svc, a, w.b.tax.id), True),
        ("set_assist_code", "E", [("ac.staff.assist_code", "manage")],
         lambda svc, a, w: staff.set_assist_code(svc, a, w.b.tax.id, enabled=True), True),
        ("sync_staff", "E", [("ac.staff.sync", "push")], lambda svc, a, w: staff.sync_staff(svc, a, w.b.tax.id), True),
        ("my_permissions", "E", [("ac.self.permissions", "view")], lambda svc, a, w: staff.my_permissions(svc, a), False),
        ("ent.basic_info", "E", [("ac.ent.info.basic", "view")], lambda svc, a, w: enterprise_info.basic_info(svc, a), False),
        ("ent.full_info", "E", [("ac.ent.info.full", "view")], lambda svc, a, w: enterprise_info.full_info(svc, a), False),
        ("ent.reveal_name", "E", [("ac.ent.reveal", "reveal")], lambda svc, a, w: enterprise_info.reveal_name(svc, a), False),
        ("agency.my_agency", "E", [("ac.agency.mine", "view")], lambda svc, a, w: agency_views.my_agency(svc, a), False),
        ("agency.clients@ordinary", "E", [("ac.agency.clients", "view")], lambda svc, a, w: agency_views.clients(svc, a), False),
        ("agency.clients", "G", [("ac.agency.clients", "view")], lambda svc, a, w: agency_views.clients(svc, a), False),
        ("agency.agent_staff", "G", [("ac.agency.agents", "view")], lambda svc, a, w: agency_views.agent_staff(svc, a), False),
        ("agency.my_agency@agency", "G", [("ac.agency.mine", "view")], lambda svc, a, w: agency_views.my_agency(svc, a), False),
    ]
    return f


FLOWS = _flows()
WHO = ROLES + ("outsider", "other_enterprise")


def rules_allow(svc, role: str, domain: str, reqs) -> bool:
    """What rules.csv says: every required (function, action) has a rule for this identity type in a
    domain of this kind."""
    index = svc.enforcer.index
    kinds = index.kinds_of(svc.enforcer.domains.kind(domain))
    return all(any(r.role == role and (r.dom in ("*", domain) or r.dom in kinds)
                   for r in index.by_obj_act.get((obj, act), ())) for obj, act in reqs)


SNAPSHOT_MODELS = (Person, Document, Phone, Enterprise, Binding, Agreement, AgreementAgent, AuditLog, ChangeLog,
                   BindingConstraint, OutboxEvent)


def snapshot(domain: str | None = None) -> dict:
    """Every row of the directory, audit and change tables (or only one domain's bindings and audit)."""
    if domain is not None:
        return {"binding": [tuple(r.values()) for r in Binding.select().where(Binding.domain == domain)
                            .order_by(Binding.id).dicts()],
                "audit": [tuple(r.values()) for r in AuditLog.select().where(AuditLog.domain == domain)
                          .order_by(AuditLog.id).dicts()]}
    return {m.__name__: [tuple(r.values()) for r in m.select().order_by(m.id).dicts()] for m in SNAPSHOT_MODELS}


def _matrix_actor(w, who: str, where: str) -> Actor:
    if who == "outsider":  # registered, no identity here, claiming the strongest identity type
        return Actor("p-out", w.dom[where], "legal_rep")
    if who == "other_enterprise":
        return Actor("p-xlegal", w.dom["X"], "legal_rep")
    return actor(w, who, where)


@pytest.mark.parametrize("who", WHO)
def test_R_AUTHZ_1_matrix_flows_by_identity_type(svc, directory, who):
    """R-AUTHZ-1 / R-BIND-10 / R-BIND-14 / R-ENT-2 / R-AGT-3..4: each flow is allowed exactly where
    rules.csv allows it for the identity type; a refusal is forbidden/not_found and changes nothing;
    staff of another enterprise using E's ids get not_found, and their allowed flows touch only their own
    enterprise. Each flow runs in a transaction rolled back afterwards, from the same world."""
    w = build_world(svc, directory)
    e_ids = {r.id for r in Binding.select(Binding.id).where(Binding.domain == w.dom["E"])}
    mismatches = []
    for name, where, reqs, call, takes_id in FLOWS:
        a = _matrix_actor(w, who, where)
        if who == "other_enterprise":
            expect = (not takes_id) and rules_allow(svc, a.role, a.domain, reqs)
        elif who == "outsider":
            expect = False
        else:
            expect = rules_allow(svc, a.role, a.domain, reqs)
        with database.atomic() as txn:
            before, before_e = snapshot(), snapshot(w.dom["E"])
            got, err, out = None, None, None
            try:
                out = call(svc, a, w)
                got = True
            except AuthzError as exc:
                got, err = False, exc.code
            if got != expect:
                mismatches.append((name, who, "expected", expect, "got", got, err))
            elif not got:
                if err not in ("forbidden", "not_found") or snapshot() != before:
                    mismatches.append((name, who, "refused but", err, "or database changed"))
                if takes_id and who == "other_enterprise" and err != "not_found":
                    mismatches.append((name, who, "another enterprise's id must be not_found, got", err))
            elif who == "other_enterprise":
                items = out.get("items", []) if isinstance(out, dict) else []
                if snapshot(w.dom["E"]) != before_e or any(i.get("id") in e_ids for i in items):
                    mismatches.append((name, who, "touched or showed enterprise E"))
            txn.rollback()
        svc.enforcer.grants.invalidate(None, None)
        svc.enforcer.domains.invalidate()
    assert not mismatches, "\n".join(map(str, mismatches))


def test_R_AUTHZ_1_matrix_covers_every_identity_type_and_both_outcomes(svc, directory):
    """The matrix is not vacuous: each identity type has flows both allowed and refused by rules.csv."""
    w = build_world(svc, directory)
    for role in ROLES:
        outcomes = {rules_allow(svc, role, actor(w, role, where).domain, reqs) for _, where, reqs, _, _ in FLOWS}
        assert outcomes == {True, False}, role
