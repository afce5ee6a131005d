"""Calling services (keys as hashes only, R-AUTHZ-3) and the transactional outbox of outbound events
(R-BIND-15: written in the same transaction as the change, delivered by `events.drain`)."""
from __future__ import annotations

import peewee as pw

from .base import Base, JSONField


class ServiceClient(Base):
    """A calling service; its key is stored only as a hash (R-AUTHZ-3)."""
    name = pw.CharField(max_length=64, unique=True)
    key_id = pw.CharField(max_length=16, unique=True)
    key_hash = pw.CharField(max_length=128)
    scopes = pw.CharField(max_length=200, default="check")
    active = pw.BooleanField(default=True)
    created_at = pw.DoubleField()
    last_used_at = pw.DoubleField(null=True)


class OutboxEvent(Base):
    """One outbound event, pending until an adapter has delivered it (at least once)."""
    id = pw.BigAutoField()
    event_id = pw.CharField(max_length=36, unique=True)  # receivers de-duplicate on this
    kind = pw.CharField(max_length=48)  # binding.changed | binding.sync | agreement.changed | oidc.backchannel_logout
    subject = pw.CharField(max_length=160, default="")  # what it is about: binding:<id>, agreement:<number>
    payload = JSONField()
    created_at = pw.DoubleField()
    status = pw.CharField(max_length=16, default="pending")  # pending | delivered | dead
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DoubleField()
    last_error = pw.CharField(max_length=300, default="")
    delivered_at = pw.DoubleField(null=True)

    class Meta:
        indexes = ((("status", "next_attempt_at"), False), (("subject", "kind", "status"), False))
