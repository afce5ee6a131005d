"""The OpenID Connect provider aggregate (issue 12): relying-party clients, signing keys, consents,
authorization codes and tokens. Secrets, codes and tokens are stored as SHA-256 digests only; a signing
key's private half is stored (it must be, to sign) but never printed, logged or served."""
from __future__ import annotations

import peewee as pw

from .base import Base, JSONField
from .person import Person
from .session import LoginSession


class OidcClient(Base):
    """A relying party (a tax application system). `secret_hash` only for confidential clients."""
    client_id = pw.CharField(max_length=64, unique=True)
    name = pw.CharField(max_length=100)
    kind = pw.CharField(max_length=16)  # confidential | public
    secret_hash = pw.CharField(max_length=64, null=True)
    redirect_uris = JSONField()  # compared exactly (RFC 9700 §2.1, §4.1.3)
    post_logout_redirect_uris = JSONField(default=list)
    scopes = JSONField()  # what this client may ever be granted
    first_party = pw.BooleanField(default=False)  # no consent screen
    pairwise_salt = pw.CharField(max_length=64, null=True)  # set: `sub` is pairwise for this client
    backchannel_logout_uri = pw.CharField(max_length=500, null=True)  # set: logout tokens are POSTed here
    created_at = pw.DoubleField()
    deleted_at = pw.DoubleField(null=True)


class SigningKey(Base):
    """A JWS signing key. Published in JWKS while not retired; signs from `signs_from` until a newer key
    signs; retired (`retire_at`) once every token it signed has expired."""
    kid = pw.CharField(max_length=64, unique=True)
    alg = pw.CharField(max_length=8)  # ES256 | RS256
    private_jwk = pw.TextField()  # never logged or served
    public_jwk = JSONField()
    created_at = pw.DoubleField()
    signs_from = pw.DoubleField()
    retire_at = pw.DoubleField(null=True)

    def __repr__(self) -> str:  # never the private half
        return f"<SigningKey {self.kid} {self.alg}>"


class OidcConsent(Base):
    """What a person agreed that a non-first-party client may receive."""
    person = pw.ForeignKeyField(Person, on_delete="CASCADE")
    client = pw.ForeignKeyField(OidcClient, on_delete="CASCADE")
    scopes = JSONField()
    granted_at = pw.DoubleField()

    class Meta:
        indexes = ((("person", "client"), True),)


class AuthorizationCode(Base):
    """An authorization code: single use, short-lived, bound to client, redirect URI, PKCE challenge,
    nonce and the portal session that approved it."""
    code_hash = pw.CharField(max_length=64, unique=True)
    client = pw.ForeignKeyField(OidcClient, on_delete="CASCADE")
    session = pw.ForeignKeyField(LoginSession, on_delete="CASCADE")
    person = pw.ForeignKeyField(Person, on_delete="CASCADE")
    password_stamp = pw.CharField(max_length=64)
    redirect_uri = pw.TextField()
    scope = pw.TextField()
    nonce = pw.CharField(max_length=255, null=True)
    code_challenge = pw.CharField(max_length=128)
    code_challenge_method = pw.CharField(max_length=8)
    created_at = pw.DoubleField()
    expires_at = pw.DoubleField()
    used_at = pw.DoubleField(null=True)
    replayed_at = pw.DoubleField(null=True)  # presented again after use: every token it issued is dead

    class Meta:
        indexes = ((("client", "nonce"), False),)  # the nonce-replay check (OpenIDCode.exists_nonce)


class OidcToken(Base):
    """One issued access token (opaque) and its refresh token. `family` is the authorization code every
    token of one grant descends from: a replayed code or refresh token revokes the whole family."""
    access_hash = pw.CharField(max_length=64, unique=True)
    refresh_hash = pw.CharField(max_length=64, unique=True, null=True)
    client = pw.ForeignKeyField(OidcClient, on_delete="CASCADE")
    session = pw.ForeignKeyField(LoginSession, on_delete="CASCADE")
    person = pw.ForeignKeyField(Person, on_delete="CASCADE")
    password_stamp = pw.CharField(max_length=64)
    family = pw.ForeignKeyField(AuthorizationCode, on_delete="CASCADE")
    scope = pw.TextField()
    issued_at = pw.DoubleField()
    access_expires_at = pw.DoubleField()
    refresh_expires_at = pw.DoubleField(null=True)
    revoked_at = pw.DoubleField(null=True)
    refreshed_at = pw.DoubleField(null=True)  # its refresh token was used (rotated away)
    issuer = pw.CharField(max_length=300, default="")  # the `iss` its ID token carried (the logout token's too)
    logout_queued_at = pw.DoubleField(null=True)  # its grant ended and a back-channel logout token was queued

    class Meta:
        indexes = ((("session",), False), (("family",), False))
