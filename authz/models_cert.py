"""Tables of the tax digital certificates (R-LOGIN-9, R-CERT-1): one row per certificate an enterprise
holds, filed through the integration port. The certificate password is stored as an argon2 hash only."""
from __future__ import annotations

import peewee as pw

from .models import Base, Enterprise, Person

KINDS = ("sm", "rsa")  # sm: 国密 (SM2, stood in for by ECDSA P-256 here); rsa: non-SM
STATUSES = ("active", "revoked")


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


TABLES = [TaxCertificate]


def create(db: pw.Database) -> None:
    """Migration step 5: create the tables above (safe if present)."""
    db.create_tables(TABLES, safe=True)
