"""SMS gateway port: the development adapter writes an outbox table, the production one calls a webhook."""
from __future__ import annotations

import json
import logging
import urllib.request
from typing import Protocol

from ..errors import AuthzError, code

log = logging.getLogger("authz.sms")

E_SMS_DOWN = code("sms_unavailable")


class SmsGateway(Protocol):
    def send(self, phone: str, text: str) -> None:
        """Deliver `text` to `phone` or raise sms_unavailable."""


class DevOutbox:
    """Development: messages are stored in sms_outbox, read with `authz dev outbox [--phone]`."""

    def __init__(self, clock):
        self.clock = clock

    def send(self, phone: str, text: str) -> None:
        from ..models import SmsOutbox
        SmsOutbox.create(phone=phone, text=text, sent_at=self.clock.time())


class HttpWebhook:
    """Production: POST {"phone", "text"} as JSON to the operator's SMS webhook (2xx = accepted)."""

    def __init__(self, url: str, timeout: float = 5.0):
        if not url:
            raise ValueError("AUTHZ_SMS_WEBHOOK_URL is required with AUTHZ_SMS_ADAPTER=http")
        self.url = url
        self.timeout = timeout

    def send(self, phone: str, text: str) -> None:
        req = urllib.request.Request(self.url, data=json.dumps({"phone": phone, "text": text}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                if not 200 <= resp.status < 300:
                    raise OSError(f"status {resp.status}")
        except OSError as exc:  # never log the text: it holds the code
            log.error("sms webhook failed for %s***: %s", phone[:3], type(exc).__name__)
            raise AuthzError(E_SMS_DOWN) from None


def outbox(phone: str | None = None, limit: int = 20) -> list[dict]:
    """The newest development messages (CLI and tests)."""
    from ..models import SmsOutbox
    q = SmsOutbox.select().order_by(SmsOutbox.id.desc()).limit(limit)
    if phone:
        q = q.where(SmsOutbox.phone == phone)
    return [{"phone": m.phone, "text": m.text, "sent_at": m.sent_at} for m in q]
