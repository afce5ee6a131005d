"""Integration API (R-BIND-1..3, R-AGT-1..2, R-LOGIN-4, R-SW-4, R-LOGIN-6, R-RN-2, R-BIND-15, R-AUTHZ-3):
service keys and scopes, validation with stable codes, idempotent resends, audit as service:<name>, and the check API
following every change at once."""
import pytest

from api import create_app
from authz import clients, events
from authz.models import AuditLog, Binding, Person
from tests.binding_support import move

ENT = "91360100MA35ABCD1X"
DOM = "ent:" + ENT
AGENCY = "91360100MA35AGNC2Y"
ZHANG = {"doc_type": "resident_id", "doc_number": "36010219900101123X", "name": "张三"}
LI = {"doc_type": "resident_id", "doc_number": "360102199202021231", "name": "李四"}
BASE = "/api/v1/integration"


@pytest.fixture
def http(svc):
    return create_app(service=svc).test_client()


@pytest.fixture
def keys(svc):
    def key(name, scopes):
        return {"Authorization": "Bearer " + clients.create(name, scopes=scopes)[1]}
    return {"integration": key("tax-registration", "integration,check"), "hall": key("hall-3601", "hall"),
            "check": key("billing-system", "check")}


def enterprise_body(**kw):
    return {"name": "示例科技有限公司", "kind": "ordinary", "province": "36", "tax_authority": "国家税务总局南昌市税务局",
            "legal_representative": ZHANG, **kw}


def check(http, keys, subject, obj, dom=DOM, **kw):
    r = http.post("/api/v1/check", json={"subject": subject, "domain": dom, "object": obj, "action": "use", **kw},
                  headers=keys["check"])
    assert r.status_code == 200, r.get_json()
    return r.get_json()["allowed"]


def test_R_AUTHZ_3_integration_needs_a_key_with_its_scope(http, keys):
    """R-AUTHZ-3: no key -> 401 (before validation); a key without scope `integration` -> 403; hall
    endpoints need scope `hall` (an integration key is refused there, and a hall key here)."""
    r = http.put(f"{BASE}/enterprises/{ENT}", json={"garbage": True})
    assert r.status_code == 401 and r.get_json()["code"] == "unauthenticated"
    r = http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=keys["check"])
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    r = http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=keys["hall"])
    assert r.status_code == 403
    r = http.post(f"{BASE}/hall/realname-level", json={}, headers=keys["integration"])
    assert r.status_code == 403
    r = http.post(f"{BASE}/hall/realname-level", json={})
    assert r.status_code == 401
    assert Person.select().count() == 0


def test_R_BIND_1_registration_feed_over_rest_is_idempotent_and_audited(http, keys, svc):
    """R-BIND-1: PUT the registration data: enterprise + active legal rep; the same PUT again answers
    changed=false and writes nothing; every write is audited as service:<client name>."""
    r = http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=keys["integration"])
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    assert out["changed"] and out["legal_rep"]["state"] == "active" and out["legal_rep"]["origin"] == "registration"
    legal = out["legal_rep"]["person"]
    assert check(http, keys, legal, "biz.declare_pay")
    audited = AuditLog.select().count()
    r = http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=keys["integration"])
    assert r.status_code == 200 and r.get_json()["changed"] is False
    assert AuditLog.select().count() == audited
    assert {a.actor for a in AuditLog.select()} == {"service:tax-registration"}
    # replacing the legal rep: the old one's next check is denied
    r = http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(legal_representative=LI), headers=keys["integration"])
    assert r.get_json()["changed"]
    assert not check(http, keys, legal, "biz.declare_pay")
    assert check(http, keys, r.get_json()["legal_rep"]["person"], "biz.declare_pay")


