"""The enforcer against the SPEC: grants, function sets, validity ends, kinds, and pycasbin equivalence."""
import datetime as dt

from authz.enforcer import reference_enforcer
from tests.binding_support import move


def _world(directory):
    ent = directory.upsert_enterprise("91360100MA35ABCD1X", "示例科技有限公司", "ordinary")
    agency = directory.upsert_enterprise("91360100MA35AGNC2Y", "示例税务师事务所", "agency")
    legal = directory.create_person("张三", "resident_id", "360102199001011234", uid="p-legal")
    officer = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-officer")
    directory.bind(legal, ent, "legal_rep", state="active", origin="registration")
    return ent, agency, legal, officer


def test_R_AUTHZ_1_binding_grants_only_in_its_enterprise(svc, directory):
    """R-AUTHZ-1: a legal rep may use account-centre and business functions in their enterprise only."""
    ent, agency, legal, _ = _world(directory)
    e = svc.enforcer
    assert e.can("p-legal", "ent:91360100MA35ABCD1X", "ac.staff:tax_officer", "add")
    assert e.can("p-legal", "ent:91360100MA35ABCD1X", "biz.invoice_use", "use")
    assert not e.can("p-legal", "ent:91360100MA35AGNC2Y", "biz.invoice_use", "use")
    assert not e.can("p-officer", "ent:91360100MA35ABCD1X", "biz.invoice_use", "use")


def test_R_BIND_10_nobody_deletes_legal_rep_or_finance_officer(svc, directory):
    """R-BIND-10: target-dependent staff rules come from rules.csv."""
    ent, _, legal, officer = _world(directory)
    admin = directory.create_person("王五", "resident_id", "360102199303031234", uid="p-admin")
    directory.bind(admin, ent, "admin", state="active", origin="enterprise")
    e, dom = svc.enforcer, "ent:91360100MA35ABCD1X"
    for who in ("p-legal", "p-admin"):
        assert not e.can(who, dom, "ac.staff:legal_rep", "delete")
        assert not e.can(who, dom, "ac.staff:finance_officer", "delete")
        assert e.can(who, dom, "ac.staff:tax_officer", "delete")
        assert e.can(who, dom, "ac.staff:invoice_officer", "delete")
    assert e.can("p-legal", dom, "ac.staff:admin", "delete")
    assert not e.can("p-admin", dom, "ac.staff:admin", "delete")


def test_R_BIND_6_pending_grants_nothing_until_confirmed(svc, directory):
    """R-BIND-6 / R-BIND-18: a pending binding grants nothing; confirming changes the next answer at once."""
    ent, _, _, officer = _world(directory)
    b = directory.bind(officer, ent, "tax_officer", state="pending", origin="enterprise",
                       functions=["biz.invoice_use", "biz.query"])
    e, dom = svc.enforcer, "ent:91360100MA35ABCD1X"
    assert not e.can("p-officer", dom, "biz.invoice_use", "use")
    move(directory.svc, b, "active")
    assert e.can("p-officer", dom, "biz.invoice_use", "use")
    assert not e.can("p-officer", dom, "biz.declare_pay", "use"), "outside the function set"


def test_R_BIND_9_function_set_change_applies_to_next_check(svc, directory):
    """R-BIND-9 / R-AUTHZ-5: narrowing a function set changes the very next answer."""
    ent, _, _, officer = _world(directory)
    b = directory.bind(officer, ent, "tax_officer", state="active", origin="hall")
    e, dom = svc.enforcer, "ent:91360100MA35ABCD1X"
    assert e.can("p-officer", dom, "biz.declare_pay", "use")
    directory.update_binding(b, functions=["biz.query"])
    assert not e.can("p-officer", dom, "biz.declare_pay", "use")
    assert e.can("p-officer", dom, "biz.query", "use")


def test_R_BIND_13_validity_end_passing_denies_without_a_write(svc, directory, clock):
    """R-BIND-13: past its validity end (inclusive, Asia/Shanghai) a binding grants nothing."""
    ent, _, _, officer = _world(directory)
    directory.bind(officer, ent, "tax_officer", state="active", origin="hall", valid_until=dt.date(2026, 3, 2))
    e, dom = svc.enforcer, "ent:91360100MA35ABCD1X"
    assert e.can("p-officer", dom, "biz.query", "use")
    clock.advance(hours=13, minutes=59)  # 23:59 on the last day
    assert e.can("p-officer", dom, "biz.query", "use")
    clock.advance(minutes=1)  # midnight
    assert not e.can("p-officer", dom, "biz.query", "use")


