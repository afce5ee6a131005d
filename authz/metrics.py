"""Prometheus metrics (issue 13, operators): one table of every metric, created on first use, aggregated
across gunicorn workers.

* Under `authz serve` every worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR (prometheus
  client's multiprocess mode, set up by the serve command before the workers fork) and `/metrics` adds up
  all workers, so a scrape that reaches another worker never sees a counter go back. Without that
  directory (tests, CLI) metrics live in this process.
* Metrics are created lazily (the first `inc` / `observe` in a worker, after the fork), because the
  multiprocess value class must be chosen after PROMETHEUS_MULTIPROC_DIR is set.
* Each business metric is counted at the one home of what it counts: logins in `loginlog.record`,
  lockouts and verifications in `verification.verify`, SMS in `codes`, binding writes in `bindings`,
  decisions in `checks`, event deliveries in `events.drain`, dependency errors where they are turned
  into 503s. Labels are bounded sets (entries, steps, error codes, factors), never ids.
"""
from __future__ import annotations

import os
import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, values

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
DECISION_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05)

# name: (kind, help, labels[, buckets])
METRICS: dict[str, tuple] = {
    "authz_http_requests_total": ("counter", "HTTP requests", ("endpoint", "method", "status")),
    "authz_http_request_seconds": ("histogram", "HTTP request latency", ("endpoint",), LATENCY_BUCKETS),
    "authz_decisions_total": ("counter", "Check decisions (check endpoints and batches)", ("allowed",)),
    "authz_decision_seconds": ("histogram", "Time of one check or one batch decision, beyond HTTP",
                               ("call",), DECISION_BUCKETS),
    "authz_grant_loads_total": ("counter", "Grant cache misses: (person, domain) pairs read from the database", ()),
    "authz_grants_warmed_total": ("counter", "(person, domain) pairs read ahead of any decision: sessions opened "
                                  "on other workers, the newest sessions at a worker's start", ("source",)),
    "authz_logins_total": ("counter", "Login attempts by entry, step and outcome (ok or the error code)",
                           ("entry", "step", "outcome")),
    "authz_lockouts_total": ("counter", "Methods locked after the failure limit (R-LOGIN-11)", ("method",)),
    "authz_verifications_total": ("counter", "Factor verifications (login factors and step-ups) by outcome",
                                  ("factor", "purpose", "outcome")),
    "authz_sms_sent_total": ("counter", "SMS codes sent (or kept as a decoy) by purpose", ("purpose",)),
    "authz_sms_refused_total": ("counter", "SMS sends refused by a cap or quota", ("reason",)),
    "authz_binding_changes_total": ("counter", "Binding writes by audit action", ("action",)),
    "authz_event_deliveries_total": ("counter", "Outbound event delivery attempts", ("outcome",)),
    "authz_oidc_backchannel_deliveries_total": ("counter", "Back-channel logout token deliveries to relying "
                                                "parties (OpenID Connect)", ("outcome",)),
    "authz_dependency_errors_total": ("counter", "Database or Redis failures answered 503", ("dependency",)),
}
# read from the database at each scrape (one query; the same answer from every worker)
SCRAPED = {"authz_outbox_events": "Outbound events in the outbox by status (pending, delivered, dead)"}

_made: dict[str, object] = {}
_lock = threading.Lock()
_loads_seen = 0
_pid = os.getpid()
_registry = CollectorRegistry()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def _forked() -> None:
    """In a new process (a gunicorn worker forked from a master that already counted, e.g. the demo
    seeding): forget the parent's metric objects and choose the value class again, now that
    PROMETHEUS_MULTIPROC_DIR is set."""
    global _pid, _registry, _loads_seen
    _pid, _registry, _loads_seen = os.getpid(), CollectorRegistry(), 0
    _made.clear()
    _children.clear()
    values.ValueClass = values.get_value_class()


def _metric(name: str):
    if os.getpid() != _pid:
        with _lock:
            if os.getpid() != _pid:
                _forked()
    m = _made.get(name)
    if m is None:
        with _lock:
            m = _made.get(name)
            if m is None:
                if multiprocess_dir():  # chosen now, not when prometheus_client was imported
                    values.ValueClass = values.get_value_class()
                kind, doc, labels, *rest = METRICS[name]
                if kind == "counter":
                    m = Counter(name.removesuffix("_total"), doc, labels, registry=_registry)
                else:
                    m = Histogram(name, doc, labels, buckets=rest[0], registry=_registry)
                _made[name] = m
    return m


_children: dict[tuple, object] = {}


def _child(name: str, labels: dict):
    """The labelled series, cached per (name, label values): prometheus-client's `labels()` costs a few
    microseconds a call, and the request path counts four series per request."""
    key = (name, *labels.values())
    c = _children.get(key)
    if c is None or os.getpid() != _pid:
        m = _metric(name)  # after a fork this also resets the caches
        c = _children[key] = m.labels(**labels) if labels else m
    return c


def inc(name: str, amount: float = 1, **labels) -> None:
    _child(name, labels).inc(amount)


def observe(name: str, value: float, **labels) -> None:
    _child(name, labels).observe(value)


def grant_loads(total: int) -> None:
    """Count the grant store's database loads since the last call (after each request: one increment per
    request, not one per lookup on the decision path)."""
    global _loads_seen
    with _lock:
        delta, _loads_seen = total - _loads_seen, total
    if delta > 0:
        inc("authz_grant_loads_total", delta)


class _Scraped:
    """The SCRAPED gauges, computed when /metrics is read (`outbox` returns {status: count})."""

    def __init__(self, outbox):
        self.outbox = outbox

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        g = GaugeMetricFamily("authz_outbox_events", SCRAPED["authz_outbox_events"], labels=["status"])
        for status, n in sorted(self.outbox().items()):
            g.add_metric([status], n)
        yield g


def scrape(outbox) -> bytes:
    """The /metrics body: every worker's samples in multiprocess mode (else this process's), plus the
    SCRAPED gauges."""
    from prometheus_client import generate_latest
    d = multiprocess_dir()
    if d:
        from prometheus_client import multiprocess
        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg, path=d)
        body = generate_latest(reg)
    else:
        body = generate_latest(_registry)
    extra = CollectorRegistry()
    extra.register(_Scraped(outbox))
    return body + generate_latest(extra)


def worker_exited(pid: int) -> None:
    """gunicorn's child_exit: the dead worker's live gauges stop counting (its counters stay summed)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(pid)
