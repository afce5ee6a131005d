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


def parse_secrets(raw: str) -> dict[str, str]:
    """'taxapp:s1,iitapp:s2' -> {'taxapp': 's1', 'iitapp': 's2'}."""
    out = {}
    for part in (raw or "").split(","):
        name, _, secret = part.strip().partition(":")
        if name and secret:
            out[name] = secret
    return out


class CallbackVerifier:
    """Production adapter: authenticates an app's callback by its per-app HMAC secret."""

    def __init__(self, secrets: dict[str, str], max_skew: float = 300):
        self.secrets = secrets
        self.max_skew = max_skew

    @staticmethod
    def signature(secret: str, timestamp: str, body: bytes) -> str:
        return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()

    def verify(self, app: str, body: bytes, timestamp: str | None, signature: str | None, now: float) -> None:
        if app not in APPS:
            raise AuthzError(E_APP_UNKNOWN)
        secret = self.secrets.get(app)
        try:
            fresh = abs(now - float(timestamp or "x")) <= self.max_skew
        except ValueError:
            fresh = False
        expected = self.signature(secret or "no-secret-configured", timestamp or "", body)
        if not (secret and fresh and hmac.compare_digest(expected, signature or "")):
            raise AuthzError(E_APP_SIGNATURE)
