"""Outbound event port (R-BIND-15 "data sync"): a transactional outbox and two delivery adapters.

`publish(svc, kind, payload)` writes an `outbox_event` row inside the caller's transaction, so an event
exists exactly when the change it describes was committed (never for a rolled-back change, never lost
for a committed one). `drain(svc, limit)` later hands pending rows to the adapter the settings choose:

* `Outbox` (development, AUTHZ_EVENTS_ADAPTER=dev): the outbox table itself is the destination; draining
  marks the rows delivered and returns them so the CLI can print what would have been posted.
* `WebhookPublisher` (production, AUTHZ_EVENTS_ADAPTER=http): POSTs each event as JSON to
  AUTHZ_EVENTS_WEBHOOK_URL, signed like the app callbacks (`X-Authz-Timestamp`, `X-Authz-Signature`:
  hex HMAC-SHA256 over "<timestamp>.<raw body>" with AUTHZ_EVENTS_WEBHOOK_SECRET). A non-2xx answer, a
  redirect, a timeout or a refused connection is a failure: the row is retried with exponential backoff
  (honouring a numeric Retry-After) and given up ("dead") after `MAX_ATTEMPTS`; `requeue` revives it.

Delivery is at least once: receivers de-duplicate on the event id (`X-Authz-Event-Id`, body `id`).
Events carry ids (person uid, USCC, binding id), never names, document numbers or phones.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Protocol

from .db import database
from .models_integration import OutboxEvent

log = logging.getLogger("authz.events")

KINDS = ("binding.changed", "binding.sync", "agreement.changed")
MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 30.0  # 30 s, 1 min, 2 min, ... capped
BACKOFF_CAP_S = 3600.0
LEASE_S = 120.0  # a claimed row is not handed to another drainer for this long
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


# ---- writing


def publish(svc, kind: str, payload: dict, subject: str = "") -> OutboxEvent:
    """Record an event for later delivery (call inside the transaction of the change it describes)."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    now = svc.clock.time()
    return OutboxEvent.create(event_id=str(uuid.uuid4()), kind=kind, subject=subject, payload=payload,
                              created_at=now, next_attempt_at=now)


def envelope(ev: OutboxEvent) -> dict:
    """The JSON document a receiver gets for an event."""
    return {"id": ev.event_id, "kind": ev.kind, "subject": ev.subject, "occurred_at": ev.created_at,
            "attempt": ev.attempts + 1, "data": ev.payload}


# ---- adapters


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


# ---- delivering


def backoff(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failure."""
    return min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** max(0, attempts - 1))


@dataclass
class DrainResult:
    delivered: list[str]
    retrying: list[str]
    dead: list[str]

    def as_dict(self) -> dict:
        return {"delivered": self.delivered, "retrying": self.retrying, "dead": self.dead}


def _claim(ev: OutboxEvent, now: float) -> bool:
    """Take a row for delivery; False if another drainer took it first."""
    n = (OutboxEvent.update(next_attempt_at=now + LEASE_S)
         .where((OutboxEvent.id == ev.id) & (OutboxEvent.status == "pending")
                & (OutboxEvent.attempts == ev.attempts) & (OutboxEvent.next_attempt_at == ev.next_attempt_at))
         .execute())
    return n == 1


def drain(svc, limit: int = 100, publisher: Publisher | None = None) -> DrainResult:
    """Deliver up to `limit` due events, oldest first, through the configured adapter."""
    publisher = publisher or publisher_for(svc.settings)
    now = svc.clock.time()
    due = list(OutboxEvent.select().where((OutboxEvent.status == "pending") & (OutboxEvent.next_attempt_at <= now))
               .order_by(OutboxEvent.id).limit(max(1, limit)))
    out = DrainResult([], [], [])
    for ev in due:
        with database.atomic():
            if not _claim(ev, now):
                continue
        try:
            publisher.deliver(envelope(ev), now)
        except DeliveryError as exc:
            attempts = ev.attempts + 1
            dead = attempts >= MAX_ATTEMPTS
            wait = max(backoff(attempts), exc.retry_after or 0.0)
            OutboxEvent.update(attempts=attempts, last_error=str(exc)[:300], next_attempt_at=now + wait,
                               status="dead" if dead else "pending").where(OutboxEvent.id == ev.id).execute()
            (out.dead if dead else out.retrying).append(ev.event_id)
            log.warning("event %s delivery failed (attempt %d%s): %s", ev.event_id, attempts,
                        ", giving up" if dead else "", exc)
            continue
        OutboxEvent.update(attempts=ev.attempts + 1, status="delivered", delivered_at=now, last_error="") \
            .where(OutboxEvent.id == ev.id).execute()
        out.delivered.append(ev.event_id)
    return out


def requeue(svc, event_ids: list[str] | None = None) -> int:
    """Give dead events (all, or these) a fresh start; returns how many."""
    q = OutboxEvent.update(status="pending", attempts=0, next_attempt_at=svc.clock.time(), last_error="") \
        .where(OutboxEvent.status == "dead")
    if event_ids:
        q = q.where(OutboxEvent.event_id.in_(event_ids))
    return q.execute()


def recent(limit: int = 20, subject: str | None = None, status: str | None = None) -> list[dict]:
    """The newest events (CLI and tests)."""
    q = OutboxEvent.select().order_by(OutboxEvent.id.desc()).limit(limit)
    if subject:
        q = q.where(OutboxEvent.subject == subject)
    if status:
        q = q.where(OutboxEvent.status == status)
    return [{**envelope(e), "status": e.status, "attempts": e.attempts, "last_error": e.last_error}
            for e in q]
