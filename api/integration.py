"""Integration API for the external sources (service-authenticated): registration data, the tax
information report, the core tax system (tax officers, cross-region projects), agency filings and
non-resident approvals (scope `integration`), and tax-hall operations (scope `hall`). Every write is
idempotent on resend (the answer says `changed: false`) and audited as service:<client name>; binding and
agreement changes are also published as outbound events."""
from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from authz.directory import ENTERPRISE_KINDS
from authz.flows import integration as flow
from authz.ids import TOKEN_RE, USCC_RE

from .schemas import Pattern
from .security import authenticate_service

blp = Blueprint("integration", __name__, url_prefix="/api/v1/integration",
                description="Data from the external sources: registration data, tax information report, core tax "
                            "system (tax officers, cross-region projects), agency filings, non-resident approvals "
                            "(scope `integration`)")
blp.before_request(authenticate_service("integration"))
hall_blp = Blueprint("integration-hall", __name__, url_prefix="/api/v1/integration/hall",
                     description="Tax-hall operations: level-5 real-name checks, bindings added, withdrawn or "
                                 "ended at the hall (scope `hall`)")
hall_blp.before_request(authenticate_service("hall"))
BLUEPRINTS = (blp, hall_blp)

SECURED = {"security": [{"serviceKey": []}]}
USCC_PARAM = {"in": "path", "name": "uscc", "required": True, "description": "Unified social credit code",
              "schema": {"type": "string", "pattern": USCC_RE.pattern}}


def _svc():
    return current_app.extensions["authz"]


def _actor() -> str:
    return f"service:{g.client.name}"


def _errors(*codes):
    """Decorators documenting the error answers (401 and 403 always)."""
    texts = {401: "Missing or invalid service key", 403: "The key lacks this API's scope",
             404: "Unknown enterprise, person, agreement, project or binding", 409: "Conflicts with data on record",
             422: "Validation failed (field errors under `errors`)"}

    def wrap(fn):
        for status in sorted({401, 403, *codes}, reverse=True):
            fn = blp.alt_response(status, response="DEFAULT_ERROR", description=texts[status])(fn)
        return fn
    return wrap


# ---- schemas

Uscc = lambda desc="Unified social credit code", **kw: fields.String(
    validate=Pattern(USCC_RE.pattern), metadata={"description": desc, "example": "91360100MA35ABCD1X"}, **kw)
Functions = lambda **kw: fields.List(
    fields.String(validate=Pattern(TOKEN_RE.pattern)), validate=validate.Length(min=1, max=50),
    metadata={"description": "Business functions (biz.*) within the identity type's ceiling", "example": ["biz.query"]},
    **kw)
Operator = lambda: fields.String(required=True, validate=Pattern(r"^[0-9A-Za-z_\-]{1,32}$"),
                                 metadata={"description": "Hall staff member's work id (recorded in the audit log)",
                                           "example": "HALL-3601-007"})
SourceRef = lambda desc: fields.String(load_default="", validate=Pattern(flow.SOURCE_REF_PATTERN),
                                       metadata={"description": desc})


class IntegPersonRef(Schema):
    """A person as the sources name them."""
    doc_type = fields.String(required=True, validate=validate.OneOf(flow.DOC_TYPES),
                             metadata={"example": "resident_id"})
    doc_number = fields.String(required=True, validate=Pattern(flow.DOC_NUMBER_PATTERN),
                               metadata={"example": "360102199001011234"})
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), Pattern(flow.NAME_PATTERN)],
                         metadata={"example": "张三"})


class IntegEnterpriseRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(load_default="ordinary", validate=validate.OneOf(ENTERPRISE_KINDS))
    province = fields.String(load_default="", validate=Pattern(r"^([0-9]{2,6})?$"),
                             metadata={"description": "Administrative division code, e.g. 36"})
    tax_authority = fields.String(load_default="", validate=validate.Length(max=200),
                                  metadata={"description": "Competent tax authority"})
    nonresident_code = fields.String(validate=Pattern(USCC_RE.pattern),
                                     metadata={"description": "Non-resident enterprise identity code (kind nonresident)"})
    legal_representative = fields.Nested(IntegPersonRef, metadata={"description": "Becomes the one active legal rep"})


class IntegBindingView(Schema):
    binding_id = fields.Integer()
    person = fields.String(metadata={"description": "Person id (p-...)"})
    uscc = fields.String()
    domain = fields.String()
    identity_type = fields.String()
    state = fields.String()
    origin = fields.String()
    functions = fields.List(fields.String(), allow_none=True)
    valid_until = fields.String(allow_none=True)
    sub_identity = fields.Boolean()
    refusable = fields.Boolean(metadata={"description": "False: the person must confirm and cannot refuse"})
    withdrawable_online = fields.Boolean(metadata={"description": "False: only a tax hall can withdraw it"})
    changed = fields.Boolean(metadata={"description": "False when this call changed nothing (a resend)"})


