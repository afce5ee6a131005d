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


class ChangeLog(Base):
    """Monotonic feed of writes that other workers and instances must see (bindings, enterprises, policy)."""
    id = pw.BigAutoField()
    kind = pw.CharField(max_length=16)  # grant | domain | policy | session
    key = pw.CharField(max_length=160, default="")
    at = pw.DoubleField()
