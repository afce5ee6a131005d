"""The front end's own unit tests (vitest, web/src/**/*.test.ts: the API client's error mapping, English
having every Chinese message key), run as part of the Python suite."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.system.serving import ROOT

WEB = ROOT / "web"


def test_vitest_unit_tests_pass():
    npm = shutil.which("npm")
    if not npm or not (WEB / "node_modules" / ".bin" / "vitest").exists():
        pytest.skip("npm or web/node_modules missing: pip install -e . installs them (npm ci)")
    r = subprocess.run([npm, "test", "--silent"], cwd=WEB, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
