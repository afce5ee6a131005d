"""R-AUTHZ-5, R-BIND-10 with real processes: one `authz serve` with two gunicorn workers. A binding ended
through one worker is denied by every worker on the very next request, however long the change-feed poll
(set to 10 s here, so only the same-host change signal can deliver it in time). Runs on SQLite, and on
PostgreSQL in the PostgreSQL pass."""
from __future__ import annotations


import pytest

from authz import clients
from tests.login_support import make_person, rid
from tests.system.serving import Instance, http, service_env

USCC = "91360100MA35HOST01"
pytestmark = pytest.mark.slow


@pytest.fixture
def server(svc, db_url, tmp_path):
    inst = Instance(service_env(db_url, AUTHZ_CHANGE_POLL_MS="10000"), tmp_path / "serve.log")
    yield inst.base
    inst.stop()


def test_R_AUTHZ_5_binding_ended_through_one_worker_is_denied_by_every_worker_at_once(svc, directory, server):
    """R-AUTHZ-5, R-BIND-10: after the end call returns, 40 checks on fresh connections (spread over both
    workers, whose caches held "allowed") are all denied; none waits for a poll."""
    ent = directory.upsert_enterprise(USCC, "同机测试有限公司", "ordinary")
    officer = make_person(svc, directory, "李四", rid("36010219900202003"), uid="p-host-officer")
    binding = directory.bind(officer, ent, "tax_officer", state="active", origin="hall")
    check = {"Authorization": "Bearer " + clients.create("checker", scopes="check")[1]}
    hall = {"Authorization": "Bearer " + clients.create("hall-desk", scopes="hall")[1]}
    body = {"subject": "p-host-officer", "domain": f"ent:{USCC}", "object": "biz.query", "action": "use"}
    assert all(http("POST", server + "/api/v1/check", body, check)[1]["allowed"] for _ in range(16))
    status, out = http("POST", f"{server}/api/v1/integration/hall/bindings/{binding.id}/end", {"operator": "hall-01"}, hall)
    assert status == 200, out
    answers = [http("POST", server + "/api/v1/check", body, check)[1]["allowed"] for _ in range(40)]
    assert answers == [False] * 40, f"{answers.count(True)} stale answers after the end call returned"
