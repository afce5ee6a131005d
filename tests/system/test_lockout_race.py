"""Issue 10 finding 4, as an attacker tries it: 24 wrong passwords at once against one account, spread over
two gunicorn workers (8 threads), with the production argon2 cost so the verify is slow. R-LOGIN-11: at
most the limit (5) is ever evaluated, whatever the concurrency and the number of workers; the account ends
locked. Runs on SQLite, and on PostgreSQL (and Redis counters when configured) in the PostgreSQL pass."""
from __future__ import annotations

import os
import threading

import pytest

from authz.models_login import LoginLog
from tests.login_support import make_person, rid
from tests.system.serving import Instance, http, service_env

pytestmark = pytest.mark.slow


@pytest.fixture
def server(svc, db_url, tmp_path):
    extra = {}
    if os.environ.get("AUTHZ_REDIS_TEST_URL") and "postgresql" in db_url:
        extra = {"REDIS_URL": os.environ["AUTHZ_REDIS_TEST_URL"], "AUTHZ_REDIS_KEY_PREFIX": f"authz-race-{os.getpid()}:"}
    inst = Instance(service_env(db_url, **extra), tmp_path / "serve.log")
    yield inst.base
    inst.stop()


def _burst(server, bodies):
    barrier = threading.Barrier(len(bodies))
    out = []

    def one(body):
        barrier.wait()
        status, data = http("POST", server + "/api/v1/auth/login", body)
        out.append((status, data.get("code")))

    threads = [threading.Thread(target=one, args=(b,)) for b in bodies]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return out


def test_R_LOGIN_11_concurrent_wrong_passwords_evaluate_at_most_the_limit(svc, directory, server):
    """R-LOGIN-11 (issue 10 finding 4): of 24 concurrent wrong passwords exactly 5 are evaluated (4 answer
    401 password_wrong, the 5th locks: 423); every other one is refused before its verify (423 locked or
    429 attempts_in_progress). Then even the correct password is refused: the account is locked."""
    import argon2
    person = make_person(svc, directory, "周八", rid("36010219870707007"), uid="p-race", phones=["13800000077"])
    person.password_hash = argon2.PasswordHasher(time_cost=3, memory_cost=65536).hash("Shui@2026ok")
    person.save()  # the production cost: a slow verify, the window the race needs
    wrong = {"entry": "personal", "account": "13800000077", "password": "Wrong@2026x", "client": "app"}
    answers = _burst(server, [wrong] * 24)
    assert all(s in (401, 423, 429) for s, _ in answers), answers
    assert sum(1 for a in answers if a == (401, "password_wrong")) == 4, answers
    evaluated = LoginLog.select().where((LoginLog.person == person) & (LoginLog.outcome == "password_wrong")).count()
    assert evaluated == 4
    status, data = http("POST", server + "/api/v1/auth/login", dict(wrong, password="Shui@2026ok"))
    assert (status, data["code"]) == (423, "account_locked")
