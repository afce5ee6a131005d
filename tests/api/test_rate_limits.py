"""Rate limits (issue 13, integrators and operators; ENGINEERING.md: a rate limit believes X-Forwarded-For
only for trusted proxy hops): one budget per address across the public endpoints, one per session across
the account centres, RateLimit-* fields on every counted answer, 429 rate_limited with Retry-After, and
nothing at all on the check endpoints. Tried as a script would: rotating endpoints, rotating a forged
X-Forwarded-For, a second worker."""
from __future__ import annotations

import os
import uuid

import pytest

from api import create_app
from authz import clients
from authz.config import ConfigError, Settings
from authz.service import Service

REDIS_URL = os.environ.get("AUTHZ_REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def _app(settings, clock, **overrides):
    svc = Service(settings.with_(**overrides), clock=clock).start(upgrade=False, follow=False)
    return svc, create_app(service=svc)


@pytest.fixture
def limited(svc, settings, clock):
    other, app = _app(settings, clock, rate_limit_public="3/minute", rate_limit_account="4/minute")
    yield app.test_client()
    other.close()


def _login(c, **headers):
    return c.post("/api/v1/auth/login", json={}, headers=headers)  # refused by validation: still counted


def test_issue13_public_endpoints_share_one_budget_per_address(limited):
    """Issue 13: three public requests, on different endpoints, spend the address's budget; the fourth is
    429 rate_limited with Retry-After and the RateLimit fields, in Chinese by default."""
    first = _login(limited)
    assert first.status_code == 422
    assert first.headers["RateLimit-Limit"] == "3" and first.headers["RateLimit-Remaining"] == "2"
    assert 0 <= int(first.headers["RateLimit-Reset"]) <= 60
    assert limited.post("/api/v1/register", json={}).status_code == 422
    assert limited.post("/api/v1/password-reset", json={}).headers["RateLimit-Remaining"] == "0"
    refused = limited.post("/api/v1/phone-recovery", json={})
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["code"] == "rate_limited" and body["message"] == "操作过于频繁，请稍后再试"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 and refused.headers["RateLimit-Remaining"] == "0"
    en = _login(limited, **{"Accept-Language": "en"})
    assert en.status_code == 429 and en.get_json()["message"].startswith("Too many requests")


def test_issue13_a_forged_forwarded_for_buys_no_new_budget(limited):
    """Issue 13 / ENGINEERING.md: without a trusted proxy, X-Forwarded-For is ignored, so rotating it
    does not reset the count."""
    codes = [_login(limited, **{"X-Forwarded-For": f"198.51.100.{i}"}).status_code for i in range(5)]
    assert codes == [422, 422, 422, 429, 429]


def test_issue13_behind_a_trusted_proxy_each_client_address_has_its_own_budget(svc, settings, clock):
    """Issue 13: with AUTHZ_TRUSTED_PROXIES=1 the proxy's X-Forwarded-For names the client; two clients
    behind the same proxy are counted apart, and a hop the client adds in front is not believed."""
    other, app = _app(settings, clock, rate_limit_public="2/minute", trusted_proxies=1)
    try:
        c = app.test_client()
        a = {"X-Forwarded-For": "203.0.113.7"}
        b = {"X-Forwarded-For": "203.0.113.8"}
        assert [_login(c, **a).status_code for _ in range(3)] == [422, 422, 429]
        assert _login(c, **b).status_code == 422
        forged = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}  # the client's own hop, then the proxy's
        assert _login(c, **forged).status_code == 429
    finally:
        other.close()


def test_issue13_check_endpoints_are_never_limited_nor_pay_for_it(limited, svc):
    """Issue 13 decision (api/ratelimit.py): service-authenticated check calls are sized by capacity, not
    limited; no RateLimit fields, however many."""
    key = clients.create("rl-checker", scopes="check")[1]
    body = {"subject": "p-none", "domain": "ent:91360100MA35NONE1X", "object": "biz.query", "action": "use"}
    for _ in range(10):
        r = limited.post("/api/v1/check", json=body, headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200 and "RateLimit-Limit" not in r.headers


def test_issue13_account_budget_is_per_session(limited):
    """Issue 13: the account centres count per session (else per address): one session spending its
    budget does not refuse another's."""
    one = {"Authorization": "Bearer azs_" + "A" * 43}
    two = {"Authorization": "Bearer azs_" + "B" * 43}
    codes = [limited.get("/api/v1/account/session", headers=one).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    r = limited.get("/api/v1/account/session", headers=two)
    assert r.status_code == 401 and r.headers["RateLimit-Remaining"] == "3"


def test_issue13_with_redis_every_worker_shares_the_count(svc, settings, clock):
    """Issue 13: with REDIS_URL the budget is one for every worker and instance (two apps stand in for two
    workers): a script cannot multiply it by spreading requests."""
    import redis
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("Redis not reachable")
    apps = [_app(settings, clock, redis_url=REDIS_URL, rate_limit_public="4/minute", trusted_proxies=1)
            for _ in range(2)]
    try:
        me = {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}"}  # a fresh address: counts left by earlier runs do not meet it
        clients_ = [app.test_client() for _, app in apps]
        codes = [_login(clients_[i % 2], **me).status_code for i in range(6)]
        assert codes == [422, 422, 422, 422, 429, 429]
    finally:
        for svc_, _ in apps:
            svc_.close()


def test_issue13_limits_are_validated_at_start(settings):
    """Issue 13 (configuration validated): a limit that is not in the notation is refused with its name."""
    with pytest.raises(ConfigError) as e:
        Settings.from_env({"AUTHZ_RATE_LIMIT_PUBLIC": "lots", "DATABASE_URL": settings.database_url})
    assert "AUTHZ_RATE_LIMIT_PUBLIC" in str(e.value)
    ok = Settings.from_env({"AUTHZ_RATE_LIMIT_ACCOUNT": "100/minute; 1000/day", "AUTHZ_RATE_LIMIT_PUBLIC": "off",
                            "DATABASE_URL": settings.database_url})
    assert ok.rate_limit_public == "off"


def test_issue13_polling_a_qr_ticket_spends_no_public_budget(limited):
    """Issue 13 / R-LOGIN-7: a login page polls its QR ticket every two seconds; those reads do not count,
    so open QR panels in a tax hall do not refuse the password logins behind the same address."""
    for _ in range(10):
        r = limited.get("/api/v1/auth/qr/azf_" + "x" * 40)
        assert r.status_code != 429 and "RateLimit-Limit" not in r.headers
    assert _login(limited).headers["RateLimit-Remaining"] == "2"
