"""Same-host change signal: how a write reaches the other workers on this machine before its response does.

The change feed (authz.changes) follows `change_log` every `poll_ms` and on Redis wake-ups, so a worker
that did not make a write may answer from its cache for a few milliseconds after the write's response was
sent: a caller that deletes a staff member and then checks can meet the worker that has not polled yet.

This closes that window for every process on the host: a writer, after its transaction has committed,
increments a counter in a small shared file (memory-mapped, a page of the page cache); every request first
compares the counter with the value it saw last (a memory read, well under a microsecond) and, only when it
moved, reads the change log synchronously before deciding. Processes on other hosts still follow through
Redis and polling (issue 5: visible everywhere within 100 ms).

The file holds one little-endian 64-bit counter. Increments take an exclusive `flock`; reads take none (an
8-byte aligned store is not torn on the platforms we run on, and a torn read would only cost a poll).
"""
from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import struct
import tempfile
import threading
from urllib.parse import urlparse

log = logging.getLogger("authz.change_signal")
_FMT = struct.Struct("<Q")
_pending = threading.local()


def note() -> None:
    """This thread recorded a change (authz.changes.record): announce it once its work is committed."""
    _pending.flag = True


def take() -> bool:
    """Whether this thread has a change to announce, clearing it."""
    flag = getattr(_pending, "flag", False)
    _pending.flag = False
    return flag


def default_path(database_url: str) -> str | None:
    """Where processes using this database on this host meet: beside an SQLite file, or in the temporary
    directory under a digest of the PostgreSQL URL (password removed). None for in-memory SQLite."""
    parsed = urlparse(database_url)
    if parsed.scheme.startswith("sqlite"):
        path = database_url.split("///", 1)[1] if "///" in database_url else parsed.path
        if not path or path == ":memory:":
            return None
        return os.path.abspath(path) + "-changes"
    netloc = parsed.hostname or ""
    if parsed.port:
        netloc += f":{parsed.port}"
    ident = f"{parsed.scheme}://{parsed.username or ''}@{netloc}{parsed.path}"
    return os.path.join(tempfile.gettempdir(), f"authz-changes-{hashlib.sha256(ident.encode()).hexdigest()[:16]}")


class ChangeSignal:
    """A counter shared by every process on this host that opens the same path."""

    def __init__(self, path: str):
        self.path = path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            if os.fstat(self._fd).st_size < _FMT.size:
                os.ftruncate(self._fd, _FMT.size)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._map = mmap.mmap(self._fd, _FMT.size)

    def value(self) -> int:
        """The counter now."""
        return _FMT.unpack_from(self._map, 0)[0]

    def bump(self) -> int:
        """Add one (call after the write has committed); returns the new value."""
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            v = (_FMT.unpack_from(self._map, 0)[0] + 1) & 0xFFFF_FFFF_FFFF_FFFF
            _FMT.pack_into(self._map, 0, v)
            return v
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        try:
            self._map.close()
        finally:
            os.close(self._fd)


def open_signal(setting: str, database_url: str) -> ChangeSignal | None:
    """The signal for these settings ("" = default path, "off" = none); None (logged) if it cannot be opened,
    in which case changes travel by the feed alone."""
    if setting.strip().lower() == "off":
        return None
    path = setting or default_path(database_url)
    if path is None:
        return None
    try:
        return ChangeSignal(path)
    except OSError as exc:
        log.warning("change signal %s unavailable (changes reach other workers by polling): %s", path, exc)
        return None
