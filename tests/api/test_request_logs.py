"""Logs for operators (issue 13): one JSON object per line, a request id accepted from `X-Request-ID` or
generated, returned in the answer and carried by every log line and audit record of that request; no
secret (password, code, session or flow id) in any line, the new fields included (R-LOG-1, R-LOG-2)."""
from __future__ import annotations

import io
import json
import logging

import pytest

from api import create_app
from authz import logs
from authz.models import AuditLog
from tests.login_support import *  # noqa: F401,F403 (fixtures)
from tests.login_support import PASSWORD, last_code, login_session


@pytest.fixture
def captured():
    out = io.StringIO()
    handler = logs.configure("json", stream=out)
    yield out
    logging.getLogger("authz").removeHandler(handler)


def _lines(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_a_given_request_id_is_returned_logged_and_stored_in_the_audit_rows(svc, world, captured):
    client = create_app(service=svc).test_client()
    client.environ_base["HTTP_X_REQUEST_ID"] = "helpdesk-ticket-4711"
    session = login_session(client, "personal", "13800000001", "13800000001")
    r = client.get("/api/v1/account/session", headers={"Authorization": f"Bearer {session}"})
    assert r.headers["X-Request-ID"] == "helpdesk-ticket-4711"
    lines = _lines(captured)
    access = [line for line in lines if line["logger"] == "authz.http"]
    assert access and all(line["request_id"] == "helpdesk-ticket-4711" for line in access)
    assert {"method", "route", "status", "duration_ms"} <= set(access[-1])
    assert AuditLog.select().where((AuditLog.action == "login")
                                   & (AuditLog.request_id == "helpdesk-ticket-4711")).count() == 1


def test_without_a_given_id_each_request_gets_its_own(svc, world, captured):
    svc.settings = svc.settings.with_(access_log="all")
    client = create_app(service=svc).test_client()
    a = client.get("/healthz").headers["X-Request-ID"]
    b = client.get("/healthz").headers["X-Request-ID"]
    assert a != b and len(a) == 32
    assert [line["request_id"] for line in _lines(captured) if line["logger"] == "authz.http"][-2:] == [a, b]


@pytest.mark.parametrize("given", ["azs_" + "A" * 43, "a b", "x" * 65, "<script>", "id;forged=line"])
def test_a_request_id_that_is_no_plain_token_or_looks_like_a_secret_is_replaced(svc, world, captured, given):
    """A caller cannot make a session id (or a forged log line) travel through the logs as a request id."""
    client = create_app(service=svc).test_client()
    r = client.get("/healthz", headers={"X-Request-ID": given})
    assert r.headers["X-Request-ID"] != given and len(r.headers["X-Request-ID"]) == 32
    assert given not in captured.getvalue()


def test_no_secret_reaches_a_log_line(svc, world, captured):
    """A whole login (password, SMS code, flow id, session id) and a wrong attempt: none of the secrets
    appears in any line, whatever field it would be in (R-LOG-1)."""
    client = create_app(service=svc).test_client()
    r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": "13800000001",
                                                 "password": PASSWORD, "client": "app"})
    flow = r.get_json()["flow"]
    client.post(f"/api/v1/auth/login/{flow}/factors/sms")
    code = last_code("13800000001")
    client.post(f"/api/v1/auth/login/{flow}/factors/sms/verify", json={"code": "000000"})
    done = client.post(f"/api/v1/auth/login/{flow}/factors/sms/verify", json={"code": code}).get_json()
    session = done.get("session")
    assert session
    logging.getLogger("authz.test").warning("a careless line naming %s and %s", session, flow)
    text = captured.getvalue()
    for secret in (PASSWORD, code, flow, session):
        assert secret not in text, secret
    assert all(isinstance(line, dict) for line in _lines(captured))  # every line one JSON object


def test_the_default_access_log_keeps_errors_and_changes_not_the_decision_stream(svc, world, captured, service_key):
    """AUTHZ_ACCESS_LOG=default: an error and a state-changing request get a line; a GET and the check
    endpoint (a read, at tens of thousands a second) do not — metrics count those (docs/PERFORMANCE.md)."""
    client = create_app(service=svc).test_client()
    auth = {"Authorization": f"Bearer {service_key}"}
    client.post("/api/v1/check", json={"subject": "p-plain", "domain": "person:p-plain", "object": "biz.query",
                                       "action": "use"}, headers=auth)
    client.get("/healthz")
    client.post("/api/v1/check", json={"subject": "x"})  # 401
    client.post("/api/v1/auth/login", json={"entry": "personal", "account": "13800000001", "password": "x" * 8})
    routes = [(line["method"], line["route"], line["status"]) for line in _lines(captured)
              if line["logger"] == "authz.http"]
    assert ("POST", "/api/v1/check", 401) in routes and ("POST", "/api/v1/check", 200) not in routes
    assert not any(r[1] == "/healthz" for r in routes)
    assert any(r[1] == "/api/v1/auth/login" for r in routes)
