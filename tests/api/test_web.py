"""The web front end served from the API's origin (issue 11): history-mode fallback for browsers, the API and
operations routes untouched, cache headers, the HTML's security headers, and the development pages' API
present only with the development SMS adapter. A stand-in bundle in a temporary folder is served, so these
tests do not need Node.js."""
from __future__ import annotations

import pytest

from api import create_app, web

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
INDEX = "<!doctype html><html><body><div id=app></div><script type=module src=/assets/index-abc123.js></script></body></html>"


@pytest.fixture
def bundle(tmp_path, monkeypatch):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text(INDEX)
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('app')")
    monkeypatch.setattr(web, "STATIC", tmp_path)
    return tmp_path


@pytest.fixture
def client(svc, bundle):
    import dataclasses
    svc.settings = dataclasses.replace(svc.settings, dev_pages=True)  # as `authz serve --demo` sets it
    return create_app(service=svc).test_client()


@pytest.mark.parametrize("path", ["/", "/login", "/account", "/account/person/info", "/dev/sms-outbox", "/x/y/z"])
def test_a_browser_navigating_gets_the_spa_with_security_headers(client, path):
    r = client.get(path, headers=HTML)
    assert r.status_code == 200 and r.data.decode() == INDEX
    assert r.headers["Cache-Control"] == "no-cache"
    csp = r.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'",
                      "frame-ancestors 'none'", "base-uri 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_hashed_assets_are_cached_for_a_year(client):
    r = client.get("/assets/index-abc123.js")
    assert r.status_code == 200 and b"console.log" in r.data
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    missing = client.get("/assets/nope.js", headers=HTML)
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"


def test_a_client_that_does_not_ask_for_html_keeps_the_json_404(client):
    r = client.get("/account", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.get_json()["code"] == "not_found"
    r = client.get("/")  # curl sends */*: JSON stays first
    assert r.status_code == 404 and r.get_json()["code"] == "not_found"
    r = client.post("/login", headers=HTML)
    assert r.status_code in (404, 405) and r.is_json


def test_api_and_operations_routes_are_untouched(client):
    """/api, /docs, /openapi.json, /metrics, /healthz, /readyz answer as before, even to a browser."""
    assert client.get("/healthz", headers=HTML).get_json() == {"status": "ok"}
    assert client.get("/readyz", headers=HTML).get_json()["status"] == "ready"
    m = client.get("/metrics", headers=HTML)
    assert m.status_code == 200 and b"authz_http_requests_total" in m.data
    assert "/api/v1/check" in client.get("/openapi.json", headers=HTML).get_json()["paths"]
    d = client.get("/docs", headers=HTML)
    assert d.status_code == 200 and b"swagger-ui" in d.data and "Content-Security-Policy" not in d.headers
    unknown = client.get("/api/v1/no-such-thing", headers=HTML)
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "not_found"
    wrong_method = client.get("/api/v1/auth/login", headers=HTML)  # a POST route: still 405, not the SPA
    assert wrong_method.status_code == 405 and wrong_method.get_json()["code"] == "method_not_allowed"
    assert client.get("/api/v1/account/session", headers=HTML).get_json()["code"] == "session_required"
    assert client.get("/docsx", headers=HTML).status_code == 200  # not a reserved prefix: an SPA route
    # the OpenID provider (issue 12): its documents and errors stay JSON for a browser too
    assert "issuer" in client.get("/.well-known/openid-configuration", headers=HTML).get_json()
    assert client.get("/oauth/no-such-endpoint", headers=HTML).get_json()["code"] == "not_found"


def test_without_a_built_bundle_the_fallback_says_how_to_build_it(svc, tmp_path, monkeypatch):
    monkeypatch.setattr(web, "STATIC", tmp_path / "absent")
    r = create_app(service=svc).test_client().get("/login", headers=HTML)
    assert r.status_code == 404 and "pip install" in r.get_json()["errors"]["web"][0]


def test_dev_pages_api_with_the_dev_sms_adapter(client):
    """The development SMS adapter is configured: the front end is told to show the outbox page, which
    lists the codes sent (what `authz dev outbox` prints)."""
    assert client.get("/api/v1/dev").get_json()["pages"] == ["sms-outbox", "app-simulator"]
    from authz.ports.sms import DevOutbox
    DevOutbox(clock=type("C", (), {"time": staticmethod(lambda: 1.0)})()).send("13800000001", "验证码123456")
    out = client.get("/api/v1/dev/sms-outbox?phone=13800000001").get_json()
    assert out["messages"][0]["text"] == "验证码123456"
    assert client.get("/api/v1/dev/sms-outbox?phone=x%27").status_code == 422


@pytest.mark.parametrize("changes", [
    # a production adapter: dev pages are refused by the configuration itself (tests/test_config.py), and
    # without them asked for the production configuration has no dev API either
    {"sms_adapter": "http", "sms_webhook_url": "http://127.0.0.1:9/sms"},
    {"dev_pages": False},  # the development adapter (the default) without --demo / AUTHZ_DEV_PAGES
])
def test_dev_pages_api_is_absent_unless_asked_for_with_the_dev_sms_adapter(svc, bundle, changes):
    import dataclasses
    svc.settings = dataclasses.replace(svc.settings, **changes)
    c = create_app(service=svc).test_client()
    for path in ("/api/v1/dev", "/api/v1/dev/sms-outbox"):
        r = c.get(path)
        assert r.status_code == 404 and r.get_json()["code"] == "not_found"
    r = c.post("/api/v1/dev/scan", json={"ticket": "t", "person": "p-demo-legal"})
    assert r.status_code in (404, 405) and r.is_json
    assert "/api/v1/dev" not in c.get("/openapi.json").get_json()["paths"]
