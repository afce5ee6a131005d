"""The enterprise aggregate: a taxpayer from the registration data (its Casbin domain ent:<uscc>),
its tax digital certificates (R-LOGIN-9, R-CERT-1; the certificate password only as an argon2 hash) and
its cross-region projects (R-LOGIN-4)."""
from __future__ import annotations

import peewee as pw

from .base import Base
from .person import Person

CERT_KINDS = ("sm", "rsa")  # sm: 国密 (SM2, stood in for by ECDSA P-256 here); rsa: non-SM
CERT_STATUSES = ("active", "revoked")


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


class TaxCertificate(Base):
    """A tax digital certificate of an enterprise; `holder` is informational (the login still names the
    person by account + personal password)."""
    enterprise = pw.ForeignKeyField(Enterprise, backref="certificates", on_delete="CASCADE")
    serial = pw.CharField(max_length=64, unique=True)
    kind = pw.CharField(max_length=8)  # sm | rsa
    subject = pw.CharField(max_length=300)
    holder = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    public_key = pw.TextField()  # PEM (SubjectPublicKeyInfo)
    valid_from = pw.DateField()  # inclusive first day (Asia/Shanghai)
    valid_to = pw.DateField()  # inclusive last day (Asia/Shanghai)
    password_hash = pw.CharField(max_length=200)
    status = pw.CharField(max_length=16, default="active")  # active | revoked
    created_at = pw.DoubleField()
    updated_at = pw.DoubleField()


class CrossRegionProject(Base):
    """An inspection project (跨区域报验) or tax-source registration (跨区税源登记) of an enterprise
    outside its home region, with its handler (the sub-identity tax officer named on it) (R-LOGIN-4)."""
    management_no = pw.CharField(max_length=40, unique=True)
    kind = pw.CharField(max_length=16)  # inspection | tax_source
    enterprise = pw.ForeignKeyField(Enterprise, backref="projects", on_delete="CASCADE")
    name = pw.CharField(max_length=200, default="")
    region = pw.CharField(max_length=40, default="")
    handler = pw.ForeignKeyField(Person, null=True, on_delete="SET NULL")
    status = pw.CharField(max_length=16, default="active")
    created_at = pw.DoubleField()
