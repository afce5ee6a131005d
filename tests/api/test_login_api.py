"""Login over REST (issue 3): cookies and bearer sessions, fixation, logout replay, generic errors."""
from __future__ import annotations

import pytest

from api import create_app
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, USCC, last_code, make_person, rid
from tests.binding_support import move


@pytest.fixture
def client(svc):
    return create_app(service=svc).test_client()


def enterprise_login(c, account="13800000002", phone="13800000002", uscc=USCC, **extra):
    client = c
    r = client.post("/api/v1/auth/login", json={"entry": "enterprise", "account": account, "password": PASSWORD,
                                                "uscc": uscc, **extra})
    assert r.status_code == 200, r.get_json()
    fid = r.get_json()["flow"]
    assert client.post(f"/api/v1/auth/login/{fid}/factors/sms").status_code == 200
    r = client.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": last_code(phone)})
    return fid, r


def session_cookie(client):
    c = client.get_cookie("authz_session")
    return c.value if c else None


def test_R_LOGIN_13_browser_session_cookie_flags_and_no_store(svc, world, client):
    """R-LOGIN-13: the session is an HttpOnly, SameSite=Lax cookie (Secure per settings); login and
    account answers carry Cache-Control: no-store; the session id is never in the body for browsers."""
    fid, r = enterprise_login(client)
    assert r.status_code == 200 and r.get_json()["state"] == "done"
    assert "session" not in r.get_json()
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # cookie_secure=False here
    assert r.headers["Cache-Control"] == "no-store"
    me = client.get("/api/v1/account/session")
    assert me.status_code == 200 and me.get_json()["identity_type"] == "tax_officer"
    assert me.headers["Cache-Control"] == "no-store"


def test_R_LOGIN_13_secure_cookie_when_configured(svc, world):
    """R-LOGIN-13, issue 10 finding 5: with cookie_secure the cookie is Secure and `__Host-` prefixed, so no
    sibling host can plant or overwrite it; an unprefixed cookie of the same name is not honoured."""
    svc.settings = svc.settings.with_(cookie_secure=True)
    client = create_app(service=svc).test_client()
    fid, r = enterprise_login(client)
    assert "Secure" in r.headers["Set-Cookie"] and r.headers["Set-Cookie"].startswith("__Host-authz_session=")
    assert client.get("/api/v1/account/session").status_code == 200
    raw = client.get_cookie("__Host-authz_session").value
    other = create_app(service=svc).test_client()
    other.set_cookie("authz_session", raw)  # what a sibling host could set: ignored
    assert other.get("/api/v1/account/session").status_code == 401


def test_session_fixation_a_pre_login_cookie_is_not_honoured(svc, world, client):
    """Session fixation: a cookie planted before login is refused and replaced by a fresh id at login."""
    planted = "azs_" + "x" * 43
    client.set_cookie("authz_session", planted)
    assert client.get("/api/v1/account/session").status_code == 401
    enterprise_login(client)
    assert session_cookie(client) not in (None, planted)
    assert client.get("/api/v1/account/session").status_code == 200


def test_R_LOGIN_13_logout_ends_the_session_and_replay_is_refused(svc, world, client):
    """R-LOGIN-13: logout ends the session on the server: replaying the old cookie gets 401."""
    enterprise_login(client)
    old = session_cookie(client)
    r = client.post("/api/v1/auth/logout")
    assert r.status_code == 200 and session_cookie(client) is None
    client.set_cookie("authz_session", old)
    r = client.get("/api/v1/account/session")
    assert r.status_code == 401 and r.get_json()["code"] == "session_expired"
    assert client.post("/api/v1/auth/logout").status_code == 401


def test_R_LOGIN_13_app_gets_a_bearer_session(svc, world, client):
    """R-LOGIN-13: client=app returns the session id for Authorization: Bearer; no cookie is set."""
    fid, r = enterprise_login(client, client="app")
    body = r.get_json()
    assert body["session"].startswith("azs_") and "Set-Cookie" not in r.headers
    me = client.get("/api/v1/account/session", headers={"Authorization": f"Bearer {body['session']}"})
    assert me.status_code == 200 and me.get_json()["client"] == "app"


def test_R_LOGIN_12_generic_errors_are_byte_identical(svc, world, client):
    """R-LOGIN-12 decision: with generic_login_errors, unknown phone, unknown ID number and wrong password
    give byte-identical answers (status, headers that matter, body)."""
    svc.settings = svc.settings.with_(generic_login_errors=True)
    answers = []
    for account in ("13711112222", "110101199901010011", "13800000002"):
        r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": account, "password": "Wrong@2026x"})
        answers.append((r.status_code, r.data))
    assert len(set(answers)) == 1 and answers[0][0] == 401
    svc.settings = svc.settings.with_(generic_login_errors=False)
    r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": "13711112222", "password": "x"},
                    headers={"Accept-Language": "en"})
    assert r.get_json()["code"] == "phone_not_found" and "try logging in" in r.get_json()["message"]


def test_R_LOGIN_11_lockout_over_rest(svc, world, client):
    """R-LOGIN-11 over REST: the fifth wrong password answers 423 account_locked."""
    codes = []
    for _ in range(5):
        r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": "13800000004",
                                                    "password": "Wrong@2026x"})
        codes.append((r.status_code, r.get_json()["code"]))
    assert codes[-1] == (423, "account_locked") and codes[0] == (401, "password_wrong")