class IntegEnterpriseView(Schema):
    uscc = fields.String()
    domain = fields.String()
    kind = fields.String()
    province = fields.String()
    tax_authority = fields.String()
    nonresident_code = fields.String(allow_none=True)
    changed = fields.Boolean()
    legal_rep = fields.Nested(IntegBindingView)


class IntegFinanceOfficerRequest(Schema):
    person = fields.Nested(IntegPersonRef, required=True)
    reference = SourceRef("Tax information report id: a resend of the same report never re-opens it")


class IntegTaxOfficerItem(Schema):
    person = fields.Nested(IntegPersonRef, required=True)
    sub_identity = fields.Boolean(load_default=False, metadata={"description": "Sub identity (子身份)"})
    functions = Functions()
    valid_until = fields.Date(allow_none=True, metadata={"description": "Inclusive last day; absent: long-term"})


class IntegTaxOfficersRequest(Schema):
    officers = fields.List(fields.Nested(IntegTaxOfficerItem), required=True, validate=validate.Length(min=1, max=200))
    reference = SourceRef("Core tax system record id: a resend of the same record never re-opens a refused one")


class IntegTaxOfficersView(Schema):
    uscc = fields.String()
    results = fields.List(fields.Nested(IntegBindingView))
    changed = fields.Boolean()


class IntegAgencyStaffRequest(Schema):
    agents = fields.List(fields.Nested(IntegPersonRef), required=True, validate=validate.Length(max=1000),
                         metadata={"description": "The full list of agent staff"})


class IntegAgencyStaffView(Schema):
    uscc = fields.String()
    added = fields.List(fields.Nested(IntegBindingView))
    ended = fields.List(fields.Nested(IntegBindingView))
    unchanged = fields.List(fields.Nested(IntegBindingView))
    changed = fields.Boolean()


class IntegAgreementRequest(Schema):
    agency_uscc = Uscc(required=True)
    client_uscc = Uscc(required=True)
    agents = fields.List(fields.Nested(IntegPersonRef), required=True, validate=validate.Length(max=200),
                         metadata={"description": "Agent persons (filed staff of the agency)"})
    start = fields.Date(required=True)
    end = fields.Date(required=True, metadata={"description": "Inclusive last day; not before start"})
    status = fields.String(load_default="active", validate=validate.OneOf(flow.AGREEMENT_STATUSES))
    permissions = Functions(required=True)


class IntegAgreementStatusRequest(Schema):
    status = fields.String(required=True, validate=validate.OneOf(flow.AGREEMENT_STATUSES))


class IntegAgreementView(Schema):
    number = fields.String()
    agency_uscc = fields.String()
    client_uscc = fields.String()
    client_domain = fields.String()
    start = fields.String()
    end = fields.String()
    status = fields.String()
    permissions = fields.List(fields.String())
    agents = fields.List(fields.String(), metadata={"description": "Agent person ids"})
    changed = fields.Boolean()


class IntegNonresidentRequest(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    uscc = Uscc("Taxpayer id, when one was assigned; default: the identity code")
    province = fields.String(load_default="", validate=Pattern(r"^([0-9]{2,6})?$"))
    tax_authority = fields.String(load_default="", validate=validate.Length(max=200))
    person = fields.Nested(IntegPersonRef, required=True, metadata={"description": "The registered person who filed"})
    filing_ref = SourceRef("Id of the approved filing")


class IntegRealnameRequest(Schema):
    person = fields.Nested(IntegPersonRef, required=True)
    level = fields.Integer(required=True, validate=validate.OneOf([5]), metadata={"description": "Only 5 here"})
    method = fields.String(required=True, validate=validate.OneOf(flow.REALNAME_METHODS))
    operator = Operator()


class IntegRealnameView(Schema):
    person = fields.String()
    realname_level = fields.Integer()
    previous = fields.Integer()
    changed = fields.Boolean()


class IntegHallBindingRequest(Schema):
    uscc = Uscc(required=True)
    person = fields.Nested(IntegPersonRef, required=True)
    identity_type = fields.String(required=True, validate=Pattern(flow.IDENTITY_TYPE_PATTERN), metadata={
        "description": "An identity type the rule file lets the hall add here (`p, service:hall, <domain>, "
                       "svc.binding:<type>, add`; as shipped tax_officer, invoice_officer, admin); any other "
                       "answers 409 integ_hall_role", "example": "tax_officer"})
    functions = Functions()
    valid_until = fields.Date(allow_none=True)
    operator = Operator()


class IntegHallOperatorRequest(Schema):
    operator = Operator()


class IntegProjectRequest(Schema):
    uscc = Uscc(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(flow.PROJECT_KINDS),
                         metadata={"description": "inspection: 跨区域报验 project; tax_source: 跨区税源登记"})
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), Pattern(flow.NAME_PATTERN)],
                         metadata={"description": "Project or registration name", "example": "长沙市岳麓区办公楼建设项目"})
    region = fields.String(required=True, validate=[validate.Length(min=1, max=flow.REGION_MAX),
                                                    Pattern(flow.NAME_PATTERN)],
                           metadata={"description": "Where the project is (经营地)", "example": "湖南省长沙市岳麓区"})
    handler = fields.Nested(IntegPersonRef,
                            metadata={"description": "The handler (经办人) named in the report: a tax officer of the "
                                                     "enterprise, usually a sub identity, who then sees this project; "
                                                     "absent: only the main identities see it (a PUT replaces the "
                                                     "whole record, so leaving it out drops an earlier handler)"})
    status = fields.String(load_default="active", validate=validate.OneOf(flow.PROJECT_STATUSES),
                           metadata={"description": "ended: off login and switching, sessions inside refused at once"})


