"""Database handle: SQLite by default, PostgreSQL when DATABASE_URL says so."""
from __future__ import annotations

import os
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect

database = peewee.DatabaseProxy()


def open_database(url: str) -> peewee.Database:
    """Connect `database` to the URL (sqlite:///path or postgresql://...) and return the real handle."""
    parsed = urlparse(url)
    if parsed.scheme.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else parsed.path
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        db = peewee.SqliteDatabase(
            path or ":memory:",
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10_000, "synchronous": "normal"},
            check_same_thread=False,
        )
    elif parsed.scheme in ("postgres", "postgresql"):
        db = connect(url.replace("postgres://", "postgresql://", 1))
    else:
        raise ValueError(f"unsupported DATABASE_URL scheme {parsed.scheme!r} (sqlite:/// or postgresql://)")
    database.initialize(db)
    return db


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)
