"""One JSON error shape for every failure: {code, status, message, errors, type}."""
from __future__ import annotations

import logging
import re

from flask import jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from authz import metrics
from authz.errors import AuthzError

log = logging.getLogger("api.errors")

HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 415: "unsupported_media_type",
              413: "payload_too_large", 422: "validation_failed", 429: "rate_limited", 503: "unavailable"}


def language() -> str:
    """'en' when the caller prefers English (Accept-Language), else 'zh'."""
    try:
        best = request.accept_languages.best_match(["zh", "en"], default="zh")
    except RuntimeError:
        return "zh"
    return best or "zh"


def type_of(code: str) -> str:
    """The catalogue entry of an error code (api/catalogue.py answers it; docs/errors.md lists them)."""
    return f"/api/v1/errors/{code}"


def error_response(err: AuthzError):
    body = {"code": err.code, "status": err.status, "message": err.message(language()), "type": type_of(err.code)}
    if err.errors is not None:
        body["errors"] = err.errors
    resp = jsonify(body)
    resp.status_code = err.status
    for k, v in err.headers.items():
        resp.headers[k] = v
    return resp


class ServiceApi(Api):
    """flask-smorest Api whose HTTP errors use our shape and keep their headers (e.g. Allow on 405)."""

    from .schemas import Error as ERROR_SCHEMA  # noqa: N811 - documents our error shape as DEFAULT_ERROR

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        code = HTTP_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
        data = getattr(error, "data", None) or {}
        err = AuthzError(code, status=status, errors=data.get("messages") or data.get("errors"))
        resp = error_response(err)
        for k, v in (error.get_headers() if hasattr(error, "get_headers") else []):
            if k.lower() != "content-type":
                resp.headers[k] = v
        for k, v in (data.get("headers") or {}).items():
            resp.headers[k] = v
        return resp


MAX_JSON_DEPTH = 32  # no request schema nests deeper than a few levels
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')
# a JSON-escaped UTF-16 surrogate that is not part of a pair: it decodes to a str that no database
# (and no UTF-8 encoder) can take
_LONE_SURROGATE = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
                             rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _json_depth(raw: bytes) -> int:
    depth = deepest = 0
    for m in _JSON_TOKENS.finditer(raw):
        t = m.group()
        if t in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        elif t in (b"]", b"}"):
            depth -= 1
    return deepest


def refuse_bad_input() -> None:
    """Input no handler can take is refused up front with the same 422 a validator gives, so it never
    reaches a decoder or a database as a 500 (issue 10 finding 8): a NUL character anywhere (PostgreSQL
    cannot store one), a lone surrogate in a JSON string, JSON nested deeper than MAX_JSON_DEPTH.
    The body size limit is Flask's MAX_CONTENT_LENGTH (AUTHZ_MAX_BODY_KIB), answered 413.
    (On every request, so written for the common case: one pass per marker, the query parsed only when
    there is one.)"""
    req = request._get_current_object()
    raw = req.get_data(cache=True) or b""
    query = req.query_string or b""
    path = req.path
    # JSON spells an escaped NUL \u0000 (a capital U is no JSON escape, and the parser refuses it)
    if b"\x00" in raw or b"\\u0000" in raw or b"%00" in query or "\x00" in path:
        raise AuthzError("validation_failed", errors={"request": ["NUL characters are not allowed"]})
    if b"\\u" in raw and _LONE_SURROGATE.search(raw):
        raise AuthzError("validation_failed", errors={"request": ["unpaired UTF-16 surrogates are not allowed"]})
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _json_depth(raw) > MAX_JSON_DEPTH:
        raise AuthzError("validation_failed", errors={"request": [f"JSON nested deeper than {MAX_JSON_DEPTH} levels"]})
    try:
        path.encode("utf-8")
        if query:
            query.decode("utf-8")
            for v in req.args.values():
                v.encode("utf-8")
    except UnicodeError:
        raise AuthzError("validation_failed", errors={"request": ["the URL is not valid UTF-8"]}) from None


def register(app, api: ServiceApi) -> None:
    app.register_error_handler(AuthzError, error_response)

    @app.errorhandler(Exception)
    def _unexpected(exc):  # anything not an AuthzError or HTTPException is a bug or an outage
        if isinstance(exc, HTTPException):
            return api.handle_http_exception(exc)
        import peewee
        if isinstance(exc, (peewee.OperationalError, peewee.InterfaceError)):
            log.error("database unavailable: %s", exc)
            metrics.inc("authz_dependency_errors_total", dependency="database")
            from authz.db import database
            try:
                database.close()
            except Exception:
                pass
            return error_response(AuthzError("unavailable", headers={"Retry-After": "1"}))
        log.exception("unhandled error")
        return error_response(AuthzError("internal_error"))
