"""The composition root: settings, database, clock, enforcer, change feed and ports, built once.

The Flask app, the CLI and the tests all build a `Service`; nothing else constructs these parts.
"""
from __future__ import annotations

import logging
import time

from . import change_signal, clients, migrations, policystore
from .changes import ChangeFeed, record
from .clock import Clock
from .config import Settings, unknown_names
from .db import database, open_database
from .enforcer import Enforcer
from .grants import DomainStore, GrantStore

log = logging.getLogger("authz.service")


class Service:
    """Everything a request handler or a CLI command needs, wired once per process."""

    def __init__(self, settings: Settings | None = None, clock: Clock | None = None, ports=None):
        if settings is None:  # from the environment (gunicorn workers): say which AUTHZ_* names do nothing
            for warning in unknown_names():
                log.warning(warning)
            settings = Settings.from_env()
        self.settings = settings
        self.clock = clock or Clock()
        self.db = open_database(self.settings.database_url)
        self.ports = ports
        self.enforcer: Enforcer | None = None
        self.feed: ChangeFeed | None = None
        self.signal: change_signal.ChangeSignal | None = None
        self._signal_seen = 0
        self.started_at = time.time()

    def start(self, *, upgrade: bool = True, follow: bool = True) -> "Service":
        """Migrate (optionally), load the policy in force and start following other workers' changes."""
        clients.KEYS.forget()  # rows seen by an earlier service in this process may be of another database
        with self.db.connection_context():
            if upgrade:
                migrations.upgrade(self.db)
            index = policystore.ensure_installed(self.settings.model_path, self.settings.rules_path)
            self.enforcer = Enforcer(self.settings.model_path, index,
                                     GrantStore(self.settings.grant_cache_size),
                                     DomainStore(self.settings.domain_cache_size), self.clock)
            notifier = None
            if self.settings.redis_url:
                from .redis_notify import RedisNotifier
                notifier = RedisNotifier(self.settings.redis_url)
            self.feed = ChangeFeed(self.settings.change_poll_ms, notifier=notifier)
            self.feed.subscribe(self.enforcer.on_change)
            self.feed.subscribe(clients.KEYS.on_change)
            self.signal = change_signal.open_signal(self.settings.change_signal_path, self.settings.database_url)
            if self.signal is not None:
                self._signal_seen = self.signal.value()
            self.feed.start_from_now()
        if follow:
            self.feed.start()
        return self

    def changed(self, kind: str, key: str = "") -> None:
        """Record a write for every worker (inside the caller's transaction) and apply it here at once."""
        record(kind, key, self.clock.time())
        if self.enforcer is not None:
            self.enforcer.on_change(kind, key)
        if self.feed is not None:
            self.feed.publish()

    def grant_changed(self, person_uid: str, domain: str) -> None:
        self.changed("grant", f"{person_uid}|{domain}")

    def announce(self) -> None:
        """After a request or command whose changes have committed: tell the other processes on this host
        (authz.change_signal), so their next request reads the change log before deciding."""
        if not change_signal.take():
            return
        if self.signal is None and self.enforcer is None:  # a CLI command's service, never started
            self.signal = change_signal.open_signal(self.settings.change_signal_path, self.settings.database_url)
            if self.signal is not None:
                self._signal_seen = self.signal.value()
        if self.signal is not None:
            seen = self._signal_seen
            if self.signal.bump() == seen + 1:
                self._signal_seen = seen + 1  # ours was the only change since we last looked

    def catch_up(self) -> None:
        """Before a request decides anything: if a process on this host announced a change since this one
        last looked, read the change log now instead of at the next poll (a failure propagates: the cache
        is known to be stale, so the request gets a clean 503 rather than an old answer)."""
        signal, feed = self.signal, self.feed
        if signal is None or feed is None:
            return
        seen = signal.value()
        if seen != self._signal_seen:
            feed.poll()
            self._signal_seen = seen

    def ready(self) -> dict:
        """Readiness facts, one per dependency the configuration uses: database reachable, schema current,
        rule file loaded, and Redis answering when REDIS_URL is set (counters fail closed without it)."""
        out = {"database": False, "schema": False, "policy": self.enforcer is not None}
        try:
            with self.db.connection_context():
                self.db.execute_sql("SELECT 1")
                out["database"] = True
                out["schema"] = not migrations.pending(self.db)
        except Exception as exc:  # reported, not raised: readiness is a question
            log.warning("readiness: database check failed: %s", exc)
        if self.settings.redis_url:
            out["redis"] = False
            try:
                from .ports import ports_of
                out["redis"] = bool(ports_of(self).counters.r.ping())
            except Exception as exc:
                log.warning("readiness: Redis check failed: %s", exc)
        return out

    def close(self) -> None:
        self.announce()  # a CLI command's changes, committed by now
        if self.feed:
            self.feed.stop()
        if not self.db.is_closed():
            self.db.close()
        if self.signal is not None:
            self.signal.close()
            self.signal = None


__all__ = ["Service", "database"]
