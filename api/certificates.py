"""Tax digital certificates: filing by the certificate authority through the integration port (scope
`integration`), certificate login (R-LOGIN-9: a signed challenge that replaces the SMS / app factor) and
the enterprise account centre's certificate list and password change (R-CERT-1). Thin: parse, call
authz/flows/certificates.py or cert_login.py, return."""
from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from authz.flows import cert_login, certificates
from authz.flows.identity_switch import actor_of
from authz.ids import USCC_RE
from authz.models import CERT_KINDS as KINDS, CERT_STATUSES as STATUSES

from .auth import FLOW_ID, Choice, ChoiceRequest, IdentityView
from .schemas import Pattern
from .security import authenticate_service
from .session import client_ip, current_session, issue_session, session_secured, svc

ERRORS = "DEFAULT_ERROR"
SERIAL_PATTERN = certificates.SERIAL_RE.pattern
SERIAL = {"in": "path", "name": "serial", "required": True, "description": "Certificate serial number",
          "schema": {"type": "string", "pattern": SERIAL_PATTERN}}

filing_blp = Blueprint("integration-certificates", __name__, url_prefix="/api/v1/integration/certificates",
                       description="Tax digital certificates from the certificate authority (scope `integration`)")
filing_blp.before_request(authenticate_service("integration"))
login_blp = Blueprint("auth-certificate", __name__, url_prefix="/api/v1/auth/certificate",
                      description="Enterprise login with a tax digital certificate: account + personal password + "
                                  "certificate password, then a signed challenge (R-LOGIN-9)")
account_blp = Blueprint("account-certificates", __name__, url_prefix="/api/v1/account/enterprise/certificates",
                        description="The enterprise's tax digital certificates and their passwords (R-CERT-1)")
BLUEPRINTS = (filing_blp, login_blp, account_blp)


# ---- schemas
class CertificateFiling(Schema):
    uscc = fields.String(required=True, validate=Pattern(USCC_RE.pattern),
                         metadata={"description": "The enterprise holding the certificate"})
    kind = fields.String(required=True, validate=validate.OneOf(KINDS),
                         metadata={"description": "sm (国密; ECDSA P-256 stands in for SM2) or rsa (non-SM)"})
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    public_key = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                               metadata={"description": "PEM SubjectPublicKeyInfo (P-256 for sm, RSA >= 2048 for rsa)"})
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(required=True)
    password = fields.String(required=True, validate=validate.Length(min=6, max=128), load_only=True,
                             metadata={"description": "Initial certificate password (only used on first filing)"})
    status = fields.String(load_default="active", validate=validate.OneOf(STATUSES))


class FilingResult(Schema):
    serial = fields.String()
    changed = fields.Boolean()


class CertLoginRequest(Schema):
    serial = fields.String(required=True, validate=Pattern(SERIAL_PATTERN))
    certificate_password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)
    account = fields.String(required=True, validate=validate.Length(min=1, max=254),
                            metadata={"description": "ID number, phone or username of the person logging in"})
    password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True,
                             metadata={"description": "The person's own password"})
    human_token = fields.String(validate=validate.Length(max=400))
    client = fields.String(load_default="browser", validate=validate.OneOf(["browser", "app"]))


class SignatureRequest(Schema):
    signature = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                              metadata={"description": "Standard base64 of the signature over the decoded challenge"})


class CertFlowView(Schema):
    flow = fields.String()
    kind = fields.String()
    state = fields.String(metadata={"description": "challenge, choose or done"})
    entry = fields.String()
    expires_at = fields.Float()
    challenge = fields.String(metadata={"description": "32 random bytes, standard base64: sign the decoded bytes"})
    algorithm = fields.String()
    choices = fields.List(fields.Nested(Choice))
    identity = fields.Nested(IdentityView)
    session = fields.String(metadata={"description": "Only for client=app: the bearer session id"})


class CertificateView(Schema):
    serial = fields.String()
    kind = fields.String()
    kind_name = fields.String()
    kind_name_en = fields.String()
    subject = fields.String(metadata={"description": "Subject (masked, R-MASK-1)"})
    holder = fields.String(allow_none=True, metadata={"description": "Holder's name (masked)"})
    valid_from = fields.String()
    valid_to = fields.String()
    status = fields.String(metadata={"description": "active or revoked"})
    state = fields.String(metadata={"description": "valid, expired, not_yet_valid or revoked"})


