"""Shared base of every table: the database binding, the JSON column, applied migrations."""
from __future__ import annotations

import json

import peewee as pw

from ..db import database


class JSONField(pw.TextField):
    """JSON stored as text (portable across SQLite and PostgreSQL)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class Base(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class SchemaVersion(Base):
    """Applied migrations."""
    version = pw.IntegerField(primary_key=True)
    name = pw.CharField()
    applied_at = pw.DoubleField()
