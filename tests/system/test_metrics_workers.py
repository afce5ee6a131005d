"""/metrics under gunicorn with two workers (issue 13, operators): every scrape answers the sum over both
workers, so a counter never goes back whichever worker a scrape reaches, and the business metrics an
on-call person watches are there: decisions (now incremented), decision latency, grant-cache loads,
logins by entry/step/outcome, the outbox depth."""
from __future__ import annotations

import re
import urllib.request

import pytest

from authz import clients
from tests.login_support import make_person, rid
from tests.system.serving import Instance, http, service_env

pytestmark = pytest.mark.slow


def _scrape(base: str) -> str:
    req = urllib.request.Request(base + "/metrics", headers={"Connection": "close"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def _value(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_counters_are_summed_over_workers_and_never_go_back(svc, directory, db_url, tmp_path):
    ent = directory.upsert_enterprise("91360100MA35METR1X", "指标测试有限公司", "ordinary")
    officer = make_person(svc, directory, "李四", rid("36010219900202004"), uid="p-metrics")
    directory.bind(officer, ent, "tax_officer", state="active", origin="hall")
    key = {"Authorization": "Bearer " + clients.create("metrics-checker", scopes="check")[1]}
    body = {"subject": "p-metrics", "domain": "ent:91360100MA35METR1X", "object": "biz.query", "action": "use"}
    inst = Instance(service_env(db_url), tmp_path / "serve.log")
    try:
        seen = []
        for round_ in range(6):
            for _ in range(10):  # fresh connections: spread over both workers
                assert http("POST", inst.base + "/api/v1/check", body, key)[1]["allowed"] is True
            http("POST", inst.base + "/api/v1/auth/login", {"entry": "personal", "account": "13900000000",
                                                             "password": "Wrong@2026x"})
            for _ in range(3):
                seen.append(_value(_scrape(inst.base), "authz_decisions_total", allowed="true"))
        assert seen == sorted(seen), f"a counter went back between scrapes: {seen}"
        assert seen[-1] == 60, seen  # every decision of both workers, none lost, none doubled
        text = _scrape(inst.base)
        assert _value(text, "authz_http_requests_total", endpoint="/api/v1/check", status="200") == 60
        assert _value(text, "authz_decision_seconds_count", call="check") == 60
        assert _value(text, "authz_grant_loads_total") >= 1
        assert _value(text, "authz_logins_total", entry="personal", step="password") == 6
        assert re.search(r'^authz_outbox_events\{status="pending"\} \d', text, re.M)
    finally:
        inst.stop()
