"""Authlib's server parts wired to the portal's storage and sessions (issue 12). No Flask: the API builds
Authlib's Flask AuthorizationServer, gives it `svc` and an `issuer()` function, and registers these.

The ONE place a code or token is refused because its portal session no longer stands behind it is
`subject` (and `token_live`, which adds the token's own expiry, revocation and family): the session row
the grant was approved in must still be live by the rules of `authz.sessions.check` (not ended by logout,
identity switch, password reset, deregistration or the timeouts; its identity still given by the
enforcer, so staff deletion ends it), and the person's password must be the one they had then. Every
path asks it: the code exchange, the refresh grant, introspection, userinfo and revocation's answer.

Access tokens are opaque (`azat_` + 256 random bits, stored as SHA-256): a resource server asks the
introspection endpoint, which applies `token_live` at that moment, so a logout, an identity switch or a
staff deletion takes effect at once; a self-contained JWT would stay acceptable until it expired.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, TokenMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import AuthorizationCodeMixin
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.util import create_half_hash

from .. import audit, sessions
from ..db import database
from ..errors import AuthzError
from ..models import AuthorizationCode, LoginSession, OidcClient, OidcToken, Person
from . import claims, clients, keys

ACCESS_PREFIX = "azat_"
REFRESH_PREFIX = "azrt_"
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def digest(raw: str) -> str:
    return hashlib.sha256((raw or "").encode()).hexdigest()


def password_stamp(person: Person) -> str:
    """A digest of the person's password hash: a grant made under one password dies with it. (A future
    rehash-on-login of unchanged passwords would end grants too: give it its own stamp column then.)"""
    return hashlib.sha256(b"authz-oidc-pw\x00" + (person.password_hash or "").encode()).hexdigest()


@dataclass(frozen=True)
class Subject:
    """The resource owner of a grant: the person and the live portal session that approved it."""
    person: Person
    session: LoginSession

    def get_user_id(self) -> str:
        return self.person.uid


def subject(svc, session_id: int, person_id: int, stamp: str) -> Subject | None:
    """The live subject behind a grant, or None: THE one decision (module docstring)."""
    row = LoginSession.get_or_none(LoginSession.id == session_id)
    if row is None or row.person_id != person_id:
        return None
    try:
        sessions.check(svc, row, touch=False)  # a relying party's call is not the person's activity
    except AuthzError:
        return None
    if password_stamp(row.person) != stamp:
        return None
    return Subject(row.person, row)


def token_live(svc, row: OidcToken, kind: str = "access") -> Subject | None:
    """The subject of a token if it may still be used as `kind` (access or refresh), else None."""
    now = svc.clock.time()
    if row.revoked_at is not None or OidcClient.get_by_id(row.client_id).deleted_at is not None:
        return None
    if kind == "access" and row.access_expires_at <= now:
        return None
    if kind == "refresh" and (row.refresh_hash is None or row.refreshed_at is not None
                              or (row.refresh_expires_at or 0) <= now):
        return None
    family = AuthorizationCode.get_or_none(AuthorizationCode.id == row.family_id)
    if family is None or family.replayed_at is not None:
        return None
    return subject(svc, row.session_id, row.person_id, row.password_stamp)


def revoke_family(svc, family_id: int) -> int:
    """Revoke every token descending from one authorization code (code replay, refresh-token reuse)."""
    return (OidcToken.update(revoked_at=svc.clock.time())
            .where((OidcToken.family == family_id) & OidcToken.revoked_at.is_null()).execute())


# ---- Authlib model adapters
class Client(ClientMixin):
    def __init__(self, row: OidcClient):
        self.row = row
        self.client_id = row.client_id

    def get_client_id(self):
        return self.row.client_id

    def get_default_redirect_uri(self):
        return None  # every authorization request names its redirect_uri, compared exactly

    def get_allowed_scope(self, scope):
        """The requested scope if every part of it is allowed to this client, else None (refused, never
        silently narrowed); `openid` is required."""
        asked = [s for s in (scope or "").split() if s]
        if "openid" not in asked or any(s not in self.row.scopes for s in asked):
            return None
        return " ".join(dict.fromkeys(asked))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.row.redirect_uris  # exact string match (RFC 9700 §4.1.3)

    def check_client_secret(self, client_secret):
        return clients.check_secret(self.row, client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        if self.row.kind == "public":
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


def query_client(client_id):
    row = clients.get(client_id)
    return Client(row) if row else None


class Code(AuthorizationCodeMixin):
    def __init__(self, row: AuthorizationCode):
        self.row = row

    def get_redirect_uri(self):
        return self.row.redirect_uri

    def get_scope(self):
        return self.row.scope

    def get_nonce(self):
        return self.row.nonce

    def get_auth_time(self):
        return int(self.row.session.login_at)

    def get_acr(self):
        return claims.acr(self.row.person)

    def get_amr(self):
        return claims.amr(self.row.session)


class Token(TokenMixin):
    """A stored token as Authlib sees it; expiry and revocation include the live-session rule."""

    def __init__(self, svc, row: OidcToken, kind: str):
        self.svc, self.row, self.kind = svc, row, kind

    def check_client(self, client):
        return client is not None and self.row.client_id == client.row.id

    def get_scope(self):
        return self.row.scope

    def get_expires_in(self):
        return int(self.row.access_expires_at - self.row.issued_at)

    def is_expired(self):
        now = self.svc.clock.time()
        end = self.row.access_expires_at if self.kind == "access" else (self.row.refresh_expires_at or 0)
        return end <= now

    def is_revoked(self):
        return token_live(self.svc, self.row, self.kind) is None

    def get_user(self):
        return token_live(self.svc, self.row, self.kind)

    def get_client(self):
        return Client(OidcClient.get_by_id(self.row.client_id))


def find_token(svc, raw: str | None, hint: str | None = None) -> Token | None:
    if not raw or not isinstance(raw, str) or len(raw) > 200:
        return None
    if raw.startswith(ACCESS_PREFIX) and hint != "refresh_token":
        row = OidcToken.get_or_none(OidcToken.access_hash == digest(raw))
        return Token(svc, row, "access") if row else None
    if raw.startswith(REFRESH_PREFIX) and hint != "access_token":
        row = OidcToken.get_or_none(OidcToken.refresh_hash == digest(raw))
        return Token(svc, row, "refresh") if row else None
    return None


def session_of_access_token(svc, raw: str) -> LoginSession:
    """The live portal session behind an access token, for the check API (issue 12: "the check
    endpoints accept an access token as well as a session id"); session_required for a token we never
    issued (a refresh token included), and for one that no longer stands (`token_live`) the session's
    own answer: identity_revoked when that is why its session ended, else session_expired."""
    tok = find_token(svc, raw, "access_token")
    if tok is None or tok.kind != "access":
        raise AuthzError("session_required")
    user = token_live(svc, tok.row, "access")
    if user is None:
        ended = LoginSession.get_by_id(tok.row.session_id)
        revoked = ended.end_reason == sessions.EndReason.IDENTITY_REVOKED.value and tok.row.revoked_at is None
        raise AuthzError(sessions.E_REVOKED if revoked else "session_expired")
    return user.session


def token_generator(svc):
    """Authlib's token generator: opaque bearer tokens (see the module docstring for why not JWTs)."""
    def generate(grant_type, client, user=None, scope=None, expires_in=None, include_refresh_token=True):
        out = {"token_type": "Bearer", "access_token": ACCESS_PREFIX + secrets.token_urlsafe(32),
               "expires_in": svc.settings.oidc_access_token_seconds, "scope": scope}
        if include_refresh_token:
            out["refresh_token"] = REFRESH_PREFIX + secrets.token_urlsafe(32)
        return out
    return generate


def save_token(svc, token: dict, request, issuer: str = "") -> None:
    """Store an issued token, bound to the session, password stamp and family of what it came from, with
    the issuer its ID token names (a back-channel logout token must carry the same `iss`)."""
    user: Subject = request.user
    if request.authorization_code is not None:
        family, stamp = request.authorization_code.row, request.authorization_code.row.password_stamp
    else:
        old = request.refresh_token.row
        family, stamp = old.family, old.password_stamp
    now = svc.clock.time()
    st = svc.settings
    refresh = token.get("refresh_token")
    OidcToken.create(access_hash=digest(token["access_token"]), refresh_hash=digest(refresh) if refresh else None,
                     client=request.client.row, session=user.session, person=user.person, password_stamp=stamp,
                     family=family, scope=token.get("scope") or "", issued_at=now, issuer=issuer,
                     access_expires_at=now + st.oidc_access_token_seconds,
                     refresh_expires_at=(user.session.login_at + st.session_absolute_hours * 3600) if refresh else None)


# ---- grants
class CodeGrant(AuthorizationCodeGrant):
    """Authorization code grant: codes single use (atomically), short-lived, bound to client, redirect
    URI, PKCE challenge, nonce and the approving session; a replayed code revokes its tokens."""
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code, request):
        svc = self.server.svc
        user: Subject = request.user
        now = svc.clock.time()
        data = request.payload.data
        AuthorizationCode.create(code_hash=digest(code), client=request.client.row, session=user.session,
                                 person=user.person, password_stamp=password_stamp(user.person),
                                 redirect_uri=request.payload.redirect_uri, scope=request.scope,
                                 nonce=data.get("nonce"), code_challenge=data.get("code_challenge"),
                                 code_challenge_method=data.get("code_challenge_method"), created_at=now,
                                 expires_at=now + svc.settings.oidc_code_seconds)
        audit.record(svc, actor=user.person.uid, identity=user.session.role, domain=user.session.domain,
                     action="oidc.authorize", target=f"oidc_client:{request.client.row.client_id}",
                     detail={"scope": request.scope})

    def query_authorization_code(self, code, client):
        """Consume the code (one conditional UPDATE: one winner however many requests race); a second use
        marks its family replayed and revokes every token it issued (RFC 6749 §4.1.2, RFC 9700 §4.5)."""
        svc = self.server.svc
        row = AuthorizationCode.get_or_none(AuthorizationCode.code_hash == digest(code or ""))
        if row is None or row.client_id != client.row.id:
            return None
        now = svc.clock.time()
        with database.atomic():
            won = (AuthorizationCode.update(used_at=now)
                   .where((AuthorizationCode.id == row.id) & AuthorizationCode.used_at.is_null()).execute()) == 1
            if not won:
                AuthorizationCode.update(replayed_at=now).where(AuthorizationCode.id == row.id).execute()
                revoked = revoke_family(svc, row.id)
                audit.record(svc, actor=f"oidc_client:{client.row.client_id}", action="oidc.code_replayed",
                             target=f"person:{row.person.uid}", outcome="refused", detail={"tokens_revoked": revoked})
                return None
        if row.expires_at <= now:
            return None
        return Code(row)

    def delete_authorization_code(self, authorization_code):
        pass  # consumed in query_authorization_code; the row stays so a replay is recognised

    def authenticate_user(self, authorization_code):
        r = authorization_code.row
        return subject(self.server.svc, r.session_id, r.person_id, r.password_stamp)


