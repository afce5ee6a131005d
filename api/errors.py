"""One JSON error shape for every failure: {code, status, message, errors}."""
from __future__ import annotations

import logging

from flask import jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from authz.errors import AuthzError

log = logging.getLogger("api.errors")

HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 409: "conflict", 415: "unsupported_media_type",
              422: "validation_failed", 429: "rate_limited", 503: "unavailable"}


def language() -> str:
    """'en' when the caller prefers English (Accept-Language), else 'zh'."""
    try:
        best = request.accept_languages.best_match(["zh", "en"], default="zh")
    except RuntimeError:
        return "zh"
    return best or "zh"


def error_response(err: AuthzError):
    body = {"code": err.code, "status": err.status, "message": err.message(language())}
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


_NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")


def refuse_nul() -> None:
    """No field anywhere may carry a NUL character (PostgreSQL cannot store one): refuse it up front
    with the same 422 a validator gives, for the body (raw or JSON-escaped) and the query string."""
    raw = request.get_data(cache=True) or b""
    query = request.query_string or b""
    if any(m in raw.lower() for m in _NUL_MARKERS[:2]) or b"%00" in query or "\x00" in request.path:
        raise AuthzError("validation_failed", errors={"request": ["NUL characters are not allowed"]})


def register(app, api: ServiceApi) -> None:
    app.register_error_handler(AuthzError, error_response)

    @app.errorhandler(Exception)
    def _unexpected(exc):  # anything not an AuthzError or HTTPException is a bug or an outage
        if isinstance(exc, HTTPException):
            return api.handle_http_exception(exc)
        import peewee
        if isinstance(exc, (peewee.OperationalError, peewee.InterfaceError)):
            log.error("database unavailable: %s", exc)
            from authz.db import database
            try:
                database.close()
            except Exception:
                pass
            return error_response(AuthzError("unavailable", headers={"Retry-After": "1"}))
        log.exception("unhandled error")
        return error_response(AuthzError("internal_error"))
