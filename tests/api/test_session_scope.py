"""Issue 10 finding 3, as an attacker tries it over REST: a special-subject (cross-region project)
session reaches no account-centre route (R-LOGIN-4, R-SW-4: special subjects have no account centre,
only identity switching), whether it came from the special-subject login or from switching into a
project. The entry scope is the rule file's p2 lines asked through the enforcer (authz.actor)."""
from __future__ import annotations

import pytest

from api import create_app
from authz import clients
from authz.models import Binding
from tests.login_support import *  # noqa: F401,F403 (fixtures)
from tests.login_support import PASSWORD, USCC, last_code, login_session, make_person, rid

PROJECT = "BY360100202600011234"
# Account-centre routes a special session must not reach (every GET without a path parameter, and the
# writes the finding names). /account/session (who am I), /account/switch and /account/menu (which answers
# the switcher only, tests/api/test_menu.py) stay open.
ALLOWED = {"/api/v1/account/session", "/api/v1/account/switch", "/api/v1/account/menu"}


@pytest.fixture
def project(svc, world, directory, client):
    key = {"Authorization": "Bearer " + clients.create("core-tax", scopes="integration")[1]}
    body = {"uscc": USCC, "kind": "inspection", "name": "长沙办公楼项目", "region": "湖南省长沙市"}
    assert client.put(f"/api/v1/integration/projects/{PROJECT}", json=body, headers=key).status_code == 200
    return PROJECT


def _account_gets(client) -> list[str]:
    paths = client.get("/openapi.json").get_json()["paths"]
    return sorted(p for p, ops in paths.items()
                  if p.startswith("/api/v1/account/") and "get" in ops and "{" not in p and p not in ALLOWED)


def _assert_no_account_centre(client, bearer: dict, world) -> None:
    gets = _account_gets(client)
    assert len(gets) >= 14
    reached = {p: client.get(p, headers=bearer).status_code for p in gets}
    assert {p: s for p, s in reached.items() if s != 403} == {}, "special session reached the account centre"
    officer = Binding.get((Binding.person == world["officer"]) & (Binding.role == "tax_officer"))
    r = client.delete(f"/api/v1/account/enterprise/staff/{officer.id}", headers=bearer)
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    assert Binding.get_by_id(officer.id).state == "active"
    for path, body in (("/api/v1/account/enterprise/info/reveal", {}),
                       ("/api/v1/account/person/password/flows", {}),
                       ("/api/v1/account/person/authorisations/applications",
                        {"uscc": USCC, "identity_type": "tax_officer"})):
        r = client.post(path, json=body, headers=bearer)
        assert r.status_code == 403 and r.get_json()["code"] == "forbidden", (path, r.get_json())
    # what a special subject does have: the switcher
    assert client.get("/api/v1/account/switch", headers=bearer).status_code == 200
    assert client.get("/api/v1/account/session", headers=bearer).status_code == 200


def test_R_LOGIN_4_special_subject_login_reaches_no_account_centre_route(svc, world, project, client):
    """R-LOGIN-4, issue 10 finding 3: the legal rep logs in on the special-subject entry and enters the
    project; every account-centre route answers 403 and a tax officer cannot be deleted."""
    sid = login_session(client, "special", "13800000001", "13800000001", uscc=USCC, choose=PROJECT,
                        special_type="inspection")
    _assert_no_account_centre(client, {"Authorization": f"Bearer {sid}"}, world)


def test_R_SW_4_project_session_reached_by_switching_reaches_no_account_centre(svc, world, project, client):
    """R-SW-4, issue 10 finding 3: an enterprise session of the legal rep switches into the project; the
    new session is scoped like a special-subject login (403 everywhere but the switcher)."""
    sid = login_session(client, "enterprise", "13800000001", "13800000001", uscc=USCC, choose="legal_rep")
    bearer = {"Authorization": f"Bearer {sid}"}
    assert client.get("/api/v1/account/enterprise/staff", headers=bearer).status_code == 200
    opts = client.get("/api/v1/account/switch", headers=bearer).get_json()
    target = next(p["id"] for p in opts["projects"] if PROJECT in p["id"])
    r = client.post("/api/v1/account/switch", json={"target": target}, headers=bearer)
    assert r.status_code == 200, r.get_json()
    new = {"Authorization": f"Bearer {r.get_json()['session']}"}
    assert client.get("/api/v1/account/session", headers=new).get_json()["entry"] == "special"
    _assert_no_account_centre(client, new, world)


def test_R_AUTHZ_2_session_check_applies_the_entry_scope(svc, world, project, client):
    """R-AUTHZ-2 with R-LOGIN-4: a service asking about a special session gets the same answer the
    account centre gives (staff view denied, business function allowed)."""
    sid = login_session(client, "special", "13800000001", "13800000001", uscc=USCC, choose=PROJECT,
                        special_type="inspection")
    key = {"Authorization": "Bearer " + clients.create("biz", scopes="check")[1]}
    ask = lambda obj, act: client.post("/api/v1/check/session", json={"session": sid, "object": obj, "action": act},  # noqa: E731
                                       headers=key).get_json()["allowed"]
    assert ask("ac.staff", "view") is False
    assert ask("biz.cross_region", "use") is True
