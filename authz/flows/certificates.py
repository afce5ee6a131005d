"""Tax digital certificates (R-CERT-1, and the data R-LOGIN-9 logs in with).

* Filing (integration port, scope `integration`): the certificate authority's data for an enterprise:
  serial, kind (`sm` 国密 / `rsa` non-SM), subject, public key (PEM), validity and the initial certificate
  password (stored as an argon2 hash only; a resend never overwrites a password the enterprise changed).
* Account centre: the session's enterprise's certificates (subject masked, R-MASK-1) under `ac.cert view`,
  and a certificate password change under `ac.cert change_password` (old password checked and counted
  toward the lockout of the method `certificate`, new one under the password policy, audited without it).

Kinds and signatures: `rsa` keys verify RSA PKCS#1 v1.5 with SHA-256. `sm` stands for SM2/SM3; until an
SM2 implementation is adopted it is stood in for by ECDSA on P-256 with SHA-256 (same key size and
signature shape), so an `sm` certificate carries a P-256 public key.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import re

from .. import audit
from ..credentials import check_policy
from ..db import database
from ..errors import AuthzError, code
from ..ids import enterprise_domain
from ..masking import mask_enterprise_name, mask_name
from ..models import CERT_KINDS as KINDS, CERT_STATUSES as STATUSES, Enterprise, TaxCertificate
from ..ports import ports_of

SERIAL_RE = re.compile(r"^[0-9A-Za-z]{1,64}$")
METHOD = "certificate"  # the lockout method of certificate passwords and signatures (R-LOGIN-11)
KIND_NAMES = {"sm": ("国密证书", "SM certificate"), "rsa": ("非国密证书", "Non-SM certificate")}

E_CERT_INVALID = code("certificate_invalid")
E_CERT_PASSWORD = code("certificate_password_wrong")
E_CERT_REVOKED = code("certificate_revoked")
E_CERT_EXPIRED = code("certificate_expired")
E_CERT_KEY = code("certificate_key_invalid")
E_CERT_OWNER = code("certificate_other_enterprise")
E_CERT_DATES = code("certificate_dates")
E_SIGNATURE = code("certificate_signature_invalid")


# ---- keys and signatures
def load_key(kind: str, pem: str):
    """The public key of a certificate of `kind`, or certificate_key_invalid."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    try:
        key = load_pem_public_key((pem or "").encode())
    except (ValueError, TypeError):
        raise AuthzError(E_CERT_KEY) from None
    if kind == "sm" and isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    if kind == "rsa" and isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return key
    raise AuthzError(E_CERT_KEY)


def signature_ok(cert: TaxCertificate, message: bytes, signature_b64: str) -> bool:
    """Whether `signature_b64` (standard base64) signs `message` with the certificate's key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    try:
        sig = base64.b64decode(signature_b64 or "", validate=True)
    except (binascii.Error, ValueError):
        return False
    key = load_key(cert.kind, cert.public_key)
    try:
        if cert.kind == "sm":
            key.verify(sig, message, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def usable(svc, cert: TaxCertificate) -> None:
    """Refuse a revoked certificate or one outside its validity (inclusive days, Asia/Shanghai)."""
    if cert.status != "active":
        raise AuthzError(E_CERT_REVOKED)
    today = svc.clock.today()
    if not (cert.valid_from <= today <= cert.valid_to):
        raise AuthzError(E_CERT_EXPIRED)


def state_of(svc, cert: TaxCertificate) -> str:
    if cert.status != "active":
        return "revoked"
    today = svc.clock.today()
    return "expired" if today > cert.valid_to else "not_yet_valid" if today < cert.valid_from else "valid"


# ---- filing (integration port)
def file(svc, *, by: str, serial: str, uscc: str, kind: str, subject: str, public_key: str,
         valid_from: dt.date, valid_to: dt.date, password: str, status: str = "active") -> dict:
    """Create or update a certificate from the certificate authority's data (idempotent on resend)."""
    if not SERIAL_RE.fullmatch(serial or ""):
        raise AuthzError("validation_failed", errors={"serial": [SERIAL_RE.pattern]})
    if kind not in KINDS or status not in STATUSES:
        raise AuthzError("validation_failed", errors={"kind": list(KINDS), "status": list(STATUSES)})
    if valid_to < valid_from:
        raise AuthzError(E_CERT_DATES)
    load_key(kind, public_key)
    ent = Enterprise.get_or_none(Enterprise.uscc == uscc)
    if ent is None:
        raise AuthzError("not_found", errors={"uscc": ["unknown enterprise"]})
    now = svc.clock.time()
    with database.atomic():
        cert = TaxCertificate.get_or_none(TaxCertificate.serial == serial)
        values = dict(kind=kind, subject=subject, public_key=public_key.strip() + "\n", valid_from=valid_from,
                      valid_to=valid_to, status=status)
        if cert is None:
            cert = TaxCertificate.create(enterprise=ent, serial=serial, password_hash=ports_of(svc).hasher.hash(password),
                                         created_at=now, updated_at=now, **values)
            changed, action = True, "certificate.file"
        else:
            if cert.enterprise_id != ent.id:
                raise AuthzError(E_CERT_OWNER)
            diff = {k: v for k, v in values.items() if getattr(cert, k) != v}
            changed, action = bool(diff), "certificate.update"
            if diff:
                TaxCertificate.update(updated_at=now, **diff).where(TaxCertificate.id == cert.id).execute()
        if changed:
            audit.record(svc, actor=by, action=action, target=f"cert:{serial}", domain=enterprise_domain(uscc),
                         detail={"kind": kind, "status": status})
    return {"serial": serial, "changed": changed}


