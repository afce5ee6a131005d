"""Typed secrets as factors: the person's password and a tax certificate's password, and the signature
with a certificate's key. Each is checked here; the lockout around the check is the mechanism's
(authz/verification.py), like any other factor's. Nothing to begin: the secret comes with the request."""
from __future__ import annotations

import base64

from ..errors import AuthzError, code
from ..ports import ports_of
from ..vocab import Method, Strength

E_PASSWORD_WRONG = code("password_wrong")


class _Typed:
    resets = True  # a success resets the method's failure count
    needs_phone = False
    not_begun = "validation_failed"

    def begin(self, svc, key, *, purpose, person=None, phone=None, subject=None, **send) -> dict:
        return {"factor": self.name}

    def lockout_key(self, *, phone, subject) -> str:
        return subject or ""


class Password(_Typed):
    """The person's login password: one argon2 verify on every path, an unknown person (None) against
    the dummy hash; a stock person's initial password is the end of their document number."""
    name = "password"
    method = Method.PASSWORD
    strength = Strength.KNOWLEDGE

    def complete(self, svc, key, *, purpose, person=None, code=None, secret=None, against=None) -> None:
        from ..accounts import primary_document
        doc = primary_document(person) if person is not None else None
        if not ports_of(svc).hasher.verify_person(person, secret or "", doc.doc_number if doc else None):
            raise AuthzError(E_PASSWORD_WRONG, limit=svc.settings.lockout_failures)

    def refused(self, svc, secret) -> None:
        ports_of(svc).hasher.verify_person(None, secret or "")  # a refused answer costs what a check costs


class CertificatePassword(_Typed):
    """A tax certificate's own password (`against`: the certificate, None for an unknown serial)."""
    name = "certificate_password"
    method = Method.CERTIFICATE
    strength = Strength.KNOWLEDGE
    resets = False  # half of the certificate: only a verified signature resets the `certificate` count

    def complete(self, svc, key, *, purpose, person=None, code=None, secret=None, against=None) -> None:
        from ..flows.certificates import E_CERT_INVALID
        hasher = ports_of(svc).hasher
        right = hasher._verify(against.password_hash if against is not None else hasher.dummy, secret or "")
        if against is None or not right:  # an unknown serial costs the same verify
            raise AuthzError(E_CERT_INVALID, limit=svc.settings.lockout_failures)

    def refused(self, svc, secret) -> None:
        pass  # refused only after the personal password, which already cost its verify


class CertificateSignature(_Typed):
    """A signature over a flow's challenge with the certificate's key (`against`: (certificate, challenge
    in standard base64); `secret`: the signature). A revoked or expired certificate is refused uncounted."""
    name = "certificate"
    method = Method.CERTIFICATE
    strength = Strength.POSSESSION

    def complete(self, svc, key, *, purpose, person=None, code=None, secret=None, against=None) -> None:
        from ..flows import certificates
        cert, challenge = against
        certificates.usable(svc, cert)
        if not certificates.signature_ok(cert, base64.b64decode(challenge), secret or ""):
            raise AuthzError(certificates.E_SIGNATURE)

    def refused(self, svc, secret) -> None:
        pass
