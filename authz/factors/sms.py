"""SMS code factor: a code through the one verification-code process (authz/codes.py)."""
from __future__ import annotations

from .. import codes


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


class SmsCode:
    name = "sms"
    method = "sms"

    def begin(self, svc, flow_hash, *, purpose, person=None, phone=None, subject=None, **send) -> dict:
        codes.issue(svc, purpose, flow_hash, phone, **send)
        return {"factor": self.name, "phone": mask_phone(phone), "expires_in": svc.settings.code_ttl_seconds}

    def complete(self, svc, flow_hash, *, purpose, code=None) -> None:
        codes.verify(svc, purpose, flow_hash, code or "")
