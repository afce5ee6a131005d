"""Second factors behind one small interface (Kratos-style strategies). A new factor is a new module
registered in FACTORS, not a new `if` in the flows."""
from __future__ import annotations

from .app_scan import AppScan
from .base import Factor, guarded
from .sms import SmsCode

FACTORS: dict[str, Factor] = {"sms": SmsCode(), "taxapp": AppScan("taxapp"), "iitapp": AppScan("iitapp")}


def factor(name: str) -> Factor:
    from ..errors import AuthzError
    try:
        return FACTORS[name]
    except KeyError:
        raise AuthzError("validation_failed", errors={"factor": [f"one of {', '.join(FACTORS)}"]}) from None


__all__ = ["FACTORS", "Factor", "factor", "guarded"]
