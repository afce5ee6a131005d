"""Registration, forgot password, phone recovery (public flows) and the hall's offline collection and
registration codes (service-authenticated, scope `hall`). Routes parse, call a flow, return."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from authz.accounts import DOC_TYPES
from authz.flows import hall, password_reset, phone_recovery, registration

from .errors import language
from .schemas import Pattern
from .security import authenticate_service, service_secured
from .session import client_ip, svc

reg_blp = Blueprint("register", __name__, url_prefix="/api/v1/register",
                    description="Natural-person registration (agreement, identity, basic info, face or hall shortcut)")
reset_blp = Blueprint("password-reset", __name__, url_prefix="/api/v1/password-reset",
                      description="Forgot password: document, SMS code or face scan, new password")
recovery_blp = Blueprint("phone-recovery", __name__, url_prefix="/api/v1/phone-recovery",
                         description="Recover a phone number: document, password, new phone with SMS code")
hall_blp = Blueprint("hall", __name__, url_prefix="/api/v1/hall",
                     description="Tax hall: offline real-name collection and registration codes (scope hall)")
hall_blp.before_request(authenticate_service("hall"))

FLOW_ID = {"in": "path", "name": "flow", "required": True, "schema": {"type": "string"}}
APP = {"in": "path", "name": "app", "required": True, "schema": {"type": "string", "enum": ["taxapp", "iitapp"]}}
FACTOR = {"in": "path", "name": "factor", "required": True, "schema": {"type": "string",
                                                                      "enum": ["sms", "taxapp", "iitapp"]}}
DocType = lambda: fields.String(required=True, validate=validate.OneOf(sorted(DOC_TYPES)),  # noqa: E731
                                metadata={"description": "One of the eleven document types (R-REG-2)"})
DocNumber = lambda: fields.String(required=True, validate=validate.Length(min=5, max=40))  # noqa: E731
Phone = lambda **kw: fields.String(validate=Pattern(r"^1[3-9][0-9]{9}$"), **kw)  # noqa: E731
Code = lambda **kw: fields.String(validate=Pattern(r"^[0-9]{6}$"), **kw)  # noqa: E731
Secret = lambda: fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)  # noqa: E731


class RegStart(Schema):
    agreement = fields.Boolean(required=True, metadata={"description": "The user agreement was read and accepted"})
    overseas = fields.Boolean(load_default=False, metadata={"description": "Overseas (境外) natural person"})


class RegIdentity(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    doc_type = DocType()
    doc_number = DocNumber()


HumanToken = lambda: fields.String(  # noqa: E731
    validate=validate.Length(max=400),
    metadata={"description": "A fresh slider token (R-LOGIN-14): one per SMS to a number not yet proven "
                             "(issue 10 finding 6); unused when the check is off"})
SEND_CAPS = ("SMS quota of this phone for this procedure (sms_quota, R-SMS-1), or a send cap: this flow "
             "(sms_flow_limit) or this network address (sms_client_limit); Retry-After when it ends")


class PhoneOnly(Schema):
    phone = Phone(required=True)
    human_token = HumanToken()


class HumanOnly(Schema):
    human_token = HumanToken()


class RegBasic(Schema):
    password = Secret()
    confirm_password = Secret()
    phone = Phone(required=True)
    code = Code(required=True)
    username = fields.String(validate=Pattern(r"^[A-Za-z][A-Za-z0-9]{5,19}$"),
                             metadata={"description": "Optional (R-USR-1)"})
    registration_code = fields.String(validate=Pattern(r"^[A-Za-z0-9]{6}$"),
                                      metadata={"description": "Hall registration code (R-REG-7), instead of a face scan"})


class IdentityFlowState(Schema):
    flow = fields.String()
    kind = fields.String()
    state = fields.String()
    expires_at = fields.Float()
    factors = fields.List(fields.String())
    gender = fields.String(allow_none=True)
    nationality = fields.String(allow_none=True)
    phone = fields.String(metadata={"description": "Masked"})
    person = fields.String(metadata={"description": "The registered person's id (when done)"})
    realname_level = fields.Integer()
    verified_by = fields.String(allow_none=True)


class IdentityFactorStarted(Schema):
    factor = fields.String()
    phone = fields.String()
    expires_in = fields.Integer()
    ticket = fields.String()
    expires_at = fields.Float()


class ResetStart(Schema):
    doc_type = DocType()
    doc_number = DocNumber()
    human_token = fields.String(validate=validate.Length(max=400))


class ResetFactor(Schema):
    phone = Phone(metadata={"description": "For sms: one of your phones"})
    human_token = HumanToken()


class CodeBody(Schema):
    code = Code()


class NewPassword(Schema):
    new_password = Secret()
    confirm_password = Secret()


class RecoveryStart(Schema):
    doc_type = DocType()
    doc_number = DocNumber()
    password = Secret()
    new_phone = Phone(required=True)
    human_token = fields.String(validate=validate.Length(max=400))


class RecoveryCode(Schema):
    code = Code(required=True)


class HallCollect(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    doc_type = DocType()
    doc_number = DocNumber()
    phone = Phone(required=True)


class HallCodeRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    doc_type = DocType()
    doc_number = DocNumber()


class HallPersonView(Schema):
    person = fields.String()
    collected_offline = fields.Boolean()
    registered = fields.Boolean()


class HallCodeView(Schema):
    person = fields.String()
    code = fields.String(metadata={"description": "Shown once: 6 letters/digits"})
    expires_at = fields.Float()


class RegDocType(Schema):
    code = fields.String(metadata={"description": "What doc_type takes"})
    name = fields.String(metadata={"description": "The type's name in the language of Accept-Language"})
    online = fields.Boolean(metadata={"description": "May register online; false: only after a hall collection "
                                                     "(R-REG-2)"})
    overseas = fields.Boolean(metadata={"description": "Its typical holder registers as an overseas person"})


class RegDocTypeList(Schema):
    document_types = fields.List(fields.Nested(RegDocType))


# ---- registration
@reg_blp.route("/document-types")
class RegisterDocTypes(MethodView):
    @reg_blp.response(200, RegDocTypeList)
    def get(self):
        """The eleven document types (R-REG-2) with their names, for registration, reset and recovery forms."""
        en = language() == "en"
        return {"document_types": [{"code": d.code, "name": d.en if en else d.zh, "online": d.online,
                                    "overseas": d.overseas} for d in DOC_TYPES.values()]}


@reg_blp.route("")
class RegisterStart(MethodView):
    @reg_blp.arguments(RegStart)
    @reg_blp.response(200, IdentityFlowState)
    def post(self, body):
        """Start registering: the user agreement is accepted."""
        return registration.start(svc(), **body)


@reg_blp.route("/<flow>", parameters=[FLOW_ID])
class RegisterFlow(MethodView):
    @reg_blp.response(200, IdentityFlowState)
    @reg_blp.alt_response(409, response="DEFAULT_ERROR", description="The flow is already done (flow_state)")
    def get(self, flow):
        """The registration flow's state."""
        return dict(registration.load_view(svc(), flow), flow=flow)


