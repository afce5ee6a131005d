"""Issue 5 topology: `authz dev instances` starts several `authz serve` instances on consecutive ports
against one database (and Redis when configured), and stops them all on SIGTERM. R-AUTHZ-5's consistency
across such instances is proved in test_multi_instance.py; this proves the command."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_pair() -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base < 65000:
            try:
                with socket.socket() as s2:
                    s2.bind(("127.0.0.1", base + 1))
                return base
            except OSError:
                continue
    raise RuntimeError("no two consecutive free ports")


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def test_R_AUTHZ_5_dev_instances_starts_two_instances_on_one_database_and_stops_them(tmp_path):
    """R-AUTHZ-5 (topology): two instances on consecutive ports answer /readyz over the same database;
    SIGTERM to the command stops both."""
    base = _free_pair()
    # SQLite in both passes: test_multi_instance.py runs real instances on PostgreSQL and Redis
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'two.db'}", AUTHZ_COOKIE_SECURE="false")
    env.pop("REDIS_URL", None)
    log = open(tmp_path / "instances.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "authz.cli", "dev", "instances", "--count", "2",
                             "--base-port", str(base), "--workers", "1"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (_ready(base) and _ready(base + 1)):
            assert proc.poll() is None, (tmp_path / "instances.log").read_text()
            time.sleep(0.2)
        assert _ready(base) and _ready(base + 1)
        deadline = time.monotonic() + 10
        while "2 instances running" not in (tmp_path / "instances.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not _ready(base) and not _ready(base + 1)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    out = (tmp_path / "instances.log").read_text()
    assert f"http://127.0.0.1:{base} ready" in out and f"http://127.0.0.1:{base + 1} ready" in out
