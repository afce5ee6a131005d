"""Issue 14 under gunicorn with two workers: a session opened anywhere (here: by another process on the
same database, as another instance's login would) is read ahead by both workers, so the business systems'
first checks of that session never wait for the database on whichever worker serves them; and a worker
starting reads the newest live sessions' pairs. Counted from /metrics (summed over the workers)."""
from __future__ import annotations

import time

import pytest

from authz import clients, sessions
from authz.sessions import Identity
from authz.vocab import Entry
from tests.login_support import make_person, rid
from tests.system.serving import Instance, http, service_env
from tests.system.test_metrics_workers import _scrape, _value

pytestmark = pytest.mark.slow
USCC = "91360100MA35WRMW1X"
DOM = f"ent:{USCC}"


def _eventually(pred, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_issue14_first_checks_of_new_sessions_are_cache_hits_on_both_workers(svc, directory, db_url, tmp_path):
    ent = directory.upsert_enterprise(USCC, "预热测试有限公司", "ordinary")
    people = []
    for i in range(3):
        p = make_person(svc, directory, f"员工{i}", rid(f"3601021990020210{i}"), uid=f"p-wrm-{i}")
        b = directory.bind(p, ent, "tax_officer", state="active", origin="hall")
        people.append((p, b))
    # one session before the instance starts: its workers read it at start
    sessions.create(svc, people[0][0], Identity(Entry.ENTERPRISE, DOM, "tax_officer", binding_id=people[0][1].id))
    key = {"Authorization": "Bearer " + clients.create("warm-checker", scopes="check")[1]}
    inst = Instance(service_env(db_url), tmp_path / "serve.log")
    try:
        assert _eventually(lambda: _value(_scrape(inst.base), "authz_grants_warmed_total") >= 2)
        for p, b in people[1:]:  # logins elsewhere while the instance runs
            sessions.create(svc, p, Identity(Entry.ENTERPRISE, DOM, "tax_officer", binding_id=b.id))
        assert _eventually(lambda: _value(_scrape(inst.base), "authz_grants_warmed_total", source="session") >= 4), \
            "each of the two workers read each of the two new sessions' pairs"
        for _ in range(6):
            for p, _b in people:  # fresh connections: spread over both workers
                body = {"subject": p.uid, "domain": DOM, "object": "biz.query", "action": "use"}
                assert http("POST", inst.base + "/api/v1/check", body, key)[1]["allowed"] is True
        text = _scrape(inst.base)
        assert _value(text, "authz_decisions_total", allowed="true") == 18
        assert _value(text, "authz_grant_loads_total") == 0, "no check waited for the database"
    finally:
        inst.stop()
