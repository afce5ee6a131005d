"""Login API: password login on every entry with a second factor, required actions, identity choice,
QR login, logout, and the apps' signed callbacks. Routes parse, call a flow in authz/, and return."""
from __future__ import annotations

import json

from flask import after_this_request, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from authz import sessions
from authz.errors import AuthzError
from authz.flows import login, qr_login
from authz.ports import ports_of
from authz.ports.apps import APPS

from .labels import labelled
from .schemas import Pattern
from .session import clear_cookie, client_ip, current_session, issue_session, session_secured, svc

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                description="Login: password + second factor on every entry, QR login, logout")
apps_blp = Blueprint("apps", __name__, url_prefix="/api/v1/apps",
                     description="Signed callbacks from the tax app and the IIT app (production adapter)")

FLOW_ID = {"in": "path", "name": "flow", "required": True, "schema": {"type": "string"},
           "description": "The flow id returned when the flow started (azf_...)"}
FACTOR = {"in": "path", "name": "factor", "required": True, "schema": {"type": "string", "enum": list(login.SECOND_FACTORS)}}
ERRORS = "DEFAULT_ERROR"


class LoginRequest(Schema):
    entry = fields.String(required=True, validate=validate.OneOf([e.value for e in sessions.Entry]),
                          metadata={"description": "enterprise, personal, agent, special or nonresident"})
    account = fields.String(required=True, validate=validate.Length(min=1, max=254),
                            metadata={"description": "ID number, phone or username (non-resident: email, phone "
                                                     "or username)", "example": "13800000001"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)
    uscc = fields.String(validate=Pattern(r"^[0-9A-Z]{15,20}$"),
                         metadata={"description": "Enterprise, agency or special-subject USCC"})
    special_type = fields.String(validate=validate.OneOf(list(login.SPECIAL_TYPES)))
    nonresident_code = fields.String(validate=Pattern(r"^[0-9A-Z]{15,20}$"))
    human_token = fields.String(validate=validate.Length(max=400),
                                metadata={"description": "Proof of the slider check (R-LOGIN-14); unused when off"})
    client = fields.String(load_default="browser", validate=validate.OneOf(["browser", "app"]),
                           metadata={"description": "app: the session id is returned in the body for bearer use"})


class Choice(Schema):
    id = fields.String(required=True)
    identity_type = fields.String()
    domain = fields.String()
    enterprise = fields.String()
    name = fields.String()
    region = fields.String()
    kind = fields.String()
    until = fields.String()
    sub_identity = fields.Boolean()
    identity_label = fields.String(metadata={"description": "The identity type's name (rule file catalogue)"})
    enterprise_masked = fields.String(metadata={"description": "Taxpayer name, masked (R-MASK-1)"})
    uscc_masked = fields.String(metadata={"description": "USCC, masked"})


class IdentityView(Schema):
    entry = fields.String()
    domain = fields.String()
    identity_type = fields.String()
    identity_label = fields.String(metadata={"description": "The identity type's name (rule file catalogue)"})
    enterprise_masked = fields.String(metadata={"description": "Taxpayer name, masked (R-MASK-1)"})
    uscc_masked = fields.String(metadata={"description": "USCC, masked"})


class FlowView(Schema):
    flow = fields.String(metadata={"description": "The flow id (present on the first answer)"})
    kind = fields.String()
    state = fields.String(metadata={"description": "second_factor, sign_agreement, change_password, choose, "
                                                   "confirm_pending or done"})
    entry = fields.String()
    expires_at = fields.Float()
    factors = fields.List(fields.String())
    sms_phone = fields.String(allow_none=True, metadata={"description": "Masked target of the SMS code"})
    choices = fields.List(fields.Nested(Choice))
    pending = fields.List(fields.Nested(Choice))
    identity = fields.Nested(IdentityView)
    session = fields.String(metadata={"description": "Only for client=app: the bearer session id"})


class FactorStarted(Schema):
    factor = fields.String()
    phone = fields.String(metadata={"description": "Masked phone the code went to"})
    expires_in = fields.Integer()
    ticket = fields.String(metadata={"description": "Draw as a QR code for the app to scan"})
    expires_at = fields.Float()
    sends_left = fields.Integer(metadata={"description": "SMS: how many more codes this flow may send "
                                                         "(resends included, AUTHZ_SMS_FLOW_MAX_SENDS)"})


class CodeRequest(Schema):
    code = fields.String(validate=Pattern(r"^[0-9]{6}$"), metadata={"description": "The SMS code"})


class NewPasswordRequest(Schema):
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)
    confirm_password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)


class ChoiceRequest(Schema):
    choice = fields.String(required=True, validate=validate.Length(min=1, max=64),
                           metadata={"description": "The id of one of the listed choices or pending identities"})


