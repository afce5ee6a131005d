"""Build step of the web front end (issue 11): `pip install .` and `pip install -e .` run `npm ci && npm run build`
in web/ into api/static/web (package data, never committed), so the README's two commands still do all the
set-up. Everything else about the package is in pyproject.toml.

* Node.js >= 20.19 and npm are needed; without them the install stops with a message saying so (or set
  AUTHZ_SKIP_WEB_BUILD=1 to install the API alone: `/` then answers a 404 saying the front end is not built).
* A stamp (a digest of web/'s sources and lock file) skips the build when nothing changed since the last one.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
WEB = ROOT / "web"
OUT = ROOT / "api" / "static" / "web"
STAMP = OUT / ".build-stamp"
NODE_MIN = (20, 19)
SOURCES = ("package.json", "package-lock.json", "index.html", "vite.config.ts", "tsconfig.json", "src", "public")


class WebBuildError(SystemExit):
    pass


def _digest() -> str:
    h = hashlib.sha256()
    for name in SOURCES:
        p = WEB / name
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else ([p] if p.is_file() else [])
        for f in files:
            h.update(str(f.relative_to(WEB)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _check_node() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise WebBuildError(
            "\n\nThe web front end (web/) needs Node.js >= 20.19 and npm to build, and they were not found on PATH.\n"
            "Install them (Debian: `apt-get install nodejs npm`, or from https://nodejs.org), then run the install "
            "again.\nTo install the API without the front end: AUTHZ_SKIP_WEB_BUILD=1 pip install ...\n")
    out = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    m = re.match(r"v(\d+)\.(\d+)", out)
    if not m or (int(m[1]), int(m[2])) < NODE_MIN:
        raise WebBuildError(f"\n\nThe web front end needs Node.js >= {NODE_MIN[0]}.{NODE_MIN[1]} (vite 8); "
                            f"found {out or 'an unknown version'} at {node}.\n")
    return npm


def build_web(log=print) -> None:
    """npm ci && npm run build in web/ (skipped when the stamp says the bundle is current)."""
    if os.environ.get("AUTHZ_SKIP_WEB_BUILD") == "1" or not (WEB / "package.json").is_file():
        log("web front end: not built (AUTHZ_SKIP_WEB_BUILD=1 or no web/ directory)")
        return
    digest = _digest()
    if STAMP.is_file() and STAMP.read_text().strip() == digest and (OUT / "index.html").is_file():
        log("web front end: up to date")
        return
    npm = _check_node()
    for args in ([npm, "ci", "--no-audit", "--no-fund"], [npm, "run", "build"]):
        log("web front end: " + " ".join(["npm"] + args[1:]))
        r = subprocess.run(args, cwd=WEB)
        if r.returncode != 0:
            raise WebBuildError(f"\n\n`{' '.join(['npm'] + args[1:])}` failed in web/ (exit {r.returncode}); "
                                "see its output above.\n")
    STAMP.write_text(digest + "\n")


class BuildPyWithWeb(build_py):
    """build_py that builds the web bundle first, so its files are package data of `api`."""

    def run(self):
        build_web(lambda msg: self.announce(msg, level=2) or print(msg, flush=True))
        super().run()


setup(cmdclass={"build_py": BuildPyWithWeb})
