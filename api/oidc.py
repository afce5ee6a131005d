"""The OpenID Connect provider's endpoints (issue 12, docs/sso.md): discovery, JWKS, authorize, token,
userinfo, introspection (RFC 7662), revocation (RFC 7009), RP-initiated logout, and the consent API the
web front end's consent page calls. Authlib's Flask AuthorizationServer does the protocol; the rules
live in authz/oidc/.

Browser rules (docs/login.md): `/oauth/authorize` and `/oauth/logout` are top-level GET navigations
(cross-site by nature), read the portal session cookie and never change state on the cookie alone
(authorize issues a code only to a registered redirect URI; logout needs an ID token we signed).
`/oauth/token`, `/oauth/introspect` and `/oauth/revoke` authenticate the *client* (secret or PKCE) and
never read a cookie, so api/browser.protect lets them through (browser.CLIENT_AUTHENTICATED)."""
from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from flask import current_app, jsonify, redirect, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from authz import sessions
from authz.errors import AuthzError
from authz.oidc import authorize, claims, grants, keys

from .browser import session_cookie
from .session import current_session, session_secured

blp = Blueprint("oidc", __name__, description="Single sign-on: the portal as an OpenID Connect provider "
                "(docs/sso.md). Token, introspection and revocation authenticate the client "
                "(client_secret_basic / client_secret_post, or PKCE for public clients), never a cookie.")
consent_blp = Blueprint("oidc-consent", __name__, url_prefix="/api/v1/oidc",
                        description="Consent for single sign-on: what the web front end's consent page fetches and posts")


def _svc():
    return current_app.extensions["authz"]


def _server() -> "Server":
    return current_app.extensions["oidc"]


def issuer() -> str:
    return _svc().settings.oidc_issuer.rstrip("/") or request.url_root.rstrip("/")


class Server(AuthorizationServer):
    """Authlib's Flask server with our grants, endpoints, token generator and storage."""

    def __init__(self, svc):
        super().__init__(query_client=grants.query_client,
                         save_token=lambda token, req: grants.save_token(svc, token, req, issuer()))
        self.svc = svc
        self.register_token_generator("default", grants.token_generator(svc))
        self.register_grant(grants.CodeGrant, [grants.PKCE(required=True), grants.OpenID()])
        self.register_grant(grants.RefreshGrant)
        self.register_endpoint(grants.Introspection)
        self.register_endpoint(grants.Revocation)

    def issuer(self) -> str:
        return issuer()


def register(app, api, svc) -> None:
    # Authlib logs whole tokens at DEBUG ("Issue token %r"): never below INFO here, whatever the root level
    # (no token, code or session id ever reaches a log; ENGINEERING.md security baseline)
    logging.getLogger("authlib").setLevel(max(logging.INFO, logging.getLogger("authlib").getEffectiveLevel()))
    app.extensions["oidc"] = Server(svc)
    protector = ResourceProtector()  # one per app: a validator holds its app's service
    protector.register_token_validator(grants.Bearer(svc))
    app.extensions["oidc_bearer"] = protector
    api.register_blueprint(blp)
    api.register_blueprint(consent_blp)


def _with_iss(resp):
    """RFC 9207: every authorization response to the client names the issuer (mix-up defence)."""
    loc = resp.headers.get("Location")
    if resp.status_code in (302, 303) and loc and "iss=" not in (urlsplit(loc).query or ""):
        p = urlsplit(loc)
        q = parse_qsl(p.query, keep_blank_values=True) + [("iss", issuer())]
        resp.headers["Location"] = urlunsplit(p._replace(query=urlencode(q)))
    return resp


def _live_session():
    """The browser's live portal session, or None (authorize and logout are navigations: no 401)."""
    try:
        return current_session()
    except AuthzError:
        return None


