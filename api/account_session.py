"""The current session, the person's own sessions (R-LOGIN-13), and the session-based check for other
services (R-AUTHZ-2): "may the holder of this session do X now?", the domain taken from the session."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields

from authz import actor, checks, menu, sessions
from authz.errors import AuthzError

from .errors import language
from .schemas import Token
from .security import authenticate_service
from .session import current_session, require, session_secured, svc

blp = Blueprint("account-session", __name__, url_prefix="/api/v1/account",
                description="The current session and the person's own sessions (cookie or app bearer)")
check_blp = Blueprint("session-check", __name__, url_prefix="/api/v1/check",
                      description="Session-based check for services (service-authenticated)")
check_blp.before_request(authenticate_service("check"))
SECURED = {"security": [{"serviceKey": []}]}


class SessionView(Schema):
    handle = fields.String(metadata={"description": "Public name of the session (to end it); not the session id"})
    current = fields.Boolean()
    client = fields.String()
    entry = fields.String()
    domain = fields.String()
    identity_type = fields.String()
    project = fields.String(allow_none=True)
    agreement = fields.String(allow_none=True)
    enterprise_switch_allowed = fields.Boolean(metadata={"description": "R-SW-3: false once personal"})
    login_at = fields.Float()
    last_seen_at = fields.Float()
    idle_expires_at = fields.Float()
    absolute_expires_at = fields.Float()
    ip = fields.String()
    person = fields.String(metadata={"description": "Person id"})


class SessionList(Schema):
    sessions = fields.List(fields.Nested(SessionView))


class SessionOk(Schema):
    ok = fields.Boolean()


class SessionCheckRequest(Schema):
    """Any domain or subject in the body is ignored: both come from the server-side session."""

    class Meta:
        unknown = EXCLUDE

    session = fields.String(required=True, metadata={"description": "The session id (azs_...) the user presented, "
                                                      "or an access token (azat_...) a relying party holds (docs/sso.md)"})
    object = Token("Function (ac.* or biz.*)", "biz.invoice_use")
    action = Token("Action on the function", "use")


class SessionCheckResponse(Schema):
    allowed = fields.Boolean(required=True)
    session_status = fields.String(metadata={"description": "active, or why the session gives nothing: "
                                                            "unknown, expired, identity_revoked"})
    subject = fields.String()
    domain = fields.String(metadata={"description": "From the server-side session, never from the request"})
    identity_type = fields.String()
    entry = fields.String()
    object = fields.String()
    action = fields.String()
    policy = fields.String()


class MenuFunction(Schema):
    object = fields.String(metadata={"description": "Catalogue function (ac.* or biz.*)"})
    actions = fields.List(fields.String(), metadata={"description": "The actions this session may take on it"})
    label = fields.String(metadata={"description": "Catalogue label in the request's language"})
    label_zh = fields.String()
    label_en = fields.String()
    group = fields.String(metadata={"description": "Catalogue menu group (business functions)"})
    group_label = fields.String(metadata={"description": "The group's name in the request's language"})


class MenuArea(Schema):
    group = fields.String(metadata={"description": "Catalogue menu group (the rule file's fn lines), its key"})
    label = fields.String(metadata={"description": "The group's name in the request's language (group lines)"})
    functions = fields.List(fields.Nested(MenuFunction))


class MenuView(Schema):
    entry = fields.String()
    areas = fields.List(fields.Nested(MenuArea), metadata={"description": "Account-centre areas (ac.*) "
                                                                          "in catalogue order"})
    business = fields.List(fields.Nested(MenuFunction), metadata={"description": "Business functions (biz.*)"})
    policy = fields.String(metadata={"description": "Digest of the rule file that decided"})


def _view(row, current_id: int | None = None) -> dict:
    st = svc().settings
    return {"handle": row.handle, "current": row.id == current_id, "client": row.client, "entry": row.entry,
            "domain": row.domain, "identity_type": row.role, "project": row.project, "agreement": row.agreement,
            "enterprise_switch_allowed": row.enterprise_allowed, "login_at": row.login_at,
            "last_seen_at": row.last_seen_at, "idle_expires_at": row.last_seen_at + st.session_idle_minutes * 60,
            "absolute_expires_at": row.login_at + st.session_absolute_hours * 3600, "ip": row.ip,
            "person": row.person.uid}


@blp.route("/session")
class CurrentSession(MethodView):
    @session_secured(blp)
    @blp.response(200, SessionView)
    def get(self):
        """Who am I: the current session's entry, domain and identity type."""
        row = current_session()
        return _view(row, row.id)


@blp.route("/menu")
class Menu(MethodView):
    @session_secured(blp)
    @blp.response(200, MenuView)
    def get(self):
        """The account-centre areas and functions this session may reach now, decided by the enforcer."""
        return menu.menu(svc(), actor.of_session(current_session()), language())


@blp.route("/sessions")
class MySessions(MethodView):
    @session_secured(blp)
    @blp.response(200, SessionList)
    def get(self):
        """My open sessions (devices), newest first."""
        row = require("ac.person.sessions", "view")
        return {"sessions": [_view(r, row.id) for r in sessions.list_for_person(svc(), row.person)]}


@blp.route("/sessions/<handle>", parameters=[{"in": "path", "name": "handle", "required": True,
                                              "schema": {"type": "string"}}])
class MySession(MethodView):
    @session_secured(blp)
    @blp.response(200, SessionOk)
    @blp.alt_response(404, response="DEFAULT_ERROR", description="No such session of mine")
    def delete(self, handle):
        """End one of my sessions."""
        row = require("ac.person.sessions", "end")
        if not sessions.end_by_handle(svc(), row.person, handle):
            raise AuthzError("not_found")
        return {"ok": True}


@check_blp.route("/session")
class SessionCheck(MethodView):
    @check_blp.doc(**SECURED)
    @check_blp.arguments(SessionCheckRequest)
    @check_blp.response(200, SessionCheckResponse)
    @check_blp.alt_response(401, response="DEFAULT_ERROR", description="Missing or invalid service key")
    def post(self, body):
        """May the holder of this session (or of this SSO access token) do this now? For its current identity.

        A read: asking does not count as the person's activity, so it never moves the session's idle timer
        (R-LOGIN-13, issue 10 finding 12); a session idle past the limit answers `session_status: expired`
        however often services ask. Only the person's own requests keep it alive."""
        return checks.session_check(svc(), body["session"], body["object"], body["action"])


BLUEPRINTS = (blp, check_blp)
