"""Outbound events (R-BIND-15 "data sync"): the transactional outbox; its delivery adapters are the port
`authz.ports.events`.

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

The outbox also carries the OpenID Connect provider's back-channel logout tokens (kind
`oidc.backchannel_logout`): `drain` takes the kinds its publisher serves, so the core tax system's webhook
never sees them and `authz.oidc.backchannel.drain` POSTs them to each relying party instead.

Delivery is at least once: receivers de-duplicate on the event id (`X-Authz-Event-Id`, body `id`).
Events carry ids (person uid, USCC, binding id), never names, document numbers or phones.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from . import metrics
from .db import database
from .models import OutboxEvent
from .ports.events import DeliveryError, Publisher, publisher_for

log = logging.getLogger("authz.events")

CORE_KINDS = ("binding.changed", "binding.sync", "agreement.changed")  # to the core tax system's webhook
LOGOUT_KIND = "oidc.backchannel_logout"  # to a relying party's logout URI (authz.oidc.backchannel)
KINDS = CORE_KINDS + (LOGOUT_KIND,)
MAX_ATTEMPTS = 10
BACKOFF_BASE_S = 30.0  # 30 s, 1 min, 2 min, ... capped
BACKOFF_CAP_S = 3600.0
LEASE_S = 120.0  # a claimed row is not handed to another drainer for this long


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


def drain(svc, limit: int = 100, publisher: Publisher | None = None, *, kinds: tuple[str, ...] = CORE_KINDS,
          metric: str = "authz_event_deliveries_total") -> DrainResult:
    """Deliver up to `limit` due events of `kinds`, oldest first, through the configured adapter (the
    core tax system's by default; authz.oidc.backchannel drains its logout tokens with its own publisher
    and metric, so a relying party that is down never looks like a broken data sync)."""
    publisher = publisher or publisher_for(svc.settings)
    now = svc.clock.time()
    due = list(OutboxEvent.select().where((OutboxEvent.status == "pending") & (OutboxEvent.next_attempt_at <= now)
                                          & OutboxEvent.kind.in_(kinds))
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
            metrics.inc(metric, outcome="dead" if dead else "retrying")
            log.warning("event %s delivery failed (attempt %d%s): %s", ev.event_id, attempts,
                        ", giving up" if dead else "", exc)
            continue
        OutboxEvent.update(attempts=ev.attempts + 1, status="delivered", delivered_at=now, last_error="") \
            .where(OutboxEvent.id == ev.id).execute()
        out.delivered.append(ev.event_id)
        metrics.inc(metric, outcome="delivered")
    return out


def depth() -> dict[str, int]:
    """Outbox rows by status (the authz_outbox_events gauge; an on-call person watches pending and dead)."""
    import peewee as pw
    counts = {s: 0 for s in ("pending", "delivered", "dead")}
    for status, n in (OutboxEvent.select(OutboxEvent.status, pw.fn.COUNT(OutboxEvent.id))
                      .group_by(OutboxEvent.status).tuples()):
        counts[status] = n
    return counts


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
