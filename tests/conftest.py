"""Shared fixtures. The database is SQLite (a fresh file per test) unless AUTHZ_TEST_DATABASE_URL points
at PostgreSQL, in which case every table is dropped and recreated per test. Time comes from a FrozenClock."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import flask
import pytest
from flask.testing import FlaskClient

from authz import models
from authz.clock import SHANGHAI, FrozenClock
from authz.config import Settings
from authz.db import database
from authz.directory import Directory
from authz.service import Service

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("AUTHZ_TEST_DATABASE_URL", "")


def _reset_postgres(url: str) -> None:
    import peewee
    from authz.db import open_database
    db = open_database(url)
    with db.connection_context():
        db.execute_sql("DROP SCHEMA public CASCADE")
        db.execute_sql("CREATE SCHEMA public")
    db.close()


class BrowserClient(FlaskClient):
    """A test client that behaves as the web front end does (issue 10 finding 5): its unsafe requests come
    from the service's own origin and carry the CSRF token from GET /api/v1/auth/csrf, fetched again when
    the browser cookie changes. Pass `same_origin=False` to send a request as a foreign page would
    (no token, no Origin), or plain `FlaskClient(app)` for a raw HTTP client."""

    def open(self, *args, same_origin: bool = True, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if same_origin and method not in ("GET", "HEAD", "OPTIONS") and not any(
                k.lower() in ("authorization", "x-csrf-token") for k in headers):
            headers.setdefault("Origin", "https://localhost")  # the page, served over TLS in production
            headers["X-CSRF-Token"] = self._csrf_token()
        return super().open(*args, headers=headers, **kwargs)

    def _browser_cookie(self):
        return self.get_cookie("authz_browser") or self.get_cookie("__Host-authz_browser")

    def _csrf_token(self) -> str:
        cookie = self._browser_cookie()
        if cookie is None or getattr(self, "_csrf_for", None) != cookie.value:
            token = super().open("/api/v1/auth/csrf", method="GET").get_json()["token"]
            self._csrf_for, self._csrf = self._browser_cookie().value, token
        return self._csrf


flask.Flask.test_client_class = BrowserClient


@pytest.fixture
def db_url(tmp_path) -> str:
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'authz.db'}"


@pytest.fixture
def clock() -> FrozenClock:
    """2026-03-02 10:00 Asia/Shanghai, a Monday."""
    return FrozenClock(dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI))


@pytest.fixture
def settings(db_url) -> Settings:
    return Settings(database_url=db_url, model_path=str(ROOT / "policies" / "model.conf"),
                    rules_path=str(ROOT / "policies" / "rules.csv"), change_poll_ms=20, cookie_secure=False)


@pytest.fixture
def svc(settings, clock):
    service = Service(settings, clock=clock).start(follow=False)
    database.connect(reuse_if_open=True)
    yield service
    service.close()


@pytest.fixture
def directory(svc) -> Directory:
    return Directory(svc)
