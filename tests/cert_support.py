"""Helpers for the tax digital certificate tests (R-LOGIN-9, R-CERT-1): key pairs made in the test with
`cryptography`, PEM export, signing a challenge."""
from __future__ import annotations

import base64
import datetime as dt

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

CERT_PASSWORD = "Cert@2026ok"
SUBJECT = "登录测试科技有限公司"

_RSA = None


def new_key(kind: str):
    """A fresh P-256 key (sm) or an RSA-2048 key (rsa; made once per run: slow to generate)."""
    global _RSA
    if kind == "sm":
        return ec.generate_private_key(ec.SECP256R1())
    if _RSA is None:
        _RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _RSA


def pem(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key, challenge_b64: str) -> str:
    data = base64.b64decode(challenge_b64)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        sig = key.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        sig = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(sig).decode()


def validity(svc, days_before: int = 30, days_after: int = 365) -> tuple[dt.date, dt.date]:
    today = svc.clock.today()
    return today - dt.timedelta(days=days_before), today + dt.timedelta(days=days_after)