class ConfirmRequest(ChoiceRequest):
    factor = fields.String(required=True, validate=validate.OneOf(list(login.CONFIRM_FACTORS)),
                           metadata={"description": "The app that scans the face: taxapp or iitapp (R-BIND-6)"})


class ChoicesQuery(Schema):
    q = fields.String(validate=validate.Length(max=40),
                      metadata={"description": "Management number, or its last 4 digits (special subjects)"})


class QrStartRequest(Schema):
    client = fields.String(load_default="browser", validate=validate.OneOf(["browser", "app"]))


class QrView(Schema):
    flow = fields.String()
    state = fields.String(metadata={"description": "waiting, expired (refresh) or done"})
    ticket = fields.String()
    ticket_expires_at = fields.Float(allow_none=True)
    expires_at = fields.Float()
    identity = fields.Nested(IdentityView)
    session = fields.String()


class TicketConfirmed(Schema):
    ticket = fields.String()
    state = fields.String()


class AppConfirmRequest(Schema):
    app = fields.String(required=True, validate=validate.OneOf(list(APPS)))


class AuthOk(Schema):
    ok = fields.Boolean()


def _step(step: "login.Step", flow_id: str) -> dict:
    return labelled(issue_session(dict(step.view, flow=flow_id), step.session, step.session_row))


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginRequest)
    @blp.response(200, FlowView)
    @blp.alt_response(401, response=ERRORS, description="Unknown account or wrong password (R-LOGIN-12)")
    @blp.alt_response(423, response=ERRORS, description="Locked (R-LOGIN-11)")
    def post(self, body):
        """Start a login: account and password for a business entry (then a second factor)."""
        step = login.start(svc(), ip=client_ip(), **body)
        return step.view


@blp.route("/login/<flow>", parameters=[FLOW_ID])
class LoginFlow(MethodView):
    @blp.arguments(ChoicesQuery, location="query")
    @blp.response(200, FlowView)
    def get(self, query, flow):
        """The login flow's state and, when choosing, the identities / projects / clients offered."""
        return labelled(dict(login.load_view(svc(), flow, query.get("q")), flow=flow))


@blp.route("/login/<flow>/factors/<factor>", parameters=[FLOW_ID, FACTOR])
class LoginFactor(MethodView):
    @blp.response(200, FactorStarted)
    @blp.alt_response(429, response=ERRORS, description="SMS quota of the person's phone (R-SMS-1), or this "
                                                        "flow's send cap (sms_flow_limit)")
    def post(self, flow, factor):
        """Start a second factor: send the SMS code (R-LOGIN-2 target) or show a face-scan ticket."""
        return login.begin_factor(svc(), flow, factor)


@blp.route("/login/<flow>/factors/<factor>/verify", parameters=[FLOW_ID, FACTOR])
class LoginFactorVerify(MethodView):
    @blp.arguments(CodeRequest)
    @blp.response(200, FlowView)
    @blp.alt_response(403, response=ERRORS, description="No relation with the enterprise (no_relation, R-LOGIN-3)")
    @blp.alt_response(409, response=ERRORS, description="Scan not confirmed yet (poll again)")
    @blp.alt_response(423, response=ERRORS, description="Locked (R-LOGIN-11)")
    def post(self, body, flow, factor):
        """Finish the second factor (the SMS code, or collect the confirmed scan)."""
        return _step(login.complete_factor(svc(), flow, factor, body.get("code")), flow)


@blp.route("/login/<flow>/agreement", parameters=[FLOW_ID])
class LoginAgreement(MethodView):
    @blp.response(200, FlowView)
    def post(self, flow):
        """Sign the user agreement (required at a stock person's first login, R-LOGIN-10)."""
        return _step(login.sign_agreement(svc(), flow), flow)


@blp.route("/login/<flow>/password", parameters=[FLOW_ID])
class LoginPassword(MethodView):
    @blp.arguments(NewPasswordRequest)
    @blp.response(200, FlowView)
    def post(self, body, flow):
        """Replace the initial password (required before anything else, R-PWD-2)."""
        return _step(login.change_password(svc(), flow, body["new_password"], body["confirm_password"]), flow)


@blp.route("/login/<flow>/choose", parameters=[FLOW_ID])
class LoginChoose(MethodView):
    @blp.arguments(ChoiceRequest)
    @blp.response(200, FlowView)
    def post(self, body, flow):
        """Enter one identity, project (special subject) or client (agent)."""
        return _step(login.choose(svc(), flow, body["choice"]), flow)


