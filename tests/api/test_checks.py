"""Check API (R-AUTHZ-2, R-AUTHZ-3): single, batch, menus, explain; anonymous callers refused."""
import datetime as dt

import pytest

DOM = "ent:91360100MA35ABCD1X"


@pytest.fixture
def world(directory):
    ent = directory.upsert_enterprise("91360100MA35ABCD1X", "示例科技有限公司", "ordinary")
    legal = directory.create_person("张三", "resident_id", "360102199001011234", uid="p-legal")
    officer = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-officer")
    directory.bind(legal, ent, "legal_rep", state="active", origin="registration")
    b = directory.bind(officer, ent, "invoice_officer", state="active", origin="hall",
                       functions=["biz.invoice_use", "biz.query"])
    return {"ent": ent, "officer_binding": b}


def body(subject, obj, act, dom=DOM, **kw):
    return {"subject": subject, "domain": dom, "object": obj, "action": act, **kw}


def test_R_AUTHZ_3_anonymous_and_bad_keys_are_refused(client, world, service_key):
    """R-AUTHZ-3: no key, a malformed key, a wrong secret and a revoked key all get 401 before validation."""
    from authz import clients
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer " + service_key[:-4] + "AAAA"}):
        r = client.post("/api/v1/check", json={"garbage": True}, headers=headers)
        assert r.status_code == 401, headers
        assert r.get_json()["code"] == "unauthenticated"
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    clients.revoke("billing-system")
    r = client.post("/api/v1/check", json=body("p-legal", "biz.query", "use"),
                    headers={"Authorization": f"Bearer {service_key}"})
    assert r.status_code == 401


def test_R_AUTHZ_3_keys_are_stored_hashed(svc, service_key):
    """R-AUTHZ-3: the database holds a digest, never the key or its secret."""
    from authz.models import ServiceClient
    row = ServiceClient.get(ServiceClient.name == "billing-system")
    secret = service_key.rsplit("_", 1)[1]
    assert secret not in row.key_hash and service_key not in row.key_hash
    assert len(row.key_hash) == 64


def test_R_AUTHZ_2_single_check_allowed_and_denied(client, world, auth):
    """R-AUTHZ-2: one decision, allowed and denied."""
    r = client.post("/api/v1/check", json=body("p-legal", "ac.staff:tax_officer", "add"), headers=auth)
    assert r.status_code == 200 and r.get_json()["allowed"] is True
    r = client.post("/api/v1/check", json=body("p-officer", "ac.staff:tax_officer", "add"), headers=auth)
    assert r.status_code == 200 and r.get_json()["allowed"] is False


def test_R_AUTHZ_2_batch_answers_in_order(client, world, auth):
    """R-AUTHZ-2: batch answers keep request order and match single checks."""
    reqs = [body("p-legal", "biz.declare_pay", "use"), body("p-officer", "biz.declare_pay", "use"),
            body("p-officer", "biz.invoice_use", "use"), body("p-nobody", "biz.query", "use")]
    r = client.post("/api/v1/check/batch", json={"requests": reqs}, headers=auth)
    assert [x["allowed"] for x in r.get_json()["results"]] == [True, False, True, False]
    r = client.post("/api/v1/check/batch", json={"requests": reqs * 60}, headers=auth)
    assert r.status_code == 422 and r.get_json()["code"] == "validation_failed"


def test_R_AUTHZ_2_functions_are_the_menu(client, world, auth):
    """R-AUTHZ-2 / R-BIND-14: users with different permissions see different menus."""
    r = client.get(f"/api/v1/functions?subject=p-officer&domain={DOM}", headers=auth)
    data = r.get_json()
    objs = {f["object"] for f in data["functions"]}
    assert data["identity_types"] == ["invoice_officer"]
    assert {"biz.invoice_use", "biz.query", "ac.self.permissions"} <= objs
    assert "biz.declare_pay" not in objs and "ac.staff" not in objs
    labels = {f["object"]: f["label"] for f in data["functions"]}
    assert labels["biz.invoice_use"] == "发票使用"
    r = client.get(f"/api/v1/functions?subject=p-officer&domain={DOM}", headers={**auth, "Accept-Language": "en"})
    assert {f["object"]: f["label"] for f in r.get_json()["functions"]}["biz.invoice_use"] == "Invoice use"
    r = client.get(f"/api/v1/functions?subject=p-legal&domain={DOM}", headers=auth)
    assert "ac.staff" in {f["object"] for f in r.get_json()["functions"]}