def test_R_LOGIN_13_list_and_end_own_sessions(svc, world):
    """R-LOGIN-13: a person lists their sessions and ends another of their own (the enforcer decides)."""
    a, b = create_app(service=svc).test_client(), create_app(service=svc).test_client()
    enterprise_login(a)
    enterprise_login(b)
    listed = a.get("/api/v1/account/sessions").get_json()["sessions"]
    assert len(listed) == 2 and sum(s["current"] for s in listed) == 1
    other = next(s for s in listed if not s["current"])
    assert a.delete(f"/api/v1/account/sessions/{other['handle']}").status_code == 200
    assert b.get("/api/v1/account/session").status_code == 401
    assert a.delete("/api/v1/account/sessions/nope").status_code == 404


def special_login(client, account, *, special_type="inspection", q=None):
    """Special-subject login over REST up to the project list: (flow id, the listed project ids)."""
    r = client.post("/api/v1/auth/login", json={"entry": "special", "special_type": special_type, "uscc": USCC,
                                                "account": account, "password": PASSWORD, "client": "app"})
    assert r.status_code == 200, r.get_json()
    fid = r.get_json()["flow"]
    assert client.post(f"/api/v1/auth/login/{fid}/factors/sms").status_code == 200
    r = client.post(f"/api/v1/auth/login/{fid}/factors/sms/verify", json={"code": last_code(account)})
    assert r.status_code == 200 and r.get_json()["state"] == "choose", r.get_json()
    if q is not None:
        r = client.get(f"/api/v1/auth/login/{fid}", query_string={"q": q})
    return fid, [c["id"] for c in r.get_json()["choices"]]


def test_R_LOGIN_4_projects_filed_through_the_integration_api_appear_in_special_login(svc, world, directory, client):
    """R-LOGIN-4 / R-SW-4 end to end: the core tax system files a sub-identity tax officer and two
    inspection projects (one naming that officer as handler) through the integration API; the legal rep
    sees both at special-subject login, the sub-identity officer only the one naming them (also by the
    last 4 digits), and enters it; PATCH status ended refuses that session at once and a new login lists
    nothing."""
    from authz import clients
    key = {"Authorization": "Bearer " + clients.create("core-tax", scopes="integration")[1]}
    doc = rid("36010219880808008")
    make_person(svc, directory, "孙八", doc, uid="p-sub", phones=["13800000008"])
    sub = {"doc_type": "resident_id", "doc_number": doc, "name": "孙八"}
    base = "/api/v1/integration"
    r = client.post(f"{base}/enterprises/{USCC}/tax-officers",
                    json={"officers": [{"person": sub, "sub_identity": True}]}, headers=key)
    assert r.status_code == 200, r.get_json()
    from authz.models import Binding
    move(directory.svc, Binding.get_by_id(r.get_json()["results"][0]["binding_id"]), "active")
    project = {"uscc": USCC, "kind": "inspection", "name": "长沙办公楼项目", "region": "湖南省长沙市"}
    mine, other = "BY360100202600011234", "BY360100202600025678"
    assert client.put(f"{base}/projects/{mine}", json={**project, "handler": sub}, headers=key).status_code == 200
    assert client.put(f"{base}/projects/{other}", json=project, headers=key).status_code == 200

    assert special_login(client, "13800000001")[1] == [mine, other], "legal rep: every project"
    assert special_login(client, "13800000001", special_type="tax_source")[1] == []
    fid, listed = special_login(client, "13800000008", q="1234")
    assert listed == [mine], "sub-identity officer: only the project naming them"
    refused = client.post(f"/api/v1/auth/login/{fid}/choose", json={"choice": other})
    assert refused.get_json()["code"] == "choice_invalid"
    done = client.post(f"/api/v1/auth/login/{fid}/choose", json={"choice": mine}).get_json()
    assert done["state"] == "done", done
    bearer = {"Authorization": f"Bearer {done['session']}"}
    me = client.get("/api/v1/account/session", headers=bearer)
    assert me.status_code == 200, me.get_json()

    r = client.patch(f"{base}/projects/{mine}", json={"status": "ended"}, headers=key)
    assert r.status_code == 200 and r.get_json()["status"] == "ended"
    me = client.get("/api/v1/account/session", headers=bearer)
    assert me.status_code == 401 and me.get_json()["code"] == "identity_revoked"
    assert special_login(client, "13800000008")[1] == []
    assert special_login(client, "13800000001")[1] == [other]


def test_openapi_documents_the_login_endpoints(svc, client):
    """Issue 3 'done when': the OpenAPI document describes every login endpoint used."""
    paths = client.get("/openapi.json").get_json()["paths"]
    for p in ("/api/v1/auth/login", "/api/v1/auth/login/{flow}/factors/{factor}",
              "/api/v1/auth/login/{flow}/factors/{factor}/verify", "/api/v1/auth/login/{flow}/choose",
              "/api/v1/auth/login/{flow}/confirm", "/api/v1/auth/logout", "/api/v1/auth/qr",
              "/api/v1/auth/qr/{flow}", "/api/v1/account/sessions", "/api/v1/check/session"):
        assert p in paths, p
