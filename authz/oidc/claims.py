"""Scopes and the claims each gives a relying party (issue 12, table in docs/sso.md).

* `sub`: the person's uid (stable for the person's life, never reassigned); for a client registered
  pairwise, HMAC-SHA256(client salt, uid) so two clients cannot join their users.
* `sid`: the portal session's public handle (a new one at every identity switch, which also ends every
  token of the old one).
* `acr`: the person's real-name level as `rn<level>` (R-RN); `amr`: the factors the login used
  (RFC 8176 values where one exists: pwd, sms, face, swk, mfa; `qr` for a QR login confirmed in an app).
* `identity` (scope `identity`): the session's current identity, entry, domain, identity type, and the
  enterprise's USCC masked (R-MASK-1) unless the client holds the scope `identity.uscc`; a personal
  domain is `person:self` (the uid would undo a pairwise `sub`).
"""
from __future__ import annotations

import hashlib
import hmac

from ..masking import mask_name, mask_uscc

SCOPES = {
    "openid": "sub, sid, auth_time, acr (real-name level), amr (login factors)",
    "profile": "name (masked, R-MASK-1)",
    "identity": "identity: entry, domain, identity_type, uscc (masked)",
    "identity.uscc": "identity with the full USCC (domain and uscc unmasked)",
}
ACR_VALUES = tuple(f"rn{n}" for n in range(1, 6))
AMR = {"password": "pwd", "sms": "sms", "taxapp": "face", "iitapp": "face", "face": "face",
       "certificate": "swk", "qr": "qr"}
CLAIMS = ("sub", "sid", "auth_time", "acr", "amr", "name", "identity", "nonce", "at_hash")


def sub(client, person) -> str:
    """The subject this client knows the person by."""
    if client.pairwise_salt:
        return "pw-" + hmac.new(client.pairwise_salt.encode(), person.uid.encode(), hashlib.sha256).hexdigest()[:40]
    return person.uid


def acr(person) -> str:
    return f"rn{int(person.realname_level)}"


def acr_level(value: str) -> int | None:
    """The level an acr value names (rn1..rn5), None for a value we do not know."""
    return int(value[2:]) if value in ACR_VALUES else None


def amr(session) -> list[str]:
    factors = [f for f in (session.factors or "").split(",") if f]
    out = list(dict.fromkeys(AMR.get(f, f) for f in factors))
    if len(out) >= 2:
        out.append("mfa")
    return out


def identity(session, scopes: set[str]) -> dict:
    domain = session.domain
    full = "identity.uscc" in scopes
    out = {"entry": session.entry, "identity_type": session.role}
    if domain.startswith("ent:"):
        uscc = domain[4:]
        out["uscc"] = uscc if full else mask_uscc(uscc)
        out["domain"] = domain if full else "ent:" + mask_uscc(uscc)
    else:  # the person's own business: their uid would undo a pairwise sub, so only "self"
        out["domain"] = "person:self"
    return out


def user_claims(client, person, session, scope: str) -> dict:
    """The claims of the ID token and userinfo for this scope (no iss/aud/exp: the caller adds them)."""
    scopes = set((scope or "").split())
    out = {"sub": sub(client, person), "sid": session.handle, "auth_time": int(session.login_at),
           "acr": acr(person), "amr": amr(session)}
    if "profile" in scopes:
        out["name"] = mask_name(person.name)
    if "identity" in scopes or "identity.uscc" in scopes:
        out["identity"] = identity(session, scopes)
    return out
