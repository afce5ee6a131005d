"""Real `authz serve` processes (gunicorn, two workers) for the system tests, and a tiny HTTP client."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def service_env(db_url: str, **extra: str) -> dict:
    """The environment of a served instance on `db_url`: plain-HTTP cookies, no Redis unless `extra` names one."""
    env = {**os.environ, "DATABASE_URL": db_url, "AUTHZ_COOKIE_SECURE": "false", **extra}
    if "REDIS_URL" not in extra:
        env.pop("REDIS_URL", None)
    return env


class Instance:
    """`authz serve --workers 2 [args]` on a free port, ready (its /readyz answered 200) when constructed."""

    def __init__(self, env: dict, log: Path, *, workers: int = 2, args: tuple[str, ...] = (), ready_seconds: float = 30):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.log = open(log, "w")
        self.proc = subprocess.Popen([sys.executable, "-m", "authz.cli", "serve", "--port", str(self.port),
                                      "--workers", str(workers), *args], cwd=ROOT, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + ready_seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"instance exited: {log.read_text()[-2000:]}")
            try:
                if http("GET", self.base + "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"instance not ready in {ready_seconds} s")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
