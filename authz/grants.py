"""What a person holds in a domain, read lazily from the database and kept in a bounded cache.

A grant is one identity type in one domain with its function set and validity window. Grants come from
three sources: active bindings, active agency agreements naming the person (role tax_agent in the client
enterprise), and the implicit `self` identity every active person holds in their own personal domain.
Validity is judged at decision time against the clock, so an end date passing needs no write.
"""
from __future__ import annotations

import json
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Iterable

import peewee as pw
from peewee import __exception_wrapper__

from .clock import end_of_day_epoch, start_of_day_epoch
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
    """A bounded mapping; least recently used entries are dropped first.

    Reads take no lock: under the GIL each OrderedDict operation is atomic (keys are str or tuples of str,
    whose hashing and comparison run no Python code), and an eviction racing a read only turns a hit into
    a miss. Writes and removals take the lock. Every removal bumps `gen`, so a value read from the
    database before a removal is not cached after it (`put(..., gen=)`): without that, a load racing an
    invalidation could keep a stale answer until evicted. (A free-threaded build would need the lock on
    reads too.)"""

    def __init__(self, capacity: int):
        self.capacity = max(1, capacity)
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.gen = 0

    def get(self, key):
        data = self._data
        try:
            value = data[key]
        except KeyError:
            return None
        try:
            data.move_to_end(key)
        except KeyError:  # evicted meanwhile by another thread
            pass
        return value

    def put(self, key, value, gen: int | None = None) -> bool:
        """Store; with `gen`, only if nothing was removed since `gen` was read (returns whether stored)."""
        with self._lock:
            if gen is not None and gen != self.gen:
                return False
            data = self._data
            data[key] = value
            data.move_to_end(key)
            while len(data) > self.capacity:
                data.popitem(last=False)
            return True

    def discard(self, key) -> None:
        with self._lock:
            self.gen += 1
            self._data.pop(key, None)

    def discard_where(self, pred: Callable[[object], bool]) -> None:
        with self._lock:
            self.gen += 1
            keys = list(self._data)  # a snapshot: readers reorder the dict while we filter
        doomed = [k for k in keys if pred(k)]
        with self._lock:
            self.gen += 1
            for k in doomed:
                self._data.pop(k, None)

    def clear(self) -> None:
        with self._lock:
            self.gen += 1
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


# ---- values shared between cache entries (the cache holds hundreds of thousands of them)
_ROLES: dict[str, str] = {}
_MASKS: dict[str, int] = {}  # stored function-set text -> bit mask
_SETS: dict[object, frozenset[str] | None] = {}
_ENDS: dict[object, float] = {}
_STARTS: dict[object, float] = {}
_SHARED_LIMIT = 100_000

# Function names -> bit numbers, assigned on first sight and never reused in this process, so a function
# set fits in one int: no per-entry frozenset, and no object the garbage collector has to visit.
_BITS: dict[str, int] = {}
_BITS_LOCK = threading.Lock()
ALL_FUNCTIONS = -1  # the mask of a grant without a function set: every bit set


def function_bit(name: str) -> int:
    """The bit standing for function `name` in function-set masks."""
    b = _BITS.get(name)
    if b is None:
        with _BITS_LOCK:
            b = _BITS.get(name)
            if b is None:
                b = _BITS[name] = len(_BITS)
    return b


def _mask_of(names) -> int:
    m = 0
    for name in names:
        m |= 1 << function_bit(name)
    return m


def _set_of(mask: int) -> frozenset[str] | None:
    if mask == ALL_FUNCTIONS:
        return None
    v = _SETS.get(mask)
    if v is None:
        v = frozenset(name for name, b in list(_BITS.items()) if (mask >> b) & 1)
        if len(_SETS) > _SHARED_LIMIT:
            _SETS.clear()
        _SETS[mask] = v
    return v


def _mask(raw) -> int:
    """The mask of a stored function set (JSON text or a list); ALL_FUNCTIONS for none."""
    if raw is None:
        return ALL_FUNCTIONS
    if not isinstance(raw, str):
        return _mask_of(raw)
    m = _MASKS.get(raw)
    if m is None:
        m = _mask_of(json.loads(raw))
        if len(_MASKS) > _SHARED_LIMIT:
            _MASKS.clear()
        _MASKS[raw] = m
    return m


def _fs(raw) -> frozenset[str] | None:
    """A function set, shared between grants with the same stored value."""
    return _set_of(_mask(raw))


def _intern_role(role: str) -> str:
    r = _ROLES.get(role)
    if r is None:
        if len(_ROLES) > 1000:
            _ROLES.clear()
        r = _ROLES[role] = role
    return r


