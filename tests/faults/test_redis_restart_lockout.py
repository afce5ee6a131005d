"""Issue 10 finding 11, as an attacker tries it: lock an account, then have Redis restart without
persistence (every key gone) and try again. A private redis-server backs the counters of a Service on the
test database (Flask test client, bearer-style `client: app` requests); the clock is the FrozenClock, so
the lock's end is reached by moving the clock, never by sleeping."""
from __future__ import annotations

import datetime as dt

import pytest

from api import create_app
from authz.clock import SHANGHAI
from authz.models import LoginLog
from authz.service import Service
from tests.faults.redis_support import private_redis  # noqa: F401  (fixture)
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD

pytestmark = [pytest.mark.redis, pytest.mark.slow]
MIDNIGHT = dt.datetime(2026, 3, 3, 0, 0, tzinfo=SHANGHAI).timestamp()  # after the clock fixture's 10:00


def attempt(client, password):
    r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": "13800000002",
                                                "password": password, "client": "app"})
    return r.status_code, r.get_json()


def test_R_LOGIN_11_a_lock_survives_a_redis_restart_until_midnight(settings, clock, world, private_redis):
    """R-LOGIN-11 (issue 10 finding 11): five wrong passwords lock the account until next midnight; Redis
    is killed and restarted empty; the correct password is still refused 423 account_locked (same lock
    end), and further wrong passwords are refused without being evaluated. A second before midnight it is
    still locked; just after midnight the correct password passes to the second factor."""
    svc = Service(settings.with_(redis_url=private_redis.url), clock=clock).start()
    try:
        client = create_app(service=svc).test_client()
        answers = [attempt(client, "Wrong@2026x") for _ in range(svc.settings.lockout_failures)]
        assert [s for s, _ in answers] == [401, 401, 401, 401, 423], answers
        assert answers[-1][1]["errors"]["locked_until"] == MIDNIGHT

        private_redis.restart()
        import redis
        assert redis.Redis.from_url(private_redis.url).dbsize() == 0, "the restart lost every key"

        status, data = attempt(client, PASSWORD)
        assert (status, data["code"]) == (423, "account_locked"), data
        assert data["errors"]["locked_until"] == MIDNIGHT and set(data) >= {"code", "status", "message", "errors"}
        evaluated = LoginLog.select().where(LoginLog.outcome == "password_wrong").count()
        assert [attempt(client, "Wrong@2026x")[0] for _ in range(5)] == [423] * 5
        assert LoginLog.select().where(LoginLog.outcome == "password_wrong").count() == evaluated == 4

        clock.set(MIDNIGHT - 1)
        assert attempt(client, PASSWORD)[0] == 423
        clock.set(MIDNIGHT + 1)
        status, data = attempt(client, PASSWORD)
        assert status == 200 and data["state"] == "second_factor", data
    finally:
        svc.close()
