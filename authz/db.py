"""Database handle: SQLite by default, PostgreSQL when DATABASE_URL says so.

SQLite (issue 10 finding 10): WAL, a 10 s busy timeout, and every transaction begins IMMEDIATE, i.e.
takes the write lock up front. Almost every `database.atomic()` block reads and then writes; begun
DEFERRED, such a block reads a snapshot and then tries to upgrade it to a writer, and when another
connection has written since, SQLite answers "database is locked" at once (SQLITE_BUSY_SNAPSHOT, which no
busy timeout can wait out) -- a 503 under contention. Begun IMMEDIATE, concurrent writers queue on the
busy timeout instead and each one reads the state its predecessor committed, so a check made inside the
transaction still holds when its write lands. Readers are never blocked (WAL); statements outside a
transaction are unaffected."""
from __future__ import annotations

import os
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect

database = peewee.DatabaseProxy()
SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10_000, "synchronous": "normal"}
SQLITE_LOCK_TYPE = "IMMEDIATE"


def open_database(url: str) -> peewee.Database:
    """Connect `database` to the URL (sqlite:///path or postgresql://...) and return the real handle."""
    parsed = urlparse(url)
    if parsed.scheme.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else parsed.path
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        db = peewee.SqliteDatabase(
            path or ":memory:",
            pragmas=SQLITE_PRAGMAS,
            check_same_thread=False,
            lock_type=SQLITE_LOCK_TYPE,  # BEGIN IMMEDIATE: writers queue, never fail on a stale snapshot
        )
    elif parsed.scheme in ("postgres", "postgresql"):
        db = connect(url.replace("postgres://", "postgresql://", 1))
    else:
        raise ValueError(f"unsupported DATABASE_URL scheme {parsed.scheme!r} (sqlite:/// or postgresql://)")
    database.initialize(db)
    return db


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)
