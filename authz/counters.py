"""Shared counters: lockout per authentication method (R-LOGIN-11) and the SMS quota (R-SMS-1).

Two backends behind one interface, both atomic across workers and instances:

* `DatabaseCounters` (default): one row per key, changed by single conditional UPDATE statements inside
  a transaction, so concurrent failures never lose an increment and the quota never lets a sixth through.
* `RedisCounters` (when Settings.redis_url is set): one hash per key, changed by Lua scripts (atomic on
  the server). Any Redis error fails CLOSED with `counters_unavailable` (503): an unreachable counter
  store must not turn into unlimited password guesses or SMS sends.

Lockout (decision in SPEC R-LOGIN-11): failures of password, SMS code and face scan count separately; the
counting window is the Asia/Shanghai day; the fifth consecutive failure of a method locks that method
until next midnight (lockout_mode "midnight") or for lockout_minutes ("minutes", the withholding-client
rule); a success of the method resets its count; a password reset lifts every lock (R-PWD-4).

SMS quota: at most `sms_quota` codes per phone in a window of `sms_window_minutes` that starts at the
first code; once it has passed, the next code opens a new window. The same fixed-window `take` also holds
the send caps of issue 10 finding 6 (per flow, per client address, one use of a human-check token); the
keys are chosen in authz/codes.py.

Durability (issue 10 finding 11). The database backend is durable as it stands. With Redis a restart
without persistence (or a FLUSHDB) would clear every lock, so Redis is the fast path and the database the
record of locks: when a failure locks a method, `RedisCounters.fail` also writes the lock end to the
counter_row table (key `lock:<method>:<subject>`, the row the database backend keeps, created by migration
step 2); `locked_until` and `reserve` answer from Redis and, only when Redis has no lock, read that row
(one lookup on its unique key); `unlock` (password reset, R-PWD-4; the helpdesk, per method) clears both. So a lock outlives a Redis
restart. Not kept durable, by decision:
* the consecutive-failure counts below the limit and the evaluations in flight: a restart hands an
  attacker at most limit - 1 extra guesses per method, and only if they can restart Redis at will;
* the SMS quota (R-SMS-1): a 10-minute window, so a restart grants at most one extra window (5 codes) per
  phone; every code is still single use with a per-code attempt cap, and wrong codes count toward the
  (durable) lock. Keeping it durable would cost a database write on every send for that one window.
"""
from __future__ import annotations

import logging
from typing import Protocol

import peewee as pw

from .clock import next_midnight_epoch
from .config import Settings
from .db import database
from .errors import AuthzError, code

log = logging.getLogger("authz.counters")

METHODS = ("password", "sms", "face", "certificate")
FLIGHT_SECONDS = 30  # a reservation a crashed worker never released stops counting after this
E_UNAVAILABLE = code("counters_unavailable")
E_SMS_QUOTA = code("sms_quota")


class Counters(Protocol):
    def locked_until(self, subject: str, method: str, now: float) -> float | None:
        """The end of the method's lock if it is locked at `now`, else None."""

    def fail(self, subject: str, method: str, now: float) -> float | None:
        """Count one failure; returns the lock end if this failure locked the method."""

    def succeed(self, subject: str, method: str) -> None:
        """A success of the method: its consecutive-failure count starts again."""

    def reserve(self, subject: str, method: str, now: float) -> float | None:
        """Reserve one evaluation of the method before the (slow) check, atomically: refused while
        locked (returns the lock end) or while the failures counted plus the evaluations in flight
        already reach the limit (returns 0.0: come back when they have settled). None: reserved; the
        caller must `release` it after counting the outcome (R-LOGIN-11, issue 10 finding 4)."""

    def release(self, subject: str, method: str) -> None:
        """The reserved evaluation has settled (its failure, if any, already counted)."""

    def failures(self, subject: str, method: str, now: float) -> int:
        """The method's consecutive failures counted in the current window (0 once it has closed): what a
        helpdesk reads next to `locked_until` (issue 13)."""

    def unlock(self, subject: str, methods: tuple[str, ...] = METHODS) -> None:
        """Lift the locks and counts of the subject's `methods` (all: password reset; some: the helpdesk)."""

    def take_sms(self, phone: str, now: float, scope: str = "") -> None:
        """Take one code from the phone's quota or raise sms_quota (429 with Retry-After). `scope` names a
        separate budget of the same size (an anonymous purpose, issue 10 finding 6); "" is the person's own."""

    def take(self, key: str, limit: int, window: float, now: float) -> float | None:
        """Take one unit of `key`, at most `limit` per window of `window` seconds starting at the first
        unit, atomically. None: taken; else the end of the full window (nothing was taken)."""


