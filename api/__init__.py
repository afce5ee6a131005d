"""Thin Flask layer: routing, schemas, caller authentication and error mapping. Rules live in authz/."""
from __future__ import annotations

import logging
import time
from types import FunctionType

from flask import Flask, g, request

from authz import logs, metrics
from authz.config import Settings
from authz.service import Service

from . import browser, errors
from .security import SERVICE_SCHEME

http_log = logging.getLogger("authz.http")


class App(Flask):
    """Flask, minus one per-call cost: Flask asks `inspect.iscoroutinefunction` of every hook and view on
    every request (about ten times a request here). The answer never changes for a function, so it is
    remembered per plain function; anything else (bound methods are new objects each time) is asked as
    before. An `async def` view still gets Flask's own wrapper."""

    _sync: dict = {}

    def ensure_sync(self, func):
        if type(func) is not FunctionType:
            return super().ensure_sync(func)
        done = self._sync.get(func)
        if done is None:
            done = self._sync[func] = super().ensure_sync(func)
        return done


def create_app(settings: Settings | None = None, service: Service | None = None, *, clock=None,
               follow: bool = True) -> Flask:
    """Build the WSGI app around a started Service (one per process)."""
    if service is None:
        service = Service(settings, clock=clock).start(follow=follow)
    app = App("authz")
    app.config.update(
        API_TITLE="税务身份与授权服务 Tax identity & authorization service",
        API_VERSION="1.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_AS_ASCII=False,
        MAX_CONTENT_LENGTH=service.settings.max_body_kib * 1024,
    )
    app.json.ensure_ascii = False
    app.extensions["authz"] = service
    api = errors.ServiceApi(app, spec_kwargs={"info": {"description": "Check endpoints for services, login "
                                                       "flows and the account centre. Errors: {code, status, "
                                                       "message, errors}; English with Accept-Language: en. No string may contain a NUL "
                                                       "character, an unpaired UTF-16 surrogate or JSON nested deeper than 32 levels (refused with 422 "
                                                       "validation_failed); a body over AUTHZ_MAX_BODY_KIB answers 413 payload_too_large. "
                                                       "Browsers: every unsafe request from another origin is refused, and one "
                                                       "authenticated by cookies must send X-CSRF-Token (GET /api/v1/auth/csrf); "
                                                       "otherwise 403 csrf_failed."}})
    api.spec.components.security_scheme("serviceKey", SERVICE_SCHEME)
    from .session import SESSION_SCHEMES
    for name, scheme in SESSION_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    errors.register(app, api)

    from . import checks, integration, ops, policy
    api.register_blueprint(checks.blp)
    api.register_blueprint(policy.blp)
    api.register_blueprint(integration.blp)
    api.register_blueprint(integration.hall_blp)
    app.register_blueprint(ops.bp)
    from . import account_agent, switch  # identity switching and the agent account centre (issue 4)
    api.register_blueprint(switch.blp)
    api.register_blueprint(account_agent.blp)
    from . import account_session, auth, identity  # login and identity (issue 3)
    api.register_blueprint(browser.blp)
    [api.register_blueprint(b) for b in auth.BLUEPRINTS + account_session.BLUEPRINTS + identity.BLUEPRINTS]
    from . import account_person  # natural-person account centre (issue 4)
    [api.register_blueprint(b) for b in account_person.BLUEPRINTS]
    from . import account_authorisations, account_enterprise  # enterprise account centre, person's authorisations (issue 4)
    [api.register_blueprint(b) for b in account_enterprise.BLUEPRINTS + account_authorisations.BLUEPRINTS]
    from . import certificates  # tax digital certificates: filing, certificate login, account centre
    [api.register_blueprint(b) for b in certificates.BLUEPRINTS]
    from . import helpdesk  # the helpdesk operator API, scopes helpdesk and helpdesk_export (issue 13)
    [api.register_blueprint(b) for b in helpdesk.BLUEPRINTS]
    from . import catalogue  # the error catalogue each error answer's `type` points to (issue 13)
    api.register_blueprint(catalogue.blp)
    from . import oidc  # single sign-on: the portal as an OpenID Connect provider (issue 12)
    oidc.register(app, api, service)
    from . import web  # the web front end at / (issue 11) and, with the dev adapters, the dev pages' API
    web.register(app, api)
    from . import ratelimit  # per-address and per-session rate limits (issue 13, api/ratelimit.py)
    ratelimit.init(app, service,
                   public=(auth.blp, certificates.login_blp, identity.reg_blp, identity.reset_blp,
                           identity.recovery_blp),
                   account=(account_session.blp, account_person.blp, account_enterprise.blp,
                            account_authorisations.blp, account_agent.blp, switch.blp, certificates.account_blp))

    db = service.db
    access_mode = service.settings.access_log

    @app.before_request
    def _open():
        ctx = g._get_current_object()
        ctx.t0 = time.perf_counter()
        ctx.request_id_token = logs.REQUEST_ID.set(logs.accept(request.headers.get("X-Request-ID")))
        errors.refuse_bad_input()
        browser.protect()  # same origin + CSRF token for cookie callers; the browser binding of login flows
        db.connect(reuse_if_open=True)
        service.catch_up()  # a change announced by another worker on this host is read before deciding

    @app.after_request
    def _headers(resp):
        service.announce()  # this request's changes have committed: other workers read them before deciding
        browser.finish(resp)
        req = request._get_current_object()
        headers = resp.headers
        if "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        if "X-Content-Type-Options" not in headers:
            headers["X-Content-Type-Options"] = "nosniff"
        rule = req.url_rule
        endpoint = rule.rule if rule is not None else "unmatched"
        method, status = req.method, resp.status_code
        metrics.inc("authz_http_requests_total", endpoint=endpoint, method=method, status=str(status))
        elapsed = time.perf_counter() - g.get("t0", time.perf_counter())
        metrics.observe("authz_http_request_seconds", elapsed, endpoint=endpoint)
        if service.enforcer is not None:
            metrics.grant_loads(service.enforcer.grants.loads)
        headers["X-Request-ID"] = logs.REQUEST_ID.get()
        # an access line (AUTHZ_ACCESS_LOG, logs.access_worth_logging): the route pattern, never the path with
        # its query (codes and tickets travel in queries and paths of some steps; the pattern names the step)
        if logs.access_worth_logging(access_mode, method, endpoint, status, elapsed):
            http_log.info("%s %s %s", method, endpoint, status,
                          extra={"method": method, "route": endpoint, "status": status,
                                 "duration_ms": round(elapsed * 1000, 2)})
        return resp

    @app.teardown_request
    def _close(exc):
        browser.teardown()
        token = g.pop("request_id_token", None)
        if token is not None:
            logs.REQUEST_ID.reset(token)
        # Connections are kept per thread between requests; a failed one is dropped so the next
        # request reconnects (see errors.register for database errors).
        if exc is not None and not db.is_closed():
            db.close()

    return app
