"""Service clients that call the check API (R-AUTHZ-3): keys are shown once and stored as hashes.

A key looks like `azk_<key id>_<secret>`. The key id finds the row; the secret is compared with a
SHA-256 digest in constant time. Secrets carry 256 bits, so a fast hash is the right tool here (a slow
password hash would only slow every check call)."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from .errors import AuthzError
from .models import ServiceClient

NAME_RE = re.compile(r"^[a-z][a-z0-9_\-]{1,63}$")
KEY_RE = re.compile(r"^azk_([a-z0-9]{12})_([A-Za-z0-9_\-]{43})$")
_DUMMY = hashlib.sha256(b"dummy").hexdigest()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(name: str, scopes: str = "check") -> tuple[ServiceClient, str]:
    """Register a client; returns the row and the one-time visible key."""
    if not NAME_RE.match(name or ""):
        raise AuthzError("validation_failed", errors={"name": ["lower-case letters, digits, _ or -, 2-64 long"]})
    if ServiceClient.get_or_none(ServiceClient.name == name):
        raise AuthzError("client_exists")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ServiceClient.create(name=name, key_id=key_id, key_hash=_digest(secret), scopes=scopes,
                               created_at=time.time())
    return row, f"azk_{key_id}_{secret}"


def authenticate(key: str | None) -> ServiceClient:
    """The active client owning `key`, or raise unauthenticated (same work whether or not the id exists)."""
    m = KEY_RE.match(key or "")
    row = ServiceClient.get_or_none((ServiceClient.key_id == m.group(1)) & (ServiceClient.active == True)) \
        if m else None  # noqa: E712
    expected = row.key_hash if row else _DUMMY
    given = _digest(m.group(2)) if m else _digest("")
    if not hmac.compare_digest(expected, given) or row is None:
        raise AuthzError("unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="authz"'})
    return row


def revoke(name: str) -> bool:
    return ServiceClient.update(active=False).where(ServiceClient.name == name).execute() > 0