class _Policy:
    def __init__(self, settings: Settings):
        self.limit = settings.lockout_failures
        self.mode = settings.lockout_mode
        self.minutes = settings.lockout_minutes
        self.sms_quota = settings.sms_quota
        self.sms_window = settings.sms_window_minutes * 60

    def lock_end(self, now: float) -> float:
        return now + self.minutes * 60 if self.mode == "minutes" else next_midnight_epoch(now)

    @staticmethod
    def day_end(now: float) -> float:
        return next_midnight_epoch(now)


def _lock_key(subject: str, method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}")
    return f"lock:{method}:{subject}"


def retry_after(seconds: float) -> dict[str, str]:
    """A Retry-After header of whole seconds, at least 1."""
    return {"Retry-After": str(max(1, int(seconds + 0.999)))}


def _quota_error(seconds: float) -> AuthzError:
    return AuthzError(E_SMS_QUOTA, headers=retry_after(seconds))


def sms_key(phone: str, scope: str = "") -> str:
    return f"sms:{scope}:{phone}" if scope else f"sms:{phone}"


class DatabaseCounters(_Policy):
    """Counters in the counter_row table (the database serialises the conditional updates)."""

    def _row(self):
        from .models import CounterRow
        return CounterRow

    def _ensure(self, key: str) -> None:
        CR = self._row()
        CR.insert(key=key, count=0, window_end=0, locked_until=0).on_conflict_ignore().execute()

    def locked_until(self, subject, method, now):
        CR = self._row()
        until = CR.select(CR.locked_until).where(CR.key == _lock_key(subject, method)).scalar()
        return until if until and until > now else None

    def fail(self, subject, method, now):
        CR = self._row()
        key = _lock_key(subject, method)
        with database.atomic():
            self._ensure(key)
            fresh = CR.window_end <= now
            CR.update(count=pw.Case(None, [(fresh, 1)], CR.count + 1),
                      window_end=pw.Case(None, [(fresh, self.day_end(now))], CR.window_end)).where(CR.key == key).execute()
            count = CR.select(CR.count).where(CR.key == key).scalar()
            if count >= self.limit:
                end = self.lock_end(now)
                CR.update(count=0, locked_until=end).where(CR.key == key).execute()
                return end
        return None

    def succeed(self, subject, method):
        CR = self._row()
        CR.update(count=0).where(CR.key == _lock_key(subject, method)).execute()

    def reserve(self, subject, method, now):
        CR = self._row()
        key = _lock_key(subject, method)
        fkey = "flight:" + key
        with database.atomic():
            self._ensure(key)
            self._ensure(fkey)
            # a real write first: the row lock on PostgreSQL, the database write lock on SQLite, so the
            # read-decide-write below is serialised against every other reservation of this key
            CR.update(count=CR.count).where(CR.key == key).execute()
            row = CR.get(CR.key == key)
            flight = CR.get(CR.key == fkey)
            if row.locked_until and row.locked_until > now:
                return row.locked_until
            failures = row.count if row.window_end > now else 0
            in_flight = flight.count if flight.window_end > now else 0
            if failures + in_flight >= self.limit:
                return 0.0
            CR.update(count=in_flight + 1, window_end=now + FLIGHT_SECONDS).where(CR.key == fkey).execute()
        return None

    def release(self, subject, method):
        CR = self._row()
        fkey = "flight:" + _lock_key(subject, method)
        CR.update(count=pw.Case(None, [(CR.count > 0, CR.count - 1)], 0)).where(CR.key == fkey).execute()

    def failures(self, subject, method, now):
        CR = self._row()
        row = CR.get_or_none(CR.key == _lock_key(subject, method))
        return row.count if row is not None and row.window_end > now else 0

    def unlock(self, subject, methods=METHODS):
        CR = self._row()
        keys = [_lock_key(subject, m) for m in methods]
        CR.delete().where(CR.key.in_(keys + ["flight:" + k for k in keys])).execute()

    def take(self, key, limit, window, now):
        CR = self._row()
        with database.atomic():
            self._ensure(key)
            fresh = CR.window_end <= now
            n = (CR.update(count=pw.Case(None, [(fresh, 1)], CR.count + 1),
                           window_end=pw.Case(None, [(fresh, now + window)], CR.window_end))
                 .where((CR.key == key) & (fresh | (CR.count < limit))).execute())
            if n == 1:
                return None
            return CR.select(CR.window_end).where(CR.key == key).scalar() or now

    def take_sms(self, phone, now, scope=""):
        end = self.take(sms_key(phone, scope), self.sms_quota, self.sms_window, now)
        if end is not None:
            raise _quota_error(end - now)