class CertificateList(Schema):
    certificates = fields.List(fields.Nested(CertificateView))


class CertPasswordChange(Schema):
    old_password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)
    confirm_password = fields.String(required=True, validate=validate.Length(min=1, max=128), load_only=True)


# ---- filing
@filing_blp.route("/<serial>", parameters=[SERIAL])
class CertificateFeed(MethodView):
    @filing_blp.doc(security=[{"serviceKey": []}])
    @filing_blp.arguments(CertificateFiling)
    @filing_blp.response(200, FilingResult)
    @filing_blp.alt_response(401, response=ERRORS, description="Missing or invalid service key")
    @filing_blp.alt_response(403, response=ERRORS, description="The key lacks this API's scope")
    @filing_blp.alt_response(404, response=ERRORS, description="Unknown enterprise")
    @filing_blp.alt_response(409, response=ERRORS, description="The serial belongs to another enterprise")
    @filing_blp.alt_response(422, response=ERRORS, description="Invalid key for the kind (certificate_key_invalid), "
                             "validity end before start (certificate_dates), or field errors")
    def put(self, body, serial):
        """File or update a tax digital certificate (idempotent; the password only on first filing)."""
        return certificates.file(current_app.extensions["authz"], by=f"service:{g.client.name}", serial=serial,
                                 **body)


# ---- login (R-LOGIN-9)
def _step(step, flow_id: str) -> dict:
    out = dict(step.view, flow=flow_id)
    return issue_session(out, step.session, step.session_row) if step.session else out


@login_blp.route("")
class CertLogin(MethodView):
    @login_blp.arguments(CertLoginRequest)
    @login_blp.response(200, CertFlowView)
    @login_blp.alt_response(401, response=ERRORS, description="Wrong account, password or certificate password")
    @login_blp.alt_response(403, response=ERRORS, description="Certificate revoked or outside its validity")
    @login_blp.alt_response(423, response=ERRORS, description="Locked (R-LOGIN-11)")
    def post(self, body):
        """Start a certificate login: returns the challenge to sign with the certificate's key."""
        return cert_login.start(svc(), ip=client_ip(), **body).view


@login_blp.route("/<flow>/verify", parameters=[FLOW_ID])
class CertLoginVerify(MethodView):
    @login_blp.arguments(SignatureRequest)
    @login_blp.response(200, CertFlowView)
    @login_blp.alt_response(401, response=ERRORS, description="The signature does not verify")
    @login_blp.alt_response(409, response=ERRORS, description="Not at this step (e.g. a replayed verify)")
    @login_blp.alt_response(423, response=ERRORS, description="Locked (R-LOGIN-11)")
    def post(self, body, flow):
        """Verify the signature over the challenge; then the identity choice (or done with one)."""
        return _step(cert_login.verify(svc(), flow, body["signature"]), flow)


@login_blp.route("/<flow>/choose", parameters=[FLOW_ID])
class CertLoginChoose(MethodView):
    @login_blp.arguments(ChoiceRequest)
    @login_blp.response(200, CertFlowView)
    def post(self, body, flow):
        """Enter the enterprise as one of the listed identities (e.g. the tax officer)."""
        return _step(cert_login.choose(svc(), flow, body["choice"]), flow)


# ---- account centre (R-CERT-1)
@account_blp.route("")
class CertificateListing(MethodView):
    @session_secured(account_blp)
    @account_blp.response(200, CertificateList)
    def get(self):
        """The enterprise's SM and non-SM certificates, subject masked (R-CERT-1)."""
        return {"certificates": certificates.list_certificates(svc(), actor_of(current_session()))}


@account_blp.route("/<serial>/password", parameters=[SERIAL])
class CertificatePassword(MethodView):
    @session_secured(account_blp)
    @account_blp.arguments(CertPasswordChange)
    @account_blp.response(200, FilingResult)
    @account_blp.alt_response(404, response=ERRORS, description="No such certificate in this enterprise")
    @account_blp.alt_response(422, response=ERRORS, description="Old password wrong, or the policy refused the new one")
    @account_blp.alt_response(423, response=ERRORS, description="Locked (R-LOGIN-11)")
    def post(self, body, serial):
        """Change a certificate's password (old password, password policy; audited)."""
        return certificates.change_password(svc(), actor_of(current_session()), serial, body["old_password"],
                                            body["new_password"], body["confirm_password"])