def test_validation_errors_have_stable_codes_and_leak_nothing(http, keys):
    """R-LOGIN-12 / R-MASK-1: malformed input -> 422 validation_failed with field errors; a bad USCC in the
    path -> bad_uscc; a name mismatch -> identity_mismatch without echoing the document number;
    English on Accept-Language: en."""
    h = keys["integration"]
    r = http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(kind="spaceship", legal_representative={
        "doc_type": "library_card", "doc_number": "12", "name": ""}), headers=h)
    body = r.get_json()
    assert r.status_code == 422 and body["code"] == "validation_failed"
    errors = body["errors"]["json"]
    assert set(errors) == {"kind", "legal_representative"}
    assert set(errors["legal_representative"]) == {"doc_type", "doc_number", "name"}
    r = http.put(f"{BASE}/enterprises/not-a-uscc", json=enterprise_body(), headers=h)
    assert r.status_code == 422 and r.get_json()["code"] == "bad_uscc"
    http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=h)
    r = http.put(f"{BASE}/enterprises/91360100MA35OTHR3Z", json=enterprise_body(
        legal_representative={**ZHANG, "name": "张三丰"}), headers={**h, "Accept-Language": "en"})
    body = r.get_json()
    assert r.status_code == 422 and body["code"] == "identity_mismatch"
    assert body["message"] == "The name does not match the document"
    assert ZHANG["doc_number"] not in r.get_data(as_text=True) and "张三" not in r.get_data(as_text=True)
    r = http.put(f"{BASE}/enterprises/{ENT}/finance-officer", json={"person": LI}, headers=h)
    assert r.status_code == 200
    r = http.put(f"{BASE}/enterprises/91360100MA35NONE0Z/finance-officer", json={"person": LI}, headers=h)
    assert r.status_code == 404 and r.get_json()["code"] == "integ_enterprise_unknown"
    assert r.get_json()["message"] == "未找到该企业，请先报送其登记信息"


def test_R_BIND_2_and_R_BIND_3_pending_bindings_over_rest(http, keys):
    """R-BIND-2 / R-BIND-3: the finance officer (not refusable) and core-tax tax officers arrive pending and
    grant nothing; resends change nothing."""
    h = keys["integration"]
    http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=h)
    r = http.put(f"{BASE}/enterprises/{ENT}/finance-officer", json={"person": LI, "reference": "TR-1"}, headers=h)
    fo = r.get_json()
    assert (fo["state"], fo["refusable"], fo["withdrawable_online"]) == ("pending", False, False)
    assert not check(http, keys, fo["person"], "biz.declare_pay")
    again = http.put(f"{BASE}/enterprises/{ENT}/finance-officer", json={"person": LI, "reference": "TR-1"}, headers=h)
    assert again.get_json()["changed"] is False and again.get_json()["binding_id"] == fo["binding_id"]
    officers = {"officers": [{"person": ZHANG, "functions": ["biz.query"], "valid_until": "2026-12-31"}],
                "reference": "CT-1"}
    r = http.post(f"{BASE}/enterprises/{ENT}/tax-officers", json=officers, headers=h)
    res = r.get_json()["results"][0]
    assert r.status_code == 200 and (res["state"], res["origin"], res["identity_type"]) == \
        ("pending", "core_tax", "tax_officer")
    assert http.post(f"{BASE}/enterprises/{ENT}/tax-officers", json=officers, headers=h).get_json()["changed"] is False
    r = http.post(f"{BASE}/enterprises/{ENT}/tax-officers", json={"officers": []}, headers=h)
    assert r.status_code == 422 and r.get_json()["code"] == "validation_failed"
    r = http.post(f"{BASE}/enterprises/{ENT}/tax-officers",
                  json={"officers": [{"person": LI, "functions": ["biz.person.declare"]}]}, headers=h)
    assert r.status_code == 422 and r.get_json()["code"] == "function_set_exceeds"