@reg_blp.route("/<flow>/identity", parameters=[FLOW_ID])
class RegisterIdentity(MethodView):
    @reg_blp.arguments(RegIdentity)
    @reg_blp.response(200, IdentityFlowState)
    def post(self, body, flow):
        """Identity check: name, document type and number."""
        return dict(registration.submit_identity(svc(), flow, **body), flow=flow)


@reg_blp.route("/<flow>/sms-code", parameters=[FLOW_ID])
class RegisterCode(MethodView):
    @reg_blp.arguments(PhoneOnly)
    @reg_blp.response(200, IdentityFactorStarted)
    @reg_blp.alt_response(422, response="DEFAULT_ERROR", description="Human check missing or already used")
    @reg_blp.alt_response(429, response="DEFAULT_ERROR", description=SEND_CAPS)
    def post(self, body, flow):
        """Send an SMS code to the phone being registered."""
        return registration.send_code(svc(), flow, body["phone"], client=client_ip(),
                                      human_token=body.get("human_token"))


@reg_blp.route("/<flow>/basic", parameters=[FLOW_ID])
class RegisterBasic(MethodView):
    @reg_blp.arguments(RegBasic)
    @reg_blp.response(200, IdentityFlowState)
    def post(self, body, flow):
        """Password twice, phone + code, optional username (and hall code): done, or on to the face scan."""
        return dict(registration.submit_basic(svc(), flow, **body), flow=flow)


@reg_blp.route("/<flow>/face/<app>", parameters=[FLOW_ID, APP])
class RegisterFace(MethodView):
    @reg_blp.response(200, IdentityFactorStarted)
    def post(self, flow, app):
        """Show a face-verification ticket for the chosen app."""
        return registration.begin_face(svc(), flow, app)


@reg_blp.route("/<flow>/face/verify", parameters=[FLOW_ID])
class RegisterFaceVerify(MethodView):
    @reg_blp.response(200, IdentityFlowState)
    @reg_blp.alt_response(409, response="DEFAULT_ERROR", description="Scan not confirmed yet (poll again)")
    def post(self, flow):
        """Collect the confirmed face scan and complete the registration."""
        return dict(registration.complete_face(svc(), flow), flow=flow)


