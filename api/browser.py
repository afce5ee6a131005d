"""Browser protection, in one place (issue 10 finding 5): cookie names, the same-origin check, the CSRF token,
and the browser binding that login flows are held by.

* Cookies: the session cookie and the browser-binding cookie are `__Host-` prefixed when cookies are
  Secure (production), so no sibling host can plant or overwrite them; HttpOnly, SameSite=Lax, Path=/.
* Same origin: every unsafe request (POST, PUT, PATCH, DELETE) that names a foreign origin is refused,
  whatever it carries: an `Origin` header must be the service's own origin (or one of AUTHZ_WEB_ORIGINS);
  without Origin, a `Sec-Fetch-Site` other than same-origin / none is refused. Apps and services send
  neither, and pass.
* CSRF token: an unsafe request authenticated by our cookies (it carries the session or browser cookie
  and no Authorization header) must also send `X-CSRF-Token`, the token `GET /api/v1/auth/csrf` answers.
  The token is derived from the browser cookie (HttpOnly, so a page of another site can neither read the
  cookie nor the same-origin answer that carries the token).
* Exceptions: exactly the OAuth endpoints that authenticate the client and never read a cookie
  (`CLIENT_AUTHENTICATED`: token, introspection, revocation; issue 12, docs/login.md) skip the two checks
  above; their callers are tax systems' back ends.
* Browser binding: the browser cookie is what authz.flows.base.HOLDER holds for the request; a login flow
  started by a browser is bound to it, so a flow's session is delivered only to the browser that started
  it (login CSRF). A browser without the cookie gets one from /auth/csrf or when it starts a login.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlsplit

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from authz.errors import AuthzError
from authz.flows import base as flows

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# OAuth endpoints called server to server that authenticate the client (secret or PKCE verifier) and never
# read a cookie: neither the origin check nor the CSRF token applies (issue 12, api/oidc.py). Exact paths.
CLIENT_AUTHENTICATED = frozenset({"/oauth/token", "/oauth/introspect", "/oauth/revoke"})
TOKEN_HEADER = "X-CSRF-Token"
HOLDER_DAYS = 400  # browsers cap cookie lifetimes at about this


def _svc():
    from flask import current_app
    return current_app.extensions["authz"]


_SESSION_COOKIE = {True: "__Host-authz_session", False: "authz_session"}  # by AUTHZ_COOKIE_SECURE
_BROWSER_COOKIE = {True: "__Host-authz_browser", False: "authz_browser"}


def session_cookie() -> str:
    return _SESSION_COOKIE[_svc().settings.cookie_secure]


def browser_cookie() -> str:
    return _BROWSER_COOKIE[_svc().settings.cookie_secure]


def token_for(holder: str) -> str:
    """The CSRF token of a browser: a digest of its binding cookie (which only that browser holds)."""
    digest = hashlib.sha256(b"authz-csrf\x00" + holder.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _origin_allowed(origin: str) -> bool:
    st = _svc().settings
    if origin in {o.strip().rstrip("/") for o in st.web_origins.split(",") if o.strip()}:
        return True
    parts = urlsplit(origin)
    schemes = ("https",) if st.cookie_secure else ("https", "http")
    return parts.scheme in schemes and parts.netloc == request.host and not parts.path


def _refuse(reason: str):
    raise AuthzError("csrf_failed", errors={"request": [reason]})


def protect() -> None:
    """A before_request hook: sets the request's flow holder, then refuses cross-site unsafe requests."""
    req, ctx = request._get_current_object(), g._get_current_object()  # (once: each proxy access costs)
    secure = _svc().settings.cookie_secure
    cookies = req.cookies
    holder = cookies.get(_BROWSER_COOKIE[secure])
    ctx.flow_holder = flows.Holder(holder)
    ctx.flow_holder_token = flows.HOLDER.set(ctx.flow_holder)
    if req.method in SAFE_METHODS or req.path in CLIENT_AUTHENTICATED:
        return
    headers = req.headers
    origin = headers.get("Origin")
    if origin is not None:
        if not _origin_allowed(origin.rstrip("/")):
            _refuse("the request comes from another site (Origin)")
    elif headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        _refuse("the request comes from another site (Sec-Fetch-Site)")
    if "Authorization" in headers:
        return  # a bearer caller (app, service): no ambient credential a foreign page could use
    if not holder and not cookies.get(_SESSION_COOKIE[secure]):
        return  # no cookie of ours: nothing a forged request could ride on
    sent = request.headers.get(TOKEN_HEADER, "")
    if not flows.Holder.valid(holder) or not hmac.compare_digest(sent.encode(), token_for(holder).encode()):
        _refuse(f"missing or wrong {TOKEN_HEADER}: GET /api/v1/auth/csrf and send its token")


def finish(resp):
    """An after_request hook: hand a newly minted browser binding to the browser."""
    holder = g.pop("flow_holder", None)
    if holder is not None and holder.issued:
        set_browser_cookie(resp, holder.value)
    return resp


def teardown() -> None:
    token = g.pop("flow_holder_token", None)
    if token is not None:
        flows.HOLDER.reset(token)


def set_browser_cookie(resp, value: str) -> None:
    resp.set_cookie(browser_cookie(), value, httponly=True, secure=_svc().settings.cookie_secure,
                    samesite="Lax", path="/", max_age=HOLDER_DAYS * 86400)


blp = Blueprint("csrf", __name__, url_prefix="/api/v1/auth",
                description="The browser's CSRF token (send it as X-CSRF-Token on every unsafe request)")


class CsrfView(Schema):
    token = fields.String(metadata={"description": "Send as the X-CSRF-Token header"})
    header = fields.String(metadata={"example": TOKEN_HEADER})


@blp.route("/csrf")
class Csrf(MethodView):
    @blp.response(200, CsrfView)
    def get(self):
        """The CSRF token of this browser; sets the browser-binding cookie if the browser has none."""
        holder = g.flow_holder.ensure()
        return {"token": token_for(holder), "header": TOKEN_HEADER}
