"""The authorisation aggregate: who holds which identity type in an enterprise. Bindings (written only
by `authz.bindings`) with the constraints their source gave (BindingConstraint: whether the person may
refuse, R-BIND-2; whether the enterprise may withdraw online, R-BIND-3; the source reference that makes a
resend idempotent), and agency agreements with their named agents (R-AGT-1)."""
from __future__ import annotations

import peewee as pw

from .base import Base, JSONField
from .enterprise import Enterprise
from .person import Person


class Binding(Base):
    """A person's identity type in an enterprise, with its function set and validity end."""
    # No single-column indexes on the two keys: (person, domain, state) and (enterprise, state) lead with
    # them, and every extra index is one more random page written by each binding change (migration 6).
    person = pw.ForeignKeyField(Person, backref="bindings", on_delete="CASCADE", index=False)
    enterprise = pw.ForeignKeyField(Enterprise, backref="bindings", on_delete="CASCADE", index=False)
    domain = pw.CharField(max_length=64)  # denormalised ent:<uscc>, the enforcer's lookup key
    role = pw.CharField(max_length=32)
    functions = JSONField(null=True)  # list of business functions; null: every function the role's ceiling allows
    valid_until = pw.DateField(null=True)  # inclusive last day (Asia/Shanghai); null: long-term
    state = pw.CharField(max_length=16)  # pending | active | refused | withdrawn | deleted | ended
    enabled = pw.BooleanField(default=True)
    origin = pw.CharField(max_length=16)  # registration | tax_report | core_tax | enterprise | application | hall
    sub_identity = pw.BooleanField(default=False)
    assist_code = pw.BooleanField(default=False)
    assist_functions = JSONField(null=True)
    initiated_by = pw.CharField(max_length=16, default="enterprise")  # enterprise | person | integration | hall
    hidden_for_person = pw.BooleanField(default=False)
    hidden_for_enterprise = pw.BooleanField(default=False)
    version = pw.IntegerField(default=1)  # optimistic concurrency
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()
    decided_at = pw.DoubleField(null=True)

    class Meta:
        indexes = (
            (("person", "domain", "state"), False),
            (("enterprise", "state"), False),
        )


class BindingConstraint(Base):
    """Source-given constraints on one binding (see module docstring)."""
    binding = pw.ForeignKeyField(Binding, unique=True, backref="constraints", on_delete="CASCADE")
    refusable = pw.BooleanField(default=True)  # False: the person must confirm and cannot refuse (R-BIND-2)
    withdrawable_online = pw.BooleanField(default=True)  # False: only a tax hall may withdraw it (R-BIND-3)
    source_ref = pw.CharField(max_length=64, default="")  # the source's report / filing id, "" if none
    created_at = pw.DoubleField()


class Agreement(Base):
    """An agency agreement filed through the integration port (R-AGT-1)."""
    number = pw.CharField(max_length=64, unique=True)
    agency = pw.ForeignKeyField(Enterprise, backref="agreements_as_agency", on_delete="CASCADE")
    client = pw.ForeignKeyField(Enterprise, backref="agreements_as_client", on_delete="CASCADE")
    client_domain = pw.CharField(max_length=64, index=True)
    start = pw.DateField()
    end = pw.DateField()
    status = pw.CharField(max_length=16, default="active")  # active | ended | suspended
    permissions = JSONField()  # list of business functions the agents may use for the client
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()


class AgreementAgent(Base):
    """An agent person named in an agreement."""
    agreement = pw.ForeignKeyField(Agreement, backref="agents", on_delete="CASCADE")
    person = pw.ForeignKeyField(Person, backref="agent_agreements", on_delete="CASCADE")
    client_domain = pw.CharField(max_length=64)

    class Meta:
        indexes = ((("agreement", "person"), True), (("person", "client_domain"), False))