def test_R_BIND_13_disabled_binding_grants_nothing(svc, directory):
    """R-BIND-13: a disabled (已停用) binding grants nothing."""
    ent, _, _, officer = _world(directory)
    b = directory.bind(officer, ent, "tax_officer", state="active", origin="hall")
    directory.update_binding(b, enabled=False)
    assert not svc.enforcer.can("p-officer", "ent:91360100MA35ABCD1X", "biz.query", "use")


def test_R_BIND_4_function_set_must_be_within_ceiling(svc, directory):
    """R-BIND-4: a function set is non-empty and a subset of the identity type's ceiling."""
    import pytest
    from authz.errors import AuthzError
    ent, _, _, officer = _world(directory)
    with pytest.raises(AuthzError) as err:
        directory.bind(officer, ent, "invoice_officer", state="pending", origin="enterprise",
                       functions=["biz.declare_pay"])
    assert err.value.code == "function_set_exceeds"
    with pytest.raises(AuthzError) as err:
        directory.bind(officer, ent, "invoice_officer", state="pending", origin="enterprise", functions=[])
    assert err.value.code == "function_set_empty"


def test_R_AGT_2_agreement_grants_agent_until_it_ends(svc, directory, clock):
    """R-AGT-2 / R-LOGIN-5: an agent's permissions in a client come from the active agreement only."""
    ent, agency, _, officer = _world(directory)
    agent = directory.create_person("赵六", "resident_id", "360102199404041234", uid="p-agent")
    ag = directory.file_agreement("AG-2026-001", agency, ent, [agent], dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                                  ["biz.declare_pay", "biz.query"])
    e, dom = svc.enforcer, "ent:91360100MA35ABCD1X"
    assert e.can("p-agent", dom, "biz.declare_pay", "use", role="tax_agent")
    assert not e.can("p-agent", dom, "biz.invoice_use", "use")
    directory.file_agreement("AG-2026-001", agency, ent, [agent], dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                             ["biz.query"], status="ended")
    assert not e.can("p-agent", dom, "biz.query", "use")


def test_R_SW_6_role_filter_limits_to_current_identity(svc, directory):
    """R-SW-6: a session acting as invoice officer is decided as invoice officer, not as every identity."""
    ent, _, _, officer = _world(directory)
    directory.bind(officer, ent, "tax_officer", state="active", origin="hall")
    directory.bind(officer, ent, "invoice_officer", state="active", origin="hall")
    e, dom = svc.enforcer, "ent:91360100MA35ABCD1X"
    assert e.can("p-officer", dom, "biz.declare_pay", "use")
    assert e.can("p-officer", dom, "biz.declare_pay", "use", role="tax_officer")
    assert not e.can("p-officer", dom, "biz.declare_pay", "use", role="invoice_officer")


def test_R_AUTHZ_2_explain_names_the_rule_or_the_reason(svc, directory):
    """R-AUTHZ-2: explain gives the rule file line that allowed it (via pycasbin enforce_ex) or why not."""
    ent, _, _, officer = _world(directory)
    b = directory.bind(officer, ent, "invoice_officer", state="active", origin="hall", functions=["biz.query"])
    e, dom = svc.enforcer, "ent:91360100MA35ABCD1X"
    ok = e.explain("p-legal", dom, "ac.staff:tax_officer", "add")
    assert ok.allowed and ok.rule and ok.casbin_rule == ["legal_rep", "kind:enterprise", "ac.staff:tax_officer", "add"]
    assert e.explain("p-officer", dom, "biz.invoice_use", "use").reason == "not_in_function_set"
    assert e.explain("p-officer", dom, "biz.declare_pay", "use").reason == "no_rule"
    assert e.explain("p-nobody", dom, "biz.query", "use").reason == "no_identity"
    assert e.explain("p-legal", dom, "biz.nothing", "use").reason == "unknown_function"
    assert e.explain("p-legal", "ent:999999999999999999", "biz.query", "use").reason == "unknown_domain"


