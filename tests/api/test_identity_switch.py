"""Identity switching without logging out (R-SW-1..6) through REST, with the checks that follow it."""
from __future__ import annotations

import datetime as dt

import pytest

from api import create_app
from authz import clients
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import AGENCY, CLIENT, USCC, login_session, make_person, rid

OTHER = "91360100MA35OTHER1"


@pytest.fixture
def client(svc):
    return create_app(service=svc).test_client()


@pytest.fixture
def key(svc):
    return "Bearer " + clients.create("switch-checker")[1]


def bearer(s):
    return {"Authorization": f"Bearer {s}"}


def options(client, s):
    r = client.get("/api/v1/account/switch", headers=bearer(s))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def switch(client, s, target):
    return client.post("/api/v1/account/switch", json={"target": target}, headers=bearer(s))


def session_check(client, key, s, obj, act="use", **extra):
    r = client.post("/api/v1/check/session", json={"session": s, "object": obj, "action": act, **extra},
                    headers={"Authorization": key})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_R_SW_1_switch_within_enterprise_and_R_SW_6_checks_follow(svc, world, client, key):
    """R-SW-1 / R-SW-6: the legal rep (also finance officer) switches identity in the same enterprise; the
    old session id dies, the new one answers as the new identity at once."""
    s = login_session(client, "enterprise", "13800000001", "13800000001", uscc=USCC, choose="legal_rep")
    assert session_check(client, key, s, "ac.staff:admin", "delete")["allowed"] is True
    opts = options(client, s)
    assert opts["current"]["identity_type"] == "legal_rep"
    target = next(o for o in opts["identities"] if o["identity_type"] == "finance_officer")
    r = switch(client, s, target["id"])
    assert r.status_code == 200, r.get_json()
    new = r.get_json()["session"]
    assert new != s and r.get_json()["identity"]["identity_type"] == "finance_officer"
    assert client.get("/api/v1/account/session", headers=bearer(s)).status_code == 401, "old id must die"
    assert session_check(client, key, s, "biz.query")["allowed"] is False
    assert session_check(client, key, new, "biz.query")["identity_type"] == "finance_officer"
    assert switch(client, new, target["id"]).get_json()["code"] == "switch_target_current"


def test_R_SW_2_switch_to_another_enterprise(svc, world, directory, client, key):
    """R-SW-2: to another enterprise where the person holds an identity; not to one where they do not."""
    other = directory.upsert_enterprise(OTHER, "另一家企业有限公司", "ordinary")
    directory.bind(world["officer"], other, "invoice_officer", state="active", origin="hall",
                   functions=["biz.invoice_use"])
    s = login_session(client, "enterprise", "13800000002", "13800000002", uscc=USCC)
    opts = options(client, s)
    assert [o["domain"] for o in opts["enterprises"]] == [f"ent:{OTHER}"]
    assert switch(client, s, "b999999").get_json()["code"] == "switch_target_unknown"
    r = switch(client, s, opts["enterprises"][0]["id"])
    new = r.get_json()["session"]
    check = session_check(client, key, new, "biz.invoice_use")
    assert check["allowed"] is True and check["domain"] == f"ent:{OTHER}"
    assert session_check(client, key, new, "biz.declare_pay")["allowed"] is False


def test_R_SW_3_enterprise_to_personal_but_never_back(svc, world, directory, client, key):
    """R-SW-3: enterprise -> personal is allowed; personal -> enterprise in the same session is not."""
    s = login_session(client, "enterprise", "13800000002", "13800000002", uscc=USCC)
    r = switch(client, s, "self")
    personal = r.get_json()["session"]
    assert r.get_json()["identity"]["domain"] == "person:p-officer"
    opts = options(client, personal)
    assert opts["identities"] == [] and opts["enterprises"] == [] and opts["personal"] is None
    binding_id = world["officer"].bindings.get().id
    assert switch(client, personal, f"b{binding_id}").status_code == 422
    # a personal login never reaches an enterprise either
    s2 = login_session(client, "personal", "13800000002", "13800000002")
    assert options(client, s2)["enterprises"] == []


