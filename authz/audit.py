"""Append-only audit log (R-LOG-2): actor, identity, domain, action, target, time, outcome.
Never pass a password, code or session id in `detail`."""
from __future__ import annotations

from .logs import REQUEST_ID
from .models import AuditLog

FORBIDDEN_KEYS = {"password", "code", "session", "session_id", "token", "secret", "key"}


def record(svc, *, actor: str, action: str, target: str = "", identity: str = "", domain: str = "",
           outcome: str = "ok", detail: dict | None = None) -> AuditLog:
    """Write one audit row."""
    if detail and FORBIDDEN_KEYS & {k.lower() for k in detail}:
        raise ValueError("secrets must never reach the audit log")
    return AuditLog.create(at=svc.clock.time(), actor=actor, identity=identity, domain=domain, action=action,
                           target=target, outcome=outcome, detail=detail, request_id=REQUEST_ID.get())
