"""Counters behind one interface (R-LOGIN-11, R-SMS-1): the database backend and the Redis backend
(against a real server; skipped cleanly when none is reachable), atomic under concurrency, and the Redis
backend failing closed."""
from __future__ import annotations

import datetime as dt
import os
import threading
import uuid

import pytest

from authz.clock import SHANGHAI
from authz.counters import DatabaseCounters, RedisCounters
from authz.db import database
from authz.errors import AuthzError
from tests.login_support import *  # noqa: F401,F403

REDIS_URL = os.environ.get("AUTHZ_REDIS_TEST_URL", "redis://127.0.0.1:6379/13")
T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI).timestamp()


def _redis_or_skip():
    import redis
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except Exception:
        pytest.skip(f"no Redis at {REDIS_URL}")


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def counters(request, svc):
    if request.param == "database":
        yield DatabaseCounters(svc.settings)
        return
    _redis_or_skip()
    prefix = f"authz-test-{uuid.uuid4().hex}:"
    c = RedisCounters(svc.settings.with_(redis_url=REDIS_URL, redis_key_prefix=prefix))
    yield c
    keys = list(c.r.scan_iter(prefix + "*"))
    if keys:
        c.r.delete(*keys)


def test_R_LOGIN_11_lock_after_five_until_midnight(counters):
    """R-LOGIN-11: the fifth failure locks the method until next Shanghai midnight; others are unaffected."""
    for _ in range(4):
        assert counters.fail("p-x", "password", T0) is None
    until = counters.fail("p-x", "password", T0 + 1)
    assert until == dt.datetime(2026, 3, 3, tzinfo=SHANGHAI).timestamp()
    assert counters.locked_until("p-x", "password", T0 + 2) == until
    assert counters.locked_until("p-x", "sms", T0 + 2) is None
    assert counters.locked_until("p-x", "password", until) is None


def test_R_LOGIN_11_success_resets_and_unlock_lifts(counters):
    """R-LOGIN-11: a success resets the count; unlock (password reset) lifts a lock."""
    for _ in range(4):
        counters.fail("p-x", "sms", T0)
    counters.succeed("p-x", "sms")
    for _ in range(4):
        assert counters.fail("p-x", "sms", T0) is None
    assert counters.fail("p-x", "sms", T0)
    counters.unlock("p-x")
    assert counters.locked_until("p-x", "sms", T0) is None


def test_R_SMS_1_quota_window_from_the_first(counters):
    """R-SMS-1: five per phone, the window starting at the first; then a new window."""
    for i in range(5):
        counters.take_sms("13600000001", T0 + i * 60)
    with pytest.raises(AuthzError) as e:
        counters.take_sms("13600000001", T0 + 599)
    assert e.value.code == "sms_quota" and e.value.headers["Retry-After"] == "1"
    counters.take_sms("13600000001", T0 + 600)


