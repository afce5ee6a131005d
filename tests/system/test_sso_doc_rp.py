"""docs/sso.md's minimal relying party is run as written (issue 12: "integrated by reading the docs
alone"): Flask + Authlib's client against a live `authz serve`, login through SSO, the identity shown,
RP-initiated logout back to the registered URI, and back-channel logout received and verified by the
page's own route while it is served live."""
from __future__ import annotations

import importlib.util
import re
import time

import pytest
import requests

from authz.clock import FrozenClock
from authz import sessions
from authz.models import LoginSession
from authz.oidc import backchannel, clients
from tests.login_support import settings  # noqa: F401
from tests.oidc_support import person_and_identity, portal_session
from tests.system.serving import ROOT, Instance, service_env

pytestmark = pytest.mark.slow


@pytest.fixture
def clock():
    return FrozenClock(time.time())


def load_rp(tmp_path):
    text = (ROOT / "docs" / "sso.md").read_text(encoding="utf-8")
    code = re.search(r"### A minimal relying party in Python.*?```python\n(.*?)```", text, re.S).group(1)
    path = tmp_path / "rp.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("sso_doc_rp", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_documented_relying_party_logs_in_and_out(svc, directory, db_url, tmp_path, monkeypatch):
    """docs/sso.md: the page's relying party, unchanged, completes code + PKCE and logout."""
    person, _, ident = person_and_identity(svc, directory)
    raw, row = portal_session(svc, person, ident)
    _, secret = clients.create(svc, "declaration", redirect_uris=["http://localhost/oidc/callback"],
                               post_logout_redirect_uris=["http://localhost/"], scopes=["openid", "identity"],
                               first_party=True)
    inst = Instance(service_env(db_url), tmp_path / "serve.log")
    try:
        monkeypatch.setenv("RP_SESSION_KEY", "k" * 32)
        monkeypatch.setenv("PORTAL_CLIENT_SECRET", secret)
        monkeypatch.setenv("PORTAL_ISSUER", inst.base)
        rp = load_rp(tmp_path).app.test_client()
        browser = requests.Session()
        browser.cookies.set("authz_session", raw, domain="127.0.0.1", path="/")
        to_portal = rp.get("/login").headers["Location"]
        back = browser.get(to_portal, allow_redirects=False, timeout=10).headers["Location"]
        assert back.startswith("http://localhost/oidc/callback?code=")
        assert rp.get(back.removeprefix("http://localhost")).status_code == 302
        assert rp.get("/").get_data(as_text=True) == "p-sso as tax_officer of 9136**********DC1X"
        out = browser.get(rp.get("/logout").headers["Location"], allow_redirects=False, timeout=10)
        assert out.status_code == 302 and out.headers["Location"] == "http://localhost/"
        assert LoginSession.get_by_id(row.id).end_reason == "logout"
    finally:
        inst.stop()


def test_the_documented_relying_party_takes_a_back_channel_logout(svc, directory, db_url, tmp_path, monkeypatch):
    """docs/sso.md step 9 and "Back-channel logout" (issue 12): the page's relying party, served live and
    unchanged, verifies the portal's logout token against the portal's JWKS and forgets the session; a
    forged token is answered 400."""
    import threading
    from werkzeug.serving import make_server
    person, _, ident = person_and_identity(svc, directory)
    raw, row = portal_session(svc, person, ident)
    inst = Instance(service_env(db_url), tmp_path / "serve.log")
    server = None
    try:
        monkeypatch.setenv("RP_SESSION_KEY", "k" * 32)
        monkeypatch.setenv("PORTAL_ISSUER", inst.base)
        monkeypatch.setenv("PORTAL_CLIENT_SECRET", "set below")
        mod = load_rp(tmp_path)
        server = make_server("127.0.0.1", 0, mod.app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        bcl = f"http://127.0.0.1:{server.server_port}/oidc/backchannel-logout"
        _, secret = clients.create(svc, "declaration", redirect_uris=["http://localhost/oidc/callback"],
                                   post_logout_redirect_uris=["http://localhost/"], scopes=["openid", "identity"],
                                   first_party=True, backchannel_logout_uri=bcl)
        mod.oauth.portal.client_secret = secret
        rp = mod.app.test_client()
        browser = requests.Session()
        browser.cookies.set("authz_session", raw, domain="127.0.0.1", path="/")
        back = browser.get(rp.get("/login").headers["Location"], allow_redirects=False, timeout=10).headers["Location"]
        assert rp.get(back.removeprefix("http://localhost")).status_code == 302
        assert rp.get("/").get_data(as_text=True).startswith("p-sso as tax_officer")
        assert requests.post(bcl, data={"logout_token": "e30.e30.forged"}, timeout=10).status_code == 400
        sessions.end(svc, LoginSession.get_by_id(row.id), sessions.EndReason.LOGOUT)
        queued, out = backchannel.run(svc)  # what `authz events drain` does
        assert len(queued) == 1 and len(out.delivered) == 1, out.as_dict()
        assert mod.ENDED_SIDS == {row.handle}
        assert "使用统一身份认证登录" in rp.get("/").get_data(as_text=True)
    finally:
        if server is not None:
            server.shutdown()
        inst.stop()