def test_R_AGT_1_R_AGT_2_agency_feed_and_agreement_over_rest(http, keys):
    """R-AGT-1 / R-AGT-2: staff and agreement filed over REST grant the agent in the client; PATCH status
    ended denies the very next check; PUT again is idempotent; GET returns the agreement."""
    h = keys["integration"]
    http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=h)
    http.put(f"{BASE}/enterprises/{AGENCY}", json={"name": "示例税务师事务所", "kind": "agency"}, headers=h)
    r = http.put(f"{BASE}/agencies/{AGENCY}/staff", json={"agents": [LI]}, headers=h)
    assert r.status_code == 200 and r.get_json()["added"][0]["identity_type"] == "tax_agent"
    agent = r.get_json()["added"][0]["person"]
    agreement = {"agency_uscc": AGENCY, "client_uscc": ENT, "agents": [LI], "start": "2026-01-01",
                 "end": "2026-12-31", "permissions": ["biz.declare_pay", "biz.query"]}
    r = http.put(f"{BASE}/agreements/AG-2026-001", json=agreement, headers=h)
    assert r.status_code == 200 and r.get_json()["changed"] and r.get_json()["agents"] == [agent]
    assert check(http, keys, agent, "biz.declare_pay", identity_type="tax_agent")
    assert not check(http, keys, agent, "biz.invoice_use")
    assert http.put(f"{BASE}/agreements/AG-2026-001", json=agreement, headers=h).get_json()["changed"] is False
    r = http.patch(f"{BASE}/agreements/AG-2026-001", json={"status": "ended"}, headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "ended"
    assert not check(http, keys, agent, "biz.declare_pay")
    r = http.get(f"{BASE}/agreements/AG-2026-001", headers=h)
    assert r.get_json()["status"] == "ended" and r.get_json()["permissions"] == ["biz.declare_pay", "biz.query"]
    assert http.get(f"{BASE}/agreements/AG-NONE", headers=h).get_json()["code"] == "integ_agreement_unknown"
    r = http.put(f"{BASE}/agreements/AG-3", json={**agreement, "end": "2025-01-01"}, headers=h)
    assert r.status_code == 422 and r.get_json()["code"] == "integ_agreement_dates"
    r = http.patch(f"{BASE}/agreements/AG-2026-001", json={"status": "paused"}, headers=h)
    assert r.status_code == 422 and "status" in r.get_json()["errors"]["json"]


def test_R_LOGIN_6_nonresident_approval_over_rest(http, keys, directory):
    """R-LOGIN-6: PUT the approval: non-resident enterprise with the filer as legal rep; checks follow."""
    p = directory.create_person("John Smith", "foreign_passport", "E12345678", overseas=True, registered=True)
    body = {"name": "Example Ltd", "person": {"doc_type": "foreign_passport", "doc_number": "E12345678",
                                              "name": "John Smith"}, "filing_ref": "NRF-1"}
    r = http.put(f"{BASE}/nonresident-enterprises/NR3601000000000001", json=body, headers=keys["integration"])
    out = r.get_json()
    assert r.status_code == 200 and out["kind"] == "nonresident" and out["legal_rep"]["person"] == p.uid
    assert check(http, keys, p.uid, "biz.declare_pay", dom=out["domain"])
    r = http.put(f"{BASE}/nonresident-enterprises/NR3601000000000001", json=body, headers=keys["integration"])
    assert r.get_json()["changed"] is False


def test_R_RN_2_and_R_BIND_3_hall_operations_over_rest(http, keys, directory):
    """R-RN-2: level 5 only through the hall API (scope hall); R-BIND-3: a hall binding is pending, not
    withdrawable online, withdrawn at the hall; every call audited with the operator."""
    http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=keys["integration"])
    p = directory.create_person("李四", "resident_id", LI["doc_number"], realname_level=4, registered=True)
    h = keys["hall"]
    lvl = {"person": LI, "level": 5, "method": "nfc", "operator": "H-007"}
    r = http.post(f"{BASE}/hall/realname-level", json=lvl, headers=h)
    assert r.status_code == 200 and r.get_json() == {"person": p.uid, "realname_level": 5, "previous": 4,
                                                     "changed": True}
    assert http.post(f"{BASE}/hall/realname-level", json=lvl, headers=h).get_json()["changed"] is False
    r = http.post(f"{BASE}/hall/realname-level", json={**lvl, "level": 4}, headers=h)
    assert r.status_code == 422 and "level" in r.get_json()["errors"]["json"]
    add = {"uscc": ENT, "person": LI, "identity_type": "tax_officer", "functions": ["biz.query"],
           "operator": "H-007"}
    r = http.post(f"{BASE}/hall/bindings", json=add, headers=h)
    b = r.get_json()
    assert r.status_code == 200 and (b["state"], b["origin"], b["withdrawable_online"]) == ("pending", "hall", False)
    assert not check(http, keys, p.uid, "biz.query")
    r = http.post(f"{BASE}/hall/bindings/{b['binding_id']}/withdraw", json={"operator": "H-007"}, headers=h)
    assert r.status_code == 200 and r.get_json()["state"] == "withdrawn"
    r = http.post(f"{BASE}/hall/bindings/{b['binding_id']}/end", json={"operator": "H-007"}, headers=h)
    assert r.status_code == 409 and r.get_json()["code"] == "binding_state"
    r = http.post(f"{BASE}/hall/bindings/424242/end", json={"operator": "H-007"}, headers=h)
    assert r.status_code == 404 and r.get_json()["code"] == "integ_binding_unknown"
    r = http.post(f"{BASE}/hall/bindings", json={**add, "identity_type": "legal_rep"}, headers=h)
    assert r.status_code == 409 and r.get_json()["code"] == "integ_hall_role"  # the rule file says no (issue 10)
    r = http.post(f"{BASE}/hall/bindings", json={**add, "identity_type": "Tax Officer"}, headers=h)
    assert r.status_code == 422 and "identity_type" in r.get_json()["errors"]["json"]
    rows = AuditLog.select().where(AuditLog.actor == "service:hall-3601")
    assert rows.count() == 3 and all(row.detail["operator"] == "H-007" for row in rows)


