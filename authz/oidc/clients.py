"""Relying parties (the tax application systems) registered with the provider (issue 12).

* Confidential clients authenticate at the token, introspection and revocation endpoints with a secret
  (`client_secret_basic` or `_post`); only its SHA-256 is stored (256 random bits: a fast hash is right,
  as for service keys in authz/clients.py). Public clients (apps, single-page sites) have no secret.
* Every client must use PKCE with S256 (RFC 9700 §2.1.1: required for public clients, and we ask it of
  confidential ones too, so one code path serves both); `plain` is not offered.
* Redirect URIs and post-logout redirect URIs are compared exactly, character for character
  (RFC 9700 §2.1, §4.1.3): no wildcard, no prefix, no added query. They must be https, except
  http://127.0.0.1 / localhost for development; no fragment.
* `first_party` clients skip the consent screen; `pairwise` gives the client its own `sub` per person.
* `backchannel_logout_uri` (OpenID Connect Back-Channel Logout 1.0): where the provider POSTs a signed
  logout token when a portal session behind the client's tokens ends (authz.oidc.backchannel); the same
  rules as a redirect URI (https, loopback http for development, no fragment)."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from ..errors import AuthzError, code
from ..models import OidcClient
from . import claims

KINDS = ("confidential", "public")
CLIENT_ID_RE = re.compile(r"^[a-z][a-z0-9_\-]{1,63}$")
E_UNKNOWN = code("oidc_client_unknown")
E_REDIRECT = code("oidc_redirect_uri_invalid")
E_SCOPE = code("oidc_scope_unknown")
_DUMMY = hashlib.sha256(b"dummy").hexdigest()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def valid_redirect_uri(uri: str) -> bool:
    """An absolute https URL without fragment (http only on a loopback host, for development)."""
    try:
        p = urlsplit(uri)
    except ValueError:
        return False
    if p.fragment or "#" in uri or not p.netloc or any(c.isspace() for c in uri) or len(uri) > 500:
        return False
    if p.scheme == "https":
        return True
    return p.scheme == "http" and p.hostname in ("127.0.0.1", "localhost", "::1")


def _check(redirect_uris, post_logout, scopes) -> tuple[list[str], list[str], list[str]]:
    redirect_uris, post_logout = list(dict.fromkeys(redirect_uris)), list(dict.fromkeys(post_logout or ()))
    if not redirect_uris or not all(valid_redirect_uri(u) for u in redirect_uris + post_logout):
        raise AuthzError(E_REDIRECT)
    scopes = list(dict.fromkeys(["openid", *scopes]))
    if any(s not in claims.SCOPES for s in scopes):
        raise AuthzError(E_SCOPE, errors={"scope": [s for s in scopes if s not in claims.SCOPES]})
    return redirect_uris, post_logout, scopes


def _backchannel(uri: str | None) -> str | None:
    if not uri:
        return None
    if not valid_redirect_uri(uri):
        raise AuthzError(E_REDIRECT, errors={"backchannel_logout_uri": [uri]})
    return uri


def create(svc, client_id: str, *, name: str = "", kind: str = "confidential", redirect_uris=(),
           post_logout_redirect_uris=(), scopes=("openid",), first_party: bool = False,
           pairwise: bool = False, backchannel_logout_uri: str | None = None) -> tuple[OidcClient, str | None]:
    """Register a client; returns the row and, for a confidential client, its one-time visible secret."""
    if not CLIENT_ID_RE.fullmatch(client_id or ""):
        raise AuthzError("validation_failed", errors={"client_id": ["lower-case letters, digits, _ or -, 2-64 long"]})
    if kind not in KINDS:
        raise AuthzError("validation_failed", errors={"kind": list(KINDS)})
    redirect_uris, post_logout, scopes = _check(redirect_uris, post_logout_redirect_uris, scopes)
    backchannel = _backchannel(backchannel_logout_uri)
    if OidcClient.get_or_none(OidcClient.client_id == client_id):
        raise AuthzError("client_exists")
    secret = secrets.token_urlsafe(32) if kind == "confidential" else None
    row = OidcClient.create(client_id=client_id, name=name or client_id, kind=kind,
                            secret_hash=_digest(secret) if secret else None, redirect_uris=redirect_uris,
                            post_logout_redirect_uris=post_logout, scopes=scopes, first_party=first_party,
                            pairwise_salt=secrets.token_hex(32) if pairwise else None,
                            backchannel_logout_uri=backchannel, created_at=svc.clock.time())
    return row, secret


_UNSET = object()


def update(svc, client_id: str, *, name: str | None = None, backchannel_logout_uri=_UNSET) -> OidcClient:
    """Change what an operator may change without re-registering: the display name, and the back-channel
    logout URI ("" or None removes it: the client then gets no logout tokens). Returns the new row."""
    row = require(client_id)
    changes = {}
    if name is not None:
        changes["name"] = name or row.client_id
    if backchannel_logout_uri is not _UNSET:
        changes["backchannel_logout_uri"] = _backchannel(backchannel_logout_uri)
    if changes:
        OidcClient.update(**changes).where(OidcClient.id == row.id).execute()
    return OidcClient.get_by_id(row.id)


def get(client_id: str | None) -> OidcClient | None:
    """The active client of that id, or None."""
    if not client_id or not isinstance(client_id, str) or len(client_id) > 64:
        return None
    return OidcClient.get_or_none((OidcClient.client_id == client_id) & OidcClient.deleted_at.is_null())


def require(client_id: str) -> OidcClient:
    row = get(client_id)
    if row is None:
        raise AuthzError(E_UNKNOWN)
    return row


def check_secret(row: OidcClient, secret: str | None) -> bool:
    """Constant-time comparison of a presented secret with the stored digest (public clients: never)."""
    expected = row.secret_hash or _DUMMY
    ok = hmac.compare_digest(_digest(secret or ""), expected)
    return ok and row.kind == "confidential" and row.secret_hash is not None


def rotate_secret(svc, client_id: str) -> str:
    """A new secret for a confidential client; the old one stops working at once."""
    row = require(client_id)
    if row.kind != "confidential":
        raise AuthzError("validation_failed", errors={"kind": ["a public client has no secret"]})
    secret = secrets.token_urlsafe(32)
    OidcClient.update(secret_hash=_digest(secret)).where(OidcClient.id == row.id).execute()
    return secret


def delete(svc, client_id: str) -> int:
    """Remove a client: its codes and tokens stop working at once (the row stays, marked deleted, so an
    id is never reused by another system); returns the tokens revoked."""
    from ..models import OidcToken
    row = require(client_id)
    now = svc.clock.time()
    OidcClient.update(deleted_at=now, secret_hash=None).where(OidcClient.id == row.id).execute()
    return (OidcToken.update(revoked_at=now)
            .where((OidcToken.client == row.id) & OidcToken.revoked_at.is_null()).execute())
