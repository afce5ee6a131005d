"""The rule file in force (casbin_rule lines and the source text) and the change feed every worker
and instance follows."""
from __future__ import annotations

import peewee as pw

from .base import Base


class PolicyRule(Base):
    """The last good rule file, one row a line, written through the Casbin adapter (casbin_rule shape)."""
    ptype = pw.CharField(max_length=8)
    v0 = pw.CharField(max_length=200, default="")
    v1 = pw.CharField(max_length=200, default="")
    v2 = pw.CharField(max_length=200, default="")
    v3 = pw.CharField(max_length=200, default="")
    v4 = pw.CharField(max_length=200, default="")
    v5 = pw.CharField(max_length=200, default="")

    class Meta:
        table_name = "casbin_rule"
        indexes = ((("ptype", "v0", "v1", "v2", "v3", "v4", "v5"), True),)


class PolicyState(Base):
    """Which rule file is in force: its digest and source text (for diff against the running service)."""
    id = pw.IntegerField(primary_key=True)
    digest = pw.CharField(max_length=64)
    source = pw.TextField()
    loaded_at = pw.DoubleField()
    loaded_by = pw.CharField(max_length=64, default="")


class PolicyHistory(Base):
    """Every rule file ever put in force, newest last: who, when, what changed (issue 13; migration 9).
    `authz policy history` lists it, `authz policy rollback` puts an earlier source back in force."""
    id = pw.AutoField()
    digest = pw.CharField(max_length=64)
    source = pw.TextField()
    loaded_at = pw.DoubleField(index=True)
    loaded_by = pw.CharField(max_length=64, default="")
    added = pw.IntegerField(default=0)  # effective lines (p, p2, g2) added against the previous one
    removed = pw.IntegerField(default=0)
    note = pw.CharField(max_length=200, default="")  # e.g. "rollback to 1a2b3c…"


class ChangeLog(Base):
    """Monotonic feed of writes that other workers and instances must see (bindings, enterprises, policy)."""
    id = pw.BigAutoField()
    kind = pw.CharField(max_length=16)  # grant | domain | policy | session
    key = pw.CharField(max_length=160, default="")
    at = pw.DoubleField()