PROJECT = "BY360100202600011234"


def project_body(**kw):
    return {"uscc": ENT, "kind": "inspection", "name": "长沙办公楼项目", "region": "湖南省长沙市", "handler": LI, **kw}


def _officer_world(http, keys, directory):
    """The enterprise (ZHANG legal rep) with LI as a confirmed sub-identity tax officer from the core tax system."""
    h = keys["integration"]
    http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=h)
    r = http.post(f"{BASE}/enterprises/{ENT}/tax-officers", json={"officers": [{"person": LI, "sub_identity": True}]},
                  headers=h)
    b = r.get_json()["results"][0]
    move(directory.svc, Binding.get_by_id(b["binding_id"]), "active")
    return b["person"]


def test_R_AUTHZ_3_project_feed_needs_a_key_with_scope_integration(http, keys):
    """R-AUTHZ-3 / R-LOGIN-4: the project feed without a key is 401 (before validation), with a key
    lacking scope `integration` 403; nothing is written either way."""
    from authz.models import CrossRegionProject
    for method in ("get", "put", "patch"):
        r = getattr(http, method)(f"{BASE}/projects/{PROJECT}", json={"garbage": True})
        assert r.status_code == 401 and r.get_json()["code"] == "unauthenticated", method
        for key in ("check", "hall"):
            r = getattr(http, method)(f"{BASE}/projects/{PROJECT}", json=project_body(), headers=keys[key])
            assert r.status_code == 403 and r.get_json()["code"] == "forbidden", (method, key)
    assert CrossRegionProject.select().count() == 0