# ---- account centre (R-CERT-1)
def _view(svc, cert: TaxCertificate) -> dict:
    zh, en = KIND_NAMES[cert.kind]
    return {"serial": cert.serial, "kind": cert.kind, "kind_name": zh, "kind_name_en": en,
            "subject": mask_enterprise_name(cert.subject), "holder": mask_name(cert.holder.name) if cert.holder else None,
            "valid_from": cert.valid_from.isoformat(), "valid_to": cert.valid_to.isoformat(),
            "status": cert.status, "state": state_of(svc, cert)}


def _of_enterprise(actor):
    return (TaxCertificate.select(TaxCertificate).join(Enterprise)
            .where(Enterprise.uscc == actor.domain[len("ent:"):]))


def list_certificates(svc, actor) -> list[dict]:
    """The session's enterprise's certificates, subject and holder masked (R-CERT-1, R-MASK-1)."""
    from ..actor import require
    require(svc, actor, "ac.cert", "view")
    if not actor.domain.startswith("ent:"):
        return []
    return [_view(svc, c) for c in _of_enterprise(actor).order_by(TaxCertificate.serial)]


def change_password(svc, actor, serial: str, old: str, new: str, confirm: str | None = None) -> dict:
    """Change a certificate's password: the old one checked (failures counted toward the lockout of the
    method `certificate`), the new one under the password policy; audited without either."""
    from ..actor import require
    require(svc, actor, "ac.cert", "change_password")
    cert = _of_enterprise(actor).where(TaxCertificate.serial == serial).first() if actor.domain.startswith("ent:") else None
    if cert is None:
        raise AuthzError("not_found")
    if cert.status != "active":
        raise AuthzError(E_CERT_REVOKED)
    ports = ports_of(svc)
    from .. import verification
    try:  # the certificate-password factor: counted toward the method `certificate` (R-LOGIN-11)
        verification.verify(svc, purpose="certificate.change_password", factor_name="certificate_password",
                            offered=("certificate_password",), lockout=actor.uid, secret=old, against=cert)
    except AuthzError as err:
        if verification.counted(err):
            audit.record(svc, actor=actor.uid, identity=actor.role, domain=actor.domain, outcome="refused",
                         action="certificate.change_password", target=f"cert:{serial}")
        if err.code == E_CERT_INVALID:
            raise AuthzError(E_CERT_PASSWORD, limit=svc.settings.lockout_failures) from None
        raise
    check_policy(new, svc.settings, confirm)
    if ports.hasher._verify(cert.password_hash, new):
        raise AuthzError("password_unchanged")
    n = (TaxCertificate.update(password_hash=ports.hasher.hash(new), updated_at=svc.clock.time())
         .where((TaxCertificate.id == cert.id) & (TaxCertificate.password_hash == cert.password_hash)).execute())
    if n != 1:
        raise AuthzError("conflict")
    audit.record(svc, actor=actor.uid, identity=actor.role, domain=actor.domain,
                 action="certificate.change_password", target=f"cert:{serial}")
    return {"serial": serial, "changed": True}
