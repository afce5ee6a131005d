"""The composition root: settings, database, clock, enforcer, change feed and ports, built once.

The Flask app, the CLI and the tests all build a `Service`; nothing else constructs these parts.
"""
from __future__ import annotations

import logging
import threading
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
        self._warm_thread: threading.Thread | None = None
        self.warm_start: dict | None = None  # what warm_from_sessions did at start, once it has run

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
            self.feed.after_polls(self.enforcer.warm_pending)
            self.signal = change_signal.open_signal(self.settings.change_signal_path, self.settings.database_url)
            if self.signal is not None:
                self._signal_seen = self.signal.value()
            self.feed.start_from_now()
        if follow:
            self.feed.start()
            if self.settings.warm_start_sessions:
                self._warm_thread = threading.Thread(target=self._warm_start, name="authz-warm-start", daemon=True)
                self._warm_thread.start()
        return self

    def _warm_start(self) -> None:
        try:
            self.warm_from_sessions()
        except Exception as exc:  # only a head start lost: the first checks read the database as they come
            log.warning("grant cache warm-up at start failed: %s", exc)

    def warm_from_sessions(self) -> dict:
        """A worker starting (a restart, a deploy): read the grants of the pairs of the newest live
        sessions (at most AUTHZ_WARM_START_SESSIONS), on a thread of its own so readiness never waits for
        it (issue 14). Returns what it did, also logged."""
        from .models import LoginSession, Person
        t0 = time.perf_counter()
        st = self.settings
        now = self.clock.time()
        with self.db.connection_context():
            rows = (LoginSession.select(Person.uid, LoginSession.domain).join(Person)
                    .where(LoginSession.ended_at.is_null()
                           & (LoginSession.last_seen_at > now - st.session_idle_minutes * 60)
                           & (LoginSession.login_at > now - st.session_absolute_hours * 3600))
                    .order_by(LoginSession.created_at.desc()).limit(st.warm_start_sessions).tuples())
            pairs = list(dict.fromkeys((uid, domain) for uid, domain in rows))
            read = self.enforcer.warm(pairs, "start")
        out = {"sessions": len(pairs), "read": read, "ms": round((time.perf_counter() - t0) * 1000, 1)}
        log.info("grant cache warmed from recent sessions: %(sessions)d pairs, %(read)d read, %(ms).1f ms", out)
        self.warm_start = out
        return out

    def session_opened(self, person_uid: str, domain: str) -> None:
        """A session now acts as this person in this domain (login, identity switch): every other worker
        and instance reads the pair's grants ahead of the first check of that session (issue 14). Only a
        hint (it makes no cached answer stale), so the same-host change signal is not bumped for it."""
        record("warm", f"{person_uid}|{domain}", self.clock.time(), announce=False)
        if self.feed is not None:
            self.feed.publish()

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
