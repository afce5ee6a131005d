"""Issue 5 faults: Redis goes away and comes back. A private redis-server on its own port (started and
killed by the test, so the machine's shared Redis is untouched) backs the counters and the change
wake-ups of a Service on the test database.

* checks keep answering (grants come from the database and memory, the change feed falls back to polling);
* counters fail closed: a login attempt gets 503 counters_unavailable, never an unlimited guess;
* recovery is automatic: once Redis is back, the same Service counts again, with no restart."""
from __future__ import annotations

import pytest

from api import create_app
from authz.service import Service
from tests.login_support import *  # noqa: F401,F403
from tests.login_support import PASSWORD, USCC
from tests.faults.redis_support import private_redis  # noqa: F401  (fixture)

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def login_attempt(client, password):
    r = client.post("/api/v1/auth/login", json={"entry": "personal", "account": "13800000002", "password": password})
    return r.status_code, r.get_json()["code"] if r.status_code != 200 else "ok"


def test_redis_outage_checks_keep_answering_counters_fail_closed_and_recover(settings, clock, world, private_redis):
    """R-LOGIN-11 / R-SMS-1 / R-AUTHZ-5 under a Redis outage: decisions continue, counting refuses, and both
    come back on their own when Redis returns."""
    svc = Service(settings.with_(redis_url=f"redis://127.0.0.1:{private_redis.port}/0"), clock=clock).start()
    try:
        client = create_app(service=svc).test_client()
        check = ("p-officer", f"ent:{USCC}", "biz.query", "use")
        assert svc.enforcer.can(*check)
        assert login_attempt(client, "Wrong@2026x") == (401, "password_wrong")

        private_redis.stop()
        assert svc.enforcer.can(*check), "checks answer from the database and memory"
        svc.enforcer.grants.invalidate(None, None)
        assert svc.enforcer.can(*check), "even a cold cache reads the database, not Redis"
        assert login_attempt(client, "Wrong@2026x") == (503, "counters_unavailable"), "fail closed"
        assert login_attempt(client, PASSWORD) == (503, "counters_unavailable"), "no unlimited guesses"

        private_redis.start()  # same port, empty: the earlier failure count is gone with the old process
        assert login_attempt(client, "Wrong@2026x") == (401, "password_wrong"), "recovered without a restart"
        codes = [login_attempt(client, "Wrong@2026x")[1] for _ in range(4)]
        assert codes[-1] == "account_locked", codes
    finally:
        svc.close()
