"""Change feed: how one worker's write reaches every other worker and instance (R-AUTHZ-5).

Writers append a row to change_log in the same transaction as the change and, when Redis is configured,
publish a wake-up on a channel. Every worker runs one follower thread that reads new rows (woken by Redis
or every `poll_ms`) and calls its listeners, which drop the affected cache entries. The database is the
source of truth, so a lost Redis message delays a change by at most one poll; Redis down costs nothing
but latency.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from . import change_signal
from .db import database
from .models import ChangeLog

log = logging.getLogger("authz.changes")

Listener = Callable[[str, str], None]
CHANNEL = "authz:changes"
# Concurrent transactions can commit change_log ids out of order: re-read this many ids behind the newest.
REREAD_WINDOW = 256


_INSERT: dict[str, str] = {}  # the change_log INSERT by parameter style, built once


def record(kind: str, key: str = "", at: float | None = None, *, announce: bool = True) -> None:
    """Append a change (call inside the writer's transaction); the thread then owes the same-host change
    signal an announcement once the work has committed (Service.announce, authz.change_signal).

    announce=False for hints that make no answer stale (a session opened: warm its grants, issue 14):
    followers read them at their next poll or Redis wake-up, and no request elsewhere on this host is made
    to read the change log before deciding because of them."""
    if announce:
        change_signal.note()
    # ChangeLog.create(kind=..., key=..., at=...) without peewee building the same INSERT every time
    # (and without RETURNING the id nobody reads): this runs in every write that changes an answer.
    param = database.obj.param
    sql = _INSERT.get(param)
    if sql is None:
        sql = _INSERT[param] = (f'INSERT INTO "{ChangeLog._meta.table_name}" ("kind", "key", "at") '
                                f"VALUES ({param}, {param}, {param})")
    database.execute_sql(sql, (ChangeLog.kind.db_value(kind), ChangeLog.key.db_value(key),
                               ChangeLog.at.db_value(time.time() if at is None else at)))


class ChangeFeed:
    """Follows change_log and tells listeners (kind, key) for each new row, once."""

    def __init__(self, poll_ms: int = 50, notifier=None):
        self.poll_s = max(0.005, poll_ms / 1000)
        self.listeners: list[Listener] = []
        self.idle_tasks: list[Callable[[], object]] = []  # run by the follower thread only, after its polls
        self.notifier = notifier  # optional: has .publish() and .wait(timeout) (Redis pub/sub)
        self._last = 0
        self._seen: dict[int, None] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def subscribe(self, fn: Listener) -> None:
        self.listeners.append(fn)

    def after_polls(self, fn: Callable[[], object]) -> None:
        """Run `fn` on the follower thread after each of its polls: work a change asks for that must not
        run on a request's thread (a request catching up with `poll` delivers changes but runs none of
        these), such as reading the grants of sessions opened elsewhere (Enforcer.warm_pending)."""
        self.idle_tasks.append(fn)

    def _run_idle_tasks(self) -> None:
        for fn in self.idle_tasks:
            try:
                fn()
            except Exception as exc:  # a warm-up failing costs a later cache miss, nothing else
                log.warning("change feed task failed (will retry at the next poll): %s", exc)

    def start_from_now(self) -> None:
        """Skip history: only changes after this moment are delivered."""
        self._last = ChangeLog.select(ChangeLog.id).order_by(ChangeLog.id.desc()).limit(1).scalar() or 0

    def poll(self) -> int:
        """Read and deliver new changes; returns how many were delivered."""
        with self._lock:
            since = max(0, self._last - REREAD_WINDOW)
            rows = list(database.execute_sql(
                f"SELECT id, kind, key FROM change_log WHERE id > {database.obj.param} ORDER BY id LIMIT 5000",
                (since,)))
            delivered = 0
            for cid, kind, key in rows:
                if cid in self._seen:
                    continue
                self._seen[cid] = None
                self._last = max(self._last, cid)
                delivered += 1
                for fn in self.listeners:
                    try:
                        fn(kind, key)
                    except Exception:  # a listener bug must not stop the feed
                        log.exception("change listener failed for %s %s", kind, key)
            if len(self._seen) > 4 * REREAD_WINDOW:
                floor = self._last - REREAD_WINDOW
                self._seen = {k: None for k in self._seen if k > floor}
            return delivered

    def publish(self) -> None:
        """Wake followers elsewhere now (best effort; they poll anyway)."""
        if self.notifier is not None:
            try:
                self.notifier.publish()
            except Exception as exc:
                log.warning("change notification not published: %s", exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
                self._run_idle_tasks()
            except Exception as exc:
                log.warning("change feed poll failed (will retry): %s", exc)
                try:
                    database.close()
                except Exception:
                    pass
                self._stop.wait(min(1.0, self.poll_s * 10))
            if self.notifier is not None:
                try:
                    if self.notifier.wait(self.poll_s):
                        self._after_wake()
                    continue
                except Exception:
                    pass
            self._stop.wait(self.poll_s)

    def _after_wake(self) -> None:
        """A wake-up is published inside the writer's transaction, so it can arrive before the commit is
        visible: poll again a few times over ~150 ms until the change shows up."""
        for delay in (0.0, 0.005, 0.015, 0.03, 0.1):
            if self._stop.wait(delay):
                return
            try:
                if self.poll():
                    self._run_idle_tasks()
                    return
            except Exception as exc:
                log.warning("change feed poll failed (will retry): %s", exc)
                return

    def start(self) -> None:
        """Run the follower thread (idempotent)."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="authz-change-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)