class IntegProjectStatusRequest(Schema):
    status = fields.String(required=True, validate=validate.OneOf(flow.PROJECT_STATUSES))


class IntegProjectView(Schema):
    management_no = fields.String()
    kind = fields.String()
    uscc = fields.String()
    domain = fields.String()
    name = fields.String()
    region = fields.String()
    handler = fields.String(allow_none=True, metadata={"description": "Handler's person id (p-...), or null"})
    status = fields.String()
    changed = fields.Boolean()


# ---- registration data, tax report, core tax system (scope integration)

@blp.route("/enterprises/<uscc>", parameters=[USCC_PARAM])
class EnterpriseFeed(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(IntegEnterpriseRequest)
    @blp.response(200, IntegEnterpriseView)
    @_errors(409, 422)
    def put(self, body, uscc):
        """Registration data: create or update an enterprise and its legal representative (R-BIND-1)."""
        return flow.register_enterprise(_svc(), _actor(), uscc=uscc, name=body["name"], kind=body["kind"],
                                        province=body["province"], tax_authority=body["tax_authority"],
                                        nonresident_code=body.get("nonresident_code"),
                                        legal_rep=body.get("legal_representative"))


@blp.route("/enterprises/<uscc>/finance-officer", parameters=[USCC_PARAM])
class FinanceOfficerFeed(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(IntegFinanceOfficerRequest)
    @blp.response(200, IntegBindingView)
    @_errors(404, 409, 422)
    def put(self, body, uscc):
        """Tax information report: the finance officer, pending and not refusable (R-BIND-2)."""
        return flow.report_finance_officer(_svc(), _actor(), uscc=uscc, person=body["person"],
                                           reference=body["reference"])


@blp.route("/enterprises/<uscc>/tax-officers", parameters=[USCC_PARAM])
class TaxOfficersFeed(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(IntegTaxOfficersRequest)
    @blp.response(200, IntegTaxOfficersView)
    @_errors(404, 409, 422)
    def post(self, body, uscc):
        """Core tax system: tax officers arrive pending for the person to confirm (R-BIND-3)."""
        return flow.report_tax_officers(_svc(), _actor(), uscc=uscc, officers=body["officers"],
                                        reference=body["reference"])


PROJECT_PARAM = {"in": "path", "name": "management_no", "required": True,
                 "description": "Management number of the inspection project or tax-source registration",
                 "schema": {"type": "string", "pattern": flow.MANAGEMENT_NO_PATTERN}}


@blp.route("/projects/<management_no>", parameters=[PROJECT_PARAM])
class ProjectFeed(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, IntegProjectView)
    @_errors(404)
    def get(self, management_no):
        """A cross-region project as on record (for the source's reconciliation)."""
        return flow.get_project(management_no)

    @blp.doc(**SECURED)
    @blp.arguments(IntegProjectRequest)
    @blp.response(200, IntegProjectView)
    @_errors(404, 409, 422)
    def put(self, body, management_no):
        """Core tax system: file a cross-region inspection project or tax-source registration (R-LOGIN-4)."""
        return flow.file_project(_svc(), _actor(), management_no=management_no, **body)

    @blp.doc(**SECURED)
    @blp.arguments(IntegProjectStatusRequest)
    @blp.response(200, IntegProjectView)
    @_errors(404, 422)
    def patch(self, body, management_no):
        """End or reopen a cross-region project; login, switching and sessions in it follow at once (R-SW-4)."""
        return flow.set_project_status(_svc(), _actor(), management_no, body["status"])


# ---- agencies (scope integration)

@blp.route("/agencies/<uscc>/staff", parameters=[USCC_PARAM])
class AgencyStaffFeed(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(IntegAgencyStaffRequest)
    @blp.response(200, IntegAgencyStaffView)
    @_errors(404, 409, 422)
    def put(self, body, uscc):
        """Agency filing: the full list of agent staff; those left out end at once (R-AGT-1)."""
        return flow.file_agency_staff(_svc(), _actor(), uscc=uscc, agents=body["agents"])


AGREEMENT_PARAM = {"in": "path", "name": "number", "required": True, "description": "Agreement number",
                   "schema": {"type": "string", "pattern": flow.AGREEMENT_NUMBER_PATTERN}}


@blp.route("/agreements/<number>", parameters=[AGREEMENT_PARAM])
class AgreementFeed(MethodView):
    @blp.doc(**SECURED)
    @blp.response(200, IntegAgreementView)
    @_errors(404)
    def get(self, number):
        """An agreement as on record (for the source's reconciliation)."""
        return flow.get_agreement(number)

    @blp.doc(**SECURED)
    @blp.arguments(IntegAgreementRequest)
    @blp.response(200, IntegAgreementView)
    @_errors(404, 409, 422)
    def put(self, body, number):
        """Agency filing: create or replace an agreement; agents' permissions follow at once (R-AGT-1, R-AGT-2)."""
        return flow.file_agreement(_svc(), _actor(), number=number, **body)

    @blp.doc(**SECURED)
    @blp.arguments(IntegAgreementStatusRequest)
    @blp.response(200, IntegAgreementView)
    @_errors(404, 409, 422)
    def patch(self, body, number):
        """End, suspend or resume an agreement; takes effect at once (R-AGT-2)."""
        return flow.set_agreement_status(_svc(), _actor(), number, body["status"])


# ---- non-resident enterprises (scope integration)

@blp.route("/nonresident-enterprises/<code>", parameters=[{
    "in": "path", "name": "code", "required": True, "description": "Non-resident enterprise identity code",
    "schema": {"type": "string", "pattern": USCC_RE.pattern}}])
class NonresidentApproval(MethodView):
    @blp.doc(**SECURED)
    @blp.arguments(IntegNonresidentRequest)
    @blp.response(200, IntegEnterpriseView)
    @_errors(404, 409, 422)
    def put(self, body, code):
        """Approval of filed non-resident enterprise information: enterprise + the filer as legal rep (R-LOGIN-6)."""
        return flow.approve_nonresident(_svc(), _actor(), nonresident_code=code, **body)


# ---- tax hall (scope hall)

@hall_blp.route("/realname-level")
class HallRealname(MethodView):
    @hall_blp.doc(**SECURED)
    @hall_blp.arguments(IntegRealnameRequest)
    @hall_blp.response(200, IntegRealnameView)
    @_errors(404, 409, 422)
    def post(self, body):
        """Level-5 real-name check done at the hall (ID-card reader or NFC) (R-RN-1, R-RN-2)."""
        return flow.set_realname_level_5(_svc(), _actor(), person=body["person"], method=body["method"],
                                         operator=body["operator"])


@hall_blp.route("/bindings")
class HallBindings(MethodView):
    @hall_blp.doc(**SECURED)
    @hall_blp.arguments(IntegHallBindingRequest)
    @hall_blp.response(200, IntegBindingView)
    @_errors(404, 409, 422)
    def post(self, body):
        """Add a binding at the hall: pending for the person, not withdrawable online (R-BIND-3)."""
        return flow.hall_add_binding(_svc(), _actor(), **body)


@hall_blp.route("/bindings/<int:binding_id>/withdraw")
class HallWithdraw(MethodView):
    @hall_blp.doc(**SECURED)
    @hall_blp.arguments(IntegHallOperatorRequest)
    @hall_blp.response(200, IntegBindingView)
    @_errors(404, 409, 422)
    def post(self, body, binding_id):
        """Withdraw a pending binding at the hall (R-BIND-3)."""
        return flow.hall_withdraw_binding(_svc(), _actor(), binding_id, operator=body["operator"])


@hall_blp.route("/bindings/<int:binding_id>/end")
class HallEnd(MethodView):
    @hall_blp.doc(**SECURED)
    @hall_blp.arguments(IntegHallOperatorRequest)
    @hall_blp.response(200, IntegBindingView)
    @_errors(404, 409, 422)
    def post(self, body, binding_id):
        """End an active binding at the hall at the person's request; checks deny at once."""
        return flow.hall_end_binding(_svc(), _actor(), binding_id, operator=body["operator"])