def _date_start(d) -> float:
    v = _STARTS.get(d)
    if v is None:
        day = dt.date.fromisoformat(d) if isinstance(d, str) else d
        v = start_of_day_epoch(day)
        if len(_STARTS) > _SHARED_LIMIT:
            _STARTS.clear()
        _STARTS[d] = v
    return v


def _date_end(d) -> float:
    v = _ENDS.get(d)
    if v is None:
        v = end_of_day_epoch(dt.date.fromisoformat(d) if isinstance(d, str) else d)
        if len(_ENDS) > _SHARED_LIMIT:
            _ENDS.clear()
        _ENDS[d] = v
    return v


# One round trip per cache miss in an enterprise domain: the person's bindings there, the agency
# agreements naming them there, and the domain's kind. Indexes used: person.uid, binding(person_id,
# domain, state), agreement_agent(person_id, client_domain), enterprise.uscc.
_ENT_SQL = (
    "SELECT 0, b.role, b.functions, NULL, b.valid_until, CAST(b.id AS VARCHAR(20)) FROM person p "
    "JOIN binding b ON b.person_id = p.id WHERE p.uid = {s} AND p.status = 'active' AND b.domain = {d} "
    "AND b.state = 'active' AND b.enabled = TRUE "
    "UNION ALL SELECT 1, NULL, a.permissions, a.start, a.\"end\", a.number FROM person p "
    "JOIN agreement_agent aa ON aa.person_id = p.id JOIN agreement a ON a.id = aa.agreement_id "
    "WHERE p.uid = {s} AND p.status = 'active' AND aa.client_domain = {d} AND a.status = 'active' "
    "UNION ALL SELECT 2, e.kind, NULL, NULL, NULL, NULL FROM enterprise e WHERE e.uscc = {u}")
_SQLITE_ENT_SQL = _ENT_SQL.format(s="?1", d="?2", u="?3")
_PG_PREPARED = "authz_grants_v1"
_PG_PREPARE = f"PREPARE {_PG_PREPARED} (text, text, text) AS " + _ENT_SQL.format(s="$1", d="$2", u="$3")
_PG_EXECUTE = f"EXECUTE {_PG_PREPARED} (%s, %s, %s)"
_PERSON_SQL = "SELECT status FROM person WHERE uid = {p}"
# The same for many pairs at once (a batch check on PostgreSQL, where each query is a network round
# trip): one prepared statement taking three arrays, whatever the batch size. (SQLite answers in process,
# so batching gains nothing there; and its planner builds a Bloom filter over the whole person table for
# a VALUES join.)
_PG_MANY_PREPARED = "authz_grants_many_v1"
_PG_MANY_PREPARE = (
    f"PREPARE {_PG_MANY_PREPARED} (text[], text[], text[]) AS "
    "WITH req AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS t(s, d, u)) "
    "SELECT req.s, req.d, 0, b.role, b.functions, NULL, b.valid_until, CAST(b.id AS VARCHAR(20)) FROM req "
    "JOIN person p ON p.uid = req.s AND p.status = 'active' JOIN binding b ON b.person_id = p.id "
    "AND b.domain = req.d AND b.state = 'active' AND b.enabled = TRUE "
    "UNION ALL SELECT req.s, req.d, 1, NULL, a.permissions, a.start, a.\"end\", a.number FROM req "
    "JOIN person p ON p.uid = req.s AND p.status = 'active' JOIN agreement_agent aa ON aa.person_id = p.id "
    "AND aa.client_domain = req.d JOIN agreement a ON a.id = aa.agreement_id AND a.status = 'active' "
    "UNION ALL SELECT req.s, req.d, 2, e.kind, NULL, NULL, NULL, NULL FROM req JOIN enterprise e ON e.uscc = req.u")
_PG_MANY_EXECUTE = f"EXECUTE {_PG_MANY_PREPARED} (%s, %s, %s)"
PREFETCH_CHUNK = 100