def _return_to(drop_prompt: str, *, fresh_login: bool = False) -> str:
    """This authorize request as the page should come back to it: `drop_prompt` removed from `prompt`
    (else the login or consent would be asked for again for ever). After a login it sends the person to,
    `max_age` is at least the login flow's life (AUTHZ_FLOW_TTL_MINUTES): the fresh session satisfies it,
    a session the page failed to renew (an old one) does not, and the ID token's auth_time tells the
    client exactly when the person logged in."""
    q = []
    for k, v in parse_qsl(request.query_string.decode(), keep_blank_values=True):
        if k == "prompt":
            v = " ".join(p for p in v.split() if p != drop_prompt)
            if not v:
                continue
        if k in ("max_age", "consent") and fresh_login:
            continue
        q.append((k, v))
    if fresh_login:
        try:
            asked = int(request.args.get("max_age") or 0)
        except ValueError:
            asked = 0
        q.append(("max_age", str(max(asked, _svc().settings.flow_ttl_minutes * 60))))
    return "/oauth/authorize?" + urlencode(q)


def _page(path: str, return_to: str):
    return redirect(f"{path}?{urlencode({'return_to': return_to})}", code=302)


def _error(grant, error: str, description: str):
    err = OAuth2Error(description=description, redirect_uri=grant.redirect_uri, state=grant.request.payload.state,
                      error=error)
    return _with_iss(_server().handle_error_response(None, err))


@blp.route("/.well-known/openid-configuration")
class Discovery(MethodView):
    def get(self):
        """OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414)."""
        base = issuer()
        return jsonify({
            "issuer": base, "authorization_endpoint": base + "/oauth/authorize",
            "token_endpoint": base + "/oauth/token", "userinfo_endpoint": base + "/oauth/userinfo",
            "jwks_uri": base + "/oauth/jwks", "introspection_endpoint": base + "/oauth/introspect",
            "revocation_endpoint": base + "/oauth/revoke", "end_session_endpoint": base + "/oauth/logout",
            "response_types_supported": ["code"], "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": list(keys.ALGS),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": grants.AUTH_METHODS,
            "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": grants.AUTH_METHODS,
            "scopes_supported": list(claims.SCOPES), "claims_supported": list(claims.CLAIMS),
            "acr_values_supported": list(claims.ACR_VALUES), "prompt_values_supported": ["none", "login", "consent"],
            "claims_parameter_supported": False, "request_parameter_supported": False,
            "authorization_response_iss_parameter_supported": True,
            "backchannel_logout_supported": True, "backchannel_logout_session_supported": True,
        })


@blp.route("/oauth/jwks")
class Jwks(MethodView):
    def get(self):
        """The public signing keys (JWK Set), including a rotated-in key before it signs."""
        resp = jsonify(keys.jwks(_svc()))
        resp.headers["Cache-Control"] = "public, max-age=300"
        return resp


@blp.route("/oauth/authorize")
class Authorize(MethodView):
    def get(self):
        """Authorization endpoint (code + PKCE S256): SSO with the portal session, else the login page."""
        svc, server = _svc(), _server()
        row = _live_session()
        subject = grants.Subject(row.person, row) if row else None
        try:
            grant = server.get_consent_grant(end_user=subject)
        except OAuth2Error as err:  # no valid client/redirect: an error page, never a redirect
            return _with_iss(server.handle_error_response(None, err))
        if request.args.get("consent") == "denied":
            return _error(grant, "access_denied", "the person declined")
        args = request.args
        d = authorize.decide(svc, grant.request.client.row, row, scope=grant.request.scope,
                             prompt=args.get("prompt", ""), max_age=args.get("max_age"),
                             acr_values=args.get("acr_values", ""))
        if d.error:
            return _error(grant, d.error, d.description)
        if d.next == authorize.Next.LOGIN:
            return _page(svc.settings.oidc_login_path, _return_to("login", fresh_login=True))
        if d.next == authorize.Next.CONSENT:
            return _page(svc.settings.oidc_consent_path, _return_to("consent"))
        return _with_iss(server.create_authorization_response(grant=grant, grant_user=subject))


class OAuthError(Schema):
    """An OAuth 2.0 error answer (RFC 6749 §5.2, RFC 6750 §3): not the service's {code, …} shape, because
    relying-party libraries read these fields."""
    error = fields.String(required=True, metadata={"description": "invalid_client, invalid_token, …"})
    error_description = fields.String()


CLIENT_401 = dict(schema=OAuthError, description="Client authentication failed (invalid_client)")
TOKEN_401 = dict(schema=OAuthError, description="No, an unknown or an inactive access token (invalid_token; "
                                                  "WWW-Authenticate: Bearer)")


