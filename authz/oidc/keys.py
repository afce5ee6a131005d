"""Signing keys for ID tokens, kept in the database so every worker and instance signs and publishes
the same set (issue 12).

Rotation (`rotate`): the new key is published in JWKS at once but signs only from
`now + AUTHZ_OIDC_KEY_LEAD_SECONDS`, so relying parties that cache the JWKS have it before they meet a
token signed with it; each older key keeps being published until `AUTHZ_OIDC_ID_TOKEN_SECONDS` after the
new one starts signing (every token it signed has expired by then), then it is retired. The private
half never leaves this module except to sign; nothing prints, logs or serves it."""
from __future__ import annotations

import json
import secrets

from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from ..errors import AuthzError, code
from ..models import SigningKey

ALGS = ("ES256", "RS256")
E_ALG = code("oidc_key_alg")


def _generate(alg: str):
    params = {"alg": alg, "use": "sig", "kid": secrets.token_urlsafe(12)}
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=params, private=True)
    return RSAKey.generate_key(2048, parameters=params, private=True)


def published(svc) -> list[SigningKey]:
    """Keys relying parties may verify with now: every key not yet retired (including one that will
    sign soon), newest first."""
    now = svc.clock.time()
    return list(SigningKey.select().where(SigningKey.retire_at.is_null() | (SigningKey.retire_at > now))
                .order_by(SigningKey.signs_from.desc(), SigningKey.id.desc()))


def signing(svc) -> SigningKey:
    """The key that signs now: the newest whose signing time has come (a first key is made on demand)."""
    now = svc.clock.time()
    row = (SigningKey.select().where((SigningKey.signs_from <= now)
                                     & (SigningKey.retire_at.is_null() | (SigningKey.retire_at > now)))
           .order_by(SigningKey.signs_from.desc(), SigningKey.id.desc()).first())
    return row or add(svc, "ES256", lead_seconds=0)


def add(svc, alg: str = "ES256", *, lead_seconds: int | None = None) -> SigningKey:
    """A new key, published now, signing after the lead; older keys retire once its first tokens could
    have replaced theirs (`AUTHZ_OIDC_ID_TOKEN_SECONDS` after it starts signing)."""
    if alg not in ALGS:
        raise AuthzError(E_ALG)
    now = svc.clock.time()
    lead = svc.settings.oidc_key_lead_seconds if lead_seconds is None else max(0, lead_seconds)
    key = _generate(alg)
    row = SigningKey.create(kid=key.kid, alg=alg, private_jwk=json.dumps(key.as_dict(private=True)),
                            public_jwk=key.as_dict(private=False), created_at=now, signs_from=now + lead)
    retire = row.signs_from + svc.settings.oidc_id_token_seconds
    (SigningKey.update(retire_at=retire)
     .where((SigningKey.id != row.id) & (SigningKey.retire_at.is_null() | (SigningKey.retire_at > retire)))
     .execute())
    return row


rotate = add


def jwks(svc) -> dict:
    """The public JWK Set (RFC 7517) served at /oauth/jwks (a first key is made if there is none)."""
    signing(svc)
    return {"keys": [dict(k.public_jwk) for k in published(svc)]}


def sign(svc, claims: dict, typ: str = "JWT") -> str:
    """A JWS compact JWT of `claims`, signed by the current signing key (its kid in the header); `typ`
    names the token's kind where a spec asks for explicit typing (a logout token is `logout+jwt`)."""
    row = signing(svc)
    key = (ECKey if row.alg == "ES256" else RSAKey).import_key(json.loads(row.private_jwk))
    return jwt.encode({"alg": row.alg, "kid": row.kid, "typ": typ}, claims, key, algorithms=[row.alg])


def verify(svc, token: str, typ: str = "JWT") -> dict | None:
    """The claims of a JWT of kind `typ` this provider signed with a published key (signature only; the
    caller checks exp/aud as it needs), or None. A logout token (`logout+jwt`) is never an ID token."""
    try:
        keyset = KeySet.import_key_set(jwks(svc))
        token = jwt.decode(token, keyset, algorithms=list(ALGS))
    except Exception:  # noqa: BLE001 - any malformed or foreign token is simply not ours
        return None
    return dict(token.claims) if token.header.get("typ", "JWT") == typ else None


def signing_alg(svc) -> str:
    return signing(svc).alg
