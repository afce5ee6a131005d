"""Logs (issue 13, operators): one JSON object per line, each carrying the id of the request it belongs to.

* `REQUEST_ID` holds the current request's id: the caller's `X-Request-ID` when it is a plain token
  (letters, digits, `._-`, at most 64) and does not look like one of our secrets, else a fresh one. The
  API sets it before anything else runs, returns it in `X-Request-ID`, and `audit.record` stores it in
  every audit row of that request, so one id leads from an answer to its log lines and audit records.
* `JsonFormatter` writes `{ts, level, logger, message, request_id, …extra}`; `configure` installs it on
  the `authz` loggers (AUTHZ_LOG_FORMAT=json, the default; `text` for a terminal). Which requests get an
  access line is `access_worth_logging` (AUTHZ_ACCESS_LOG: default errors, slow and state-changing ones).
* Secrets never reach a log: flows log ids and codes' outcomes, never values (R-LOG-1); `redact` also
  masks anything shaped like our session, flow, key or token ids in a message, a caller-supplied request
  id included.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import itertools
import json
import logging
import os
import re
import secrets
import sys

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("authz_request_id", default="")
_GIVEN = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
# our secret-bearing ids: sessions azs_, flows azf_, service keys azk_, OIDC tokens azat_/azrt_/azac_
SECRET_SHAPES = re.compile(r"\baz(?:s|f|k|at|rt|ac)_[A-Za-z0-9_\-]{8,}")


class _Ids:
    """Fresh request ids: 64 random bits chosen per process (again after a fork) and a counter, as 32 hex
    digits. Unique is all a request id must be (it is no secret and grants nothing); this costs no
    system call per request, where `secrets.token_hex` read the kernel's random source every time."""

    def __init__(self):
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.count = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.count):016x}"


_IDS = _Ids()


def accept(given: str | None) -> str:
    """The request id for a request: the caller's if it is a plain token and no secret, else a new one."""
    if given and _GIVEN.fullmatch(given) and not SECRET_SHAPES.search(given):
        return given
    return _IDS.next()


# the decision endpoints: read-only however they are called; at tens of thousands a second their lines
# would cost more than the decisions (docs/PERFORMANCE.md), metrics count them instead
READ_ONLY_POSTS = ("/api/v1/check", "/oauth/introspect")
SLOW_S = 1.0


def access_worth_logging(mode: str, method: str, route: str, status: int, elapsed: float) -> bool:
    """AUTHZ_ACCESS_LOG: `all` every request; `off` none; `default` what an operator follows a request
    for — every error (4xx / 5xx), every request slower than 1 s, and every unsafe method that may change
    state (the check and introspection endpoints are reads, counted by metrics only)."""
    if mode == "all":
        return True
    if mode == "off":
        return False
    if status >= 400 or elapsed >= SLOW_S:
        return True
    return method not in ("GET", "HEAD", "OPTIONS") and not route.startswith(READ_ONLY_POSTS)


def redact(text: str) -> str:
    return SECRET_SHAPES.sub(lambda m: m.group(0)[:4] + "…", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; `extra={...}` fields are included; exceptions as one string."""

    _STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": dt.datetime.fromtimestamp(record.created, tz=dt.timezone.utc).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "message": redact(record.getMessage()),
               "request_id": getattr(record, "request_id", "") or REQUEST_ID.get()}
        for k, v in vars(record).items():
            if k not in self._STANDARD and k != "request_id":
                out[k] = redact(v) if isinstance(v, str) else v
        if record.exc_info:
            out["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        rid = REQUEST_ID.get()
        return redact(super().format(record)) + (f" [request {rid}]" if rid else "")


def configure(fmt: str = "json", level: int = logging.INFO, stream=None) -> logging.Handler:
    """Send the `authz` loggers to `stream` (stderr) in `fmt` (json | text); idempotent per process."""
    logger = logging.getLogger("authz")
    for h in list(logger.handlers):
        if getattr(h, "_authz", False):
            logger.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json"
                         else _TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._authz = True
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return handler