def test_R_AUTHZ_1_answers_equal_plain_pycasbin(svc, directory, clock):
    """R-AUTHZ-1: every answer of the indexed enforcer equals pycasbin's Enforcer on the same model, rule
    file and bindings (loaded through PeeweeAdapter), over every function, action, subject and domain."""
    ent, agency, legal, officer = _world(directory)
    directory.bind(officer, ent, "invoice_officer", state="active", origin="hall", functions=["biz.query"])
    directory.bind(officer, agency, "tax_agent", state="active", origin="registration")
    agent = directory.create_person("赵六", "resident_id", "360102199404041234", uid="p-agent")
    directory.file_agreement("AG-1", agency, ent, [agent], dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                             ["biz.declare_pay"])
    fin = directory.create_person("钱七", "resident_id", "360102199505051234", uid="p-fin")
    directory.bind(fin, agency, "finance_officer", state="active", origin="tax_report")
    ref = reference_enforcer(svc.settings.model_path)
    e = svc.enforcer
    subjects = ["p-legal", "p-officer", "p-agent", "p-fin", "p-ghost"]
    domains = ["ent:91360100MA35ABCD1X", "ent:91360100MA35AGNC2Y", "person:p-legal", "person:p-agent"]
    checked = 0
    for f in e.index.functions.values():
        for act in f.actions:
            for s in subjects:
                for d in domains:
                    assert e.can(s, d, f.obj, act) == ref.enforce(s, d, f.obj, act), (s, d, f.obj, act)
                    checked += 1
    assert checked > 1000


def test_R_AUTHZ_1_service_answers_equal_plain_pycasbin(svc, directory):
    """R-AUTHZ-1, R-BIND-3 (issue 10): what a calling service may do (`p, service:<scope>, ...` lines, e.g.
    which identity types' bindings the tax hall handles) is the same matcher m with the subject as its own
    role; the indexed `service_can` equals pycasbin's enforce for every scope, function, action and domain."""
    from authz.clients import SCOPES
    _world(directory)
    directory.upsert_enterprise("91360100MA35NRES3Z", "示例非居民企业", "nonresident")
    ref = reference_enforcer(svc.settings.model_path)
    e = svc.enforcer
    domains = ["ent:91360100MA35ABCD1X", "ent:91360100MA35AGNC2Y", "ent:91360100MA35NRES3Z", "person:p-legal",
               "ent:999999999999999999"]
    allowed = 0
    for scope in SCOPES:
        for f in e.index.functions.values():
            for act in f.actions:
                for d in domains:
                    got = e.service_can(scope, d, f.obj, act)
                    assert got == ref.enforce(f"service:{scope}", d, f.obj, act), (scope, d, f.obj, act)
                    allowed += got
    assert allowed == 3 * 3 * 3, "hall: 3 identity types x add/withdraw/end x 3 enterprises"


def test_R_LOGIN_4_entry_scope_equals_plain_pycasbin_m2(svc):
    """R-LOGIN-4, R-SW-4 (issue 10 finding 3): what a session of each business entry may reach is the
    model's m2 over the rule file's p2 lines; the indexed answer equals pycasbin's (EnforceContext r2/p2/e2/m2,
    loaded through PeeweeAdapter) for every entry, function and action, and a special subject reaches no
    account-centre function but switching and its project list."""
    from authz.vocab import ENTRIES
    ref = reference_enforcer(svc.settings.model_path)
    ctx = ref.new_enforce_context("2")
    e = svc.enforcer
    checked = 0
    for entry in ENTRIES:
        for f in e.index.functions.values():
            for act in f.actions:
                assert e.entry_allows(entry, f.obj, act) == ref.enforce(ctx, entry, f.obj, act), (entry, f.obj, act)
                checked += 1
    assert checked > 300
    special_ac = {f.obj for f in e.index.functions.values() if f.obj.startswith("ac.")
                  and any(e.entry_allows("special", f.obj, a) for a in f.actions)}
    assert special_ac == {"ac.switch", "ac.special.projects_all"}
