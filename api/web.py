"""The web front end (issue 11), served from the same origin as the API, and the development pages' API.

* `/assets/<file>`: the built bundle's hashed files, cached for a year (`immutable`): a new build has new names.
* Any other GET that routing finds nothing for, that prefers HTML (a browser navigating) and is not under an
  API or operations prefix, gets `index.html` (`no-cache`), so the SPA's history-mode routes survive a
  reload. Everything else keeps the JSON error it had (`/api/…` 404 and 405, `/docs`, `/openapi.json`,
  `/metrics`, `/healthz`, `/readyz`, `/oauth/…`, `/.well-known/…` are other routes and never reach this).
* The HTML carries a strict Content-Security-Policy (scripts, styles, fonts, images and requests from this
  origin only; no inline script; no framing), X-Frame-Options and Referrer-Policy.

The bundle is built by `pip install` (setup.py runs `npm ci && npm run build` in web/) into api/static/web;
without it the fallback answers a JSON 404 that says how to build it.

`/api/v1/dev` exists only while the development SMS adapter is configured (AUTHZ_SMS_ADAPTER=dev) AND the
development pages are asked for (AUTHZ_DEV_PAGES, set by `authz serve --demo`): it tells the front end which
development pages to show, and `/api/v1/dev/sms-outbox` lists the codes sent, so a demo login can be finished
in the browser alone. Otherwise both are absent (404): the development adapter is the default, and a
service started without --demo must not hand out login codes over HTTP."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint as FlaskBlueprint
from flask import request, send_from_directory
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.exceptions import NotFound

from authz.errors import AuthzError

from .schemas import Pattern

STATIC = Path(__file__).resolve().parent / "static" / "web"
RESERVED = ("/api/", "/api", "/docs", "/openapi.json", "/metrics", "/healthz", "/readyz", "/assets/",
            "/oauth", "/.well-known")  # the OpenID provider's endpoints (api/oidc.py) keep their JSON errors
YEAR = 365 * 86400

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HTML_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

bp = FlaskBlueprint("web", __name__)


def built() -> bool:
    return (STATIC / "index.html").is_file()


@bp.get("/assets/<path:name>")
def assets(name):
    """A hashed file of the built bundle (a year, immutable)."""
    resp = send_from_directory(STATIC / "assets", name, max_age=YEAR)
    resp.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return resp


def _wants_html() -> bool:
    return (request.method in ("GET", "HEAD")
            and request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html")


def index_response():
    resp = send_from_directory(STATIC, "index.html", max_age=0)
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers.update(HTML_HEADERS)
    return resp


def fallback(error: NotFound, handle):
    """404 from routing: a browser navigating to one of the SPA's routes gets index.html; others `handle`."""
    path = request.path
    reserved = any(path == p.rstrip("/") or path.startswith(p.rstrip("/") + "/") for p in RESERVED)
    if reserved or request.url_rule is not None or not _wants_html():
        return handle(error)
    if not built():
        from .errors import error_response
        return error_response(AuthzError("not_found", errors={"web": [
            "the web front end is not built: `pip install -e .` builds it (needs Node.js 20 and npm; see docs/web.md)"]}))
    return index_response()


def register(app, api) -> None:
    """Serve the front end and, with the development SMS adapter, the development pages' API."""
    app.register_blueprint(bp)

    @app.errorhandler(NotFound)
    def _not_found(error):
        return fallback(error, api.handle_http_exception)

    st = app.extensions["authz"].settings
    if st.dev_pages and not st.production:  # config validation refuses dev_pages in production anyway
        api.register_blueprint(dev_blp)


# ---- development pages' API (absent unless AUTHZ_DEV_PAGES and a development configuration, Settings.production)
dev_blp = Blueprint("dev", __name__, url_prefix="/api/v1/dev",
                    description="Development adapters (present only with AUTHZ_SMS_ADAPTER=dev and "
                                "AUTHZ_DEV_PAGES, which `authz serve --demo` sets): what the front end's "
                                "development pages read")


class DevInfo(Schema):
    adapters = fields.Dict(keys=fields.String(), values=fields.String(),
                           metadata={"description": "Port -> adapter in use (dev)"})
    pages = fields.List(fields.String(), metadata={"description": "Development pages the front end may show"})


class OutboxQuery(Schema):
    phone = fields.String(validate=Pattern(r"^[0-9+]{5,20}$"), metadata={"description": "Only this phone"})
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=50))


class OutboxMessage(Schema):
    phone = fields.String()
    text = fields.String()
    sent_at = fields.Float()


class Outbox(Schema):
    messages = fields.List(fields.Nested(OutboxMessage))


class ScanRequest(Schema):
    ticket = fields.String(required=True, validate=validate.Length(min=1, max=128))
    person = fields.String(load_default=None, validate=Pattern(r"^[A-Za-z0-9_\-]{1,64}$"),
                           metadata={"description": "Person id (p-...): the face shown, or who is logged in on the "
                                                    "app; left out for a face check: the ticket's own subject's "
                                                    "face (a registrant has no id yet), as `authz dev scan` does"})
    app = fields.String(load_default="taxapp", validate=validate.OneOf(["taxapp", "iitapp"]))
    face_ok = fields.Boolean(load_default=True, metadata={"description": "false: the face does not match"})
    uscc = fields.String(validate=Pattern(r"^[0-9A-Z]{15,20}$"),
                         metadata={"description": "QR login from the tax app in enterprise business: the USCC "
                                                  "(`authz dev scan --enterprise`, R-LOGIN-7)"})
    identity_type = fields.String(validate=Pattern(r"^[a-z_]{1,40}$"),
                                  metadata={"description": "With uscc: the identity the app is logged in as"})

    @validates_schema
    def _enterprise(self, data, **_):
        if data.get("uscc") and not data.get("identity_type"):
            raise ValidationError("required with uscc", "identity_type")


class ScanResult(Schema):
    ticket = fields.String()
    state = fields.String()


@dev_blp.route("")
class Dev(MethodView):
    @dev_blp.response(200, DevInfo)
    def get(self):
        """Which development adapters are active (this route exists only while one is)."""
        return {"adapters": {"sms": "dev", "apps": "simulator"}, "pages": ["sms-outbox", "app-simulator"]}


@dev_blp.route("/scan")
class DevScan(MethodView):
    @dev_blp.arguments(ScanRequest)
    @dev_blp.response(200, ScanResult)
    def post(self, body):
        """The app simulator: scan a face-check or a QR-login ticket as `authz dev scan` does."""
        from flask import current_app

        from authz.flows.qr_login import confirm_by_callback
        payload = {"ticket": body["ticket"], "person": body["person"], "face_ok": body["face_ok"],
                   "app_login": bool(body["person"])}
        if body.get("uscc"):
            payload.update(entry="enterprise", uscc=body["uscc"], identity_type=body["identity_type"])
        return confirm_by_callback(current_app.extensions["authz"], body["app"], payload)


@dev_blp.route("/sms-outbox")
class DevOutbox(MethodView):
    @dev_blp.arguments(OutboxQuery, location="query")
    @dev_blp.response(200, Outbox)
    def get(self, query):
        """The development SMS outbox, newest first (what `authz dev outbox` prints)."""
        from authz.ports.sms import outbox
        return {"messages": outbox(query.get("phone"), query["limit"])}