@blp.route("/login/<flow>/confirm", parameters=[FLOW_ID])
class LoginConfirm(MethodView):
    @blp.arguments(ConfirmRequest)
    @blp.response(200, FactorStarted)
    @blp.alt_response(422, response=ERRORS, description="Not a pending authorisation awaiting you, or not a face app")
    @blp.alt_response(423, response=ERRORS, description="Face verification locked (R-LOGIN-11)")
    def post(self, body, flow):
        """Choose the pending authorisation to confirm; answers the face-scan ticket (R-LOGIN-3, R-BIND-6)."""
        return login.confirm_pending(svc(), flow, body["choice"], body["factor"])


@blp.route("/login/<flow>/confirm/verify", parameters=[FLOW_ID])
class LoginConfirmVerify(MethodView):
    @blp.response(200, FlowView)
    @blp.alt_response(409, response=ERRORS, description="Scan not confirmed yet (poll again)")
    @blp.alt_response(422, response=ERRORS, description="The face did not match (face_mismatch)")
    @blp.alt_response(423, response=ERRORS, description="Face verification locked (R-LOGIN-11)")
    def post(self, flow):
        """Collect the face scan, confirm the authorisation as the person, then enter with it (R-BIND-6)."""
        return _step(login.verify_confirm(svc(), flow), flow)


@blp.route("/logout")
class Logout(MethodView):
    @session_secured(blp)
    @blp.response(200, AuthOk)
    def post(self):
        """End the current session on the server (R-LOGIN-13)."""
        row = current_session()
        sessions.end(svc(), row, sessions.EndReason.LOGOUT)

        @after_this_request
        def _clear(resp):
            clear_cookie(resp)
            return resp
        return {"ok": True}


# ---- QR login (R-LOGIN-7)
@blp.route("/qr")
class QrStart(MethodView):
    @blp.arguments(QrStartRequest)
    @blp.response(200, QrView)
    def post(self, body):
        """Open a QR login: the page keeps the flow id and draws the ticket."""
        return qr_login.start(svc(), client=body["client"], ip=client_ip())


@blp.route("/qr/<flow>", parameters=[FLOW_ID])
class QrPoll(MethodView):
    @blp.response(200, QrView)
    @blp.alt_response(409, response=ERRORS, description="The flow is already done, or its ticket was used "
                                                        "(flow_state, ticket_used): start a new QR login")
    def get(self, flow):
        """Poll: waiting, expired (refresh it), or done (the session is set now, once)."""
        out, raw, row = qr_login.poll(svc(), flow)
        return labelled(issue_session(out, raw, row))  # the identity the scan yielded, named (R-LOGIN-7)


@blp.route("/qr/<flow>/refresh", parameters=[FLOW_ID])
class QrRefresh(MethodView):
    @blp.response(200, QrView)
    def post(self, flow):
        """Show a new ticket for the same flow (the old one stops working)."""
        return qr_login.refresh(svc(), flow)


@blp.route("/qr/tickets/<ticket>/confirm", parameters=[{"in": "path", "name": "ticket", "required": True,
                                                         "schema": {"type": "string"}}])
class QrConfirm(MethodView):
    @session_secured(blp, "No live app session (the app's bearer session id azs_…)")
    @blp.arguments(AppConfirmRequest)
    @blp.response(200, TicketConfirmed)
    @blp.alt_response(409, response=ERRORS, description="Ticket already confirmed")
    def post(self, body, ticket):
        """The app (with its bearer session) confirms a scanned QR-login ticket."""
        return qr_login.confirm_with_app_session(svc(), ticket, body["app"], current_session())


@apps_blp.route("/<app>/callback", parameters=[{"in": "path", "name": "app", "required": True,
                                                "schema": {"type": "string", "enum": list(APPS)}}])
class AppCallback(MethodView):
    @apps_blp.doc(parameters=[
        {"in": "header", "name": "X-Authz-Timestamp", "required": True, "schema": {"type": "string"}},
        {"in": "header", "name": "X-Authz-Signature", "required": True, "schema": {"type": "string"},
         "description": "hex HMAC-SHA256 of '<timestamp>.<raw body>' with the app's secret"}],
        requestBody={"content": {"application/json": {"schema": {"type": "object"}}}})
    @apps_blp.response(200, TicketConfirmed)
    @apps_blp.alt_response(401, response=ERRORS, description="Bad signature")
    def post(self, app):
        """An app's back end reports a scan: a face result or a QR-login confirmation (signed)."""
        s = svc()
        raw = request.get_data(cache=True)
        ports_of(s).app_callbacks.verify(app, raw, request.headers.get("X-Authz-Timestamp"),
                                         request.headers.get("X-Authz-Signature"), s.clock.time())
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            raise AuthzError("bad_request") from None
        if not isinstance(payload, dict):
            raise AuthzError("bad_request")
        return qr_login.confirm_by_callback(s, app, payload)


BLUEPRINTS = (blp, apps_blp)