# PostgreSQL connections on which the grants statement is prepared (per process: every GrantStore shares
# the thread's connection). Server-side preparing matters: planning this query costs more than running it.
_PG_READY: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _pg_execute(db, params: tuple, prepare: str = _PG_PREPARE, execute: str = _PG_EXECUTE) -> list:
    conn = db.connection()
    cur = conn.cursor()
    ready = _PG_READY.get(conn)
    if ready is None:
        ready = _PG_READY[conn] = set()
    if prepare not in ready:
        cur.execute(prepare)
        ready.add(prepare)
    try:
        cur.execute(execute, params)
    except Exception as exc:
        if getattr(exc, "pgcode", None) != "26000":  # anything but "no such prepared statement"
            raise  # (a lost connection comes back as a new connection object: prepared afresh)
        # the statement vanished (DISCARD ALL, a pooler): prepare again unless a transaction is now aborted
        ready.clear()
        if db.in_transaction():
            raise
        cur.execute(prepare)
        ready.add(prepare)
        cur.execute(execute, params)
    return cur.fetchall()


# ---- cache entries
# An entry is one flat tuple: (direct kind of the domain or None,) followed by five fields per grant:
# role, function-set mask, since, until, ref (binding id: int | agreement number: str | None for self).
# Everything in it is a str, int, float or None, so CPython stops tracking the tuple for garbage
# collection: a full collection does not walk hundreds of thousands of cached grants (with Grant
# objects and frozensets it did, for about 200 ms per 200,000 entries on this machine), and an entry
# for one binding takes about 130 bytes instead of about 260.
FIELDS = 5
SEP = "\x1f"  # cache key: subject SEP domain (one str, ~120 bytes less than a tuple of two)
_NO_DOMAIN = (None,)
_KIND_PERSONAL = "kind:personal"
_SELF_ENTRY = (_KIND_PERSONAL, "self", ALL_FUNCTIONS, None, None, None)
_KINDS: dict[str, str] = {}


def _kind(raw: str) -> str:
    k = _KINDS.get(raw)
    if k is None:
        if len(_KINDS) > 1000:
            _KINDS.clear()
        k = _KINDS[raw] = f"kind:{raw}"
    return k


def _key(subject: str, domain: str):
    """A subject containing the separator (never a valid person id) falls back to a tuple key."""
    return subject + SEP + domain if SEP not in subject else (subject, domain)


def _split(key) -> tuple[str, str]:
    if isinstance(key, tuple):
        return key
    subject, _, domain = key.partition(SEP)
    return subject, domain


def entry_grants(entry: tuple) -> tuple[Grant, ...]:
    """The Grant objects of a cache entry."""
    out = []
    for i in range(1, len(entry), FIELDS):
        role, mask, since, until, ref = entry[i:i + FIELDS]
        source = "self" if ref is None else (f"binding:{ref}" if isinstance(ref, int) else f"agreement:{ref}")
        out.append(Grant(role, _set_of(mask), since, until, source))
    return tuple(out)


