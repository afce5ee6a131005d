"""/readyz checks every dependency the configuration uses (issue 13, operators): with REDIS_URL set, a Redis
that does not answer makes the instance not ready (counters fail closed without it, R-LOGIN-11), so a load
balancer stops sending it logins instead of the first login answering 503."""
from __future__ import annotations

import os

from api import create_app
from authz.service import Service

REDIS_URL = os.environ.get("AUTHZ_REDIS_TEST_URL", "redis://127.0.0.1:6379/13")


def _ready(svc_settings, clock):
    svc = Service(svc_settings, clock=clock).start(follow=False)
    try:
        r = create_app(service=svc).test_client().get("/readyz")
        return r.status_code, r.get_json()
    finally:
        svc.close()


def test_without_redis_configured_readyz_does_not_ask_for_it(settings, clock):
    status, body = _ready(settings, clock)
    assert status == 200 and "redis" not in body and body["database"] and body["policy"]


def test_a_redis_that_does_not_answer_makes_the_instance_not_ready(settings, clock):
    status, body = _ready(settings.with_(redis_url="redis://127.0.0.1:1/0"), clock)
    assert status == 503 and body["redis"] is False and body["status"] == "not_ready"
    assert body["database"] is True  # only the dependency that failed is named


def test_a_live_redis_is_ready(settings, clock):
    status, body = _ready(settings.with_(redis_url=REDIS_URL), clock)
    assert status == 200 and body["redis"] is True
