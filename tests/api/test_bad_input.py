"""Issue 10 finding 8, as an attacker tries it: input no handler can take gets a clear 4xx in the error
shape and the server stays up (R-API-1 error shape): a lone surrogate in a registration name, deeply
nested JSON on /auth/login and /check, a body far over the limit on a public endpoint."""
from __future__ import annotations

import pytest

from api import create_app
from tests.login_support import *  # noqa: F401,F403 (fixtures)


@pytest.fixture
def client(svc):
    return create_app(service=svc).test_client()


def _shape(r, status, code):
    body = r.get_json()
    assert r.status_code == status, (r.status_code, r.get_data()[:300])
    assert body["code"] == code and body["status"] == status and body["message"]


def _alive(client):
    assert client.get("/healthz").status_code == 200  # the process still answers


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/check", "/api/v1/register"])
def test_deeply_nested_json_is_a_422_not_a_500(svc, world, client, path):
    """Issue 10 finding 8: 100 000 nested arrays would exhaust the decoder's recursion; refused first."""
    body = b"[" * 100_000 + b"]" * 100_000
    _shape(client.post(path, data=body, content_type="application/json"), 422, "validation_failed")
    body = b'{"a":' * 5000 + b"1" + b"}" * 5000
    _shape(client.post(path, data=body, content_type="application/json"), 422, "validation_failed")
    _alive(client)


def test_lone_surrogate_in_a_registration_name_is_a_422(svc, world, client):
    """Issue 10 finding 8: "\\ud800" decodes to a str no UTF-8 encoder or database takes."""
    for name in (b'"\\ud800"', b'"\\udc00x"', b'"a\\uDBFF"'):
        body = b'{"name": ' + name + b', "doc_type": "resident_id", "doc_number": "360102198001010010"}'
        _shape(client.post("/api/v1/register", data=body, content_type="application/json"), 422, "validation_failed")
    # a correctly paired surrogate (an emoji, escaped) is not refused by this guard
    r = client.post("/api/v1/auth/login", data=b'{"entry": "personal", "account": "\\ud83d\\ude00", "password": "x"}',
                    content_type="application/json")
    assert r.status_code < 500 and "surrogate" not in str(r.get_json().get("errors"))
    _alive(client)


def test_oversized_body_on_a_public_endpoint_is_a_413(svc, world, client):
    """Issue 10 finding 8: a 64 MB body is refused before it is read (AUTHZ_MAX_BODY_KIB, 1 MiB)."""
    big = b'{"account": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    _shape(client.post("/api/v1/auth/login", data=big, content_type="application/json"), 413, "payload_too_large")
    _alive(client)


def test_max_body_setting_is_honoured(svc, world, settings):
    """Issue 10 finding 8: the limit is a setting (docs/operations.md)."""
    import dataclasses
    from authz.service import Service
    s2 = Service(dataclasses.replace(settings, max_body_kib=1), clock=svc.clock).start(follow=False)
    c = create_app(service=s2).test_client()
    _shape(c.post("/api/v1/auth/login", data=b'{"a":"' + b"x" * 2000 + b'"}', content_type="application/json"),
           413, "payload_too_large")


def test_the_last_calendar_day_is_a_validity_end_not_a_500(svc, world, app, service_key):
    """Issue 10 finding 8 (the filter / date combination), R-BIND-9: a legal representative narrows a
    staff binding's validity end to 9999-12-31 (the widest date the API accepts). Every later check of
    that person in that enterprise used to overflow ("date value out of range") into a 500, so one
    enterprise could break the check endpoint for a person; the end is inclusive and simply never
    passes."""
    from tests.person_support import USCC, login_session
    from tests.api.test_account_enterprise import bearer, check, ok
    from authz.ids import enterprise_domain
    legal = app.test_client()
    lh = bearer(login_session(legal, "enterprise", "13800000001", "13800000001", uscc=USCC, choose="legal_rep"))
    staff = ok(legal.get("/api/v1/account/enterprise/staff", headers=lh))["items"]
    target = next(s for s in staff if s["identity_type"] not in ("legal_rep", "finance_officer"))
    detail = ok(legal.get(f"/api/v1/account/enterprise/staff/{target['id']}", headers=lh))
    ok(legal.patch(f"/api/v1/account/enterprise/staff/{target['id']}", headers=lh,
                   json={"valid_until": "9999-12-31", "version": detail["version"]}))
    from authz.models import Binding
    uid = Binding.get_by_id(target["id"]).person.uid
    assert check(legal, service_key, uid, enterprise_domain(USCC), "biz.query") in (True, False)
    r = legal.get("/api/v1/functions", query_string={"subject": uid, "domain": enterprise_domain(USCC)},
                  headers=bearer(service_key))
    assert r.status_code == 200


@pytest.mark.parametrize("query", [{"until": "9999-12-31"}, {"since": "0001-01-01", "until": "0001-01-15"},
                                   {"until": "0001-01-15"}, {"since": "0001-01-01", "until": "9999-12-31"}])
def test_log_filters_at_the_calendar_edges_answer_not_500(svc, world, app, query):
    """Issue 10 finding 8: the log filters' `since` / `until` at the first and last dates a date can hold
    (an inclusive `until` adds a day; a default `since` goes a month back) answer 200 or a clear 422 on
    the enterprise and the personal log pages (R-LOG-1, R-LOG-2), never a 500."""
    from tests.person_support import USCC, login_session
    legal = app.test_client()
    token = login_session(legal, "enterprise", "13800000001", "13800000001", uscc=USCC, choose="legal_rep")
    for path in ("/api/v1/account/enterprise/logs/login", "/api/v1/account/enterprise/logs/audit"):
        r = legal.get(path, query_string=query, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (200, 422), (path, r.status_code, r.get_data()[:300])
    person = app.test_client()
    token = login_session(person, "personal", "13800000001", "13800000001")
    for path in ("/api/v1/account/person/logs/login", "/api/v1/account/person/logs/audit"):
        r = person.get(path, query_string=query, headers={"Authorization": f"Bearer {token}"})
        assert r.status_code in (200, 422), (path, r.status_code, r.get_data()[:300])
    _alive(legal)