def test_R_AUTHZ_2_explain(client, world, auth):
    """R-AUTHZ-2: explain names the rule line that allowed it, or the reason none did."""
    r = client.post("/api/v1/explain", json=body("p-legal", "ac.staff:admin", "delete"), headers=auth).get_json()
    assert r["allowed"] and r["rule"]["identity_type"] == "legal_rep" and r["rule"]["line"] > 0
    r = client.post("/api/v1/explain", json=body("p-officer", "biz.declare_pay", "use"), headers=auth).get_json()
    assert not r["allowed"] and r["reason"] == "no_rule"
    assert r["grants"][0]["identity_type"] == "invoice_officer"


def test_R_AUTHZ_5_binding_change_changes_next_http_answer(client, world, auth, directory, clock):
    """R-AUTHZ-5: narrowing a function set and a validity end passing change the next check at once."""
    q = body("p-officer", "biz.invoice_use", "use")
    assert client.post("/api/v1/check", json=q, headers=auth).get_json()["allowed"]
    b = directory.update_binding(world["officer_binding"], functions=["biz.query"])
    assert not client.post("/api/v1/check", json=q, headers=auth).get_json()["allowed"]
    directory.update_binding(b, valid_until=dt.date(2026, 3, 2))
    q2 = body("p-officer", "biz.query", "use")
    assert client.post("/api/v1/check", json=q2, headers=auth).get_json()["allowed"]
    clock.advance(days=1)
    assert not client.post("/api/v1/check", json=q2, headers=auth).get_json()["allowed"]


def test_R_LOGIN_12_errors_have_stable_codes_in_both_languages(client, auth):
    """R-LOGIN-12: every error has a stable code, Chinese by default, English on request."""
    r = client.post("/api/v1/check", json={"subject": "x"}, headers=auth)
    zh = r.get_json()
    r = client.post("/api/v1/check", json={"subject": "x"}, headers={**auth, "Accept-Language": "en-US,en;q=0.9"})
    en = r.get_json()
    assert zh["code"] == en["code"] == "validation_failed" and zh["status"] == 422
    assert zh["message"] == "请求参数校验未通过" and en["message"].startswith("The request")
    assert set(zh["errors"]["json"]) == {"subject", "domain", "object", "action"}


def test_405_keeps_allow_header(client, auth):
    r = client.get("/api/v1/check", headers=auth)
    assert r.status_code == 405 and "POST" in r.headers["Allow"]
    assert r.get_json()["code"] == "method_not_allowed"


