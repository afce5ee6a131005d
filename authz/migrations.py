"""Schema migrations. Upgrading never drops or rewrites data: each step only creates tables, adds
columns or indexes, or drops an index that another index makes redundant (no data lives in an index),
and is recorded in schema_version inside the same transaction.

Convention for later steps: a step that adds a field to a model uses `add_column` below, which skips a
column that already exists (a database created fresh by step 1 already has every current column)."""
from __future__ import annotations

import time
from typing import Callable

import peewee as pw
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from . import models
from .db import database

Step = tuple[int, str, Callable[[pw.Database], None]]


def add_column(db: pw.Database, model: type[pw.Model], field_name: str) -> None:
    """Add model.field_name to its table unless the column is already there."""
    table = model._meta.table_name
    field = model._meta.fields[field_name]
    if field.column_name in {c.name for c in db.get_columns(table)}:
        return
    migrator = PostgresqlMigrator(db) if isinstance(db, pw.PostgresqlDatabase) else SqliteMigrator(db)
    migrate(migrator.add_column(table, field.column_name, field))


def create_tables(*names: str) -> Callable[[pw.Database], None]:
    """A step that creates the named models' tables (safe if present)."""
    def step(db: pw.Database) -> None:
        db.create_tables([getattr(models, n) for n in names], safe=True)
    return step


def _binding_live_unique(db: pw.Database) -> None:
    """At most one pending-or-active binding per (person, enterprise, identity type): the database backs
    the flows' check, so two concurrent adds or applications cannot both land (R-BIND-4, R-BIND-7)."""
    db.execute_sql("CREATE UNIQUE INDEX IF NOT EXISTS binding_live_uniq ON binding (person_id, enterprise_id, role) "
                   "WHERE state IN ('pending', 'active')")


def _drop_redundant_binding_indexes(db: pw.Database) -> None:
    """binding(person_id) and binding(enterprise_id) are prefixes of binding(person_id, domain, state) and
    binding(enterprise_id, state), which serve every lookup and the foreign keys' cascades as well; each
    costs a random index page per binding change (docs/PERFORMANCE.md: add p99 at 1M on PostgreSQL 7.1 ->
    2.1 ms without them)."""
    for name in ("binding_person_id", "binding_enterprise_id"):
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")


def _oidc(db: pw.Database) -> None:
    """The OpenID Connect provider's tables, and the factors a session's login used (its `amr`)."""
    create_tables("OidcClient", "SigningKey", "OidcConsent", "AuthorizationCode", "OidcToken")(db)
    add_column(db, models.LoginSession, "factors")


def _policy_history(db: pw.Database) -> None:
    """The history table, seeded with the rule file in force (its first entry, by whoever loaded it)."""
    db.create_tables([models.PolicyHistory], safe=True)
    row = models.PolicyState.get_or_none(models.PolicyState.id == 1)
    if row is not None and not models.PolicyHistory.select().exists():
        models.PolicyHistory.create(digest=row.digest, source=row.source, loaded_at=row.loaded_at,
                                    loaded_by=row.loaded_by, note="in force at upgrade")


def _oidc_backchannel(db: pw.Database) -> None:
    """Back-channel logout (issue 12): a client's logout URI, the issuer each token was issued under, and
    which tokens' grants have had their logout token queued; the sweep reads the ones not yet queued."""
    add_column(db, models.OidcClient, "backchannel_logout_uri")
    add_column(db, models.OidcToken, "issuer")
    add_column(db, models.OidcToken, "logout_queued_at")
    db.execute_sql("CREATE INDEX IF NOT EXISTS oidc_token_logout_pending ON oidc_token (client_id, session_id) "
                   "WHERE logout_queued_at IS NULL AND revoked_at IS NULL")


STEPS: list[Step] = [
    (1, "initial schema", create_tables("SchemaVersion", "Person", "Document", "Phone", "Enterprise", "Binding",
                                        "Agreement", "AgreementAgent", "ServiceClient", "PolicyRule", "PolicyState",
                                        "ChangeLog", "AuditLog")),
    (2, "login and identity", create_tables("Flow", "VerificationCode", "SmsOutbox", "ScanTicket", "LoginSession",
                                            "CounterRow", "LoginLog", "HallRegistrationCode", "CrossRegionProject")),
    (3, "integration and events", create_tables("BindingConstraint", "OutboxEvent")),
    (4, "one live binding per person, enterprise and identity type", _binding_live_unique),
    (5, "tax digital certificates", create_tables("TaxCertificate")),
    (6, "drop the binding indexes that composite indexes make redundant", _drop_redundant_binding_indexes),
    (7, "OpenID Connect provider: clients, signing keys, consents, codes, tokens; session factors", _oidc),
    (8, "audit rows name the request that wrote them", lambda db: add_column(db, models.AuditLog, "request_id")),
    (9, "policy history", _policy_history),
    (10, "sessions by creation time (a starting worker warms the newest)",
     lambda db: db.execute_sql("CREATE INDEX IF NOT EXISTS login_session_created_at ON login_session (created_at)")),
    (11, "OpenID Connect back-channel logout: client logout URI, token issuer, logout queued", _oidc_backchannel),
]


def current_version(db: pw.Database | None = None) -> int:
    """The highest applied step, 0 for an empty database."""
    db = db or database.obj
    if not db.table_exists(models.SchemaVersion._meta.table_name):
        return 0
    row = models.SchemaVersion.select(pw.fn.MAX(models.SchemaVersion.version)).scalar()
    return int(row or 0)


def pending(db: pw.Database | None = None) -> list[Step]:
    have = current_version(db)
    return [s for s in STEPS if s[0] > have]


def upgrade(db: pw.Database | None = None, progress: Callable[[str], None] | None = None) -> list[int]:
    """Apply every pending step in order, each in its own transaction; returns the versions applied."""
    db = db or database.obj
    done = []
    db.create_tables([models.SchemaVersion], safe=True)
    for version, name, fn in pending(db):
        if progress:
            progress(f"applying {version}: {name}")
        with db.atomic():
            fn(db)
            models.SchemaVersion.create(version=version, name=name, applied_at=time.time())
        done.append(version)
    return done
