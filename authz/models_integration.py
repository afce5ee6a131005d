"""Tables of the integration port and the outbound event port (created by migration step 3).

* BindingConstraint: what the source of a binding says about it that the Binding row cannot hold —
  whether the person may refuse it (R-BIND-2: a finance officer cannot), whether the enterprise may
  withdraw it online (R-BIND-3: hall-added bindings cannot), and the source's own reference (report or
  filing id) that makes a resend idempotent. Every binding a source makes has a row; for the others
  (made in the account centre) the origin decides, see `flows.integration.binding_constraints`.
* OutboxEvent: the transactional outbox (R-BIND-15). An event is written in the same transaction as the
  change it describes and delivered later by `events.drain` through the configured adapter.
"""
from __future__ import annotations

import peewee as pw

from .models import Base, Binding, JSONField


class BindingConstraint(Base):
    """Source-given constraints on one binding (see module docstring)."""
    binding = pw.ForeignKeyField(Binding, unique=True, backref="constraints", on_delete="CASCADE")
    refusable = pw.BooleanField(default=True)  # False: the person must confirm and cannot refuse (R-BIND-2)
    withdrawable_online = pw.BooleanField(default=True)  # False: only a tax hall may withdraw it (R-BIND-3)
    source_ref = pw.CharField(max_length=64, default="")  # the source's report / filing id, "" if none
    created_at = pw.DoubleField()


class OutboxEvent(Base):
    """One outbound event, pending until an adapter has delivered it (at least once)."""
    id = pw.BigAutoField()
    event_id = pw.CharField(max_length=36, unique=True)  # receivers de-duplicate on this
    kind = pw.CharField(max_length=48)  # binding.changed | binding.sync | agreement.changed
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


TABLES = [BindingConstraint, OutboxEvent]


def create(db: pw.Database) -> None:
    """Migration step 3: create the tables above (safe if present)."""
    db.create_tables(TABLES, safe=True)
