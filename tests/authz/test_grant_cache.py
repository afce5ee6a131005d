"""The enforcer's grant cache (authz/grants.py): what it holds, what drops it, and the race it must not lose.
Performance lives in bench/ (docs/PERFORMANCE.md); these tests pin behaviour only."""
import datetime as dt
import gc

from authz.db import database
from authz.grants import LRU, Grant, GrantStore


def _world(directory):
    ent = directory.upsert_enterprise("91360100MA35ABCD1X", "示例科技有限公司", "ordinary")
    agency = directory.upsert_enterprise("91360100MA35AGNC2Y", "示例税务师事务所", "agency")
    officer = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-officer")
    return ent, agency, officer


def test_grants_keep_their_public_shape(svc, directory):
    """R-AUTHZ-1: grants() still returns Grant objects with source, function set and validity window."""
    ent, agency, officer = _world(directory)
    b = directory.bind(officer, ent, "invoice_officer", state="active", origin="hall",
                       functions=["biz.query", "biz.invoice_use"], valid_until=dt.date(2026, 12, 31))
    agent = directory.create_person("赵六", "resident_id", "360102199404041234", uid="p-agent")
    directory.file_agreement("AG-1", agency, ent, [agent], dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                             ["biz.declare_pay"])
    gs = svc.enforcer.grants
    (g,) = gs.grants("p-officer", "ent:91360100MA35ABCD1X")
    assert isinstance(g, Grant) and g.role == "invoice_officer" and g.source == f"binding:{b.id}"
    assert g.functions == frozenset({"biz.query", "biz.invoice_use"}) and g.since is None and g.until
    (a,) = gs.grants("p-agent", "ent:91360100MA35ABCD1X")
    assert (a.role, a.source, a.functions) == ("tax_agent", "agreement:AG-1", frozenset({"biz.declare_pay"}))
    assert a.since is not None and a.until is not None
    (s,) = gs.grants("p-agent", "person:p-agent")
    assert (s.role, s.source, s.functions, s.since, s.until) == ("self", "self", None, None, None)
    assert gs.grants("p-agent", "person:p-officer") == ()
    assert gs.grants("p-nobody", "ent:91360100MA35ABCD1X") == ()
    assert gs.load("p-officer", "ent:91360100MA35ABCD1X") == (g,)


def test_unknown_subjects_are_cached_as_empty(svc, directory):
    """An unknown subject reaches the database once, not on every check."""
    _world(directory)
    e = svc.enforcer
    before = e.grants.loads
    for _ in range(5):
        assert not e.can("p-nobody", "ent:91360100MA35ABCD1X", "biz.query", "use")
    assert e.grants.loads == before + 1


def test_cache_entries_are_not_tracked_by_the_garbage_collector(svc, directory):
    """Cached grants hold only str/int/float/None, so a full collection does not walk the whole cache."""
    ent, _, officer = _world(directory)
    directory.bind(officer, ent, "tax_officer", state="active", origin="hall", functions=["biz.query"])
    assert svc.enforcer.can("p-officer", "ent:91360100MA35ABCD1X", "biz.query", "use")
    gc.collect()
    entry = svc.enforcer.grants.entry("p-officer", "ent:91360100MA35ABCD1X")
    assert len(entry) > 1 and not gc.is_tracked(entry)


def test_invalidate_by_pair_domain_person_and_all(svc, directory):
    ent, agency, officer = _world(directory)
    directory.bind(officer, ent, "tax_officer", state="active", origin="hall")
    directory.bind(officer, agency, "tax_officer", state="active", origin="hall")
    gs = svc.enforcer.grants
    pairs = [("p-officer", "ent:91360100MA35ABCD1X"), ("p-officer", "ent:91360100MA35AGNC2Y"),
             ("p-other", "ent:91360100MA35ABCD1X")]

    def cached():
        return {p for p in pairs if gs.cache.get(p[0] + "\x1f" + p[1]) is not None}

    for p in pairs:
        gs.entry(*p)
    assert cached() == set(pairs)
    gs.invalidate("p-officer", "ent:91360100MA35AGNC2Y")
    assert cached() == {pairs[0], pairs[2]}
    gs.invalidate(None, "ent:91360100MA35ABCD1X")
    assert cached() == set()
    for p in pairs:
        gs.entry(*p)
    gs.invalidate("p-officer", None)
    assert cached() == {pairs[2]}
    gs.invalidate(None, None)
    assert len(gs.cache) == 0


