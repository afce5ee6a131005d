"""Session handling for the account centre and the login API: the `authz_session` cookie for browsers,
`Authorization: Bearer azs_...` for apps; client IP behind trusted proxies only."""
from __future__ import annotations

from flask import current_app, g, request

from authz import actor, sessions

from .browser import session_cookie

COOKIE = sessions.COOKIE_NAME  # as named in the OpenAPI document; `__Host-` prefixed when cookies are Secure


def svc():
    return current_app.extensions["authz"]


def client_ip() -> str:
    """The caller's address; X-Forwarded-For is believed only for `trusted_proxies` hops."""
    hops = svc().settings.trusted_proxies
    if hops > 0:
        chain = [p.strip() for p in request.headers.get("X-Forwarded-For", "").split(",") if p.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return request.remote_addr or ""


def session_id() -> str | None:
    """The session id the request carries (bearer first, then cookie)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip().startswith(sessions.SESSION_PREFIX):
        return token.strip()
    return request.cookies.get(session_cookie())


def current_session():
    """The live session of this request (resolved once per request), or 401."""
    if "authz_session" not in g:
        g.authz_session = sessions.resolve(svc(), session_id())
    return g.authz_session


def require(obj: str, act: str):
    """The current session, if its identity and entry may do (obj, act) (R-AUTHZ-1, authz.actor), else 403."""
    row = current_session()
    actor.require(svc(), actor.of_session(row), obj, act)
    return row


def set_cookie(resp, raw: str) -> None:
    st = svc().settings
    resp.set_cookie(session_cookie(), raw, httponly=True, secure=st.cookie_secure, samesite="Lax", path="/",
                    max_age=st.session_absolute_hours * 3600)


def clear_cookie(resp) -> None:
    st = svc().settings
    resp.delete_cookie(session_cookie(), path="/", secure=st.cookie_secure, httponly=True, samesite="Lax")


# OpenAPI: account-centre routes accept the browser cookie or the app's bearer session id.
SESSION_SCHEMES = {
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": COOKIE,
                      "description": "Browser session (HttpOnly cookie set at login; named __Host-authz_session "
                                     "when AUTHZ_COOKIE_SECURE, the production default). Unsafe methods also need "
                                     "the X-CSRF-Token header (GET /api/v1/auth/csrf)"},
    "sessionBearer": {"type": "http", "scheme": "bearer", "description": "App session id azs_… from login"},
}
SESSION_SECURED = {"security": [{"sessionCookie": []}, {"sessionBearer": []}]}
NO_SESSION = "No live session: session_required, session_expired or identity_revoked (log in again)"


def session_secured(blp, description: str = NO_SESSION):
    """Decorate a route that needs the login session: declares the session security schemes and
    documents the 401 it answers without a live session (tests/api/test_openapi_security.py holds it)."""
    def wrap(fn):
        fn = blp.alt_response(401, response="DEFAULT_ERROR", description=description)(fn)
        return blp.doc(**SESSION_SECURED)(fn)
    return wrap


def issue_session(out: dict, raw: str | None, row) -> dict:
    """Hand a new session id to the client: in the body for apps, as the cookie for browsers
    (nothing to hand when `raw` is None: the flow has not ended yet)."""
    from flask import after_this_request
    if not raw:
        return out
    out["identity"] = {"entry": row.entry, "domain": row.domain, "identity_type": row.role}
    if row.client == "app":
        out["session"] = raw
    else:
        @after_this_request
        def _cookie(resp):
            set_cookie(resp, raw)
            return resp
    return out