# ---- forgot password
@reset_blp.route("")
class ResetStart_(MethodView):
    @reset_blp.arguments(ResetStart)
    @reset_blp.response(200, IdentityFlowState)
    @reset_blp.alt_response(401, response="DEFAULT_ERROR", description="No registered person with this document "
                                                                    "(not_registered; not told with generic errors)")
    def post(self, body):
        """Start a password reset with the document type and number."""
        return password_reset.start(svc(), **body)


@reset_blp.route("/<flow>/factors/<factor>", parameters=[FLOW_ID, FACTOR])
class ResetFactor_(MethodView):
    @reset_blp.arguments(ResetFactor)
    @reset_blp.response(200, IdentityFactorStarted)
    @reset_blp.alt_response(422, response="DEFAULT_ERROR", description="Human check missing or already used (sms)")
    @reset_blp.alt_response(429, response="DEFAULT_ERROR", description=SEND_CAPS)
    def post(self, body, flow, factor):
        """Send a code to one of your phones, or show a face-scan ticket."""
        return password_reset.begin_factor(svc(), flow, factor, body.get("phone"), client=client_ip(),
                                           human_token=body.get("human_token"))


@reset_blp.route("/<flow>/factors/<factor>/verify", parameters=[FLOW_ID, FACTOR])
class ResetVerify(MethodView):
    @reset_blp.arguments(CodeBody)
    @reset_blp.response(200, IdentityFlowState)
    def post(self, body, flow, factor):
        """Check the code or collect the scan."""
        return password_reset.complete_factor(svc(), flow, factor, body.get("code"))


@reset_blp.route("/<flow>/password", parameters=[FLOW_ID])
class ResetPassword(MethodView):
    @reset_blp.arguments(NewPassword)
    @reset_blp.response(200, IdentityFlowState)
    def post(self, body, flow):
        """Set the new password: lockouts are lifted and every session ends."""
        return password_reset.set_password(svc(), flow, body["new_password"], body["confirm_password"])


# ---- phone recovery
@recovery_blp.route("")
class RecoveryStart_(MethodView):
    @recovery_blp.arguments(RecoveryStart)
    @recovery_blp.response(200, IdentityFlowState)
    @recovery_blp.alt_response(401, response="DEFAULT_ERROR", description="Unknown document or wrong password "
                                                                       "(R-LOGIN-12)")
    @recovery_blp.alt_response(423, response="DEFAULT_ERROR", description="Locked (R-LOGIN-11)")
    @recovery_blp.alt_response(429, response="DEFAULT_ERROR", description=SEND_CAPS)
    def post(self, body):
        """Document, password and the new phone: an SMS code goes to the new phone."""
        return phone_recovery.start(svc(), client=client_ip(), **body)


@recovery_blp.route("/<flow>/resend", parameters=[FLOW_ID])
class RecoveryResend(MethodView):
    @recovery_blp.arguments(HumanOnly)
    @recovery_blp.response(200, IdentityFlowState)
    @recovery_blp.alt_response(422, response="DEFAULT_ERROR", description="Human check missing or already used")
    @recovery_blp.alt_response(429, response="DEFAULT_ERROR", description=SEND_CAPS)
    def post(self, body, flow):
        """Send another code to the new phone (a fresh human check)."""
        return phone_recovery.resend(svc(), flow, client=client_ip(), human_token=body.get("human_token"))


@recovery_blp.route("/<flow>/verify", parameters=[FLOW_ID])
class RecoveryVerify(MethodView):
    @recovery_blp.arguments(RecoveryCode)
    @recovery_blp.response(200, IdentityFlowState)
    def post(self, body, flow):
        """The code: the phone becomes yours (and default), taken from anyone else."""
        return phone_recovery.complete(svc(), flow, body["code"])


# ---- hall (scope hall)
@hall_blp.route("/persons")
class HallPersons(MethodView):
    @service_secured(hall_blp)
    @hall_blp.arguments(HallCollect)
    @hall_blp.response(200, HallPersonView)
    def post(self, body):
        """Offline real-name collection: the person and the phone given at the counter (R-REG-3)."""
        p = hall.collect(svc(), operator=g.client.name, **body)
        return {"person": p.uid, "collected_offline": p.collected_offline, "registered": p.registered}


@hall_blp.route("/registration-codes")
class HallCodes(MethodView):
    @service_secured(hall_blp)
    @hall_blp.arguments(HallCodeRequest)
    @hall_blp.response(200, HallCodeView)
    def post(self, body):
        """Issue a hall registration code (6 letters/digits, valid 7 days) (R-REG-7)."""
        code, row = hall.issue_code(svc(), operator=g.client.name, **body)
        return {"person": row.person.uid, "code": code, "expires_at": row.expires_at}


BLUEPRINTS = (reg_blp, reset_blp, recovery_blp, hall_blp)
