"""Every way of verifying a person, as strategies behind one small interface (`base.Factor`, Kratos-style).
A new factor is a class in this package registered in FACTORS, not a new `if` in the flows; flows reach
factors only through `authz.verification` (begin / verify), which offers, locks out and binds the proof."""
from __future__ import annotations

from .app_scan import AppScan
from .base import Factor
from .password import CertificatePassword, CertificateSignature, Password
from .sms import SmsCode

FACTORS: dict[str, Factor] = {f.name: f for f in (
    SmsCode(), AppScan("taxapp"), AppScan("iitapp"), Password(), CertificatePassword(), CertificateSignature())}


__all__ = ["FACTORS", "Factor"]