class RefreshGrant(RefreshTokenGrant):
    """Refresh tokens rotate on every use (RFC 9700 §4.14.2); a used one presented again revokes the
    family; each lives only while its portal session does (`token_live`)."""
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        svc = self.server.svc
        tok = find_token(svc, refresh_token, "refresh_token")
        client = self.request.client
        if tok is None or not tok.check_client(client):
            return None
        row = tok.row
        with database.atomic():
            won = (OidcToken.update(refreshed_at=svc.clock.time())
                   .where((OidcToken.id == row.id) & OidcToken.refreshed_at.is_null()
                          & OidcToken.revoked_at.is_null()).execute()) == 1
            if not won:
                if row.refreshed_at is not None or OidcToken.get_by_id(row.id).refreshed_at is not None:
                    revoked = revoke_family(svc, row.family_id)  # reuse of a rotated refresh token
                    audit.record(svc, actor=f"oidc_client:{client.row.client_id}", action="oidc.refresh_reused",
                                 target=f"person:{row.person.uid}", outcome="refused",
                                 detail={"tokens_revoked": revoked})
                return None
        row.refreshed_at = None  # judged as it was when presented
        return tok if token_live(svc, row, "refresh") else None

    def authenticate_user(self, refresh_token):
        r = refresh_token.row
        return subject(self.server.svc, r.session_id, r.person_id, r.password_stamp)

    def revoke_old_credential(self, refresh_token):
        pass  # consumed in authenticate_refresh_token; its access token runs out by itself


