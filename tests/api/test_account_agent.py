"""The agent's account centre (R-AGT-5): client basic information and the agent's own permissions in the
current client, following the agreement; decided by the enforcer for the session's identity."""
from __future__ import annotations

import datetime as dt

import pytest

from api import create_app
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import AGENCY, USCC, login_session


@pytest.fixture
def client(svc):
    return create_app(service=svc).test_client()


def bearer(s):
    return {"Authorization": f"Bearer {s}"}


def test_R_AGT_5_agent_sees_client_info_and_exactly_the_agreement_permissions(svc, world, directory, client):
    """R-AGT-5 / R-AGT-2: the agent sees the client's masked basic information and the functions the live
    agreement grants; narrowing the agreement changes the view at once."""
    s = login_session(client, "agent", "13800000005", "13800000005", uscc=AGENCY, choose="AG-001")
    info = client.get("/api/v1/account/agent/client", headers=bearer(s))
    assert info.status_code == 200, info.get_json()
    body = info.get_json()
    assert body["current_identity"]["identity_type"] == "tax_agent"
    assert world["client"].name not in info.get_data(as_text=True), "the client's name is masked"
    perms = client.get("/api/v1/account/agent/permissions", headers=bearer(s)).get_json()
    assert [a["agreement"] for a in perms["agreements"]] == ["AG-001"]
    assert [f["object"] for f in perms["agreements"][0]["functions"]] == ["biz.declare_pay", "biz.query"]
    today = svc.clock.today()
    directory.file_agreement("AG-001", world["agency"], world["client"], [world["agent"]],
                             today - dt.timedelta(days=30), today + dt.timedelta(days=30), ["biz.query"])
    perms = client.get("/api/v1/account/agent/permissions", headers=bearer(s)).get_json()
    assert [f["object"] for f in perms["agreements"][0]["functions"]] == ["biz.query"]


def test_R_AGT_5_agent_views_are_for_agent_identities_only(svc, world, client):
    """R-AGT-5 / R-AUTHZ-1: an enterprise tax officer's session gets 403 on the agent views (the rule file
    grants them to tax_agent); after switching to personal business the agent gets 403 too."""
    officer = login_session(client, "enterprise", "13800000002", "13800000002", uscc=USCC)
    for path in ("/api/v1/account/agent/client", "/api/v1/account/agent/permissions"):
        assert client.get(path, headers=bearer(officer)).status_code == 403
        assert client.get(path).status_code == 401
    s = login_session(client, "agent", "13800000005", "13800000005", uscc=AGENCY, choose="AG-001")
    personal = client.post("/api/v1/account/switch", json={"target": "self"}, headers=bearer(s)).get_json()["session"]
    assert client.get("/api/v1/account/agent/permissions", headers=bearer(personal)).status_code == 403


def test_R_AGT_5_ended_agreement_ends_the_agent_session(svc, world, directory, client):
    """R-AGT-5 / R-AGT-2: ending the agreement ends the agent's access to that client at once."""
    s = login_session(client, "agent", "13800000005", "13800000005", uscc=AGENCY, choose="AG-001")
    today = svc.clock.today()
    directory.file_agreement("AG-001", world["agency"], world["client"], [world["agent"]],
                             today - dt.timedelta(days=30), today + dt.timedelta(days=30), ["biz.query"],
                             status="ended")
    r = client.get("/api/v1/account/agent/permissions", headers=bearer(s))
    assert r.status_code == 401 and r.get_json()["code"] == "identity_revoked"
