"""Shared pieces of the OpenID Connect tests (issue 12): a person with an enterprise identity, a portal
session made directly (login itself is tested elsewhere), registered clients, and a relying party's
side of code + PKCE: the authorize URL, the code from the redirect, the ID token checked the way a
client checks it (signature against JWKS, iss, aud, exp, nonce, at_hash: Authlib's CodeIDToken)."""
from __future__ import annotations

import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.jwk import KeySet

from authz import sessions
from authz.oidc import clients as oidc_clients
from authz.sessions import Identity
from authz.vocab import Entry
from tests.login_support import make_person, rid

USCC = "91360100MA35OIDC1X"
REDIRECT = "https://decl.example.cn/callback"
LOGOUT_BACK = "https://decl.example.cn/bye"


def person_and_identity(svc, directory, uid="p-sso"):
    ent = directory.upsert_enterprise(USCC, "单点登录测试有限公司", "ordinary")
    person = make_person(svc, directory, "王五", rid("36010219850505005"), uid=uid, phones=["13900000005"])
    binding = directory.bind(person, ent, "tax_officer", state="active", origin="hall")
    return person, binding, Identity(Entry.ENTERPRISE, f"ent:{USCC}", "tax_officer", binding_id=binding.id)


def portal_session(svc, person, ident, factors=("password", "sms")):
    """A live portal session as a completed login leaves it: (raw id for the cookie, row)."""
    return sessions.create(svc, person, ident, factors=factors)


def register(svc, client_id="decl", *, public=False, scopes=("openid", "profile", "identity"), first_party=True,
             pairwise=False, redirect=REDIRECT, backchannel_logout_uri=None):
    row, secret = oidc_clients.create(svc, client_id, name="电子申报系统", kind="public" if public else "confidential",
                                      redirect_uris=[redirect], post_logout_redirect_uris=[LOGOUT_BACK],
                                      scopes=scopes, first_party=first_party, pairwise=pairwise,
                                      backchannel_logout_uri=backchannel_logout_uri)
    return row, secret


class RP:
    """One authorization request of a relying party: state, nonce, PKCE verifier, and its URL."""

    def __init__(self, client_id="decl", scope="openid profile identity", redirect_uri=REDIRECT, **extra):
        self.client_id, self.scope, self.redirect_uri = client_id, scope, redirect_uri
        self.state, self.nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        self.verifier = secrets.token_urlsafe(48)
        self.extra = extra

    def url(self, base="", **override) -> str:
        q = {"response_type": "code", "client_id": self.client_id, "redirect_uri": self.redirect_uri,
             "scope": self.scope, "state": self.state, "nonce": self.nonce,
             "code_challenge": create_s256_code_challenge(self.verifier), "code_challenge_method": "S256",
             **self.extra, **override}
        return f"{base}/oauth/authorize?" + urlencode({k: v for k, v in q.items() if v is not None})

    def code_from(self, location: str) -> str:
        """The code of a redirect back to us (asserting state and RFC 9207 iss)."""
        assert location.startswith(self.redirect_uri + "?"), location
        q = parse_qs(urlsplit(location).query)
        assert q["state"] == [self.state]
        assert "iss" in q, "RFC 9207: the authorization response names the issuer"
        return q["code"][0]

    def token_form(self, code: str, verifier: str | None = None) -> dict:
        return {"grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": verifier or self.verifier}


def verify_id_token(id_token: str, jwks: dict, *, issuer: str, client_id: str, nonce: str, access_token: str,
                    now: float | None = None) -> dict:
    """What a relying party does with the ID token: signature against the provider's JWKS, then iss,
    aud, exp, nonce and at_hash (Authlib's CodeIDToken, the client side of OpenID Connect Core 3.1.3.7)."""
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=["ES256", "RS256"])
    claims = CodeIDToken(token.claims, token.header, options={"iss": {"value": issuer}, "aud": {"value": client_id}},
                         params={"nonce": nonce, "access_token": access_token})
    claims.validate(now=int(now) if now is not None else None)
    return dict(token.claims) | {"_kid": token.header.get("kid")}


def error_of(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"


def verify_logout_token(token: str, jwks: dict, *, issuer: str, client_id: str, now) -> dict:
    """What a relying party does with a logout token (OpenID Connect Back-Channel Logout 1.0 §2.6):
    signature against the provider's JWKS, explicit type logout+jwt, iss, aud, iat, exp, jti, the
    back-channel logout event, a sid or sub, and no nonce. Raises on any failure; returns the claims."""
    tok = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256", "RS256"])
    if tok.header.get("typ") != "logout+jwt":
        raise ValueError(f"typ {tok.header.get('typ')!r} is not logout+jwt")
    jwt.JWTClaimsRegistry(now=lambda: int(now()), iss={"essential": True, "value": issuer},
                          aud={"essential": True, "value": client_id}, iat={"essential": True},
                          exp={"essential": True}, jti={"essential": True}).validate(tok.claims)
    events = tok.claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise ValueError("no back-channel logout event")
    if not (tok.claims.get("sid") or tok.claims.get("sub")):
        raise ValueError("neither sid nor sub")
    if "nonce" in tok.claims:
        raise ValueError("a logout token must not carry a nonce")
    return dict(tok.claims)


class LogoutReceiver:
    """A relying party's back-channel logout endpoint, live on 127.0.0.1 (werkzeug, its own thread). Each
    POST's `logout_token` is verified (`verify_logout_token`, with the JWKS the relying party cached and
    the test's clock); it answers the next `plan` status if one is left (a receiver that is down), else
    200 for a valid token and 400 for an invalid one, as §2.8 asks."""

    def __init__(self, *, jwks: dict, issuer: str, client_id: str, now, plan=()):
        from werkzeug.serving import make_server
        self.jwks, self.issuer, self.client_id, self.now = jwks, issuer, client_id, now
        self.plan = list(plan)
        self.received: list[str] = []
        self.verified: list[dict] = []
        self.rejected: list[str] = []
        self._jti: set[str] = set()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.uri = f"http://127.0.0.1:{self.server.server_port}/oidc/backchannel-logout"
        import threading
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _app(self, environ, start_response):
        from werkzeug.wrappers import Request, Response
        req = Request(environ)
        token = req.form.get("logout_token", "")
        self.received.append(token)
        if self.plan:
            resp = Response("", status=self.plan.pop(0))
        elif req.method != "POST" or not req.mimetype == "application/x-www-form-urlencoded":
            resp = Response("", status=400)
        else:
            try:
                claims = verify_logout_token(token, self.jwks, issuer=self.issuer, client_id=self.client_id,
                                             now=self.now)
                if claims["jti"] in self._jti:
                    raise ValueError("replayed jti")
                self._jti.add(claims["jti"])
                self.verified.append(claims)
                resp = Response("", status=200, headers={"Cache-Control": "no-store"})
            except Exception as exc:  # noqa: BLE001 - any failure is the relying party's 400
                self.rejected.append(f"{type(exc).__name__}: {exc}")
                resp = Response("", status=400)
        return resp(environ, start_response)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