def test_ops_endpoints(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 200
    assert b"authz_http_requests_total" in client.get("/metrics").data
    assert client.get("/docs/").status_code == 200
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").get_json()
    assert "/api/v1/check" in spec["paths"] and "serviceKey" in spec["components"]["securitySchemes"]


def test_R_AUTHZ_4_reload_refuses_broken_file_and_keeps_last_good(client, world, policy_key, svc):
    """R-AUTHZ-4: a broken rule file is refused with line-numbered errors; the last good policy stays."""
    h = {"Authorization": f"Bearer {policy_key}"}
    src = client.get("/api/v1/policy", headers=h).get_json()["source"]
    broken = src + "p, legal_rp, *, biz.query, use\n"
    r = client.put("/api/v1/policy", json={"source": broken}, headers=h)
    assert r.status_code == 422 and r.get_json()["code"] == "policy_invalid"
    err = r.get_json()["errors"][0]
    assert err["line"] == broken.count("\n") and err["code"] == "unknown_role"
    assert svc.enforcer.index.digest == client.get("/api/v1/policy", headers=h).get_json()["digest"]
    # a good change applies to the next check
    narrowed = "\n".join(l for l in src.splitlines() if l != "p, legal_rep, kind:enterprise, biz.declare_pay, use")
    r = client.put("/api/v1/policy", json={"source": narrowed + "\n"}, headers=h)
    assert r.status_code == 200 and r.get_json()["removed"] == [["legal_rep", "kind:enterprise", "biz.declare_pay", "use"]]
    assert not svc.enforcer.can("p-legal", DOM, "biz.declare_pay", "use")


def test_R_AUTHZ_3_check_key_cannot_reload_policy(client, auth):
    """R-AUTHZ-3: a key without the policy scope cannot read or replace the policy."""
    assert client.get("/api/v1/policy", headers=auth).status_code == 403


def test_nul_characters_are_refused_before_the_database(client, auth):
    """PostgreSQL cannot store NUL; any request carrying one gets a clean 422, never a 500."""
    r = client.post("/api/v1/check", data='{"subject": "p-a\\u0000bc", "domain": "x", "object": "o", "action": "a"}',
                    headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 422 and r.get_json()["code"] == "validation_failed"
    r = client.get("/api/v1/functions?subject=p-ab%00c&domain=ent:91360100MA35ABCD1X", headers=auth)
    assert r.status_code == 422


ODD_BODIES = [
    (b'{"subject": "p-legal", "domain": "ent:91360100MA35ABCD1X", "object": "biz.query", "action": "use"}',
     "application/json"),
    (b'{"subject": "p-legal", "domain": "ent:91360100MA35ABCD1X", "object": "biz.query", "action": "use"}',
     "text/plain"),  # not JSON by its content type
    (b'{"subject": "p-legal", "domain": "ent:91360100MA35ABCD1X", "object": "biz.query"}', "application/json"),
    (b'{"subject": "p-legal", "domain": "ent:91360100MA35ABCD1X", "object": "biz.query", "action": "use", '
     b'"extra": 1}', "application/json"),
    (b'{"subject": 7, "domain": "ent:91360100MA35ABCD1X", "object": "biz.query", "action": "use"}',
     "application/json"),
    (b'{"subject": "p-legal\\n", "domain": "ent:91360100MA35ABCD1X", "object": "biz.query", "action": "use"}',
     "application/json"),
    (b'{"subject": "P LEGAL", "domain": "nowhere", "object": "biz.query", "action": "use"}', "application/json"),
    (b'["p-legal"]', "application/json"),
    (b'{"subject": "p-legal",', "application/json"),
    ('{"subject": "p-legal", "domain": "ent:91360100MA35ABCD1X", "object": "biz.query", "action": "use"}'
     .encode("utf-16"), "application/json"),  # json.loads(bytes) would take UTF-16; webargs does not
    (b'\xff\xfe', "application/json"),
    (b'', "application/json"),
    (b'{"subject": "p-legal", "domain": "ent:91360100MA35ABCD1X", "object": "biz.query", "action": "use", '
     b'"identity_type": "legal_rep"}', "application/vnd.api+json"),
]


def test_issue14_R_AUTHZ_2_the_fast_body_parser_answers_exactly_as_webargs(client, world, service_key, monkeypatch):
    """Issue 14 (the check path's cost), R-AUTHZ-2: the check endpoints' body parser takes a fast path for
    plain flat JSON; every body here, good and bad, gets the same status and answer as webargs' own
    parser gives it."""
    from webargs.flaskparser import FlaskParser

    from api import schemas
    headers = {"Authorization": f"Bearer {service_key}"}

    full = []

    def answers():
        out = []
        for raw, ctype in ODD_BODIES:
            full.clear()
            r = client.post("/api/v1/check", data=raw, headers={**headers, "Content-Type": ctype})
            out.append((r.status_code, r.get_json(), bool(full)))
        return out

    original = FlaskParser.parse
    monkeypatch.setattr(FlaskParser, "parse", lambda self, *a, **kw: full.append(1) or original(self, *a, **kw))
    fast = answers()
    assert [(s, by_webargs) for s, _, by_webargs in fast if s == 200] == [(200, False), (200, False)], \
        "the plain bodies took the fast path"
    assert all(by_webargs for s, a, by_webargs in fast if s == 422 and "request" not in (a.get("errors") or {})), \
        "bodies refused by validation (not by the up-front input check) went through webargs' own path"
    fast = [(s, a) for s, a, _ in fast]
    monkeypatch.setattr(schemas.FlatJsonParser, "parse", original)
    assert [(s, a) for s, a, _ in answers()] == fast
    assert [s for s, _ in fast].count(200) == 2 and fast[0][1]["allowed"] is True
