"""R-AUTHZ-5: a write in one worker reaches the enforcer of another worker (separate Service objects on
the same database stand in for separate processes; the multi-process tests live with issue 5)."""
import os
import threading
import time

import pytest

from authz.service import Service
from tests.binding_support import move

DOM = "ent:91360100MA35ABCD1X"
REDIS_URL = os.environ.get("AUTHZ_REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def _redis_up() -> bool:
    import redis
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


def _eventually(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.005)
    return pred()


def _second_worker(settings, clock):
    other = Service(settings, clock=clock).start(upgrade=False, follow=True)
    return other


def _setup(directory):
    ent = directory.upsert_enterprise("91360100MA35ABCD1X", "示例科技有限公司", "ordinary")
    p = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-officer")
    return ent, p


def _check_in_thread(svc, *args):
    """Run a check on a thread of its own (its own connection), as another worker's request would."""
    out = {}

    def run():
        svc.db.connect(reuse_if_open=True)
        out["v"] = svc.enforcer.can(*args)
        svc.db.close()
    t = threading.Thread(target=run)
    t.start()
    t.join()
    return out["v"]


@pytest.mark.parametrize("with_redis", [False, True])
def test_R_AUTHZ_5_binding_change_reaches_other_worker(settings, svc, directory, clock, with_redis):
    """R-AUTHZ-5: a binding added and then deleted in worker A changes worker B's cached answer."""
    if with_redis:
        if not _redis_up():
            pytest.skip("Redis not reachable")
        settings = settings.with_(redis_url=REDIS_URL, change_poll_ms=2000)  # only the wake-up can be fast
    ent, p = _setup(directory)
    other = _second_worker(settings, clock)
    writer = svc
    try:
        args = ("p-officer", DOM, "biz.query", "use")
        assert _check_in_thread(other, *args) is False  # cached as "no grants" in B
        writer = Service(settings, clock=clock).start(upgrade=False, follow=False) if with_redis else svc
        from authz.directory import Directory
        b = Directory(writer).bind(p, ent, "tax_officer", state="active", origin="hall")
        t0 = time.monotonic()
        assert _eventually(lambda: _check_in_thread(other, *args) is True)
        if with_redis:
            assert time.monotonic() - t0 < 1.0, "the Redis wake-up, not the 2 s poll, delivered it"
        move(writer, b, "deleted")
        assert _eventually(lambda: _check_in_thread(other, *args) is False)
    finally:
        other.close()
        if with_redis:
            writer.close()


def test_R_AUTHZ_5_policy_reload_reaches_other_worker(settings, svc, directory, clock):
    """R-AUTHZ-5 / R-AUTHZ-4: a rule file installed through one worker is loaded by another."""
    from authz import policystore
    from pathlib import Path
    other = _second_worker(settings, clock)
    try:
        src = Path(settings.rules_path).read_text(encoding="utf-8")
        narrowed = src.replace("p, invoice_officer, kind:enterprise, biz.query, use\n", "")
        index, _ = policystore.install(settings.model_path, narrowed, by="test")
        assert _eventually(lambda: other.enforcer.index.digest == index.digest)
    finally:
        other.close()
