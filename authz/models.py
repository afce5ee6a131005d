"""Storage schema (peewee). Times are UTC epoch seconds (float) unless a field says date."""
from __future__ import annotations

import json

import peewee as pw

from .db import database


class JSONField(pw.TextField):
    """JSON stored as text (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class Base(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(Base):
    """Applied migrations."""
    version = pw.IntegerField(primary_key=True)
    name = pw.CharField()
    applied_at = pw.DoubleField()


class Person(Base):
    """A natural person (one account per real person)."""
    uid = pw.CharField(unique=True, max_length=48)
    name = pw.CharField(max_length=100)
    gender = pw.CharField(max_length=8, default="")
    nationality = pw.CharField(max_length=8, default="CHN")
    overseas = pw.BooleanField(default=False)
    realname_level = pw.SmallIntegerField(default=3)
    username = pw.CharField(max_length=20, null=True, unique=True)
    username_changed_at = pw.DoubleField(null=True)
    email = pw.CharField(max_length=254, default="")
    address = pw.CharField(max_length=300, default="")
    password_hash = pw.CharField(max_length=200, null=True)
    must_change_password = pw.BooleanField(default=False)
    agreement_signed_at = pw.DoubleField(null=True)
    registered = pw.BooleanField(default=False)  # has an online account (registered or stock with a password)
    collected_offline = pw.BooleanField(default=False)  # real-name data collected at a tax hall
    collected_phone = pw.CharField(max_length=20, default="")
    status = pw.CharField(max_length=16, default="active")  # active | deregistered
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()


class Document(Base):
    """An identity document of a person; (type, number) identifies at most one person."""
    person = pw.ForeignKeyField(Person, backref="documents", on_delete="CASCADE")
    doc_type = pw.CharField(max_length=32)
    doc_number = pw.CharField(max_length=40)
    valid_from = pw.DateField(null=True)
    valid_to = pw.DateField(null=True)  # null with long_term
    long_term = pw.BooleanField(default=False)
    primary = pw.BooleanField(default=False)
    created_at = pw.DoubleField()

    class Meta:
        indexes = ((("doc_type", "doc_number"), True),)


class Phone(Base):
    """A phone number; one number belongs to at most one person (R-PHONE-1)."""
    person = pw.ForeignKeyField(Person, backref="phones", on_delete="CASCADE")
    number = pw.CharField(max_length=20, unique=True)
    is_default = pw.BooleanField(default=False)
    created_at = pw.DoubleField()


class Enterprise(Base):
    """A taxpayer from the tax registration data; its Casbin domain is ent:<uscc>."""
    uscc = pw.CharField(max_length=20, unique=True)
    name = pw.CharField(max_length=200)
    kind = pw.CharField(max_length=16, default="ordinary")  # ordinary | agency | nonresident
    province = pw.CharField(max_length=8, default="")
    tax_authority = pw.CharField(max_length=200, default="")
    realname_status = pw.CharField(max_length=16, default="verified")
    nonresident_code = pw.CharField(max_length=20, null=True, unique=True)
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()


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


class ServiceClient(Base):
    """A calling service; its key is stored only as a hash (R-AUTHZ-3)."""
    name = pw.CharField(max_length=64, unique=True)
    key_id = pw.CharField(max_length=16, unique=True)
    key_hash = pw.CharField(max_length=128)
    scopes = pw.CharField(max_length=200, default="check")
    active = pw.BooleanField(default=True)
    created_at = pw.DoubleField()
    last_used_at = pw.DoubleField(null=True)


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


ALL_MODELS = [
    SchemaVersion, Person, Document, Phone, Enterprise, Binding, Agreement, AgreementAgent,
    ServiceClient, PolicyRule, PolicyState, ChangeLog, AuditLog,
]