def test_R_LOGIN_4_project_feed_over_rest_is_idempotent_and_audited(http, keys, directory):
    """R-LOGIN-4 / R-SW-4: PUT a project naming its handler; the same PUT again answers changed=false and
    writes nothing; GET returns it; PATCH status ended ends it (a resend of ended changes nothing); every
    write audited as service:<client name>."""
    h = keys["integration"]
    li = _officer_world(http, keys, directory)
    r = http.put(f"{BASE}/projects/{PROJECT}", json=project_body(), headers=h)
    assert r.status_code == 200, r.get_json()
    assert r.get_json() == {"management_no": PROJECT, "kind": "inspection", "uscc": ENT, "domain": DOM,
                            "name": "长沙办公楼项目", "region": "湖南省长沙市", "handler": li, "status": "active",
                            "changed": True}
    audited = AuditLog.select().count()
    again = http.put(f"{BASE}/projects/{PROJECT}", json=project_body(), headers=h)
    assert again.status_code == 200 and again.get_json()["changed"] is False
    assert AuditLog.select().count() == audited
    assert http.get(f"{BASE}/projects/{PROJECT}", headers=h).get_json()["handler"] == li
    r = http.patch(f"{BASE}/projects/{PROJECT}", json={"status": "ended"}, headers=h)
    assert r.status_code == 200 and r.get_json()["status"] == "ended" and r.get_json()["changed"]
    r = http.put(f"{BASE}/projects/{PROJECT}", json=project_body(status="ended"), headers=h)
    assert r.get_json()["changed"] is False
    rows = AuditLog.select().where(AuditLog.action == "project.file")
    assert rows.count() == 2 and {a.actor for a in rows} == {"service:tax-registration"}
    body = project_body(kind="tax_source")
    del body["handler"]
    r = http.put(f"{BASE}/projects/SY360100202600049999", json=body, headers=h)
    assert r.status_code == 200 and r.get_json()["handler"] is None and r.get_json()["kind"] == "tax_source"


def test_R_LOGIN_4_project_feed_validation_has_stable_codes(http, keys, directory):
    """R-LOGIN-4 / R-LOGIN-12: malformed input -> 422 validation_failed with field errors; unknown
    enterprise, handler or project -> 404; a handler who is not a tax officer there, or a management
    number of another kind -> 409; Chinese by default, English on Accept-Language: en."""
    h = keys["integration"]
    _officer_world(http, keys, directory)
    r = http.put(f"{BASE}/projects/{PROJECT}", json=project_body(kind="building", status="paused", name="",
                                                                 region="x" * 41, handler={"doc_type": "x"}), headers=h)
    assert r.status_code == 422 and r.get_json()["code"] == "validation_failed"
    assert set(r.get_json()["errors"]["json"]) == {"kind", "status", "name", "region", "handler"}
    r = http.put(f"{BASE}/projects/{PROJECT}", json={"uscc": ENT}, headers=h)
    assert set(r.get_json()["errors"]["json"]) == {"kind", "name", "region"}
    r = http.put(f"{BASE}/projects/by-2026", json=project_body(), headers=h)
    assert r.status_code == 422 and "management_no" in r.get_json()["errors"]
    r = http.put(f"{BASE}/projects/{PROJECT}", json=project_body(uscc="91360100MA35NONE0Z"), headers=h)
    assert r.status_code == 404 and r.get_json()["code"] == "integ_enterprise_unknown"
    stranger = {"doc_type": "resident_id", "doc_number": "360102199404041230", "name": "赵六"}
    r = http.put(f"{BASE}/projects/{PROJECT}", json=project_body(handler=stranger), headers=h)
    assert r.status_code == 404 and r.get_json()["code"] == "integ_person_unknown"
    r = http.put(f"{BASE}/projects/{PROJECT}", json=project_body(handler=ZHANG), headers=h)
    assert r.status_code == 409 and r.get_json()["code"] == "integ_handler_not_officer"
    assert r.get_json()["message"] == "经办人须为该企业的办税员"
    assert http.put(f"{BASE}/projects/{PROJECT}", json=project_body(), headers=h).status_code == 200
    r = http.put(f"{BASE}/projects/{PROJECT}", json=project_body(kind="tax_source"),
                 headers={**h, "Accept-Language": "en"})
    assert r.status_code == 409 and r.get_json()["code"] == "integ_project_parties"
    assert r.get_json()["message"] == "The management number belongs to another enterprise or kind"
    r = http.get(f"{BASE}/projects/SY0000000000", headers=h)
    assert r.status_code == 404 and r.get_json()["code"] == "integ_project_unknown"
    r = http.patch(f"{BASE}/projects/{PROJECT}", json={"status": "paused"}, headers=h)
    assert r.status_code == 422 and "status" in r.get_json()["errors"]["json"]
    assert LI["doc_number"] not in r.get_data(as_text=True)


