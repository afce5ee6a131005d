"""The append-only audit log of every account-centre change and every reveal (R-LOG-2)."""
from __future__ import annotations

import peewee as pw

from .base import Base, JSONField


class AuditLog(Base):
    """Append-only record of every account-centre change and every reveal (R-LOG-2)."""
    id = pw.BigAutoField()
    at = pw.DoubleField(index=True)
    actor = pw.CharField(max_length=64)  # person uid or service:<name>
    identity = pw.CharField(max_length=32, default="")
    domain = pw.CharField(max_length=64, default="", index=True)
    action = pw.CharField(max_length=64)
    target = pw.CharField(max_length=160, default="")
    outcome = pw.CharField(max_length=16, default="ok")
    detail = JSONField(null=True)
    request_id = pw.CharField(max_length=64, default="")  # the API request that wrote it (authz.logs, migration 8)