class GrantStore:
    """Reads grants for (person uid, domain) from the database, caching up to `capacity` pairs.

    A miss costs one database round trip, which also returns the domain's kind; an empty answer is
    cached too, so an unknown subject does not reach the database again."""

    def __init__(self, capacity: int = 200_000):
        self.cache = LRU(capacity)
        self.loads = 0  # pairs read because a decision missed the cache
        self.warmed = 0  # pairs read ahead of any decision (`warm`)
        self._empty: dict[str | None, tuple] = {None: _NO_DOMAIN}

    def _sql(self, text: str) -> str:
        return text.replace("?", database.obj.param) if database.obj.param != "?" else text

    def entry(self, subject: str, domain: str) -> tuple:
        """The cache entry for the pair (see FIELDS above), read from the database on a miss."""
        key = subject + SEP + domain if SEP not in subject else (subject, domain)
        cache = self.cache
        data = cache._data
        try:
            hit = data[key]
        except KeyError:
            gen = cache.gen
            self.loads += 1
            found = self.fetch(subject, domain)
            cache.put(key, found, gen)
            return found
        try:
            data.move_to_end(key)
        except KeyError:
            pass
        return hit

    def grants(self, subject: str, domain: str) -> tuple[Grant, ...]:
        """Every grant the person holds in the domain, live or not (the caller applies the clock)."""
        return entry_grants(self.entry(subject, domain))

    def load(self, subject: str, domain: str) -> tuple[Grant, ...]:
        """Read grants from the database, bypassing the cache."""
        self.loads += 1
        return entry_grants(self.fetch(subject, domain))

    def _shared_empty(self, kind: str | None) -> tuple:
        e = self._empty.get(kind)
        if e is None:
            e = self._empty[kind] = (kind,)
        return e

    def fetch(self, subject: str, domain: str) -> tuple:
        """The entry for the pair from the database in one round trip, bypassing the cache (and uncounted:
        the callers count it as a miss or as read ahead)."""
        db = database.obj
        if domain.startswith(PERSON_PREFIX):
            if domain[len(PERSON_PREFIX):] != subject:
                return self._shared_empty(_KIND_PERSONAL)
            with __exception_wrapper__:
                cur = db.cursor()
                cur.execute(_PERSON_SQL.format(p=db.param), (subject,))
                row = cur.fetchone()
            return _SELF_ENTRY if row and row[0] == "active" else self._shared_empty(_KIND_PERSONAL)
        if not domain.startswith(ENT_PREFIX):
            return _NO_DOMAIN
        return self._entry_of(self._ent_rows(db, subject, domain, domain[len(ENT_PREFIX):]))

    def _entry_of(self, rows) -> tuple:
        kind = None
        out: list = []
        for tag, a, fs, start, end, ref in rows:
            if tag == 0:
                out += (_intern_role(a), _mask(fs), None, _date_end(end) if end else None, int(ref))
            elif tag == 1:
                out += ("tax_agent", _mask(fs), _date_start(start), _date_end(end), ref)
            else:
                kind = _kind(a)
        if not out:
            return self._shared_empty(kind)
        return (kind, *out)

    def prefetch(self, pairs, *, ahead: bool = False) -> int:
        """Read every uncached (subject, enterprise domain) pair of `pairs` into the cache with one query
        per PREFETCH_CHUNK pairs, where queries cost a network round trip (PostgreSQL); elsewhere a no-op
        (misses are read one by one as they come). Returns how many pairs were read, counted as misses
        (`loads`), or as read ahead (`warmed`) with ahead=True."""
        db = database.obj
        if not isinstance(db, pw.PostgresqlDatabase):
            return 0
        data = self.cache._data
        todo: dict = {}
        for subject, domain in pairs:
            if not domain.startswith(ENT_PREFIX) or SEP in subject:
                continue  # personal domains need no join; odd subjects take the single-pair path
            key = subject + SEP + domain
            if key not in data:
                todo[key] = (subject, domain)
        items = list(todo.items())
        for i in range(0, len(items), PREFETCH_CHUNK):
            chunk = items[i:i + PREFETCH_CHUNK]
            gen = self.cache.gen
            rows: dict[str, list] = {key: [] for key, _ in chunk}
            params = ([s for _, (s, _d) in chunk], [d for _, (_s, d) in chunk],
                      [d[len(ENT_PREFIX):] for _, (_s, d) in chunk])
            with __exception_wrapper__:
                found = _pg_execute(db, params, _PG_MANY_PREPARE, _PG_MANY_EXECUTE)
            for s, d, *row in found:
                rows[s + SEP + d].append(row)
            if ahead:
                self.warmed += len(chunk)
            else:
                self.loads += len(chunk)
            for key, r in rows.items():
                self.cache.put(key, self._entry_of(r), gen)
        return len(items)

    def warm(self, pairs) -> int:
        """Read every uncached pair of `pairs` into the cache (sessions opened, a worker starting: issue
        14): in bulk where a query is a network round trip (`prefetch`), one by one otherwise. Returns how
        many pairs were read from the database. They count in `warmed`, not in `loads` (the misses of
        decisions: what the cache-hit ratio is about)."""
        pairs = list(pairs)
        read = self.prefetch(pairs, ahead=True)
        cache = self.cache
        for subject, domain in pairs:
            key = _key(subject, domain)
            if key not in cache._data:
                gen = cache.gen
                cache.put(key, self.fetch(subject, domain), gen)
                self.warmed += 1
                read += 1
        return read

    def _ent_rows(self, db, subject: str, domain: str, uscc: str) -> list:
        with __exception_wrapper__:
            if isinstance(db, pw.SqliteDatabase):
                return db.connection().execute(_SQLITE_ENT_SQL, (subject, domain, uscc)).fetchall()
            if isinstance(db, pw.PostgresqlDatabase):
                return _pg_execute(db, (subject, domain, uscc))
            cur = db.cursor()
            cur.execute(_ENT_SQL.format(s="%(s)s", d="%(d)s", u="%(u)s"), {"s": subject, "d": domain, "u": uscc})
            return cur.fetchall()

    def invalidate(self, subject: str | None, domain: str | None) -> None:
        """Forget cached grants: one pair, all of a domain, all of a person, or everything."""
        if subject and domain:
            self.cache.discard(_key(subject, domain))
        elif domain:
            self.cache.discard_where(lambda k: _split(k)[1] == domain)
        elif subject:
            self.cache.discard_where(lambda k: _split(k)[0] == subject)
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
        gen = self.cache.gen
        found = self.load(domain)
        self.cache.put(domain, found or "", gen)
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