_FAIL = """
local now = tonumber(ARGV[1]); local newend = tonumber(ARGV[2]); local limit = tonumber(ARGV[3])
local lockto = ARGV[4]; local ttl = tonumber(ARGV[5])
local v = redis.call('HMGET', KEYS[1], 'count', 'window_end')
local count = tonumber(v[1]) or 0; local we = tonumber(v[2]) or 0
if we <= now then count = 1; we = newend else count = count + 1 end
local locked = ''
if count >= limit then count = 0; locked = lockto; redis.call('HSET', KEYS[1], 'locked_until', lockto) end
redis.call('HSET', KEYS[1], 'count', count, 'window_end', string.format('%.6f', we))
redis.call('EXPIRE', KEYS[1], ttl)
return locked
"""

_RESERVE = """
local now = tonumber(ARGV[1]); local limit = tonumber(ARGV[2]); local flight = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'count', 'window_end', 'locked_until', 'inflight', 'inflight_until')
local count = tonumber(v[1]) or 0; local we = tonumber(v[2]) or 0; local lu = tonumber(v[3]) or 0
local inflight = tonumber(v[4]) or 0; local iu = tonumber(v[5]) or 0
if lu > now then return v[3] end
if we <= now then count = 0 end
if iu <= now then inflight = 0 end
if count + inflight >= limit then return '0' end
redis.call('HSET', KEYS[1], 'inflight', inflight + 1, 'inflight_until', string.format('%.6f', now + flight))
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], 86400 * 2) end
return ''
"""

_RELEASE = """
local n = tonumber(redis.call('HGET', KEYS[1], 'inflight')) or 0
if n > 0 then redis.call('HSET', KEYS[1], 'inflight', n - 1) end
return n
"""

_SMS = """
local now = tonumber(ARGV[1]); local window = tonumber(ARGV[2]); local limit = tonumber(ARGV[3])
local ttl = tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'count', 'window_end')
local count = tonumber(v[1]) or 0; local we = tonumber(v[2]) or 0
if we <= now then count = 1; we = now + window
elseif count < limit then count = count + 1
else return {0, string.format('%.6f', we)} end
redis.call('HSET', KEYS[1], 'count', count, 'window_end', string.format('%.6f', we))
redis.call('EXPIRE', KEYS[1], ttl)
return {1, string.format('%.6f', we)}
"""


class DurableLocks:
    """The lock ends RedisCounters keeps in the database, so that a lock survives a Redis restart: the
    locked_until column of counter_row, under the database backend's key (`lock:<method>:<subject>`)."""

    @staticmethod
    def _row():
        from .models import CounterRow
        return CounterRow

    def get(self, key: str, now: float) -> float | None:
        """The recorded lock end if it is after `now` (one lookup on the unique key)."""
        CR = self._row()
        until = CR.select(CR.locked_until).where(CR.key == key).scalar()
        return until if until and until > now else None

    def put(self, key: str, end: float) -> None:
        """Record a lock end; a later end already recorded is kept."""
        CR = self._row()
        (CR.insert(key=key, count=0, window_end=0, locked_until=end)
         .on_conflict(conflict_target=[CR.key],
                      update={CR.locked_until: pw.Case(None, [(CR.locked_until < end, end)], CR.locked_until)})
         .execute())

    def clear(self, keys: list[str]) -> None:
        CR = self._row()
        CR.delete().where(CR.key.in_(keys)).execute()


