"""Shared fixtures. The database is SQLite (a fresh file per test) unless AUTHZ_TEST_DATABASE_URL points
at PostgreSQL, in which case every table is dropped and recreated per test. Time comes from a FrozenClock."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

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
