"""Enterprise authorisations in the natural-person account centre over REST (issue 4 item 2): the
face-scan confirmation contract, province filters, refuse / apply / withdraw / end / sync / history, the
endpoint x identity matrix from the rule file, other persons' ids, masking and OpenAPI conformance.
(The "Done when" journey that crosses both sides is in tests/api/test_account_enterprise.py.)"""
from __future__ import annotations

import dataclasses

import pytest

from api import create_app
from authz import sessions
from authz.db import database
from authz.ids import enterprise_domain, person_domain
from authz.models import Binding
from authz.sessions import Entry, Identity
from tests.authz.test_staff import X_USCC, build_world, full_values, rules_allow, snapshot
from tests.person_support import *  # noqa: F401,F403
from tests.person_support import face

A = "/api/v1/account/person/authorisations"
AUTH = "ac.person.authorisations"
BOGUS_FLOW = "azf_" + "x" * 32


def ok(r, status=200):
    assert r.status_code == status, (r.status_code, r.get_json())
    return r.get_json()


@pytest.fixture
def w(svc, directory):
    w = build_world(svc, directory)
    # p-new2 also holds an active tax officer binding in X (province 44) and a pending one there
    w.b.x_active = directory.bind(w.p["p-new2"], w.X, "tax_officer", state="active", origin="enterprise")
    w.b.x_pending = directory.bind(w.p["p-new2"], w.X, "invoice_officer", state="pending", origin="enterprise")
    return w


def person_client(svc, w, uid: str):
    """A test client with a live natural-person-business session of `uid` (bearer header)."""
    raw, _ = sessions.create(svc, w.p[uid], Identity(Entry.PERSONAL, person_domain(uid), "self"))
    c = create_app(service=svc).test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return c


def test_R_BIND_6_confirm_needs_a_face_scan_of_this_same_person(svc, w):
    """R-BIND-6: confirming is a stored flow; nothing changes until the face-scan port reports a
    successful scan of this person for this flow. Another person's face fails (face_mismatch, counted),
    the flow belongs to its session, `verified` in the body is not a thing, and the batch is all or
    nothing."""
    c = person_client(svc, w, "p-new2")
    pid = w.b.pending_admin.id
    # a body flag changes nothing: unknown fields are refused, no confirm happens without a scan
    r = c.post(f"{A}/pending/confirm", json={"ids": [pid], "verified": True})
    assert r.status_code == 422 and Binding.get_by_id(pid).state == "pending"
    # someone else's face
    f = ok(c.post(f"{A}/pending/confirm", json={"ids": [pid]}))["flow"]
    t = ok(c.post(f"{A}/pending/confirm/{f}/factors/taxapp"))
    face(svc, t, "p-new")
    r = c.post(f"{A}/pending/confirm/{f}/factors/taxapp/verify")
    assert r.status_code >= 400 and r.get_json()["code"] == "face_mismatch"
    assert Binding.get_by_id(pid).state == "pending"
    # the flow is bound to its session: another session of the same person cannot use it
    other = person_client(svc, w, "p-new2")
    assert other.get(f"{A}/pending/confirm/{f}").status_code == 404
    # an application of mine (the enterprise confirms it) or a binding not mine: refused at the start
    assert c.post(f"{A}/pending/confirm", json={"ids": [pid, w.b.app_tax.id]}).status_code == 409
    assert c.post(f"{A}/pending/confirm", json={"ids": [pid, w.b.pending_tax.id]}).status_code == 404
    # batch of two with my own face: both active
    f = ok(c.post(f"{A}/pending/confirm", json={"ids": [pid, w.b.x_pending.id]}))
    assert ok(c.get(f"{A}/pending/confirm/{f['flow']}"))["bindings"] == sorted([pid, w.b.x_pending.id])
    t = ok(c.post(f"{A}/pending/confirm/{f['flow']}/factors/iitapp"))
    face(svc, t, "p-new2", app="iitapp")
    assert ok(c.get(f"{A}/pending/confirm/{f['flow']}"))["scan"] == "confirmed"
    done = ok(c.post(f"{A}/pending/confirm/{f['flow']}/factors/iitapp/verify"))
    assert sorted(i["id"] for i in done["items"]) == sorted([pid, w.b.x_pending.id])
    assert {Binding.get_by_id(i).state for i in (pid, w.b.x_pending.id)} == {"active"}
    assert svc.enforcer.can("p-new2", w.dom["E"], "biz.query", "use", "admin")
    # replay of the finished flow is refused
    assert c.post(f"{A}/pending/confirm/{f['flow']}/factors/iitapp/verify").status_code in (404, 409)


