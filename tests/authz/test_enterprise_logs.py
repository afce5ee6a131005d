"""Enterprise login logs (R-LOG-1) and audit log (R-LOG-2) in the account centre."""
import pytest

from authz import audit, loginlog
from authz.actor import Actor
from authz.errors import AuthzError
from authz.flows import enterprise_logs

DOM = "ent:91360100MA35ABCD1X"
OTHER = "ent:91360100MA35OTHR2Y"


@pytest.fixture
def world(svc, directory):
    ent = directory.upsert_enterprise("91360100MA35ABCD1X", "示例科技有限公司", "ordinary")
    other = directory.upsert_enterprise("91360100MA35OTHR2Y", "另一家有限公司", "ordinary")
    people = {}
    for uid, name, role, e in [("p-legal", "张三丰", "legal_rep", ent), ("p-fin", "李四海", "finance_officer", ent),
                               ("p-off", "王五岳", "tax_officer", ent), ("p-x", "赵六合", "legal_rep", other)]:
        p = directory.create_person(name, "resident_id", f"3601021990010{len(people)}1234", uid=uid)
        directory.bind(p, e, role, state="active", origin="registration")
        people[uid] = p
    for uid, e in [("p-off", ent), ("p-fin", ent), ("p-x", other)]:
        loginlog.record(svc, entry="enterprise", step="identity", outcome="ok", person=people[uid],
                        identity="tax_officer", enterprise=e)
    audit.record(svc, actor="p-legal", identity="legal_rep", domain=DOM, action="staff.add", target="binding:1")
    audit.record(svc, actor="p-x", identity="legal_rep", domain=OTHER, action="staff.add", target="binding:2")
    return people


def test_R_LOG_1_enterprise_sees_logins_into_its_account_only(svc, world):
    """R-LOG-1: the legal rep sees logins into this enterprise, names masked, nothing from another."""
    out = enterprise_logs.login_logs(svc, Actor("p-legal", DOM, "legal_rep"))
    assert out["total"] == 2
    assert {i["name"] for i in out["items"]} == {"**岳", "**海"}
    assert "王五岳" not in repr(out) and "赵六合" not in repr(out)
    assert enterprise_logs.login_logs(svc, Actor("p-legal", DOM, "legal_rep"), name="五")["total"] == 1


def test_R_LOG_1_default_range_is_the_last_month(svc, world, clock):
    """R-LOG-1: by default only the last calendar month is listed (Asia/Shanghai)."""
    clock.advance(days=32)
    assert enterprise_logs.login_logs(svc, Actor("p-legal", DOM, "legal_rep"))["total"] == 0
    assert enterprise_logs.login_logs(svc, Actor("p-legal", DOM, "legal_rep"), since=0)["total"] == 2


def test_R_LOG_1_R_AUTHZ_1_only_identities_the_rule_file_allows(svc, world):
    """R-LOG-1 / R-AUTHZ-1: legal rep and finance officer may read the logs; a tax officer may not."""
    assert enterprise_logs.login_logs(svc, Actor("p-fin", DOM, "finance_officer"))["total"] == 2
    with pytest.raises(AuthzError) as e:
        enterprise_logs.login_logs(svc, Actor("p-off", DOM, "tax_officer"))
    assert e.value.code == "forbidden"
    with pytest.raises(AuthzError):  # another enterprise's legal rep acting here holds nothing here
        enterprise_logs.login_logs(svc, Actor("p-x", DOM, "legal_rep"))


def test_R_LOG_2_enterprise_audit_log_is_scoped_to_the_session_domain(svc, world):
    """R-LOG-2: the audit log lists this enterprise's changes with the actor masked; never another's."""
    out = enterprise_logs.audit_log(svc, Actor("p-legal", DOM, "legal_rep"))
    # the seeded bindings' own rows (binding.create, as a source files them) are this enterprise's too
    assert [(i["action"], i["actor"]) for i in out["items"] if i["action"] != "binding.create"] == \
        [("staff.add", "**丰")]
    assert len([i for i in out["items"] if i["action"] == "binding.create"]) == 3
    with pytest.raises(AuthzError):
        enterprise_logs.audit_log(svc, Actor("p-off", DOM, "tax_officer"))


def test_R_LOG_1_identity_types_named_by_the_catalogue(svc, world):
    """R-LOG-1 (filter by identity type, issue 11): each entry carries its identity type's catalogue names,
    and the answer lists every identity type of the catalogue as the filter's choices, so a log view holds
    no table of identity types of its own."""
    a = Actor("p-legal", DOM, "legal_rep")
    roles = svc.enforcer.index.roles
    for out in (enterprise_logs.login_logs(svc, a), enterprise_logs.audit_log(svc, a)):
        assert any(i["identity_type"] for i in out["items"])
        for i in out["items"]:
            if not i["identity_type"]:  # a step before an identity was chosen
                assert i["identity_type_name"] is None
                continue
            assert i["identity_type_name"] == roles[i["identity_type"]].zh
            assert i["identity_type_name_en"] == roles[i["identity_type"]].en
        assert [t["identity_type"] for t in out["identity_types"]] == list(roles)
    assert enterprise_logs.login_logs(svc, a, identity_type="tax_officer")["items"][0]["identity_type_name"] == "办税员"
