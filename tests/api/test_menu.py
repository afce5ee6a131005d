"""GET /api/v1/account/menu (issue 11): the account-centre areas and functions a login session may reach,
decided by the enforcer through authz.actor.allowed (identity ceiling and function set AND the entry scope,
the rule file's p2 lines), with the catalogue's labels. The web front end draws its menus from this only."""
from __future__ import annotations

import pytest

from api import create_app
from authz import actor, clients
from tests.login_support import *  # noqa: F401,F403 (fixtures)
from tests.login_support import USCC, login_session

PROJECT = "BY360100202600011234"


@pytest.fixture
def client(svc):
    return create_app(service=svc).test_client()


@pytest.fixture
def project(svc, world, client):
    key = {"Authorization": "Bearer " + clients.create("core-tax", scopes="integration")[1]}
    body = {"uscc": USCC, "kind": "inspection", "name": "长沙办公楼项目", "region": "湖南省长沙市"}
    assert client.put(f"/api/v1/integration/projects/{PROJECT}", json=body, headers=key).status_code == 200
    return PROJECT


def menu(client, sid, lang="zh"):
    r = client.get("/api/v1/account/menu", headers={"Authorization": f"Bearer {sid}", "Accept-Language": lang})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def pairs(m) -> set[tuple[str, str]]:
    fns = [f for a in m["areas"] for f in a["functions"]] + m["business"]
    return {(f["object"], act) for f in fns for act in f["actions"]}


def test_R_LOGIN_4_R_SW_4_special_subject_gets_no_account_centre_areas(svc, world, project, client):
    """R-LOGIN-4 / R-SW-4: a special-subject session (cross-region project) is offered the switcher and the
    project functions only: no account-centre area, though the same person as legal rep has many."""
    sid = login_session(client, "special", "13800000001", "13800000001", uscc=USCC, choose=PROJECT,
                        special_type="inspection")
    m = menu(client, sid)
    assert m["entry"] == "special"
    objects = {f["object"] for a in m["areas"] for f in a["functions"]}
    assert objects and all(o == "ac.switch" or o.startswith("ac.special.") for o in objects), objects
    ent = menu(client, login_session(client, "enterprise", "13800000001", "13800000001", uscc=USCC,
                                     choose="legal_rep"))
    assert any(f["object"] == "ac.staff" for a in ent["areas"] for f in a["functions"])


def test_R_AUTHZ_1_menu_is_exactly_what_the_actor_is_allowed(svc, world, client):
    """R-AUTHZ-1: every (function, action) in the menu is allowed by authz.actor.allowed for the session's
    actor, and every allowed catalogue pair of ac.* / biz.* is in the menu (nothing decided elsewhere)."""
    for account, choose in (("13800000001", "legal_rep"), ("13800000002", "tax_officer")):
        sid = login_session(client, "enterprise", account, account, uscc=USCC, choose=choose)
        m = menu(client, sid)
        who = client.get("/api/v1/account/session", headers={"Authorization": f"Bearer {sid}"}).get_json()
        a = actor.Actor(who["person"], who["domain"], who["identity_type"], entry=who["entry"])
        expected = {(f.obj, act) for f in svc.enforcer.index.functions.values()
                    if f.obj.startswith(("ac.", "biz.")) for act in f.actions if actor.allowed(svc, a, f.obj, act)}
        assert pairs(m) == expected
    officer = pairs(menu(client, login_session(client, "enterprise", "13800000002", "13800000002", uscc=USCC)))
    assert ("ac.staff", "view") not in officer and ("ac.self.permissions", "view") in officer


def test_R_SW_3_personal_session_menu_has_the_personal_areas_with_labels(svc, world, client):
    """A personal-business session gets the personal account centre (R-INFO-1 …), labelled from the rule
    file's catalogue in the request's language; business functions are listed apart."""
    sid = login_session(client, "personal", "13800000004", "13800000004")
    zh, en = menu(client, sid), menu(client, sid, "en")
    info_zh = next(f for a in zh["areas"] for f in a["functions"] if f["object"] == "ac.person.info")
    info_en = next(f for a in en["areas"] for f in a["functions"] if f["object"] == "ac.person.info")
    assert info_zh["label"] == "个人信息" and info_en["label"] == "Personal information"
    area_en = next(a for a in en["areas"] if a["group"] == "日志查询")
    assert area_en["label"] == "Logs"  # the rule file's group line
    assert next(a for a in zh["areas"] if a["group"] == "日志查询")["label"] == "日志查询"
    assert info_zh["actions"] == ["view", "edit"]
    assert not any(f["object"].startswith("ac.staff") for a in zh["areas"] for f in a["functions"])
    assert {b["object"] for b in zh["business"]} == {"biz.person.declare", "biz.person.query"}


def test_menu_needs_a_session(client):
    r = client.get("/api/v1/account/menu")
    assert r.status_code == 401 and r.get_json()["code"] == "session_required"