def test_R_BIND_8_pending_province_and_nationwide_filters(svc, w):
    """R-BIND-8: nationwide lists every province; `province` narrows; without either, the deployment's
    province (Settings.province) when configured, else nationwide; uscc / name / identity type filter."""
    c = person_client(svc, w, "p-new2")
    every = {i["id"] for i in ok(c.get(f"{A}/pending", query_string={"nationwide": "true"}))["items"]}
    assert {w.b.pending_admin.id, w.b.app_tax.id, w.b.hall.id, w.b.x_pending.id} == every
    gd = {i["id"] for i in ok(c.get(f"{A}/pending", query_string={"province": "44"}))["items"]}
    assert gd == {w.b.x_pending.id}
    # no deployment province configured: the default is nationwide
    assert {i["id"] for i in ok(c.get(f"{A}/pending"))["items"]} == every
    if "province" in {f.name for f in dataclasses.fields(svc.settings)}:  # Settings.province (R-BIND-8)
        svc.settings = dataclasses.replace(svc.settings, province="36")
        assert {i["id"] for i in ok(c.get(f"{A}/pending"))["items"]} == every - {w.b.x_pending.id}
        assert {i["id"] for i in ok(c.get(f"{A}/pending", query_string={"nationwide": "true"}))["items"]} == every
    assert {i["id"] for i in ok(c.get(f"{A}/pending", query_string={"nationwide": "true", "uscc": X_USCC}))["items"]} \
        == {w.b.x_pending.id}
    typed = ok(c.get(f"{A}/pending", query_string={"nationwide": "true", "identity_type": "admin"}))["items"]
    assert [i["id"] for i in typed] == [w.b.pending_admin.id]
    assert c.get(f"{A}/pending", query_string={"identity_type": "pope"}).get_json()["code"] == "bad_filter"
    assert c.get(f"{A}/pending", query_string={"sort": "password"}).status_code == 422