class PKCE(CodeChallenge):
    """PKCE with S256, required of every client (RFC 9700 §2.1.1, RFC 7636)."""
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge with code_challenge_method=S256",
                                      redirect_uri=redirect_uri)
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256", redirect_uri=redirect_uri)
        return super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code):
        return authorization_code.row.code_challenge

    def get_authorization_code_challenge_method(self, authorization_code):
        return authorization_code.row.code_challenge_method


class OpenID(OpenIDCode):
    """OpenID Connect on the code grant: the ID token, signed by the current key (authz.oidc.keys)."""

    def __init__(self):
        super().__init__(require_nonce=False)

    def exists_nonce(self, nonce, request):
        return (AuthorizationCode.select().where((AuthorizationCode.client == request.client.row)
                                                 & (AuthorizationCode.nonce == nonce)).exists())

    def encode_id_token(self, token, request):
        server = request_server(request)
        svc = server.svc
        now = int(svc.clock.time())
        client = request.client.row
        user: Subject = request.user
        out = {"iss": server.issuer(), "aud": client.client_id, "azp": client.client_id, "iat": now,
               "exp": now + svc.settings.oidc_id_token_seconds}
        out.update(claims.user_claims(client, user.person, user.session, token["scope"]))
        if request.authorization_code is not None and request.authorization_code.get_nonce():
            out["nonce"] = request.authorization_code.get_nonce()
        at_hash = create_half_hash(token["access_token"], keys.signing_alg(svc))
        if at_hash is not None:
            out["at_hash"] = at_hash.decode()
        return keys.sign(svc, out)

    def process_token(self, grant, response):
        grant.request.oidc_server = grant.server
        return super().process_token(grant, response)