def test_R_BIND_15_rest_changes_reach_the_outbox(http, keys, svc):
    """R-BIND-15: each binding change made over REST is in the outbox, ready for drain."""
    http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(), headers=keys["integration"])
    http.put(f"{BASE}/enterprises/{ENT}", json=enterprise_body(legal_representative=LI), headers=keys["integration"])
    changes = [(e["kind"], e["data"]["change"]) for e in reversed(events.recent(10))]
    assert changes == [("binding.changed", "created"), ("binding.changed", "ended"), ("binding.changed", "created")]
    assert len(events.drain(svc, 10).delivered) == 3


def test_R_AUTHZ_2_integration_endpoints_are_in_the_openapi_document(http):
    """R-AUTHZ-2: every integration endpoint is documented, secured, with its error answers (R-LOGIN-4:
    the cross-region project feed too)."""
    spec = http.get("/openapi.json").get_json()
    expected = {
        ("put", "/api/v1/integration/enterprises/{uscc}"), ("put", "/api/v1/integration/enterprises/{uscc}/finance-officer"),
        ("post", "/api/v1/integration/enterprises/{uscc}/tax-officers"), ("put", "/api/v1/integration/agencies/{uscc}/staff"),
        ("get", "/api/v1/integration/agreements/{number}"), ("put", "/api/v1/integration/agreements/{number}"),
        ("patch", "/api/v1/integration/agreements/{number}"),
        ("put", "/api/v1/integration/nonresident-enterprises/{code}"),
        ("get", "/api/v1/integration/projects/{management_no}"),
        ("put", "/api/v1/integration/projects/{management_no}"),
        ("patch", "/api/v1/integration/projects/{management_no}"),
        ("post", "/api/v1/integration/hall/realname-level"), ("post", "/api/v1/integration/hall/bindings"),
        ("post", "/api/v1/integration/hall/bindings/{binding_id}/withdraw"),
        ("post", "/api/v1/integration/hall/bindings/{binding_id}/end")}
    for method, path in expected:
        op = spec["paths"][path][method]
        assert op["security"] == [{"serviceKey": []}], path
        assert {"200", "401", "403"} <= set(op["responses"]), path
        assert op["summary"], path


# Answers to schema-valid requests that depend on what is on record or on the rule file, which the
# OpenAPI document cannot express: the function catalogue and ceilings (policies/rules.csv), the
# agreement's date order, each document type's number shape and check character, a name that differs
# from the one on record. Every other rejection of a schema-valid request is a bug.
SEMANTIC_422 = {"function_set_exceeds", "function_set_empty", "integ_agreement_dates", "invalid_identifier",
                "document_invalid", "identity_mismatch",
                "certificate_key_invalid", "certificate_dates"}  # a parsable key of the kind; validity order


@pytest.mark.slow
def test_R_AUTHZ_2_integration_api_conforms_to_its_openapi(svc):
    """R-AUTHZ-2: property-based requests against every integration endpoint: no 5xx, every answer as
    documented, and schema-valid requests rejected only for the data-dependent reasons above."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    app = create_app(service=svc)
    _, key = clients.create("fuzzer", scopes="integration,hall")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).include(path_regex="^/api/v1/integration")
    ran = []
    for result in schema.get_all_operations():
        op = result.ok()

        @given(op.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}
            response = case.call()
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
            if response.status_code == 422:
                body = response.json()
                nul = body.get("errors") == {"request": ["NUL characters are not allowed"]}
                assert body["code"] in SEMANTIC_422 or nul, (op.label, body)

        run()
        ran.append(op.label)
    assert len(ran) == 16, ran  # 15 here (3 of them the cross-region projects) + the certificate filing