def test_R_BIND_6_7_11_12_refuse_apply_withdraw_end_sync_history(svc, w):
    """R-BIND-6 refuse → history refused; R-BIND-7 apply then withdraw → history withdrawn; R-BIND-11 end
    my tax officer binding (never the legal rep's: 403); R-BIND-15 data sync; R-BIND-12 history with
    soft clear (the rows stay)."""
    c = person_client(svc, w, "p-new2")
    assert ok(c.post(f"{A}/pending/{w.b.x_pending.id}/refuse"))["state"] == "refused"
    app = ok(c.post(f"{A}/applications", json={"uscc": X_USCC, "identity_type": "admin"}))
    assert app["state"] == "pending" and app["initiated_by"] == "person"
    assert c.post(f"{A}/applications", json={"uscc": X_USCC, "identity_type": "admin"}).status_code == 409
    assert ok(c.post(f"{A}/applications/{app['id']}/withdraw"))["state"] == "withdrawn"
    assert c.post(f"{A}/applications", json={"uscc": "91360100MA35NOSUCH", "identity_type": "admin"}).status_code == 404
    authorised = ok(c.get(f"{A}", query_string={"nationwide": "true"}))["items"]
    assert [i["id"] for i in authorised] == [w.b.x_active.id] and "end" in authorised[0]["actions"]
    assert ok(c.post(f"{A}/{w.b.x_active.id}/sync"))["id"] == w.b.x_active.id
    assert ok(c.post(f"{A}/{w.b.x_active.id}/end"))["state"] == "ended"
    assert not svc.enforcer.can("p-new2", w.dom["X"], "biz.query", "use", "tax_officer")
    hist = ok(c.get(f"{A}/history"))["items"]
    assert {i["id"]: i["state"] for i in hist} == {w.b.x_pending.id: "refused", app["id"]: "withdrawn",
                                                   w.b.x_active.id: "ended"}
    assert ok(c.post(f"{A}/history/clear", json={"ids": [app["id"]]})) == {"cleared": 1}
    assert app["id"] not in {i["id"] for i in ok(c.get(f"{A}/history"))["items"]}
    assert Binding.get_by_id(app["id"]).state == "withdrawn"  # soft: the row stays
    assert ok(c.post(f"{A}/history/clear", json={"state": "refused"})) == {"cleared": 1}
    # the legal representative cannot end that binding (R-BIND-11)
    legal = person_client(svc, w, "p-legal")
    r = legal.post(f"{A}/{w.b.legal.id}/end")
    assert r.status_code == 403 and Binding.get_by_id(w.b.legal.id).state == "active"


def test_other_persons_binding_ids_are_not_found_and_change_nothing(svc, w):
    """Scoping: every id-taking route answers 404 for another person's binding, and nothing changes."""
    c = person_client(svc, w, "p-new")
    before = snapshot()
    for method, path, body in (("POST", f"/pending/{w.b.pending_admin.id}/refuse", None),
                               ("POST", f"/applications/{w.b.app_tax.id}/withdraw", None),
                               ("POST", f"/{w.b.x_active.id}/end", None),
                               ("POST", f"/{w.b.x_active.id}/sync", None),
                               ("POST", "/pending/confirm", {"ids": [w.b.pending_admin.id]}),
                               ("POST", "/history/clear", {"ids": [w.b.hist.id + 1000]})):
        r = c.open(A + path, method=method, json=body)
        assert r.status_code == 404, (path, r.get_json())
    assert snapshot() == before


# ---- R-AUTHZ-1 matrix, expectations from the compiled rule file
def routes(w):
    """(method, path, requirements, body) for every route of the blueprint, acting on p-new2's objects."""
    F = BOGUS_FLOW
    b = w.b
    return [
        ("GET", "/pending", [(AUTH, "view")], None),
        ("POST", "/pending/confirm", [(AUTH, "confirm")], {"ids": [b.pending_admin.id]}),
        ("GET", f"/pending/confirm/{F}", [(AUTH, "confirm")], None),
        ("POST", f"/pending/confirm/{F}/factors/taxapp", [(AUTH, "confirm")], None),
        ("POST", f"/pending/confirm/{F}/factors/taxapp/verify", [(AUTH, "confirm")], None),
        ("POST", f"/pending/{b.x_pending.id}/refuse", [(AUTH, "refuse")], None),
        ("POST", "/applications", [(AUTH, "apply"), ("ac.person.binding:admin", "apply")],
         {"uscc": X_USCC, "identity_type": "admin"}),
        ("POST", f"/applications/{b.app_tax.id}/withdraw", [(AUTH, "withdraw")], None),
        ("GET", "", [(AUTH, "view")], None),
        ("POST", f"/{b.x_active.id}/end", [(AUTH, "end"), ("ac.person.binding:tax_officer", "end")], None),
        ("POST", f"/{b.x_active.id}/sync", [("ac.person.authorisations.sync", "push")], None),
        ("GET", "/history", [(AUTH, "view")], None),
        ("POST", "/history/clear", [(AUTH, "clear")], {}),
    ]