def request_server(request):
    return request.oidc_server


class Introspection(IntrospectionEndpoint):
    """RFC 7662: a confidential client introspects its own tokens; the answer applies `token_live` now."""
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string, token_type_hint):
        return find_token(self.server.svc, token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return token.check_client(client)

    def create_introspection_payload(self, token):
        if token is None:
            return {"active": False}
        user = token_live(self.server.svc, token.row, token.kind)
        if user is None:
            return {"active": False}
        return self.introspect_token(token, user)

    def introspect_token(self, token, user=None):
        row = token.row
        client = OidcClient.get_by_id(row.client_id)
        exp = row.access_expires_at if token.kind == "access" else row.refresh_expires_at
        return {"active": True, "client_id": client.client_id, "token_type": "Bearer" if token.kind == "access"
                else "refresh_token", "scope": row.scope, "sub": claims.sub(client, user.person),
                "sid": user.session.handle, "iat": int(row.issued_at), "exp": int(exp),
                "iss": self.server.issuer(), "aud": client.client_id, "acr": claims.acr(user.person)}


class Revocation(RevocationEndpoint):
    """RFC 7009: a refresh token's revocation ends its whole grant; an access token's, that token."""
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        return find_token(self.server.svc, token_string, token_type_hint)

    def revoke_token(self, token, request):
        svc = self.server.svc
        if token.kind == "refresh":
            revoke_family(svc, token.row.family_id)
        else:
            OidcToken.update(revoked_at=svc.clock.time()).where(OidcToken.id == token.row.id).execute()


class Bearer(BearerTokenValidator):
    """Access tokens at the userinfo endpoint (RFC 6750)."""

    def __init__(self, svc):
        super().__init__()
        self.svc = svc

    def authenticate_token(self, token_string):
        tok = find_token(self.svc, token_string, "access_token")
        return tok if tok and tok.kind == "access" else None
