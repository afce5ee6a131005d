"""Storage schema (peewee), grouped by aggregate, one module each:

* `base`: JSONField, Base, SchemaVersion
* `person`: Person, Document, Phone, HallRegistrationCode
* `enterprise`: Enterprise, TaxCertificate, CrossRegionProject
* `authorisation`: Binding, BindingConstraint, Agreement, AgreementAgent
* `flow`: Flow, VerificationCode, ScanTicket, SmsOutbox
* `session`: LoginSession, LoginLog, CounterRow
* `policy`: PolicyRule, PolicyState, ChangeLog
* `integration`: ServiceClient, OutboxEvent
* `audit`: AuditLog
* `oidc`: OidcClient, SigningKey, OidcConsent, AuthorizationCode, OidcToken (the OpenID Connect provider)

Times are UTC epoch seconds (float) unless a field says date. Import models from here
(`from authz.models import Person`); the modules say which aggregate a table belongs to.
"""
from __future__ import annotations

from .base import JSONField, Base, SchemaVersion
from .person import Person, Document, Phone, HallRegistrationCode
from .enterprise import Enterprise, TaxCertificate, CrossRegionProject
from .authorisation import Binding, BindingConstraint, Agreement, AgreementAgent
from .flow import Flow, VerificationCode, ScanTicket, SmsOutbox
from .session import LoginSession, LoginLog, CounterRow
from .policy import PolicyRule, PolicyState, ChangeLog
from .integration import ServiceClient, OutboxEvent
from .audit import AuditLog
from .oidc import OidcClient, SigningKey, OidcConsent, AuthorizationCode, OidcToken
from .enterprise import CERT_KINDS, CERT_STATUSES

TABLES = [SchemaVersion, Person, Document, Phone, HallRegistrationCode, Enterprise, TaxCertificate, CrossRegionProject, Binding, BindingConstraint, Agreement, AgreementAgent, Flow, VerificationCode, ScanTicket, SmsOutbox, LoginSession, LoginLog, CounterRow, PolicyRule, PolicyState, ChangeLog, ServiceClient, OutboxEvent, AuditLog, OidcClient, SigningKey, OidcConsent, AuthorizationCode, OidcToken]

__all__ = ["JSONField", "Base", "SchemaVersion", "Person", "Document", "Phone", "HallRegistrationCode", "Enterprise", "TaxCertificate", "CrossRegionProject", "Binding", "BindingConstraint", "Agreement", "AgreementAgent", "Flow", "VerificationCode", "ScanTicket", "SmsOutbox", "LoginSession", "LoginLog", "CounterRow", "PolicyRule", "PolicyState", "ChangeLog", "ServiceClient", "OutboxEvent", "AuditLog", "OidcClient", "SigningKey", "OidcConsent", "AuthorizationCode", "OidcToken", "CERT_KINDS", "CERT_STATUSES", "TABLES"]
