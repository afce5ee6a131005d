"""Issue 10 finding 4, as an attacker tries it: 24 wrong passwords at once against one account, spread over
two gunicorn workers (8 threads), with the production argon2 cost so the verify is slow. R-LOGIN-11: at
most the limit (5) is ever evaluated, whatever the concurrency and the number of workers; the account ends
locked. The same through the certificate login endpoint (R-LOGIN-9): wrong certificate passwords, and
wrong account passwords. Runs on SQLite, and on PostgreSQL (and Redis counters when configured) in the
PostgreSQL pass. Requests are `client: app` (bearer style), no cookies."""
from __future__ import annotations

import os
import threading
import uuid

import pytest

from authz.models import LoginLog
from tests.cert_support import CERT_PASSWORD, SUBJECT, new_key, pem, validity
from tests.login_support import USCC, make_person, rid
from tests.system.serving import Instance, http, service_env

pytestmark = pytest.mark.slow


@pytest.fixture
def server(svc, db_url, tmp_path):
    extra = {}
    if os.environ.get("AUTHZ_REDIS_TEST_URL") and "postgresql" in db_url:
        # a prefix per test: the database is fresh per test, the shared Redis is not
        extra = {"REDIS_URL": os.environ["AUTHZ_REDIS_TEST_URL"], "AUTHZ_REDIS_KEY_PREFIX": f"authz-race-{uuid.uuid4().hex}:"}
    inst = Instance(service_env(db_url, **extra), tmp_path / "serve.log")
    yield inst.base
    inst.stop()
    if extra:
        import redis
        r = redis.Redis.from_url(extra["REDIS_URL"])
        keys = list(r.scan_iter(extra["AUTHZ_REDIS_KEY_PREFIX"] + "*"))
        if keys:
            r.delete(*keys)


def _burst(server, bodies, path="/api/v1/auth/login"):
    barrier = threading.Barrier(len(bodies))
    out = []

    def one(body):
        barrier.wait()
        status, data = http("POST", server + path, body)
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


def _slow(password: str) -> str:
    import argon2
    return argon2.PasswordHasher(time_cost=3, memory_cost=65536).hash(password)


@pytest.fixture
def cert_holder(svc, directory):
    """A tax officer of an enterprise with a filed certificate; both passwords at the production cost."""
    from authz.flows import certificates
    from authz.models import TaxCertificate
    ent = directory.upsert_enterprise(USCC, SUBJECT, "ordinary")
    person = make_person(svc, directory, "周九", rid("36010219880808008"), uid="p-cert-race", phones=["13800000078"])
    directory.bind(person, ent, "tax_officer", state="active", origin="hall")
    person.password_hash = _slow("Shui@2026ok")
    person.save()
    start, end = validity(svc)
    certificates.file(svc, by="service:ca", serial="CERTRACE01", uscc=USCC, kind="sm", subject=SUBJECT,
                      public_key=pem(new_key("sm")), valid_from=start, valid_to=end, password=CERT_PASSWORD)
    TaxCertificate.update(password_hash=_slow(CERT_PASSWORD)).where(TaxCertificate.serial == "CERTRACE01").execute()
    return person


CERT_BODY = {"serial": "CERTRACE01", "certificate_password": CERT_PASSWORD, "account": "13800000078",
             "password": "Shui@2026ok", "client": "app"}


def _evaluated(person, outcome):
    return LoginLog.select().where((LoginLog.person == person) & (LoginLog.outcome == outcome)).count()


def test_R_LOGIN_11_concurrent_wrong_certificate_passwords_evaluate_at_most_the_limit(svc, cert_holder, server):
    """R-LOGIN-11 / R-LOGIN-9 (issue 10 finding 4): 24 concurrent certificate logins with the right account
    password and a wrong certificate password: exactly 5 certificate passwords are evaluated (4 answer 401
    certificate_invalid, the 5th locks: 423); every other one is refused before its verifies (423 or 429).
    Then even both right passwords are refused: the method `certificate` is locked."""
    answers = _burst(server, [dict(CERT_BODY, certificate_password="Wrong@2026x")] * 24, "/api/v1/auth/certificate")
    assert all(s in (401, 423, 429) for s, _ in answers), answers
    assert sum(1 for a in answers if a == (401, "certificate_invalid")) == 4, answers
    assert _evaluated(cert_holder, "certificate_invalid") == 4
    status, data = http("POST", server + "/api/v1/auth/certificate", CERT_BODY)
    assert (status, data["code"]) == (423, "account_locked")


def test_R_LOGIN_11_concurrent_wrong_account_passwords_through_certificate_login(svc, cert_holder, server):
    """R-LOGIN-11 (issue 10 finding 4): 24 concurrent certificate logins with a wrong account password:
    exactly 5 account passwords are evaluated, through the same password step as password login, and the
    method `password` ends locked for password login too."""
    answers = _burst(server, [dict(CERT_BODY, password="Wrong@2026x")] * 24, "/api/v1/auth/certificate")
    assert all(s in (401, 423, 429) for s, _ in answers), answers
    assert sum(1 for a in answers if a == (401, "password_wrong")) == 4, answers
    assert _evaluated(cert_holder, "password_wrong") == 4
    status, data = http("POST", server + "/api/v1/auth/login",
                        {"entry": "personal", "account": "13800000078", "password": "Shui@2026ok", "client": "app"})
    assert (status, data["code"]) == (423, "account_locked")