def test_R_SW_5_agent_switches_between_clients(svc, world, directory, client, key):
    """R-SW-5: an agent switches among clients with a live agreement naming them; checks follow the
    agreement of the client switched to."""
    agency, agent = world["agency"], world["agent"]
    second = directory.upsert_enterprise(OTHER, "第二家委托企业", "ordinary")
    today = svc.clock.today()
    directory.file_agreement("AG-002", agency, second, [agent], today - dt.timedelta(days=1),
                             today + dt.timedelta(days=10), ["biz.invoice_use"])
    directory.file_agreement("AG-003", agency, second, [agent], today - dt.timedelta(days=100),
                             today - dt.timedelta(days=1), ["biz.refund"])  # expired: never listed
    s = login_session(client, "agent", "13800000005", "13800000005", uscc=AGENCY, choose="AG-001")
    assert session_check(client, key, s, "biz.declare_pay")["allowed"] is True
    opts = options(client, s)
    assert [o["id"] for o in opts["clients"]] == ["a:AG-002"]
    new = switch(client, s, "a:AG-002").get_json()["session"]
    assert session_check(client, key, new, "biz.invoice_use")["allowed"] is True
    assert session_check(client, key, new, "biz.declare_pay")["allowed"] is False


def test_R_SW_4_switch_between_cross_region_projects(svc, world, directory, client, key):
    """R-SW-4: a main identity sees every project of the enterprise and switches among them."""
    from authz.models import CrossRegionProject
    for no in ("KQ2026000001", "KQ2026000002"):
        CrossRegionProject.create(management_no=no, kind="inspection", enterprise=world["ent"], name=f"项目{no[-1]}",
                                  region="赣州", created_at=svc.clock.time())
    s = login_session(client, "enterprise", "13800000002", "13800000002", uscc=USCC)
    opts = options(client, s)
    assert sorted(o["id"] for o in opts["projects"]) == ["p:KQ2026000001", "p:KQ2026000002"]
    r = switch(client, s, "p:KQ2026000002")
    assert r.status_code == 200 and r.get_json()["identity"]["entry"] == "special"
    new = r.get_json()["session"]
    assert [o["id"] for o in options(client, new)["projects"]] == ["p:KQ2026000001"]


def test_R_SW_4_an_ended_project_leaves_the_switcher_at_once(svc, world, client, key):
    """R-SW-4: a project the core tax system files (integration flow) is a switch target; once it ends it
    is no longer offered, switching to it is refused, and a session already switched into a project
    is refused at once when that project ends."""
    from authz.flows import integration as integ
    for no in ("KQ2026000001", "KQ2026000002"):
        integ.file_project(svc, "service:core-tax", management_no=no, uscc=USCC, kind="inspection",
                           name=f"项目{no[-1]}", region="江西省赣州市")
    s = login_session(client, "enterprise", "13800000002", "13800000002", uscc=USCC)
    integ.set_project_status(svc, "service:core-tax", "KQ2026000001", "ended")
    assert [o["id"] for o in options(client, s)["projects"]] == ["p:KQ2026000002"]
    r = switch(client, s, "p:KQ2026000001")
    assert r.status_code == 422 and r.get_json()["code"] == "switch_target_unknown"
    new = switch(client, s, "p:KQ2026000002").get_json()["session"]
    assert session_check(client, key, new, "biz.query")["allowed"] is True
    integ.set_project_status(svc, "service:core-tax", "KQ2026000002", "ended")
    assert client.get("/api/v1/account/switch", headers=bearer(new)).get_json()["code"] == "identity_revoked"


def test_R_SW_6_switch_needs_the_switch_function_and_a_live_session(svc, world, client):
    """R-SW-6 / R-AUTHZ-1: opening the switcher is decided by the enforcer; without a session, 401."""
    assert client.get("/api/v1/account/switch").status_code == 401
    s = login_session(client, "enterprise", "13800000002", "13800000002", uscc=USCC)
    src = svc.enforcer.index.source.replace("p, tax_officer, *, ac.switch, use\n", "")
    from authz import policy as pol
    svc.enforcer.reload(pol.parse(src))
    r = client.get("/api/v1/account/switch", headers=bearer(s))
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
