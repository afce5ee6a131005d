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
