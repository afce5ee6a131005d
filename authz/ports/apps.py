"""Tax app and IIT app port: how a scan (face verification or QR-login confirmation) reaches us.

Development: the simulator (`authz dev scan TICKET --as PERSON [--app taxapp|iitapp]`) calls the same
`factors.app_scan.confirm` as production. Production: the app's back end POSTs a signed callback to
/api/v1/apps/<app>/callback; `CallbackVerifier` checks `X-Authz-Timestamp` and `X-Authz-Signature`
(hex HMAC-SHA256 over "<timestamp>.<raw body>" with the app's own secret from app_callback_secrets)."""
from __future__ import annotations

import hashlib
import hmac

from ..errors import AuthzError, code

APPS = ("taxapp", "iitapp")
E_APP_SIGNATURE = code("app_signature_invalid")
E_APP_UNKNOWN = code("app_unknown")


def parse_secrets(raw: str) -> dict[str, tuple[str, ...]]:
    """'taxapp:s1,iitapp:s2,taxapp:s0' -> {'taxapp': ('s1', 's0'), 'iitapp': ('s2',)}: an app may have two
    secrets while its back end switches from the old to the new one (docs/operations.md, key rotation)."""
    out: dict[str, tuple[str, ...]] = {}
    for part in (raw or "").split(","):
        name, _, secret = part.strip().partition(":")
        if name and secret:
            out[name] = out.get(name, ()) + (secret,)
    return out


class CallbackVerifier:
    """Production adapter: authenticates an app's callback by its per-app HMAC secret (any of its
    configured secrets, so a secret can be rotated without refusing callbacks in between)."""

    def __init__(self, secrets: dict[str, tuple[str, ...] | str], max_skew: float = 300):
        self.secrets = {app: (v,) if isinstance(v, str) else tuple(v) for app, v in secrets.items()}
        self.max_skew = max_skew

    @staticmethod
    def signature(secret: str, timestamp: str, body: bytes) -> str:
        return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()

    def verify(self, app: str, body: bytes, timestamp: str | None, signature: str | None, now: float) -> None:
        if app not in APPS:
            raise AuthzError(E_APP_UNKNOWN)
        secrets = self.secrets.get(app) or ()
        try:
            fresh = abs(now - float(timestamp or "x")) <= self.max_skew
        except ValueError:
            fresh = False
        # every configured secret is tried (no early exit), so the time says nothing about which matched
        matches = [hmac.compare_digest(self.signature(s, timestamp or "", body), signature or "")
                   for s in secrets or ("no-secret-configured",)]
        if not (secrets and fresh and any(matches)):
            raise AuthzError(E_APP_SIGNATURE)
