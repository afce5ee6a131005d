"""The outbound event port (R-BIND-15 "data sync" to the core tax system): the adapters that deliver one
event envelope, chosen by AUTHZ_EVENTS_ADAPTER. `authz.events` owns the transactional outbox and hands
each due row to the adapter `publisher_for(settings)` returns.

* `Outbox` (development, `dev`): the outbox table itself is the destination; nothing leaves the machine.
* `WebhookPublisher` (production, `http`): POSTs each event as JSON to AUTHZ_EVENTS_WEBHOOK_URL, signed like
  the app callbacks (`X-Authz-Timestamp`, `X-Authz-Signature`: hex HMAC-SHA256 over "<timestamp>.<raw
  body>" with AUTHZ_EVENTS_WEBHOOK_SECRET). A non-2xx answer, a redirect, a timeout or a refused
  connection raises DeliveryError (with the receiver's numeric Retry-After).

`verify_signature` is what a receiver does (and what the tests do as the receiver).
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.request
from typing import Protocol

log = logging.getLogger("authz.events")

SIGNATURE_TOLERANCE_S = 300


class DeliveryError(Exception):
    """The adapter could not deliver; `retry_after` (seconds) when the receiver asked for a pause."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class Publisher(Protocol):
    name: str

    def deliver(self, envelope: dict, now: float) -> None:
        """Deliver one event envelope or raise DeliveryError."""




class Outbox:
    """Development adapter: nothing leaves the machine; the outbox row is the delivered event."""
    name = "outbox"

    def deliver(self, envelope: dict, now: float) -> None:
        log.info("event %s %s %s (development outbox)", envelope["id"], envelope["kind"], envelope["subject"])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is a failure: following it would turn the POST into a body-less GET."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over "<timestamp>.<body>"."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, timestamp: str, signature: str, body: bytes, now: float,
                     tolerance: float = SIGNATURE_TOLERANCE_S) -> bool:
    """What a receiver does: constant-time compare, and refuse stale timestamps (replays)."""
    try:
        fresh = abs(now - int(timestamp)) <= tolerance
    except (TypeError, ValueError):
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature or "")


class WebhookPublisher:
    """Production adapter: POST the envelope as JSON, signed with HMAC-SHA256; 2xx means delivered."""
    name = "webhook"

    def __init__(self, url: str, secret: str, timeout: float = 5.0):
        if not url.startswith(("https://", "http://")):
            raise ValueError("AUTHZ_EVENTS_WEBHOOK_URL must be an http(s) URL with AUTHZ_EVENTS_ADAPTER=http")
        if len(secret) < 16:
            raise ValueError("AUTHZ_EVENTS_WEBHOOK_SECRET (16+ characters) is required with AUTHZ_EVENTS_ADAPTER=http")
        self.url, self.secret, self.timeout = url, secret, timeout
        self._opener = urllib.request.build_opener(_NoRedirect)

    def deliver(self, envelope: dict, now: float) -> None:
        body = json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        ts = str(int(now))
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json; charset=utf-8", "User-Agent": "taxauthz-events/1",
            "X-Authz-Event-Id": envelope["id"], "X-Authz-Event-Kind": envelope["kind"],
            "X-Authz-Timestamp": ts, "X-Authz-Signature": sign(self.secret, ts, body)})
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"HTTP {exc.code}", _retry_after(exc.headers.get("Retry-After"))) from None
        except (OSError, ValueError, http.client.HTTPException) as exc:  # refused, reset, timeout, DNS
            raise DeliveryError(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"HTTP {status}")


def _retry_after(raw: str | None) -> float | None:
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def publisher_for(settings) -> Publisher:
    """The adapter the settings choose (dev | http)."""
    if settings.events_adapter == "dev":
        return Outbox()
    if settings.events_adapter == "http":
        return WebhookPublisher(getattr(settings, "events_webhook_url", ""),
                                getattr(settings, "events_webhook_secret", ""))
    raise ValueError(f"unknown events_adapter {settings.events_adapter!r} (dev or http)")