@blp.route("/oauth/token", methods=["POST"])
class TokenEndpoint(MethodView):
    @blp.alt_response(401, **CLIENT_401)
    def post(self):
        """Token endpoint: authorization_code (+ code_verifier) and refresh_token grants (client-authenticated)."""
        return _server().create_token_response()


@blp.route("/oauth/introspect", methods=["POST"])
class Introspect(MethodView):
    @blp.alt_response(401, **CLIENT_401)
    def post(self):
        """Token introspection (RFC 7662): active only while the token's portal session is live."""
        return _server().create_endpoint_response(grants.Introspection.ENDPOINT_NAME)


@blp.route("/oauth/revoke", methods=["POST"])
class Revoke(MethodView):
    @blp.alt_response(401, **CLIENT_401)
    def post(self):
        """Token revocation (RFC 7009): a refresh token ends its whole grant."""
        return _server().create_endpoint_response(grants.Revocation.ENDPOINT_NAME)


@blp.route("/oauth/userinfo", methods=["GET", "POST"])
class UserInfo(MethodView):
    @blp.alt_response(401, **TOKEN_401)
    def post(self):
        """UserInfo by POST (OpenID Connect Core 5.3.1: GET and POST), the same answer."""
        return self.get()

    @blp.alt_response(401, **TOKEN_401)
    def get(self):
        """UserInfo: the claims of the access token's scope (Authorization: Bearer azat_…)."""
        try:
            tok = current_app.extensions["oidc_bearer"].acquire_token(["openid"])
        except OAuth2Error as err:
            return _bearer_error(err)
        user = tok.get_user()
        if user is None:  # the session ended between the check and now
            return _bearer_error(OAuth2Error(error="invalid_token", status_code=401))
        client = tok.get_client().row
        return jsonify(claims.user_claims(client, user.person, user.session, tok.row.scope))


def _bearer_error(err):
    status, body, headers = err()
    resp = jsonify(dict(body))
    resp.status_code = status
    for k, v in headers:
        resp.headers[k] = v
    return resp


@blp.route("/oauth/logout")
class Logout(MethodView):
    def get(self):
        """RP-initiated logout: ends the portal session the id_token_hint names; back to the registered URI."""
        svc = _svc()
        row = None
        raw = request.cookies.get(session_cookie())
        if raw:
            try:
                row = sessions.resolve(svc, raw, touch=False)
            except AuthzError:
                row = None
        target = authorize.logout(svc, request.args.get("id_token_hint"),
                                  request.args.get("post_logout_redirect_uri"), row)
        if target is None:
            resp = jsonify({"logged_out": True})
        else:
            state = request.args.get("state")
            resp = redirect(target + (("&" if urlsplit(target).query else "?") + urlencode({"state": state})
                                      if state else ""), code=302)
        if row is not None:
            from .session import clear_cookie
            clear_cookie(resp)
        return resp


class ConsentQuery(Schema):
    client_id = fields.String(required=True)
    scope = fields.String(required=True)


class ConsentScope(Schema):
    scope = fields.String()
    claims = fields.String()


class ConsentView(Schema):
    client_id = fields.String()
    name = fields.String()
    first_party = fields.Boolean()
    scopes = fields.List(fields.Nested(ConsentScope))
    granted = fields.Boolean()


@consent_blp.route("/consent")
class Consent(MethodView):
    @session_secured(consent_blp)
    @consent_blp.arguments(ConsentQuery, location="query")
    @consent_blp.response(200, ConsentView)
    def get(self, args):
        """What a relying party asks of the person: its name and each scope's claims (for the consent page)."""
        row = current_session()
        return authorize.consent_view(_svc(), row.person, args["client_id"], args["scope"])

    @session_secured(consent_blp)
    @consent_blp.arguments(ConsentQuery)
    @consent_blp.response(200, ConsentView)
    def post(self, body):
        """The person agrees; the page then navigates back to its return_to (the authorize URL)."""
        row = current_session()
        return authorize.grant_consent(_svc(), row.person.uid, row.person, body["client_id"], body["scope"])