def identities(w):
    """p-new2 in personal business, and the holders of each identity type in E in enterprise business."""
    out = [("self", w.p["p-new2"], Identity(Entry.PERSONAL, person_domain("p-new2"), "self"))]
    for role, uid in (("legal_rep", "p-legal"), ("finance_officer", "p-fin"), ("tax_officer", "p-tax"),
                      ("invoice_officer", "p-inv"), ("admin", "p-admin")):
        out.append((role, w.p[uid], Identity(Entry.ENTERPRISE, enterprise_domain(w.E.uscc), role)))
    return out


def test_R_AUTHZ_1_every_route_for_every_identity_follows_the_rule_file(svc, w, app):
    """R-AUTHZ-1: every route x natural-person business and each enterprise identity type; allowed or
    forbidden computed from svc.enforcer.index; forbidden means 403 and nothing changed; without a
    session 401. Each request is rolled back, so every route starts from the same world."""
    client = app.test_client()
    rules = {(m, r.rule[len(A):]) for r in app.url_map.iter_rules() if r.rule.startswith(A)
             for m in r.methods - {"HEAD", "OPTIONS"}}
    assert len(rules) == len(routes(w)) == 13
    bad, seen = [], set()
    for name, person, ident in identities(w):
        for method, path, reqs, body in routes(w):
            expect = rules_allow(svc, ident.role, ident.domain, reqs)
            with database.atomic() as txn:
                raw, _ = sessions.create(svc, person, ident)
                before = snapshot()
                r = client.open(A + path, method=method, json=body, headers={"Authorization": f"Bearer {raw}"})
                if expect and r.status_code in (401, 403):
                    bad.append((name, method, path, "expected allowed, got", r.status_code, r.get_json()))
                elif not expect and (r.status_code != 403 or r.get_json()["code"] != "forbidden"
                                     or snapshot() != before):
                    bad.append((name, method, path, "expected 403 and no change, got", r.status_code))
                if [v for v in full_values(w) if v in r.get_data(as_text=True)]:
                    bad.append((name, method, path, "R-MASK-1 leak"))
                seen.add(expect)
                txn.rollback()
            svc.enforcer.grants.invalidate(None, None)
            svc.enforcer.domains.invalidate()
    assert not bad, "\n".join(map(str, bad))
    assert seen == {True, False}
    for method, path, _, body in routes(w):
        assert client.open(A + path, method=method, json=body).status_code == 401, (method, path)


def test_openapi_documents_every_authorisation_route(app):
    """Every route is in /openapi.json with a summary, the session security schemes and a documented 200."""
    spec = app.test_client().get("/openapi.json").get_json()
    paths = {p: ops for p, ops in spec["paths"].items() if p.startswith(A)}
    assert len(paths) == 13
    for p, ops in paths.items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            assert op.get("summary"), (method, p)
            assert op.get("security") == [{"sessionCookie": []}, {"sessionBearer": []}], (method, p)
            assert "200" in op["responses"], (method, p)


def test_authorisation_endpoints_conform_to_their_openapi(svc, w):
    """Every route, called with a live personal session and schema-generated requests, never fails with
    5xx and answers as documented (status, content type, response schema); checks left out as in
    tests/api/test_account_person.py."""
    import schemathesis
    from hypothesis import HealthCheck, given
    from hypothesis import settings as hsettings
    from schemathesis.checks import ignored_auth, positive_data_acceptance

    app = create_app(service=svc)
    raw, _ = sessions.create(svc, w.p["p-new2"], Identity(Entry.PERSONAL, person_domain("p-new2"), "self"))
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).include(path_regex=r"^/api/v1/account/person/authorisations")
    ran = []
    for result in schema.get_all_operations():
        op = result.ok()

        @given(op.as_strategy())
        @hsettings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {raw}"}
            case.call_and_validate(excluded_checks=[positive_data_acceptance, ignored_auth])

        run()
        ran.append(op.label)
    assert len(ran) == 13, ran
