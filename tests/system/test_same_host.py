"""R-AUTHZ-5, R-BIND-10 with real processes: one `authz serve` with two gunicorn workers. A binding ended
through one worker is denied by every worker on the very next request, however long the change-feed poll
(set to 10 s here, so only the same-host change signal can deliver it in time). Runs on SQLite, and on
PostgreSQL in the PostgreSQL pass."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from authz import clients
from tests.login_support import make_person, rid
from tests.system.test_multi_instance import _free_port, http

ROOT = Path(__file__).resolve().parents[2]
USCC = "91360100MA35HOST01"
pytestmark = pytest.mark.slow


@pytest.fixture
def server(svc, db_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": db_url, "AUTHZ_COOKIE_SECURE": "false", "AUTHZ_CHANGE_POLL_MS": "10000"}
    env.pop("REDIS_URL", None)
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "authz.cli", "serve", "--port", str(port), "--workers", "2"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    import time
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
        try:
            if http("GET", base + "/readyz")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        raise RuntimeError("not ready in 30 s")
    yield base
    proc.terminate()
    proc.wait(timeout=15)
    log.close()


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
