"""Service clients that call the check API (R-AUTHZ-3): keys are shown once and stored as hashes.

A key looks like `azk_<key id>_<secret>`. The key id finds the row; the secret is compared with a
SHA-256 digest in constant time. Secrets carry 256 bits, so a fast hash is the right tool here (a slow
password hash would only slow every check call).

Every check call authenticates, so each process keeps the rows of active clients it has seen
(`KEYS`, a few hundred bytes each) instead of querying for them per request: a revocation drops the
row here at once and, through a `client` change (authz.changes), in every other worker and instance;
entries are also re-read after `CACHE_SECONDS` so a missed change cannot keep a revoked key alive."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass

from . import changes
from .db import database
from .errors import AuthzError
from .models import ServiceClient

NAME_RE = re.compile(r"^[a-z][a-z0-9_\-]{1,63}$")
# Every scope a key can hold, with what it opens; the API's `authenticate_service(scope)` accepts only these.
SCOPES = {
    "check": "check API",
    "policy": "policy read/reload",
    "integration": "integration API: data from the external sources, certificate filing",
    "hall": "tax-hall operations",
    "helpdesk": "helpdesk: find a person (masked), lockout and unlock, sessions, bindings, log search",
    "helpdesk_export": "helpdesk bulk export of the audit and login logs (CSV / JSON lines)",
}
KEY_RE = re.compile(r"^azk_([a-z0-9]{12})_([A-Za-z0-9_\-]{43})$")
_DUMMY = hashlib.sha256(b"dummy").hexdigest()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(name: str, scopes: str = "check") -> tuple[ServiceClient, str]:
    """Register a client; returns the row and the one-time visible key."""
    if not NAME_RE.fullmatch(name or ""):
        raise AuthzError("validation_failed", errors={"name": ["lower-case letters, digits, _ or -, 2-64 long"]})
    if ServiceClient.get_or_none(ServiceClient.name == name):
        raise AuthzError("client_exists")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ServiceClient.create(name=name, key_id=key_id, key_hash=_digest(secret), scopes=scopes,
                               created_at=time.time())
    return row, f"azk_{key_id}_{secret}"


CACHE_SECONDS = 30.0  # the longest a revocation can take to bite if its change were lost
USED_EVERY = 60.0  # last_used_at is written at most this often per client and process


@dataclass(frozen=True)
class Caller:
    """An authenticated service client, as a request sees it."""
    id: int
    name: str
    key_id: str
    key_hash: str
    scopes: str  # comma-separated, as stored

    def has(self, scope: str) -> bool:
        return scope in self.scopes.split(",")


class KeyCache:
    """key id -> Caller of an active client, re-read after `ttl` seconds; unknown ids are not cached
    (a key created elsewhere works at once)."""

    def __init__(self, ttl: float = CACHE_SECONDS):
        self.ttl = ttl
        self._rows: dict[str, tuple[float, Caller]] = {}
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def get(self, key_id: str) -> Caller | None:
        now = time.monotonic()
        hit = self._rows.get(key_id)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        row = ServiceClient.get_or_none((ServiceClient.key_id == key_id) & (ServiceClient.active == True))  # noqa: E712
        if row is None:
            self.forget(key_id)
            return None
        caller = Caller(row.id, row.name, row.key_id, row.key_hash, row.scopes)
        with self._lock:
            self._rows[key_id] = (now, caller)
            due = now - self._used.get(key_id, -USED_EVERY) >= USED_EVERY
            if due:
                self._used[key_id] = now
        if due:
            ServiceClient.update(last_used_at=time.time()).where(ServiceClient.id == row.id).execute()
        return caller

    def forget(self, key_id: str | None = None) -> None:
        """Drop one key id (or all) so the next call reads the database."""
        with self._lock:
            if key_id is None:
                self._rows.clear()
            else:
                self._rows.pop(key_id, None)

    def on_change(self, kind: str, key: str) -> None:
        """ChangeFeed listener: a client was revoked somewhere."""
        if kind == "client":
            self.forget(key or None)


KEYS = KeyCache()


def authenticate(key: str | None) -> Caller:
    """The active client owning `key`, or raise unauthenticated (same work whether or not the id exists)."""
    m = KEY_RE.fullmatch(key or "")
    caller = KEYS.get(m.group(1)) if m else None
    expected = caller.key_hash if caller else _DUMMY
    given = _digest(m.group(2)) if m else _digest("")
    if not hmac.compare_digest(expected, given) or caller is None:
        raise AuthzError("unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="authz"'})
    return caller


def revoke(name: str) -> bool:
    """Deactivate a client's key here and, through the change feed, in every worker and instance."""
    with database.atomic():
        row = ServiceClient.get_or_none((ServiceClient.name == name) & (ServiceClient.active == True))  # noqa: E712
        if row is None:
            return ServiceClient.get_or_none(ServiceClient.name == name) is not None
        ServiceClient.update(active=False).where(ServiceClient.id == row.id).execute()
        changes.record("client", row.key_id)
    KEYS.forget(row.key_id)
    return True


def delete(name: str) -> None:
    """Remove a client row altogether (the demo's key rotation), telling every process to forget it."""
    with database.atomic():
        key_ids = [r.key_id for r in ServiceClient.select(ServiceClient.key_id).where(ServiceClient.name == name)]
        for key_id in key_ids:
            changes.record("client", key_id)
        ServiceClient.delete().where(ServiceClient.name == name).execute()
    for key_id in key_ids:
        KEYS.forget(key_id)
