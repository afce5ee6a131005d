"""The person aggregate: a natural person, their identity documents and phones, and the hall
registration codes issued to them (R-REG, R-PHONE-1, R-DOC)."""
from __future__ import annotations

import peewee as pw

from .base import Base


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


class HallRegistrationCode(Base):
    """A registration code issued at a tax hall (R-REG-7): 6 letters/digits, valid 7 days, single use."""
    person = pw.ForeignKeyField(Person, on_delete="CASCADE")
    code_digest = pw.CharField(max_length=64, index=True)
    attempts = pw.IntegerField(default=0)  # wrong codes tried for this person while it lived
    issued_by = pw.CharField(max_length=64, default="")
    created_at = pw.DoubleField()
    expires_at = pw.DoubleField()
    used_at = pw.DoubleField(null=True)