class RedisCounters(_Policy):
    """Counters in Redis hashes, changed by Lua scripts; fails closed. Lock ends are also recorded in the
    database (`DurableLocks`) and read from there when Redis has none."""

    def __init__(self, settings: Settings, client=None):
        super().__init__(settings)
        import redis
        self._errors = (redis.exceptions.RedisError, OSError)
        self.r = client or redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1, socket_timeout=1)
        self.prefix = settings.redis_key_prefix + "ctr:"
        self._fail = self.r.register_script(_FAIL)
        self._sms = self.r.register_script(_SMS)
        self._reserve = self.r.register_script(_RESERVE)
        self._release = self.r.register_script(_RELEASE)
        self.durable = DurableLocks()

    def _call(self, fn, *args, **kw):
        try:
            return fn(*args, **kw)
        except self._errors as exc:
            log.error("redis counters unavailable: %s", type(exc).__name__)
            from . import metrics
            metrics.inc("authz_dependency_errors_total", dependency="redis")
            raise AuthzError(E_UNAVAILABLE, headers={"Retry-After": "5"}) from None

    def locked_until(self, subject, method, now):
        key = _lock_key(subject, method)
        raw = self._call(self.r.hget, self.prefix + key, "locked_until")
        until = float(raw) if raw else 0.0
        return until if until > now else self.durable.get(key, now)

    def fail(self, subject, method, now):
        key = _lock_key(subject, method)
        end = self.lock_end(now)
        ttl = int(max(end, self.day_end(now)) - now) + 86_400
        locked = self._call(self._fail, keys=[self.prefix + key],
                            args=[repr(now), repr(self.day_end(now)), self.limit, repr(end), ttl])
        if not locked:
            return None
        self.durable.put(key, float(locked))  # the lock outlives a Redis restart (issue 10 finding 11)
        return float(locked)

    def succeed(self, subject, method):
        self._call(self.r.hset, self.prefix + _lock_key(subject, method), "count", 0)

    def reserve(self, subject, method, now):
        key = _lock_key(subject, method)
        out = self._call(self._reserve, keys=[self.prefix + key], args=[repr(now), self.limit, FLIGHT_SECONDS])
        out = out.decode() if isinstance(out, bytes) else out
        if out and float(out) > 0:
            return float(out)  # locked in Redis: no database read
        until = self.durable.get(key, now)  # Redis has no lock: it may have lost one (a restart)
        if until:
            if not out:  # the slot just taken is not used
                self.release(subject, method)
            return until
        return float(out) if out else None

    def release(self, subject, method):
        self._call(self._release, keys=[self.prefix + _lock_key(subject, method)])

    def failures(self, subject, method, now):
        count, window_end = self._call(self.r.hmget, self.prefix + _lock_key(subject, method), "count", "window_end")
        return int(count) if count and window_end and float(window_end) > now else 0

    def unlock(self, subject, methods=METHODS):
        keys = [_lock_key(subject, m) for m in methods]
        self.durable.clear(keys)  # first: a Redis error (503) must not leave the durable record behind
        self._call(self.r.delete, *[self.prefix + k for k in keys])

    def take(self, key, limit, window, now):
        ok, end = self._call(self._sms, keys=[self.prefix + key],
                             args=[repr(now), repr(float(window)), limit, int(window) + 60])
        return None if int(ok) == 1 else float(end)

    def take_sms(self, phone, now, scope=""):
        end = self.take(sms_key(phone, scope), self.sms_quota, self.sms_window, now)
        if end is not None:
            raise _quota_error(end - now)


def build_counters(settings: Settings) -> Counters:
    """Redis when redis_url is set, else the database."""
    return RedisCounters(settings) if settings.redis_url else DatabaseCounters(settings)