def test_a_load_racing_an_invalidation_is_not_cached(svc, directory, monkeypatch):
    """A read that started before a write's invalidation must not put the old answer back in the cache
    (it would stay there until evicted)."""
    ent, _, officer = _world(directory)
    gs = svc.enforcer.grants
    real_fetch = GrantStore.fetch

    def fetch_then_write(self, subject, domain):
        found = real_fetch(self, subject, domain)  # reads "no grants"
        monkeypatch.setattr(GrantStore, "fetch", real_fetch)
        directory.bind(officer, ent, "tax_officer", state="active", origin="hall")  # write + invalidate
        return found

    monkeypatch.setattr(GrantStore, "fetch", fetch_then_write)
    assert not svc.enforcer.can("p-officer", "ent:91360100MA35ABCD1X", "biz.query", "use")  # the stale read
    assert svc.enforcer.can("p-officer", "ent:91360100MA35ABCD1X", "biz.query", "use")  # not cached: re-read


def test_lru_is_bounded_and_evicts_least_recently_used():
    lru = LRU(3)
    for k in "abc":
        lru.put(k, k.upper())
    assert lru.get("a") == "A"  # a is now the most recent
    lru.put("d", "D")
    assert lru.get("b") is None and [lru.get(k) for k in "acd"] == ["A", "C", "D"]
    gen = lru.gen
    lru.discard("a")
    assert lru.put("e", "E", gen) is False and lru.get("e") is None
    assert lru.put("e", "E", lru.gen) is True and len(lru) == 3


def test_postgres_statement_is_prepared_again_after_discard(svc, directory):
    """On PostgreSQL the grants query is a server-side prepared statement; a connection that lost it
    (DISCARD ALL, a pooler) prepares it again."""
    from authz.db import is_postgres
    import pytest
    if not is_postgres():
        pytest.skip("PostgreSQL only")
    ent, _, officer = _world(directory)
    directory.bind(officer, ent, "tax_officer", state="active", origin="hall")
    gs = svc.enforcer.grants
    assert gs.load("p-officer", "ent:91360100MA35ABCD1X")
    database.execute_sql("DEALLOCATE ALL")
    assert gs.load("p-officer", "ent:91360100MA35ABCD1X")


def test_can_many_answers_like_can(svc, directory):
    """can_many (which reads a batch's uncached pairs together on PostgreSQL) answers exactly as can."""
    ent, agency, officer = _world(directory)
    directory.bind(officer, ent, "invoice_officer", state="active", origin="hall", functions=["biz.query"])
    agent = directory.create_person("赵六", "resident_id", "360102199404041234", uid="p-agent")
    directory.file_agreement("AG-1", agency, ent, [agent], dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                             ["biz.declare_pay"])
    e = svc.enforcer
    reqs = [(s, d, f.obj, a) for f in e.index.functions.values() for a in f.actions
            for s in ("p-officer", "p-agent", "p-ghost")
            for d in ("ent:91360100MA35ABCD1X", "ent:91360100MA35AGNC2Y", "person:p-agent", "ent:000000000000000000")]
    expected = [e.can(*r) for r in reqs]
    e.grants.invalidate(None, None)
    before = e.grants.loads
    assert e.can_many(reqs) == expected
    assert e.can_many([r + ("invoice_officer",) for r in reqs]) == [e.can(*r, "invoice_officer") for r in reqs]
    from authz.db import is_postgres
    if is_postgres():  # nine enterprise pairs in one query; three personal-domain pairs one by one
        assert e.grants.loads - before == 12
