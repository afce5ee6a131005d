"""What a person holds in a domain, read lazily from the database and kept in a bounded cache.

A grant is one identity type in one domain with its function set and validity window. Grants come from
three sources: active bindings, active agency agreements naming the person (role tax_agent in the client
enterprise), and the implicit `self` identity every active person holds in their own personal domain.
Validity is judged at decision time against the clock, so an end date passing needs no write.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterable

from .clock import SHANGHAI, end_of_day_epoch
from .db import database
from .ids import ENT_PREFIX, PERSON_PREFIX

import datetime as dt


@dataclass(frozen=True, slots=True)
class Grant:
    """One identity type held in one domain."""
    role: str
    functions: frozenset[str] | None  # None: the identity type's whole ceiling
    since: float | None  # epoch seconds; None: no start
    until: float | None  # epoch seconds (exclusive); None: long-term
    source: str  # binding:<id> | agreement:<number> | self

    def live(self, now: float) -> bool:
        return (self.since is None or now >= self.since) and (self.until is None or now < self.until)

    def covers(self, obj: str) -> bool:
        return self.functions is None or obj in self.functions


class LRU:
    """A thread-safe bounded mapping; least recently used entries are dropped first."""

    def __init__(self, capacity: int):
        self.capacity = max(1, capacity)
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            try:
                self._data.move_to_end(key)
                return self._data[key]
            except KeyError:
                return None

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.capacity:
                self._data.popitem(last=False)

    def discard(self, key) -> None:
        with self._lock:
            self._data.pop(key, None)

    def discard_where(self, pred: Callable[[object], bool]) -> None:
        with self._lock:
            for k in [k for k in self._data if pred(k)]:
                del self._data[k]

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def _date_start(d) -> float:
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return dt.datetime.combine(d, dt.time(0), tzinfo=SHANGHAI).timestamp()


def _date_end(d) -> float:
    if isinstance(d, str):
        d = dt.date.fromisoformat(d)
    return end_of_day_epoch(d)


def _fs(raw) -> frozenset[str] | None:
    if raw is None:
        return None
    return frozenset(json.loads(raw) if isinstance(raw, str) else raw)


class GrantStore:
    """Reads grants for (person uid, domain) from the database, caching up to `capacity` pairs."""

    def __init__(self, capacity: int = 200_000):
        self.cache = LRU(capacity)
        self.loads = 0

    def _sql(self, text: str) -> str:
        return text.replace("?", database.obj.param) if database.obj.param != "?" else text

    def grants(self, subject: str, domain: str) -> tuple[Grant, ...]:
        """Every grant the person holds in the domain, live or not (the caller applies the clock)."""
        key = (subject, domain)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        found = self.load(subject, domain)
        self.cache.put(key, found)
        return found

    def load(self, subject: str, domain: str) -> tuple[Grant, ...]:
        """Read grants from the database, bypassing the cache."""
        self.loads += 1
        out: list[Grant] = []
        if domain.startswith(PERSON_PREFIX):
            if domain[len(PERSON_PREFIX):] == subject:
                row = database.execute_sql(self._sql("SELECT status FROM person WHERE uid = ?"), (subject,)).fetchone()
                if row and row[0] == "active":
                    out.append(Grant("self", None, None, None, "self"))
            return tuple(out)
        if not domain.startswith(ENT_PREFIX):
            return ()
        cur = database.execute_sql(self._sql(
            "SELECT b.role, b.functions, b.valid_until, b.id FROM binding b JOIN person p ON p.id = b.person_id "
            "WHERE p.uid = ? AND b.domain = ? AND b.state = 'active' AND b.enabled = ? AND p.status = 'active'"),
            (subject, domain, True))
        for role, functions, valid_until, bid in cur.fetchall():
            out.append(Grant(role, _fs(functions), None,
                             _date_end(valid_until) if valid_until else None, f"binding:{bid}"))
        cur = database.execute_sql(self._sql(
            "SELECT a.permissions, a.start, a.\"end\", a.number FROM agreement_agent aa "
            "JOIN agreement a ON a.id = aa.agreement_id JOIN person p ON p.id = aa.person_id "
            "WHERE p.uid = ? AND aa.client_domain = ? AND a.status = 'active' AND p.status = 'active'"),
            (subject, domain))
        for permissions, start, end, number in cur.fetchall():
            out.append(Grant("tax_agent", _fs(permissions), _date_start(start), _date_end(end), f"agreement:{number}"))
        return tuple(out)

    def invalidate(self, subject: str | None, domain: str | None) -> None:
        """Forget cached grants: one pair, all of a domain, all of a person, or everything."""
        if subject and domain:
            self.cache.discard((subject, domain))
        elif domain:
            self.cache.discard_where(lambda k: k[1] == domain)
        elif subject:
            self.cache.discard_where(lambda k: k[0] == subject)
        else:
            self.cache.clear()


class DomainStore:
    """A domain's direct kind (kind:ordinary, kind:agency, kind:nonresident, kind:personal), cached."""

    def __init__(self, capacity: int = 200_000):
        self.cache = LRU(capacity)

    def kind(self, domain: str) -> str | None:
        """The direct kind, or None for a domain that does not exist."""
        hit = self.cache.get(domain)
        if hit is not None:
            return hit or None
        found = self.load(domain)
        self.cache.put(domain, found or "")
        return found

    def load(self, domain: str) -> str | None:
        if domain.startswith(PERSON_PREFIX):
            return "kind:personal"
        if not domain.startswith(ENT_PREFIX):
            return None
        sql = "SELECT kind FROM enterprise WHERE uscc = ?"
        if database.obj.param != "?":
            sql = sql.replace("?", database.obj.param)
        row = database.execute_sql(sql, (domain[len(ENT_PREFIX):],)).fetchone()
        return f"kind:{row[0]}" if row else None

    def invalidate(self, domain: str | None = None) -> None:
        if domain:
            self.cache.discard(domain)
        else:
            self.cache.clear()


def all_grants(include_self: bool = True) -> Iterable[tuple[str, str, Grant]]:
    """Every (subject, domain, grant) in the database (for the reference enforcer and benchmarks)."""
    for role, functions, valid_until, bid, uid, domain in database.execute_sql(
            "SELECT b.role, b.functions, b.valid_until, b.id, p.uid, b.domain FROM binding b "
            "JOIN person p ON p.id = b.person_id WHERE b.state = 'active' AND b.enabled = %s AND p.status = 'active'"
            .replace("%s", database.obj.param), (True,)):
        yield uid, domain, Grant(role, _fs(functions), None,
                                 _date_end(valid_until) if valid_until else None, f"binding:{bid}")
    for permissions, start, end, number, uid, domain in database.execute_sql(
            "SELECT a.permissions, a.start, a.\"end\", a.number, p.uid, aa.client_domain FROM agreement_agent aa "
            "JOIN agreement a ON a.id = aa.agreement_id JOIN person p ON p.id = aa.person_id "
            "WHERE a.status = 'active' AND p.status = 'active'"):
        yield uid, domain, Grant("tax_agent", _fs(permissions), _date_start(start), _date_end(end), f"agreement:{number}")
    if include_self:
        for (uid,) in database.execute_sql("SELECT uid FROM person WHERE status = 'active'"):
            yield uid, PERSON_PREFIX + uid, Grant("self", None, None, None, "self")
