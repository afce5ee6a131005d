"""Rate limits on the public and account endpoints (issue 13), in one place.

* **Public** (login, certificate login, registration, password and phone recovery): per client address
  (`session.client_ip`, which believes X-Forwarded-For only for AUTHZ_TRUSTED_PROXIES hops), one budget
  shared by all of them (AUTHZ_RATE_LIMIT_PUBLIC, default 300/minute;3000/hour: a tax service hall is many
  people behind one address, and one login is four to six of these requests), so cycling through
  endpoints buys nothing. Only state-changing requests count there: reads (a QR ticket polled every two
  seconds, a flow's state) spend nothing. This is the coarse fence a credential-stuffing or SMS-pumping script meets
  first; the lockout (R-LOGIN-11) and the SMS quotas stay where they are, per account and per phone, and
  fail closed.
* **Account** (the account centres, identity switching): per session (a digest of its id, never the id
  itself), else per address (AUTHZ_RATE_LIMIT_ACCOUNT, default 600/minute): generous for a person, a wall
  for a script holding one session.
* Not limited: the check endpoints and the OAuth back-channel endpoints (service-authenticated callers
  inside the bureau, sized by capacity, not by abuse: docs/PERFORMANCE.md), operations endpoints and the
  web front end's files. The hooks are registered on the limited blueprints only, so a check request
  pays nothing for them.

Counting is the `limits` library's sliding-window counter (the engine of flask-limiter; flask-limiter
itself adds three application-wide hooks to every request, the check endpoints included, for about 50 µs
each time: docs/PERFORMANCE.md). In Redis when REDIS_URL is set (one count for every worker and instance),
else in each worker's memory (the embedded default: a limit then applies per worker). If Redis fails,
requests pass and the failure is logged and counted (authz_dependency_errors_total): a rate limit is a
fence against floods, not a security counter.

Answers carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the window
resets, as the IETF RateLimit header fields count them) for the limit nearest to running out; a refusal
is 429 `rate_limited` with `Retry-After`.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import g, request
from limits import parse_many, storage, strategies

from authz import metrics
from authz.errors import AuthzError

from . import session as sess

log = logging.getLogger("authz.ratelimit")
PREFIX = "authz-rl"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})


def _address() -> str:
    return "a:" + (sess.client_ip() or "unknown")


def _session_or_address() -> str:
    raw = sess.session_id()
    if raw:
        return "s:" + hashlib.sha256(raw.encode()).hexdigest()[:32]
    return _address()


class RateLimits:
    """The two scopes' limits over one storage."""

    def __init__(self, settings):
        uri = settings.redis_url or "memory://"
        self.storage = storage.storage_from_string(uri)
        self.counter = strategies.SlidingWindowCounterRateLimiter(self.storage)
        self.scopes = {}
        for scope, value, key in (("public", settings.rate_limit_public, _address),
                                  ("account", settings.rate_limit_account, _session_or_address)):
            if value != "off":
                self.scopes[scope] = (parse_many(value.replace(" ", "")), key)

    def before(self, scope: str) -> None:
        """Count this request in `scope`; 429 once any of its limits is spent. The public scope counts
        state-changing requests only: a page polling its QR ticket or flow (a read of a flow it holds)
        must not spend the budget of everybody behind the same address."""
        if scope == "public" and request.method in SAFE:
            return
        items, key_of = self.scopes[scope]
        key = key_of()
        try:
            for item in items:
                if not self.counter.hit(item, PREFIX, scope, key):
                    reset = self.counter.get_window_stats(item, PREFIX, scope, key).reset_time
                    raise AuthzError("rate_limited", headers={"Retry-After": str(max(1, math.ceil(reset - time.time()))),
                                                              **self._fields(item, 0, reset)})
        except AuthzError:
            raise
        except Exception as exc:  # the store is down: let the request through, say so
            log.warning("rate limit not counted (%s): %s", scope, exc)
            metrics.inc("authz_dependency_errors_total", dependency="redis" if "redis" in type(exc).__module__
                        else "ratelimit")
            return
        g.rate_limit = (scope, key)

    def after(self, resp):
        """The RateLimit fields of the limit nearest to running out."""
        counted = g.pop("rate_limit", None)
        if counted is None:
            return resp
        scope, key = counted
        try:
            tightest = min(((item, *self.counter.get_window_stats(item, PREFIX, scope, key)[::-1])
                            for item in self.scopes[scope][0]), key=lambda x: x[1] / x[0].amount)
        except Exception as exc:
            log.warning("rate limit fields not computed (%s): %s", scope, exc)
            return resp
        item, remaining, reset = tightest
        for name, value in self._fields(item, remaining, reset).items():
            resp.headers[name] = value
        return resp

    @staticmethod
    def _fields(item, remaining: int, reset: float) -> dict:
        return {"RateLimit-Limit": str(item.amount), "RateLimit-Remaining": str(max(0, remaining)),
                "RateLimit-Reset": str(max(0, math.ceil(reset - time.time())))}


def init(app, service, public: tuple, account: tuple) -> RateLimits | None:
    """Count requests to the given blueprints (their before/after hooks only); None when both are off."""
    limits = RateLimits(service.settings)
    if not limits.scopes:
        return None
    for scope, blueprints in (("public", public), ("account", account)):
        if scope not in limits.scopes:
            continue
        for bp in blueprints:
            # the app's per-blueprint hook lists: blueprints are registered by now, so their own
            # before_request can no longer be called (Flask refuses setup after registration)
            app.before_request_funcs.setdefault(bp.name, []).append(lambda scope=scope: limits.before(scope))
            app.after_request_funcs.setdefault(bp.name, []).append(limits.after)
    app.extensions["authz_rate_limits"] = limits
    return limits
