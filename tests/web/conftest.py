"""Browser journeys (issue 11): Playwright for Python driving Debian's Chromium (/usr/bin/chromium;
`playwright install` cannot download browsers here) against a real `authz serve --demo` subprocess with the
development adapters. Screenshots go to test-artifacts/screenshots/ (gitignored) at 375 and 1440 px.

Chromium missing: `.ci/run` installs it (apt-get install chromium fonts-noto-cjk); run by hand without it,
these tests skip with that reason. The built bundle missing (AUTHZ_SKIP_WEB_BUILD=1): they fail, saying so."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.system.serving import ROOT, Instance, service_env

CHROMIUM = os.environ.get("AUTHZ_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = ROOT / "test-artifacts" / "screenshots"
WIDTHS = {"375": (375, 812), "1440": (1440, 900)}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


def _require_browser():
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium fonts-noto-cjk (.ci/run does)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.skip("playwright is not installed: pip install -e '.[test]'")


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    """`authz serve --demo` (dev adapters, plain-HTTP cookies) on a free port, seeded with the demo data."""
    _require_browser()
    from api import web
    assert web.built(), ("the web front end is not built (api/static/web/index.html missing): "
                         "run `pip install -e .` with Node.js 20 and npm (see docs/web.md)")
    tmp = tmp_path_factory.mktemp("web")
    env = service_env(f"sqlite:///{tmp / 'authz.db'}")
    env.pop("AUTHZ_COOKIE_SECURE")  # as the README's first command runs it: --demo alone must make the portal work
    inst = Instance(env, tmp / "serve.log", workers=2, args=("--demo",), ready_seconds=120)
    inst.db_file = tmp / "authz.db"
    yield inst
    inst.stop()


@pytest.fixture(scope="session")
def browser(served):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watch:
    """Console errors a page must not produce: CSP violations and uncaught exceptions."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" and re.search(
            r"Content Security Policy|Refused to", m.text) else None)
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))


@pytest.fixture
def context(browser, served):
    ctx = browser.new_context(base_url=served.base, viewport={"width": 1440, "height": 900}, locale="zh-CN",
                              timezone_id="Asia/Shanghai")
    ctx.set_default_timeout(15000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    p = context.new_page()
    watch = Watch(p)
    yield p
    assert watch.problems == [], f"CSP violations or page errors: {watch.problems}"


def shot(page, name: str) -> None:
    """Screenshots of the page as it is, at 375 and 1440 px wide (full page), then back to 1440."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, (w, h) in WIDTHS.items():
        page.set_viewport_size({"width": w, "height": h})
        page.wait_for_timeout(250)  # layout settles (media queries, transitions)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


def copy_to_docs(names: list[str]) -> None:
    """Keep the main screenshots in docs/screenshots (run with AUTHZ_UPDATE_SCREENSHOTS=1): `name` for both
    widths, `name:375` or `name:1440` for one."""
    if os.environ.get("AUTHZ_UPDATE_SCREENSHOTS") != "1":
        return
    dest = ROOT / "docs" / "screenshots"
    dest.mkdir(exist_ok=True)
    for n in names:
        name, _, only = n.partition(":")
        for label in ([only] if only else WIDTHS):
            shutil.copy(SHOTS / f"{name}-{label}.png", dest / f"{name}-{label}.png")
