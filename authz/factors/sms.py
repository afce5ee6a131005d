"""SMS code factor: a code through the one verification-code process (authz/codes.py)."""
from __future__ import annotations

from .. import codes
from ..vocab import Method, Strength


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


class SmsCode:
    """A six-digit code sent to a phone, bound to (purpose, flow key), single use (R-SMS-2)."""
    name = "sms"
    method = Method.SMS
    strength = Strength.POSSESSION
    resets = True
    needs_phone = True
    not_begun = codes.E_CODE_NONE

    def begin(self, svc, key, *, purpose, person=None, phone=None, subject=None, decoy=False, **send) -> dict:
        """Send a code; a `decoy` spends every budget a send spends, keeps a code row no typed code matches
        and sends nothing, so every answer of this step and the next is alike (R-LOGIN-12)."""
        codes.issue(svc, purpose, key, phone, deliver=not decoy, **send)
        return {"factor": self.name, "phone": mask_phone(phone), "expires_in": svc.settings.code_ttl_seconds}

    def complete(self, svc, key, *, purpose, person=None, code=None, secret=None, against=None) -> str:
        return codes.verify(svc, purpose, key, code or "").phone

    def refused(self, svc, secret) -> None:
        pass

    def lockout_key(self, *, phone, subject) -> str:
        return phone or ""
