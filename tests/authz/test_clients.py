"""R-AUTHZ-3: service keys. Each process keeps the rows of the active clients it has seen, so a check call
costs no key query; these tests prove the cache never keeps a revoked or rotated key alive."""
import pytest

from authz import clients
from authz.changes import ChangeFeed
from authz.errors import AuthzError
from authz.models import ChangeLog, ServiceClient


def _key_id(key: str) -> str:
    return clients.KEY_RE.match(key).group(1)


def _other_worker() -> tuple[clients.KeyCache, ChangeFeed]:
    """Another process's key cache, following the change log as its change feed would."""
    cache, feed = clients.KeyCache(), ChangeFeed()
    feed.subscribe(cache.on_change)
    feed.start_from_now()
    return cache, feed


def test_R_AUTHZ_3_revoked_key_is_refused_at_once_here(svc):
    """R-AUTHZ-3: a key authenticated (and cached) a moment ago is refused right after its revocation."""
    _, key = clients.create("billing", scopes="check")
    assert clients.authenticate(key).name == "billing"
    assert clients.revoke("billing")
    with pytest.raises(AuthzError) as err:
        clients.authenticate(key)
    assert err.value.code == "unauthenticated"


def test_R_AUTHZ_3_revocation_reaches_other_workers_through_the_change_feed(svc):
    """R-AUTHZ-3, R-AUTHZ-5: a revocation made by another process (the CLI) is a `client` change; a worker
    that had the key cached drops it on its next poll and reads the database again."""
    _, key = clients.create("billing", scopes="check")
    cache, feed = _other_worker()
    assert cache.get(_key_id(key)) is not None
    clients.revoke("billing")
    assert ChangeLog.select().where(ChangeLog.kind == "client", ChangeLog.key == _key_id(key)).exists()
    assert cache.get(_key_id(key)) is not None  # not yet polled: still cached (bounded by the TTL below)
    feed.poll()
    assert cache.get(_key_id(key)) is None


def test_R_AUTHZ_3_a_missed_revocation_bites_within_the_ttl(svc, monkeypatch):
    """R-AUTHZ-3: were the change lost, the cached row is re-read after CACHE_SECONDS."""
    _, key = clients.create("billing", scopes="check")
    now = [1000.0]
    monkeypatch.setattr(clients.time, "monotonic", lambda: now[0])
    cache = clients.KeyCache(ttl=30)
    assert cache.get(_key_id(key)) is not None
    ServiceClient.update(active=False).where(ServiceClient.name == "billing").execute()  # no change recorded
    now[0] += 29
    assert cache.get(_key_id(key)) is not None
    now[0] += 2
    assert cache.get(_key_id(key)) is None


def test_R_AUTHZ_3_rotated_demo_key_stops_working_in_other_workers(svc):
    """R-AUTHZ-3: deleting a client row (the demo's key rotation) is a change as well."""
    _, key = clients.create("demo-client", scopes="check")
    cache, feed = _other_worker()
    assert cache.get(_key_id(key)) is not None
    clients.delete("demo-client")
    feed.poll()
    assert cache.get(_key_id(key)) is None
    with pytest.raises(AuthzError):
        clients.authenticate(key)


def test_R_AUTHZ_3_cached_key_still_needs_its_secret(svc):
    """R-AUTHZ-3: a cached key id with a guessed secret is refused; the secret is compared every call."""
    _, key = clients.create("billing", scopes="check")
    clients.authenticate(key)
    forged = key[:-6] + ("A" * 6 if not key.endswith("AAAAAA") else "B" * 6)
    with pytest.raises(AuthzError):
        clients.authenticate(forged)


def test_R_AUTHZ_3_last_use_is_recorded_without_a_write_per_call(svc):
    """R-AUTHZ-3: `authz client list` shows when a key was last used; it is written at most once a minute
    per process, not on every check."""
    _, key = clients.create("billing", scopes="check")
    clients.KEYS.forget()
    clients.authenticate(key)
    first = ServiceClient.get(ServiceClient.name == "billing").last_used_at
    assert first is not None
    ServiceClient.update(last_used_at=None).where(ServiceClient.name == "billing").execute()
    for _ in range(20):
        clients.authenticate(key)
    assert ServiceClient.get(ServiceClient.name == "billing").last_used_at is None