def test_R_SMS_1_quota_is_atomic_under_concurrency(counters, svc):
    """R-SMS-1: 20 concurrent sends to one phone: exactly five pass, on both backends."""
    ok = []
    barrier = threading.Barrier(20)

    def send():
        database.connect(reuse_if_open=True)
        try:
            barrier.wait()
            counters.take_sms("13600000009", T0)
            ok.append(1)
        except AuthzError:
            pass
        finally:
            database.close()

    threads = [threading.Thread(target=send) for _ in range(20)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(ok) == 5


def test_R_LOGIN_11_failures_are_atomic_under_concurrency(counters, svc):
    """R-LOGIN-11: 10 concurrent failures: exactly two of them lock (the 5th and the 10th); none lost."""
    locks = []
    barrier = threading.Barrier(10)

    def fail():
        database.connect(reuse_if_open=True)
        try:
            barrier.wait()
            if counters.fail("p-y", "password", T0):
                locks.append(1)
        finally:
            database.close()

    threads = [threading.Thread(target=fail) for _ in range(10)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(locks) == 2


def test_R_LOGIN_11_reservations_never_exceed_the_limit_under_concurrency(counters, svc):
    """R-LOGIN-11 (issue 10 finding 4): 24 concurrent attempts reserve before their slow check; at most
    the limit (5) are ever reserved, whatever the interleaving; the rest are refused (0.0: in flight).
    After 5 failures settle, the next reservation answers the lock end."""
    granted, refused = [], []
    barrier = threading.Barrier(24)

    def attempt():
        database.connect(reuse_if_open=True)
        try:
            barrier.wait()
            (granted if counters.reserve("p-z", "password", T0) is None else refused).append(1)
        finally:
            database.close()

    threads = [threading.Thread(target=attempt) for _ in range(24)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(granted) == 5 and len(refused) == 19
    ends = [counters.fail("p-z", "password", T0) for _ in granted]
    [counters.release("p-z", "password") for _ in granted]
    assert ends[-1] and not any(ends[:-1])
    assert counters.reserve("p-z", "password", T0 + 1) == ends[-1]


def test_R_LOGIN_11_a_success_frees_the_slots_and_a_lost_reservation_expires(counters, svc):
    """R-LOGIN-11: a success resets the failures, so the 5 slots are free again; a reservation a crashed
    worker never released stops counting after FLIGHT_SECONDS."""
    from authz.counters import FLIGHT_SECONDS
    for _ in range(4):
        assert counters.reserve("p-w", "password", T0) is None
        counters.fail("p-w", "password", T0)
        counters.release("p-w", "password")
    assert counters.reserve("p-w", "password", T0) is None  # the 5th slot, never released (a crash)
    assert counters.reserve("p-w", "password", T0) == 0.0
    assert counters.reserve("p-w", "password", T0 + FLIGHT_SECONDS + 1) is None
    counters.succeed("p-w", "password")
    counters.release("p-w", "password")
    for _ in range(4):
        assert counters.reserve("p-w", "password", T0 + FLIGHT_SECONDS + 2) is None


@pytest.mark.redis
def test_redis_counters_fail_closed_when_redis_is_down(svc):
    """Counters must not fail open: Redis unreachable -> counters_unavailable (503) on every operation,
    and a login is refused rather than let through uncounted."""
    c = RedisCounters(svc.settings.with_(redis_url="redis://127.0.0.1:1/0"))
    for call in (lambda: c.fail("p-x", "password", T0), lambda: c.locked_until("p-x", "password", T0),
                 lambda: c.take_sms("13600000001", T0), lambda: c.unlock("p-x"), lambda: c.succeed("p-x", "sms")):
        with pytest.raises(AuthzError) as e:
            call()
        assert e.value.code == "counters_unavailable" and e.value.status == 503


@pytest.mark.redis
def test_redis_counters_fail_closed_at_login(svc, world):
    """A login with counters in an unreachable Redis is refused with 503, never let through."""
    from authz.flows import login
    from tests.login_support import PASSWORD
    svc.settings = svc.settings.with_(redis_url="redis://127.0.0.1:1/0")
    svc.ports = None
    with pytest.raises(AuthzError) as e:
        login.start(svc, entry="personal", account="13800000004", password=PASSWORD)
    assert e.value.code == "counters_unavailable"


@pytest.fixture
def redis_counters(svc):
    """RedisCounters on the shared test Redis under a private key prefix (only its own keys are touched)."""
    _redis_or_skip()
    prefix = f"authz-test-{uuid.uuid4().hex}:"
    c = RedisCounters(svc.settings.with_(redis_url=REDIS_URL, redis_key_prefix=prefix))

    def flush():  # what a Redis restart without persistence does to this deployment's keys
        keys = list(c.r.scan_iter(prefix + "*"))
        if keys:
            c.r.delete(*keys)
    c.flush = flush
    yield c
    flush()


def _lock(c, subject="p-d", method="password", now=T0):
    ends = [c.fail(subject, method, now) for _ in range(c.limit)]
    assert ends[-1] and not any(ends[:-1])
    return ends[-1]


@pytest.mark.redis
def test_R_LOGIN_11_a_lock_survives_a_redis_flush(redis_counters):
    """R-LOGIN-11 (issue 10 finding 11): a lock written by the Redis backend is also recorded in the
    database; after Redis lost every key, locked_until and reserve still answer the lock end (the reserve
    takes no slot), other methods stay free, and the lock ends at its end."""
    c = redis_counters
    until = _lock(c)
    c.flush()
    assert c.locked_until("p-d", "password", T0 + 60) == until
    for _ in range(3 * c.limit):  # each refused reservation gives back the slot it took
        assert c.reserve("p-d", "password", T0 + 60) == until
    assert c.locked_until("p-d", "sms", T0 + 60) is None
    assert c.locked_until("p-d", "password", until) is None
    assert c.reserve("p-d", "password", until) is None


@pytest.mark.redis
def test_R_LOGIN_11_R_PWD_4_unlock_clears_redis_and_the_durable_record(redis_counters):
    """R-LOGIN-11 / R-PWD-4 (issue 10 finding 11): a password reset lifts the lock in Redis and in the
    database, so a later Redis flush does not bring it back; five reservations are free again."""
    from authz.models import CounterRow
    c = redis_counters
    _lock(c, method="sms")
    assert CounterRow.get(CounterRow.key == "lock:sms:p-d").locked_until
    c.unlock("p-d")
    assert CounterRow.get_or_none(CounterRow.key == "lock:sms:p-d") is None
    c.flush()
    assert c.locked_until("p-d", "sms", T0) is None
    assert all(c.reserve("p-d", "sms", T0) is None for _ in range(c.limit))


@pytest.mark.redis
def test_R_LOGIN_11_a_second_lock_keeps_the_later_end(redis_counters, svc):
    """R-LOGIN-11 (issue 10 finding 11): the durable record keeps the latest lock end (minutes mode: the
    second lock of the day ends later than the first)."""
    c = RedisCounters(svc.settings.with_(redis_url=REDIS_URL, redis_key_prefix=redis_counters.prefix[:-4],
                                         lockout_mode="minutes", lockout_minutes=120))
    first = _lock(c)
    second = _lock(c, now=first + 1)
    assert second == first + 1 + 7200
    c.durable.put("lock:password:p-d", first)  # an older end arriving late changes nothing
    redis_counters.flush()
    assert c.locked_until("p-d", "password", first + 2) == second


@pytest.mark.redis
def test_R_LOGIN_11_the_durable_read_is_one_indexed_lookup_only_when_redis_has_no_lock(redis_counters, caplog):
    """Issue 10 finding 11, cost: Redis stays the fast path. While Redis holds the lock, a check makes no
    database query; when it has none (the usual case, or after a restart) exactly one SELECT on
    counter_row's unique key (SQLite: `SEARCH ... USING INDEX`)."""
    import logging
    c = redis_counters

    def queries(fn):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            fn()
        return [r.msg for r in caplog.records if r.name == "peewee"]

    assert len(queries(lambda: c.locked_until("p-q", "password", T0))) == 1
    reserve_queries = queries(lambda: c.reserve("p-q", "password", T0))
    assert len(reserve_queries) == 1
    c.release("p-q", "password")
    until = _lock(c, "p-q")
    assert queries(lambda: c.locked_until("p-q", "password", T0)) == []
    assert queries(lambda: c.reserve("p-q", "password", T0)) == []
    c.flush()
    (sql, params), = queries(lambda: c.locked_until("p-q", "password", T0))
    assert c.locked_until("p-q", "password", T0) == until
    if database.obj.__class__.__name__.startswith("Sqlite"):
        plan = " ".join(str(row) for row in database.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan


def test_R_LOGIN_11_the_database_backend_is_durable_as_it_stands(svc):
    """Issue 10 finding 11: the database backend keeps its locks in counter_row; a new backend object (a
    restarted worker) sees the lock."""
    until = _lock(DatabaseCounters(svc.settings))
    assert DatabaseCounters(svc.settings).locked_until("p-d", "password", T0 + 1) == until
    assert DatabaseCounters(svc.settings).reserve("p-d", "password", T0 + 1) == until
